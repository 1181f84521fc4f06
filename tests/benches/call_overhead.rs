//! The cost of a call through the client against a bare reqwest call to the same local URL,
//! measured side by side. Both use one reqwest client (so one connection pool and the same
//! settings), and the server on 127.0.0.1 answers with fixed bytes, so the difference is the
//! SDK's own work: token cache read, request building, limit checks, the errcode envelope and
//! typed decoding.
//!
//! - baseline: reqwest POSTs the JSON body with the token in the query and parses the answer
//!   into a `serde_json::Value`;
//! - client: `client.department().list_sub_ids(1).await`;
//! - cached token read: `client.access_token()` on a warm cache (lock-free).

use axum::routing::{get, post};
use criterion::{criterion_group, criterion_main, Criterion};

const TOKEN: &str = r#"{"errcode":0,"errmsg":"ok","access_token":"bench-token","expires_in":7200}"#;
const ANSWER: &str =
    r#"{"errcode":0,"errmsg":"ok","request_id":"bench","result":{"dept_id_list":[2,3,4,5,6,7,8]}}"#;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new()
        .route(
            "/gettoken",
            get(|| async { ([("content-type", "application/json")], TOKEN) }),
        )
        .route(
            "/topapi/v2/department/listsubid",
            post(|| async { ([("content-type", "application/json")], ANSWER) }),
        );
    rt.spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::new();
    let client = dingtalk::Client::builder()
        .app_key("dingkey", "secret")
        .base_url(&base)
        .http_client(http.clone())
        .build()
        .expect("client");
    let token = rt.block_on(client.access_token()).expect("token");
    let url = format!(
        "{base}/topapi/v2/department/listsubid?access_token={}",
        token.expose_secret()
    );

    let mut group = c.benchmark_group("call");
    group.bench_function("baseline: bare reqwest", |b| {
        b.to_async(&rt).iter(|| async {
            let resp = http
                .post(&url)
                .header("content-type", "application/json")
                .body(r#"{"dept_id":1}"#)
                .send()
                .await
                .expect("send");
            let bytes = resp.bytes().await.expect("body");
            serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")
        })
    });
    group.bench_function("client: department().list_sub_ids", |b| {
        b.to_async(&rt)
            .iter(|| async { client.department().list_sub_ids(1).await.expect("call") })
    });
    group.finish();

    c.bench_function("cached token read", |b| {
        b.to_async(&rt)
            .iter(|| async { client.access_token().await.expect("token") })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
