//! Handling each message once: a claim per `messageId` in a store shared by every connection
//! (and, with Redis, by every instance), and the ACK kept to answer redeliveries.
//!
//! DingTalk delivers at least once: a message is redelivered when its ACK is late or lost, and
//! sometimes even after a correct ACK. A claim is an atomic set-if-absent, so of two
//! connections (or two instances) that get the same message only one runs the handler; the
//! other waits for the first one's ACK and sends it too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::frame::Ack;
use crate::store::StoreFuture;

/// What a claim found.
#[derive(Clone, Debug, PartialEq)]
pub enum Claim {
    /// Nobody had the message: the caller handles it and then calls
    /// [`DedupStore::complete`] (or [`DedupStore::release`] if it could not).
    Claimed,
    /// Someone is handling it right now (a lease that has not expired).
    Busy,
    /// It was handled: this is the ACK it got.
    Done(Ack),
}

/// An atomic claim per message and the ACKs of handled messages. Keys name the app
/// (`dingtalk:stream:<clientId>:<messageId>`), so apps may share a store.
pub trait DedupStore: Send + Sync + std::fmt::Debug + 'static {
    /// Claims `key` for `lease` if nobody holds it and it was not handled; otherwise says who
    /// has it. Must be atomic across everyone sharing the store.
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim>;
    /// Records that `key` was handled with `ack`, kept for `keep` to answer redeliveries.
    fn complete<'a>(&'a self, key: &'a str, ack: &'a Ack, keep: Duration) -> StoreFuture<'a, ()>;
    /// Drops an unfinished claim on `key` (the handler failed): the next delivery handles it
    /// again. A finished one stays.
    fn release<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()>;
}

#[derive(Debug)]
enum Entry {
    Pending,
    Done(Ack),
}

/// The in-process [`DedupStore`]: enough for one instance, whatever its number of
/// connections. Expired entries are swept as new ones arrive.
#[derive(Debug, Default)]
pub struct MemoryDedup {
    entries: Mutex<MemoryEntries>,
}

#[derive(Debug, Default)]
struct MemoryEntries {
    map: HashMap<String, (Entry, Instant)>,
    inserts_since_sweep: usize,
}

/// Inserts between two sweeps of expired entries.
const SWEEP_EVERY: usize = 1024;

impl MemoryDedup {
    /// An empty store.
    pub fn new() -> MemoryDedup {
        MemoryDedup::default()
    }

    /// Entries held now (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the store holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryEntries> {
        // A panic while holding the lock leaves plain data behind: keep using it.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MemoryEntries {
    fn insert(&mut self, key: &str, entry: Entry, ttl: Duration) {
        let now = Instant::now();
        self.inserts_since_sweep = self.inserts_since_sweep.saturating_add(1);
        if self.inserts_since_sweep >= SWEEP_EVERY {
            self.inserts_since_sweep = 0;
            self.map.retain(|_, (_, until)| *until > now);
        }
        let until = now.checked_add(ttl).unwrap_or(now);
        self.map.insert(key.to_owned(), (entry, until));
    }
}

impl DedupStore for MemoryDedup {
    fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
        let mut entries = self.lock();
        let now = Instant::now();
        let claim = match entries.map.get(key) {
            Some((Entry::Done(ack), until)) if *until > now => Claim::Done(ack.clone()),
            Some((Entry::Pending, until)) if *until > now => Claim::Busy,
            _ => {
                entries.insert(key, Entry::Pending, lease);
                Claim::Claimed
            }
        };
        Box::pin(async move { Ok(claim) })
    }

    fn complete<'a>(&'a self, key: &'a str, ack: &'a Ack, keep: Duration) -> StoreFuture<'a, ()> {
        self.lock().insert(key, Entry::Done(ack.clone()), keep);
        Box::pin(async { Ok(()) })
    }

    fn release<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        let mut entries = self.lock();
        if matches!(entries.map.get(key), Some((Entry::Pending, _))) {
            entries.map.remove(key);
        }
        Box::pin(async { Ok(()) })
    }
}

#[cfg(feature = "redis")]
mod redis_dedup {
    use super::*;
    use crate::store::StoreError;
    use crate::RedisStore;

    /// `SET key P NX PX lease`, else the value: atomic, so one of two instances claims.
    const CLAIM: &str = r#"
if redis.call('SET', KEYS[1], 'P', 'NX', 'PX', ARGV[1]) then return '' end
local v = redis.call('GET', KEYS[1])
if v == false then return '' end
return v
"#;

    /// `DEL key` only while it is still a claim, not an ACK.
    const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == 'P' then redis.call('DEL', KEYS[1]) end
return 0
"#;

    fn err(e: redis::RedisError) -> StoreError {
        StoreError(format!("redis: {e}"))
    }

    fn ms(d: Duration) -> u64 {
        u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
    }

    /// With the `redis` feature: `SET NX PX` claims shared by a fleet of instances, and the
    /// ACKs kept as `A<json>`.
    impl DedupStore for RedisStore {
        fn claim<'a>(&'a self, key: &'a str, lease: Duration) -> StoreFuture<'a, Claim> {
            Box::pin(async move {
                let mut conn = self.connection();
                let v: String = redis::Script::new(CLAIM)
                    .key(key)
                    .arg(ms(lease))
                    .invoke_async(&mut conn)
                    .await
                    .map_err(err)?;
                Ok(match v.as_str() {
                    "" => Claim::Claimed,
                    "P" => Claim::Busy,
                    // An ACK this store wrote; anything else is another program's value: treat
                    // the message as in hand elsewhere until the key expires.
                    _ => match v.strip_prefix('A').map(serde_json::from_str::<Ack>) {
                        Some(Ok(ack)) => Claim::Done(ack),
                        _ => Claim::Busy,
                    },
                })
            })
        }

        fn complete<'a>(
            &'a self,
            key: &'a str,
            ack: &'a Ack,
            keep: Duration,
        ) -> StoreFuture<'a, ()> {
            Box::pin(async move {
                let mut conn = self.connection();
                let value = format!("A{}", ack.to_text());
                redis::cmd("SET")
                    .arg(key)
                    .arg(value)
                    .arg("PX")
                    .arg(ms(keep))
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(err)
            })
        }

        fn release<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
            Box::pin(async move {
                let mut conn = self.connection();
                redis::Script::new(RELEASE)
                    .key(key)
                    .invoke_async::<i64>(&mut conn)
                    .await
                    .map(|_| ())
                    .map_err(err)
            })
        }
    }
}
