//! Client-side rate limiting per endpoint, so a bulk job runs close to DingTalk's quota without
//! being throttled. Each client is one app, so its limiter is per (app, endpoint).
//!
//! Sliding windows, one per limit: a call records its start in each; when a window is full the
//! call waits (no lock is held while it waits) until its oldest call leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

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
}

/// A call's place in the windows of its endpoint; dropping it marks the call complete.
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
    endpoint: &'static str,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
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
        }
    }

    /// Waits until `endpoint` may be called; hold the permit until the call's answer is in.
    pub(crate) async fn acquire(&self, endpoint: &'static str) -> Permit<'_> {
        loop {
            // Register for completions before looking, so none is missed in between.
            let completed = self.completed.notified();
            let wait = {
                let mut all = self.windows.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                let windows = all.entry(endpoint).or_insert_with(|| {
                    let mut w = Vec::new();
                    if let Some(n) = self.limit.per_second {
                        w.push(Window::new(n, Duration::from_secs(1)));
                    }
                    if let Some(n) = self.limit.per_minute {
                        w.push(Window::new(n, Duration::from_secs(60)));
                    }
                    w
                });
                match windows.iter_mut().filter_map(|w| w.wait(now)).max() {
                    None => {
                        windows.iter_mut().for_each(|w| w.in_flight += 1);
                        return Permit {
                            limiter: self,
                            endpoint,
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
