//! Captures everything logged at TRACE level, by this crate and its dependencies, across a run
//! that fetches tokens, succeeds, fails, retries and refreshes, and asserts that no secret or
//! token appears in it, nor in any error or `Debug` output of the run.

use dingtalk::prelude::*;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, StandIn};

const APP_SECRET: &str = "app-secret-9c1d";
const SSO_SECRET: &str = "sso-secret-77aa";
const SUITE_TICKET: &str = "suite-ticket-5e0f";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_whole_run_logs_no_secret() {
    let capture = Capture::default();
    let sink = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| {
        b.rotate_tokens = true;
        b.fail_next.extend([
            Fault::errcode(-1),
            Fault::errcode(40014),
            Fault::errcode(60011),
        ]);
    });
    let client = dingtalk::client()
        .app_key("dingkey", APP_SECRET)
        .sso_secret("dingcorp", SSO_SECRET)
        .base_url(standin.base_url())
        .retry(dingtalk::RetryPolicy {
            base_delay: Duration::from_millis(1),
            ..Default::default()
        })
        .build()
        .expect("client");

    let mut outputs = vec![format!("{client:?}")];
    // busy → retried; token rejected → refreshed; no permission → error.
    let first = client.department().list_sub_ids(1).await;
    outputs.push(format!("{first:?}"));
    let second = client.department().list_sub_ids(1).await;
    outputs.push(format!("{second:?}"));
    if let Err(e) = &second {
        outputs.push(format!("{e} {e:?}"));
    }
    let sso = client.auth().get_sso_user_info("code").await;
    outputs.push(format!("{sso:?}"));
    let token = client.access_token().await.expect("token");
    outputs.push(format!("{token:?} {token}"));
    let typed = client.auth().get_token("dingkey", APP_SECRET).await;
    outputs.push(format!("{typed:?}"));

    // An ISV suite: the pushed ticket, the suite token, an organisation's token.
    standin.configure(|b| b.suite_ticket = Some(SUITE_TICKET.into()));
    let suite = dingtalk::client()
        .suite("suite-key", dingtalk_tests::standin::SUITE_SECRET)
        .base_url(standin.base_url())
        .build()
        .expect("suite client");
    let pushed_at = dingtalk_tests::now_ms();
    let kept = suite.set_suite_ticket(SUITE_TICKET, pushed_at).await;
    outputs.push(format!("{kept:?}"));
    let corp = suite.corp("dingA").expect("corp client");
    outputs.push(format!("{suite:?} {corp:?}"));
    let corp_call = corp.department().list_sub_ids(1).await;
    outputs.push(format!("{corp_call:?}"));
    let suite_call = suite.auth().get_permanent_code("tmp-code").await;
    outputs.push(format!("{suite_call:?}"));
    // Every token the stand-in saw in a query: the organisation's and the suite's.
    let issued: Vec<String> = standin
        .seen()
        .iter()
        .flat_map(|s| ["access_token", "suite_access_token"].map(|k| s.query.get(k).cloned()))
        .flatten()
        .collect();
    assert!(issued.iter().any(|t| t.starts_with("suite-")), "{issued:?}");
    assert!(
        issued.iter().any(|t| t.starts_with("corp-dingA-")),
        "{issued:?}"
    );
    assert!(
        corp_call.is_ok() && suite_call.is_ok(),
        "{corp_call:?} {suite_call:?}"
    );

    assert!(
        first.is_ok() || second.is_ok(),
        "the scripted run should succeed at least once"
    );
    let logs = String::from_utf8_lossy(&capture.0.lock().expect("lock")).into_owned();
    assert!(
        logs.contains("dingtalk.call"),
        "the capture saw the call spans: {logs}"
    );
    let secrets = [
        APP_SECRET,
        SSO_SECRET,
        "tok-1",
        "tok-2",
        "tok-3",
        "fw8ef8we8f76e6f7s8df8s",
        dingtalk_tests::standin::SUITE_SECRET,
        SUITE_TICKET,
        "xxxx-permanent-code",
    ];
    let secrets = secrets.iter().map(|s| s.to_string()).chain(issued);
    for secret in secrets {
        let secret = secret.as_str();
        assert!(!logs.contains(secret), "`{secret}` leaked into the logs");
        for out in &outputs {
            assert!(!out.contains(secret), "`{secret}` leaked into: {out}");
        }
    }
}
