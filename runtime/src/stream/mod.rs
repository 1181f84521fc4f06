//! Stream mode (Stream 模式): events, robot messages and card callbacks over a WebSocket the
//! app opens to DingTalk, so the app needs no public URL.
//!
//! Each connection starts with a handshake (`POST /v1.0/gateway/connections/open`, described in
//! the spec and executed by the generated crate: this module takes it as a [`Handshake`]) that
//! answers a WebSocket address and a single-use ticket. DingTalk then pushes frames, and the
//! client answers each with an ACK on the same socket. See DingTalk's
//! [Stream 模式概述](https://opensource.dingtalk.com/developerpedia/docs/learn/stream/overview) and
//! [Stream 协议](https://opensource.dingtalk.com/developerpedia/docs/learn/stream/protocol).
//!
//! What this client guarantees:
//! - **Nothing lost on `disconnect`.** DingTalk stops delivering on a socket it disconnects and
//!   closes it about ten seconds later; the client opens the replacement at once, keeps the old
//!   socket to finish and ACK what is in flight, and closes it once the new one is up.
//! - **Dead sockets replaced.** A WebSocket ping with a pong deadline, and an idle watchdog on
//!   frames, so a socket that answers pings but delivers nothing is replaced.
//! - **No reconnect storms.** Exponential backoff with full jitter ([`Backoff`]); a refused
//!   credential stops the client with [`StreamError::Credentials`] instead of retrying.
//! - **Each message handled once.** DingTalk delivers at least once (redeliveries after a late
//!   or lost ACK, and sometimes after a good one). Every `messageId` is claimed in a
//!   [`DedupStore`] (in memory by default; Redis `SET NX PX` with the `redis` feature, for a
//!   fleet) before the handler runs, and a redelivery is answered with the ACK the first
//!   delivery got.
//! - **Bounded work.** At most [`StreamConfig::max_concurrent`] handlers run at once; a
//!   handler that overruns [`StreamConfig::handler_timeout`] answers `LATER`.

mod backoff;
mod connection;
mod dedup;
mod dispatch;
mod frame;
#[cfg(test)]
mod tests;

pub use backoff::Backoff;
pub use dedup::{Claim, DedupStore, MemoryDedup};
pub use frame::{Ack, AckHeaders, EventStatus, Frame, FrameError, FrameHeaders, FrameKind};

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::watch;

use crate::callback::CallbackEvent;
use crate::{Error, ErrorClass, SecretString};

/// The callback topic of robot messages (机器人接收消息).
pub const TOPIC_ROBOT_MESSAGE: &str = "/v1.0/im/bot/messages/get";
/// The callback topic of card interactions (卡片回传请求).
pub const TOPIC_CARD_CALLBACK: &str = "/v1.0/card/instances/callback";

/// What a handshake answers: where to connect and the ticket to present there.
#[derive(Clone)]
pub struct Ticket {
    /// The WebSocket address, e.g. `wss://wss-open-connection.dingtalk.com:443/connect`.
    pub endpoint: String,
    /// The single-use ticket, valid about 90 seconds.
    pub ticket: SecretString,
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("endpoint", &self.endpoint)
            .field("ticket", &self.ticket)
            .finish()
    }
}

/// The future a [`Handshake`] returns.
pub type HandshakeFuture = Pin<Box<dyn Future<Output = Result<Ticket, Error>> + Send>>;

/// Registers one connection and answers its [`Ticket`]. The generated crate implements it with
/// the spec's `open_connection` call; any `Fn() -> impl Future<Output = Result<Ticket, Error>>`
/// is one too.
pub trait Handshake: Send + Sync + 'static {
    /// Performs one handshake. Called again for every connection: tickets are single-use.
    fn open(&self) -> HandshakeFuture;
}

impl<F, Fut> Handshake for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Ticket, Error>> + Send + 'static,
{
    fn open(&self) -> HandshakeFuture {
        Box::pin(self())
    }
}

/// One push handed to the handler.
#[derive(Debug)]
#[non_exhaustive]
pub enum Push<E> {
    /// An event (EVENT frame), decoded into the same event union as HTTP pushes.
    Event(EventPush<E>),
    /// A callback (CALLBACK frame): a robot message, a card interaction. Decode its data with
    /// [`CallbackPush::decode`].
    Callback(CallbackPush),
    /// A frame whose `data` is not the JSON it should be, or of a type this client does not
    /// know: kept as received, so the handler can log or store it.
    Undecodable(UndecodablePush),
}

impl<E> Push<E> {
    /// The frame's headers.
    pub fn headers(&self) -> &FrameHeaders {
        match self {
            Push::Event(p) => &p.headers,
            Push::Callback(p) => &p.headers,
            Push::Undecodable(p) => &p.headers,
        }
    }
}

/// An event as Stream mode delivers it: the envelope's headers (`eventId`, `eventCorpId`,
/// `eventBornTime`, `eventUnifiedAppId`, …) beside the typed event.
#[derive(Debug)]
#[non_exhaustive]
pub struct EventPush<E> {
    /// The frame's headers.
    pub headers: FrameHeaders,
    /// The event. An event type the union does not know is its `Unknown` variant, one whose
    /// fields do not decode its `Malformed` variant: both keep the raw JSON.
    pub event: E,
}

/// A callback and its data.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CallbackPush {
    /// The frame's headers; `topic` says which callback it is.
    pub headers: FrameHeaders,
    /// The callback's data (the frame's `data`, parsed).
    pub data: Value,
}

impl CallbackPush {
    /// The callback's topic, e.g. [`TOPIC_ROBOT_MESSAGE`].
    pub fn topic(&self) -> &str {
        &self.headers.topic
    }

    /// The data decoded as `T` (a generated type, e.g. the robot message).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data)
    }
}

/// A frame that could not be opened.
///
/// `Debug` shows the data's length, not the data, and masks what the error quotes: a push can
/// carry secrets (a session webhook, a suite ticket).
#[derive(Clone)]
#[non_exhaustive]
pub struct UndecodablePush {
    /// The frame's type.
    pub kind: FrameKind,
    /// The frame's headers.
    pub headers: FrameHeaders,
    /// The frame's `data`, as received.
    pub data: String,
    /// What was wrong with it.
    pub error: String,
}

impl fmt::Debug for UndecodablePush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UndecodablePush")
            .field("kind", &self.kind)
            .field("headers", &self.headers)
            .field("data_bytes", &self.data.len())
            .field("error", &crate::callback::mask_quoted(&self.error))
            .finish()
    }
}

impl UndecodablePush {
    /// A push that could not be opened (for layers that decode further, e.g. a callback's data
    /// into a type).
    pub fn new(kind: FrameKind, headers: FrameHeaders, data: String, error: String) -> Self {
        UndecodablePush {
            kind,
            headers,
            data,
            error,
        }
    }
}

/// What the handler answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// Handled (an event's `SUCCESS`; a callback with no reply).
    Success,
    /// Not now: DingTalk redelivers it later (an event's `LATER`; a callback's code 500).
    Later,
    /// A callback's reply, carried in the ACK (a card callback's new card data). On an event
    /// it counts as [`Answer::Success`].
    Response(Value),
}

/// What a handler's failure carries; it is logged, and the push answered `LATER`.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// The future a handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Answer, HandlerError>> + Send>>;

/// The handler, type-erased.
pub(crate) type Handler<E> = Arc<dyn Fn(Push<E>) -> HandlerFuture + Send + Sync>;

/// When a push is acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AckPolicy {
    /// ACK as soon as the push is claimed, before the handler runs: DingTalk never redelivers
    /// because the handler was slow, but a push whose handler then fails is not sent again.
    /// Callbacks are answered with no reply, so card callbacks that update the card need
    /// [`AckPolicy::AfterHandler`].
    OnReceipt,
    /// ACK with the handler's answer once it returns; a failure or a timeout answers `LATER`,
    /// so DingTalk delivers it again. Redeliveries that arrive meanwhile wait for that answer.
    AfterHandler,
}

/// How a Stream client behaves. `StreamConfig::default()` suits most apps.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StreamConfig {
    /// Connections kept open (DingTalk spreads pushes over them at random). Default 1.
    pub connections: usize,
    /// When pushes are acknowledged. Default [`AckPolicy::AfterHandler`].
    pub ack: AckPolicy,
    /// The longest a handler may run; past it the push is answered `LATER` (and released for
    /// redelivery). Default 60 s.
    pub handler_timeout: Duration,
    /// Handlers running at once, over all connections; further frames wait to be read.
    /// Default 64.
    pub max_concurrent: usize,
    /// How often a WebSocket ping is sent. Default 30 s.
    pub keepalive: Duration,
    /// How long a ping may go unanswered before the socket is replaced. Default 10 s.
    pub pong_timeout: Duration,
    /// How long a socket may go without a frame (pushes and DingTalk's own SYSTEM pings)
    /// before it is taken for dead and replaced, even if it answers pings. Default 120 s.
    pub idle_timeout: Duration,
    /// The reconnect schedule.
    pub backoff: Backoff,
    /// How long the WebSocket connect (after the handshake) may take. Default 10 s.
    pub connect_timeout: Duration,
    /// The longest an old socket is kept after DingTalk's `disconnect`, to ACK what was in
    /// flight on it. Default 15 s.
    pub drain: Duration,
    /// How long handled messages' ACKs are kept to answer redeliveries. Default 10 min.
    pub dedup_keep: Duration,
    /// On shutdown, how long running handlers may finish before they are answered `LATER`.
    /// Default 10 s.
    pub shutdown_grace: Duration,
    /// The largest frame accepted, in bytes. Default 4 MiB.
    pub max_frame_bytes: usize,
}

impl Default for StreamConfig {
    fn default() -> StreamConfig {
        StreamConfig {
            connections: 1,
            ack: AckPolicy::AfterHandler,
            handler_timeout: Duration::from_secs(60),
            max_concurrent: 64,
            keepalive: Duration::from_secs(30),
            pong_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            backoff: Backoff::default(),
            connect_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(15),
            dedup_keep: Duration::from_secs(600),
            shutdown_grace: Duration::from_secs(10),
            max_frame_bytes: 4 << 20,
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        impl StreamConfig {
            $($(#[$doc])* pub fn $name(mut self, value: $ty) -> Self { self.$name = value; self })*
        }
    };
}

setters! {
    /// Sets [`StreamConfig::connections`] (at least 1).
    connections: usize,
    /// Sets [`StreamConfig::ack`].
    ack: AckPolicy,
    /// Sets [`StreamConfig::handler_timeout`].
    handler_timeout: Duration,
    /// Sets [`StreamConfig::max_concurrent`] (at least 1).
    max_concurrent: usize,
    /// Sets [`StreamConfig::keepalive`].
    keepalive: Duration,
    /// Sets [`StreamConfig::pong_timeout`].
    pong_timeout: Duration,
    /// Sets [`StreamConfig::idle_timeout`].
    idle_timeout: Duration,
    /// Sets [`StreamConfig::backoff`].
    backoff: Backoff,
    /// Sets [`StreamConfig::connect_timeout`].
    connect_timeout: Duration,
    /// Sets [`StreamConfig::drain`].
    drain: Duration,
    /// Sets [`StreamConfig::dedup_keep`].
    dedup_keep: Duration,
    /// Sets [`StreamConfig::shutdown_grace`].
    shutdown_grace: Duration,
    /// Sets [`StreamConfig::max_frame_bytes`].
    max_frame_bytes: usize,
}

/// Why a Stream client stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// DingTalk refused the app's credentials at the handshake (HTTP 401 `authFailed`, a
    /// permission or argument error): retrying would not help.
    #[error("the Stream handshake refused the app's credentials: {0}")]
    Credentials(#[source] Error),
    /// The client's task ended abnormally (a panic in the client itself).
    #[error("the Stream client's task failed: {0}")]
    Task(String),
}

/// Counters of a running client, for metrics and tests.
#[derive(Debug, Default)]
pub struct StreamStats {
    pub(crate) handshakes: AtomicU64,
    pub(crate) handshake_failures: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) frames: AtomicU64,
    pub(crate) handled: AtomicU64,
    pub(crate) replayed: AtomicU64,
    pub(crate) released: AtomicU64,
    pub(crate) replaced_idle: AtomicU64,
    pub(crate) replaced_pong: AtomicU64,
    pub(crate) disconnects: AtomicU64,
}

/// A snapshot of [`StreamStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatsSnapshot {
    /// Handshakes attempted.
    pub handshakes: u64,
    /// Handshakes (or the WebSocket connects after them) that failed.
    pub handshake_failures: u64,
    /// Sockets opened.
    pub connections: u64,
    /// Frames received, SYSTEM frames included.
    pub frames: u64,
    /// Times the handler ran.
    pub handled: u64,
    /// Redeliveries answered with a kept ACK, the handler not run again.
    pub replayed: u64,
    /// Pushes answered `LATER` (handler error, timeout, shutdown).
    pub released: u64,
    /// Sockets replaced because no frame arrived within the idle timeout.
    pub replaced_idle: u64,
    /// Sockets replaced because a ping went unanswered.
    pub replaced_pong: u64,
    /// `disconnect` frames received from DingTalk.
    pub disconnects: u64,
}

impl StreamStats {
    /// The counters now.
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            handshakes: get(&self.handshakes),
            handshake_failures: get(&self.handshake_failures),
            connections: get(&self.connections),
            frames: get(&self.frames),
            handled: get(&self.handled),
            replayed: get(&self.replayed),
            released: get(&self.released),
            replaced_idle: get(&self.replaced_idle),
            replaced_pong: get(&self.replaced_pong),
            disconnects: get(&self.disconnects),
        }
    }
}

/// Resolves once the flag behind `rx` is true (or its sender is gone), holding no borrow
/// across the wait.
pub(crate) async fn flagged(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|flag| *flag).await;
}

pub(crate) fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A Stream-mode client for one app: its handshake, its handler and how it behaves.
///
/// ```no_run
/// use dingtalk_runtime::stream::{Answer, Push, StreamClient, Ticket};
/// # #[derive(serde::Deserialize)] struct MyEvent;
/// # impl dingtalk_runtime::callback::CallbackEvent for MyEvent { fn tag(&self) -> &str { "" } }
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// # let handshake = || async { Ok::<_, dingtalk_runtime::Error>(Ticket { endpoint: String::new(), ticket: "".into() }) };
/// let stream = StreamClient::<MyEvent>::new("dingxxxx", handshake, |push: Push<MyEvent>| async move {
///     println!("{:?}", push.headers().topic);
///     Ok(Answer::Success)
/// })
/// .spawn();
/// // ... later:
/// stream.shutdown().await?;
/// # Ok(()) }
/// ```
pub struct StreamClient<E> {
    app: String,
    handshake: Arc<dyn Handshake>,
    handler: Handler<E>,
    config: StreamConfig,
    dedup: Arc<dyn DedupStore>,
}

impl<E> fmt::Debug for StreamClient<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamClient")
            .field("app", &self.app)
            .field("config", &self.config)
            .field("dedup", &self.dedup)
            .finish_non_exhaustive()
    }
}

impl<E: CallbackEvent> StreamClient<E> {
    /// A client for the app `app` (its Client ID: it names the app's keys in a shared
    /// [`DedupStore`]), connecting through `handshake` and handing every push to `handler`.
    pub fn new<H, F, Fut>(app: &str, handshake: H, handler: F) -> StreamClient<E>
    where
        H: Handshake,
        F: Fn(Push<E>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Answer, HandlerError>> + Send + 'static,
    {
        StreamClient {
            app: app.to_owned(),
            handshake: Arc::new(handshake),
            handler: Arc::new(move |push| Box::pin(handler(push))),
            config: StreamConfig::default(),
            dedup: Arc::new(MemoryDedup::new()),
        }
    }

    /// Sets how the client behaves.
    pub fn config(mut self, config: StreamConfig) -> Self {
        self.config = config;
        self
    }

    /// Shares message claims and ACKs through `store` (a [`crate::RedisStore`] with the
    /// `redis` feature) so that a fleet of instances handles each message once.
    pub fn dedup_store(mut self, store: Arc<dyn DedupStore>) -> Self {
        self.dedup = store;
        self
    }

    /// Starts the client on the current Tokio runtime.
    pub fn spawn(self) -> StreamHandle {
        let stop = Arc::new(watch::channel(false).0);
        let stats = Arc::new(StreamStats::default());
        let (up_tx, up_rx) = watch::channel(0usize);
        let shared = Arc::new(connection::Shared {
            app: self.app,
            handshake: self.handshake,
            handler: self.handler,
            permits: Arc::new(tokio::sync::Semaphore::new(
                self.config.max_concurrent.max(1),
            )),
            config: self.config,
            dedup: self.dedup,
            stats: stats.clone(),
            stop: stop.clone(),
            up: up_tx,
        });
        let task = tokio::spawn(connection::run(shared));
        StreamHandle {
            stop,
            task,
            stats,
            up: up_rx,
        }
    }
}

/// A running Stream client.
#[derive(Debug)]
pub struct StreamHandle {
    stop: Arc<watch::Sender<bool>>,
    task: tokio::task::JoinHandle<Result<(), StreamError>>,
    stats: Arc<StreamStats>,
    up: watch::Receiver<usize>,
}

impl StreamHandle {
    /// The client's counters.
    pub fn stats(&self) -> StatsSnapshot {
        self.stats.snapshot()
    }

    /// Sockets open and delivering now.
    pub fn connected(&self) -> usize {
        *self.up.borrow()
    }

    /// Waits until at least `n` sockets are open (or the client stopped).
    pub async fn wait_connected(&mut self, n: usize) {
        // An error means the client is gone: nothing more to wait for.
        let _ = self.up.wait_for(|up| *up >= n).await;
    }

    /// Stops reading new frames, lets running handlers finish within
    /// [`StreamConfig::shutdown_grace`] (the rest are answered `LATER`), closes the sockets and
    /// returns how the client ended.
    pub async fn shutdown(self) -> Result<(), StreamError> {
        self.stop.send_replace(true);
        self.wait().await
    }

    /// Waits for the client to stop by itself (it only does on [`StreamError::Credentials`]).
    pub async fn wait(self) -> Result<(), StreamError> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(StreamError::Task(e.to_string())),
        }
    }
}

/// Whether a handshake failure means the credentials are wrong (stop) rather than DingTalk or
/// the network failing for a moment (retry).
pub(crate) fn is_credential_error(e: &Error) -> bool {
    match e {
        Error::Api(api) => {
            matches!(
                api.class,
                ErrorClass::Permission | ErrorClass::InvalidArgument | ErrorClass::TokenInvalid
            ) || matches!(api.status, Some(401))
        }
        Error::Http { status, .. } => *status == 401,
        // No credentials to send: no retry will find some.
        Error::Config(_) => true,
        _ => false,
    }
}
