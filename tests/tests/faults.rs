//! Fault scenarios against the stand-in taught to misbehave: for each, what the caller sees
//! and exactly how many requests the stand-in received. Retries follow the error's class, and
//! a call that may have reached DingTalk is repeated only when its endpoint is idempotent.

use dingtalk::prelude::*;
use std::time::Duration;

use dingtalk::{ErrorClass, RetryPolicy};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, StandIn};

/// Fast retries, so the scenarios run in milliseconds.
fn fast() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        rate_limit_delay: Duration::from_millis(5),
        budget: Duration::from_secs(5),
    }
}

async fn setup(policy: RetryPolicy, faults: Vec<Fault>) -> (StandIn, dingtalk::Client) {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    standin.configure(|b| b.fail_next.extend(faults));
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret")
        .base_url(standin.base_url())
        .timeout(Duration::from_millis(300))
        .retry(policy)
        .build()
        .expect("client");
    (standin, client)
}

#[tokio::test]
async fn busy_twice_then_success_on_an_idempotent_call() {
    let (standin, client) = setup(fast(), vec![Fault::errcode(-1), Fault::errcode(-1)]).await;
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("third attempt succeeds");
    assert_eq!(standin.business_requests(), 3);
}

#[tokio::test]
async fn busy_on_a_call_that_is_not_idempotent_is_not_repeated() {
    let (standin, client) = setup(fast(), vec![Fault::errcode(-1)]).await;
    let err = client
        .department()
        .create("研发部", 1)
        .await
        .expect_err("busy");
    assert_eq!((err.code(), err.class()), (Some(-1), ErrorClass::Busy));
    assert_eq!(
        standin.business_requests(),
        1,
        "a create must not be sent twice"
    );
}

#[tokio::test]
async fn server_errors_are_retried_up_to_the_attempt_limit() {
    for status in [500, 502, 503] {
        let faults = vec![Fault::Raw(status, "<html>error</html>".into()); 3];
        let (standin, client) = setup(fast(), faults).await;
        let err = client
            .department()
            .list_sub_ids(1)
            .await
            .expect_err("three failures");
        assert!(
            matches!(&err, dingtalk::Error::Http { status: s, .. } if *s == status),
            "{err:?}"
        );
        assert_eq!(standin.business_requests(), 3, "HTTP {status}");
    }
}

#[tokio::test]
async fn throttling_is_retried_even_for_a_call_that_is_not_idempotent() {
    for fault in [
        Fault::errcode(90018),
        Fault::errcode(90002),
        Fault::Raw(429, "slow down".into()),
    ] {
        let (standin, client) = setup(fast(), vec![fault.clone()]).await;
        client
            .department()
            .create("研发部", 1)
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(standin.business_requests(), 2, "{fault:?}");
    }
}

#[tokio::test]
async fn a_slow_answer_past_the_timeout_is_retried_when_idempotent_only() {
    let (standin, client) = setup(fast(), vec![Fault::Slow(Duration::from_millis(600))]).await;
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("second attempt");
    // The stand-in records the slow request when it finally answers.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(standin.business_requests(), 2);

    let (standin, client) = setup(fast(), vec![Fault::Slow(Duration::from_millis(600))]).await;
    let err = client
        .department()
        .create("研发部", 1)
        .await
        .expect_err("timeout");
    assert!(matches!(err, dingtalk::Error::Transport { .. }), "{err:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        standin.business_requests(),
        1,
        "the create may have happened: not repeated"
    );
}

#[tokio::test]
async fn a_connection_reset_mid_answer_is_retried_when_idempotent_only() {
    // The stand-in handled the call, then the connection broke while it answered.
    let (standin, client) = setup(fast(), vec![Fault::Reset]).await;
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("second attempt");
    assert_eq!(standin.business_requests(), 2);

    let (standin, client) = setup(fast(), vec![Fault::Reset]).await;
    let err = client
        .department()
        .create("研发部", 1)
        .await
        .expect_err("reset");
    assert!(matches!(err, dingtalk::Error::Transport { .. }), "{err:?}");
    assert_eq!(err.class(), dingtalk::ErrorClass::Busy);
    assert_eq!(
        standin.business_requests(),
        1,
        "the department may have been created: not repeated"
    );
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let (standin, client) = setup(RetryPolicy::none(), vec![Fault::errcode(-1)]).await;
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect_err("no retry");
    assert_eq!(standin.business_requests(), 1);
}

#[tokio::test]
async fn errors_that_retrying_cannot_fix_are_returned_at_once() {
    for code in [60011, 40035, 60121] {
        let (standin, client) = setup(fast(), vec![Fault::errcode(code)]).await;
        client
            .department()
            .list_sub_ids(1)
            .await
            .expect_err("permanent");
        assert_eq!(standin.business_requests(), 1, "errcode {code}");
    }
}

#[tokio::test]
async fn a_connection_refused_is_retried_and_then_reported() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let base = standin.base_url();
    drop(standin);
    let client = dingtalk::client()
        .app_key("k", "s")
        .base_url(base)
        .retry(fast())
        .build()
        .expect("client");
    let started = std::time::Instant::now();
    let err = client
        .department()
        .list_sub_ids(1)
        .await
        .expect_err("nobody listens");
    // The token request is the first to fail: typed as a token fetch, a connect failure.
    assert!(err.is_token_fetch(), "{err:?}");
    assert_eq!(
        err.transport_kind(),
        Some(dingtalk::TransportKind::Connect),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Busy);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn token_expiry_in_the_middle_of_a_bulk_run() {
    let (standin, client) = setup(fast(), Vec::new()).await;
    standin.configure(|b| b.rotate_tokens = true);
    for i in 0..50 {
        if i == 25 {
            standin.revoke_tokens(); // DingTalk expires the token mid-run
        }
        client
            .department()
            .list_sub_ids(1)
            .await
            .unwrap_or_else(|e| panic!("call {i}: {e}"));
    }
    assert_eq!(standin.token_requests(), 2);
    assert_eq!(
        standin.business_requests(),
        51,
        "50 calls and one retry with the fresh token"
    );
}

// ---- A failing token endpoint: one fetch, and its error, shared by every caller ----

/// `n` calls at once, spread over `clients`; their results and the longest call's duration.
async fn concurrent_calls(
    clients: &[dingtalk::Client],
    n: usize,
) -> (Vec<Result<Vec<i64>, dingtalk::Error>>, Duration) {
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let c = clients[i % clients.len()].clone();
            tokio::spawn(async move {
                let r = c.department().list_sub_ids(1).await;
                r.map(|ids| ids.dept_id_list)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task"));
    }
    (results, started.elapsed())
}

/// Clients of app `dingkey` on `standin` with a 200 ms timeout and fast retries: one, or
/// `instances` sharing one `MemoryStore`.
fn instances(standin: &StandIn, instances: usize, shared: bool) -> Vec<dingtalk::Client> {
    let store: std::sync::Arc<dyn dingtalk::TokenStore> =
        std::sync::Arc::new(dingtalk::MemoryStore::new());
    (0..instances)
        .map(|_| {
            let b = dingtalk::client()
                .app_key("dingkey", "app-secret")
                .base_url(standin.base_url())
                .timeout(Duration::from_millis(200))
                .retry(fast());
            let b = match shared {
                true => b.token_store(std::sync::Arc::clone(&store)),
                false => b,
            };
            b.build().expect("client")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_token_endpoint_is_asked_at_most_the_attempt_limit() {
    // (fault, token requests expected): a bad secret is not retried; a 5xx and a hang past the
    // timeout are, up to the policy's 3 attempts, in one fetch every caller shares.
    let cases = [
        (
            Fault::Json(
                serde_json::json!({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"}),
            ),
            1,
        ),
        (Fault::Raw(500, "<html>500</html>".into()), 3),
        (Fault::Slow(Duration::from_millis(1000)), 3),
    ];
    for (fault, expected) in cases {
        for (count, shared) in [(1, false), (4, true)] {
            let standin = StandIn::start(&load_spec()).await.expect("bind");
            standin.configure(|b| b.token_fail_all = Some(fault.clone()));
            let clients = instances(&standin, count, shared);
            let run = concurrent_calls(&clients, 100);
            let (results, took) = tokio::time::timeout(Duration::from_secs(10), run)
                .await
                .expect("every call ends within its deadline");
            let case = format!("{fault:?}, {count} instance(s)");
            eprintln!(
                "{case}: {} token requests, slowest call {took:?}",
                standin.token_requests()
            );
            for r in &results {
                let e = r.as_ref().expect_err(&case);
                assert!(e.is_token_fetch(), "{case}: {e:?}");
                assert!(!e.may_have_been_processed(), "{case}: not sent");
            }
            let first = results[0].as_ref().expect_err(&case);
            match &fault {
                Fault::Json(_) => assert_eq!(first.code(), Some(40089), "{case}"),
                Fault::Raw(..) => assert!(
                    matches!(first, dingtalk::Error::Token { source } if matches!(**source, dingtalk::Error::Http { status: 500, .. })),
                    "{case}: {first:?}"
                ),
                _ => assert_eq!(
                    first.transport_kind(),
                    Some(dingtalk::TransportKind::Timeout),
                    "{case}: {first:?}"
                ),
            }
            assert_eq!(standin.token_requests(), expected, "{case}");
            assert_eq!(standin.business_requests(), 0, "{case}");
        }
    }
}

#[tokio::test]
async fn a_failed_refresh_keeps_serving_the_current_token_until_it_expires() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| {
        b.rotate_tokens = true;
        b.expires_in = Some(2);
    });
    // Lifetime 2 s, margin 1 s: due for refresh after 1 s, expired after 2 s.
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret")
        .base_url(standin.base_url())
        .token_refresh_margin(Duration::from_secs(1))
        .retry(fast())
        .build()
        .expect("client");
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("first call");
    standin.configure(|b| b.token_fail_all = Some(Fault::Raw(503, "busy".into())));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("the refresh fails, the current token still works");
    assert_eq!(standin.tokens_used(), ["tok-1", "tok-1"]);
    assert_eq!(
        standin.token_requests(),
        1 + 3,
        "one failed refresh of 3 attempts"
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let err = client
        .department()
        .list_sub_ids(1)
        .await
        .expect_err("expired, and no new token");
    assert!(err.is_token_fetch(), "{err:?}");
    assert_eq!(standin.business_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_lease_holder_releases_the_lease() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    // The first token request hangs; later ones answer.
    standin.configure(|b| {
        b.token_fail_next
            .push_back(Fault::Slow(Duration::from_secs(20)))
    });
    let clients: Vec<_> = {
        let store: std::sync::Arc<dyn dingtalk::TokenStore> =
            std::sync::Arc::new(dingtalk::MemoryStore::new());
        (0..2)
            .map(|_| {
                dingtalk::client()
                    .app_key("dingkey", "app-secret")
                    .base_url(standin.base_url())
                    .timeout(Duration::from_secs(30))
                    .token_store(std::sync::Arc::clone(&store))
                    .build()
                    .expect("client")
            })
            .collect()
    };
    let holder = clients[0].clone();
    let task = tokio::spawn(async move { holder.department().list_sub_ids(1).await });
    while standin.token_requests() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort(); // cancelled while it holds the lease
    let _ = task.await;
    let started = std::time::Instant::now();
    tokio::time::timeout(
        Duration::from_secs(3),
        clients[1].department().list_sub_ids(1),
    )
    .await
    .expect("the lease was released: no wait for it to lapse (30 s)")
    .expect("the other instance refreshes");
    eprintln!(
        "the next instance had its answer after {:?}",
        started.elapsed()
    );
    assert_eq!(standin.token_requests(), 2);
}

/// A token store that fails every operation.
#[derive(Debug)]
struct BrokenStore;

impl dingtalk::TokenStore for BrokenStore {
    fn get<'a>(
        &'a self,
        _: &'a str,
    ) -> dingtalk::runtime::store::StoreFuture<'a, Option<dingtalk::runtime::store::StoredToken>>
    {
        Box::pin(async { Err(dingtalk::runtime::store::StoreError("down".into())) })
    }
    fn put_if_newer<'a>(
        &'a self,
        _: &'a str,
        _: &'a dingtalk::runtime::store::StoredToken,
    ) -> dingtalk::runtime::store::StoreFuture<'a, bool> {
        Box::pin(async { Err(dingtalk::runtime::store::StoreError("down".into())) })
    }
    fn remove_if<'a>(
        &'a self,
        _: &'a str,
        _: &'a dingtalk::SecretString,
    ) -> dingtalk::runtime::store::StoreFuture<'a, ()> {
        Box::pin(async { Err(dingtalk::runtime::store::StoreError("down".into())) })
    }
    fn try_lease<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
        _: Duration,
    ) -> dingtalk::runtime::store::StoreFuture<'a, bool> {
        Box::pin(async { Err(dingtalk::runtime::store::StoreError("down".into())) })
    }
    fn release<'a>(
        &'a self,
        _: &'a str,
        _: &'a str,
    ) -> dingtalk::runtime::store::StoreFuture<'a, ()> {
        Box::pin(async { Err(dingtalk::runtime::store::StoreError("down".into())) })
    }
}

#[tokio::test]
async fn a_failing_token_store_falls_back_to_a_local_fetch() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret")
        .base_url(standin.base_url())
        .token_store(std::sync::Arc::new(BrokenStore))
        .build()
        .expect("client");
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("the token is fetched without the store");
    client.department().list_sub_ids(1).await.expect("cached");
    assert_eq!(standin.token_requests(), 1);
    assert_eq!(standin.business_requests(), 2);
}

#[tokio::test]
async fn waiting_on_another_instances_lease_is_bounded_by_the_call_deadline() {
    use dingtalk::TokenStore;
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let store = std::sync::Arc::new(dingtalk::MemoryStore::new());
    // An instance holds the lease for an hour and never stores a token.
    let held = store
        .try_lease(
            "dingtalk:app_token:dingkey",
            "stuck-instance",
            Duration::from_secs(3600),
        )
        .await;
    assert_eq!(held, Ok(true));
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret")
        .base_url(standin.base_url())
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy {
            budget: Duration::from_millis(300),
            ..fast()
        })
        .token_store(store)
        .build()
        .expect("client");
    let err = tokio::time::timeout(
        Duration::from_secs(5),
        client.department().create("研发部", 1),
    )
    .await
    .expect("the wait ends at the call's deadline (timeout + budget)")
    .expect_err("no token");
    assert!(matches!(&err, dingtalk::Error::Deadline { .. }), "{err:?}");
    assert!(
        !err.may_have_been_processed(),
        "not sent: safe to send again"
    );
    assert_eq!(standin.seen().len(), 0);
}

// ---- Bounds: redirects, body size, calls in flight ----

/// A server with `/gettoken` answering a token, and `route` at `path`.
async fn server_with(path: &str, route: axum::routing::MethodRouter) -> String {
    let app = axum::Router::new()
        .route(
            "/gettoken",
            axum::routing::get(|| async {
                axum::Json(
                    serde_json::json!({"errcode": 0, "access_token": "t", "expires_in": 7200}),
                )
            }),
        )
        .route(path, route);
    dingtalk_tests::serve(app).await
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let followed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let hits = std::sync::Arc::clone(&followed);
    let app = axum::Router::new()
        .route(
            "/service/get_suite_token",
            axum::routing::post(|| async {
                (
                    axum::http::StatusCode::TEMPORARY_REDIRECT,
                    [("location", "/elsewhere")],
                    "",
                )
            }),
        )
        .route(
            "/elsewhere",
            axum::routing::any(move || {
                hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async { "{}" }
            }),
        );
    let url = dingtalk_tests::serve(app).await;
    let client = dingtalk::client()
        .custom_app("custom-key", "suite-secret-value")
        .base_url(&url)
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = client
        .suite_access_token()
        .await
        .expect_err("a redirect is an error");
    assert!(
        matches!(&err, dingtalk::Error::Token { source } if matches!(**source, dingtalk::Error::Http { status: 307, .. })),
        "{err:?}"
    );
    assert_eq!(
        followed.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the body with the suite secret was not re-sent to the redirect's target"
    );
}

#[tokio::test]
async fn answers_longer_than_the_cap_are_refused_without_reading_them_whole() {
    // An endless answer: the client must stop at its cap.
    let endless = axum::routing::post(|| async {
        let chunk = axum::body::Bytes::from(vec![b' '; 64 << 10]);
        let stream =
            futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
        (
            [("content-type", "application/json")],
            axum::body::Body::from_stream(stream),
        )
    });
    let url = server_with("/topapi/v2/user/get", endless).await;
    let client = dingtalk::client()
        .app_key("k", "s")
        .base_url(&url)
        .max_response_bytes(1 << 20)
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = tokio::time::timeout(Duration::from_secs(10), client.user().get("manager4220"))
        .await
        .expect("stops at the cap")
        .expect_err("too large");
    assert!(
        matches!(err, dingtalk::Error::TooLarge { limit, .. } if limit == 1 << 20),
        "{err:?}"
    );
    // An announced length over the cap is refused before reading.
    let big = axum::routing::post(|| async { vec![b' '; 2 << 20] });
    let url = server_with("/topapi/v2/user/get", big).await;
    let client = dingtalk::client()
        .app_key("k", "s")
        .base_url(&url)
        .max_response_bytes(1 << 20)
        .build()
        .expect("client");
    let err = client
        .user()
        .get("manager4220")
        .await
        .expect_err("too large");
    assert!(matches!(err, dingtalk::Error::TooLarge { .. }), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_are_bounded_per_client() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let now = std::sync::Arc::new(AtomicUsize::new(0));
    let peak = std::sync::Arc::new(AtomicUsize::new(0));
    let (n, p) = (std::sync::Arc::clone(&now), std::sync::Arc::clone(&peak));
    let slow = axum::routing::post(move || {
        let (n, p) = (std::sync::Arc::clone(&n), std::sync::Arc::clone(&p));
        async move {
            let current = n.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(current, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            n.fetch_sub(1, Ordering::SeqCst);
            axum::Json(serde_json::json!({"errcode": 0, "result": {"dept_id_list": [2]}}))
        }
    });
    let url = server_with("/topapi/v2/department/listsubid", slow).await;
    let client = dingtalk::client()
        .app_key("k", "s")
        .base_url(&url)
        .max_in_flight(3)
        .build()
        .expect("client");
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.department().list_sub_ids(1).await })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("call");
    }
    assert_eq!(
        peak.load(Ordering::SeqCst),
        3,
        "at most 3 in flight, and 3 used"
    );
}

// ---- Per-call overrides ----

#[tokio::test]
async fn a_call_can_override_the_retry_policy_and_the_timeout() {
    // The client retries busy answers; this call does not.
    let (standin, client) = setup(fast(), vec![Fault::errcode(-1)]).await;
    let err = client
        .department()
        .list_sub_ids(1)
        .retry(RetryPolicy::none())
        .await
        .expect_err("not retried");
    assert_eq!(err.code(), Some(-1));
    assert_eq!(standin.business_requests(), 1);

    // The client waits 30 s for an answer; this call 100 ms.
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret")
        .base_url(standin.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    client.access_token().await.expect("token");
    standin.configure(|b| b.fail_next.push_back(Fault::Slow(Duration::from_secs(3))));
    let err = tokio::time::timeout(
        Duration::from_secs(2),
        client
            .department()
            .list_sub_ids(1)
            .timeout(Duration::from_millis(100)),
    )
    .await
    .expect("the call's own timeout applies")
    .expect_err("timeout");
    assert_eq!(
        err.transport_kind(),
        Some(dingtalk::TransportKind::Timeout),
        "{err:?}"
    );
    assert!(!err.is_token_fetch());
}
