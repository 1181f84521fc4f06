//! What the caller sees when DingTalk answers badly, and that no secret leaks into errors or
//! `Debug` output.

use dingtalk::prelude::*;
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, StandIn};

const SECRET: &str = "app-secret-7f3a";

async fn setup() -> (StandIn, dingtalk::Client) {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    standin.configure(|b| b.rotate_tokens = true);
    // Retries are covered in faults.rs; here each fault must reach the caller as it is.
    let client = dingtalk::client()
        .app_key("dingkey", SECRET)
        .base_url(standin.base_url())
        .retry(dingtalk::RetryPolicy::none())
        .build()
        .expect("client");
    (standin, client)
}

fn assert_no_secret(text: &str) {
    for secret in [SECRET, "tok-1", "tok-2"] {
        assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
    }
}

#[tokio::test]
async fn an_html_error_page_is_a_decode_error_with_a_snippet() {
    let (standin, client) = setup().await;
    standin.configure(|b| {
        b.fail_next.push_back(Fault::Raw(
            200,
            "<html><body>502 Bad Gateway tok-1</body></html>".into(),
        ))
    });
    let err = client.user().get("manager4220").await.expect_err("html");
    match &err {
        dingtalk::Error::Decode {
            endpoint, snippet, ..
        } => {
            assert_eq!(endpoint, "user.get");
            assert!(snippet.starts_with("<html>"), "{snippet}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    assert_no_secret(&format!("{err} {err:?}"));
    // A page that is not the API's answer is not retried: it would most likely come again.
    assert_eq!(standin.business_requests(), 1);
}

#[tokio::test]
async fn an_errcode_sent_as_a_string_is_classified_like_a_number() {
    let (standin, client) = setup().await;
    standin.configure(|b| {
        b.fail_next.push_back(Fault::Json(
            serde_json::json!({"errcode": "60011", "errmsg": "no permission"}),
        ))
    });
    let err = client.user().get("manager4220").await.expect_err("60011");
    assert_eq!(err.code(), Some(60011));
    assert_eq!(err.class(), dingtalk::ErrorClass::Permission);
    assert_eq!(standin.business_requests(), 1, "not retried");
    // "-1" as a string is busy: with retries on, the idempotent call is repeated and succeeds.
    let retrying = dingtalk::client()
        .app_key("dingkey", SECRET)
        .base_url(standin.base_url())
        .retry(dingtalk::RetryPolicy {
            base_delay: std::time::Duration::from_millis(1),
            ..Default::default()
        })
        .build()
        .expect("client");
    standin.clear_seen();
    standin.configure(|b| {
        b.fail_next.push_back(Fault::Json(
            serde_json::json!({"errcode": "-1", "errmsg": "busy"}),
        ))
    });
    retrying
        .user()
        .get("manager4220")
        .await
        .expect("second attempt");
    assert_eq!(standin.business_requests(), 2);
}

#[tokio::test]
async fn an_http_error_status_is_an_http_error() {
    let (standin, client) = setup().await;
    standin.configure(|b| b.fail_next.push_back(Fault::Raw(503, "busy".into())));
    let err = client.user().get("manager4220").await.expect_err("503");
    assert!(
        matches!(&err, dingtalk::Error::Http { status: 503, snippet, .. } if snippet == "busy"),
        "{err:?}"
    );
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn truncated_json_and_empty_bodies_are_decode_errors() {
    let (standin, client) = setup().await;
    for body in [r#"{"errcode":0,"result":{"userid":"manag"#, ""] {
        standin.configure(|b| b.fail_next.push_back(Fault::Raw(200, body.into())));
        let err = client
            .user()
            .get("manager4220")
            .await
            .expect_err("bad body");
        assert!(matches!(err, dingtalk::Error::Decode { .. }), "{err:?}");
    }
    assert_eq!(
        standin.business_requests(),
        2,
        "one request each, not retried"
    );
}

#[tokio::test]
async fn unknown_fields_are_ignored() {
    let (standin, client) = setup().await;
    let body = serde_json::json!({"errcode": 0, "request_id": "x", "brand_new": [1, 2], "result": {"userid": "u1", "name": "n", "new_field": {"a": 1}}});
    standin.configure(|b| b.fail_next.push_back(Fault::Json(body)));
    let user = client
        .user()
        .get("u1")
        .await
        .expect("decodes despite new fields");
    assert_eq!(user.userid, "u1");
}

#[tokio::test]
async fn transport_errors_name_the_endpoint_but_not_the_token() {
    let (standin, _) = setup().await;
    let base = standin.base_url();
    drop(standin); // nothing listens there any more
    let client = dingtalk::client()
        .app_key("dingkey", SECRET)
        .base_url(base)
        .build()
        .expect("client");
    let err = client
        .user()
        .get("manager4220")
        .await
        .expect_err("connection refused");
    assert!(
        matches!(&err, dingtalk::Error::Token { source } if matches!(&**source, dingtalk::Error::Transport { endpoint, .. } if endpoint == "auth.get_token")),
        "{err:?}"
    );
    assert_no_secret(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn limits_are_checked_before_sending() {
    let (standin, client) = setup().await;
    let err = client
        .user()
        .get("x".repeat(65))
        .await
        .expect_err("userid too long");
    match &err {
        dingtalk::Error::Invalid { endpoint, source } => {
            assert_eq!(endpoint, "user.get");
            assert_eq!(
                source,
                &dingtalk::InvalidRequest::TooLong {
                    field: "userid",
                    len: 65,
                    max: 64
                }
            );
        }
        other => panic!("expected an invalid-request error, got {other:?}"),
    }
    client
        .user()
        .get("x".repeat(64))
        .await
        .expect("64 is allowed");
    assert_eq!(standin.business_requests(), 1);
}

#[tokio::test]
async fn debug_output_hides_secrets() {
    let (_standin, client) = setup().await;
    let token = client.access_token().await.expect("token");
    assert_eq!(token.expose_secret(), "tok-1");
    assert_no_secret(&format!("{client:?} {token:?} {token}"));
    let req = dingtalk::api::auth::AuthGetTokenRequest::new("dingkey", SECRET);
    assert_no_secret(&format!("{req:?}"));
}

#[tokio::test]
async fn spans_between_params_are_checked_before_sending() {
    let (standin, client) = setup().await;
    let users = vec!["manager4220".to_string()];
    // Eight calendar days: refused before anything is sent.
    let err = client
        .attendance()
        .list(
            "2020-09-07 00:00:00",
            "2020-09-15 00:00:00",
            users.clone(),
            0,
            50,
        )
        .await
        .expect_err("an 8-day span");
    match &err {
        dingtalk::Error::Invalid { endpoint, source } => {
            assert_eq!(endpoint, "attendance.list");
            assert_eq!(
                source,
                &dingtalk::InvalidRequest::Span {
                    from: "workDateFrom",
                    to: "workDateTo",
                    max_days: 7,
                    days: 8.0
                }
            );
        }
        other => panic!("expected an invalid-request error, got {other:?}"),
    }
    assert_eq!(standin.business_requests(), 0);
    // Seven days is the limit, and the time of day does not count on this endpoint.
    client
        .attendance()
        .list("2020-09-07 18:00:00", "2020-09-14 09:00:00", users, 0, 50)
        .await
        .expect("7 days is allowed");
    // Milliseconds: 180 days for leave status.
    let day = 86_400_000;
    let leave = |days: i64| {
        client.attendance().get_leave_status(
            vec!["user123".to_string()],
            1_599_321_600_000,
            1_599_321_600_000 + days * day,
            0,
            20,
        )
    };
    leave(180).await.expect("180 days is allowed");
    let err = leave(181).await.expect_err("181 days");
    assert!(
        matches!(
            &err,
            dingtalk::Error::Invalid {
                source: dingtalk::InvalidRequest::Span { max_days: 180, .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(standin.business_requests(), 2);
}

#[tokio::test]
async fn an_answer_that_carries_secrets_is_never_quoted_in_errors() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .suite("suite-key", dingtalk_tests::standin::SUITE_SECRET)
        .base_url(standin.base_url())
        .retry(dingtalk::RetryPolicy::none())
        .build()
        .expect("client");
    let now = dingtalk_tests::now_ms();
    client
        .set_suite_ticket("ticket", now)
        .await
        .expect("ticket");
    // Truncated, and with a wrong type that the decoder would otherwise quote.
    for body in [
        r#"{"errcode":0,"permanent_code":"SECRET-PERMANENT-CODE","auth_corp_info":{"corpid":"#,
        r#"{"errcode":0,"permanent_code":"SECRET-PERMANENT-CODE","ch_permanent_code":["SECRET-CH"]}"#,
    ] {
        standin.configure(|b| b.fail_next.push_back(Fault::Raw(200, body.into())));
        let err = client
            .auth()
            .get_permanent_code("tmp")
            .await
            .expect_err("bad answer");
        assert!(matches!(err, dingtalk::Error::Decode { .. }), "{err:?}");
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET"), "{text}");
        assert!(text.contains("line 1"), "{text}");
    }
}

#[tokio::test]
async fn error_pages_that_quote_the_request_leak_no_secret() {
    // Secrets with characters a URL encodes, as a gateway page quoting the request line shows.
    const APP: &str = "app+secret/9c1d=";
    const SSO: &str = "sso-secret-77aa";
    const SNS: &str = "sns-secret-31bb";
    let encoded: String = url::form_urlencoded::byte_serialize(APP.as_bytes()).collect();
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    let client = dingtalk::client()
        .app_key("dingkey", APP)
        .sso_secret("dingcorp", SSO)
        .sns_app("dingsns", SNS)
        .base_url(standin.base_url())
        .retry(dingtalk::RetryPolicy::none())
        .token_failure_cooldown(std::time::Duration::ZERO)
        .build()
        .expect("client");
    let page = format!("<html><h1>502 Bad Gateway</h1><p>GET /gettoken?appkey=dingkey&amp;appsecret={encoded} HTTP/1.1</p><p>{APP}</p></html>");
    // The token fetch behind a call, and the typed token call.
    standin.configure(|b| {
        b.token_fail_next.push_back(Fault::Raw(502, page.clone()));
        b.token_fail_next.push_back(Fault::Raw(502, page.clone()));
    });
    let call = client.department().list_sub_ids(1).await.expect_err("502");
    let typed = client
        .auth()
        .get_token("dingkey", APP)
        .await
        .expect_err("502");
    for err in [&call, &typed] {
        let text = format!("{err} {err:?}");
        assert!(text.contains("HTTP 502"), "{text}");
        for secret in [APP, encoded.as_str()] {
            assert!(!text.contains(secret), "`{secret}` leaked into: {text}");
        }
        // An endpoint whose answers carry secrets quotes none of its body.
        assert!(!text.contains("Bad Gateway"), "{text}");
    }

    // A business call's page that quotes every secret, the token straddling the cut at 200
    // characters: masked before cutting, so not even its first characters show.
    client.department().list_sub_ids(1).await.expect("a token");
    let token = "fw8ef8we8f76e6f7s8df8s"; // the stand-in's example token
    let page = format!("{}{token} appsecret={encoded} {SSO} {SNS}", "x".repeat(190));
    standin.configure(|b| b.fail_next.push_back(Fault::Raw(502, page)));
    let err = client.department().list_sub_ids(1).await.expect_err("502");
    let text = format!("{err} {err:?}");
    for leak in [&token[..6], APP, encoded.as_str(), SSO, SNS] {
        assert!(!text.contains(leak), "`{leak}` leaked into: {text}");
    }
    assert!(text.contains("<redacted>"), "{text}");
}
