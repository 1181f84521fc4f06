//! The life of the sockets: handshake, connect, read and answer frames, keep alive, replace,
//! drain, shut down.
//!
//! Each connection slot runs one loop: it opens a socket and serves it until the socket ends.
//! A socket runs in a task of its own, so that after DingTalk's `disconnect` the slot opens the
//! replacement while the old socket still finishes and ACKs what it had in flight; the old one
//! closes once the replacement is up (or after [`StreamConfig::drain`]).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tracing::Instrument;

use super::backoff::Schedule;
use super::frame::{Ack, Frame, FrameKind};
use super::{bump, dispatch, DedupStore, Handler, Handshake, StreamConfig, StreamError};
use super::{is_credential_error, StreamStats};
use crate::callback::CallbackEvent;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// What every slot and socket of one client shares.
pub(crate) struct Shared<E> {
    pub(crate) app: String,
    pub(crate) handshake: Arc<dyn Handshake>,
    pub(crate) handler: Handler<E>,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) config: StreamConfig,
    pub(crate) dedup: Arc<dyn DedupStore>,
    pub(crate) stats: Arc<StreamStats>,
    pub(crate) stop: Arc<watch::Sender<bool>>,
    pub(crate) up: watch::Sender<usize>,
}

/// What a socket's writer sends.
pub(crate) enum Outgoing {
    Text(String),
    Ping,
}

/// Why a socket stopped serving.
#[derive(Debug)]
enum End {
    /// DingTalk sent `disconnect`: the socket drains on in its task.
    Disconnect,
    /// The socket is gone or taken for dead.
    Lost(String),
    /// The client is shutting down.
    Stopped,
}

/// Runs every slot until the client stops or a slot meets a credential error.
pub(crate) async fn run<E: CallbackEvent>(shared: Arc<Shared<E>>) -> Result<(), StreamError> {
    let mut slots = JoinSet::new();
    for slot in 0..shared.config.connections.max(1) {
        let slot = u64::try_from(slot).unwrap_or(u64::MAX);
        slots.spawn(slot_loop(shared.clone(), slot));
    }
    let mut result = Ok(());
    while let Some(joined) = slots.join_next().await {
        let outcome = joined.unwrap_or_else(|e| Err(StreamError::Task(e.to_string())));
        if let Err(e) = outcome {
            // One slot's credential error is every slot's: stop them all.
            shared.stop.send_replace(true);
            if result.is_ok() {
                result = Err(e);
            }
        }
    }
    result
}

/// A socket left draining after `disconnect`.
struct Draining {
    replaced: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

async fn slot_loop<E: CallbackEvent>(shared: Arc<Shared<E>>, slot: u64) -> Result<(), StreamError> {
    let mut schedule = Schedule::new(shared.config.backoff.clone(), slot);
    let mut stop = shared.stop.subscribe();
    let mut draining: Option<Draining> = None;
    let mut failing = false;
    loop {
        if *stop.borrow() {
            break;
        }
        let socket = match establish(&shared).await {
            Ok(socket) => socket,
            Err(Failure::Credentials(e)) => {
                tracing::error!(slot, error = %e, "the Stream handshake refused the app's credentials; stopping");
                return Err(StreamError::Credentials(e));
            }
            Err(Failure::Retry(reason)) => {
                bump(&shared.stats.handshake_failures);
                let delay = schedule.failed();
                // Logged once per outage, not per attempt.
                if !failing {
                    tracing::warn!(slot, %reason, "Stream connection failing; retrying with backoff");
                    failing = true;
                } else {
                    tracing::debug!(slot, %reason, failures = schedule.failures(), ?delay, "Stream connection attempt failed");
                }
                if sleep_or_stop(delay, &mut stop).await {
                    break;
                }
                continue;
            }
        };
        if failing {
            tracing::info!(
                slot,
                failures = schedule.failures(),
                "Stream connection restored"
            );
            failing = false;
        } else {
            tracing::debug!(slot, "Stream socket open");
        }
        // The replacement is up: the old socket may close once its work is done.
        if let Some(old) = draining.take() {
            old.replaced.send_replace(true);
        }

        let started = Instant::now();
        let (report_tx, report_rx) = oneshot::channel();
        let (replaced_tx, replaced_rx) = watch::channel(false);
        let task = tokio::spawn(serve(shared.clone(), socket, slot, report_tx, replaced_rx));
        shared.up.send_modify(|n| *n = n.saturating_add(1));
        let end = report_rx
            .await
            .unwrap_or_else(|_| End::Lost("socket task ended".to_owned()));
        shared.up.send_modify(|n| *n = n.saturating_sub(1));
        schedule.connection_lasted(started.elapsed());

        match end {
            End::Disconnect => {
                // Open the replacement now, without backoff: DingTalk asked for it.
                draining = Some(Draining {
                    replaced: replaced_tx,
                    task,
                });
            }
            End::Lost(reason) => {
                // The old socket's task finishes its handlers by itself.
                drop(task);
                let delay = schedule.failed();
                tracing::info!(slot, %reason, ?delay, "Stream socket lost; reconnecting");
                if sleep_or_stop(delay, &mut stop).await {
                    break;
                }
            }
            End::Stopped => {
                let _ = task.await;
                break;
            }
        }
    }
    if let Some(old) = draining.take() {
        old.replaced.send_replace(true);
        let _ = old.task.await;
    }
    Ok(())
}

/// Sleeps `delay`; says whether the client was stopped meanwhile.
async fn sleep_or_stop(delay: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => false,
        _ = super::flagged(stop) => true,
    }
}

enum Failure {
    Credentials(crate::Error),
    Retry(String),
}

/// One handshake and the WebSocket connect with its fresh ticket.
async fn establish<E>(shared: &Shared<E>) -> Result<Socket, Failure> {
    bump(&shared.stats.handshakes);
    let ticket = shared.handshake.open().await.map_err(|e| {
        if is_credential_error(&e) {
            Failure::Credentials(e)
        } else {
            Failure::Retry(format!("handshake: {e}"))
        }
    })?;
    let mut url = url::Url::parse(&ticket.endpoint)
        .map_err(|e| Failure::Retry(format!("the handshake's endpoint is not a URL: {e}")))?;
    url.query_pairs_mut()
        .append_pair("ticket", ticket.ticket.expose_secret());
    let limit = shared.config.max_frame_bytes;
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let connect =
        tokio_tungstenite::connect_async_with_config(url.as_str(), Some(ws_config), false);
    let (socket, _) = tokio::time::timeout(shared.config.connect_timeout, connect)
        .await
        .map_err(|_| Failure::Retry("WebSocket connect timed out".to_owned()))?
        .map_err(|e| Failure::Retry(format!("WebSocket connect: {}", describe(&e))))?;
    bump(&shared.stats.connections);
    Ok(socket)
}

/// A tungstenite error in words that cannot carry the URL (and so the ticket).
fn describe(e: &tungstenite::Error) -> String {
    match e {
        tungstenite::Error::Http(response) => format!("refused with HTTP {}", response.status()),
        tungstenite::Error::Io(io) => format!("I/O: {io}"),
        tungstenite::Error::Tls(_) => "TLS failed".to_owned(),
        tungstenite::Error::Url(_) => "bad WebSocket URL".to_owned(),
        tungstenite::Error::Protocol(p) => format!("protocol: {p}"),
        other => format!("{other}"),
    }
}

/// Where a socket stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Live,
    /// After `disconnect`: no new pushes arrive; finish and ACK what is in flight.
    Draining {
        until: Instant,
    },
}

/// Serves one socket: reads frames, hands pushes to the dispatcher, answers SYSTEM frames,
/// keeps the socket alive, and reports to its slot the first reason it stops serving live.
async fn serve<E: CallbackEvent>(
    shared: Arc<Shared<E>>,
    socket: Socket,
    slot: u64,
    report: oneshot::Sender<End>,
    mut replaced: watch::Receiver<bool>,
) {
    let config = shared.config.clone();
    let (mut sink, mut frames) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Outgoing>(1024);
    let writer = tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            let message = match out {
                Outgoing::Text(text) => Message::text(text),
                Outgoing::Ping => Message::Ping(Vec::new().into()),
            };
            if sink.send(message).await.is_err() {
                break;
            }
        }
        // Every sender is gone: the socket is done.
        let _ = sink.close().await;
    });

    let (cancel_tx, cancel_rx) = watch::channel(false);
    let mut stop = shared.stop.subscribe();
    let mut inflight: JoinSet<()> = JoinSet::new();
    let mut report = Some(report);
    let mut mode = Mode::Live;
    let mut last_frame = Instant::now();
    let mut pong_due: Option<Instant> = None;
    let mut next_ping = Instant::now() + config.keepalive;

    let end = loop {
        if let Mode::Draining { .. } = mode {
            if *replaced.borrow() && inflight.is_empty() {
                break None;
            }
        }
        let idle_due = last_frame + config.idle_timeout;
        let drain_due = match mode {
            Mode::Draining { until } => until,
            Mode::Live => far_future(),
        };
        tokio::select! {
            biased;
            _ = super::flagged(&mut stop) => break Some(End::Stopped),
            Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            changed = replaced.changed(), if matches!(mode, Mode::Draining { .. }) => {
                // The slot is gone: nothing will say the replacement is up.
                if changed.is_err() {
                    break None;
                }
            }
            message = frames.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Pong(_))) => { pong_due = None; continue; }
                    Some(Ok(Message::Ping(_) | Message::Binary(_) | Message::Frame(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break Some(End::Lost("closed by DingTalk".to_owned())),
                    Some(Err(e)) => break Some(End::Lost(format!("read: {}", describe(&e)))),
                };
                last_frame = Instant::now();
                bump(&shared.stats.frames);
                let frame = match Frame::parse(text.as_str()) {
                    Ok(frame) => frame,
                    Err(e) => {
                        // No messageId to answer: DingTalk will resend what it meant.
                        tracing::warn!(slot, error = %e, "ignoring a text message that is not a frame");
                        continue;
                    }
                };
                match frame.kind {
                    FrameKind::System => {
                        let ack = Ack::echo(&frame);
                        let _ = out_tx.send(Outgoing::Text(ack.to_text())).await;
                        if frame.headers.topic == "disconnect" {
                            bump(&shared.stats.disconnects);
                            if mode == Mode::Live {
                                tracing::debug!(slot, "DingTalk asked to reconnect; opening the replacement");
                                mode = Mode::Draining { until: Instant::now() + config.drain };
                                if let Some(r) = report.take() {
                                    let _ = r.send(End::Disconnect);
                                }
                            }
                        }
                    }
                    _ => {
                        let Some(permit) = acquire(&shared.permits, &mut stop).await else {
                            break Some(End::Stopped);
                        };
                        // Time spent waiting for a handler slot is not silence on the socket.
                        last_frame = Instant::now();
                        if pong_due.is_some() {
                            pong_due = Some(Instant::now() + config.pong_timeout);
                        }
                        let span = tracing::info_span!(
                            "stream_frame",
                            slot,
                            kind = frame.kind.as_str(),
                            topic = %frame.headers.topic,
                            message_id = %frame.headers.message_id,
                            event_type = frame.headers.event_type.as_deref().unwrap_or(""),
                        );
                        let task = dispatch::handle(shared.clone(), frame, out_tx.clone(), cancel_rx.clone());
                        inflight.spawn(hold(permit, task).instrument(span));
                    }
                }
            }
            _ = tokio::time::sleep_until(next_ping) => {
                if pong_due.is_none() {
                    pong_due = Some(Instant::now() + config.pong_timeout);
                    let _ = out_tx.send(Outgoing::Ping).await;
                }
                next_ping = Instant::now() + config.keepalive;
            }
            _ = tokio::time::sleep_until(pong_due.unwrap_or_else(far_future)), if pong_due.is_some() => {
                bump(&shared.stats.replaced_pong);
                break Some(End::Lost("no pong within the deadline".to_owned()));
            }
            _ = tokio::time::sleep_until(idle_due), if mode == Mode::Live => {
                bump(&shared.stats.replaced_idle);
                break Some(End::Lost(format!("no frame for {:?}", config.idle_timeout)));
            }
            _ = tokio::time::sleep_until(drain_due), if matches!(mode, Mode::Draining { .. }) => break None,
        }
    };

    // A lost socket is reported at once so the slot reconnects while the handlers still
    // running here finish (their ACKs are kept for the redeliveries).
    if let Some(End::Lost(reason)) = &end {
        if let Some(r) = report.take() {
            let _ = r.send(End::Lost(reason.clone()));
        }
    }
    // Let running handlers finish and ACK; on shutdown within the grace period, then cancel
    // the rest (they answer LATER).
    let grace = match end {
        Some(End::Stopped) => config.shutdown_grace,
        _ => config.drain,
    };
    let finished = tokio::time::timeout(grace, async {
        while inflight.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        cancel_tx.send_replace(true);
        while inflight.join_next().await.is_some() {}
    }
    drop(out_tx);
    let _ = writer.await;
    if let (Some(r), Some(end)) = (report.take(), end) {
        let _ = r.send(end);
    }
}

/// Runs `task` holding `permit`, so at most `max_concurrent` handlers run at once.
async fn hold(permit: OwnedSemaphorePermit, task: impl std::future::Future<Output = ()>) {
    task.await;
    drop(permit);
}

/// A handler slot, or `None` if the client stopped while waiting for one.
async fn acquire(
    permits: &Arc<Semaphore>,
    stop: &mut watch::Receiver<bool>,
) -> Option<OwnedSemaphorePermit> {
    tokio::select! {
        permit = permits.clone().acquire_owned() => permit.ok(),
        _ = super::flagged(stop) => None,
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
