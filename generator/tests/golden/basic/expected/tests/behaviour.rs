//! The basic golden crate behaves as its spec says: limits are checked at both ends, unknown
//! enum values are kept, and the rate class is the file's.

use dingtalk_golden_basic::api::golden_basic::{Color, GoldenBasicGetRequest, Level, Widget};
use dingtalk_runtime::request::{Endpoint, InvalidRequest, RateClass};

#[test]
fn ranges_are_checked_at_both_ends() {
    for ok in [1, 1000] {
        assert_eq!(GoldenBasicGetRequest::new(ok).validate(), Ok(()));
    }
    for bad in [0, 1001] {
        let err = GoldenBasicGetRequest::new(bad).validate();
        assert_eq!(
            err,
            Err(InvalidRequest::OutOfRange {
                field: "id",
                value: bad as f64,
                min: Some(1.0),
                max: Some(1000.0)
            })
        );
    }
}

#[test]
fn unknown_enum_values_are_kept() {
    let w: Widget =
        serde_json::from_str(r#"{"id": "7", "color": "ultraviolet"}"#).expect("decodes");
    assert_eq!(w.color, Some(Color::Unknown("ultraviolet".into())));
    assert_eq!(Level::from_value(5), Level::Unknown(5));
    assert_eq!(Level::from_value(100), Level::High);
    assert_eq!(Color::from_wire("light_blue").as_str(), "light_blue");
}

#[test]
fn the_rate_class_is_the_files_default() {
    assert_eq!(GoldenBasicGetRequest::META.rate_class, RateClass::Metered);
    assert_eq!(GoldenBasicGetRequest::META.area, "golden_basic");
}
