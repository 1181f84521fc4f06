//! The handwritten runtime: it executes the requests that the generated code describes.
//!
//! - [`client`]: the client, its builder and credentials;
//! - [`call`]: `Call`, a request bound to a client;
//! - `transport`: URL, body, envelope decoding, the token-refresh retry;
//! - `token`: the token cache;
//! - `isv`: ISV suites: the pushed suite ticket, the suite token, a token per organisation;
//! - [`retry`]: bounded, classified retries;
//! - [`request`]: the `Endpoint` trait generated requests implement;
//! - [`wire`]: decoding DingTalk's wire quirks;
//! - [`limit`]: client-side rate limiting per endpoint;
//! - [`files`]: uploads and downloads;
//! - [`paginate`]: walking paged endpoints as a `Stream`;
//! - [`store`]: shared token storage (`TokenStore`, `MemoryStore`);
//! - [`sign`]: the JSAPI and HMAC request signatures;
//! - [`error`], [`secret`]: errors and redacted secrets.

pub mod call;
pub mod client;
pub mod codegen;
pub mod error;
pub mod files;
#[cfg(all(test, feature = "full"))]
mod fuzz;
pub(crate) mod isv;
pub mod limit;
pub mod paginate;
#[cfg(feature = "redis")]
pub mod redis_store;
pub mod request;
pub mod retry;
pub mod secret;
pub mod sign;
pub mod store;
pub(crate) mod token;
mod transport;
pub mod wire;
