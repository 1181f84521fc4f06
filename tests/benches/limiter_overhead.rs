//! What the rate limiter and the ISV company lookup add to a call, against the same call
//! without them, to the same local server and through one connection pool:
//!
//! - baseline: `client.department().list_sub_ids(1)` on a client with no limiter;
//! - local limiter: the same with an in-process limiter too wide to ever make a call wait;
//! - Redis limiter: the same with the windows shared in Redis (a local `redis-server` this
//!   bench starts; the leg is left out, and says so, where none is installed);
//! - ISV company: `suite.corp("dingA")?.department().list_sub_ids(1)`, the lookup of the
//!   company's client on every call.
//!
//! Variants alternate within every round (the order rotates), and the report gives each one's
//! median per-call time and the median of its per-round ratios to the baseline. Run with
//! `cargo bench -p dingtalk-tests --bench limiter_overhead`.

use dingtalk::prelude::*;
use std::sync::Arc;
use std::time::Instant;

use dingtalk::{Client, LimitStore, RateLimit};
use dingtalk_tests::bench::{fixed_server, median, quick, runtime};
use dingtalk_tests::redis_server::RedisServer;

const ROUNDS: usize = 40;
const CALLS_PER_VARIANT: u32 = 100;

/// Wide enough that no call ever waits: only the bookkeeping is measured.
const WIDE: RateLimit = RateLimit {
    per_second: Some(1_000_000),
    per_minute: Some(60_000_000),
};

fn main() {
    let quick = quick();
    let rt = runtime();
    let base = fixed_server(&rt);

    let http = reqwest::Client::new();
    let builder = || {
        dingtalk::client()
            .app_key("dingkey", "secret")
            .base_url(&base)
            .http_client(http.clone())
    };
    let plain = builder().build().expect("client");
    let local = builder().rate_limit(WIDE).build().expect("client");
    let redis = rt.block_on(RedisServer::start());
    let shared = match &redis {
        Ok((_, store)) => {
            let store: Arc<dyn LimitStore> = Arc::new(store.clone());
            builder()
                .rate_limit(WIDE)
                .rate_limit_store(store)
                .build()
                .ok()
        }
        Err(e) => {
            println!("({e}: the Redis-shared leg is left out)");
            None
        }
    };
    let suite = dingtalk::client()
        .custom_app("custom-key", "custom-secret")
        .base_url(&base)
        .http_client(http.clone())
        .build()
        .expect("suite");

    let mut variants: Vec<(&str, Client, bool)> = vec![
        ("baseline, no limiter", plain, false),
        ("in-process limiter", local, false),
    ];
    if let Some(c) = shared {
        variants.push(("Redis-shared limiter", c, false));
    }
    variants.push(("ISV company lookup per call", suite, true));

    let (rounds, calls) = if quick {
        (1, 5)
    } else {
        (ROUNDS, CALLS_PER_VARIANT)
    };
    let call = |client: &Client, corp: bool| {
        let client = client.clone();
        async move {
            let client = if corp {
                client.corp("dingA").expect("corp client")
            } else {
                client
            };
            client.department().list_sub_ids(1).await.expect("call")
        }
    };
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    rt.block_on(async {
        for (_, client, corp) in &variants {
            for _ in 0..calls {
                call(client, *corp).await;
            }
        }
        for round in 0..rounds {
            let mut per_call = vec![0.0; variants.len()];
            for k in 0..variants.len() {
                let i = (round + k) % variants.len();
                let (_, client, corp) = &variants[i];
                let start = Instant::now();
                for _ in 0..calls {
                    call(client, *corp).await;
                }
                per_call[i] = start.elapsed().as_secs_f64() * 1e6 / f64::from(calls);
            }
            for i in 0..variants.len() {
                times[i].push(per_call[i]);
                ratios[i].push(per_call[i] / per_call[0]);
            }
        }
    });
    println!(
        "limiter and ISV overhead ({rounds} rounds of {calls} calls per variant, order rotating)"
    );
    for (i, (name, _, _)) in variants.iter().enumerate() {
        let t = median(&mut times[i]);
        let r = median(&mut ratios[i]);
        println!("  {name:<30} {t:8.1} µs/call (median), ratio to baseline {r:.3}");
    }
    drop(redis);
}
