//! Test support for the `dingtalk` crate: a local DingTalk stand-in driven by the spec, and a
//! comparison of decoded responses against the spec's examples.
//!
//! Required params cannot be forgotten: they are arguments, so this does not compile.
//!
//! ```compile_fail
//! use dingtalk::prelude::*;
//! # async fn run(client: dingtalk::Client) -> Result<(), dingtalk::Error> {
//! let user = client.user().get().await?; // missing `userid`
//! # Ok(()) }
//! ```
//!
//! The same call with its argument compiles (so the failure above is the missing argument):
//!
//! ```no_run
//! use dingtalk::prelude::*;
//! # async fn run(client: dingtalk::Client) -> Result<(), dingtalk::Error> {
//! let user = client.user().get("manager4220").await?;
//! # let _ = user; Ok(()) }
//! ```

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

pub mod bench;
pub mod compare;
pub mod redis_server;
pub mod standin;
pub mod store_scenarios;
pub mod stream_standin;

use std::path::PathBuf;

/// The repository's `spec/` folder.
pub fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../spec")
}

/// The validated spec; panics with every diagnostic when it does not load (a test failure).
pub fn load_spec() -> dingtalk_codegen::model::Spec {
    match dingtalk_codegen::load(&spec_dir()) {
        Ok(spec) => spec,
        Err(diags) => {
            let text: Vec<String> = diags.iter().map(|d| d.to_string()).collect();
            panic!("spec/ does not validate:\n{}", text.join("\n"))
        }
    }
}

/// Serves `app` on an ephemeral loopback port and returns its base URL (for tests that script
/// a server of their own instead of the stand-in).
pub async fn serve(app: axum::Router) -> String {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("cannot bind a loopback port: {e}"),
    };
    let url = match listener.local_addr() {
        Ok(addr) => format!("http://{addr}"),
        Err(e) => panic!("no local address: {e}"),
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Milliseconds since the epoch: DingTalk's timestamps (pushes, signatures, suite tickets).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A client with placeholder AppKey credentials pointed at `url`.
pub fn client_for(url: &str) -> dingtalk::Client {
    match dingtalk::client().app_key("k", "s").base_url(url).build() {
        Ok(c) => c,
        Err(e) => panic!("cannot build the client: {e}"),
    }
}
