use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};

use super::backoff::Schedule;
use super::dispatch::{ack_for, open};
use super::*;

/// A stand-in for a generated event union: a known type, and `Unknown` for the rest.
#[derive(Debug, PartialEq)]
enum TestEvent {
    Title { chat_id: String },
    Unknown { tag: String, raw: Value },
}

impl<'de> Deserialize<'de> for TestEvent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let raw = serde_json::Map::<String, Value>::deserialize(d)?;
        let tag = raw
            .get("EventType")
            .and_then(Value::as_str)
            .ok_or_else(|| D::Error::custom("no EventType"))?
            .to_owned();
        if tag == "chat_update_title" {
            let chat_id = raw
                .get("ChatId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            return Ok(TestEvent::Title { chat_id });
        }
        Ok(TestEvent::Unknown {
            tag,
            raw: Value::Object(raw),
        })
    }
}

impl crate::callback::CallbackEvent for TestEvent {
    fn tag(&self) -> &str {
        match self {
            TestEvent::Title { .. } => "chat_update_title",
            TestEvent::Unknown { tag, .. } => tag,
        }
    }
}

fn frame(kind: &str, headers: Value, data: &str) -> Frame {
    let text = json!({"specVersion": "1.0", "type": kind, "headers": headers, "data": data});
    Frame::parse(&text.to_string()).unwrap()
}

#[test]
fn headers_are_typed_and_unknown_ones_kept() {
    let f = frame(
        "EVENT",
        json!({"topic": "*", "messageId": "m1", "contentType": "application/json", "time": "1690000000000",
               "eventType": "chat_update_title", "eventId": "e1", "eventCorpId": "dingcorp",
               "eventBornTime": "1690000000001", "eventUnifiedAppId": "u1", "traceId": "t-9"}),
        "{}",
    );
    assert_eq!(f.kind, FrameKind::Event);
    let h = &f.headers;
    assert_eq!((h.topic.as_str(), h.message_id.as_str()), ("*", "m1"));
    assert_eq!(h.time, Some(1_690_000_000_000));
    assert_eq!(h.event_born_time, Some(1_690_000_000_001));
    assert_eq!(h.event_corp_id.as_deref(), Some("dingcorp"));
    assert_eq!(h.event_unified_app_id.as_deref(), Some("u1"));
    assert_eq!(h.other.get("traceId"), Some(&json!("t-9")));
}

#[test]
fn frames_that_are_not_frames_fail_and_odd_types_are_kept() {
    assert!(Frame::parse("not json").is_err());
    assert!(Frame::parse(r#"{"headers": {}}"#).is_err());
    let f = Frame::parse(r#"{"type": "FUTURE", "headers": {"messageId": 7}, "data": {"a": 1}}"#)
        .unwrap();
    assert_eq!(f.kind, FrameKind::Other("FUTURE".into()));
    // A number where a string belongs, and data sent as an object rather than as text.
    assert_eq!(f.headers.message_id, "7");
    assert_eq!(f.data_json().unwrap(), json!({"a": 1}));
}

#[test]
fn a_stream_event_decodes_into_the_event_union_with_its_type_from_the_header() {
    let f = frame(
        "EVENT",
        json!({"messageId": "m1", "eventType": "chat_update_title"}),
        r#"{"ChatId": "chat-1"}"#,
    );
    match open::<TestEvent>(f) {
        Push::Event(p) => {
            assert_eq!(
                p.event,
                TestEvent::Title {
                    chat_id: "chat-1".into()
                }
            );
            assert_eq!(p.headers.message_id, "m1");
        }
        other => panic!("{other:?}"),
    }
    // A type the union does not know keeps its tag and its JSON.
    let f = frame(
        "EVENT",
        json!({"messageId": "m2", "eventType": "future_thing"}),
        r#"{"x": 1}"#,
    );
    match open::<TestEvent>(f) {
        Push::Event(EventPush {
            event: TestEvent::Unknown { tag, raw },
            ..
        }) => {
            assert_eq!(tag, "future_thing");
            assert_eq!(raw["x"], json!(1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn data_that_is_not_json_reaches_the_handler_as_undecodable() {
    let f = frame(
        "EVENT",
        json!({"messageId": "m3", "eventType": "x"}),
        "{truncated",
    );
    match open::<TestEvent>(f) {
        Push::Undecodable(u) => {
            assert_eq!(u.data, "{truncated");
            assert_eq!(u.kind, FrameKind::Event);
            assert!(u.error.contains("not JSON"), "{}", u.error);
        }
        other => panic!("{other:?}"),
    }
    let f = frame(
        "EVENT",
        json!({"messageId": "m4", "eventType": "x"}),
        "[1, 2]",
    );
    assert!(matches!(open::<TestEvent>(f), Push::Undecodable(_)));
}

#[test]
fn callbacks_carry_their_data() {
    let f = frame(
        "CALLBACK",
        json!({"messageId": "m5", "topic": TOPIC_ROBOT_MESSAGE}),
        r#"{"msgtype": "text", "text": {"content": "hi"}}"#,
    );
    let Push::Callback(c) = open::<TestEvent>(f) else {
        panic!()
    };
    assert_eq!(c.topic(), TOPIC_ROBOT_MESSAGE);
    #[derive(Deserialize)]
    struct Text {
        content: String,
    }
    #[derive(Deserialize)]
    struct Msg {
        text: Text,
    }
    assert_eq!(c.decode::<Msg>().unwrap().text.content, "hi");
}

fn data_of(ack: &Ack) -> Value {
    serde_json::from_str(&ack.data).unwrap()
}

#[test]
fn acks_follow_the_protocol() {
    let ok = ack_for(&FrameKind::Event, "m1", &Answer::Success);
    assert_eq!(ok.code, 200);
    assert_eq!(ok.headers.message_id, "m1");
    assert_eq!(data_of(&ok)["status"], "SUCCESS");
    assert!(ok.is_final());
    let later = ack_for(&FrameKind::Event, "m1", &Answer::Later);
    assert_eq!(data_of(&later)["status"], "LATER");
    assert!(!later.is_final());

    let reply = ack_for(
        &FrameKind::Callback,
        "m2",
        &Answer::Response(json!({"cardData": {"k": "v"}})),
    );
    assert_eq!(
        data_of(&reply),
        json!({"response": {"cardData": {"k": "v"}}})
    );
    assert!(reply.is_final());
    let failed = ack_for(&FrameKind::Callback, "m2", &Answer::Later);
    assert_eq!(failed.code, 500);
    assert!(!failed.is_final());

    let ping = frame(
        "SYSTEM",
        json!({"topic": "ping", "messageId": "p1"}),
        r#"{"opaque":"abc"}"#,
    );
    let echo = Ack::echo(&ping);
    assert_eq!(
        (echo.code, echo.data.as_str()),
        (200, r#"{"opaque":"abc"}"#)
    );
    let wire: Value = serde_json::from_str(&echo.to_text()).unwrap();
    assert_eq!(
        wire["headers"],
        json!({"messageId": "p1", "contentType": "application/json"})
    );
}

#[test]
fn backoff_ceilings_double_up_to_the_cap_and_jitter_stays_below_them() {
    let policy = Backoff {
        base: Duration::from_millis(100),
        cap: Duration::from_millis(1000),
        reset_after: Duration::from_secs(5),
        seed: Some(7),
    };
    let ceilings: Vec<u128> = (1..=6).map(|n| policy.ceiling(n).as_millis()).collect();
    assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
    assert_eq!(policy.ceiling(u32::MAX), policy.cap);
    let mut s = Schedule::new(policy.clone(), 0);
    let delays: Vec<Duration> = (1..=40).map(|_| s.failed()).collect();
    for (i, d) in delays.iter().enumerate() {
        assert!(
            *d <= policy.ceiling(u32::try_from(i + 1).unwrap()),
            "{i}: {d:?}"
        );
    }
    // Full jitter: spread over the range, not pinned to the ceiling.
    assert!(delays[10..].iter().any(|d| *d < Duration::from_millis(500)));
    assert!(delays[10..].iter().any(|d| *d > Duration::from_millis(500)));
    // The same seed gives the same schedule; a healthy connection starts it again.
    let mut again = Schedule::new(policy.clone(), 0);
    assert_eq!((1..=40).map(|_| again.failed()).collect::<Vec<_>>(), delays);
    s.connection_lasted(Duration::from_secs(1));
    assert_eq!(s.failures(), 40);
    s.connection_lasted(Duration::from_secs(5));
    assert_eq!(s.failures(), 0);
}

#[tokio::test]
async fn memory_dedup_claims_once_keeps_acks_and_releases_unfinished_claims() {
    let store = MemoryDedup::new();
    let lease = Duration::from_secs(5);
    assert_eq!(store.claim("k", lease).await.unwrap(), Claim::Claimed);
    assert_eq!(store.claim("k", lease).await.unwrap(), Claim::Busy);
    store.release("k").await.unwrap();
    assert_eq!(store.claim("k", lease).await.unwrap(), Claim::Claimed);
    let ack = ack_for(&FrameKind::Event, "k", &Answer::Success);
    store
        .complete("k", &ack, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(
        store.claim("k", lease).await.unwrap(),
        Claim::Done(ack.clone())
    );
    // A finished message stays finished.
    store.release("k").await.unwrap();
    assert_eq!(store.claim("k", lease).await.unwrap(), Claim::Done(ack));
    // A lease lapses by itself: a claimer that died does not block the message.
    assert_eq!(
        store
            .claim("short", Duration::from_millis(1))
            .await
            .unwrap(),
        Claim::Claimed
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(store.claim("short", lease).await.unwrap(), Claim::Claimed);
}

#[test]
fn credential_errors_stop_and_the_rest_retry() {
    let api = |status: u16, class: ErrorClass| {
        Error::Api(Box::new(crate::ApiError {
            endpoint: "gateway.open_connection".into(),
            code: crate::ApiCode::Service("authFailed".into()),
            message: "鉴权失败".into(),
            sub: None,
            sub_msg: None,
            request_id: None,
            status: Some(status),
            class,
        }))
    };
    assert!(is_credential_error(&api(401, ErrorClass::Other)));
    assert!(is_credential_error(&api(400, ErrorClass::Permission)));
    assert!(!is_credential_error(&api(503, ErrorClass::Busy)));
    assert!(!is_credential_error(&api(403, ErrorClass::RateLimited)));
    let http = |status| Error::Http {
        endpoint: "gateway.open_connection".into(),
        status,
        snippet: String::new(),
    };
    assert!(is_credential_error(&http(401)));
    assert!(!is_credential_error(&http(502)));
}

#[test]
fn a_ticket_never_shows_in_debug() {
    let t = Ticket {
        endpoint: "wss://x/connect".into(),
        ticket: "tkt-secret".into(),
    };
    assert!(!format!("{t:?}").contains("tkt-secret"));
}
