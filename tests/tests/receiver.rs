//! The example receiver, run on an ephemeral port: an encrypted push goes in, the handler sees
//! the typed event, and the reply is the encrypted `success` (or the suite check's `Random`).

#[allow(dead_code)]
#[path = "../examples/receiver.rs"]
mod example;

use std::sync::{Arc, Mutex};

use dingtalk::api::callback::Event;
use dingtalk::callback::{receiver, CallbackCrypto, EncryptedReply};

const TOKEN: &str = "123456";
const KEY: &str = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij";
const OWNER: &str = "suite4xxxxxxxxxxxxxxx";

fn now_ms() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    ms.to_string()
}

async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/")
}

/// Encrypts `message` as DingTalk would and posts it; returns the status and body.
async fn push(url: &str, crypto: &CallbackCrypto, message: &str, tamper: bool) -> (u16, String) {
    let encrypt = crypto.encrypt(message).expect("encrypt");
    let (ts, nonce) = (now_ms(), "nEXhMP4r");
    let mut signature = crypto.signature(&ts, nonce, &encrypt);
    if tamper {
        signature.replace_range(0..1, if signature.starts_with('0') { "1" } else { "0" });
    }
    let resp = reqwest::Client::new()
        .post(format!(
            "{url}?signature={signature}&timestamp={ts}&nonce={nonce}"
        ))
        .json(&serde_json::json!({ "encrypt": encrypt }))
        .send()
        .await
        .expect("post");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

fn open_reply(crypto: &CallbackCrypto, body: &str) -> String {
    let reply: EncryptedReply = serde_json::from_str(body).expect("a reply");
    let ts: i64 = reply.time_stamp.parse().expect("ms timestamp");
    crypto
        .verify_and_decrypt_at(
            &reply.msg_signature,
            &reply.time_stamp,
            &reply.nonce,
            &reply.encrypt,
            ts,
        )
        .expect("a valid reply")
}

#[tokio::test]
async fn the_example_round_trips_an_encrypted_event() {
    let crypto = example::crypto_from_env().expect("sample keys");
    let url = serve(example::app(crypto.clone())).await;
    let (status, body) = push(&url, &crypto, r#"{"EventType":"user_add_org","CorpId":"dingcorp","UserId":["u1","u2"],"TimeStamp":"1445827045067"}"#, false).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(open_reply(&crypto, &body), "success");
}

#[tokio::test]
async fn the_handler_gets_the_typed_event_and_bad_pushes_are_refused() {
    let crypto = CallbackCrypto::new(TOKEN, KEY, OWNER).expect("keys");
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let app = receiver::router(crypto.clone(), move |event| {
        let sink = Arc::clone(&sink);
        async move {
            sink.lock().map_err(|_| "poisoned")?.push(event);
            Ok(())
        }
    });
    let url = serve(app).await;

    // The current (lowerCamel) generation decodes into the same variant.
    let (status, _) = push(&url, &crypto, r#"{"EventType":"org_dept_create","CorpId":"dingcorp","deptId":[100,"101"],"EventTime":1700000000000}"#, false).await;
    assert_eq!(status, 200);
    // The ISV suite check is answered with its Random, not `success`.
    let (status, body) = push(&url, &crypto, r#"{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}"#, false).await;
    assert_eq!(status, 200);
    assert_eq!(open_reply(&crypto, &body), "LPIdSnlF");
    // An event type the spec does not know still arrives, raw.
    let (status, _) = push(&url, &crypto, r#"{"EventType":"brand_new","x":1}"#, false).await;
    assert_eq!(status, 200);
    // A tampered signature never reaches the handler.
    let (status, body) = push(
        &url,
        &crypto,
        r#"{"EventType":"org_change","CorpId":"c"}"#,
        true,
    )
    .await;
    assert_eq!(status, 403, "{body}");

    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 3);
    assert!(
        matches!(&seen[0], Event::OrgDeptCreate(e) if e.dept_id == [100, 101]),
        "{:?}",
        seen[0]
    );
    assert!(matches!(&seen[1], Event::CheckCreateSuiteUrl(_)));
    assert!(matches!(&seen[2], Event::Unknown { tag, .. } if tag == "brand_new"));
}

#[tokio::test]
async fn a_failing_handler_gets_a_500_so_dingtalk_pushes_again() {
    let crypto = CallbackCrypto::new(TOKEN, KEY, OWNER).expect("keys");
    let app = receiver::router(crypto.clone(), |_: Event| async {
        Err("database down".into())
    });
    let url = serve(app).await;
    let (status, body) = push(&url, &crypto, r#"{"EventType":"check_url"}"#, false).await;
    assert_eq!(status, 500);
    assert!(
        !body.contains("database"),
        "handler errors stay in the logs: {body}"
    );
}

/// Posts a push of `message` with the query `params` (`{sig}`, `{ts}`, `{nonce}` filled in) and
/// the raw `body` (`{encrypt}` filled in); returns the status and body.
async fn post(
    url: &str,
    crypto: &CallbackCrypto,
    message: &str,
    params: &str,
    body: &str,
) -> (u16, String) {
    let encrypt = crypto.encrypt(message).expect("encrypt");
    let (ts, nonce) = (now_ms(), "nEXhMP4r");
    let sig = crypto.signature(&ts, nonce, &encrypt);
    let query = params
        .replace("{sig}", &sig)
        .replace("{ts}", &ts)
        .replace("{nonce}", nonce);
    let resp = reqwest::Client::new()
        .post(format!("{url}?{query}"))
        .header("content-type", "application/json")
        .body(body.replace("{encrypt}", &encrypt))
        .send()
        .await
        .expect("post");
    (
        resp.status().as_u16(),
        resp.text().await.unwrap_or_default(),
    )
}

/// A receiver whose handler records the events it gets.
async fn recording(
    options: receiver::ReceiverOptions,
) -> (String, CallbackCrypto, Arc<Mutex<Vec<Event>>>) {
    let crypto = CallbackCrypto::new(TOKEN, KEY, OWNER).expect("keys");
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let app = receiver::router_with(crypto.clone(), options, move |event| {
        let sink = Arc::clone(&sink);
        async move {
            sink.lock().map_err(|_| "poisoned")?.push(event);
            Ok(())
        }
    });
    (serve(app).await, crypto, seen)
}

const QUERY: &str = "signature={sig}&timestamp={ts}&nonce={nonce}";
const BODY: &str = r#"{"encrypt":"{encrypt}"}"#;

#[tokio::test]
async fn a_verified_push_with_an_odd_field_is_acknowledged_and_kept() {
    let (url, crypto, seen) = recording(Default::default()).await;
    for message in [
        r#"{"EventType":"suite_ticket","SuiteKey":"suite4x","SuiteTicket":"TICKET-SECRET","TimeStamp":"2024-01-01 00:00:00"}"#,
        r#"{"EventType":"user_add_org","CorpId":"dingcorp","UserId":{"unexpected":"shape"}}"#,
    ] {
        let (status, body) = post(&url, &crypto, message, QUERY, BODY).await;
        assert_eq!(status, 200, "{message}: {body}");
        assert_eq!(open_reply(&crypto, &body), "success");
    }
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    let Event::Malformed(ticket) = &seen[0] else {
        panic!("{:?}", seen[0])
    };
    assert_eq!(ticket.tag, "suite_ticket");
    assert_eq!(
        ticket.raw["SuiteTicket"], "TICKET-SECRET",
        "the raw JSON is kept"
    );
    assert!(ticket.error.contains("TimeStamp") || !ticket.error.is_empty());
    assert!(
        !format!("{ticket:?}").contains("TICKET-SECRET"),
        "{ticket:?}"
    );
    assert!(matches!(&seen[1], Event::Malformed(m) if m.tag == "user_add_org"));
    assert_eq!(seen[1].tag(), "user_add_org");
}

#[tokio::test]
async fn a_verified_message_that_is_no_event_is_acknowledged_without_the_handler() {
    let (url, crypto, seen) = recording(Default::default()).await;
    let (status, body) = post(&url, &crypto, r#"["not", "an", "event"]"#, QUERY, BODY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(open_reply(&crypto, &body), "success");
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_query_with_both_spellings_is_accepted() {
    let (url, crypto, seen) = recording(Default::default()).await;
    let both = "signature={sig}&msg_signature={sig}&timestamp={ts}&timeStamp={ts}&nonce={nonce}";
    let newer = "msg_signature={sig}&timeStamp={ts}&nonce={nonce}";
    for params in [both, newer, QUERY] {
        let (status, body) =
            post(&url, &crypto, r#"{"EventType":"check_url"}"#, params, BODY).await;
        assert_eq!(status, 200, "{params}: {body}");
    }
    assert_eq!(seen.lock().expect("lock").len(), 3);
}

#[tokio::test]
async fn oversized_and_stalled_pushes_are_cut_off() {
    let options = receiver::ReceiverOptions::default()
        .max_body_bytes(1024)
        .timeout(std::time::Duration::from_millis(300));
    let (url, crypto, seen) = recording(options).await;
    let padded = format!(
        r#"{{"encrypt":"{{encrypt}}","pad":"{}"}}"#,
        "x".repeat(4096)
    );
    let (status, _) = post(
        &url,
        &crypto,
        r#"{"EventType":"check_url"}"#,
        QUERY,
        &padded,
    )
    .await;
    assert_eq!(status, 413);
    // A client that announces a body and then stalls.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = "POST /?signature=s&timestamp=1&nonce=n HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"encr";
    tcp.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut answer))
        .await
        .expect("answered within the timeout, not left hanging")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..read]).into_owned();
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_replayed_push_is_acknowledged_but_handled_once() {
    let guard = dingtalk::callback::ReplayGuard::in_memory(1000);
    let (url, crypto, seen) =
        recording(receiver::ReceiverOptions::default().replay_guard(guard)).await;
    let encrypt = crypto
        .encrypt(r#"{"EventType":"check_url"}"#)
        .expect("encrypt");
    let ts = now_ms();
    let sig = crypto.signature(&ts, "n1", &encrypt);
    for _ in 0..3 {
        let resp = reqwest::Client::new()
            .post(format!("{url}?signature={sig}&timestamp={ts}&nonce=n1"))
            .json(&serde_json::json!({ "encrypt": encrypt }))
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status().as_u16(), 200);
    }
    assert_eq!(
        seen.lock().expect("lock").len(),
        1,
        "the same push, handled once"
    );
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
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
async fn warnings_are_rate_limited_and_quote_no_decrypted_value() {
    let capture = Capture::default();
    let sink = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || sink.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (url, crypto, _) = recording(Default::default()).await;
    // A verified message that is no event, quoting a value; then a burst of forged pushes.
    let (status, _) = post(&url, &crypto, r#""DECRYPTED-VALUE""#, QUERY, BODY).await;
    assert_eq!(status, 200);
    for _ in 0..30 {
        let (status, _) = push(&url, &crypto, r#"{"EventType":"check_url"}"#, true).await;
        assert_eq!(status, 403);
    }
    let logs = String::from_utf8_lossy(&capture.0.lock().expect("lock")).into_owned();
    assert!(!logs.contains("DECRYPTED-VALUE"), "{logs}");
    let warnings = logs.lines().filter(|l| l.contains("WARN")).count();
    assert!(
        (1..=3).contains(&warnings),
        "31 bad pushes, {warnings} warnings:\n{logs}"
    );
}
