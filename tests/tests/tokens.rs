//! The access-token cache against the stand-in: one fetch for many callers, refresh on expiry,
//! and exactly one refresh-and-retry when DingTalk rejects a token.

use dingtalk::prelude::*;
use std::time::Duration;

use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, StandIn};
use serde_json::json;

async fn setup() -> (StandIn, dingtalk::Client) {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    standin.configure(|b| b.rotate_tokens = true);
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret-value")
        .base_url(standin.base_url())
        .build()
        .expect("client");
    (standin, client)
}

#[tokio::test]
async fn first_call_fetches_the_token_and_later_calls_reuse_it() {
    let (standin, client) = setup().await;
    for _ in 0..3 {
        client.department().list_sub_ids(1).await.expect("call");
    }
    assert_eq!(standin.token_requests(), 1);
    assert_eq!(standin.tokens_used(), vec!["tok-1", "tok-1", "tok-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_callers_cause_one_token_request() {
    let (standin, client) = setup().await;
    let calls = (0..100).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.department().list_sub_ids(1).await })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.expect("task").expect("call");
    }
    assert_eq!(standin.token_requests(), 1);
    assert_eq!(standin.business_requests(), 100);
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let (standin, _) = setup().await;
    standin.configure(|b| b.expires_in = Some(2));
    // Lifetime 2 s, margin 1 s: due for refresh after 1 s.
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret-value")
        .base_url(standin.base_url())
        .token_refresh_margin(Duration::from_secs(1))
        .build()
        .expect("client");
    client.department().list_sub_ids(1).await.expect("call");
    client.department().list_sub_ids(1).await.expect("call");
    assert_eq!(standin.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.department().list_sub_ids(1).await.expect("call");
    assert_eq!(standin.token_requests(), 2);
    assert_eq!(standin.tokens_used(), vec!["tok-1", "tok-1", "tok-2"]);
}

#[tokio::test]
async fn each_token_invalid_code_refreshes_once_and_retries() {
    let bodies = [
        json!({"errcode": 40001, "errmsg": "invalid credential"}),
        json!({"errcode": 40014, "errmsg": "不合法的access_token"}),
        json!({"errcode": 42001, "errmsg": "access_token超时"}),
        json!({"errcode": 33001, "errmsg": "无效的企业ID"}),
        json!({"errcode": "88", "errmsg": "鉴权异常", "sub_code": "40014", "sub_msg": "invalid token", "request_id": "r"}),
    ];
    for body in bodies {
        let (standin, client) = setup().await;
        standin.configure(|b| b.fail_next.push_back(Fault::Json(body.clone())));
        let ids = client.department().list_sub_ids(1).await;
        assert!(ids.is_ok(), "{body}: {ids:?}");
        assert_eq!(standin.token_requests(), 2, "{body}");
        assert_eq!(standin.business_requests(), 2, "{body}");
        assert_eq!(standin.tokens_used(), vec!["tok-1", "tok-2"], "{body}");
    }
}

#[tokio::test]
async fn a_token_rejected_twice_is_an_error_after_one_retry() {
    let (standin, client) = setup().await;
    standin.configure(|b| {
        b.fail_next.push_back(Fault::errcode(40014));
        b.fail_next.push_back(Fault::errcode(40014));
        b.fail_next.push_back(Fault::errcode(40014));
    });
    let err = client
        .department()
        .list_sub_ids(1)
        .await
        .expect_err("rejected twice");
    assert_eq!(err.code(), Some(40014));
    assert_eq!(
        err.as_api().map(|e| e.endpoint.as_str()),
        Some("department.list_sub_ids")
    );
    assert_eq!(standin.business_requests(), 2);
    assert_eq!(standin.token_requests(), 2);
}

#[tokio::test]
async fn other_errcodes_are_not_retried() {
    let (standin, client) = setup().await;
    standin.configure(|b| b.fail_next.push_back(Fault::errcode(60011)));
    let err = client
        .department()
        .list_sub_ids(1)
        .await
        .expect_err("no permission");
    let api = err.as_api().expect("an API error");
    assert_eq!(
        (api.errcode(), api.request_id.as_deref()),
        (Some(60011), Some("standin-req"))
    );
    assert_eq!(standin.business_requests(), 1);
    assert_eq!(standin.token_requests(), 1);
}

#[tokio::test]
async fn a_token_dingtalk_expired_early_is_replaced() {
    let (standin, client) = setup().await;
    client.department().list_sub_ids(1).await.expect("call");
    standin.revoke_tokens();
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("call after revocation");
    assert_eq!(standin.tokens_used(), vec!["tok-1", "tok-1", "tok-2"]);
}

#[tokio::test]
async fn corp_secret_and_sso_credentials_use_their_own_token_calls() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .corp_secret("dingcorp", "corp-secret-value")
        .sso_secret("dingcorp", "sso-secret-value")
        .base_url(standin.base_url())
        .build()
        .expect("client");
    client.department().list_sub_ids(1).await.expect("app call");
    client
        .auth()
        .get_sso_user_info("code")
        .await
        .expect("sso call");
    let paths: Vec<(String, Option<String>)> = standin
        .seen()
        .iter()
        .map(|s| (s.path.clone(), s.query.get("corpsecret").cloned()))
        .collect();
    assert!(
        paths.contains(&("/gettoken".into(), Some("corp-secret-value".into()))),
        "{paths:?}"
    );
    assert!(
        paths.contains(&("/sso/gettoken".into(), Some("sso-secret-value".into()))),
        "{paths:?}"
    );
}

#[tokio::test]
async fn calls_without_credentials_fail_with_a_config_error() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .base_url(standin.base_url())
        .build()
        .expect("client");
    let err = client
        .department()
        .list_sub_ids(1)
        .await
        .expect_err("no credentials");
    assert!(matches!(err, dingtalk::Error::Config(_)), "{err:?}");
    assert_eq!(standin.seen().len(), 0);
}

#[tokio::test]
async fn signed_calls_carry_a_fresh_hmac_signature_the_stand_in_accepts() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let good = dingtalk::client()
        .sns_app("dingoasnsapp", dingtalk_tests::standin::SNS_SECRET)
        .base_url(standin.base_url())
        .build()
        .expect("client");
    good.sns()
        .get_user_info_by_code("tmp-code")
        .await
        .expect("signed with the right secret");
    let seen = standin.seen();
    let q = &seen[0].query;
    assert_eq!(q.get("accessKey").map(String::as_str), Some("dingoasnsapp"));
    assert!(q.get("timestamp").is_some_and(|t| t.len() == 13), "{q:?}");
    assert!(!q.contains_key("access_token"));

    let bad = dingtalk::client()
        .sns_app("dingoasnsapp", "not-the-secret")
        .base_url(standin.base_url())
        .retry(dingtalk::RetryPolicy::none())
        .build()
        .expect("client");
    let err = bad
        .sns()
        .get_user_info_by_code("tmp-code")
        .await
        .expect_err("wrong secret");
    assert_eq!(err.code(), Some(853004));
}

#[tokio::test]
async fn the_sns_app_token_is_fetched_once_and_reused() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .sns_app("dingoasnsapp", dingtalk_tests::standin::SNS_SECRET)
        .base_url(standin.base_url())
        .build()
        .expect("client");
    client
        .sns()
        .get_persistent_code("code-1")
        .await
        .expect("first");
    client
        .sns()
        .get_persistent_code("code-2")
        .await
        .expect("second");
    let token_paths: Vec<String> = standin
        .seen()
        .iter()
        .map(|s| s.path.clone())
        .filter(|p| p.ends_with("gettoken"))
        .collect();
    assert_eq!(token_paths, ["/sns/gettoken"]);
}

#[tokio::test]
async fn clients_of_two_apps_share_one_connection_pool_but_not_tokens() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let pool = reqwest::Client::new();
    let build = |key: &str| {
        dingtalk::client()
            .app_key(key, "secret")
            .base_url(standin.base_url())
            .http_client(pool.clone())
            .build()
            .expect("client")
    };
    let (a, b) = (build("app-a"), build("app-b"));
    a.department().list_sub_ids(1).await.expect("a");
    b.department().list_sub_ids(1).await.expect("b");
    a.department().list_sub_ids(1).await.expect("a again");
    let keys: Vec<String> = standin
        .seen()
        .iter()
        .filter_map(|s| s.query.get("appkey").cloned())
        .collect();
    assert_eq!(
        keys,
        ["app-a", "app-b"],
        "one token request per app, each cached in its own client"
    );
}
