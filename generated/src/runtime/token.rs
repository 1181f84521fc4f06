//! The access-token cache.
//!
//! Reads are lock-free (`ArcSwap`), so a cached token is read without any lock, let alone one
//! held across an await. A refresh takes an async mutex: callers that find the token missing or
//! near expiry queue on it, the first one fetches, and the rest find the fresh token when they
//! get the lock, so 100 concurrent callers cause exactly one token request.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::time::Instant;

use crate::{Error, SecretString};

/// Lifetime assumed when DingTalk does not say (`/sso/gettoken` has no `expires_in`).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(7200);
/// The longest lifetime believed; DingTalk documents 7200 s, so larger values are clamped.
const MAX_LIFETIME: Duration = Duration::from_secs(7200);

/// A token with its expiry.
#[derive(Debug)]
pub(crate) struct Cached {
    pub(crate) value: SecretString,
    refresh_at: Instant,
}

/// One cached token and the lock that serializes its refreshes.
#[derive(Debug)]
pub(crate) struct TokenCache {
    current: ArcSwapOption<Cached>,
    refresh: tokio::sync::Mutex<()>,
    margin: Duration,
}

impl TokenCache {
    /// A cache that refreshes `margin` before expiry.
    pub(crate) fn new(margin: Duration) -> Self {
        TokenCache {
            current: ArcSwapOption::empty(),
            refresh: tokio::sync::Mutex::new(()),
            margin,
        }
    }

    /// The cached token if it is still fresh. Lock-free.
    pub(crate) fn fresh(&self) -> Option<Arc<Cached>> {
        let guard = self.current.load();
        match &*guard {
            Some(t) if Instant::now() < t.refresh_at => Some(Arc::clone(t)),
            _ => None,
        }
    }

    /// The cached token, fetching a new one with `fetch` (which returns the token and its
    /// lifetime) when it is missing or due.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Arc<Cached>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let _refreshing = self.refresh.lock().await;
        // Whoever held the lock before us may have refreshed already.
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let (value, expires_in) = fetch().await?;
        let lifetime = lifetime(expires_in);
        // Refresh a margin before expiry, but never sooner than half the lifetime.
        let early = self.margin.min(lifetime / 2);
        let cached = Arc::new(Cached {
            value,
            refresh_at: Instant::now() + lifetime - early,
        });
        self.current.store(Some(Arc::clone(&cached)));
        Ok(cached)
    }

    /// Drops `used` if it is still the cached token (DingTalk rejected it). A token that a
    /// concurrent refresh already replaced stays.
    pub(crate) fn invalidate(&self, used: &Arc<Cached>) {
        let current = self.current.load();
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, used)) {
            self.current.compare_and_swap(&*current, None);
        }
    }
}

/// The lifetime to believe for an `expires_in`: missing or nonsensical values fall back to the
/// documented 7200 s, large ones are clamped to it.
fn lifetime(expires_in: Option<i64>) -> Duration {
    match expires_in {
        Some(s) if s > 0 => Duration::from_secs(s as u64).min(MAX_LIFETIME),
        _ => DEFAULT_LIFETIME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_lifetimes_fall_back_or_clamp() {
        assert_eq!(lifetime(None), DEFAULT_LIFETIME);
        assert_eq!(lifetime(Some(0)), DEFAULT_LIFETIME);
        assert_eq!(lifetime(Some(-5)), DEFAULT_LIFETIME);
        assert_eq!(lifetime(Some(i64::MAX)), MAX_LIFETIME);
        assert_eq!(lifetime(Some(60)), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_after_the_margin_and_keeps_replaced_tokens() {
        let cache = TokenCache::new(Duration::from_secs(300));
        let first = cache
            .get(|| async { Ok((SecretString::from("a"), Some(7200))) })
            .await;
        let first = first.map_err(|e| e.to_string());
        assert_eq!(first.as_ref().map(|t| t.value.expose_secret()), Ok("a"));
        tokio::time::advance(Duration::from_secs(7200 - 301)).await;
        assert!(cache.fresh().is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(cache.fresh().is_none(), "due for refresh inside the margin");
        let second = cache
            .get(|| async { Ok((SecretString::from("b"), Some(7200))) })
            .await;
        let second = second.map_err(|e| e.to_string());
        assert_eq!(second.as_ref().map(|t| t.value.expose_secret()), Ok("b"));
        // Invalidating the old token does not drop the new one.
        if let Ok(old) = &first {
            cache.invalidate(old);
        }
        assert!(cache.fresh().is_some());
        if let Ok(new) = &second {
            cache.invalidate(new);
        }
        assert!(cache.fresh().is_none());
    }
}
