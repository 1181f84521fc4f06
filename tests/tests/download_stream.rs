//! A streamed download (`Client::download_to`) writes the file as it arrives: a 1 GiB file goes
//! through in small, constant memory. Its own test binary, so the process's peak memory is this
//! download's.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::routing::get;
use axum::Json;
use dingtalk::api::media::MediaDownloadFileRequest;
use serde_json::json;

const GIB: u64 = 1 << 30;
const CHUNK: usize = 256 << 10;

/// Counts what is written, keeps nothing.
#[derive(Default)]
struct Counter(u64);

impl tokio::io::AsyncWrite for Counter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0 += buf.len() as u64;
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// The process's peak resident memory so far, in KiB (Linux).
fn peak_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn server() -> String {
    let app = axum::Router::new()
        .route(
            "/gettoken",
            get(|| async { Json(json!({"errcode": 0, "access_token": "t", "expires_in": 7200})) }),
        )
        .route(
            "/media/downloadFile",
            get(
                |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                    if q.get("media_id").map(String::as_str) == Some("@missing") {
                        return (
                            [("content-type", "application/json")],
                            axum::body::Body::from(
                                r#"{"errcode":40007,"errmsg":"不合法的媒体文件id"}"#,
                            ),
                        );
                    }
                    let chunk = axum::body::Bytes::from(vec![0u8; CHUNK]);
                    let chunks = (GIB / CHUNK as u64) as usize;
                    let stream = futures_util::stream::iter(
                        std::iter::repeat_n(chunk, chunks).map(Ok::<_, std::io::Error>),
                    );
                    (
                        [("content-type", "application/octet-stream")],
                        axum::body::Body::from_stream(stream),
                    )
                },
            ),
        );
    dingtalk_tests::serve(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gigabyte_download_streams_in_constant_memory() {
    let url = server().await;
    let client = dingtalk_tests::client_for(&url);
    client.access_token().await.expect("token");
    let before = peak_kib();
    let mut out = Counter::default();
    let (file, written) = client
        .download_to(&MediaDownloadFileRequest::new("@big"), &mut out)
        .await
        .expect("download");
    assert_eq!((written, out.0), (GIB, GIB));
    assert!(file.bytes.is_empty(), "the bytes went to the writer");
    assert_eq!(
        file.content_type.as_deref(),
        Some("application/octet-stream")
    );
    let grown_mib = peak_kib().saturating_sub(before) / 1024;
    eprintln!("1 GiB streamed; peak memory grew by {grown_mib} MiB");
    assert!(grown_mib < 64, "peak memory grew by {grown_mib} MiB");

    // DingTalk's JSON error instead of a file is an error, and nothing is written.
    let mut out = Counter::default();
    let err = client
        .download_to(&MediaDownloadFileRequest::new("@missing"), &mut out)
        .await
        .expect_err("no such media");
    assert_eq!(err.code(), Some(40007));
    assert_eq!(out.0, 0);
}
