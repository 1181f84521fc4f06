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

use crate::store::{now_ms, StoredToken, TokenStore};
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
    shared: Option<Shared>,
}

/// The shared store behind a cache, and this cache's key and lease identity there.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) key: String,
    pub(crate) holder: String,
    pub(crate) lease: Duration,
}

/// How often a client waiting for another's refresh looks in the store.
const POLL: Duration = Duration::from_millis(25);

impl TokenCache {
    /// A cache that refreshes `margin` before expiry.
    pub(crate) fn new(margin: Duration) -> Self {
        TokenCache {
            current: ArcSwapOption::empty(),
            refresh: tokio::sync::Mutex::new(()),
            margin,
            shared: None,
        }
    }

    /// A cache that shares its token through `shared`.
    pub(crate) fn shared(margin: Duration, shared: Shared) -> Self {
        TokenCache {
            shared: Some(shared),
            ..TokenCache::new(margin)
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
        let Some(shared) = &self.shared else {
            let (value, expires_in) = fetch().await?;
            return Ok(self.keep(value, now_ms() + lifetime(expires_in).as_millis() as i64));
        };
        let store_error = |e: crate::store::StoreError| Error::Store(e.to_string());
        loop {
            // Another client (or process) may have refreshed already.
            if let Some(t) = shared.store.get(&shared.key).await.map_err(store_error)? {
                if t.expires_at_ms - self.margin.as_millis() as i64 > now_ms() {
                    return Ok(self.keep(t.value, t.expires_at_ms));
                }
            }
            if shared
                .store
                .try_lease(&shared.key, &shared.holder, shared.lease)
                .await
                .map_err(store_error)?
            {
                let kept = match fetch().await {
                    Ok((value, expires_in)) => {
                        let stored = StoredToken {
                            value,
                            expires_at_ms: now_ms() + lifetime(expires_in).as_millis() as i64,
                        };
                        // Compare-and-set: a newer token from elsewhere is not overwritten.
                        let put = shared
                            .store
                            .put_if_newer(&shared.key, &stored)
                            .await
                            .map_err(store_error);
                        put.map(|_| self.keep(stored.value, stored.expires_at_ms))
                    }
                    Err(e) => Err(e),
                };
                let _ = shared.store.release(&shared.key, &shared.holder).await;
                return kept;
            }
            // Someone else holds the lease: wait for its token, or for its lease to lapse.
            tokio::time::sleep(POLL).await;
        }
    }

    /// Caches a token expiring at `expires_at_ms` locally.
    fn keep(&self, value: SecretString, expires_at_ms: i64) -> Arc<Cached> {
        let remaining =
            Duration::from_millis((expires_at_ms - now_ms()).max(0) as u64).min(MAX_LIFETIME);
        // Refresh a margin before expiry, but never sooner than half the lifetime.
        let early = self.margin.min(remaining / 2);
        let cached = Arc::new(Cached {
            value,
            refresh_at: Instant::now() + remaining - early,
        });
        self.current.store(Some(Arc::clone(&cached)));
        cached
    }

    /// Forgets `used` here and in the shared store (DingTalk rejected it).
    pub(crate) async fn reject(&self, used: &Arc<Cached>) {
        self.invalidate(used);
        if let Some(shared) = &self.shared {
            if let Err(e) = shared.store.remove_if(&shared.key, &used.value).await {
                tracing::warn!(error = %e, "could not drop a rejected token from the store");
            }
        }
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
