//! Streaming text into AI cards (AI卡片流式更新) without tripping DingTalk's throttle.
//!
//! `PUT /v1.0/card/streaming` is throttled with HTTP 403 (`Forbidden.AccessDenied.QpsLimit*`)
//! at 40–60 calls a second per app, while a language model produces far more tokens than that.
//! [`CardStreamer`] sits between the two:
//!
//! - **Coalescing.** Each card keeps only its latest text; every update sends the whole text
//!   with `isFull: true` (which a Markdown variable needs anyway), so updates made while a send
//!   is waiting merge into the next one and nothing is lost by merging.
//! - **Pacing.** All cards of one streamer share one pace, [`CardStreamConfig::per_second`]
//!   (20 by default, half of DingTalk's lowest documented ceiling). When DingTalk throttles
//!   anyway (other processes of the app stream too) the pace halves and every card waits out a
//!   growing backoff; each success then raises the pace again, by about one call a second per
//!   second (additive increase, multiplicative decrease).
//! - **Retries that cannot duplicate.** A throttled update was not applied: the card's latest
//!   text goes out instead. An update whose answer was lost (a timeout, a 5xx) may have been
//!   applied; since it carried the whole text, sending the latest text again is harmless,
//!   except for the final update, which is sent again with the same `guid` so that DingTalk
//!   drops it if the first one arrived.
//! - **An end.** [`CardStream::finish`] sends the last text with `isFinalize: true` and
//!   returns what happened; [`CardStream::fail`] ends in the card's error state. An error that
//!   a retry cannot cure (a permission, a wrong argument, an unknown card) ends the stream at
//!   once and is returned by `finish`.
//!
//! ```no_run
//! # async fn run(client: &dingtalk::Client) -> Result<(), dingtalk_workflows::CardStreamError> {
//! use dingtalk_workflows::CardStreamer;
//!
//! let streamer = CardStreamer::new(client); // one per app: its cards share the pace
//! let card = streamer.open("order_20240101_001", "content");
//! for token in ["正在", "思考", "……"] {
//!     card.push_str(token); // never waits
//! }
//! let report = card.finish().await?;
//! println!("{} updates in {} calls", report.updates, report.sent);
//! # Ok(()) }
//! ```
//!
//! See <https://open.dingtalk.com/document/development/api-streamingupdate>.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dingtalk::prelude::*;
use dingtalk::{Client, Error, ErrorClass, RetryPolicy};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How a [`CardStreamer`] paces and retries.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CardStreamConfig {
    /// The most streaming calls a second, for all cards of the streamer together (default 20).
    pub per_second: u32,
    /// The shortest gap between two calls for one card (default 100 ms), so one card cannot
    /// take every slot from the others.
    pub card_interval: Duration,
    /// The first wait after DingTalk throttled a call; it doubles on each further throttle in a
    /// row (default 250 ms).
    pub backoff_base: Duration,
    /// The longest single wait (default 8 s).
    pub backoff_cap: Duration,
    /// Failed calls in a row (throttled or transient) after which a card gives up (default 12).
    pub max_failures: u32,
}

impl Default for CardStreamConfig {
    fn default() -> Self {
        CardStreamConfig {
            per_second: 20,
            card_interval: Duration::from_millis(100),
            backoff_base: Duration::from_millis(250),
            backoff_cap: Duration::from_secs(8),
            max_failures: 12,
        }
    }
}

impl CardStreamConfig {
    /// Sets [`per_second`](Self::per_second) (at least 1).
    pub fn per_second(mut self, calls: u32) -> Self {
        self.per_second = calls.max(1);
        self
    }

    /// Sets [`card_interval`](Self::card_interval).
    pub fn card_interval(mut self, interval: Duration) -> Self {
        self.card_interval = interval;
        self
    }

    /// Sets [`backoff_base`](Self::backoff_base) and [`backoff_cap`](Self::backoff_cap).
    pub fn backoff(mut self, base: Duration, cap: Duration) -> Self {
        self.backoff_base = base;
        self.backoff_cap = cap.max(base);
        self
    }

    /// Sets [`max_failures`](Self::max_failures) (at least 1).
    pub fn max_failures(mut self, failures: u32) -> Self {
        self.max_failures = failures.max(1);
        self
    }
}

/// Streams into AI cards of one app at a shared pace. Cheap to clone; clones share the pace.
#[derive(Clone)]
pub struct CardStreamer {
    client: Client,
    config: CardStreamConfig,
    pacer: Arc<Pacer>,
}

impl fmt::Debug for CardStreamer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardStreamer")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Counts of a [`CardStreamer`] since it was built, over all its cards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CardStreamerStats {
    /// Updates the cards were given.
    pub updates: u64,
    /// Calls DingTalk accepted.
    pub sent: u64,
    /// Calls DingTalk throttled.
    pub throttled: u64,
    /// Calls that failed otherwise.
    pub failed: u64,
}

impl CardStreamer {
    /// A streamer with the default [`CardStreamConfig`].
    pub fn new(client: &Client) -> Self {
        Self::with_config(client, CardStreamConfig::default())
    }

    /// A streamer with `config`.
    pub fn with_config(client: &Client, config: CardStreamConfig) -> Self {
        CardStreamer {
            client: client.clone(),
            pacer: Arc::new(Pacer::new(&config)),
            config,
        }
    }

    /// Starts streaming into the variable `key` of the card `out_track_id` (created and
    /// delivered beforehand, with `key` a streaming variable of its template). Must be called
    /// within a Tokio runtime: a task sends the card's updates.
    pub fn open(&self, out_track_id: impl Into<String>, key: impl Into<String>) -> CardStream {
        let card = Arc::new(Card {
            state: Mutex::new(Pending::default()),
            wake: Notify::new(),
        });
        let worker = Worker {
            client: self.client.clone(),
            config: self.config.clone(),
            pacer: self.pacer.clone(),
            card: card.clone(),
            out_track_id: out_track_id.into(),
            key: key.into(),
        };
        CardStream {
            card,
            pacer: self.pacer.clone(),
            task: Some(tokio::spawn(worker.run())),
        }
    }

    /// What the streamer's cards have done so far.
    pub fn stats(&self) -> CardStreamerStats {
        lock(&self.pacer.state).stats
    }
}

/// One card being streamed into; see [`CardStreamer::open`]. Updates never wait: the card's
/// task sends the latest text when the pace allows. Dropping the stream without
/// [`finish`](Self::finish) lets the task send the latest text (not final) and stop.
pub struct CardStream {
    card: Arc<Card>,
    pacer: Arc<Pacer>,
    task: Option<JoinHandle<Result<CardStreamReport, CardStreamError>>>,
}

impl fmt::Debug for CardStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.card.state);
        f.debug_struct("CardStream")
            .field("chars", &state.text.chars().count())
            .field("updates", &state.updates)
            .field("ended", &state.end.is_some())
            .finish_non_exhaustive()
    }
}

/// What a finished stream did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CardStreamReport {
    /// Updates the stream was given (`update`, `push_str` and the end).
    pub updates: u64,
    /// Calls DingTalk accepted (fewer than `updates` when updates were merged).
    pub sent: u64,
    /// Calls DingTalk throttled (each followed by a wait and the latest text).
    pub throttled: u64,
    /// Calls that failed otherwise and were sent again.
    pub failed: u64,
}

/// Why a stream ended without its last update.
#[derive(Debug)]
#[non_exhaustive]
pub enum CardStreamError {
    /// DingTalk refused an update in a way a retry cannot cure (`error.class()` says which:
    /// a permission, a wrong argument, an unknown card), or [`CardStreamConfig::max_failures`]
    /// calls failed in a row. The updates after it were not sent.
    Api {
        /// DingTalk's or the transport's error.
        error: Error,
        /// The counts up to the failure.
        report: CardStreamReport,
    },
    /// The card's task ended abnormally (it panicked or its runtime shut down).
    Stopped,
}

impl fmt::Display for CardStreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CardStreamError::Api { error, report } => write!(
                f,
                "card streaming stopped after {} of {} updates were sent: {error}",
                report.sent, report.updates
            ),
            CardStreamError::Stopped => f.write_str("the card's streaming task stopped"),
        }
    }
}

impl std::error::Error for CardStreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CardStreamError::Api { error, .. } => Some(error),
            CardStreamError::Stopped => None,
        }
    }
}

impl CardStream {
    /// Replaces the card's text with `text` (the whole text so far).
    pub fn update(&self, text: impl Into<String>) {
        let text = text.into();
        self.change(|t| *t = text);
    }

    /// Appends `part` to the card's text (a model's next tokens).
    pub fn push_str(&self, part: &str) {
        self.change(|t| t.push_str(part));
    }

    /// The card's text as it will be sent next.
    pub fn text(&self) -> String {
        lock(&self.card.state).text.clone()
    }

    /// Sends the latest text with `isFinalize: true` (the card leaves its typing state), after
    /// waiting for the calls before it; returns the counts, or the error that ended the stream.
    pub async fn finish(mut self) -> Result<CardStreamReport, CardStreamError> {
        self.end(End::Finalize).await
    }

    /// Replaces the text with `text` and ends the stream in the card's error state
    /// (`isError: true`), e.g. when the model failed.
    pub async fn fail(
        mut self,
        text: impl Into<String>,
    ) -> Result<CardStreamReport, CardStreamError> {
        let text = text.into();
        self.change(|t| *t = text);
        self.end(End::Error).await
    }

    fn change(&self, f: impl FnOnce(&mut String)) {
        {
            let mut state = lock(&self.card.state);
            if state.end.is_some() {
                return;
            }
            f(&mut state.text);
            state.updates = state.updates.saturating_add(1);
            state.dirty = true;
        }
        lock(&self.pacer.state).stats.updates += 1;
        self.card.wake.notify_one();
    }

    async fn end(&mut self, end: End) -> Result<CardStreamReport, CardStreamError> {
        let ended_here = {
            let mut state = lock(&self.card.state);
            let open = state.end.is_none();
            if open {
                state.end = Some(end);
                state.updates = state.updates.saturating_add(1);
                state.dirty = true;
            }
            open
        };
        if ended_here {
            lock(&self.pacer.state).stats.updates += 1;
            self.card.wake.notify_one();
        }
        match self.task.take() {
            Some(task) => task.await.unwrap_or(Err(CardStreamError::Stopped)),
            None => Err(CardStreamError::Stopped),
        }
    }
}

impl Drop for CardStream {
    fn drop(&mut self) {
        // The task sends what is pending, then stops.
        lock(&self.card.state).closed = true;
        self.card.wake.notify_one();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Finalize,
    Error,
}

/// What a card has not sent yet. The text is always the whole text.
#[derive(Default)]
struct Pending {
    text: String,
    /// The text changed since the last accepted call.
    dirty: bool,
    end: Option<End>,
    /// The `CardStream` was dropped.
    closed: bool,
    updates: u64,
}

struct Card {
    state: Mutex<Pending>,
    wake: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The pace shared by a streamer's cards: a sliding one-second window whose size adapts to
/// throttling, and a time before which no card sends after a throttle.
struct Pacer {
    state: Mutex<PacerState>,
}

struct PacerState {
    ceiling: f64,
    /// Calls allowed in the current second; between 1 and `ceiling`.
    rate: f64,
    sent: VecDeque<Instant>,
    resume_at: Option<Instant>,
    throttles_in_a_row: u32,
    base: Duration,
    cap: Duration,
    stats: CardStreamerStats,
}

impl Pacer {
    fn new(config: &CardStreamConfig) -> Self {
        let ceiling = f64::from(config.per_second.max(1));
        Pacer {
            state: Mutex::new(PacerState {
                ceiling,
                rate: ceiling,
                sent: VecDeque::new(),
                resume_at: None,
                throttles_in_a_row: 0,
                base: config.backoff_base,
                cap: config.backoff_cap.max(config.backoff_base),
                stats: CardStreamerStats::default(),
            }),
        }
    }

    /// Waits for a slot in the window and past any throttle backoff, then takes the slot.
    async fn acquire(&self) {
        loop {
            let wait = {
                let mut s = lock(&self.state);
                let now = Instant::now();
                while s
                    .sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
                {
                    s.sent.pop_front();
                }
                let allowed = s.rate.floor().max(1.0) as usize;
                match (s.resume_at, s.sent.front()) {
                    (Some(at), _) if at > now => at - now,
                    _ if s.sent.len() < allowed => {
                        s.sent.push_back(now);
                        return;
                    }
                    (_, Some(oldest)) => {
                        (*oldest + Duration::from_secs(1)).saturating_duration_since(now)
                    }
                    (_, None) => Duration::ZERO,
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    fn accepted(&self) {
        let mut s = lock(&self.state);
        s.throttles_in_a_row = 0;
        s.stats.sent += 1;
        // About +1 call a second for every second of calls at the current rate.
        s.rate = (s.rate + 1.0 / s.rate.max(1.0)).min(s.ceiling);
    }

    fn throttled(&self) {
        let mut s = lock(&self.state);
        s.stats.throttled += 1;
        s.rate = (s.rate / 2.0).max(1.0);
        s.throttles_in_a_row = s.throttles_in_a_row.saturating_add(1);
        let backoff = s.backoff(s.throttles_in_a_row);
        // Half fixed, half random, so that the cards (and other instances) do not return in step.
        let wait = backoff / 2 + backoff.mul_f64(rand::random::<f64>() / 2.0);
        let at = Instant::now() + wait;
        // Every card waits: the throttle is per app, not per card.
        s.resume_at = Some(s.resume_at.map_or(at, |t| t.max(at)));
    }

    fn failed(&self) {
        lock(&self.state).stats.failed += 1;
    }

    fn backoff(&self, failures: u32) -> Duration {
        lock(&self.state).backoff(failures)
    }
}

impl PacerState {
    /// The wait after the `n`th failure in a row (1-based): the base, doubling, at most the cap.
    fn backoff(&self, n: u32) -> Duration {
        let doubling = 1u32 << n.saturating_sub(1).min(16);
        self.base.saturating_mul(doubling).min(self.cap)
    }
}

/// The task that sends one card's updates.
struct Worker {
    client: Client,
    config: CardStreamConfig,
    pacer: Arc<Pacer>,
    card: Arc<Card>,
    out_track_id: String,
    key: String,
}

/// One call's content.
struct Snapshot {
    text: String,
    end: Option<End>,
    guid: String,
}

impl Worker {
    async fn run(self) -> Result<CardStreamReport, CardStreamError> {
        let mut report = CardStreamReport {
            updates: 0,
            sent: 0,
            throttled: 0,
            failed: 0,
        };
        let mut last_call: Option<Instant> = None;
        let mut failures = 0u32;
        // A final update whose answer was lost: sent again as it was, with its guid.
        let mut resend: Option<Snapshot> = None;
        loop {
            if resend.is_none() {
                // Wait for something to send.
                loop {
                    let notified = self.card.wake.notified();
                    {
                        let state = lock(&self.card.state);
                        report.updates = state.updates;
                        if state.dirty {
                            break;
                        }
                        if state.closed || state.end.is_some() {
                            return Ok(report);
                        }
                    }
                    notified.await;
                }
            }
            if let Some(last) = last_call {
                tokio::time::sleep_until(last + self.config.card_interval).await;
            }
            self.pacer.acquire().await;
            // Taken after the wait, so the call carries the newest text.
            let snapshot = match resend.take() {
                Some(s) => s,
                None => {
                    let mut state = lock(&self.card.state);
                    state.dirty = false;
                    report.updates = state.updates;
                    Snapshot {
                        text: state.text.clone(),
                        end: state.end,
                        guid: new_guid(),
                    }
                }
            };
            last_call = Some(Instant::now());
            let result = self
                .client
                .card()
                .streaming_update(
                    &self.out_track_id,
                    &snapshot.guid,
                    &self.key,
                    &snapshot.text,
                )
                .is_full(true)
                .is_finalize(snapshot.end == Some(End::Finalize))
                .is_error(snapshot.end == Some(End::Error))
                // This loop retries: with the latest text, not the text of the failed call.
                .retry(RetryPolicy::none())
                .await;
            match result {
                Ok(_) => {
                    failures = 0;
                    report.sent += 1;
                    self.pacer.accepted();
                    if snapshot.end.is_some() {
                        report.updates = lock(&self.card.state).updates;
                        return Ok(report);
                    }
                }
                Err(error) => {
                    let class = error.class();
                    let throttled = class == ErrorClass::RateLimited;
                    let transient = throttled || class == ErrorClass::Busy;
                    failures = failures.saturating_add(1);
                    if throttled {
                        report.throttled += 1;
                        self.pacer.throttled();
                    } else {
                        report.failed += 1;
                        self.pacer.failed();
                    }
                    if !transient || failures >= self.config.max_failures {
                        let mut state = lock(&self.card.state);
                        state.end.get_or_insert(End::Error);
                        state.dirty = false;
                        report.updates = state.updates;
                        return Err(CardStreamError::Api { error, report });
                    }
                    if !throttled {
                        tokio::time::sleep(self.pacer.backoff(failures)).await;
                    }
                    if snapshot.end.is_some() && error.may_have_been_processed() {
                        // The end may have arrived: the same guid lets DingTalk drop a repeat.
                        resend = Some(snapshot);
                    } else {
                        // Not applied, or applied and superseded: the latest text goes next.
                        lock(&self.card.state).dirty = true;
                    }
                }
            }
        }
    }
}

/// A fresh update id: 128 random bits as 32 hex digits.
fn new_guid() -> String {
    format!("{:032x}", rand::random::<u128>())
}
