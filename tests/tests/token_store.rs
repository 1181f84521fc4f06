//! Tokens shared through a `TokenStore` between client instances (as between the processes of
//! a fleet): one refresh per expiry for all of them, a dead lease holder taken over, and a
//! token DingTalk rejected replaced once for everyone.

use dingtalk::prelude::*;
use std::sync::Arc;

use dingtalk::{MemoryStore, TokenStore};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::StandIn;
use dingtalk_tests::store_scenarios;

fn client(standin: &StandIn, store: &Arc<MemoryStore>) -> dingtalk::Client {
    store_scenarios::client(standin, &(Arc::clone(store) as Arc<dyn TokenStore>))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_one_token_and_one_refresh() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| b.rotate_tokens = true);
    let store = Arc::new(MemoryStore::new());
    let (a, b) = (client(&standin, &store), client(&standin, &store));
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let c = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(async move { c.department().list_sub_ids(1).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("call");
    }
    assert_eq!(
        standin.token_requests(),
        1,
        "one refresh for both instances"
    );
    assert!(standin.tokens_used().iter().all(|t| t == "tok-1"));
}

#[tokio::test]
async fn a_lease_whose_holder_died_is_taken_over() {
    store_scenarios::a_dead_lease_holder_is_taken_over(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn a_rejected_token_is_replaced_once_for_every_instance() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| b.rotate_tokens = true);
    let store = Arc::new(MemoryStore::new());
    let (a, b) = (client(&standin, &store), client(&standin, &store));
    a.department().list_sub_ids(1).await.expect("a");
    b.department().list_sub_ids(1).await.expect("b"); // from the store: still one token request
    assert_eq!(standin.token_requests(), 1);
    standin.revoke_tokens();
    a.department().list_sub_ids(1).await.expect("a refreshes");
    b.department()
        .list_sub_ids(1)
        .await
        .expect("b picks a's new token up from the store");
    assert_eq!(standin.token_requests(), 2);
    assert_eq!(
        standin.tokens_used(),
        ["tok-1", "tok-1", "tok-1", "tok-2", "tok-1", "tok-2"]
    );
}

#[tokio::test]
async fn apps_sharing_a_store_keep_their_own_tokens() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let store = Arc::new(MemoryStore::new());
    for key in ["app-a", "app-b"] {
        let c = dingtalk::client()
            .app_key(key, "secret")
            .base_url(standin.base_url())
            .token_store(Arc::clone(&store) as Arc<dyn TokenStore>)
            .build()
            .expect("client");
        c.department().list_sub_ids(1).await.expect("call");
    }
    for key in ["dingtalk:app_token:app-a", "dingtalk:app_token:app-b"] {
        assert!(store.get(key).await.ok().flatten().is_some(), "{key}");
    }
    assert_eq!(standin.token_requests(), 2);
}

#[tokio::test]
async fn two_corp_secret_apps_of_one_organisation_keep_their_own_tokens() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let store = Arc::new(MemoryStore::new());
    for secret in ["secret-of-app-one", "secret-of-app-two"] {
        let c = dingtalk::client()
            .corp_secret("dingcorp", secret)
            .base_url(standin.base_url())
            .token_store(Arc::clone(&store) as Arc<dyn TokenStore>)
            .build()
            .expect("client");
        c.department().list_sub_ids(1).await.expect("call");
    }
    // Each app asked for its own token: the second did not take the first's from the store.
    let secrets: Vec<Option<String>> = standin
        .seen()
        .iter()
        .filter(|s| s.path == "/gettoken")
        .map(|s| s.query.get("corpsecret").cloned())
        .collect();
    assert_eq!(
        secrets,
        [
            Some("secret-of-app-one".to_string()),
            Some("secret-of-app-two".to_string())
        ]
    );
    let one = dingtalk::Credentials::CorpSecret {
        corp_id: "dingcorp".into(),
        corp_secret: "secret-of-app-one".into(),
    };
    let key = format!("dingtalk:app_token:{}", one.store_id());
    assert!(key.starts_with("dingtalk:app_token:dingcorp:"), "{key}");
    assert!(
        !key.contains("secret-of"),
        "the key holds a digest, not the secret"
    );
    assert!(store.get(&key).await.ok().flatten().is_some(), "{key}");
}
