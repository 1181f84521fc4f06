//! The cost of a call through the client against a bare reqwest call to the same local URL.
//!
//! Both use one reqwest client (one connection pool, the same settings), and the server on
//! 127.0.0.1 answers with fixed bytes, so the difference is the SDK's own work: token cache
//! read, request building, limit checks, the errcode envelope and typed decoding.
//!
//! - baseline: reqwest POSTs the JSON body with the token in the query and parses the answer
//!   into a `serde_json::Value`;
//! - client: `client.department().list_sub_ids(1).await`.
//!
//! Both are measured one call at a time and 64 calls in flight (the same 64-call batches of
//! each, joined).
//!
//! This machine class is noisy, so the two are interleaved: many short rounds alternate
//! between them, and the report gives the median per-call time of each and the median of the
//! per-round ratios. Run with `cargo bench -p dingtalk-tests --bench call_overhead`.

use dingtalk::prelude::*;
use std::time::{Duration, Instant};

use dingtalk_tests::bench::{fixed_server, median, quick, runtime};

const ROUNDS: usize = 60;
const CALLS_PER_ROUND: u32 = 200;

fn main() {
    let quick = quick();
    let rt = runtime();
    let base = fixed_server(&rt);

    let http = reqwest::Client::new();
    let client = dingtalk::client()
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

    let baseline = || async {
        let resp = http
            .post(&url)
            .header("content-type", "application/json")
            .body(r#"{"dept_id":1}"#)
            .send()
            .await
            .expect("send");
        let bytes = resp.bytes().await.expect("body");
        serde_json::from_slice::<serde_json::Value>(&bytes).expect("json")
    };
    let sdk = || async { client.department().list_sub_ids(1).await.expect("call") };

    let (rounds, calls) = if quick {
        (1, 5)
    } else {
        (ROUNDS, CALLS_PER_ROUND)
    };
    rt.block_on(async {
        // Warm up connections and caches.
        for _ in 0..calls {
            baseline().await;
            sdk().await;
        }
    });
    let (b, s, r) = interleaved(&rt, rounds, calls, |sdk_turn, n| async move {
        for _ in 0..n {
            if sdk_turn {
                sdk().await;
            } else {
                baseline().await;
            }
        }
    });
    println!("call overhead ({rounds} interleaved rounds of {calls} calls)");
    println!("  baseline, bare reqwest:             {b:8.1} µs/call (median)");
    println!("  client, department().list_sub_ids:  {s:8.1} µs/call (median)");
    println!("  ratio client / baseline:            {r:8.3} (median of per-round ratios)");

    // 64 in flight: batches of 64 joined, interleaved the same way.
    const IN_FLIGHT: u32 = 64;
    let batched = if quick { 2 * IN_FLIGHT } else { 10 * IN_FLIGHT };
    let (b, s, r) = interleaved(&rt, rounds, batched, |sdk_turn, n| async move {
        for _ in 0..n / IN_FLIGHT {
            if sdk_turn {
                futures_util::future::join_all((0..IN_FLIGHT).map(|_| sdk())).await;
            } else {
                futures_util::future::join_all((0..IN_FLIGHT).map(|_| baseline())).await;
            }
        }
    });
    println!("  {IN_FLIGHT} in flight, bare reqwest:          {b:8.1} µs/call (median)");
    println!("  {IN_FLIGHT} in flight, client:                {s:8.1} µs/call (median)");
    println!(
        "  {IN_FLIGHT} in flight, ratio client / baseline: {r:6.3} (median of per-round ratios)"
    );

    // A cached-token read on its own.
    let n = if quick { 10 } else { 200_000 };
    let start = Instant::now();
    rt.block_on(async {
        for _ in 0..n {
            std::hint::black_box(client.access_token().await.expect("token"));
        }
    });
    println!(
        "  cached token read:                  {:8.1} ns",
        start.elapsed().as_secs_f64() * 1e9 / f64::from(n)
    );
}

/// Medians of (baseline µs per call, client µs per call, per-round ratio client / baseline):
/// each round runs `calls` calls of each through `run(sdk_turn, calls)`, alternating which goes
/// first so drift within a round cancels out.
fn interleaved<F, Fut>(
    rt: &tokio::runtime::Runtime,
    rounds: usize,
    calls: u32,
    run: F,
) -> (f64, f64, f64)
where
    F: Fn(bool, u32) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (mut base_t, mut sdk_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        for round in 0..rounds {
            let (mut measure_base, mut measure_sdk) = (Duration::ZERO, Duration::ZERO);
            for sdk_turn in [round % 2 == 0, round % 2 != 0] {
                let start = Instant::now();
                run(sdk_turn, calls / 2).await;
                if sdk_turn {
                    measure_sdk += start.elapsed();
                } else {
                    measure_base += start.elapsed();
                }
            }
            let b = measure_base.as_secs_f64() * 1e6 / f64::from(calls / 2);
            let s = measure_sdk.as_secs_f64() * 1e6 / f64::from(calls / 2);
            base_t.push(b);
            sdk_t.push(s);
            ratios.push(s / b);
        }
    });
    (median(&mut base_t), median(&mut sdk_t), median(&mut ratios))
}
