//! Every sample event payload under tests/data/events/ (both generations: classic PascalCase
//! and current lowerCamel keys) decodes into its own typed variant of `Event`, keeps its
//! fields, and survives the callback cipher.

use std::path::PathBuf;

use dingtalk::api::callback::Event;
use dingtalk::callback::{parse_event, CallbackCrypto};

fn samples() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/events");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("tests/data/events exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (stem, std::fs::read_to_string(&p).expect("read"))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_sample_decodes_into_its_known_variant() {
    let samples = samples();
    assert!(
        samples.len() >= 25,
        "expected a sample per event type, found {}",
        samples.len()
    );
    let mut failures = Vec::new();
    for (name, text) in &samples {
        let tag = name.strip_suffix("_current").unwrap_or(name);
        match parse_event(text) {
            Ok(Event::Unknown { tag: t, .. }) => {
                failures.push(format!("{name}: decoded as Unknown({t})"))
            }
            Ok(event) if event.tag() != tag => {
                failures.push(format!("{name}: decoded as {}", event.tag()))
            }
            Ok(event) => {
                // Nothing the spec declares was lost: re-encoding keeps every non-null field of
                // the variant (keys may come back in their classic spelling).
                let back = serde_json::to_value(&event).expect("encodes");
                let original: serde_json::Value = serde_json::from_str(text).expect("json");
                let count = |v: &serde_json::Value| {
                    v.as_object()
                        .map_or(0, |o| o.values().filter(|x| !x.is_null()).count())
                };
                if count(&back) < count(&original).min(2) {
                    failures.push(format!("{name}: fields lost: {original} -> {back}"));
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn both_key_generations_give_the_same_values() {
    let classic = parse_event(
        r#"{"EventType":"user_add_org","CorpId":"c","UserId":["u1"],"TimeStamp":"1700000000000","OptStaffId":"boss"}"#,
    );
    let current = parse_event(
        r#"{"EventType":"user_add_org","corpId":"c","userId":["u1"],"timeStamp":1700000000000,"optStaffId":"boss"}"#,
    );
    let (Ok(Event::UserAddOrg(a)), Ok(Event::UserAddOrg(b))) = (classic, current) else {
        panic!("both decode as user_add_org")
    };
    assert_eq!(a.user_id, b.user_id);
    assert_eq!(a.time_stamp, Some(1_700_000_000_000));
    assert_eq!(a.time_stamp, b.time_stamp);
}

#[test]
fn a_sample_survives_encryption_and_opening() {
    let crypto = CallbackCrypto::new(
        "123456",
        "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
        "dingcorp",
    )
    .expect("keys");
    for (name, text) in samples() {
        let encrypt = crypto.encrypt(&text).expect("encrypt");
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
            .to_string();
        let query = dingtalk::callback::PushQuery {
            signature: crypto.signature(&ts, "n", &encrypt),
            timestamp: ts,
            nonce: "n".into(),
        };
        let body = serde_json::json!({ "encrypt": encrypt }).to_string();
        let event: Event = crypto
            .open(&query, body.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Some(event), parse_event(&text).ok(), "{name}");
    }
}

#[test]
fn a_message_that_is_not_an_event_is_an_error() {
    assert!(parse_event::<Event>("[1,2]").is_err());
    assert!(parse_event::<Event>("not json").is_err());
}

#[test]
fn a_push_that_spells_a_key_both_ways_still_decodes() {
    let event = parse_event(
        r#"{"EventType":"bpms_instance_change","corpId":"c1","CorpId":"c1","processInstanceId":"p","type":"finish","result":"agree"}"#,
    );
    assert!(
        matches!(event, Ok(Event::BpmsInstanceChange(_))),
        "{event:?}"
    );
}
