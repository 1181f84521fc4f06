//! Where tokens live when several clients (or several processes) share them.
//!
//! A client always keeps its own in-memory copy for lock-free reads. With a [`TokenStore`]
//! configured, a client that needs a token first looks in the store; only the holder of the
//! store's refresh lease asks DingTalk, and the others wait for its token. A lease expires on
//! its own, so a holder that dies does not block the rest. Writes are compare-and-set on the
//! expiry, so an older token never overwrites a newer one.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::SecretString;

/// A stored token and when it expires (ms since the Unix epoch: stores are shared across hosts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// The token.
    pub value: SecretString,
    /// Expiry, ms since the epoch.
    pub expires_at_ms: i64,
}

/// A store failure (the store is unreachable, or answered something unreadable).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("token store: {0}")]
pub struct StoreError(pub String);

/// The future every store method returns.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// Shared token storage. Keys name the app (`dingtalk:app_token:<appkey>`), so many apps can
/// share one store.
pub trait TokenStore: Send + Sync + std::fmt::Debug + 'static {
    /// The token under `key`, if any.
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<StoredToken>>;
    /// Stores `token` unless one expiring at the same time or later is already there; says
    /// whether it was stored.
    fn put_if_newer<'a>(&'a self, key: &'a str, token: &'a StoredToken) -> StoreFuture<'a, bool>;
    /// Removes the token under `key` if it is still `value` (DingTalk rejected it).
    fn remove_if<'a>(&'a self, key: &'a str, value: &'a SecretString) -> StoreFuture<'a, ()>;
    /// Takes the refresh lease of `key` for `ttl` if nobody holds it; says whether it did.
    fn try_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool>;
    /// Gives the lease back if `holder` still holds it.
    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()>;
    /// Extends the lease of `key` to `ttl` from now if `holder` still holds it (a refresh about
    /// to retry). The default does nothing: the lease then lapses at its first expiry, and
    /// another instance may fetch meanwhile.
    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        let _ = (key, holder, ttl);
        Box::pin(async { Ok(()) })
    }
}

/// A store in this process's memory: shares one token between the clients of one process.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, StoredToken>>,
    leases: Mutex<HashMap<String, (String, Instant)>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TokenStore for MemoryStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<StoredToken>> {
        Box::pin(async move { Ok(lock(&self.tokens).get(key).cloned()) })
    }

    fn put_if_newer<'a>(&'a self, key: &'a str, token: &'a StoredToken) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut tokens = lock(&self.tokens);
            if tokens
                .get(key)
                .is_some_and(|t| t.expires_at_ms >= token.expires_at_ms)
            {
                return Ok(false);
            }
            tokens.insert(key.to_string(), token.clone());
            Ok(true)
        })
    }

    fn remove_if<'a>(&'a self, key: &'a str, value: &'a SecretString) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut tokens = lock(&self.tokens);
            if tokens.get(key).is_some_and(|t| &t.value == value) {
                tokens.remove(key);
            }
            Ok(())
        })
    }

    fn try_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut leases = lock(&self.leases);
            let now = Instant::now();
            if leases.get(key).is_some_and(|(_, until)| *until > now) {
                return Ok(false);
            }
            leases.insert(key.to_string(), (holder.to_string(), now + ttl));
            Ok(true)
        })
    }

    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut leases = lock(&self.leases);
            if leases.get(key).is_some_and(|(h, _)| h == holder) {
                leases.remove(key);
            }
            Ok(())
        })
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut leases = lock(&self.leases);
            let now = Instant::now();
            if let Some((h, until)) = leases.get_mut(key) {
                if h == holder && *until > now {
                    *until = now + ttl;
                }
            }
            Ok(())
        })
    }
}

/// 16 random alphanumerics (from a CSPRNG): lease holders, calls in a shared window, JSAPI
/// nonces.
pub fn random_id() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// Milliseconds since the epoch, the store's clock.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(v: &str, exp: i64) -> StoredToken {
        StoredToken {
            value: SecretString::from(v),
            expires_at_ms: exp,
        }
    }

    #[tokio::test]
    async fn compare_and_set_rejects_the_stale_write() {
        let store = MemoryStore::new();
        assert_eq!(
            store.put_if_newer("k", &token("new", 2_000)).await,
            Ok(true)
        );
        assert_eq!(
            store.put_if_newer("k", &token("old", 1_000)).await,
            Ok(false)
        );
        assert_eq!(
            store.get("k").await.ok().flatten().map(|t| t.value),
            Some(SecretString::from("new"))
        );
        assert_eq!(
            store.put_if_newer("k", &token("newer", 3_000)).await,
            Ok(true)
        );
    }

    #[tokio::test]
    async fn leases_exclude_others_until_released_or_expired() {
        let store = MemoryStore::new();
        assert_eq!(
            store.try_lease("k", "a", Duration::from_millis(50)).await,
            Ok(true)
        );
        assert_eq!(
            store.try_lease("k", "b", Duration::from_millis(50)).await,
            Ok(false)
        );
        store.release("k", "b").await.ok(); // not b's to give back
        assert_eq!(
            store.try_lease("k", "b", Duration::from_millis(50)).await,
            Ok(false)
        );
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(
            store.try_lease("k", "b", Duration::from_millis(50)).await,
            Ok(true),
            "a's lease expired"
        );
    }
}
