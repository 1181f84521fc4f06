//! ISV suites against the stand-in: the pushed suite ticket → the suite token → a token per
//! authorising organisation, shared between instances through the token store.

use dingtalk::prelude::*;
use dingtalk_workflows::prelude::*;
use std::sync::Arc;

use dingtalk::api::callback::Event;
use dingtalk::callback::{CallbackCrypto, PushQuery};
use dingtalk::{Client, Error, MemoryStore, TokenStore};
use dingtalk_tests::standin::{StandIn, SUITE_SECRET};
use dingtalk_tests::{load_spec, now_ms};

const SUITE_KEY: &str = "suite-abc";
const CORP_TOKEN: &str = "/service/get_corp_token";
const SUITE_TOKEN: &str = "/service/get_suite_token";

async fn standin(ticket: &str) -> StandIn {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    standin.configure(|b| {
        b.rotate_tokens = true;
        b.suite_ticket = Some(ticket.to_string());
    });
    standin
}

fn suite_client(standin: &StandIn, store: Option<Arc<dyn TokenStore>>) -> Client {
    let builder = dingtalk::client()
        .suite(SUITE_KEY, SUITE_SECRET)
        .base_url(standin.base_url());
    let builder = match store {
        Some(store) => builder.token_store(store),
        None => builder,
    };
    builder.build().expect("client")
}

/// A `suite_ticket` push as DingTalk sends it: encrypted and signed, then opened and decoded.
fn pushed_ticket(ticket: &str, at_ms: i64) -> Event {
    let crypto = CallbackCrypto::new(
        "callback-token",
        "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
        SUITE_KEY,
    )
    .expect("crypto");
    let message = serde_json::json!({
        "EventType": "suite_ticket",
        "SuiteKey": SUITE_KEY,
        "SuiteTicket": ticket,
        "TimeStamp": at_ms.to_string(),
    })
    .to_string();
    let encrypt = crypto.encrypt(&message).expect("encrypt");
    let timestamp = now_ms().to_string();
    let query = PushQuery {
        signature: crypto.signature(&timestamp, "nonce", &encrypt),
        timestamp,
        nonce: "nonce".into(),
    };
    let body = serde_json::json!({ "encrypt": encrypt }).to_string();
    crypto.open(&query, body.as_bytes()).expect("open the push")
}

async fn accept(client: &Client, event: &Event) -> bool {
    match event {
        Event::SuiteTicket(push) => client.accept_suite_ticket(push).await.expect("keep"),
        other => panic!("expected a suite_ticket event, got {other:?}"),
    }
}

#[tokio::test]
async fn without_a_ticket_corp_calls_fail_typed_and_send_nothing() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    let corp = client.corp("dingA").expect("corp client");
    let result = corp.user().get("manager4220").await;
    assert!(
        matches!(&result, Err(Error::MissingSuiteTicket { suite_key }) if suite_key == SUITE_KEY),
        "{result:?}"
    );
    let suite_call = client.auth().get_permanent_code("code").await;
    assert!(matches!(suite_call, Err(Error::MissingSuiteTicket { .. })));
    assert_eq!(
        standin.seen().len(),
        0,
        "nothing may be sent without a ticket"
    );
    // Not an ISV client at all: a configuration error, not a panic.
    let plain = dingtalk_tests::client_for(&standin.base_url());
    assert!(matches!(plain.corp("dingA"), Err(Error::Config(_))));
}

#[tokio::test]
async fn each_organisation_gets_its_own_token_once() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);

    let mut calls = Vec::new();
    for corp_id in ["dingA", "dingB"] {
        for _ in 0..5 {
            let corp = client.corp(corp_id).expect("corp client");
            calls.push(tokio::spawn(async move {
                corp.department().list_sub_ids(1).await
            }));
        }
    }
    for call in calls {
        let result = call.await.expect("task");
        assert!(result.is_ok(), "{result:?}");
    }
    for corp_id in ["dingA", "dingB"] {
        assert_eq!(
            standin.token_requests_for(CORP_TOKEN, Some(corp_id)),
            1,
            "one token for {corp_id}, however many calls"
        );
    }
    // Every call carried its own organisation's token; the stand-in checked every signature.
    let seen = standin.seen();
    let business: Vec<_> = seen
        .iter()
        .filter(|s| s.path.contains("department"))
        .collect();
    assert_eq!(business.len(), 10);
    let used = standin.tokens_used();
    assert_eq!(
        used.iter().filter(|t| t.starts_with("corp-dingA-")).count(),
        5
    );
    assert_eq!(
        used.iter().filter(|t| t.starts_with("corp-dingB-")).count(),
        5
    );
    for s in &seen {
        assert!(s.violations.is_empty(), "{:?}", s.violations);
        if s.path == CORP_TOKEN {
            assert_eq!(
                s.query.get("accessKey").map(String::as_str),
                Some(SUITE_KEY)
            );
            assert_eq!(s.query.get("suiteTicket").map(String::as_str), Some("t1"));
        }
    }
    assert_eq!(client.corp("dingA").expect("corp").corp_id(), Some("dingA"));
}

#[tokio::test]
async fn an_older_push_never_replaces_a_newer_ticket() {
    let standin = standin("t2").await;
    let client = suite_client(&standin, None);
    let now = now_ms();
    assert!(accept(&client, &pushed_ticket("t1", now - 2_000)).await);
    assert!(accept(&client, &pushed_ticket("t2", now - 1_000)).await);
    // Delivered late: the push from before t2 is refused.
    assert!(!accept(&client, &pushed_ticket("t0", now - 1_500)).await);
    let corp = client.corp("dingA").expect("corp");
    corp.department()
        .list_sub_ids(1)
        .await
        .expect("signed with the newest ticket");
    let signed = standin.seen();
    assert_eq!(
        signed[0].query.get("suiteTicket").map(String::as_str),
        Some("t2")
    );
    // A ticket for another suite is refused, and changes nothing.
    let Event::SuiteTicket(mut other) = pushed_ticket("t9", now) else {
        panic!("not a ticket push")
    };
    other.suite_key = Some("another-suite".into());
    assert!(matches!(
        client.accept_suite_ticket(&other).await,
        Err(Error::Config(_))
    ));
}

#[tokio::test]
async fn instances_share_the_ticket_and_each_organisation_token_through_the_store() {
    let standin = standin("t1").await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let receiving = suite_client(&standin, Some(Arc::clone(&store)));
    let others: Vec<Client> = (0..3)
        .map(|_| suite_client(&standin, Some(Arc::clone(&store))))
        .collect();
    // Only the instance behind the callback URL gets the push.
    assert!(accept(&receiving, &pushed_ticket("t1", now_ms())).await);

    let mut calls = Vec::new();
    for client in others.iter().chain([&receiving]) {
        for _ in 0..4 {
            let corp = client.corp("dingA").expect("corp");
            calls.push(tokio::spawn(async move {
                corp.department().list_sub_ids(1).await
            }));
        }
    }
    for call in calls {
        let result = call.await.expect("task");
        assert!(result.is_ok(), "{result:?}");
    }
    assert_eq!(
        standin.token_requests_for(CORP_TOKEN, Some("dingA")),
        1,
        "one organisation token for four instances"
    );
    let suite_tokens =
        futures_util::future::join_all(others.iter().map(|c| c.suite_access_token())).await;
    assert!(suite_tokens.iter().all(Result::is_ok), "{suite_tokens:?}");
    assert_eq!(standin.token_requests_for(SUITE_TOKEN, None), 1);
}

#[tokio::test]
async fn suite_token_calls_carry_it_and_refresh_it_once_when_rejected() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);

    let code = client
        .auth()
        .get_permanent_code("tmp-code")
        .await
        .expect("permanent code");
    let code = code.permanent_code.expose_secret().to_string();
    client
        .auth()
        .activate_suite(SUITE_KEY, "dingA", code.as_str())
        .await
        .expect("activate");
    assert_eq!(standin.token_requests_for(SUITE_TOKEN, None), 1);
    let seen = standin.seen();
    let suite_token_request = seen
        .iter()
        .find(|s| s.path == SUITE_TOKEN)
        .and_then(|s| s.body.clone())
        .expect("a suite token request");
    assert_eq!(suite_token_request["suite_key"], SUITE_KEY);
    assert_eq!(suite_token_request["suite_ticket"], "t1");
    for s in seen.iter().filter(|s| s.path != SUITE_TOKEN) {
        assert!(s.query.contains_key("suite_access_token"), "{s:?}");
        assert!(!s.query.contains_key("access_token"), "{s:?}");
    }

    // DingTalk drops the suite token: the next call refreshes it once and goes through.
    standin.revoke_tokens();
    standin.clear_seen();
    client
        .auth()
        .activate_suite(SUITE_KEY, "dingA", code.as_str())
        .await
        .expect("activate after the refresh");
    assert_eq!(standin.token_requests_for(SUITE_TOKEN, None), 1);
    assert_eq!(
        standin.business_requests(),
        2,
        "rejected once, then accepted"
    );
}

#[tokio::test]
async fn the_old_form_trades_the_permanent_code_with_the_suite_token() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);
    let corp = client
        .corp_with_permanent_code("dingC", "permanent-c")
        .expect("corp");
    corp.user().get("manager4220").await.expect("user");
    let seen = standin.seen();
    let corp_token = seen
        .iter()
        .find(|s| s.path == CORP_TOKEN)
        .expect("a corp token request");
    assert!(corp_token.query.contains_key("suite_access_token"));
    assert!(!corp_token.query.contains_key("signature"));
    assert_eq!(
        corp_token
            .body
            .as_ref()
            .map(|b| b["permanent_code"].clone()),
        Some("permanent-c".into())
    );
    assert_eq!(
        corp_token.endpoint.as_deref(),
        Some("auth.get_corp_token_by_permanent_code")
    );
    assert!(standin
        .tokens_used()
        .iter()
        .any(|t| t.starts_with("corp-dingC-")));
    assert!(seen.iter().all(|s| s.violations.is_empty()), "{seen:?}");
}

#[tokio::test]
async fn a_rejected_organisation_token_is_refreshed_once() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);
    let corp = client.corp("dingA").expect("corp");
    corp.department().list_sub_ids(1).await.expect("first");
    standin.revoke_tokens();
    corp.department()
        .list_sub_ids(1)
        .await
        .expect("after the refresh");
    assert_eq!(standin.token_requests_for(CORP_TOKEN, Some("dingA")), 2);
    assert_eq!(
        standin.business_requests(),
        3,
        "one rejected call repeated once"
    );
}

#[tokio::test]
async fn a_custom_app_signs_without_a_pushed_ticket() {
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| b.rotate_tokens = true);
    let client = dingtalk::client()
        .custom_app("custom-key", SUITE_SECRET)
        .base_url(standin.base_url())
        .build()
        .expect("client");
    let corp = client.corp("dingA").expect("corp");
    corp.department().list_sub_ids(1).await.expect("call");
    let seen = standin.seen();
    assert!(seen.iter().all(|s| s.violations.is_empty()), "{seen:?}");
    assert_eq!(
        seen[0].query.get("accessKey").map(String::as_str),
        Some("custom-key")
    );
}

#[tokio::test]
async fn the_permanent_code_client_is_kept_and_survives_a_rejected_suite_token() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);
    for _ in 0..3 {
        let corp = client
            .corp_with_permanent_code("dingC", "permanent-c")
            .expect("corp");
        corp.department().list_sub_ids(1).await.expect("call");
    }
    assert_eq!(
        standin.token_requests_for(CORP_TOKEN, Some("dingC")),
        1,
        "the same grant keeps its client and token"
    );
    // The signed form for the same company reuses that client too.
    client
        .corp("dingC")
        .expect("corp")
        .department()
        .list_sub_ids(1)
        .await
        .expect("call");
    assert_eq!(standin.token_requests_for(CORP_TOKEN, Some("dingC")), 1);

    // DingTalk drops every token; the company's token is fetched again with a fresh suite token.
    standin.revoke_tokens();
    standin.clear_seen();
    client
        .corp_with_permanent_code("dingC", "permanent-c")
        .expect("corp")
        .department()
        .list_sub_ids(1)
        .await
        .expect("after the refreshes");
    assert_eq!(standin.token_requests_for(SUITE_TOKEN, None), 1);
    assert_eq!(
        standin.token_requests_for(CORP_TOKEN, Some("dingC")),
        2,
        "rejected with the old suite token, then accepted"
    );
}

fn tmp_auth_code_push(code: &str) -> dingtalk::api::callback::EventTmpAuthCode {
    serde_json::from_value(serde_json::json!({
        "EventType": "tmp_auth_code", "SuiteKey": SUITE_KEY, "AuthCode": code,
        "TimeStamp": now_ms().to_string()
    }))
    .expect("a tmp_auth_code push")
}

#[tokio::test]
async fn the_old_authorisation_flow_trades_the_code_activates_and_gives_the_company_client() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);
    let auth = client
        .accept_authorization(&tmp_auth_code_push("tmp-1"))
        .await
        .expect("authorised");
    assert!(auth.activation.is_ok(), "{:?}", auth.activation);
    // The spec example's organisation and code.
    assert_eq!(auth.corp_id, "dingxxxxxxxx");
    assert_eq!(auth.permanent_code.expose_secret(), "xxxx-permanent-code");
    let seen = standin.seen();
    let body = |endpoint: &str| {
        seen.iter()
            .find(|s| s.endpoint.as_deref() == Some(endpoint))
            .and_then(|s| s.body.clone())
            .unwrap_or_else(|| panic!("no {endpoint} request: {seen:?}"))
    };
    assert_eq!(body("auth.get_permanent_code")["tmp_auth_code"], "tmp-1");
    let activate = body("auth.activate_suite");
    assert_eq!(
        (
            &activate["suite_key"],
            &activate["auth_corpid"],
            &activate["permanent_code"]
        ),
        (
            &serde_json::json!(SUITE_KEY),
            &serde_json::json!("dingxxxxxxxx"),
            &serde_json::json!("xxxx-permanent-code")
        )
    );
    // The company's client works with the permanent code.
    auth.client
        .department()
        .list_sub_ids(1)
        .await
        .expect("call");
    assert_eq!(
        standin.token_requests_for(CORP_TOKEN, Some("dingxxxxxxxx")),
        1
    );
    assert_eq!(standin.token_requests_for(SUITE_TOKEN, None), 1);
}

#[tokio::test]
async fn a_failed_activation_still_returns_the_permanent_code() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);
    let spec = load_spec();
    let example = spec
        .areas
        .iter()
        .flat_map(|a| &a.endpoints)
        .find(|e| e.name == "get_permanent_code")
        .map(|e| e.example.clone())
        .expect("the spec has get_permanent_code");
    standin.configure(|b| {
        b.fail_next
            .push_back(dingtalk_tests::standin::Fault::Json(example));
        b.fail_next
            .push_back(dingtalk_tests::standin::Fault::errcode(40035));
    });
    let auth = client
        .accept_authorization(&tmp_auth_code_push("tmp-2"))
        .await
        .expect("the code was traded");
    assert_eq!(
        auth.activation.as_ref().err().and_then(|e| e.code()),
        Some(40035)
    );
    assert_eq!(auth.permanent_code.expose_secret(), "xxxx-permanent-code");
    // A push for another suite is refused before anything is sent.
    standin.clear_seen();
    let mut other = tmp_auth_code_push("tmp-3");
    other.suite_key = Some("another-suite".into());
    assert!(matches!(
        client.accept_authorization(&other).await,
        Err(Error::Config(_))
    ));
    assert!(standin.seen().is_empty());
}

#[tokio::test]
async fn a_forgotten_organisation_starts_afresh() {
    let standin = standin("t1").await;
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let client = suite_client(&standin, Some(Arc::clone(&store)));
    assert!(accept(&client, &pushed_ticket("t1", now_ms())).await);
    client
        .corp("dingA")
        .expect("corp")
        .department()
        .list_sub_ids(1)
        .await
        .expect("call");
    assert!(store
        .get("dingtalk:corp_token:suite-abc:dingA")
        .await
        .ok()
        .flatten()
        .is_some());
    // The company revoked the suite (`suite_relieve`): its client and token go.
    assert!(client.forget_corp("dingA").await);
    assert!(!client.forget_corp("dingA").await, "already forgotten");
    assert_eq!(
        store.get("dingtalk:corp_token:suite-abc:dingA").await,
        Ok(None)
    );
    client
        .corp("dingA")
        .expect("corp")
        .department()
        .list_sub_ids(1)
        .await
        .expect("call");
    assert_eq!(standin.token_requests_for(CORP_TOKEN, Some("dingA")), 2);
}

/// The v1.0 token forms, when the client prefers api.dingtalk.com's: the suite token from
/// `POST /v1.0/oauth2/suiteAccessToken`, each organisation's from
/// `POST /v1.0/oauth2/corpAccessToken`, with the pushed ticket in the body; the organisation's
/// token then serves both hosts.
#[tokio::test]
async fn the_v1_forms_fetch_the_suite_and_organisation_tokens() {
    let standin = standin("t-v1").await;
    let client = dingtalk::client()
        .suite(SUITE_KEY, SUITE_SECRET)
        .base_url(standin.base_url())
        .token_host(dingtalk::Host::Api)
        .build()
        .expect("client");
    client
        .set_suite_ticket("t-v1", now_ms())
        .await
        .expect("keep");
    let corp = client.corp("dingA").expect("corp client");
    corp.user().get("manager4220").await.expect("oapi call");
    corp.robot()
        .batch_send_oto(
            "dingkey",
            vec!["manager4220".into()],
            dingtalk::api::robot::RobotMessage::SampleText(
                dingtalk::api::robot::RobotSampleText::new("hi"),
            ),
        )
        .await
        .expect("api call");
    let suite_token = client.suite_access_token().await.expect("suite token");
    assert!(suite_token.expose_secret().starts_with("suite-"));
    let seen = standin.seen();
    let corp_tokens: Vec<_> = seen
        .iter()
        .filter(|s| s.path == "/v1.0/oauth2/corpAccessToken")
        .collect();
    assert_eq!(
        corp_tokens.len(),
        1,
        "one organisation token for both hosts"
    );
    let body = corp_tokens[0].body.clone().unwrap_or_default();
    assert_eq!(body["authCorpId"], "dingA");
    assert_eq!(body["suiteKey"], SUITE_KEY);
    assert_eq!(body["suiteTicket"], "t-v1");
    assert!(seen.iter().all(|s| s.violations.is_empty()), "{seen:?}");
    assert_eq!(standin.token_requests_for(CORP_TOKEN, Some("dingA")), 0);
    assert_eq!(
        seen.iter()
            .filter(|s| s.path == "/v1.0/oauth2/suiteAccessToken")
            .count(),
        1
    );
    assert_eq!(standin.token_requests_for(SUITE_TOKEN, None), 0);
}

/// A suite client that can ask DingTalk for a new ticket push (`suite_id`), with a short wait.
fn recovering_client(standin: &StandIn, wait: std::time::Duration) -> Client {
    dingtalk::client()
        .suite(SUITE_KEY, SUITE_SECRET)
        .suite_id("12345678")
        .suite_ticket_wait(wait)
        .base_url(standin.base_url())
        .build()
        .expect("client")
}

/// Plays DingTalk's answer to a request for a new push: after `delay`, the app's callback
/// receives `ticket` and keeps it.
fn push_on_request(standin: &StandIn, client: &Client, ticket: &'static str, delay_ms: u64) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    standin.configure(|b| b.on_ticket_push = Some(tx));
    let client = client.clone();
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
            let event = pushed_ticket(ticket, now_ms());
            accept(&client, &event).await;
        }
    });
}

const REPUSH: &str = "/v1.0/event/suiteTicket/rePush";

fn repushes(standin: &StandIn) -> Vec<dingtalk_tests::standin::Seen> {
    standin
        .seen()
        .into_iter()
        .filter(|s| s.path == REPUSH)
        .collect()
}

#[tokio::test]
async fn a_missing_ticket_is_asked_for_once_and_waited_for() {
    let standin = standin("t-fresh").await;
    let client = recovering_client(&standin, std::time::Duration::from_secs(5));
    push_on_request(&standin, &client, "t-fresh", 150);
    // Three organisations' first calls at once: one request for a push, all wait for it.
    let calls = ["dingA", "dingB", "dingC"].map(|corp| {
        let corp = client.corp(corp).expect("corp client");
        tokio::spawn(async move { corp.user().get("manager4220").await.map(|_| ()) })
    });
    for call in calls {
        call.await
            .expect("task")
            .expect("the call succeeds after the push");
    }
    let asked = repushes(&standin);
    assert_eq!(asked.len(), 1, "one request for all waiting calls");
    assert_eq!(
        asked[0].query.get("suiteId").map(String::as_str),
        Some("12345678")
    );
    assert_eq!(
        asked[0].query.get("suiteSecret").map(String::as_str),
        Some(SUITE_SECRET)
    );
    assert!(standin.seen().iter().all(|s| s.violations.is_empty()));
}

#[tokio::test]
async fn a_refused_ticket_is_replaced_and_the_token_fetched_once_more() {
    // DingTalk moved on to `t-new`; the client still holds `t-old`.
    let standin = standin("t-new").await;
    let client = recovering_client(&standin, std::time::Duration::from_secs(5));
    client
        .set_suite_ticket("t-old", now_ms())
        .await
        .expect("keep");
    push_on_request(&standin, &client, "t-new", 50);
    let token = client
        .suite_access_token()
        .await
        .expect("token after the new push");
    assert!(token.expose_secret().starts_with("suite-"));
    let fetches: Vec<_> = standin
        .seen()
        .into_iter()
        .filter(|s| s.path == SUITE_TOKEN)
        .collect();
    assert_eq!(
        fetches.len(),
        2,
        "refused once, then once with the new ticket"
    );
    assert_eq!(
        fetches[1].body.clone().unwrap_or_default()["suite_ticket"],
        "t-new"
    );
    assert_eq!(repushes(&standin).len(), 1);
}

#[tokio::test]
async fn a_push_that_never_comes_fails_typed_after_the_wait_and_is_not_asked_again_at_once() {
    let standin = standin("t-never").await;
    let wait = std::time::Duration::from_millis(300);
    let client = recovering_client(&standin, wait);
    let corp = client.corp("dingA").expect("corp client");
    let started = std::time::Instant::now();
    let err = corp.user().get("manager4220").await.expect_err("no ticket");
    let waited = started.elapsed();
    assert!(matches!(&err, Error::MissingSuiteTicket { .. }), "{err:?}");
    assert!(
        waited >= wait && waited < wait * 4,
        "waited {waited:?} for a {wait:?} wait"
    );
    // Within the cool-off, the next call fails at once without asking again.
    let started = std::time::Instant::now();
    let again = corp
        .user()
        .get("manager4220")
        .await
        .expect_err("still none");
    assert!(
        matches!(&again, Error::MissingSuiteTicket { .. }),
        "{again:?}"
    );
    assert!(started.elapsed() < wait, "{:?}", started.elapsed());
    assert_eq!(repushes(&standin).len(), 1);
    assert_eq!(
        standin.business_requests(),
        1,
        "only the request for a push"
    );
}

#[tokio::test]
async fn without_a_suite_id_a_missing_ticket_fails_at_once() {
    let standin = standin("t1").await;
    let client = suite_client(&standin, None);
    let started = std::time::Instant::now();
    let err = client.suite_access_token().await.expect_err("no ticket");
    assert!(
        matches!(&err, Error::MissingSuiteTicket { suite_key } if suite_key == SUITE_KEY),
        "{err:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    assert!(repushes(&standin).is_empty());
}
