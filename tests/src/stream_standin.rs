//! A local stand-in for DingTalk's Stream mode: the handshake
//! (`POST /v1.0/gateway/connections/open`) and the WebSocket it hands out (`/connect`), both on
//! one port of 127.0.0.1.
//!
//! It plays the server side of the protocol as DingTalk describes it
//! ([Stream 协议](https://opensource.dingtalk.com/developerpedia/docs/learn/stream/protocol)):
//! single-use tickets valid for a while, EVENT / CALLBACK / SYSTEM frames whose `data` is JSON
//! text, one ACK per frame on the connection the frame came on, redelivery of what was not
//! acknowledged (or was acknowledged `LATER`), random routing among an app's live connections,
//! `disconnect` with a drain window. Tests push frames, break connections in the ways real ones
//! break (a drain, an abrupt TCP close, a zombie that answers pings and delivers nothing), and
//! read back what the client did in a [`StreamSeen`] snapshot. Whatever a client sends that
//! DingTalk would not accept is recorded in [`StreamSeen::violations`], never a panic.
//!
//! Beyond the brief it also honours subscriptions: a connection gets EVENT frames only when its
//! handshake subscribed `EVENT` (topic `*`), and CALLBACK frames only for the topics it
//! subscribed, as DingTalk routes by subscription.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use rand::seq::SliceRandom;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

/// The handshake path.
pub const OPEN_PATH: &str = "/v1.0/gateway/connections/open";
/// The WebSocket path the handshake's `endpoint` points to.
pub const CONNECT_PATH: &str = "/connect";
/// The `eventCorpId` header of pushed events.
pub const EVENT_CORP_ID: &str = "dingcorp";
/// The `appId` header of pushed callbacks.
pub const CALLBACK_APP_ID: &str = "a1b2c3d4-0000-4000-8000-5742656d6170";

/// How often the stand-in looks at its clocks (held pushes, redeliveries, drains, pings).
const TICK: Duration = Duration::from_millis(10);

/// How the stand-in behaves; tests change it through [`StreamStandIn::configure`].
#[derive(Clone, Debug)]
pub struct StreamBehavior {
    /// The expected `clientId`; default `"dingstreamapp"`.
    pub client_id: String,
    /// The expected `clientSecret`; default `"stream-secret"`.
    pub client_secret: String,
    /// Answer HTTP 503 (`{"code":"ServiceUnavailable","message":…}`) to this many next
    /// handshakes; each one answered so counts down.
    pub fail_handshakes: usize,
    /// How long a ticket stays valid after the handshake that issued it; default 90 s.
    pub ticket_ttl: Duration,
    /// Time between the `disconnect` frame and the TCP close; default 10 s.
    pub drain: Duration,
    /// How long a push with no live connection waits for one before it counts as lost;
    /// default 10 s.
    pub hold: Duration,
    /// Frames not finally acknowledged (no ACK, a non-200 code, or `LATER`) are delivered again
    /// this long after their last delivery (`None`: never); default 1 s.
    pub redeliver_after: Option<Duration>,
    /// Deliver every push to every live connection, as a fleet sees duplicates; default false.
    pub duplicate_to_all: bool,
    /// Send SYSTEM `ping` frames on every live connection this often; default `None`.
    pub system_ping_every: Option<Duration>,
}

impl Default for StreamBehavior {
    fn default() -> Self {
        StreamBehavior {
            client_id: "dingstreamapp".to_string(),
            client_secret: "stream-secret".to_string(),
            fail_handshakes: 0,
            ticket_ttl: Duration::from_secs(90),
            drain: Duration::from_secs(10),
            hold: Duration::from_secs(10),
            redeliver_after: Some(Duration::from_secs(1)),
            duplicate_to_all: false,
            system_ping_every: None,
        }
    }
}

/// One handshake as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct HandshakeSeen {
    /// When it arrived.
    pub at: Instant,
    /// The `clientId` sent (empty when the body had none).
    pub client_id: String,
    /// Whether a ticket was issued.
    pub accepted: bool,
    /// The HTTP status answered.
    pub status: u16,
    /// The `(type, topic)` subscriptions sent.
    pub subscriptions: Vec<(String, String)>,
    /// The `ua` sent.
    pub ua: Option<String>,
    /// The `localIp` sent.
    pub local_ip: Option<String>,
}

/// One WebSocket connection (only upgrades that were accepted).
#[derive(Clone, Debug)]
pub struct ConnectionSeen {
    /// The stand-in's number for it, used by [`StreamStandIn::ping`], `disconnect`, etc.
    pub id: u64,
    /// The ticket it came with.
    pub ticket: String,
    /// The `connectionId` header its CALLBACK frames carry.
    pub connection_id: String,
    /// The subscriptions of the handshake that issued its ticket.
    pub subscriptions: Vec<(String, String)>,
    /// When the upgrade completed.
    pub opened: Instant,
    /// When it ended.
    pub closed: Option<Instant>,
    /// Whether the client ended it (a close frame, or the socket went away) rather than the
    /// stand-in (a drain, [`StreamStandIn::drop_tcp`]).
    pub closed_by_client: bool,
}

/// One frame of a push (EVENT, CALLBACK or raw) sent on a connection.
#[derive(Clone, Debug)]
pub struct DeliverySeen {
    /// The frame's `messageId`.
    pub message_id: String,
    /// The connection it went to.
    pub conn: u64,
    /// When it was sent.
    pub at: Instant,
    /// Whether the message had been delivered before.
    pub redelivery: bool,
}

/// One ACK a client sent for an EVENT, CALLBACK or raw frame (SYSTEM echoes go to
/// [`StreamSeen::pongs`] and [`StreamSeen::disconnect_acks`]).
#[derive(Clone, Debug)]
pub struct AckSeen {
    /// The echoed `messageId`.
    pub message_id: String,
    /// The connection it came on.
    pub conn: u64,
    /// When it arrived.
    pub at: Instant,
    /// Its `code`.
    pub code: i64,
    /// Its `data`, parsed from the JSON text (`Value::String(raw)` when the text is not JSON).
    pub data: Value,
    /// False when it broke a rule (unknown messageId, another connection than the frame's,
    /// `data` not a string): DingTalk would not match it to the frame.
    pub valid: bool,
    /// Whether it made the message final: valid, code 200 and, for an event, status SUCCESS.
    pub settled: bool,
}

/// One EVENT or CALLBACK pushed by the test.
#[derive(Clone, Debug)]
pub struct PushSeen {
    /// Its `messageId`.
    pub message_id: String,
    /// `"EVENT"` or `"CALLBACK"`.
    pub kind: String,
    /// The event type (events) or the topic (callbacks).
    pub topic: String,
    /// When it was pushed.
    pub at: Instant,
}

/// A snapshot of everything the stand-in saw; see [`StreamStandIn::seen`].
#[derive(Clone, Debug, Default)]
pub struct StreamSeen {
    /// Every handshake, in order.
    pub handshakes: Vec<HandshakeSeen>,
    /// Every accepted WebSocket connection, in order.
    pub connections: Vec<ConnectionSeen>,
    /// Refused upgrades: the reason (`unknown`, `reused` or `expired`) and when.
    pub refused_tickets: Vec<(String, Instant)>,
    /// Every EVENT, CALLBACK or raw frame sent, in order.
    pub deliveries: Vec<DeliverySeen>,
    /// Every ACK of such a frame, in order.
    pub acks: Vec<AckSeen>,
    /// The opaques echoed by ACKs of SYSTEM pings, with their connection.
    pub pongs: Vec<(u64, String)>,
    /// The connections that acknowledged their `disconnect` frame.
    pub disconnect_acks: Vec<u64>,
    /// Message ids that found no live connection within `hold`.
    pub lost: Vec<String>,
    /// What the client did that DingTalk would not accept.
    pub violations: Vec<String>,
    /// WebSocket Ping control frames received from clients.
    pub client_pings: usize,
    /// Every EVENT and CALLBACK pushed, in order.
    pub pushed: Vec<PushSeen>,
}

impl StreamSeen {
    /// The first ACK that made `message_id` final (see [`AckSeen::settled`]).
    pub fn acked(&self, message_id: &str) -> Option<&AckSeen> {
        self.acks
            .iter()
            .find(|a| a.settled && a.message_id == message_id)
    }

    /// The pushed message ids (EVENT and CALLBACK) with no final ACK yet, in push order
    /// (lost ones included: nobody acknowledged them).
    pub fn pending(&self) -> Vec<String> {
        self.pushed
            .iter()
            .filter(|p| self.acked(&p.message_id).is_none())
            .map(|p| p.message_id.clone())
            .collect()
    }

    /// The deliveries of one message, in order.
    pub fn deliveries_of(&self, message_id: &str) -> Vec<&DeliverySeen> {
        self.deliveries
            .iter()
            .filter(|d| d.message_id == message_id)
            .collect()
    }

    /// The ACKs of one message, in order.
    pub fn acks_of(&self, message_id: &str) -> Vec<&AckSeen> {
        self.acks
            .iter()
            .filter(|a| a.message_id == message_id)
            .collect()
    }

    /// The connection that came with `ticket`.
    pub fn connection_by_ticket(&self, ticket: &str) -> Option<&ConnectionSeen> {
        self.connections.iter().find(|c| c.ticket == ticket)
    }

    /// A short account for failure messages.
    pub fn summary(&self) -> String {
        let handshakes: Vec<String> = self
            .handshakes
            .iter()
            .map(|h| format!("{}:{}", h.client_id, h.status))
            .collect();
        let connections: Vec<String> = self
            .connections
            .iter()
            .map(|c| {
                let state = match (c.closed, c.closed_by_client) {
                    (None, _) => "open",
                    (Some(_), true) => "closed by client",
                    (Some(_), false) => "closed by server",
                };
                format!("#{} {state}", c.id)
            })
            .collect();
        let deliveries: Vec<String> = self
            .deliveries
            .iter()
            .map(|d| {
                let again = if d.redelivery { " (again)" } else { "" };
                format!("{}→#{}{again}", d.message_id, d.conn)
            })
            .collect();
        let acks: Vec<String> = self
            .acks
            .iter()
            .map(|a| format!("{}@#{} {} {}", a.message_id, a.conn, a.code, a.data))
            .collect();
        let refused: Vec<&str> = self
            .refused_tickets
            .iter()
            .map(|(r, _)| r.as_str())
            .collect();
        format!(
            "handshakes {handshakes:?}; connections {connections:?}; refused tickets {refused:?}; \
             deliveries {deliveries:?}; acks {acks:?}; pongs {:?}; lost {:?}; pending {:?}; \
             client pings {}; violations {:?}",
            self.pongs,
            self.lost,
            self.pending(),
            self.client_pings,
            self.violations
        )
    }
}

/// The local Stream-mode server. Cloning shares it; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct StreamStandIn {
    handle: Arc<Handle>,
}

/// Owns the server's tasks so that dropping the last [`StreamStandIn`] stops them (the tasks
/// hold only [`Shared`], so there is no cycle).
struct Handle {
    shared: Arc<Shared>,
    tasks: Vec<AbortHandle>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        let st = self.shared.lock();
        for conn in st.conns.values() {
            let _ = conn.tx.send(Out::Drop);
        }
    }
}

struct Shared {
    addr: SocketAddr,
    state: Mutex<StreamState>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, StreamState> {
        // A panic elsewhere (a failing test) must not hide what was recorded.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
struct StreamState {
    behavior: StreamBehavior,
    seen: StreamSeen,
    tickets: HashMap<String, Ticket>,
    conns: BTreeMap<u64, Conn>,
    messages: HashMap<String, Msg>,
    /// Message ids in push order, to walk for redelivery deterministically.
    order: Vec<String>,
    waiting: VecDeque<Waiting>,
    next_conn: u64,
}

struct Ticket {
    issued: Instant,
    used: bool,
    subscriptions: Vec<(String, String)>,
}

struct Conn {
    tx: mpsc::UnboundedSender<Out>,
    connection_id: String,
    subscriptions: Vec<(String, String)>,
    draining: bool,
    zombie: bool,
    closed: bool,
    /// When the drain ends and the stand-in closes the socket.
    close_at: Option<Instant>,
    last_system_ping: Instant,
}

impl Conn {
    fn live(&self) -> bool {
        !self.closed && !self.draining && !self.zombie
    }
}

/// What a connection's task is told to do.
enum Out {
    Text(String),
    /// Send a close frame, then close TCP.
    Close(String),
    /// Close TCP without a close frame.
    Drop,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Event,
    Callback,
    Raw,
    Ping { conn: u64, opaque: String },
    Disconnect { conn: u64 },
}

struct Msg {
    kind: Kind,
    /// The headers without `connectionId` (added per delivery for callbacks).
    headers: Map<String, Value>,
    /// The JSON text of `data`.
    data: String,
    /// The frame as given, for raw pushes.
    raw: Option<String>,
    settled: bool,
    delivered_on: Vec<u64>,
    last_delivery: Option<Instant>,
    /// Queued for a live connection (so the redelivery clock leaves it alone).
    waiting: bool,
}

enum Waiting {
    /// A message to route; `forced` when a test asked for it, even if settled.
    Msg {
        id: String,
        since: Instant,
        forced: bool,
    },
    /// A raw frame that carried no messageId.
    Raw { text: String, since: Instant },
}

impl StreamStandIn {
    /// Starts the stand-in on 127.0.0.1 with a free port and the default behaviour.
    pub async fn start() -> StreamStandIn {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("the Stream stand-in cannot bind 127.0.0.1:0: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("the Stream stand-in has no local address: {e}"),
        };
        let shared = Arc::new(Shared {
            addr,
            state: Mutex::new(StreamState {
                next_conn: 1,
                ..StreamState::default()
            }),
        });
        let app = Router::new()
            .route(OPEN_PATH, post(open_connection))
            .route(CONNECT_PATH, get(connect))
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let ticker_shared = shared.clone();
        let ticker = tokio::spawn(async move {
            let mut interval = tokio::time::interval(TICK);
            loop {
                interval.tick().await;
                ticker_shared.lock().tick(Instant::now());
            }
        });
        StreamStandIn {
            handle: Arc::new(Handle {
                shared,
                tasks: vec![server.abort_handle(), ticker.abort_handle()],
            }),
        }
    }

    fn shared(&self) -> &Shared {
        &self.handle.shared
    }

    /// `http://127.0.0.1:PORT`: the client's API base URL (the handshake is posted there).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.shared().addr)
    }

    /// `ws://127.0.0.1:PORT/connect`: the endpoint handshakes answer.
    pub fn endpoint(&self) -> String {
        format!("ws://{}{CONNECT_PATH}", self.shared().addr)
    }

    /// Changes the behaviour; takes effect for what happens next.
    pub fn configure(&self, f: impl FnOnce(&mut StreamBehavior)) {
        f(&mut self.shared().lock().behavior);
    }

    /// Queues an EVENT of `event_type` with `data` as its payload. Its headers are filled
    /// (topic `*`, eventType, a fresh eventId, eventCorpId [`EVENT_CORP_ID`], eventBornTime,
    /// eventUnifiedAppId = the expected client id, a fresh messageId); returns the messageId.
    pub fn push_event(&self, event_type: &str, data: Value) -> String {
        let mut st = self.shared().lock();
        let id = fresh_id();
        let now_ms = epoch_ms().to_string();
        let mut headers = base_headers("*", &id);
        headers.insert("eventType".into(), json!(event_type));
        headers.insert("eventId".into(), json!(fresh_id()));
        headers.insert("eventCorpId".into(), json!(EVENT_CORP_ID));
        headers.insert("eventBornTime".into(), json!(now_ms));
        headers.insert("eventUnifiedAppId".into(), json!(st.behavior.client_id));
        st.push(Kind::Event, event_type, id.clone(), headers, data);
        id
    }

    /// Queues a CALLBACK on `topic` (e.g. `/v1.0/im/bot/messages/get`) with `data` as its
    /// payload; returns its messageId. `appId` is [`CALLBACK_APP_ID`], `connectionId` the
    /// receiving connection's.
    pub fn push_callback(&self, topic: &str, data: Value) -> String {
        let mut st = self.shared().lock();
        let id = fresh_id();
        let mut headers = base_headers(topic, &id);
        headers.insert("appId".into(), json!(CALLBACK_APP_ID));
        st.push(Kind::Callback, topic, id.clone(), headers, data);
        id
    }

    /// Sends `frame_text` as it is (any text, even invalid JSON) to one live connection, or
    /// to the first that opens within `hold`. When it carries `headers.messageId`, ACKs of it
    /// are recorded like any other (it is not redelivered, nor counted in `pending`).
    pub fn push_raw(&self, frame_text: String) {
        self.shared().lock().push_raw(frame_text);
    }

    /// Sends a SYSTEM `ping` with a fresh opaque on `conn` (nothing when it is closed,
    /// draining or a zombie); returns the opaque.
    pub fn ping(&self, conn: u64) -> String {
        self.shared().lock().system_ping(conn)
    }

    /// Sends a SYSTEM `disconnect` on `conn`, stops delivering on it at once and closes it
    /// `drain` later (a close frame, then TCP). A zombie gets no frame, only the close.
    pub fn disconnect(&self, conn: u64) {
        self.disconnect_with_reason(conn, "persistent connection is timeout");
    }

    /// [`disconnect`](Self::disconnect) with this `reason` in the frame.
    pub fn disconnect_with_reason(&self, conn: u64, reason: &str) {
        self.shared()
            .lock()
            .disconnect(conn, reason, Instant::now());
    }

    /// [`disconnect`](Self::disconnect) on every open connection that is not draining yet.
    pub fn disconnect_all(&self) {
        let mut st = self.shared().lock();
        let ids: Vec<u64> = st
            .conns
            .iter()
            .filter(|(_, c)| !c.closed && !c.draining)
            .map(|(id, _)| *id)
            .collect();
        let now = Instant::now();
        for id in ids {
            st.disconnect(id, "persistent connection is timeout", now);
        }
    }

    /// Closes `conn`'s TCP connection abruptly: no close frame.
    pub fn drop_tcp(&self, conn: u64) {
        let mut st = self.shared().lock();
        if let Some(c) = st.conns.get_mut(&conn) {
            // Out of routing at once; the task records the close when it ends.
            c.draining = true;
            let _ = c.tx.send(Out::Drop);
        }
    }

    /// Turns `conn` into a zombie: the socket stays open and keeps answering WebSocket pings
    /// (and reading ACKs), but nothing more is sent on it or routed to it.
    pub fn make_zombie(&self, conn: u64) {
        if let Some(c) = self.shared().lock().conns.get_mut(&conn) {
            c.zombie = true;
        }
    }

    /// Delivers `message_id` again (even if acknowledged) to a live connection, or to the
    /// first that opens within `hold`.
    pub fn redeliver(&self, message_id: &str) {
        let mut st = self.shared().lock();
        // SYSTEM frames belong to their connection and moment: only pushes come again.
        let pushed = st
            .messages
            .get(message_id)
            .is_some_and(|m| matches!(m.kind, Kind::Event | Kind::Callback | Kind::Raw));
        if pushed {
            let now = Instant::now();
            if !st.route(message_id, now) {
                st.wait_for_conn(message_id, now, true);
            }
        }
    }

    /// The connections that get frames: open, not draining, not zombies; ascending.
    pub fn live_connections(&self) -> Vec<u64> {
        let st = self.shared().lock();
        st.conns
            .iter()
            .filter(|(_, c)| c.live())
            .map(|(id, _)| *id)
            .collect()
    }

    /// A snapshot of what the stand-in saw so far.
    pub fn seen(&self) -> StreamSeen {
        self.shared().lock().seen.clone()
    }

    /// Waits until `pred` holds for the snapshot and returns it; panics naming `what`, with
    /// [`StreamSeen::summary`], when `timeout` passes first.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&StreamSeen) -> bool,
    ) -> StreamSeen {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.seen();
            if pred(&seen) {
                return seen;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; seen: {}",
                    seen.summary()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl StreamState {
    fn violation(&mut self, text: String) {
        self.seen.violations.push(text);
    }

    fn push(
        &mut self,
        kind: Kind,
        topic: &str,
        id: String,
        headers: Map<String, Value>,
        data: Value,
    ) {
        let now = Instant::now();
        self.seen.pushed.push(PushSeen {
            message_id: id.clone(),
            kind: if kind == Kind::Event {
                "EVENT"
            } else {
                "CALLBACK"
            }
            .to_string(),
            topic: topic.to_string(),
            at: now,
        });
        self.messages.insert(
            id.clone(),
            Msg {
                kind,
                headers,
                data: data.to_string(),
                raw: None,
                settled: false,
                delivered_on: Vec::new(),
                last_delivery: None,
                waiting: false,
            },
        );
        self.order.push(id.clone());
        if !self.route(&id, now) {
            self.wait_for_conn(&id, now, false);
        }
    }

    fn push_raw(&mut self, text: String) {
        let now = Instant::now();
        let id = serde_json::from_str::<Value>(&text).ok().and_then(|v| {
            v.pointer("/headers/messageId")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        match id {
            Some(id) => {
                self.messages.insert(
                    id.clone(),
                    Msg {
                        kind: Kind::Raw,
                        headers: Map::new(),
                        data: String::new(),
                        raw: Some(text),
                        settled: false,
                        delivered_on: Vec::new(),
                        last_delivery: None,
                        waiting: false,
                    },
                );
                if !self.route(&id, now) {
                    self.wait_for_conn(&id, now, false);
                }
            }
            None => {
                if let Some(conn) = self.pick_conns(&Kind::Raw, "").first().copied() {
                    self.send(conn, text);
                } else {
                    self.waiting.push_back(Waiting::Raw { text, since: now });
                }
            }
        }
    }

    fn wait_for_conn(&mut self, id: &str, since: Instant, forced: bool) {
        if let Some(m) = self.messages.get_mut(id) {
            m.waiting = true;
        }
        self.waiting.push_back(Waiting::Msg {
            id: id.to_string(),
            since,
            forced,
        });
    }

    /// The connections a message goes to now: one live, subscribed connection at random, or
    /// all of them with `duplicate_to_all`.
    fn pick_conns(&self, kind: &Kind, topic: &str) -> Vec<u64> {
        let mut eligible: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.live() && !c.tx.is_closed() && subscribed(c, kind, topic))
            .map(|(id, _)| *id)
            .collect();
        if self.behavior.duplicate_to_all || eligible.len() <= 1 {
            return eligible;
        }
        eligible.shuffle(&mut rand::thread_rng());
        eligible.truncate(1);
        eligible
    }

    /// Delivers a message now; false when no connection can take it.
    fn route(&mut self, id: &str, now: Instant) -> bool {
        let Some(msg) = self.messages.get(id) else {
            return false;
        };
        let topic = msg
            .headers
            .get("topic")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let targets = self.pick_conns(&msg.kind, &topic);
        if targets.is_empty() {
            return false;
        }
        let redelivery = !msg.delivered_on.is_empty();
        for conn in targets {
            let Some(c) = self.conns.get(&conn) else {
                continue;
            };
            let Some(msg) = self.messages.get(id) else {
                return false;
            };
            let text = match &msg.raw {
                Some(raw) => raw.clone(),
                None => render(msg, &c.connection_id),
            };
            let _ = c.tx.send(Out::Text(text));
            if let Some(msg) = self.messages.get_mut(id) {
                msg.delivered_on.push(conn);
                msg.last_delivery = Some(now);
                msg.waiting = false;
            }
            self.seen.deliveries.push(DeliverySeen {
                message_id: id.to_string(),
                conn,
                at: now,
                redelivery,
            });
        }
        true
    }

    fn send(&self, conn: u64, text: String) {
        if let Some(c) = self.conns.get(&conn) {
            let _ = c.tx.send(Out::Text(text));
        }
    }

    /// Delivers what waits for a connection; drops what waited past `hold`.
    fn flush_waiting(&mut self, now: Instant) {
        let hold = self.behavior.hold;
        let queue = std::mem::take(&mut self.waiting);
        for entry in queue {
            match entry {
                Waiting::Msg { id, since, forced } => {
                    let settled = self.messages.get(&id).is_none_or(|m| m.settled);
                    if settled && !forced {
                        if let Some(m) = self.messages.get_mut(&id) {
                            m.waiting = false;
                        }
                        continue;
                    }
                    if self.route(&id, now) {
                        continue;
                    }
                    if now.duration_since(since) >= hold {
                        if let Some(m) = self.messages.get_mut(&id) {
                            m.waiting = false;
                            // Lost means DingTalk gave up on it: no redelivery either.
                            m.settled = true;
                        }
                        self.seen.lost.push(id);
                    } else {
                        self.waiting.push_back(Waiting::Msg { id, since, forced });
                    }
                }
                Waiting::Raw { text, since } => {
                    if let Some(conn) = self.pick_conns(&Kind::Raw, "").first().copied() {
                        self.send(conn, text);
                    } else if now.duration_since(since) < hold {
                        self.waiting.push_back(Waiting::Raw { text, since });
                    }
                }
            }
        }
    }

    /// Runs the clocks: held pushes, redeliveries, drains, periodic SYSTEM pings.
    fn tick(&mut self, now: Instant) {
        self.flush_waiting(now);
        if let Some(after) = self.behavior.redeliver_after {
            let due: Vec<String> = self
                .order
                .iter()
                .filter(|id| {
                    self.messages.get(*id).is_some_and(|m| {
                        !m.settled
                            && !m.waiting
                            && m.last_delivery
                                .is_some_and(|t| now.duration_since(t) >= after)
                    })
                })
                .cloned()
                .collect();
            for id in due {
                if !self.route(&id, now) {
                    self.wait_for_conn(&id, now, false);
                }
            }
        }
        let closing: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.close_at.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in closing {
            if let Some(c) = self.conns.get_mut(&id) {
                c.close_at = None;
                let _ = c.tx.send(Out::Close("drained".to_string()));
            }
        }
        if let Some(every) = self.behavior.system_ping_every {
            let due: Vec<u64> = self
                .conns
                .iter()
                .filter(|(_, c)| c.live() && now.duration_since(c.last_system_ping) >= every)
                .map(|(id, _)| *id)
                .collect();
            for id in due {
                self.system_ping(id);
            }
        }
    }

    fn system_ping(&mut self, conn: u64) -> String {
        let opaque = fresh_id();
        let Some(c) = self.conns.get_mut(&conn) else {
            return opaque;
        };
        if !c.live() {
            return opaque;
        }
        c.last_system_ping = Instant::now();
        let id = fresh_id();
        let data = json!({ "opaque": opaque }).to_string();
        self.send_system(
            conn,
            "ping",
            id,
            data,
            Kind::Ping {
                conn,
                opaque: opaque.clone(),
            },
        );
        opaque
    }

    fn send_system(&mut self, conn: u64, topic: &str, id: String, data: String, kind: Kind) {
        let msg = Msg {
            kind,
            headers: base_headers(topic, &id),
            data,
            raw: None,
            // SYSTEM frames are never redelivered.
            settled: true,
            delivered_on: vec![conn],
            last_delivery: Some(Instant::now()),
            waiting: false,
        };
        let text = render_typed(&msg, "SYSTEM", None);
        self.messages.insert(id, msg);
        self.send(conn, text);
    }

    fn disconnect(&mut self, conn: u64, reason: &str, now: Instant) {
        let drain = self.behavior.drain;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.closed || c.draining {
            return;
        }
        let zombie = c.zombie;
        c.draining = true;
        c.close_at = Some(now + drain);
        if !zombie {
            let id = fresh_id();
            let data = json!({ "reason": reason }).to_string();
            self.send_system(conn, "disconnect", id, data, Kind::Disconnect { conn });
        }
    }

    /// A text message from a client: an ACK, or a violation.
    fn on_text(&mut self, conn: u64, text: &str) {
        let now = Instant::now();
        let v: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                self.violation(format!("conn #{conn}: ACK is not JSON ({e}): {text}"));
                return;
            }
        };
        let Some(code) = v.get("code").and_then(Value::as_i64) else {
            self.violation(format!("conn #{conn}: ACK without a numeric code: {text}"));
            return;
        };
        let Some(message_id) = v
            .pointer("/headers/messageId")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            self.violation(format!(
                "conn #{conn}: ACK without headers.messageId: {text}"
            ));
            return;
        };
        let mut valid = true;
        let data = match v.get("data") {
            Some(Value::String(s)) => {
                serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
            }
            Some(other) => {
                self.violation(format!(
                    "conn #{conn}: ACK of {message_id}: data is not a JSON string: {other}"
                ));
                valid = false;
                other.clone()
            }
            None => {
                self.violation(format!("conn #{conn}: ACK of {message_id} without data"));
                valid = false;
                Value::Null
            }
        };
        let Some(msg) = self.messages.get(&message_id) else {
            self.violation(format!(
                "conn #{conn}: ACK for unknown messageId {message_id}"
            ));
            self.record_ack(message_id, conn, now, code, data, false, false);
            return;
        };
        let kind = msg.kind.clone();
        let delivered_on = msg.delivered_on.clone();
        match kind {
            Kind::Ping { conn: to, opaque } => {
                if to != conn {
                    self.violation(format!(
                        "conn #{conn}: echo of the ping sent on #{to} ({message_id})"
                    ));
                }
                let echoed = data
                    .get("opaque")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if echoed != opaque {
                    self.violation(format!(
                        "conn #{conn}: ping {message_id} echoed opaque {echoed:?}, sent {opaque:?}"
                    ));
                }
                if code != 200 {
                    self.violation(format!(
                        "conn #{conn}: ping {message_id} echoed code {code}"
                    ));
                }
                self.seen.pongs.push((conn, echoed));
            }
            Kind::Disconnect { conn: to } => {
                if to != conn {
                    self.violation(format!(
                        "conn #{conn}: ACK of the disconnect sent on #{to} ({message_id})"
                    ));
                } else {
                    self.seen.disconnect_acks.push(conn);
                }
            }
            Kind::Event | Kind::Callback | Kind::Raw => {
                if !delivered_on.contains(&conn) {
                    self.violation(format!(
                        "conn #{conn}: ACK of {message_id}, which went to {delivered_on:?}"
                    ));
                    valid = false;
                }
                let status = data.get("status").and_then(Value::as_str);
                if kind == Kind::Event && !matches!(status, Some("SUCCESS") | Some("LATER")) {
                    self.violation(format!(
                        "conn #{conn}: event ACK of {message_id} with status {status:?} \
                         (SUCCESS or LATER expected)"
                    ));
                }
                let settled =
                    valid && code == 200 && (kind != Kind::Event || status == Some("SUCCESS"));
                if settled {
                    if let Some(m) = self.messages.get_mut(&message_id) {
                        m.settled = true;
                    }
                }
                self.record_ack(message_id, conn, now, code, data, valid, settled);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn record_ack(
        &mut self,
        message_id: String,
        conn: u64,
        at: Instant,
        code: i64,
        data: Value,
        valid: bool,
        settled: bool,
    ) {
        self.seen.acks.push(AckSeen {
            message_id,
            conn,
            at,
            code,
            data,
            valid,
            settled,
        });
    }

    fn conn_closed(&mut self, conn: u64, by_client: bool) {
        let now = Instant::now();
        if let Some(c) = self.conns.get_mut(&conn) {
            c.closed = true;
            c.close_at = None;
        }
        if let Some(c) = self.seen.connections.iter_mut().find(|c| c.id == conn) {
            c.closed = Some(now);
            c.closed_by_client = by_client;
        }
    }
}

/// Whether a connection's subscriptions take a frame of this kind and topic.
fn subscribed(conn: &Conn, kind: &Kind, topic: &str) -> bool {
    match kind {
        Kind::Event => conn.subscriptions.iter().any(|(t, _)| t == "EVENT"),
        Kind::Callback => conn
            .subscriptions
            .iter()
            .any(|(t, s)| t == "CALLBACK" && s == topic),
        _ => true,
    }
}

fn base_headers(topic: &str, message_id: &str) -> Map<String, Value> {
    let mut headers = Map::new();
    headers.insert("topic".into(), json!(topic));
    headers.insert("messageId".into(), json!(message_id));
    headers.insert("contentType".into(), json!("application/json"));
    headers.insert("time".into(), json!(epoch_ms().to_string()));
    headers
}

fn render(msg: &Msg, connection_id: &str) -> String {
    match msg.kind {
        Kind::Event => render_typed(msg, "EVENT", None),
        _ => render_typed(msg, "CALLBACK", Some(connection_id)),
    }
}

fn render_typed(msg: &Msg, kind: &str, connection_id: Option<&str>) -> String {
    let mut headers = msg.headers.clone();
    if let Some(id) = connection_id {
        headers.insert("connectionId".into(), json!(id));
    }
    json!({
        "specVersion": "1.0",
        "type": kind,
        "headers": headers,
        "data": msg.data,
    })
    .to_string()
}

fn epoch_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// A random id shaped like a UUID (8-4-4-4-12 hex), as DingTalk's tickets and ids are.
fn fresh_id() -> String {
    let n: u128 = rand::random();
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `POST /v1.0/gateway/connections/open`.
async fn open_connection(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let mut st = shared.lock();
    let now = Instant::now();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let client_id = field("clientId");
    let client_secret = field("clientSecret");
    let ua = field("ua");
    let local_ip = field("localIp");
    let subs_value = parsed.as_ref().and_then(|v| v.get("subscriptions"));
    let subscriptions: Option<Vec<(String, String)>> = subs_value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|s| {
                    let t = s.get("type").and_then(Value::as_str)?;
                    let topic = s.get("topic").and_then(Value::as_str)?;
                    Some((t.to_string(), topic.to_string()))
                })
                .collect::<Option<Vec<_>>>()
        })
        .unwrap_or(None);
    let mut record = HandshakeSeen {
        at: now,
        client_id: client_id.clone().unwrap_or_default(),
        accepted: false,
        status: 200,
        subscriptions: subscriptions.clone().unwrap_or_default(),
        ua,
        local_ip,
    };
    let request_id = fresh_id();

    if st.behavior.fail_handshakes > 0 {
        st.behavior.fail_handshakes -= 1;
        record.status = 503;
        st.seen.handshakes.push(record);
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"requestid": request_id, "code": "ServiceUnavailable",
                   "message": "The request has failed due to a temporary failure of the server."}),
        );
    }
    let (Some(client_id), Some(client_secret), Some(subscriptions)) =
        (client_id, client_secret, subscriptions)
    else {
        record.status = 400;
        st.seen.handshakes.push(record);
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"requestid": request_id, "code": "InvalidParameter",
                   "message": "clientId, clientSecret and subscriptions [{type, topic}] are required"}),
        );
    };
    if client_id != st.behavior.client_id || client_secret != st.behavior.client_secret {
        record.status = 401;
        st.seen.handshakes.push(record);
        return json_response(
            StatusCode::UNAUTHORIZED,
            json!({"requestid": request_id, "code": "authFailed", "message": "鉴权失败"}),
        );
    }
    for (t, topic) in &subscriptions {
        match t.as_str() {
            "EVENT" if topic != "*" => st.violation(format!(
                "handshake: EVENT subscription with topic {topic:?} (only \"*\" exists)"
            )),
            "EVENT" | "CALLBACK" | "SYSTEM" => {}
            other => st.violation(format!("handshake: unknown subscription type {other:?}")),
        }
    }
    let ticket = fresh_id();
    st.tickets.insert(
        ticket.clone(),
        Ticket {
            issued: now,
            used: false,
            subscriptions,
        },
    );
    record.accepted = true;
    st.seen.handshakes.push(record);
    json_response(
        StatusCode::OK,
        json!({"endpoint": format!("ws://{}{CONNECT_PATH}", shared.addr), "ticket": ticket}),
    )
}

/// `GET /connect?ticket=…`: checks the ticket before upgrading.
async fn connect(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let ticket = query.get("ticket").cloned().unwrap_or_default();
    let subscriptions = {
        let mut st = shared.lock();
        let now = Instant::now();
        let ttl = st.behavior.ticket_ttl;
        let refusal = match st.tickets.get_mut(&ticket) {
            None => Some("unknown"),
            Some(t) if t.used => Some("reused"),
            Some(t) if now.duration_since(t.issued) > ttl => Some("expired"),
            Some(t) => {
                t.used = true;
                None
            }
        };
        if let Some(reason) = refusal {
            st.seen.refused_tickets.push((reason.to_string(), now));
            return json_response(
                StatusCode::UNAUTHORIZED,
                json!({"code": "ticketInvalid", "message": format!("ticket {reason}")}),
            );
        }
        st.tickets
            .get(&ticket)
            .map(|t| t.subscriptions.clone())
            .unwrap_or_default()
    };
    ws.on_upgrade(move |socket| serve_socket(shared, ticket, subscriptions, socket))
}

/// One connection's life: register it, hand it what waits, then relay both ways until it ends.
async fn serve_socket(
    shared: Arc<Shared>,
    ticket: String,
    subscriptions: Vec<(String, String)>,
    mut socket: WebSocket,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = {
        let mut st = shared.lock();
        let id = st.next_conn;
        st.next_conn += 1;
        let now = Instant::now();
        let connection_id = fresh_id();
        st.conns.insert(
            id,
            Conn {
                tx,
                connection_id: connection_id.clone(),
                subscriptions: subscriptions.clone(),
                draining: false,
                zombie: false,
                closed: false,
                close_at: None,
                last_system_ping: now,
            },
        );
        st.seen.connections.push(ConnectionSeen {
            id,
            ticket,
            connection_id,
            subscriptions,
            opened: now,
            closed: None,
            closed_by_client: false,
        });
        st.flush_waiting(now);
        id
    };
    let by_client = loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) => break true,
                Some(Ok(Message::Text(text))) => shared.lock().on_text(id, &text),
                Some(Ok(Message::Binary(bytes))) => shared.lock().violation(format!(
                    "conn #{id}: binary message of {} bytes (ACKs are text)",
                    bytes.len()
                )),
                // tungstenite queues the pong itself; it goes out on the next read.
                Some(Ok(Message::Ping(_))) => shared.lock().seen.client_pings += 1,
                Some(Ok(Message::Pong(_))) => {}
                Some(Ok(Message::Close(_))) => {
                    // Reading on sends tungstenite's close reply, then ends.
                    let _ = tokio::time::timeout(Duration::from_secs(1), async {
                        while let Some(Ok(_)) = socket.recv().await {}
                    })
                    .await;
                    break true;
                }
            },
            out = rx.recv() => match out {
                None | Some(Out::Drop) => break false,
                Some(Out::Text(text)) => {
                    if socket.send(Message::Text(text)).await.is_err() {
                        break true;
                    }
                }
                Some(Out::Close(reason)) => {
                    let frame = CloseFrame { code: 1000, reason: Cow::Owned(reason) };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break false;
                }
            },
        }
    };
    drop(socket);
    shared.lock().conn_closed(id, by_client);
}
