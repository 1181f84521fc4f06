//! `dingtalk-runtime`: the handwritten half of the DingTalk client. It executes the requests
//! that generated crates (the `dingtalk` crate, or a crate generated from a spec folder of your
//! own) describe, and knows no endpoint: what it needs from the spec (error classes, endpoint
//! facts) arrives as data in each request's [`EndpointMeta`].
//!
//! - [`client`]: the client, its builder and credentials;
//! - `auth`: a scheme per kind of authorisation (which credential, where it goes, what a
//!   rejection drops);
//! - `transport`: URL, body, envelope decoding, the token-refresh retry;
//! - `token`: the token cache;
//! - [`user_token`]: users' own tokens for calls made on their behalf (api.dingtalk.com);
//! - [`grant`]: token endpoints as data (the spec's `issues:`), executed to fetch every token;
//! - [`isv`]: ISV suites: the pushed suite ticket (and its recovery), the suite token, a token
//!   per organisation;
//! - [`retry`]: bounded, classified retries;
//! - [`request`]: the `Endpoint` trait generated requests implement;
//! - [`wire`]: decoding DingTalk's wire quirks; [`decode`]: the pieces of generated decoders;
//! - [`limit`]: client-side rate limiting per endpoint;
//! - [`files`]: uploads and downloads;
//! - [`paginate`]: walking paged endpoints as a `Stream`;
//! - [`store`]: shared token storage (`TokenStore`, `MemoryStore`; `RedisStore` with the
//!   `redis` feature);
//! - [`sign`]: the JSAPI and HMAC request signatures;
//! - [`callback`]: verifying, decrypting and answering event pushes (an axum router with the
//!   `receiver` feature);
//! - `stream` (with the `stream` feature): Stream mode, pushes over a WebSocket the app opens;
//! - [`sns_login`]: the third-party login page URL;
//! - [`error`], [`secret`]: errors and redacted secrets;
//! - [`codegen`]: the names generated code uses.

#![warn(missing_docs)]

mod auth;
pub mod callback;
pub mod client;
pub mod codegen;
pub mod decode;
mod envelope;
pub mod error;
pub mod files;
#[cfg(test)]
mod fuzz;
pub mod grant;
pub mod isv;
pub mod limit;
pub mod paginate;
#[cfg(feature = "redis")]
pub mod redis_store;
pub mod request;
pub mod retry;
pub mod secret;
pub mod sign;
pub mod sns_login;
pub mod store;
#[cfg(feature = "stream")]
pub mod stream;
pub(crate) mod token;
mod transport;
pub mod user_token;
pub mod wire;

pub use client::{
    CallOptions, Client, ClientBuilder, Credentials, DEFAULT_API_BASE_URL, DEFAULT_BASE_URL,
};
pub use error::{ApiCode, ApiError, Error, ErrorClass, PagingStop, TransportKind};
pub use files::{Download, UploadFile};
pub use limit::{LimitStore, RateLimit};
#[cfg(feature = "redis")]
pub use redis_store::RedisStore;
pub use request::{Endpoint, EndpointMeta, Headers, Host, InvalidRequest};
pub use retry::RetryPolicy;
pub use secret::SecretString;
pub use store::{MemoryStore, TokenStore};
pub use transport::decode_answer;
pub use user_token::SignedInUser;
