//! Client-side rate limiting per endpoint, so a bulk job runs close to DingTalk's quota without
//! being throttled. Each client is one app, so its limiter is per (app, endpoint).
//!
//! Sliding windows, one per limit: a call records its start in each; when a window is full the
//! call waits (no lock is held while it waits) until its oldest call leaves the window.
//!
//! With a [`LimitStore`] the windows live in the store instead, so every instance of the app
//! draws on one quota (DingTalk counts per company, not per process). A circuit breaker guards
//! the store: when it fails or takes longer than [`STORE_PATIENCE`] to answer, the limiter uses
//! its in-process windows for [`STORE_COOL_OFF`] (with one warning), then tries the store again,
//! so a sick store neither stops calls nor makes them go single file.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::StoreFuture;

use tokio::time::Instant;

/// Limits per endpoint. DingTalk publishes 1500 calls a minute per company per endpoint (old
/// rule) and 20 a second per app per endpoint for standard-edition orgs (current rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Calls per second per endpoint, or no per-second limit.
    pub per_second: Option<u32>,
    /// Calls per minute per endpoint, or no per-minute limit.
    pub per_minute: Option<u32>,
}

impl RateLimit {
    /// The published limits: 20 a second and 1500 a minute per endpoint.
    pub fn published() -> Self {
        RateLimit {
            per_second: Some(20),
            per_minute: Some(1500),
        }
    }
}

/// One window of a limit as a store keeps it: at most `capacity` calls in any `length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowLimit {
    /// Calls allowed in the window.
    pub capacity: u32,
    /// The window's length.
    pub length: Duration,
}

impl RateLimit {
    /// The windows this limit describes.
    pub fn windows(&self) -> Vec<WindowLimit> {
        let per_second = self.per_second.map(|n| (n, Duration::from_secs(1)));
        let per_minute = self.per_minute.map(|n| (n, Duration::from_secs(60)));
        [per_second, per_minute]
            .into_iter()
            .flatten()
            .map(|(capacity, length)| WindowLimit {
                capacity: capacity.max(1),
                length,
            })
            .collect()
    }
}

/// Rate-limit windows shared by every instance of an app (see
/// [`ClientBuilder::rate_limit_store`](crate::ClientBuilder::rate_limit_store)). A call holds a
/// slot in each window of its key from its start until one window length after it completes,
/// as the in-process limiter does; a slot whose call never completes (its instance died) lapses
/// after `hold`.
pub trait LimitStore: Send + Sync + std::fmt::Debug + 'static {
    /// Takes a slot for `call` in every window of `key` if none is full: `None` when taken,
    /// otherwise how long until the earliest slot frees at the latest.
    fn try_acquire<'a>(
        &'a self,
        key: &'a str,
        call: &'a str,
        windows: &'a [WindowLimit],
        hold: Duration,
    ) -> StoreFuture<'a, Option<Duration>>;
    /// Marks `call` complete: its slots free one window length from now.
    fn complete<'a>(
        &'a self,
        key: &'a str,
        call: &'a str,
        windows: &'a [WindowLimit],
    ) -> StoreFuture<'a, ()>;
}

/// One window. A call occupies it from its start until a whole window after it *completes*:
/// the server saw it somewhere in between, so however late the network delivers calls, no
/// window of that length, wherever it falls on the server's clock, holds more than `capacity`.
/// (A token bucket, or counting from the start, lets a delayed burst and the next one meet.)
#[derive(Debug)]
struct Window {
    capacity: usize,
    length: Duration,
    in_flight: usize,
    completed: VecDeque<Instant>,
}

impl Window {
    fn new(capacity: u32, length: Duration) -> Self {
        Window {
            capacity: capacity.max(1) as usize,
            length,
            in_flight: 0,
            completed: VecDeque::new(),
        }
    }

    /// `None` if a call may start now; otherwise how long until a slot frees at the latest
    /// (a completing call may free one sooner).
    fn wait(&mut self, now: Instant) -> Option<Duration> {
        while self
            .completed
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.length)
        {
            self.completed.pop_front();
        }
        if self.in_flight + self.completed.len() < self.capacity {
            return None;
        }
        Some(match self.completed.front() {
            Some(oldest) => (*oldest + self.length).saturating_duration_since(now),
            // Every slot is a call still in flight: wait for one to complete.
            None => self.length,
        })
    }
}

/// The limiter of one client.
#[derive(Debug)]
pub(crate) struct Limiter {
    limit: RateLimit,
    windows: Mutex<HashMap<&'static str, Vec<Window>>>,
    completed: tokio::sync::Notify,
    shared: Option<SharedLimit>,
}

/// The windows in a [`LimitStore`], under `<prefix>:<endpoint>`.
#[derive(Debug)]
struct SharedLimit {
    store: Arc<dyn LimitStore>,
    prefix: String,
    hold: Duration,
    /// One caller per endpoint polls the store at a time; the others queue here.
    turns: Mutex<HashMap<&'static str, Arc<tokio::sync::Mutex<()>>>>,
    /// While set and in the future, the store is not asked (it failed or was slow).
    broken_until: Mutex<Option<Instant>>,
}

impl SharedLimit {
    /// Whether the breaker is open: the in-process windows are used.
    fn broken(&self) -> bool {
        let until = self.broken_until.lock().unwrap_or_else(|p| p.into_inner());
        until.is_some_and(|u| Instant::now() < u)
    }

    /// Opens the breaker; warns when it was closed.
    fn trip(&self, why: &str) {
        let mut until = self.broken_until.lock().unwrap_or_else(|p| p.into_inner());
        let was_open = until.is_some_and(|u| Instant::now() < u);
        *until = Some(Instant::now() + STORE_COOL_OFF);
        drop(until);
        if !was_open {
            tracing::warn!(
                error = why,
                cool_off_s = STORE_COOL_OFF.as_secs(),
                "shared rate limit unavailable; using this process's windows for a while"
            );
        }
    }
}

/// The longest a call waits for the shared store's answer before the breaker opens.
pub const STORE_PATIENCE: Duration = Duration::from_millis(250);

/// How long the limiter keeps to its in-process windows after the store failed or was slow.
pub const STORE_COOL_OFF: Duration = Duration::from_secs(30);

/// How often a caller waiting on a shared window asks the store again: a slot held by a call in
/// flight may free long before its worst-case release.
const SHARED_POLL: Duration = Duration::from_millis(20);

/// A call's place in the windows of its endpoint; dropping it marks the call complete.
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
    endpoint: &'static str,
    /// The call's id in the shared store, or `None` for the local windows.
    shared_call: Option<(String, String)>,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if let Some((key, call)) = self.shared_call.take() {
            let Some(shared) = &self.limiter.shared else {
                return;
            };
            // Completion is written in the background; until then the slot stays held, which
            // errs on the safe side.
            let store = Arc::clone(&shared.store);
            let windows = self.limiter.limit.windows();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    if let Err(e) = store.complete(&key, &call, &windows).await {
                        tracing::warn!(error = %e, "could not mark a call complete in the shared rate limit");
                    }
                });
            }
            return;
        }
        let now = Instant::now();
        let mut all = self
            .limiter
            .windows
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(windows) = all.get_mut(self.endpoint) {
            for w in windows {
                w.in_flight = w.in_flight.saturating_sub(1);
                w.completed.push_back(now);
            }
        }
        drop(all);
        self.limiter.completed.notify_waiters();
    }
}

impl Limiter {
    pub(crate) fn new(limit: RateLimit) -> Self {
        Limiter {
            limit,
            windows: Mutex::new(HashMap::new()),
            completed: tokio::sync::Notify::new(),
            shared: None,
        }
    }

    /// A limiter whose windows live in `store` under `prefix` (the app), shared with every
    /// instance that uses the same store and app. A slot of a call that never completes lapses
    /// after `hold`.
    pub(crate) fn shared(
        limit: RateLimit,
        store: Arc<dyn LimitStore>,
        prefix: String,
        hold: Duration,
    ) -> Self {
        Limiter {
            shared: Some(SharedLimit {
                store,
                prefix,
                hold,
                turns: Mutex::new(HashMap::new()),
                broken_until: Mutex::new(None),
            }),
            ..Limiter::new(limit)
        }
    }

    /// Waits until `endpoint` may be called; hold the permit until the call's answer is in.
    pub(crate) async fn acquire(&self, endpoint: &'static str) -> Permit<'_> {
        if let Some(shared) = &self.shared {
            if !shared.broken() {
                if let Some(permit) = self.acquire_shared(shared, endpoint).await {
                    return permit;
                }
            }
        }
        self.acquire_local(endpoint).await
    }

    /// A place in the in-process windows of `endpoint`.
    async fn acquire_local(&self, endpoint: &'static str) -> Permit<'_> {
        loop {
            // Register for completions before looking, so none is missed in between.
            let completed = self.completed.notified();
            let wait = {
                let mut all = self.windows.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let windows = all.entry(endpoint).or_insert_with(|| {
                    let limits = self.limit.windows();
                    limits
                        .iter()
                        .map(|w| Window::new(w.capacity, w.length))
                        .collect()
                });
                match windows.iter_mut().filter_map(|w| w.wait(now)).max() {
                    None => {
                        windows.iter_mut().for_each(|w| w.in_flight += 1);
                        return Permit {
                            limiter: self,
                            endpoint,
                            shared_call: None,
                        };
                    }
                    Some(wait) => wait,
                }
            };
            tokio::select! {
                _ = completed => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

impl Limiter {
    /// A place in the shared windows, or `None` when the store failed or was slow (the breaker
    /// is then open).
    async fn acquire_shared(
        &self,
        shared: &SharedLimit,
        endpoint: &'static str,
    ) -> Option<Permit<'_>> {
        let turn = {
            let mut turns = shared.turns.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(turns.entry(endpoint).or_default())
        };
        let _turn = turn.lock().await;
        // The breaker may have opened while this call queued.
        if shared.broken() {
            return None;
        }
        // A hash tag keeps an endpoint's windows in one Redis Cluster slot.
        let key = format!("{{{}:{endpoint}}}", shared.prefix);
        let call = crate::store::random_id();
        let windows = self.limit.windows();
        loop {
            let asked = shared.store.try_acquire(&key, &call, &windows, shared.hold);
            match tokio::time::timeout(STORE_PATIENCE, asked).await {
                Ok(Ok(None)) => {
                    return Some(Permit {
                        limiter: self,
                        endpoint,
                        shared_call: Some((key, call)),
                    })
                }
                Ok(Ok(Some(wait))) => tokio::time::sleep(wait.min(SHARED_POLL)).await,
                // The limit only spares DingTalk's throttling (which is retried anyway): a sick
                // store neither stops calls nor holds them up.
                Ok(Err(e)) => {
                    shared.trip(&e.to_string());
                    return None;
                }
                Err(_) => {
                    shared.trip("the store did not answer in time");
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_then_the_steady_rate() {
        let limiter = Limiter::new(RateLimit {
            per_second: Some(10),
            per_minute: None,
        });
        let start = Instant::now();
        for _ in 0..10 {
            drop(limiter.acquire("user.get").await);
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the first ten go at once");
        for _ in 0..10 {
            drop(limiter.acquire("user.get").await);
        }
        let elapsed = start.elapsed();
        // The second ten wait for the first to leave the window.
        assert_eq!(elapsed, Duration::from_secs(1));
        // Another endpoint has its own budget.
        let other = Instant::now();
        drop(limiter.acquire("user.list").await);
        assert_eq!(other.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn no_window_ever_holds_more_than_the_limit() {
        let limiter = Limiter::new(RateLimit {
            per_second: Some(5),
            per_minute: None,
        });
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..40 {
            drop(limiter.acquire("x").await);
            starts.push(start.elapsed());
        }
        for (i, t) in starts.iter().enumerate() {
            let in_window = starts[i..]
                .iter()
                .filter(|u| **u < *t + Duration::from_secs(1))
                .count();
            assert!(in_window <= 5, "{in_window} calls in the second from {t:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn calls_in_flight_hold_their_place_until_they_complete() {
        let limiter = Limiter::new(RateLimit {
            per_second: Some(2),
            per_minute: None,
        });
        let a = limiter.acquire("x").await;
        let b = limiter.acquire("x").await;
        let start = Instant::now();
        let third = async { limiter.acquire("x").await };
        tokio::pin!(third);
        // Both slots are held by calls in flight: the third waits however long they take.
        assert!(tokio::time::timeout(Duration::from_secs(5), &mut third)
            .await
            .is_err());
        drop(a);
        drop(b);
        // ...and then a whole window after they completed.
        let _c = third.await;
        assert_eq!(start.elapsed(), Duration::from_secs(6));
    }

    #[tokio::test(start_paused = true)]
    async fn the_tighter_window_wins() {
        let limiter = Limiter::new(RateLimit {
            per_second: Some(100),
            per_minute: Some(30),
        });
        let start = Instant::now();
        for _ in 0..31 {
            drop(limiter.acquire("x").await);
        }
        // 30 a minute: the 31st waits for the first to leave the minute window.
        assert!(
            start.elapsed() >= Duration::from_secs(60),
            "{:?}",
            start.elapsed()
        );
    }
}
