//! Captures everything logged at TRACE level, by this crate and its dependencies, across a run
//! that fetches tokens, succeeds, fails, retries and refreshes, and asserts that no secret or
//! token appears in it, nor in any error or `Debug` output of the run.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, StandIn};

const APP_SECRET: &str = "app-secret-9c1d";
const SSO_SECRET: &str = "sso-secret-77aa";

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
    let client = dingtalk::Client::builder()
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
    ];
    for secret in secrets {
        assert!(!logs.contains(secret), "`{secret}` leaked into the logs");
        for out in &outputs {
            assert!(!out.contains(secret), "`{secret}` leaked into: {out}");
        }
    }
}
