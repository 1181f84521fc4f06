//! `dingtalk-workflows`: handwritten helpers that chain several generated calls of the
//! `dingtalk` crate into one. Nothing here describes an endpoint (every request goes through a
//! generated call) and nothing here is generated: the generator never writes this crate.
//!
//! - [`CardStreamer`]: AI-card streaming updates, coalesced (the latest text wins) and paced
//!   under DingTalk's throttle;
//! - [`CspaceUpload`]: DingPan's upload of a file of any size (`client.cspace().upload_file(..)`);
//! - [`Isv`]: an ISV suite's pushes: the suite ticket, the old authorisation flow;
//! - [`Jsapi`]: the `dd.config` signature, with the JSAPI ticket cached like a token;
//! - [`RobotWebhook`]: a custom robot's webhook (signing, keywords, size and rate limits), and
//!   [`reply_by_session`] for answering an incoming robot message in its chat;
//! - [`StreamMode`]: Stream mode (`client.stream_mode()`): the handshake through the spec's
//!   gateway call, pushes typed as events, robot messages and card callbacks, and replies.
//!
//! `use dingtalk_workflows::prelude::*;` brings the traits into scope.

#![warn(missing_docs)]

pub mod card_stream;
pub mod cspace_upload;
pub mod isv;
pub mod jsapi;
pub mod robot_webhook;
pub mod stream;

pub use card_stream::{
    CardStream, CardStreamConfig, CardStreamError, CardStreamReport, CardStreamer,
    CardStreamerStats,
};
pub use cspace_upload::{CspaceUpload, Progress};
pub use isv::{Authorization, Isv};
pub use jsapi::{Jsapi, JsapiConfig};
pub use robot_webhook::{
    reply_by_session, reply_by_session_with_at, reply_to, RobotWebhook, RobotWebhookError, WhenFull,
};
pub use stream::{StreamMode, StreamPush};

/// The workflow traits, to `use` with a glob.
pub mod prelude {
    pub use crate::{CspaceUpload, Isv, Jsapi, StreamMode};
}
