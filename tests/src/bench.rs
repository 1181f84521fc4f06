//! What the benchmark binaries share: a local server that answers with fixed bytes (so the
//! client's own work is what differs), the runtime they measure on, and the median.

use axum::routing::{get, post};

/// The token every token path answers with.
pub const TOKEN: &str =
    r#"{"errcode":0,"errmsg":"ok","access_token":"bench-token","expires_in":7200}"#;
/// The answer of `department.list_sub_ids`, the call the benchmarks make.
pub const ANSWER: &str =
    r#"{"errcode":0,"errmsg":"ok","request_id":"bench","result":{"dept_id_list":[2,3,4,5,6,7,8]}}"#;

/// `cargo test --all-targets` runs benches in test mode, without `--bench`: a quick round only.
pub fn quick() -> bool {
    !std::env::args().any(|a| a == "--bench")
}

/// A one-worker runtime, so the client and the server take turns the same way every run.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"))
}

/// Serves [`TOKEN`] on `/gettoken` and `/service/get_corp_token` and [`ANSWER`] on
/// `department.list_sub_ids`; returns the base URL.
pub fn fixed_server(rt: &tokio::runtime::Runtime) -> String {
    let json =
        |body: &'static str| move || async move { ([("content-type", "application/json")], body) };
    let app = axum::Router::new()
        .route("/gettoken", get(json(TOKEN)))
        .route("/service/get_corp_token", post(json(TOKEN)))
        .route("/topapi/v2/department/listsubid", post(json(ANSWER)));
    rt.block_on(crate::serve(app))
}

/// The median of `v` (sorted in place).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}
