//! DingPan's chunked upload as one call, against a local server that implements the single
//! upload and the open → chunk → commit transaction and reassembles what it receives.

use dingtalk::prelude::*;
use dingtalk_workflows::prelude::*;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Query;
use axum::routing::{get, post};
use axum::Json;
use dingtalk_tests::client_for as client;
use serde_json::json;

#[derive(Default)]
struct Seen {
    calls: Vec<String>,
    chunks: Vec<(i64, usize)>,
}

/// The file bytes inside a multipart body (between the part headers and the closing boundary).
fn part_len(body: &[u8]) -> usize {
    let text = body;
    let start = text
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(0, |p| p + 4);
    let end = text
        .windows(4)
        .rposition(|w| w == b"\r\n--")
        .unwrap_or(text.len());
    end.saturating_sub(start)
}

async fn server() -> (String, Arc<Mutex<Seen>>) {
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let (a, b, c) = (Arc::clone(&seen), Arc::clone(&seen), Arc::clone(&seen));
    let app = axum::Router::new()
        .route(
            "/gettoken",
            get(|| async { Json(json!({"errcode": 0, "access_token": "t", "expires_in": 7200})) }),
        )
        .route(
            "/file/upload/single",
            post(
                move |Query(q): Query<Vec<(String, String)>>, body: Bytes| async move {
                    let size = q
                        .iter()
                        .find(|(k, _)| k == "file_size")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    a.lock()
                        .expect("lock")
                        .calls
                        .push(format!("single {size} {}", part_len(&body)));
                    Json(json!({"errcode": 0, "media_id": "#single"}))
                },
            ),
        )
        .route(
            "/file/upload/transaction",
            get(move |Query(q): Query<Vec<(String, String)>>| async move {
                let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                match get("upload_id") {
                    None => {
                        b.lock().expect("lock").calls.push(format!(
                            "open {} {}",
                            get("file_size").unwrap_or_default(),
                            get("chunk_numbers").unwrap_or_default()
                        ));
                        Json(json!({"errcode": 0, "upload_id": "up#1"}))
                    }
                    Some(id) => {
                        b.lock().expect("lock").calls.push(format!("commit {id}"));
                        Json(json!({"errcode": 0, "media_id": "#chunked"}))
                    }
                }
            }),
        )
        .route(
            "/file/upload/chunk",
            post(
                move |Query(q): Query<Vec<(String, String)>>, body: Bytes| async move {
                    let seq = q
                        .iter()
                        .find(|(k, _)| k == "chunk_sequence")
                        .and_then(|(_, v)| v.parse().ok())
                        .unwrap_or(-1);
                    let id = q
                        .iter()
                        .find(|(k, _)| k == "upload_id")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let mut s = c.lock().expect("lock");
                    s.calls.push(format!("chunk {id} {seq}"));
                    s.chunks.push((seq, part_len(&body)));
                    Json(json!({"errcode": 0}))
                },
            ),
        );
    let url = dingtalk_tests::serve(app).await;
    (url, seen)
}

const KB: usize = 1024;

#[tokio::test]
async fn a_large_file_goes_up_in_chunks_with_progress() {
    let (url, seen) = server().await;
    let file = dingtalk::UploadFile::from_bytes("big.bin", vec![7u8; 250 * KB]);
    let mut reports = Vec::new();
    let media_id = client(&url)
        .cspace()
        .upload_file(42, file, 101 * KB, |p| reports.push(p))
        .await
        .expect("upload");
    assert_eq!(media_id, "#chunked");
    let s = seen.lock().expect("lock");
    assert_eq!(
        s.calls,
        [
            "open 256000 3",
            "chunk up#1 1",
            "chunk up#1 2",
            "chunk up#1 3",
            "commit up#1"
        ]
    );
    assert_eq!(s.chunks, [(1, 101 * KB), (2, 101 * KB), (3, 48 * KB)]);
    let sent: Vec<(u64, usize)> = reports.iter().map(|p| (p.sent, p.chunk)).collect();
    assert_eq!(
        sent,
        [
            (101 * KB as u64, 1),
            (202 * KB as u64, 2),
            (250 * KB as u64, 3)
        ]
    );
    assert!(reports
        .iter()
        .all(|p| p.total == 250 * KB as u64 && p.chunks == 3));
}

#[tokio::test]
async fn a_file_within_one_chunk_goes_up_in_one_call() {
    let (url, seen) = server().await;
    let file = dingtalk::UploadFile::from_bytes("small.txt", vec![1u8; 1000]);
    let mut reports = Vec::new();
    let media_id = client(&url)
        .cspace()
        .upload_file(42, file, 8 * KB * KB, |p| reports.push(p))
        .await
        .expect("upload");
    assert_eq!(media_id, "#single");
    assert_eq!(seen.lock().expect("lock").calls, ["single 1000 1000"]);
    assert_eq!(reports.len(), 1);
}

#[tokio::test]
async fn chunk_sizes_outside_the_limits_are_refused_before_sending() {
    let (url, seen) = server().await;
    for chunk_size in [100 * KB, 8 * KB * KB + 1] {
        let file = dingtalk::UploadFile::from_bytes("f", vec![0u8; 10]);
        let err = client(&url)
            .cspace()
            .upload_file(42, file, chunk_size, |_| {})
            .await
            .expect_err("bad chunk size");
        assert!(matches!(err, dingtalk::Error::Invalid { .. }), "{err:?}");
    }
    assert!(seen.lock().expect("lock").calls.is_empty());
}
