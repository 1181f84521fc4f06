//! One push from frame to ACK: claim its `messageId`, open it, run the handler under the ACK
//! policy, keep the ACK for redeliveries, and send it on the connection the frame came on.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::connection::{Outgoing, Shared};
use super::frame::{Ack, EventStatus, Frame, FrameKind};
use super::{bump, AckPolicy, Answer, CallbackPush, Claim, EventPush, Push, UndecodablePush};
use crate::callback::CallbackEvent;

/// How often a redelivery polls for the ACK of a first delivery still being handled.
const BUSY_POLL: Duration = Duration::from_millis(20);

/// Opens a frame into the push the handler sees.
pub(crate) fn open<E: CallbackEvent>(frame: Frame) -> Push<E> {
    let undecodable = |frame: Frame, error: String| {
        Push::Undecodable(UndecodablePush {
            kind: frame.kind,
            headers: frame.headers,
            data: frame.data,
            error,
        })
    };
    let data = match frame.data_json() {
        Ok(data) => data,
        Err(e) => return undecodable(frame, format!("data is not JSON: {e}")),
    };
    match frame.kind {
        FrameKind::Event => {
            let Value::Object(mut object) = data else {
                return undecodable(frame, "event data is not a JSON object".to_owned());
            };
            // Stream carries the event type in a header; the event union reads it from the
            // object, as HTTP pushes send it.
            if !object.contains_key(E::TAG_KEY) {
                if let Some(tag) = &frame.headers.event_type {
                    object.insert(E::TAG_KEY.to_owned(), Value::String(tag.clone()));
                }
            }
            match serde_json::from_value::<E>(Value::Object(object)) {
                Ok(event) => Push::Event(EventPush {
                    headers: frame.headers,
                    event,
                }),
                Err(e) => undecodable(frame, format!("not an event: {e}")),
            }
        }
        FrameKind::Callback => Push::Callback(CallbackPush {
            headers: frame.headers,
            data,
        }),
        FrameKind::System | FrameKind::Other(_) => {
            let kind = frame.kind.as_str().to_owned();
            undecodable(frame, format!("frame type `{kind}` carries no push"))
        }
    }
}

/// The ACK that carries `answer` for a frame of `kind`.
pub(crate) fn ack_for(kind: &FrameKind, message_id: &str, answer: &Answer) -> Ack {
    match (kind, answer) {
        (FrameKind::Event, Answer::Later) => Ack::event(message_id, EventStatus::Later, "later"),
        (FrameKind::Event, _) => Ack::event(message_id, EventStatus::Success, "success"),
        (_, Answer::Later) => Ack::callback_failed(message_id, 500, "later"),
        (_, Answer::Success) => Ack::callback(message_id, &Value::Null),
        (_, Answer::Response(v)) => Ack::callback(message_id, v),
    }
}

enum Outcome {
    Answered(Answer),
    Failed(String),
}

/// Handles one EVENT or CALLBACK frame and sends its ACK on `out`. `cancel` turns true when a
/// shutdown's grace period is over: the push is then answered `LATER`.
pub(crate) async fn handle<E: CallbackEvent>(
    shared: Arc<Shared<E>>,
    frame: Frame,
    out: mpsc::Sender<Outgoing>,
    mut cancel: watch::Receiver<bool>,
) {
    let message_id = frame.headers.message_id.clone();
    let kind = frame.kind.clone();
    let config = &shared.config;
    let key = format!("dingtalk:stream:{}:{}", shared.app, message_id);
    let lease = config
        .handler_timeout
        .saturating_add(Duration::from_secs(5));

    // Claim the message, or answer with the ACK it already got.
    let mut dedup = true;
    let mut waited = Duration::ZERO;
    loop {
        match shared.dedup.claim(&key, lease).await {
            Ok(Claim::Claimed) => break,
            Ok(Claim::Done(ack)) => {
                bump(&shared.stats.replayed);
                tracing::debug!("redelivery answered with the kept ACK");
                send(&out, ack).await;
                return;
            }
            Ok(Claim::Busy) => {
                // The first delivery is being handled (here or on another instance): wait for
                // its ACK. Its claim lapses after `lease`, and then this one takes over.
                if waited > lease.saturating_add(BUSY_POLL) {
                    tracing::warn!("a claim outlived its lease; handling the message here");
                    break;
                }
                tokio::select! {
                    _ = tokio::time::sleep(BUSY_POLL) => {}
                    _ = super::flagged(&mut cancel) => {
                        send(&out, ack_for(&kind, &message_id, &Answer::Later)).await;
                        return;
                    }
                }
                waited = waited.saturating_add(BUSY_POLL);
            }
            Err(e) => {
                // Without the store a duplicate may slip through; dropping the message would
                // be worse.
                tracing::warn!(error = %e, "dedup store unavailable; handling without it");
                dedup = false;
                break;
            }
        }
    }

    let push = open::<E>(frame);
    let run = {
        let handler = shared.handler.clone();
        bump(&shared.stats.handled);
        async move { handler(push).await }
    };

    match config.ack {
        AckPolicy::OnReceipt => {
            let ack = ack_for(&kind, &message_id, &Answer::Success);
            if dedup {
                keep(&shared, &key, &ack).await;
            }
            send(&out, ack).await;
            match guarded(run, config.handler_timeout, &mut cancel).await {
                Outcome::Answered(_) => {}
                Outcome::Failed(why) => {
                    tracing::warn!(%why, "handler failed after the push was acknowledged")
                }
            }
        }
        AckPolicy::AfterHandler => {
            let ack = match guarded(run, config.handler_timeout, &mut cancel).await {
                Outcome::Answered(answer) => ack_for(&kind, &message_id, &answer),
                Outcome::Failed(why) => {
                    tracing::warn!(%why, "handler failed; answering LATER");
                    ack_for(&kind, &message_id, &Answer::Later)
                }
            };
            if !ack.is_final() {
                bump(&shared.stats.released);
            }
            if dedup {
                if ack.is_final() {
                    keep(&shared, &key, &ack).await;
                } else if let Err(e) = shared.dedup.release(&key).await {
                    tracing::warn!(error = %e, "could not release a claim; it lapses with its lease");
                }
            }
            send(&out, ack).await;
        }
    }
}

/// Runs the handler within `timeout`, and gives up when `cancel` turns true.
async fn guarded(
    run: impl std::future::Future<Output = Result<Answer, super::HandlerError>>,
    timeout: Duration,
    cancel: &mut watch::Receiver<bool>,
) -> Outcome {
    tokio::select! {
        result = tokio::time::timeout(timeout, run) => match result {
            Ok(Ok(answer)) => Outcome::Answered(answer),
            Ok(Err(e)) => Outcome::Failed(e.to_string()),
            Err(_) => Outcome::Failed(format!("handler ran over its {timeout:?}")),
        },
        _ = super::flagged(cancel) => Outcome::Failed("shut down before the handler finished".to_owned()),
    }
}

async fn keep<E>(shared: &Shared<E>, key: &str, ack: &Ack) {
    if let Err(e) = shared
        .dedup
        .complete(key, ack, shared.config.dedup_keep)
        .await
    {
        tracing::warn!(error = %e, "could not keep the ACK; a redelivery would be handled again");
    }
}

async fn send(out: &mpsc::Sender<Outgoing>, ack: Ack) {
    if out.send(Outgoing::Text(ack.to_text())).await.is_err() {
        // The socket is gone: DingTalk redelivers, and the kept ACK answers it.
        tracing::debug!("socket closed before the ACK could be sent");
    }
}
