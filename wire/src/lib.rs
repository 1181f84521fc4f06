//! `dingtalk-wire`: DingTalk's wire leniency rules, written once.
//!
//! DingTalk's responses are looser than its docs: numbers and booleans arrive as text, integers
//! as `1.0`, lists as `"a,b"` or `"a|b"`, JSON inside strings, maps as the non-JSON text
//! `"{1:1}"`, single values where a list is declared. Three places need to agree on what is
//! accepted: the runtime's serde decoder (`dingtalk_runtime::wire`), the code generator's check
//! that each spec example decodes into its declared type, and the integration tests' comparison
//! of a decoded response with its example. All three call the functions here, so an example the
//! generator accepts is one the runtime decodes, and the other way round.
//!
//! The rules, each decided once:
//!
//! | declared | accepted | rejected |
//! | --- | --- | --- |
//! | integer | JSON integers that fit `i64`; whole floats below 2^53 in magnitude (`1.0`, `1e3`); text of an integer, surrounding white space ignored (`" 42 "`, `"+7"`, `"176318668975061512"`) | booleans; fractions (`1.5`); floats of 2^53 or more; integers above `i64::MAX`; text that is not an integer (`"1.0"`, `"1e3"`, `""`) |
//! | float | any JSON number; text of a finite number, white space ignored | booleans; `"NaN"`, `"inf"`; `""` |
//! | boolean | `true`/`false`; the integers `0` and `1`; the text `true`, `True`, `TRUE`, `1`, `false`, `False`, `FALSE`, `0`, white space ignored | other integers; floats; other text (`"yes"`, `"tRuE"`, `""`) |
//! | string | any scalar, through its text form ([`text`]) | null, arrays, objects |
//! | list | an array; null as empty; a single value as a list of one ([`list_items`]) | |
//! | `comma` / `pipe` list | a string split at the separator, parts trimmed, empty parts dropped ([`split_list`]); otherwise as a list | |
//! | `json_text` | a string holding JSON text; an empty or blank string as null ([`json_text`]); otherwise the value itself | text that is not JSON |
//! | `loose_map` | `{k:v,...}` text with bare or quoted keys and values ([`parse_loose_map`]); otherwise a JSON object | text without braces or with an entry lacking `:` |
//!
//! Integers are never routed through `f64`: ids above 2^53 stay exact as JSON integers and as
//! text, and a float is taken as an integer only where `f64` holds every integer exactly.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::borrow::Cow;
use std::fmt;

use serde::de::Unexpected;
use serde_json::Value;

/// One JSON scalar as it arrived: what a serde visitor is handed (`visit_bool`, `visit_i64`,
/// `visit_u64`, `visit_f64`, `visit_str`), or what a [`serde_json::Value`] scalar holds
/// ([`Raw::of`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Raw<'a> {
    /// A JSON boolean.
    Bool(bool),
    /// A JSON integer, as serde hands negative integers.
    I64(i64),
    /// A JSON integer, as serde hands non-negative integers.
    U64(u64),
    /// A JSON number with a fraction or an exponent.
    F64(f64),
    /// A JSON string.
    Str(&'a str),
}

impl<'a> Raw<'a> {
    /// The scalar in `v`; `None` for null, arrays and objects. Numbers are taken the way
    /// `serde_json` hands them to a visitor: non-negative integers as [`Raw::U64`], negative
    /// ones as [`Raw::I64`], the rest as [`Raw::F64`].
    pub fn of(v: &'a Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(Raw::Bool(*b)),
            Value::Number(n) => n
                .as_u64()
                .map(Raw::U64)
                .or_else(|| n.as_i64().map(Raw::I64))
                .or_else(|| n.as_f64().map(Raw::F64)),
            Value::String(s) => Some(Raw::Str(s)),
            Value::Null | Value::Array(_) | Value::Object(_) => None,
        }
    }

    /// The scalar as serde describes it in a decoding error.
    pub fn unexpected(self) -> Unexpected<'a> {
        match self {
            Raw::Bool(v) => Unexpected::Bool(v),
            Raw::I64(v) => Unexpected::Signed(v),
            Raw::U64(v) => Unexpected::Unsigned(v),
            Raw::F64(v) => Unexpected::Float(v),
            Raw::Str(v) => Unexpected::Str(v),
        }
    }
}

/// The largest magnitude below which `f64` holds every integer exactly (2^53). A float at or
/// above it may be the rounding of a different integer, so it is not read as one.
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// An integer from its text: surrounding white space is ignored, a leading `+` or `-` is
/// allowed, and the digits must form an `i64` exactly. `"1.0"`, `"1e3"` and `""` are not
/// integers (text is taken digit for digit, so large ids stay exact).
pub fn int_from_str(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// An integer from a non-negative JSON integer: `None` above `i64::MAX`.
pub fn int_from_u64(v: u64) -> Option<i64> {
    i64::try_from(v).ok()
}

/// An integer from a JSON float: only whole numbers below 2^53 in magnitude (`1.0`, `-3.0`,
/// `1e3`), where `f64` is exact. Fractions, NaN, infinities and larger floats are `None`.
pub fn int_from_f64(v: f64) -> Option<i64> {
    // The bound keeps the cast exact; NaN and infinities fail `fract() == 0.0`.
    (v.fract() == 0.0 && v.abs() < EXACT_F64).then_some(v as i64)
}

/// A declared integer from any scalar (see [`int_from_str`], [`int_from_u64`],
/// [`int_from_f64`]); booleans are not integers.
pub fn int(raw: Raw<'_>) -> Option<i64> {
    match raw {
        Raw::Bool(_) => None,
        Raw::I64(v) => Some(v),
        Raw::U64(v) => int_from_u64(v),
        Raw::F64(v) => int_from_f64(v),
        Raw::Str(s) => int_from_str(s),
    }
}

/// A float from its text: surrounding white space is ignored; only finite numbers (`"NaN"`,
/// `"inf"` and `""` are `None`, since JSON cannot carry them back).
pub fn float_from_str(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A declared float from any scalar: every JSON number (integers are converted, rounding
/// above 2^53), or its text ([`float_from_str`]); booleans are not numbers.
pub fn float(raw: Raw<'_>) -> Option<f64> {
    match raw {
        Raw::Bool(_) => None,
        Raw::I64(v) => Some(v as f64),
        Raw::U64(v) => Some(v as f64),
        Raw::F64(v) => Some(v).filter(|v| v.is_finite()),
        Raw::Str(s) => float_from_str(s),
    }
}

/// A boolean from its text: `true`, `True`, `TRUE`, `1` and `false`, `False`, `FALSE`, `0`,
/// surrounding white space ignored. Anything else (`"yes"`, `"tRuE"`, `""`) is `None`.
pub fn bool_from_str(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "True" | "TRUE" | "1" => Some(true),
        "false" | "False" | "FALSE" | "0" => Some(false),
        _ => None,
    }
}

/// A boolean from a JSON integer: `1` is true, `0` is false, anything else is `None`.
pub fn bool_from_int(v: i64) -> Option<bool> {
    match v {
        0 => Some(false),
        1 => Some(true),
        _ => None,
    }
}

/// A declared boolean from any scalar: a boolean, the integers `0`/`1` ([`bool_from_int`]),
/// or its text ([`bool_from_str`]); floats (even `1.0`) are not booleans.
pub fn boolean(raw: Raw<'_>) -> Option<bool> {
    match raw {
        Raw::Bool(v) => Some(v),
        Raw::I64(v) => bool_from_int(v),
        Raw::U64(v) => bool_from_int(int_from_u64(v)?),
        Raw::F64(_) => None,
        Raw::Str(s) => bool_from_str(s),
    }
}

/// A declared string from any scalar: text as it is (not trimmed), booleans as
/// `true`/`false`, integers in decimal, floats in Rust's shortest form (`1.0` is `"1"`,
/// `1.5` is `"1.5"`).
pub fn text(raw: Raw<'_>) -> Cow<'_, str> {
    match raw {
        Raw::Str(s) => Cow::Borrowed(s),
        Raw::Bool(v) => Cow::Borrowed(if v { "true" } else { "false" }),
        Raw::I64(v) => Cow::Owned(v.to_string()),
        Raw::U64(v) => Cow::Owned(v.to_string()),
        Raw::F64(v) => Cow::Owned(v.to_string()),
    }
}

/// The scalar types the rules decode into: `i64` ([`int`]), `f64` ([`float`]), `bool`
/// ([`boolean`]) and `String` ([`text`]).
pub trait FromRaw: Sized {
    /// The value `raw` stands for, or `None` when it does not fit the type.
    fn from_raw(raw: Raw<'_>) -> Option<Self>;
}

impl FromRaw for i64 {
    fn from_raw(raw: Raw<'_>) -> Option<Self> {
        int(raw)
    }
}

impl FromRaw for f64 {
    fn from_raw(raw: Raw<'_>) -> Option<Self> {
        float(raw)
    }
}

impl FromRaw for bool {
    fn from_raw(raw: Raw<'_>) -> Option<Self> {
        boolean(raw)
    }
}

impl FromRaw for String {
    fn from_raw(raw: Raw<'_>) -> Option<Self> {
        Some(text(raw).into_owned())
    }
}

/// The elements of a declared list: an array's items, nothing for null, and a single value as
/// a list of one (DingTalk's docs show single objects where the type is a list).
pub fn list_items(v: &Value) -> &[Value] {
    match v {
        Value::Array(items) => items,
        Value::Null => &[],
        single => std::slice::from_ref(single),
    }
}

/// The separator of `encoding: comma`.
pub const COMMA: char = ',';

/// The separator of `encoding: pipe`.
pub const PIPE: char = '|';

/// The keys of the errcode envelope every `oapi.dingtalk.com` answer carries. The runtime reads
/// them itself, in the same pass as the payload: a payload that is the whole answer never sees
/// them (so no spec type of such a payload declares them, and an example's are not its own).
pub const ENVELOPE_KEYS: [&str; 5] = ["errcode", "errmsg", "sub_code", "sub_msg", "request_id"];

/// The parts of a list carried as one separated string (`"2,3, 4"`): split at `sep`, each part
/// trimmed, empty parts dropped, so `""` and `"a,,b,"` hold no empty elements.
pub fn split_list(text: &str, sep: char) -> impl Iterator<Item = &str> {
    text.split(sep).map(str::trim).filter(|p| !p.is_empty())
}

/// The JSON value inside a string (`encoding: json_text`): `Ok(None)` for an empty or blank
/// string, which stands for null (an absent value).
pub fn json_text(text: &str) -> Result<Option<Value>, serde_json::Error> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text).map(Some)
}

/// What is wrong with a loose map text (see [`parse_loose_map`]); each variant carries the
/// first 40 characters of the offending text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LooseMapError {
    /// The text is not wrapped in `{` and `}`.
    NoBraces(String),
    /// An entry has no `:` between key and value.
    NoColon(String),
    /// A key does not fit the declared key type.
    BadKey(String),
    /// A value does not fit the declared value type.
    BadValue(String),
}

impl LooseMapError {
    /// A [`LooseMapError::BadKey`] for `key`.
    pub fn bad_key(key: &str) -> Self {
        Self::BadKey(preview(key))
    }

    /// A [`LooseMapError::BadValue`] for `value`.
    pub fn bad_value(value: &str) -> Self {
        Self::BadValue(preview(value))
    }
}

impl fmt::Display for LooseMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoBraces(t) => write!(f, "map text must be wrapped in braces: {t:?}"),
            Self::NoColon(t) => write!(f, "map entry without `:`: {t:?}"),
            Self::BadKey(t) => write!(f, "bad map key {t:?}"),
            Self::BadValue(t) => write!(f, "bad map value {t:?}"),
        }
    }
}

impl std::error::Error for LooseMapError {}

fn preview(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The entries of DingTalk's non-JSON map text (`encoding: loose_map`), `"{1:1}"` or
/// `"{1:false, 2:true}"`, as raw key and value text in order. Entries are split at `,` and at
/// the first `:`; keys and values are trimmed and lose one pair of surrounding `"` (no escapes
/// are undone); empty entries are skipped. An empty or blank text is an empty map. The caller
/// reads keys and values with the scalar rules (`int_from_str`, `bool_from_str`, ...).
pub fn parse_loose_map(text: &str) -> Result<Vec<(&str, &str)>, LooseMapError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let inner = trimmed
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| LooseMapError::NoBraces(preview(text)))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair
                .split_once(':')
                .ok_or_else(|| LooseMapError::NoColon(preview(pair)))?;
            Ok((unquote(k), unquote(v)))
        })
        .collect()
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(v: &Value) -> Raw<'_> {
        match Raw::of(v) {
            Some(r) => r,
            None => panic!("{v} is not a scalar"),
        }
    }

    #[test]
    fn raw_follows_serde_json_number_kinds() {
        assert_eq!(Raw::of(&json!(7)), Some(Raw::U64(7)));
        assert_eq!(Raw::of(&json!(-7)), Some(Raw::I64(-7)));
        assert_eq!(Raw::of(&json!(1.0)), Some(Raw::F64(1.0)));
        assert_eq!(Raw::of(&json!("x")), Some(Raw::Str("x")));
        assert_eq!(Raw::of(&json!(true)), Some(Raw::Bool(true)));
        assert_eq!(Raw::of(&Value::Null), None);
        assert_eq!(Raw::of(&json!([1])), None);
        assert_eq!(Raw::of(&json!({})), None);
    }

    #[test]
    fn integers() {
        let ok = [
            (json!(7), 7),
            (json!(-7), -7),
            (json!(1.0), 1),
            (json!(-3.0), -3),
            (json!(1e3), 1000),
            (json!("7"), 7),
            (json!(" 42 "), 42),
            (json!("+7"), 7),
            (json!("-0"), 0),
            (json!(9_007_199_254_740_991.0), 9_007_199_254_740_991),
        ];
        for (v, want) in ok {
            assert_eq!(int(raw(&v)), Some(want), "{v}");
        }
        let bad = [
            json!(1.5),
            json!(9_007_199_254_740_992.0),
            json!(1e300),
            json!(u64::MAX),
            json!("1.0"),
            json!("1e3"),
            json!(""),
            json!("  "),
            json!("seven"),
            json!(true),
        ];
        for v in bad {
            assert_eq!(int(raw(&v)), None, "{v}");
        }
        assert_eq!(int_from_f64(f64::NAN), None);
        assert_eq!(int_from_f64(f64::INFINITY), None);
    }

    #[test]
    fn ids_above_2_pow_53_stay_exact() {
        let id = 176_318_668_975_061_512_i64;
        let json: Value = match serde_json::from_str("176318668975061512") {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(int(raw(&json)), Some(id));
        assert_eq!(int(Raw::Str("176318668975061512")), Some(id));
        assert_eq!(int(Raw::Str("9223372036854775807")), Some(i64::MAX));
        assert_eq!(int(Raw::Str("9223372036854775808")), None);
        assert_eq!(int(Raw::U64(9_223_372_036_854_775_808)), None);
        // As a float the id has lost digits already: refused rather than rounded.
        assert_eq!(int(Raw::F64(176_318_668_975_061_512.0)), None);
    }

    #[test]
    fn floats() {
        assert_eq!(float(Raw::U64(3)), Some(3.0));
        assert_eq!(float(Raw::I64(-3)), Some(-3.0));
        assert_eq!(float(Raw::F64(1.5)), Some(1.5));
        assert_eq!(float(Raw::Str(" 1.5 ")), Some(1.5));
        assert_eq!(float(Raw::Str("1e3")), Some(1000.0));
        assert_eq!(float(Raw::Str("7")), Some(7.0));
        for s in ["", " ", "NaN", "inf", "-infinity", "1,5", "x"] {
            assert_eq!(float(Raw::Str(s)), None, "{s:?}");
        }
        assert_eq!(float(Raw::Bool(true)), None);
        assert_eq!(float(Raw::F64(f64::NAN)), None);
    }

    #[test]
    fn booleans() {
        for s in ["true", "True", "TRUE", "1", " true ", "\t1\n"] {
            assert_eq!(boolean(Raw::Str(s)), Some(true), "{s:?}");
        }
        for s in ["false", "False", "FALSE", "0", " 0 "] {
            assert_eq!(boolean(Raw::Str(s)), Some(false), "{s:?}");
        }
        for s in ["", "yes", "tRuE", "2", "1.0", "t"] {
            assert_eq!(boolean(Raw::Str(s)), None, "{s:?}");
        }
        assert_eq!(boolean(Raw::U64(1)), Some(true));
        assert_eq!(boolean(Raw::I64(0)), Some(false));
        assert_eq!(boolean(Raw::U64(2)), None);
        assert_eq!(boolean(Raw::I64(-1)), None);
        assert_eq!(boolean(Raw::U64(u64::MAX)), None);
        assert_eq!(boolean(Raw::F64(1.0)), None);
        assert_eq!(boolean(Raw::Bool(false)), Some(false));
    }

    #[test]
    fn strings_take_every_scalar() {
        assert_eq!(text(Raw::Str(" a ")), " a ");
        assert_eq!(text(Raw::U64(123)), "123");
        assert_eq!(text(Raw::I64(-1)), "-1");
        assert_eq!(text(Raw::F64(1.0)), "1");
        assert_eq!(text(Raw::F64(1.5)), "1.5");
        assert_eq!(text(Raw::Bool(true)), "true");
        assert_eq!(String::from_raw(Raw::Str("")), Some(String::new()));
    }

    #[test]
    fn from_raw_is_the_functions() {
        assert_eq!(i64::from_raw(Raw::F64(2.0)), Some(2));
        assert_eq!(f64::from_raw(Raw::Str("2.5")), Some(2.5));
        assert_eq!(bool::from_raw(Raw::Str("True")), Some(true));
        assert_eq!(
            String::from_raw(Raw::Bool(false)),
            Some("false".to_string())
        );
    }

    #[test]
    fn lists() {
        assert_eq!(list_items(&json!([1, 2])), &[json!(1), json!(2)]);
        assert!(list_items(&Value::Null).is_empty());
        assert_eq!(list_items(&json!(7)), &[json!(7)]);
        assert_eq!(list_items(&json!({"a": 1})), &[json!({"a": 1})]);
        let parts: Vec<&str> = split_list("2,3, 4", COMMA).collect();
        assert_eq!(parts, ["2", "3", "4"]);
        let parts: Vec<&str> = split_list(" a | b ||", PIPE).collect();
        assert_eq!(parts, ["a", "b"]);
        assert_eq!(split_list("", COMMA).count(), 0);
        assert_eq!(split_list(" , ", COMMA).count(), 0);
        // A pipe list is not split at commas.
        assert_eq!(split_list("a,b", PIPE).collect::<Vec<_>>(), ["a,b"]);
    }

    #[test]
    fn json_in_strings() {
        assert!(matches!(json_text(""), Ok(None)));
        assert!(matches!(json_text("  "), Ok(None)));
        assert!(matches!(json_text("{\"a\":1}"), Ok(Some(v)) if v == json!({"a": 1})));
        assert!(matches!(json_text(" [1] "), Ok(Some(v)) if v == json!([1])));
        assert!(matches!(json_text("null"), Ok(Some(Value::Null))));
        assert!(json_text("{not json").is_err());
    }

    #[test]
    fn loose_maps() {
        assert_eq!(
            parse_loose_map("{1:1,2:30}"),
            Ok(vec![("1", "1"), ("2", "30")])
        );
        assert_eq!(
            parse_loose_map(" { 1 : false , 2:True, } "),
            Ok(vec![("1", "false"), ("2", "True")])
        );
        assert_eq!(
            parse_loose_map("{\"a\":\"x\",\"b\":2}"),
            Ok(vec![("a", "x"), ("b", "2")])
        );
        assert_eq!(parse_loose_map(""), Ok(vec![]));
        assert_eq!(parse_loose_map("{}"), Ok(vec![]));
        // Only the first `:` splits: the value keeps the rest.
        assert_eq!(parse_loose_map("{t:12:30}"), Ok(vec![("t", "12:30")]));
        assert_eq!(
            parse_loose_map("1:1"),
            Err(LooseMapError::NoBraces("1:1".into()))
        );
        assert_eq!(
            parse_loose_map("{1}"),
            Err(LooseMapError::NoColon("1".into()))
        );
        assert_eq!(
            LooseMapError::bad_key(&"k".repeat(50)).to_string(),
            format!("bad map key {:?}", "k".repeat(40))
        );
        assert_eq!(
            LooseMapError::bad_value("x").to_string(),
            "bad map value \"x\""
        );
    }
}
