//! Handwritten workflows that chain several generated calls into one (nothing here describes
//! an endpoint: every request goes through a generated call).

#[cfg(feature = "cspace")]
pub mod cspace_upload;
#[cfg(feature = "callback")]
pub mod isv;
#[cfg(feature = "auth")]
pub mod jsapi;
pub mod sns_login;
