//! A ready-made axum endpoint for callback pushes (feature `receiver`).
//!
//! It verifies and decrypts each push, hands the typed event (the generated `Event` union, or
//! any [`CallbackEvent`]) to your async handler, and
//! answers with the encrypted `success` DingTalk waits for. DingTalk gives up after about
//! 1.5 s and pushes again, so a handler should hand slow work to a task of its own.
//!
//! A push whose signature verified is never answered with a 4xx: an event with a field of an
//! unexpected shape reaches the handler as the union's `Malformed` variant, and a decrypted
//! message that is no event at all is acknowledged (and logged) without the handler. Bodies
//! over [`ReceiverOptions::max_body_bytes`] are refused before they are read whole, a push that
//! takes longer than [`ReceiverOptions::timeout`] (reading it and handling it) is answered 503,
//! and warnings are rate-limited and never quote a decrypted value. With a
//! [`ReplayGuard`], a push seen before within its window is acknowledged
//! without running the handler again.
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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};

use super::{CallbackCrypto, CallbackEvent, PushError, PushQuery, ReplayGuard};

/// What a handler returns: `Ok` to acknowledge the push, an error to have DingTalk push again.
pub type HandlerResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// How the receiver guards itself; [`ReceiverOptions::default`] and the setters.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ReceiverOptions {
    /// The longest push body read (default 64 KiB; a push is a few KB).
    pub max_body_bytes: usize,
    /// How long reading a push and running the handler may take (default 5 s); then 503.
    pub timeout: Duration,
    /// Pushes already seen, acknowledged without the handler (default none).
    pub replay_guard: Option<Arc<ReplayGuard>>,
}

impl Default for ReceiverOptions {
    fn default() -> Self {
        ReceiverOptions {
            max_body_bytes: 64 << 10,
            timeout: Duration::from_secs(5),
            replay_guard: None,
        }
    }
}

impl ReceiverOptions {
    /// Sets [`max_body_bytes`](Self::max_body_bytes).
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`replay_guard`](Self::replay_guard).
    pub fn replay_guard(mut self, guard: ReplayGuard) -> Self {
        self.replay_guard = Some(Arc::new(guard));
        self
    }
}

/// A router that receives pushes with `POST /` (nest it under the path you registered), with
/// the default [`ReceiverOptions`].
pub fn router<E, H, Fut>(crypto: CallbackCrypto, handler: H) -> Router
where
    E: CallbackEvent,
    H: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    router_with(crypto, ReceiverOptions::default(), handler)
}

/// [`router`] with `options`.
pub fn router_with<E, H, Fut>(
    crypto: CallbackCrypto,
    options: ReceiverOptions,
    handler: H,
) -> Router
where
    E: CallbackEvent,
    H: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let state = Arc::new(Receiver {
        crypto,
        options,
        handler,
        gate: LogGate::default(),
    });
    Router::new()
        .route("/", post(receive::<E, H, Fut>))
        .with_state(state)
}

struct Receiver<H> {
    crypto: CallbackCrypto,
    options: ReceiverOptions,
    handler: H,
    gate: LogGate,
}

/// At most one warning a second; the ones held back are counted into the next.
#[derive(Default)]
struct LogGate {
    last_ms: AtomicU64,
    held_back: AtomicU64,
}

impl LogGate {
    /// Whether to log now, and how many warnings were held back since the last one.
    fn open(&self) -> Option<u64> {
        let now = u64::try_from(super::now_ms()).unwrap_or(0);
        let last = self.last_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= 1000
            && self
                .last_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.held_back.swap(0, Ordering::Relaxed));
        }
        self.held_back.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// A rate-limited warning with a fixed text and a fixed reason (never a value of the push).
macro_rules! warn_limited {
    ($gate:expr, $reason:expr, $msg:literal) => {
        if let Some(held_back) = $gate.open() {
            tracing::warn!(reason = $reason, held_back, $msg);
        }
    };
}

async fn receive<E, H, Fut>(
    State(state): State<Arc<Receiver<H>>>,
    query: Option<Query<PushQuery>>,
    body: Body,
) -> Response
where
    E: CallbackEvent,
    H: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let timeout = state.options.timeout;
    match tokio::time::timeout(timeout, handle::<E, H, Fut>(&state, query, body)).await {
        Ok(response) => response,
        Err(_) => {
            warn_limited!(
                state.gate,
                "timeout",
                "a callback push took too long; answered 503 so DingTalk pushes again"
            );
            refuse(StatusCode::SERVICE_UNAVAILABLE, "timeout")
        }
    }
}

async fn handle<E, H, Fut>(
    state: &Receiver<H>,
    query: Option<Query<PushQuery>>,
    body: Body,
) -> Response
where
    E: CallbackEvent,
    H: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    let crypto = &state.crypto;
    let Some(Query(query)) = query else {
        warn_limited!(
            state.gate,
            "query",
            "a callback push without signature, timestamp or nonce"
        );
        return refuse(
            StatusCode::BAD_REQUEST,
            "missing signature, timestamp or nonce",
        );
    };
    let body = match axum::body::to_bytes(body, state.options.max_body_bytes).await {
        Ok(body) => body,
        Err(_) => {
            warn_limited!(
                state.gate,
                "body",
                "a callback push body that is too large or broken"
            );
            return refuse(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
        }
    };
    let event: Option<E> = match crypto.open(&query, &body) {
        Ok(event) => Some(event),
        Err(PushError::Crypto(e)) => {
            warn_limited!(state.gate, e.as_str(), "rejected a callback push");
            return refuse(StatusCode::FORBIDDEN, e.as_str());
        }
        Err(PushError::Body(_)) => {
            warn_limited!(
                state.gate,
                "body",
                "a callback push body that is not {{\"encrypt\": ...}}"
            );
            return refuse(StatusCode::BAD_REQUEST, "unreadable push");
        }
        // Verified and decrypted, but no event object: nothing to hand over, and refusing it
        // would only make DingTalk push it again.
        Err(_) => {
            warn_limited!(
                state.gate,
                "not_an_event",
                "acknowledged a verified callback push that is no event object"
            );
            None
        }
    };
    let reply = match event.as_ref() {
        Some(event) => crypto.reply_for(event),
        None => crypto.reply_now("success"),
    };
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, e.as_str()),
    };
    let Some(event) = event else {
        return Json(reply).into_response();
    };
    let guard = state.options.replay_guard.as_deref();
    if let Some(guard) = guard {
        let window = crypto.replay_window().saturating_mul(2);
        match guard.first_sighting(&query.signature, window).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(
                    event = event.tag(),
                    "a callback push seen before; acknowledged without the handler"
                );
                return Json(reply).into_response();
            }
            Err(_) => {
                warn_limited!(
                    state.gate,
                    "replay_store",
                    "the replay guard's store failed; handling the push anyway"
                );
            }
        }
    }
    let tag = event.tag().to_string();
    match (state.handler)(event).await {
        Ok(()) => {
            tracing::debug!(event = %tag, "acknowledged a callback push");
            Json(reply).into_response()
        }
        Err(e) => {
            if let Some(guard) = guard {
                let _ = guard.forget(&query.signature).await;
            }
            // The handler's own error: its text is the application's.
            if let Some(held_back) = state.gate.open() {
                tracing::warn!(event = %tag, error = %e, held_back, "callback handler failed; DingTalk will push again");
            }
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "handler failed")
        }
    }
}

fn refuse(status: StatusCode, reason: &str) -> Response {
    (status, Json(serde_json::json!({ "error": reason }))).into_response()
}
