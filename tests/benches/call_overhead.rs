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
    let (mut base_t, mut sdk_t, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        // Warm up connections and caches.
        for _ in 0..calls {
            baseline().await;
            sdk().await;
        }
        for round in 0..rounds {
            // Alternate which goes first, so drift within a round cancels out.
            let mut measure_base = Duration::ZERO;
            let mut measure_sdk = Duration::ZERO;
            for first_sdk in [round % 2 == 0, round % 2 != 0] {
                let start = Instant::now();
                for _ in 0..calls / 2 {
                    if first_sdk {
                        sdk().await;
                    } else {
                        baseline().await;
                    }
                }
                if first_sdk {
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
    let (b, s, r) = (median(&mut base_t), median(&mut sdk_t), median(&mut ratios));
    println!("call overhead ({rounds} interleaved rounds of {calls} calls)");
    println!("  baseline, bare reqwest:             {b:8.1} µs/call (median)");
    println!("  client, department().list_sub_ids:  {s:8.1} µs/call (median)");
    println!("  ratio client / baseline:            {r:8.3} (median of per-round ratios)");

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
