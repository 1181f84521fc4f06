//! The Redis token store against a real `redis-server` that this test starts on a free port
//! (`bash scripts/test` installs it where it is missing): instances in separate tasks share one
//! token with one refresh, a dead lease holder is taken over, a stale write is rejected; a fleet
//! shares one rate-limit quota and an ISV suite ticket.

use dingtalk::prelude::*;
use std::sync::Arc;
use std::time::Duration;

use dingtalk::runtime::limit::WindowLimit;
use dingtalk::runtime::store::StoredToken;
use dingtalk::{LimitStore, RateLimit, RedisStore, RetryPolicy, SecretString, TokenStore};
use dingtalk_tests::load_spec;
use dingtalk_tests::redis_server::RedisServer;
use dingtalk_tests::standin::StandIn;
use dingtalk_tests::store_scenarios;

async fn redis() -> (RedisServer, RedisStore) {
    RedisServer::start().await.unwrap_or_else(|e| panic!("{e}"))
}

fn client(standin: &StandIn, store: &RedisStore) -> dingtalk::Client {
    store_scenarios::client(standin, &(Arc::new(store.clone()) as Arc<dyn TokenStore>))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_in_separate_tasks_share_one_token_with_one_refresh() {
    let (_redis, store) = redis().await;
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| b.rotate_tokens = true);
    // Each task is its own instance: its own client, its own local cache and connection.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client(&standin, &store);
            tokio::spawn(async move {
                for _ in 0..5 {
                    c.department().list_sub_ids(1).await?;
                }
                Ok::<_, dingtalk::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("calls");
    }
    assert_eq!(
        standin.token_requests(),
        1,
        "one refresh for the whole fleet"
    );
    assert_eq!(standin.business_requests(), 40);
}

#[tokio::test]
async fn a_lease_whose_holder_died_is_taken_over() {
    let (_redis, store) = redis().await;
    store_scenarios::a_dead_lease_holder_is_taken_over(Arc::new(store)).await;
}

#[tokio::test]
async fn compare_and_set_rejects_the_stale_write() {
    let (_redis, store) = redis().await;
    let token = |v: &str, e: i64| StoredToken {
        value: SecretString::from(v),
        expires_at_ms: e,
    };
    let later = dingtalk_tests::now_ms() + 7_200_000;
    assert_eq!(
        store.put_if_newer("k", &token("new", later)).await,
        Ok(true)
    );
    assert_eq!(
        store.put_if_newer("k", &token("old", later - 1000)).await,
        Ok(false)
    );
    assert_eq!(
        store.get("k").await.ok().flatten().map(|t| t.value),
        Some(SecretString::from("new"))
    );
    // A rejected token goes only if it is still the stored one.
    store
        .remove_if("k", &SecretString::from("old"))
        .await
        .expect("remove");
    assert!(store.get("k").await.ok().flatten().is_some());
    store
        .remove_if("k", &SecretString::from("new"))
        .await
        .expect("remove");
    assert_eq!(store.get("k").await, Ok(None));
    // Leases: exclusive, released only by their holder.
    assert_eq!(
        store.try_lease("k", "a", Duration::from_secs(5)).await,
        Ok(true)
    );
    assert_eq!(
        store.try_lease("k", "b", Duration::from_secs(5)).await,
        Ok(false)
    );
    store.release("k", "b").await.expect("release");
    assert_eq!(
        store.try_lease("k", "b", Duration::from_secs(5)).await,
        Ok(false)
    );
    store.release("k", "a").await.expect("release");
    assert_eq!(
        store.try_lease("k", "b", Duration::from_secs(5)).await,
        Ok(true)
    );
}

#[tokio::test]
async fn shared_windows_hold_slots_until_a_window_after_completion() {
    let (_redis, store) = redis().await;
    let windows = [WindowLimit {
        capacity: 2,
        length: Duration::from_millis(300),
    }];
    let hold = Duration::from_secs(5);
    let acquire = |call: &'static str| store.try_acquire("w", call, &windows, hold);
    assert_eq!(acquire("a").await, Ok(None));
    assert_eq!(acquire("b").await, Ok(None));
    // Both slots are held by calls in flight: the wait is their worst case.
    let wait = acquire("c").await.expect("redis").expect("full");
    assert!(wait > Duration::from_secs(4), "{wait:?}");
    store.complete("w", "a", &windows).await.expect("complete");
    // `a` completed: its slot frees one window after that.
    let wait = acquire("c").await.expect("redis").expect("still full");
    assert!(wait <= Duration::from_millis(300), "{wait:?}");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(acquire("c").await, Ok(None));
    // A call whose instance died never completes: its slot lapses after `hold`.
    let short = Duration::from_millis(200);
    assert_eq!(store.try_acquire("d", "x", &windows, short).await, Ok(None));
    assert_eq!(store.try_acquire("d", "y", &windows, short).await, Ok(None));
    assert!(matches!(
        store.try_acquire("d", "z", &windows, short).await,
        Ok(Some(_))
    ));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(store.try_acquire("d", "z", &windows, short).await, Ok(None));
}

/// Runs `per_instance` calls on each of `instances` clients at once; returns how many succeeded.
async fn fleet_run(instances: &[dingtalk::Client], per_instance: usize) -> usize {
    let tasks: Vec<_> = instances
        .iter()
        .flat_map(|c| (0..per_instance).map(move |_| c.clone()))
        .map(|c| tokio::spawn(async move { c.department().list_sub_ids(1).await.is_ok() }))
        .collect();
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap_or(false));
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_shares_one_quota_through_redis() {
    const QUOTA: u32 = 50;
    const INSTANCES: usize = 4;
    const PER_INSTANCE: usize = 50;
    let (_redis, store) = redis().await;
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| b.quota_per_second = Some(QUOTA as usize));
    let limit = RateLimit {
        per_second: Some(QUOTA),
        per_minute: None,
    };
    let fleet = |shared: bool| -> Vec<dingtalk::Client> {
        (0..INSTANCES)
            .map(|_| {
                let b = dingtalk::client()
                    .app_key("dingkey", "secret")
                    .base_url(standin.base_url())
                    .retry(RetryPolicy::none())
                    .rate_limit(limit);
                let b = if shared {
                    b.rate_limit_store(Arc::new(store.clone()) as Arc<dyn LimitStore>)
                } else {
                    b
                };
                b.build().expect("client")
            })
            .collect()
    };

    // Each instance keeping the quota on its own: together they exceed it.
    let ok = fleet_run(&fleet(false), PER_INSTANCE).await;
    let throttled_alone = standin.throttled();
    assert!(
        throttled_alone > 0 && ok < INSTANCES * PER_INSTANCE,
        "four local limiters should overrun the quota ({ok} ok)"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // Sharing the windows in Redis: nothing is throttled.
    let calls = INSTANCES * PER_INSTANCE;
    let started = std::time::Instant::now();
    let ok = fleet_run(&fleet(true), PER_INSTANCE).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(standin.throttled(), throttled_alone, "no call throttled");
    assert_eq!(ok, calls);
    let utilisation = 100.0 * calls as f64 / ((elapsed + 1.0) * f64::from(QUOTA));
    println!(
        "fleet run: {INSTANCES} instances, {calls} calls in {elapsed:.2} s, \
         {utilisation:.0}% of the {QUOTA}/s quota, none throttled \
         (separate limiters: {throttled_alone} throttled)"
    );
}

#[tokio::test]
async fn an_isv_ticket_pushed_to_one_instance_serves_the_fleet() {
    let (_redis, store) = redis().await;
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| {
        b.rotate_tokens = true;
        b.suite_ticket = Some("fleet-ticket".into());
    });
    let instance = || {
        dingtalk::client()
            .suite("suite-key", dingtalk_tests::standin::SUITE_SECRET)
            .base_url(standin.base_url())
            .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
            .build()
            .expect("client")
    };
    let receiver = instance();
    assert_eq!(
        receiver
            .set_suite_ticket("fleet-ticket", dingtalk_tests::now_ms())
            .await
            .map_err(|e| e.to_string()),
        Ok(true)
    );
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let c = instance();
            tokio::spawn(async move {
                let corp = c.corp("dingA")?;
                corp.department().list_sub_ids(1).await?;
                c.auth().get_permanent_code("tmp").await?;
                Ok::<_, dingtalk::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("calls");
    }
    assert_eq!(
        standin.token_requests_for("/service/get_corp_token", Some("dingA")),
        1
    );
    assert_eq!(
        standin.token_requests_for("/service/get_suite_token", None),
        1
    );
}

#[tokio::test]
async fn a_corrupt_or_foreign_value_under_a_token_key_counts_as_absent() {
    for (what, command) in [
        (
            "not JSON",
            vec!["SET", store_scenarios::APP_TOKEN_KEY, "garbage{"],
        ),
        (
            "JSON, not a token",
            vec!["SET", store_scenarios::APP_TOKEN_KEY, r#"{"x":1}"#],
        ),
        (
            "another type",
            vec!["HSET", store_scenarios::APP_TOKEN_KEY, "f", "v"],
        ),
    ] {
        let (redis, store) = redis().await;
        redis.cli(&command);
        let standin = StandIn::start(&load_spec()).await.expect("bind");
        client(&standin, &store)
            .department()
            .list_sub_ids(1)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(standin.token_requests(), 1, "{what}");
        let stored = store.get(store_scenarios::APP_TOKEN_KEY).await;
        assert!(
            matches!(&stored, Ok(Some(t)) if t.expires_at_ms > dingtalk_tests::now_ms()),
            "{what}: the fresh token replaced it: {stored:?}"
        );
    }
}

#[tokio::test]
async fn tls_redis_shares_tokens_like_plain_redis() {
    let (_redis, store) = RedisServer::start_tls()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    for _ in 0..2 {
        client(&standin, &store)
            .department()
            .list_sub_ids(1)
            .await
            .expect("call");
    }
    assert_eq!(
        standin.token_requests(),
        1,
        "the second instance used the stored token"
    );
    // Without a CA it trusts, a rediss:// server is refused.
    let untrusted = tokio::time::timeout(Duration::from_secs(2), async {
        match RedisStore::connect(&_redis.url).await {
            Err(_) => true,
            Ok(s) => s.get("k").await.is_err(),
        }
    });
    // Refused, or still retrying the handshake when the deadline passes.
    let refused = untrusted.await.unwrap_or(true);
    assert!(refused, "a certificate from an unknown CA is not trusted");
}
