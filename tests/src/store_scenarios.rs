//! Scenarios every `TokenStore` must pass, run against each store (`MemoryStore` in
//! `tests/token_store.rs`, `RedisStore` in `tests/redis_store.rs`).

use dingtalk::prelude::*;
use std::sync::Arc;
use std::time::Duration;

use dingtalk::{Client, TokenStore};

use crate::standin::StandIn;

/// The key of the app token [`client`]s use.
pub const APP_TOKEN_KEY: &str = "dingtalk:app_token:dingkey";

/// A client of app `dingkey` on the stand-in, sharing tokens through `store`.
pub fn client(standin: &StandIn, store: &Arc<dyn TokenStore>) -> Client {
    match dingtalk::client()
        .app_key("dingkey", "secret")
        .base_url(standin.base_url())
        .token_store(Arc::clone(store))
        .build()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot build the client: {e}"),
    }
}

/// An instance took the refresh lease and died before storing a token: the lease lapses, the
/// next client refreshes (one token request) and shares the token through the store.
pub async fn a_dead_lease_holder_is_taken_over(store: Arc<dyn TokenStore>) {
    let standin = match StandIn::start(&crate::load_spec()).await {
        Ok(s) => s,
        Err(e) => panic!("cannot bind the stand-in: {e}"),
    };
    let lease = store
        .try_lease(APP_TOKEN_KEY, "dead-instance", Duration::from_millis(300))
        .await;
    assert_eq!(lease, Ok(true));
    if let Err(e) = client(&standin, &store).department().list_sub_ids(1).await {
        panic!("the lease should lapse and this client refresh: {e}");
    }
    assert_eq!(standin.token_requests(), 1);
    let stored = store.get(APP_TOKEN_KEY).await.ok().flatten();
    let now = crate::now_ms();
    assert!(
        stored.is_some_and(|t| t.expires_at_ms > now),
        "the fresh token is shared"
    );
}
