//! The generated `pages()` / `items()` walkers against a local server that serves scripted
//! pages: cursor style, offset style, an empty last page, a cursor that stops moving, and an
//! error part-way.

use dingtalk::prelude::*;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::Json;
use dingtalk::runtime::paginate::{StreamExt, TryStreamExt};
use dingtalk_tests::client_for as client;
use serde_json::{json, Value};

type Script = Arc<Mutex<Vec<Value>>>;

/// Serves `pages` in order to POST /topapi/v2/user/list and GET /user/listbypage, recording
/// the request positions.
async fn server(pages: Vec<Value>) -> (String, Script, Arc<Mutex<Vec<i64>>>) {
    let script: Script = Arc::new(Mutex::new(pages.into_iter().rev().collect()));
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let state = (Arc::clone(&script), Arc::clone(&seen));
    let app = axum::Router::new()
        .route(
            "/gettoken",
            get(|| async { Json(json!({"errcode": 0, "access_token": "t", "expires_in": 7200})) }),
        )
        .route(
            "/topapi/v2/user/list",
            post(
                |State((script, seen)): State<(Script, Arc<Mutex<Vec<i64>>>)>,
                 Json(body): Json<Value>| async move {
                    seen.lock()
                        .expect("lock")
                        .push(body["cursor"].as_i64().unwrap_or(-1));
                    Json(script.lock().expect("lock").pop().unwrap_or(
                        json!({"errcode": 0, "result": {"has_more": false, "list": []}}),
                    ))
                },
            ),
        )
        .route(
            "/user/listbypage",
            get(
                |State((script, seen)): State<(Script, Arc<Mutex<Vec<i64>>>)>,
                 Query(q): Query<Vec<(String, String)>>| async move {
                    let offset = q
                        .iter()
                        .find(|(k, _)| k == "offset")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(-1);
                    seen.lock().expect("lock").push(offset);
                    Json(
                        script
                            .lock()
                            .expect("lock")
                            .pop()
                            .unwrap_or(json!({"errcode": 0, "hasMore": false, "userlist": []})),
                    )
                },
            ),
        )
        .with_state(state);
    let url = dingtalk_tests::serve(app).await;
    (url, script, seen)
}

fn cursor_page(ids: &[&str], next: Option<i64>, more: bool) -> Value {
    let list: Vec<Value> = ids
        .iter()
        .map(|id| json!({"userid": id, "name": id}))
        .collect();
    let mut result = json!({"has_more": more, "list": list});
    if let Some(n) = next {
        result["next_cursor"] = json!(n);
    }
    json!({"errcode": 0, "result": result})
}

#[tokio::test]
async fn cursor_pages_are_followed_until_has_more_is_false() {
    let (url, _, seen) = server(vec![
        cursor_page(&["a", "b"], Some(2), true),
        cursor_page(&["c", "d"], Some(4), true),
        cursor_page(&["e"], None, false),
    ])
    .await;
    let client = client(&url);
    let ids: Vec<String> = client
        .user()
        .list(100, 0, 2)
        .items()
        .map_ok(|u| u.userid)
        .try_collect()
        .await
        .expect("walk");
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_eq!(*seen.lock().expect("lock"), [0, 2, 4]);
}

#[tokio::test]
async fn an_empty_last_page_ends_the_walk() {
    let (url, _, seen) = server(vec![
        cursor_page(&["a"], Some(1), true),
        cursor_page(&[], Some(2), true),
    ])
    .await;
    let pages: Vec<_> = client(&url).user().list(100, 0, 1).pages().collect().await;
    assert_eq!(pages.len(), 2);
    assert_eq!(*seen.lock().expect("lock"), [0, 1]);
}

#[tokio::test]
async fn a_cursor_that_stops_moving_ends_the_walk() {
    let (url, _, seen) = server(vec![
        cursor_page(&["a"], Some(5), true),
        cursor_page(&["b"], Some(5), true),
    ])
    .await;
    let ids: Vec<String> = client(&url)
        .user()
        .list(100, 0, 1)
        .items()
        .map_ok(|u| u.userid)
        .try_collect()
        .await
        .expect("walk");
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(*seen.lock().expect("lock"), [0, 5]);
}

#[tokio::test]
async fn an_error_part_way_is_reported_once_and_ends_the_walk() {
    let (url, _, seen) = server(vec![
        cursor_page(&["a"], Some(1), true),
        json!({"errcode": 60011, "errmsg": "no permission"}),
        cursor_page(&["never"], None, false),
    ])
    .await;
    let items: Vec<_> = client(&url).user().list(100, 0, 1).items().collect().await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().map(|u| u.userid.as_str()).ok(), Some("a"));
    assert_eq!(items[1].as_ref().err().and_then(|e| e.code()), Some(60011));
    assert_eq!(seen.lock().expect("lock").len(), 2);
}

#[tokio::test]
#[allow(deprecated)]
async fn offset_pages_advance_by_the_page_size_and_stop_on_a_short_page() {
    let page = |ids: &[&str], more: bool| {
        let list: Vec<Value> = ids
            .iter()
            .map(|id| json!({"userid": id, "name": id}))
            .collect();
        json!({"errcode": 0, "hasMore": more, "userlist": list})
    };
    // The third page is short: the walk ends there even though hasMore says otherwise.
    let (url, _, seen) = server(vec![
        page(&["a", "b"], true),
        page(&["c", "d"], true),
        page(&["e"], true),
        page(&["x"], true),
    ])
    .await;
    let ids: Vec<String> = client(&url)
        .user()
        .legacy_list_by_page(1, 0, 2)
        .items()
        .map_ok(|u| u.userid)
        .try_collect()
        .await
        .expect("walk");
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    assert_eq!(*seen.lock().expect("lock"), [0, 2, 4]);
}

#[tokio::test]
async fn a_cursor_that_cycles_ends_the_walk_with_a_typed_error() {
    // A → B → A → B …: the stand-in would cycle forever.
    let pages = (0..20)
        .map(|i| cursor_page(&["x"], Some(if i % 2 == 0 { 7 } else { 0 }), true))
        .collect();
    let (url, _, seen) = server(pages).await;
    let pages: Vec<_> = client(&url).user().list(100, 0, 1).pages().collect().await;
    assert_eq!(pages.len(), 3, "two pages, then the error");
    assert!(pages[..2].iter().all(Result::is_ok));
    assert!(
        matches!(
            &pages[2],
            Err(dingtalk::Error::Paging {
                pages: 2,
                reason: dingtalk::PagingStop::Cycle,
                ..
            })
        ),
        "{:?}",
        pages[2]
    );
    assert_eq!(
        *seen.lock().expect("lock"),
        [0, 7],
        "the repeated request is not sent"
    );
}

#[tokio::test]
async fn a_walk_stops_at_the_page_cap() {
    let pages = (1..=10)
        .map(|i| cursor_page(&["x"], Some(i), true))
        .collect();
    let (url, _, seen) = server(pages).await;
    let client = dingtalk::client()
        .app_key("k", "s")
        .base_url(&url)
        .max_pages(3)
        .build()
        .expect("client");
    let pages: Vec<_> = client.user().list(100, 0, 1).pages().collect().await;
    assert_eq!(pages.len(), 4);
    assert!(
        matches!(
            &pages[3],
            Err(dingtalk::Error::Paging {
                pages: 3,
                reason: dingtalk::PagingStop::PageCap,
                ..
            })
        ),
        "{:?}",
        pages[3]
    );
    assert_eq!(seen.lock().expect("lock").len(), 3);
}

#[tokio::test]
#[allow(deprecated)]
async fn an_offset_that_would_overflow_ends_the_walk() {
    let page = json!({"errcode": 0, "hasMore": true, "userlist": [
        {"userid": "a", "name": "a"}, {"userid": "b", "name": "b"}
    ]});
    let (url, _, seen) = server(vec![page.clone(), page]).await;
    let ids: Vec<String> = client(&url)
        .user()
        .legacy_list_by_page(1, i64::MAX - 1, 2)
        .items()
        .map_ok(|u| u.userid)
        .try_collect()
        .await
        .expect("walk");
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(*seen.lock().expect("lock"), [i64::MAX - 1]);
}

/// Serves `pages` in order at GET /v1.0/contact/empLeaveRecords (api.dingtalk.com's string
/// `nextToken` cursor), recording each request's `nextToken` (`-` for none) and token header.
async fn token_server(pages: Vec<Value>) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    type Seen = Arc<Mutex<Vec<(String, String)>>>;
    let script: Script = Arc::new(Mutex::new(pages.into_iter().rev().collect()));
    let seen: Seen = Arc::default();
    let state = (Arc::clone(&script), Arc::clone(&seen));
    let app = axum::Router::new()
        .route(
            "/gettoken",
            get(|| async { Json(json!({"errcode": 0, "access_token": "t", "expires_in": 7200})) }),
        )
        .route(
            "/v1.0/contact/empLeaveRecords",
            get(
                |State((script, seen)): State<(Script, Seen)>,
                 headers: axum::http::HeaderMap,
                 Query(q): Query<Vec<(String, String)>>| async move {
                    let token = q
                        .iter()
                        .find(|(k, _)| k == "nextToken")
                        .map_or("-".to_string(), |(_, v)| v.clone());
                    let header = headers
                        .get("x-acs-dingtalk-access-token")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    seen.lock().expect("lock").push((token, header));
                    Json(
                        script
                            .lock()
                            .expect("lock")
                            .pop()
                            .unwrap_or(json!({"records": []})),
                    )
                },
            ),
        )
        .with_state(state);
    let url = dingtalk_tests::serve(app).await;
    (url, seen)
}

fn leave_page(ids: &[&str], next: Option<&str>) -> Value {
    let records: Vec<Value> = ids
        .iter()
        .map(|id| json!({"userId": id, "name": id, "leaveTime": "2024-01-15T10:00:00Z"}))
        .collect();
    let mut page = json!({"records": records});
    if let Some(n) = next {
        page["nextToken"] = json!(n);
    }
    page
}

#[tokio::test]
async fn next_tokens_are_followed_until_the_answer_has_none() {
    let (url, seen) = token_server(vec![
        leave_page(&["a", "b"], Some("t1")),
        leave_page(&["c"], Some("t2")),
        leave_page(&["d"], Some("")),
        leave_page(&["never"], None),
    ])
    .await;
    let client = client(&url);
    let ids: Vec<String> = client
        .contact()
        .list_emp_leave_records("2024-01-01T00:00:00Z", 50)
        .items()
        .map_ok(|r| r.user_id)
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(ids, ["a", "b", "c", "d"]);
    let seen = seen.lock().expect("lock").clone();
    // The first page has no token; each next one the previous answer's; all carry the app
    // token in the header (the one /gettoken issued).
    assert_eq!(
        seen,
        [("-", "t"), ("t1", "t"), ("t2", "t")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
}

#[tokio::test]
async fn a_next_token_that_repeats_ends_the_walk() {
    let (url, seen) = token_server(vec![
        leave_page(&["a"], Some("t1")),
        leave_page(&["b"], Some("t1")),
        leave_page(&["never"], Some("t2")),
    ])
    .await;
    let pages: Vec<_> = client(&url)
        .contact()
        .list_emp_leave_records("2024-01-01T00:00:00Z", 50)
        .pages()
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(pages.len(), 2);
    assert_eq!(seen.lock().expect("lock").len(), 2);
}
