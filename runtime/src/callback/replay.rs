//! A replay guard: remembers the pushes seen within the replay window, so a captured push sent
//! again (its signature still valid while its timestamp is in the window) is not handled twice.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::store::{StoreError, TokenStore};

/// Pushes seen, by signature: in this process (bounded), or in a shared [`TokenStore`] (a
/// `RedisStore`, so every instance behind the callback URL sees the others' pushes).
#[derive(Debug)]
pub struct ReplayGuard {
    seen: Seen,
}

#[derive(Debug)]
enum Seen {
    Memory(Mutex<Recent>),
    Store(Arc<dyn TokenStore>),
}

/// The signatures seen lately, oldest first; at most `capacity`.
#[derive(Debug)]
struct Recent {
    order: VecDeque<(Instant, String)>,
    set: HashSet<String>,
    capacity: usize,
}

/// What a stored sighting is marked with.
const SEEN: &str = "seen";

impl ReplayGuard {
    /// A guard in this process's memory that remembers at most `capacity` pushes (the oldest are
    /// forgotten first, and every push once its window has passed).
    pub fn in_memory(capacity: usize) -> Self {
        ReplayGuard {
            seen: Seen::Memory(Mutex::new(Recent {
                order: VecDeque::new(),
                set: HashSet::new(),
                capacity: capacity.max(1),
            })),
        }
    }

    /// A guard whose sightings live in `store` under `dingtalk:callback_seen:<signature>`, each
    /// expiring with its window (a `SET NX PX` in Redis).
    pub fn in_store(store: Arc<dyn TokenStore>) -> Self {
        ReplayGuard {
            seen: Seen::Store(store),
        }
    }

    fn key(signature: &str) -> String {
        format!("dingtalk:callback_seen:{signature}")
    }

    /// Marks the push with `signature` as seen for `window`; `false` when it was seen within
    /// its window already (a replay).
    pub async fn first_sighting(
        &self,
        signature: &str,
        window: Duration,
    ) -> Result<bool, StoreError> {
        match &self.seen {
            Seen::Store(store) => store.try_lease(&Self::key(signature), SEEN, window).await,
            Seen::Memory(recent) => {
                let mut r = recent.lock().unwrap_or_else(|p| p.into_inner());
                let now = Instant::now();
                while r.order.front().is_some_and(|(until, _)| *until <= now) {
                    if let Some((_, old)) = r.order.pop_front() {
                        r.set.remove(&old);
                    }
                }
                if r.set.contains(signature) {
                    return Ok(false);
                }
                if r.order.len() >= r.capacity {
                    if let Some((_, old)) = r.order.pop_front() {
                        r.set.remove(&old);
                    }
                }
                r.set.insert(signature.to_string());
                r.order.push_back((now + window, signature.to_string()));
                Ok(true)
            }
        }
    }

    /// Forgets the push with `signature` (it was not handled: DingTalk's retry must go through).
    pub async fn forget(&self, signature: &str) -> Result<(), StoreError> {
        match &self.seen {
            Seen::Store(store) => store.release(&Self::key(signature), SEEN).await,
            Seen::Memory(recent) => {
                let mut r = recent.lock().unwrap_or_else(|p| p.into_inner());
                if r.set.remove(signature) {
                    r.order.retain(|(_, s)| s != signature);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn remembers_within_the_window_and_within_its_capacity() {
        let guard = ReplayGuard::in_memory(2);
        let w = Duration::from_secs(60);
        assert_eq!(guard.first_sighting("a", w).await, Ok(true));
        assert_eq!(guard.first_sighting("a", w).await, Ok(false), "a replay");
        assert_eq!(guard.first_sighting("b", w).await, Ok(true));
        // Full: the oldest goes.
        assert_eq!(guard.first_sighting("c", w).await, Ok(true));
        assert_eq!(guard.first_sighting("b", w).await, Ok(false));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert_eq!(
            guard.first_sighting("b", w).await,
            Ok(true),
            "its window passed"
        );
        assert_eq!(guard.forget("b").await, Ok(()));
        assert_eq!(guard.first_sighting("b", w).await, Ok(true), "forgotten");
    }

    #[tokio::test]
    async fn a_store_guard_is_shared_by_every_instance() {
        let store: Arc<dyn TokenStore> = Arc::new(crate::MemoryStore::new());
        let (a, b) = (
            ReplayGuard::in_store(Arc::clone(&store)),
            ReplayGuard::in_store(store),
        );
        let w = Duration::from_secs(60);
        assert_eq!(a.first_sighting("sig", w).await, Ok(true));
        assert_eq!(b.first_sighting("sig", w).await, Ok(false));
        assert_eq!(a.forget("sig").await, Ok(()));
        assert_eq!(b.first_sighting("sig", w).await, Ok(true));
    }
}
