//! Handwritten workflows that chain several generated calls into one (nothing here describes
//! an endpoint: every request goes through a generated call).

pub mod cspace_upload;
pub mod isv;
pub mod jsapi;
