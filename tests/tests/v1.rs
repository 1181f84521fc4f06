//! api.dingtalk.com through the same client: the header token from the one app-token cache,
//! the HTTP-status error model (a rejected token refreshed once, 403 throttling backed off, a
//! 5xx on a write never repeated), robot messages as typed templates, and users' own tokens.

use std::time::Duration;

use dingtalk::api::robot::{RobotMessage, RobotSampleMarkdown};
use dingtalk::prelude::*;
use dingtalk::{ApiCode, ErrorClass, RetryPolicy};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, StandIn};
use serde_json::Value;

async fn setup() -> (StandIn, dingtalk::Client) {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    standin.configure(|b| b.rotate_tokens = true);
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret-value")
        .base_url(standin.base_url())
        .retry(RetryPolicy {
            rate_limit_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        })
        .build()
        .expect("client");
    (standin, client)
}

fn markdown() -> RobotMessage {
    RobotMessage::SampleMarkdown(RobotSampleMarkdown::new("Report", "## Done"))
}

async fn send(client: &dingtalk::Client) -> Result<(), dingtalk::Error> {
    client
        .robot()
        .batch_send_oto("dingkey", vec!["manager4220".into()], markdown())
        .await
        .map(|_| ())
}

fn business<'a>(standin: &'a StandIn, path: &'a str) -> Vec<dingtalk_tests::standin::Seen> {
    standin
        .seen()
        .into_iter()
        .filter(|s| s.path == path)
        .collect()
}

const BATCH_SEND: &str = "/v1.0/robot/oToMessages/batchSend";

#[tokio::test]
async fn one_app_token_serves_both_hosts_and_goes_in_the_header() {
    let (standin, client) = setup().await;
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("oapi call");
    send(&client).await.expect("api call");
    assert_eq!(standin.token_requests(), 1, "one cache for both hosts");
    assert_eq!(standin.tokens_used(), ["tok-1", "tok-1"]);
    let seen = business(&standin, BATCH_SEND);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].token_header.as_deref(), Some("tok-1"));
    assert!(
        seen[0].query.is_empty(),
        "no token in the query: {:?}",
        seen[0].query
    );
    assert!(seen[0].violations.is_empty(), "{:?}", seen[0].violations);
    // The template and its fields travel as `msgKey` + the JSON text of the fields.
    let body = seen[0].body.clone().unwrap_or_default();
    assert_eq!(body["robotCode"], "dingkey");
    assert_eq!(body["msgKey"], "sampleMarkdown");
    let param: Value =
        serde_json::from_str(body["msgParam"].as_str().unwrap_or("")).expect("JSON text");
    assert_eq!(
        param,
        serde_json::json!({"title": "Report", "text": "## Done"})
    );
}

#[test]
fn a_robot_message_decodes_from_its_json_text_and_keeps_unknown_templates() {
    let known: RobotMessage = serde_json::from_str(
        r#"{"msgKey": "sampleMarkdown", "msgParam": "{\"title\":\"T\",\"text\":\"x\"}"}"#,
    )
    .expect("decode");
    assert_eq!(
        known,
        RobotMessage::SampleMarkdown(RobotSampleMarkdown::new("T", "x"))
    );
    let raw = serde_json::json!({"msgKey": "sampleFutureTemplate", "msgParam": "{}"});
    let unknown: RobotMessage = serde_json::from_value(raw.clone()).expect("decode");
    assert_eq!(unknown.tag(), "sampleFutureTemplate");
    assert_eq!(serde_json::to_value(&unknown).expect("encode"), raw);
    let bad = serde_json::from_str::<RobotMessage>(
        r#"{"msgKey": "sampleText", "msgParam": "{not json"}"#,
    );
    assert!(bad.is_err());
}

#[tokio::test]
async fn an_invalid_authentication_refreshes_the_token_and_retries_once() {
    let (standin, client) = setup().await;
    send(&client).await.expect("first send");
    standin.revoke_tokens();
    send(&client)
        .await
        .expect("the retry with a fresh token succeeds");
    assert_eq!(standin.token_requests(), 2);
    assert_eq!(standin.tokens_used(), ["tok-1", "tok-1", "tok-2"]);
    // A token that keeps being refused is refreshed once, then the error is the caller's.
    standin.configure(|b| {
        b.fail_next = [
            Fault::v1(400, "InvalidAuthentication"),
            Fault::v1(400, "InvalidAuthentication"),
        ]
        .into();
    });
    let err = send(&client).await.expect_err("refused twice");
    assert_eq!(err.service_code(), Some("InvalidAuthentication"));
    assert_eq!(err.class(), ErrorClass::TokenInvalid);
    let api = err.as_api().expect("an API error");
    assert_eq!(
        (&api.code, api.status, api.request_id.as_deref()),
        (
            &ApiCode::Service("InvalidAuthentication".into()),
            Some(400),
            Some("standin-req")
        )
    );
    assert_eq!(standin.token_requests(), 3);
    assert_eq!(business(&standin, BATCH_SEND).len(), 5);
}

#[tokio::test]
async fn throttling_is_backed_off_even_for_a_write() {
    let (standin, client) = setup().await;
    standin.configure(|b| {
        b.fail_next = [Fault::v1(
            403,
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
        )]
        .into();
    });
    send(&client).await.expect("sent after backing off");
    // A throttled call was not processed, so repeating the (non-idempotent) send is safe.
    assert_eq!(business(&standin, BATCH_SEND).len(), 2);
}

#[tokio::test]
async fn a_5xx_on_a_write_is_not_repeated() {
    let (standin, client) = setup().await;
    standin.configure(|b| b.fail_next = [Fault::v1(503, "ServiceUnavailable")].into());
    let err = send(&client).await.expect_err("5xx");
    assert_eq!(
        err.class(),
        ErrorClass::Busy,
        "an unlisted code takes its status class"
    );
    assert_eq!(business(&standin, BATCH_SEND).len(), 1, "never sent twice");
    // A read is retried after the same failure.
    standin.configure(|b| b.fail_next = [Fault::v1(503, "ServiceUnavailable")].into());
    client
        .contact()
        .list_emp_leave_records("2024-01-01T00:00:00Z", 50)
        .await
        .expect("the read is retried");
    assert_eq!(business(&standin, "/v1.0/contact/empLeaveRecords").len(), 2);
}

#[tokio::test]
async fn a_gateway_page_is_an_http_error_without_secrets() {
    let (standin, client) = setup().await;
    send(&client).await.expect("warm the token");
    standin.configure(|b| {
        b.fail_next = [Fault::Raw(502, "<html>bad gateway tok-1</html>".into())].into();
    });
    let err = send(&client).await.expect_err("502");
    assert!(
        matches!(err, dingtalk::Error::Http { status: 502, .. }),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("tok-1"));
}

const ME: &str = "/v1.0/contact/users/me";

#[tokio::test]
async fn user_tokens_are_kept_per_user_refreshed_and_required() {
    let (standin, client) = setup().await;
    standin.configure(|b| b.expires_in = Some(2));
    // Nobody signed in: a typed error before anything is sent.
    let err = client
        .contact()
        .get_user("alice", "me")
        .await
        .expect_err("not signed in");
    assert!(
        matches!(&err, dingtalk::Error::SignInRequired { user } if user == "alice"),
        "{err:?}"
    );
    assert!(business(&standin, ME).is_empty());

    let user = client
        .sign_in_user("alice", "login-code")
        .await
        .expect("sign in");
    assert_eq!(user.corp_id.as_deref(), Some("dingcorpxxxxxx"));
    client
        .contact()
        .get_user("alice", "me")
        .await
        .expect("as alice");
    let seen = business(&standin, ME);
    assert_eq!(seen.len(), 1);
    let user_token = seen[0].token_header.clone().unwrap_or_default();
    assert!(
        user_token.starts_with("user-"),
        "the user's token, not the app's: {user_token}"
    );
    assert!(seen[0].violations.is_empty(), "{:?}", seen[0].violations);
    let trades = business(&standin, "/v1.0/oauth2/userAccessToken");
    assert_eq!(trades.len(), 1);
    let first = trades[0].body.clone().unwrap_or_default();
    assert_eq!(
        (first["grantType"].as_str(), first["code"].as_str()),
        (Some("authorization_code"), Some("login-code"))
    );
    assert_eq!(first["clientId"], "dingkey");

    // Due for refresh (a 2 s token is refreshed after half its life): the refresh token is used.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client
        .contact()
        .get_user("alice", "me")
        .await
        .expect("after refresh");
    let trades = business(&standin, "/v1.0/oauth2/userAccessToken");
    assert_eq!(trades.len(), 2);
    let second = trades[1].body.clone().unwrap_or_default();
    assert_eq!(second["grantType"], "refresh_token");
    assert_eq!(second["refreshToken"], "r3fr3shabcdef");
    let seen = business(&standin, ME);
    assert_ne!(
        seen[1].token_header, seen[0].token_header,
        "a new user token"
    );

    // A rejected user token is refreshed once with the refresh token, like the app's.
    standin.configure(|b| b.fail_next = [Fault::v1(400, "InvalidAuthentication")].into());
    client
        .contact()
        .get_user("alice", "me")
        .await
        .expect("after a rejection");
    assert_eq!(business(&standin, "/v1.0/oauth2/userAccessToken").len(), 3);
    // No app token was ever needed for these calls.
    assert_eq!(standin.token_requests_for("/gettoken", None), 0);

    client.sign_out_user("alice");
    let err = client
        .contact()
        .get_user("alice", "me")
        .await
        .expect_err("signed out");
    assert!(matches!(err, dingtalk::Error::SignInRequired { .. }));
}

#[tokio::test]
async fn the_v1_app_token_form_serves_both_hosts_when_preferred() {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    standin.configure(|b| b.rotate_tokens = true);
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret-value")
        .base_url(standin.base_url())
        .token_host(dingtalk::Host::Api)
        .build()
        .expect("client");
    client
        .department()
        .list_sub_ids(1)
        .await
        .expect("oapi call");
    send(&client).await.expect("api call");
    let token_calls: Vec<_> = standin
        .seen()
        .into_iter()
        .filter(|s| s.path == "/v1.0/oauth2/accessToken" || s.path == "/gettoken")
        .collect();
    assert_eq!(token_calls.len(), 1, "{token_calls:?}");
    assert_eq!(token_calls[0].path, "/v1.0/oauth2/accessToken");
    let body = token_calls[0].body.clone().unwrap_or_default();
    assert_eq!(
        (body["appKey"].as_str(), body["appSecret"].as_str()),
        (Some("dingkey"), Some("app-secret-value"))
    );
    let used = standin.tokens_used();
    assert_eq!(used.len(), 2);
    assert!(
        used.iter().all(|t| t == &used[0]),
        "one token on both hosts: {used:?}"
    );
}

#[tokio::test]
async fn a_whole_body_param_is_sent_as_the_bare_json_array() {
    use dingtalk::api::contact::{ContactBranchVisibility, ContactUnionApplication};
    let (standin, client) = setup().await;
    let approved = client
        .contact()
        .approve_union_applications(vec![ContactUnionApplication::new()
            .branch_corp_id("ding1234")
            .union_root_name("测试")
            .link_dept_id(123456)])
        .await
        .expect("approve");
    assert!(approved.result);
    client
        .contact()
        .update_branch_visibility(vec![
            ContactBranchVisibility::new("ding1234", 0, true).visible_dept_ids(vec![123])
        ])
        .await
        .expect("no body in the answer");
    let seen = business(
        &standin,
        "/v1.0/contact/cooperateCorps/unionApplications/approve",
    );
    assert_eq!(
        seen[0].body,
        Some(
            serde_json::json!([{"branchCorpId": "ding1234", "unionRootName": "测试", "linkDeptId": 123456}])
        )
    );
    let seen = business(
        &standin,
        "/v1.0/contact/cooperateCorps/branchVisibleSettings",
    );
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(
        seen[0].body,
        Some(
            serde_json::json!([{"branchCorpId": "ding1234", "type": 0, "open": true, "visibleDeptIds": [123]}])
        )
    );
    assert!(standin.seen().iter().all(|s| s.violations.is_empty()));
    // Ten at most, checked before sending.
    let eleven = vec![ContactUnionApplication::new(); 11];
    let err = client
        .contact()
        .approve_union_applications(eleven)
        .await
        .expect_err("too many");
    assert!(matches!(err, dingtalk::Error::Invalid { .. }), "{err:?}");
}
