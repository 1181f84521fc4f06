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
