//! A typed client for the DingTalk (钉钉) Open Platform server API (`https://oapi.dingtalk.com`).
//!
//! ```no_run
//! # async fn run() -> Result<(), dingtalk::Error> {
//! let client = dingtalk::Client::builder().app_key("dingxxxx", "app-secret").build()?;
//! // Required params are arguments, optional ones are setters; `.await` sends the call.
//! let user = client.user().get("manager4220").language("en_US").await?;
//! let ids = client.department().list_sub_ids(1).await?;
//! # let _ = (user, ids); Ok(()) }
//! ```
//!
//! Layout: [`api`] is generated from the YAML in `spec/` (one module per spec file, every file
//! marked `@generated`); [`runtime`] is handwritten and executes what `api` describes;
//! [`callback`] verifies and decrypts DingTalk's event pushes.

#![warn(missing_docs)]

#[rustfmt::skip]
pub mod api;
pub mod callback;
pub mod runtime;

pub use runtime::call::Call;
pub use runtime::client::{Client, ClientBuilder, Credentials, DEFAULT_BASE_URL};
pub use runtime::error::{ApiError, Error};
pub use runtime::request::{Endpoint, InvalidRequest};
pub use runtime::secret::SecretString;
