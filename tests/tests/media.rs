//! Uploads go out as multipart with the file in the named part; downloads come back as bytes,
//! follow redirects, and turn DingTalk's JSON error envelope into the usual API error.

use dingtalk::prelude::*;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Json;
use dingtalk_tests::client_for as client;
use serde_json::json;

async fn server() -> (String, Arc<Mutex<Vec<String>>>) {
    let uploads: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = Arc::clone(&uploads);
    let app = axum::Router::new()
        .route("/gettoken", get(|| async { Json(json!({"errcode": 0, "access_token": "t", "expires_in": 7200})) }))
        .route(
            "/media/upload",
            post(move |headers: HeaderMap, body: Bytes| {
                let sink = Arc::clone(&sink);
                async move {
                    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                    sink.lock().expect("lock").push(format!("{ct}\n{}", String::from_utf8_lossy(&body)));
                    Json(json!({"errcode": 0, "type": "file", "media_id": "@media1", "created_at": 1}))
                }
            }),
        )
        .route(
            "/media/downloadFile",
            get(|axum::extract::Query(q): axum::extract::Query<Vec<(String, String)>>| async move {
                let id = q.iter().find(|(k, _)| k == "media_id").map(|(_, v)| v.clone()).unwrap_or_default();
                if id == "@missing" {
                    return (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], json!({"errcode": 40007, "errmsg": "不合法的媒体文件id"}).to_string()).into_response();
                }
                (StatusCode::OK, [(header::CONTENT_TYPE, "image/png")], vec![0x89u8, b'P', b'N', b'G']).into_response()
            }),
        )
        .route("/media/get", get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/files/a.jpg")]) }))
        .route("/files/a.jpg", get(|| async { ([(header::CONTENT_TYPE, "image/jpeg")], "jpeg bytes") }));
    let url = dingtalk_tests::serve(app).await;
    (url, uploads)
}

#[tokio::test]
async fn an_upload_from_a_file_on_disk_is_multipart_with_the_media_part() {
    let (url, uploads) = server().await;
    let path = std::env::temp_dir().join(format!("dingtalk-upload-{}.txt", std::process::id()));
    std::fs::write(&path, "report contents").expect("write");
    let file = dingtalk::UploadFile::from_path(&path)
        .await
        .expect("read")
        .content_type("text/plain");
    let _ = std::fs::remove_file(&path);
    let out = client(&url)
        .media()
        .upload(dingtalk::api::media::MediaType::File, file)
        .await
        .expect("upload");
    assert_eq!(out.media_id, "@media1");
    let seen = uploads.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    assert!(
        seen[0].starts_with("multipart/form-data; boundary="),
        "{}",
        seen[0]
    );
    assert!(
        seen[0].contains("name=\"media\"; filename=\"dingtalk-upload-"),
        "{}",
        seen[0]
    );
    assert!(seen[0].contains("Content-Type: text/plain"), "{}", seen[0]);
    assert!(seen[0].contains("report contents"));
}

#[tokio::test]
async fn a_download_returns_the_bytes_and_their_type() {
    let (url, _) = server().await;
    let file = client(&url)
        .media()
        .download_file("@lADO#$")
        .await
        .expect("download");
    assert_eq!(&file.bytes[..], b"\x89PNG");
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
}

#[tokio::test]
async fn a_json_error_instead_of_a_file_is_an_api_error() {
    let (url, _) = server().await;
    let err = client(&url)
        .media()
        .download_file("@missing")
        .await
        .expect_err("no such media");
    assert_eq!(err.code(), Some(40007));
    assert_eq!(err.class(), dingtalk::ErrorClass::NotFound);
}

#[tokio::test]
async fn a_redirect_to_the_file_is_followed() {
    let (url, _) = server().await;
    let file = client(&url).media().get("@x").await.expect("download");
    assert_eq!(&file.bytes[..], b"jpeg bytes");
    assert_eq!(file.content_type.as_deref(), Some("image/jpeg"));
}

#[tokio::test]
async fn a_bad_content_type_is_refused_before_sending() {
    let (url, uploads) = server().await;
    let file = dingtalk::UploadFile::from_bytes("a.txt", &b"x"[..]).content_type("not a type");
    let err = client(&url)
        .media()
        .upload(dingtalk::api::media::MediaType::File, file)
        .await
        .expect_err("bad type");
    assert!(matches!(err, dingtalk::Error::Invalid { .. }), "{err:?}");
    assert!(uploads.lock().expect("lock").is_empty());
}
