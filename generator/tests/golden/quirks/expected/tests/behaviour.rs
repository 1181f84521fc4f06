//! The quirks golden crate decodes and encodes every wire quirk, keeps unknown union tags,
//! checks nested limits and spans, and flattens a union next to its siblings.

use dingtalk_golden_quirks::api::golden_quirks::{
    Body, GoldenQuirksSendFlatRequest, GoldenQuirksSendRequest,
    GoldenQuirksWindowRequest as Window, Notice, QuirkyRecord, TextBody,
};
use dingtalk_runtime::request::{Endpoint, InvalidRequest, RateClass};

#[test]
fn a_record_with_every_quirk_decodes_and_encodes_back() {
    let body = r#"{"ids": "1,2", "users": "a|b", "ext": "{\"k\":\"v\"}", "order": "{1:1,2:5}",
        "paths": [[3, 1], [4, 1]], "managerUserId": "boss", "big": 176318668975061512}"#;
    let r: QuirkyRecord = serde_json::from_str(body).expect("decodes");
    assert_eq!(r.ids, vec![1, 2]);
    assert_eq!(r.users, vec!["a", "b"]);
    assert_eq!(r.ext.get("k").map(String::as_str), Some("v"));
    assert_eq!(r.order, std::collections::BTreeMap::from([(1, 1), (2, 5)]));
    assert_eq!(r.paths, vec![vec![3, 1], vec![4, 1]]);
    assert_eq!(r.manager_userid.as_deref(), Some("boss"));
    assert_eq!(r.big, Some(176_318_668_975_061_512));
    let back = serde_json::to_value(&r).expect("encodes");
    assert_eq!(back["ids"], "1,2");
    assert_eq!(back["users"], "a|b");
    assert_eq!(back["big"], serde_json::json!(176_318_668_975_061_512i64));
}

#[test]
fn unions_decode_known_tags_keep_unknown_ones_and_encode_back() {
    let body: Body =
        serde_json::from_str(r#"{"msgtype": "text", "text": {"content": "hi"}}"#).expect("decodes");
    assert_eq!(body, Body::Text(TextBody::new("hi")));
    assert_eq!(
        serde_json::to_value(&body).expect("encodes"),
        serde_json::json!({"msgtype": "text", "text": {"content": "hi"}})
    );
    let notice: Notice =
        serde_json::from_str(r#"{"EventType": "user_leave_org", "UserId": ["a"], "CorpId": "c"}"#)
            .expect("decodes");
    assert!(matches!(&notice, Notice::UserLeaveOrg(n) if n.user_id == ["a"]));
    assert_eq!(
        serde_json::to_value(&notice).expect("encodes")["EventType"],
        "user_leave_org"
    );
    let raw = serde_json::json!({"EventType": "brand_new_event", "x": 1});
    let unknown: Notice = serde_json::from_value(raw.clone()).expect("never fails");
    assert_eq!(
        unknown,
        Notice::Unknown {
            tag: "brand_new_event".into(),
            raw: raw.clone()
        }
    );
    assert_eq!(serde_json::to_value(&unknown).expect("encodes"), raw);
}

#[test]
fn limits_inside_nested_values_are_checked() {
    let ok = GoldenQuirksSendRequest::new(Body::Text(TextBody::new("x".repeat(20))));
    assert_eq!(ok.validate(), Ok(()));
    let long = GoldenQuirksSendRequest::new(Body::Text(TextBody::new("x".repeat(21))));
    assert_eq!(
        long.validate(),
        Err(InvalidRequest::TooLong {
            field: "content",
            len: 21,
            max: 20
        })
    );
}

#[test]
fn spans_between_params_are_checked_at_the_boundary() {
    let days = |from: &str, to: &str| Window::new(from, to).validate();
    // Calendar days only: the time of day does not count.
    assert_eq!(days("2020-09-07 23:00:00", "2020-09-14 01:00:00"), Ok(()));
    assert_eq!(days("2020-09-07", "2020-09-07"), Ok(()));
    assert_eq!(
        days("2020-09-07 00:00:00", "2020-09-15 00:00:00"),
        Err(InvalidRequest::Span {
            from: "from",
            to: "to",
            max_days: 7,
            days: 8.0
        })
    );
    assert_eq!(
        days("2020-09-08 00:00:00", "2020-09-07 00:00:00"),
        Err(InvalidRequest::Span {
            from: "from",
            to: "to",
            max_days: 7,
            days: -1.0
        })
    );
    assert_eq!(
        days("07/09/2020", "2020-09-08 00:00:00"),
        Err(InvalidRequest::BadTime {
            field: "from",
            value: "07/09/2020".into()
        })
    );
    // Milliseconds, exact: 30 days is allowed, one ms more is not; unset params are not checked.
    // Optional params are set on the call (here: on the fields of a hand-built request).
    let ms = |since: i64, until: i64| {
        let mut w = Window::new("2020-09-07", "2020-09-07");
        w.since = Some(since);
        w.until = Some(until);
        w.validate()
    };
    let month = 30 * 86_400_000;
    assert_eq!(ms(0, month), Ok(()));
    assert!(matches!(
        ms(0, month + 1),
        Err(InvalidRequest::Span {
            from: "since",
            to: "until",
            max_days: 30,
            ..
        })
    ));
    let mut only_since = Window::new("2020-09-07", "2020-09-07");
    only_since.since = Some(5);
    assert_eq!(only_since.validate(), Ok(()));
    // The rate-limit class: the endpoint's override, else the file's.
    assert_eq!(Window::META.rate_class, RateClass::WorkNotice);
    assert_eq!(GoldenQuirksSendRequest::META.rate_class, RateClass::Basic);
}

#[test]
fn a_flattened_union_sits_next_to_the_other_params() {
    let req = GoldenQuirksSendFlatRequest::new("u1", Body::Text(TextBody::new("hi")));
    assert_eq!(
        serde_json::to_value(&req).expect("encodes"),
        serde_json::json!({"to": "u1", "msgtype": "text", "text": {"content": "hi"}})
    );
}
