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
    let client = dingtalk::Client::builder()
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
    let client = dingtalk::Client::builder()
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
    assert!(matches!(err, dingtalk::Error::Transport { .. }), "{err:?}");
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
