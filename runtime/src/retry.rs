//! Bounded, classified retries. The error's class decides whether a retry can help; whether
//! the failed attempt may have reached DingTalk decides whether a retry is safe: a call that
//! may have been processed is repeated only when its endpoint is idempotent, so a lost answer
//! never sends a work notification twice.

use std::time::Duration;

use crate::{Error, ErrorClass};

/// How the client retries failed calls. The token-refresh retry (once, on a rejected token) is
/// separate and always on.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included; 1 turns retries off.
    pub max_attempts: u32,
    /// Delay before the first retry; doubles on each retry (with jitter).
    pub base_delay: Duration,
    /// Longest single delay.
    pub max_delay: Duration,
    /// Shortest delay after a rate-limit error (DingTalk asks for at least a second).
    pub rate_limit_delay: Duration,
    /// No retry starts once this much time has passed since the first attempt.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    /// Three attempts, 200 ms doubling to at most 5 s, 1 s after throttling, 20 s in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            rate_limit_delay: Duration::from_secs(1),
            budget: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The delay before attempt `attempt + 1`, or `None` to give up with `error`.
    /// `idempotent` is the endpoint's spec flag; `elapsed` the time since the first attempt.
    pub fn delay(
        &self,
        error: &Error,
        idempotent: bool,
        attempt: u32,
        elapsed: Duration,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts || elapsed >= self.budget {
            return None;
        }
        // A token fetch was retried already, inside the fetch that every waiting caller shared;
        // retrying the call would start another.
        if error.is_token_fetch() {
            return None;
        }
        let class = error.class();
        let retryable = matches!(class, ErrorClass::Busy | ErrorClass::RateLimited);
        if !retryable || (error.may_have_been_processed() && !idempotent) {
            return None;
        }
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_delay);
        // Full jitter keeps a fleet of clients from retrying in step.
        let jittered = exp.mul_f64(rand::random::<f64>());
        let delay = if class == ErrorClass::RateLimited {
            jittered.max(self.rate_limit_delay)
        } else {
            jittered
        };
        // Never sleep past the budget.
        Some(delay.min(self.budget.saturating_sub(elapsed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ApiError, ErrorClass};

    /// The classes of the codes these tests use, as a generated error table gives them.
    fn table(code: &crate::ApiCode) -> ErrorClass {
        let crate::ApiCode::Errcode(code) = code else {
            return ErrorClass::Other;
        };
        match code {
            -1 => ErrorClass::Busy,
            90018 | 90002 | 45009 => ErrorClass::RateLimited,
            410100 => ErrorClass::Suspended,
            60011 => ErrorClass::Permission,
            40035 => ErrorClass::InvalidArgument,
            60121 => ErrorClass::NotFound,
            _ => ErrorClass::Other,
        }
    }

    fn api(code: i64) -> Error {
        Error::from(
            ApiError {
                endpoint: "x".into(),
                code: crate::ApiCode::Errcode(code),
                message: String::new(),
                sub: None,
                sub_msg: None,
                request_id: None,
                status: None,
                class: ErrorClass::Other,
            }
            .classified(table),
        )
    }

    fn http(status: u16) -> Error {
        Error::Http {
            endpoint: "x".into(),
            status,
            snippet: String::new(),
        }
    }

    const NOW: Duration = Duration::ZERO;

    #[test]
    fn busy_and_5xx_are_retried_only_when_idempotent() {
        let p = RetryPolicy::default();
        for e in [api(-1), http(503), http(502)] {
            assert!(p.delay(&e, true, 1, NOW).is_some(), "{e:?}");
            assert!(p.delay(&e, false, 1, NOW).is_none(), "{e:?}");
        }
    }

    #[test]
    fn throttling_is_retried_even_when_not_idempotent_and_waits_a_second() {
        let p = RetryPolicy::default();
        for e in [api(90018), api(90002), api(45009), http(429)] {
            let d = p.delay(&e, false, 1, NOW);
            assert!(
                d.is_some_and(|d| d >= Duration::from_secs(1)),
                "{e:?}: {d:?}"
            );
        }
    }

    #[test]
    fn other_classes_are_never_retried() {
        let p = RetryPolicy::default();
        for e in [
            api(60011),
            api(40035),
            api(60121),
            api(123456),
            api(410100),
            Error::Config("x".into()),
        ] {
            assert!(p.delay(&e, true, 1, NOW).is_none(), "{e:?}");
        }
    }

    #[test]
    fn a_suspension_is_not_retried_but_known_unsent() {
        let e = api(410100);
        assert_eq!(e.class(), ErrorClass::Suspended);
        assert!(!e.may_have_been_processed());
        assert!(RetryPolicy::default().delay(&e, false, 1, NOW).is_none());
    }

    #[test]
    fn attempts_and_budget_bound_the_retries() {
        let p = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        assert!(p.delay(&api(-1), true, 2, NOW).is_some());
        assert!(p.delay(&api(-1), true, 3, NOW).is_none());
        assert!(p.delay(&api(-1), true, 1, p.budget).is_none());
        let near_end = p.budget - Duration::from_millis(10);
        assert!(p
            .delay(&api(90018), true, 1, near_end)
            .is_some_and(|d| d <= Duration::from_millis(10)));
        assert!(RetryPolicy::none().delay(&api(-1), true, 1, NOW).is_none());
    }

    #[test]
    fn failures_before_sending_are_retried_even_when_not_idempotent_but_token_fetches_are_not() {
        let p = RetryPolicy::default();
        let store = Error::Store("token store: down".into());
        assert!(!store.may_have_been_processed());
        assert!(p.delay(&store, false, 1, NOW).is_some(), "never sent: safe");
        // The token fetch was retried inside the fetch every waiting caller shared.
        let token = Error::Token {
            source: Box::new(http(503)),
        };
        assert_eq!(token.class(), ErrorClass::Busy);
        assert!(!token.may_have_been_processed());
        assert!(p.delay(&token, true, 1, NOW).is_none());
    }

    #[test]
    fn attempt_zero_is_taken_as_the_first() {
        let p = RetryPolicy::default();
        let d = p.delay(&api(-1), true, 0, NOW);
        assert!(d.is_some_and(|d| d <= p.base_delay), "{d:?}");
    }

    #[test]
    fn delays_grow_and_stay_capped() {
        let p = RetryPolicy {
            max_attempts: 40,
            ..RetryPolicy::default()
        };
        for attempt in 1..40 {
            let d = p.delay(&api(-1), true, attempt, NOW).unwrap_or_default();
            assert!(d <= p.max_delay);
        }
    }
}
