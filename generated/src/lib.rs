//! A typed client for the DingTalk (钉钉) Open Platform server API (`https://oapi.dingtalk.com`).
//!
//! ```no_run
//! # async fn run() -> Result<(), dingtalk::Error> {
//! let client = dingtalk::Client::builder().app_key("dingxxxx", "app-secret").build()?;
//! // Required params are arguments, optional ones are setters; `.await` sends the call.
//! let user = client.user().get("manager4220").language("en_US").await?;
//! let ids = client.department().list_sub_ids(1).await?;
//! # let _ = (user, ids); Ok(()) }
//! ```
//!
//! Layout: [`api`] is generated from the YAML in `spec/` (one module per spec file, every file
//! marked `@generated`); [`runtime`] is handwritten and executes what `api` describes;
//! [`callback`] verifies and decrypts DingTalk's event pushes; [`workflows`] chains generated
//! calls into one (DingPan's chunked upload, the JSAPI signature with its cached ticket, keeping
//! an ISV suite's pushed ticket).
//!
//! ISV suites: build with [`ClientBuilder::suite`], feed it the pushed tickets
//! ([`Client::accept_suite_ticket`]), and call each authorising company through
//! [`Client::corp`].

//!
//! Required params cannot be forgotten: they are arguments, so this does not compile.
//!
//! ```compile_fail
//! # async fn run(client: dingtalk::Client) -> Result<(), dingtalk::Error> {
//! let user = client.user().get().await?; // missing `userid`
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

/// The README's examples, compiled as doc tests so they cannot rot (the receiver and ISV
/// examples need the `receiver` and `redis` features).
#[cfg(all(doctest, feature = "receiver", feature = "redis"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[rustfmt::skip]
pub mod api;
#[cfg(feature = "callback")]
pub mod callback;
pub mod runtime;
pub mod workflows;

pub use api::ErrorCode;
pub use runtime::call::Call;
pub use runtime::client::{Client, ClientBuilder, Credentials, DEFAULT_BASE_URL};
pub use runtime::error::{ApiError, Error, ErrorClass};
pub use runtime::files::{Download, UploadFile};
pub use runtime::limit::{LimitStore, RateLimit};
#[cfg(feature = "redis")]
pub use runtime::redis_store::RedisStore;
pub use runtime::request::{Endpoint, InvalidRequest};
pub use runtime::retry::RetryPolicy;
pub use runtime::secret::SecretString;
pub use runtime::store::{MemoryStore, TokenStore};

/// The generator's golden outputs (`generator/tests/golden/*/expected`), compiled against this
/// runtime so that a golden which does not build fails the tests.
#[cfg(test)]
#[rustfmt::skip]
#[path = "../../generator/tests/golden"]
mod goldens {
    #[path = "basic/expected/src/api/golden_basic.rs"]
    mod golden_basic;
    #[path = "quirks/expected/src/api/golden_quirks.rs"]
    mod golden_quirks;

    #[test]
    fn a_record_with_every_quirk_decodes_and_encodes_back() {
        let body = r#"{"ids": "1,2", "users": "a|b", "ext": "{\"k\":\"v\"}", "order": "{1:1,2:5}",
            "paths": [[3, 1], [4, 1]], "managerUserId": "boss", "big": 176318668975061512}"#;
        let r: golden_quirks::QuirkyRecord = serde_json::from_str(body).expect("decodes");
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
        use golden_quirks::{Body, Notice, TextBody};
        let body: Body = serde_json::from_str(r#"{"msgtype": "text", "text": {"content": "hi"}}"#).expect("decodes");
        assert_eq!(body, Body::Text(TextBody::new("hi")));
        assert_eq!(serde_json::to_value(&body).expect("encodes"), serde_json::json!({"msgtype": "text", "text": {"content": "hi"}}));
        let notice: Notice = serde_json::from_str(r#"{"EventType": "user_leave_org", "UserId": ["a"], "CorpId": "c"}"#).expect("decodes");
        assert!(matches!(&notice, Notice::UserLeaveOrg(n) if n.user_id == ["a"]));
        assert_eq!(serde_json::to_value(&notice).expect("encodes")["EventType"], "user_leave_org");
        let raw = serde_json::json!({"EventType": "brand_new_event", "x": 1});
        let unknown: Notice = serde_json::from_value(raw.clone()).expect("never fails");
        assert_eq!(unknown, Notice::Unknown { tag: "brand_new_event".into(), raw: raw.clone() });
        assert_eq!(serde_json::to_value(&unknown).expect("encodes"), raw);
    }

    #[test]
    fn limits_inside_nested_values_are_checked() {
        use crate::runtime::request::{Endpoint, InvalidRequest};
        use golden_quirks::{Body, GoldenQuirksSendRequest, TextBody};
        let ok = GoldenQuirksSendRequest::new(Body::Text(TextBody::new("x".repeat(20))));
        assert_eq!(ok.validate(), Ok(()));
        let long = GoldenQuirksSendRequest::new(Body::Text(TextBody::new("x".repeat(21))));
        assert_eq!(long.validate(), Err(InvalidRequest::TooLong { field: "content", len: 21, max: 20 }));
    }

    #[test]
    fn ranges_are_checked_at_both_ends() {
        use crate::runtime::request::{Endpoint, InvalidRequest};
        use golden_basic::GoldenBasicGetRequest;
        for ok in [1, 1000] {
            assert_eq!(GoldenBasicGetRequest::new(ok).validate(), Ok(()));
        }
        for (bad, min, max) in [(0, Some(1.0), Some(1000.0)), (1001, Some(1.0), Some(1000.0))] {
            let err = GoldenBasicGetRequest::new(bad).validate();
            assert_eq!(err, Err(InvalidRequest::OutOfRange { field: "id", value: bad as f64, min, max }));
        }
    }

    #[test]
    fn spans_between_params_are_checked_at_the_boundary() {
        use crate::runtime::request::{Endpoint, InvalidRequest, RateClass};
        use golden_quirks::GoldenQuirksWindowRequest as Window;
        let days = |from: &str, to: &str| Window::new(from, to).validate();
        // Calendar days only: the time of day does not count.
        assert_eq!(days("2020-09-07 23:00:00", "2020-09-14 01:00:00"), Ok(()));
        assert_eq!(days("2020-09-07", "2020-09-07"), Ok(()));
        assert_eq!(
            days("2020-09-07 00:00:00", "2020-09-15 00:00:00"),
            Err(InvalidRequest::Span { from: "from", to: "to", max_days: 7, days: 8.0 })
        );
        assert_eq!(
            days("2020-09-08 00:00:00", "2020-09-07 00:00:00"),
            Err(InvalidRequest::Span { from: "from", to: "to", max_days: 7, days: -1.0 })
        );
        assert_eq!(
            days("07/09/2020", "2020-09-08 00:00:00"),
            Err(InvalidRequest::BadTime { field: "from", value: "07/09/2020".into() })
        );
        // Milliseconds, exact: 30 days is allowed, one ms more is not; unset params are not checked.
        let ms = |since: i64, until: i64| Window::new("2020-09-07", "2020-09-07").since(since).until(until).validate();
        let month = 30 * 86_400_000;
        assert_eq!(ms(0, month), Ok(()));
        assert!(matches!(ms(0, month + 1), Err(InvalidRequest::Span { from: "since", to: "until", max_days: 30, .. })));
        assert_eq!(Window::new("2020-09-07", "2020-09-07").since(5).validate(), Ok(()));
        // The rate-limit class: the endpoint's override, else the file's.
        assert_eq!(Window::META.rate_class, RateClass::WorkNotice);
        assert_eq!(golden_quirks::GoldenQuirksSendRequest::META.rate_class, RateClass::Basic);
        assert_eq!(golden_basic::GoldenBasicGetRequest::META.rate_class, RateClass::Metered);
    }

    #[test]
    fn a_flattened_union_sits_next_to_the_other_params() {
        use golden_quirks::{Body, GoldenQuirksSendFlatRequest, TextBody};
        let req = GoldenQuirksSendFlatRequest::new("u1", Body::Text(TextBody::new("hi")));
        assert_eq!(
            serde_json::to_value(&req).expect("encodes"),
            serde_json::json!({"to": "u1", "msgtype": "text", "text": {"content": "hi"}})
        );
    }

    #[test]
    fn unknown_enum_values_are_kept() {
        let w: golden_basic::Widget = serde_json::from_str(r#"{"id": "7", "color": "ultraviolet"}"#).expect("decodes");
        assert_eq!(w.color, Some(golden_basic::Color::Unknown("ultraviolet".into())));
        assert_eq!(golden_basic::Level::from_value(5), golden_basic::Level::Unknown(5));
        assert_eq!(golden_basic::Level::from_value(100), golden_basic::Level::High);
        assert_eq!(golden_basic::Color::from_wire("light_blue").as_str(), "light_blue");
    }
}
