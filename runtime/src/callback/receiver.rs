//! A ready-made axum endpoint for callback pushes (feature `receiver`).
//!
//! It verifies and decrypts each push, hands the typed event (the generated `Event` union, or
//! any [`CallbackEvent`]) to your async handler, and
//! answers with the encrypted `success` DingTalk waits for. DingTalk gives up after about
//! 1.5 s and pushes again, so a handler should hand slow work to a task of its own.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use dingtalk_runtime::callback::{receiver, CallbackCrypto, CallbackEvent};
//!
//! // The `dingtalk` crate generates the full `Event` union; any `CallbackEvent` will do.
//! #[derive(serde::Deserialize)]
//! struct Push {
//!     #[serde(rename = "EventType")]
//!     event_type: String,
//! }
//! impl CallbackEvent for Push {
//!     fn tag(&self) -> &str {
//!         &self.event_type
//!     }
//! }
//!
//! let crypto = CallbackCrypto::new("token", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "dingcorpid")?;
//! let app = receiver::router(crypto, |event: Push| async move {
//!     println!("{} event", event.tag());
//!     Ok(())
//! });
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::{CallbackCrypto, CallbackEvent, PushError, PushQuery};

/// What a handler returns: `Ok` to acknowledge the push, an error to have DingTalk push again.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A router that receives pushes with `POST /` (nest it under the path you registered).
pub fn router<E, H, Fut>(crypto: CallbackCrypto, handler: H) -> Router
where
    E: CallbackEvent,
    H: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let state = Arc::new((crypto, handler));
    Router::new()
        .route("/", post(receive::<E, H, Fut>))
        .with_state(state)
}

async fn receive<E, H, Fut>(
    State(state): State<Arc<(CallbackCrypto, H)>>,
    query: Option<Query<PushQuery>>,
    body: Bytes,
) -> Response
where
    E: CallbackEvent,
    H: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let (crypto, handler) = &*state;
    let Some(Query(query)) = query else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "missing signature, timestamp or nonce",
        );
    };
    let event: E = match crypto.open(&query, &body) {
        Ok(event) => event,
        Err(PushError::Crypto(e)) => {
            tracing::warn!(error = e.as_str(), "rejected a callback push");
            return refuse(StatusCode::FORBIDDEN, e.as_str());
        }
        Err(e) => {
            tracing::warn!(error = %e, "unreadable callback push");
            return refuse(StatusCode::BAD_REQUEST, "unreadable push");
        }
    };
    let tag = event.tag().to_string();
    let reply = match crypto.reply_for(&event) {
        Ok(reply) => reply,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.as_str()),
    };
    match handler(event).await {
        Ok(()) => {
            tracing::debug!(event = %tag, "acknowledged a callback push");
            Json(reply).into_response()
        }
        Err(e) => {
            tracing::warn!(event = %tag, error = %e, "callback handler failed; DingTalk will push again");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "handler failed")
        }
    }
}

fn refuse(status: StatusCode, reason: &str) -> Response {
    (status, Json(serde_json::json!({ "error": reason }))).into_response()
}
