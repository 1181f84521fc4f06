//! A bulk job against a stand-in that enforces a per-second quota the way DingTalk's gateway
//! does: without the client's limiter it is throttled, with it every call gets through.

use dingtalk::prelude::*;
use std::time::{Duration, Instant};

use dingtalk::{RateLimit, RetryPolicy};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::StandIn;

const QUOTA: u32 = 100;

async fn bulk(client: &dingtalk::Client, calls: usize) -> usize {
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.department().list_sub_ids(1).await.is_ok() })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap_or(false));
    }
    ok
}

async fn client(standin: &StandIn, limit: Option<RateLimit>) -> dingtalk::Client {
    let mut b = dingtalk::client()
        .app_key("k", "s")
        .base_url(standin.base_url())
        .retry(RetryPolicy::none());
    if let Some(limit) = limit {
        b = b.rate_limit(limit);
    }
    b.build().expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_keeps_a_bulk_run_inside_the_quota() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| b.quota_per_second = Some(QUOTA as usize));

    // Without the limiter a burst of 300 calls is throttled.
    let unlimited = client(&standin, None).await;
    let ok = bulk(&unlimited, 300).await;
    assert!(
        standin.throttled() > 0 && ok < 300,
        "expected throttling without a limiter ({ok} ok)"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await; // let the quota window empty

    // With it, every call gets through.
    let throttled_before = standin.throttled();
    let limited = client(
        &standin,
        Some(RateLimit {
            per_second: Some(QUOTA),
            per_minute: None,
        }),
    )
    .await;
    let calls = 300;
    let started = Instant::now();
    let ok = bulk(&limited, calls).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(
        standin.throttled(),
        throttled_before,
        "no call was throttled"
    );
    assert_eq!(ok, calls);
    // Quota utilisation, for the record: the run spans `elapsed` seconds plus the window its
    // last calls open, so it could at most have made QUOTA × (elapsed + 1) calls.
    let utilisation = 100.0 * calls as f64 / ((elapsed + 1.0) * f64::from(QUOTA));
    println!("bulk run: {calls} calls in {elapsed:.2} s, {utilisation:.0}% of the {QUOTA}/s quota, none throttled");
}

#[tokio::test]
async fn a_signed_call_is_signed_after_the_limiter_lets_it_go() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .sns_app("dingoasnsapp", dingtalk_tests::standin::SNS_SECRET)
        .base_url(standin.base_url())
        .rate_limit(RateLimit {
            per_second: Some(1),
            per_minute: None,
        })
        .build()
        .expect("client");
    for _ in 0..2 {
        client
            .sns()
            .get_user_info_by_code("code")
            .await
            .expect("signed call");
    }
    // The second call waited about a second for the window; its timestamp says when it left,
    // not when it was queued, so DingTalk never sees a stale signature.
    let stamps: Vec<i64> = standin
        .seen()
        .iter()
        .filter_map(|s| s.query.get("timestamp")?.parse().ok())
        .collect();
    assert_eq!(stamps.len(), 2);
    assert!(stamps[1] - stamps[0] >= 900, "{stamps:?}");
    assert!(standin.seen().iter().all(|s| s.violations.is_empty()));
}

/// A shared limit store that answers every call with an error after `delay`, counting calls.
#[derive(Debug, Default)]
struct SickStore {
    delay: Duration,
    calls: std::sync::atomic::AtomicUsize,
}

impl dingtalk::LimitStore for SickStore {
    fn try_acquire<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a [dingtalk::runtime::limit::WindowLimit],
        _: Duration,
    ) -> dingtalk::runtime::store::StoreFuture<'a, Option<Duration>> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            Err(dingtalk::runtime::store::StoreError(
                "redis: IoError".into(),
            ))
        })
    }
    fn complete<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: &'a [dingtalk::runtime::limit::WindowLimit],
    ) -> dingtalk::runtime::store::StoreFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_failing_limit_store_trips_the_breaker_instead_of_queueing_calls() {
    for delay in [Duration::from_millis(500), Duration::ZERO] {
        let standin = StandIn::start(&load_spec()).await.expect("bind");
        let store = std::sync::Arc::new(SickStore {
            delay,
            ..Default::default()
        });
        let client = dingtalk::client()
            .app_key("k", "s")
            .base_url(standin.base_url())
            .rate_limit(RateLimit::published())
            .rate_limit_store(
                std::sync::Arc::clone(&store) as std::sync::Arc<dyn dingtalk::LimitStore>
            )
            .build()
            .expect("client");
        client.access_token().await.expect("token first");
        let started = Instant::now();
        let ok = tokio::time::timeout(Duration::from_secs(5), bulk(&client, 4))
            .await
            .expect("the calls do not queue behind the store");
        assert_eq!(ok, 4, "{delay:?}");
        eprintln!(
            "store failing after {delay:?}: 4 calls in {:?}",
            started.elapsed()
        );
        assert_eq!(
            store.calls.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "{delay:?}: asked once, then the breaker is open"
        );
    }
}
