//! When to try the next handshake: exponential backoff with full jitter, capped, reset once a
//! connection has stayed healthy for a while.
//!
//! Full jitter (a delay drawn uniformly from zero to the current ceiling) spreads the
//! reconnects of a fleet that lost DingTalk at the same moment, instead of having them all
//! knock again in step.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The reconnect schedule of a Stream client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the first retry; it doubles with each failure in a row.
    pub base: Duration,
    /// The highest ceiling.
    pub cap: Duration,
    /// How long a connection must stay up before the failure count starts again from zero.
    pub reset_after: Duration,
    /// Seeds the jitter, for a reproducible schedule (tests); `None` draws from the OS.
    pub seed: Option<u64>,
}

impl Default for Backoff {
    /// 1 s doubling up to 60 s, reset after 60 s up.
    fn default() -> Backoff {
        Backoff {
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
            reset_after: Duration::from_secs(60),
            seed: None,
        }
    }
}

impl Backoff {
    /// The ceiling of the delay after `failures` failures in a row (1 for the first):
    /// `min(cap, base × 2^(failures-1))`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.base
            .checked_mul(1u32 << doublings)
            .map_or(self.cap, |d| d.min(self.cap))
    }
}

/// The failures in a row of one connection slot and the jitter source.
#[derive(Debug)]
pub(crate) struct Schedule {
    policy: Backoff,
    failures: u32,
    rng: StdRng,
}

impl Schedule {
    pub(crate) fn new(policy: Backoff, slot: u64) -> Schedule {
        let rng = match policy.seed {
            Some(seed) => StdRng::seed_from_u64(seed.wrapping_add(slot)),
            None => StdRng::from_entropy(),
        };
        Schedule {
            policy,
            failures: 0,
            rng,
        }
    }

    /// Records a failure and says how long to wait before the next attempt.
    pub(crate) fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let ceiling = self.policy.ceiling(self.failures);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(self.rng.gen_range(0..=nanos))
    }

    /// Failures in a row so far.
    pub(crate) fn failures(&self) -> u32 {
        self.failures
    }

    /// A connection that was up for `up`: a healthy one starts the count again.
    pub(crate) fn connection_lasted(&mut self, up: Duration) {
        if up >= self.policy.reset_after {
            self.failures = 0;
        }
    }
}
