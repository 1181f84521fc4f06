//! The generated error table (`spec/errors.yaml`) classifies errcodes; errcode 88 is classified
//! by its numeric `sub_code`, through the table each endpoint hands the runtime.

use dingtalk::runtime::Endpoint;
use dingtalk::{ApiCode, ApiError, ErrorClass, ErrorCode};

#[test]
fn errcodes_map_to_their_class() {
    let classify = dingtalk::api::user::UserGetRequest::META.classify;
    let cases = [
        (-1, ErrorClass::Busy),
        (40014, ErrorClass::TokenInvalid),
        (42001, ErrorClass::TokenInvalid),
        (33001, ErrorClass::TokenInvalid),
        (40001, ErrorClass::TokenInvalid),
        (90018, ErrorClass::RateLimited),
        (90002, ErrorClass::RateLimited),
        (60011, ErrorClass::Permission),
        (60121, ErrorClass::NotFound),
        (40035, ErrorClass::InvalidArgument),
        (123_456_789, ErrorClass::Other),
    ];
    for (code, class) in cases {
        let code = ApiCode::Errcode(code);
        assert_eq!(classify(&code), class, "{code}");
        assert_eq!(ErrorCode::from_code(&code).class(), class, "{code}");
    }
    assert_eq!(
        ErrorCode::from_code(&ApiCode::Errcode(-1)),
        ErrorCode::SystemBusy
    );
    let unknown = ApiCode::Errcode(123_456_789);
    assert_eq!(ErrorCode::from_code(&unknown), ErrorCode::Unknown(unknown));
    assert!(!ErrorCode::from_code(&ApiCode::Errcode(40014))
        .meaning()
        .is_empty());
}

#[test]
fn v1_codes_map_to_their_class() {
    let classify = dingtalk::api::user::UserGetRequest::META.classify;
    let cases = [
        ("InvalidAuthentication", ErrorClass::TokenInvalid),
        (
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            ErrorClass::RateLimited,
        ),
        (
            "Forbidden.AccessDenied.QpsLimitForApi",
            ErrorClass::RateLimited,
        ),
        (
            "Forbidden.AccessDenied.QpmLimitForAppkeyAndApi",
            ErrorClass::RateLimited,
        ),
        (
            "Forbidden.AccessDenied.AccessTokenPermissionDenied",
            ErrorClass::Permission,
        ),
        ("Something.Nobody.Documented", ErrorClass::Other),
    ];
    for (code, class) in cases {
        let code = ApiCode::Service(code.into());
        assert_eq!(classify(&code), class, "{code}");
        assert_eq!(ErrorCode::from_code(&code).class(), class, "{code}");
        assert_eq!(ErrorCode::from_code(&code).code(), code);
    }
    assert_eq!(
        ErrorCode::from_service_code("InvalidAuthentication"),
        Some(ErrorCode::InvalidAuthentication)
    );
    // A numeric-looking v1.0 code is not an errcode.
    assert_eq!(ErrorCode::from_service_code("40014"), None);
}

#[test]
fn errcode_88_is_its_sub_code() {
    let meta = dingtalk::api::user::UserGetRequest::META;
    let api = |sub: &str| -> ApiError {
        let body = format!(r#"{{"errcode": 88, "errmsg": "auth", "sub_code": "{sub}"}}"#);
        match dingtalk::runtime::decode_answer::<serde_json::Value>(body.as_bytes(), &meta) {
            Err(dingtalk::Error::Api(e)) => *e,
            other => panic!("expected an API error, got {other:?}"),
        }
    };
    assert_eq!(api("40014").class(), ErrorClass::TokenInvalid);
    assert_eq!(
        ErrorCode::of(&api("40014")),
        ErrorCode::from_code(&ApiCode::Errcode(40014))
    );
    assert_eq!(api("60011").class(), ErrorClass::Permission);
    assert_eq!(
        api("isv.not-a-number").class(),
        (meta.classify)(&ApiCode::Errcode(88))
    );
    assert_eq!(ErrorCode::of(&api("isv.x")).code(), ApiCode::Errcode(88));
}
