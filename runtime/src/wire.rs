//! Decoding DingTalk's wire quirks.
//!
//! DingTalk's responses are looser than their docs: numbers and booleans arrive as strings,
//! lists as `"a,b"` or `"a|b"`, JSON inside strings, maps as the non-JSON text `"{1:1}"`, single
//! objects where a list is declared. Every generated field decodes through the [`Wire`] trait,
//! which accepts all of these; the `encoding` submodules handle the declared non-JSON forms in
//! both directions. Integers are parsed exactly and never pass through `f64`.
//!
//! This module is the serde side only: what each scalar, list, separated string, JSON text and
//! map text accepts is decided in the `dingtalk-wire` crate, which the code generator's example
//! check uses too, so the two cannot drift apart.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use dingtalk_wire::{FromRaw, Raw};
use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::Serialize;

use crate::SecretString;

/// A type that decodes leniently from DingTalk JSON. Implemented for the scalars, containers
/// and every generated type.
pub trait Wire: Sized {
    /// Decodes `Self`, accepting DingTalk's variant spellings.
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// serde `deserialize_with` entry point for every generated field.
pub fn de<'de, D: Deserializer<'de>, T: Wire>(d: D) -> Result<T, D::Error> {
    T::wire(d)
}

/// A value with a text form: list elements of `comma`/`pipe` fields, query params, map keys.
pub trait Scalar: Sized {
    /// The text sent on the wire.
    fn to_text(&self) -> Cow<'_, str>;
    /// Parses the wire text; `None` when it does not fit.
    fn from_text(s: &str) -> Option<Self>;
}

impl Scalar for String {
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
    fn from_text(s: &str) -> Option<Self> {
        Self::from_raw(Raw::Str(s))
    }
}

impl Scalar for SecretString {
    fn to_text(&self) -> Cow<'_, str> {
        // Sent somewhere: an error page may quote it back.
        crate::secret::note(self);
        Cow::Borrowed(self.expose_secret())
    }
    fn from_text(s: &str) -> Option<Self> {
        Some(SecretString::from(s))
    }
}

macro_rules! number_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn to_text(&self) -> Cow<'_, str> {
                Cow::Owned(self.to_string())
            }
            fn from_text(s: &str) -> Option<Self> {
                Self::from_raw(Raw::Str(s))
            }
        }
    )*};
}

number_scalar!(i64, f64);

impl Scalar for bool {
    fn to_text(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
    fn from_text(s: &str) -> Option<Self> {
        Self::from_raw(Raw::Str(s))
    }
}

/// Decodes a scalar from JSON scalars of any kind by the rules of [`dingtalk_wire`].
struct ScalarVisitor<T>(PhantomData<T>, &'static str);

impl<T: FromRaw> ScalarVisitor<T> {
    fn take<E: de::Error>(&self, raw: Raw<'_>) -> Result<T, E> {
        T::from_raw(raw).ok_or_else(|| match raw {
            Raw::Bool(_) => E::invalid_type(raw.unexpected(), self),
            _ => E::invalid_value(raw.unexpected(), self),
        })
    }
}

impl<'de, T: FromRaw> Visitor<'de> for ScalarVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.1)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.take(Raw::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.take(Raw::I64(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.take(Raw::U64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.take(Raw::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        self.take(Raw::Str(v))
    }
}

macro_rules! scalar_wire {
    ($($t:ty => $what:literal),*) => {$(
        impl Wire for $t {
            fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(ScalarVisitor::<$t>(PhantomData, $what))
            }
        }
    )*};
}

scalar_wire!(String => "a string", i64 => "an integer (or its text)", f64 => "a number (or its text)", bool => "a boolean (or \"true\"/\"false\")");

impl Wire for SecretString {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::wire(d).map(SecretString::from)
    }
}

impl Wire for serde_json::Value {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::Deserialize::deserialize(d)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Wire> Visitor<'de> for V<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                T::wire(d).map(Some)
            }
        }
        d.deserialize_option(V(PhantomData))
    }
}

/// Seed that decodes one element through [`Wire`].
struct WireSeed<T>(PhantomData<T>);

impl<'de, T: Wire> DeserializeSeed<'de> for WireSeed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::wire(d)
    }
}

impl<T: Wire> Wire for Vec<T> {
    /// Arrays; `null` as empty; a single value as a list of one (DingTalk's docs show single
    /// objects where the type is a list).
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Wire> Visitor<'de> for V<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // Cap the pre-allocation: the hint comes from the input.
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element_seed(WireSeed::<T>(PhantomData))? {
                    out.push(item);
                }
                Ok(out)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::wire(de::value::MapAccessDeserializer::new(map)).map(|v| vec![v])
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::wire(v.into_deserializer()).map(|v| vec![v])
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::wire(v.into_deserializer()).map(|v| vec![v])
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::wire(v.into_deserializer()).map(|v| vec![v])
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::wire(v.into_deserializer()).map(|v| vec![v])
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::wire(v.into_deserializer()).map(|v| vec![v])
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<K: Scalar + Ord, V: Wire> Wire for BTreeMap<K, V> {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Scalar + Ord, V: Wire> Visitor<'de> for Vis<K, V> {
            type Value = BTreeMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = BTreeMap::new();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    let k = K::from_text(&key).ok_or_else(|| {
                        de::Error::invalid_value(
                            de::Unexpected::Str(&key),
                            &"a map key of the declared type",
                        )
                    })?;
                    out.insert(k, map.next_value_seed(WireSeed::<V>(PhantomData))?);
                }
                Ok(out)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(BTreeMap::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(BTreeMap::new())
            }
        }
        d.deserialize_any(Vis(PhantomData))
    }
}

impl Wire for crate::Download {
    /// A download is never JSON; the transport builds it from the raw answer.
    fn wire<'de, D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(de::Error::custom(
            "a file download is not decoded from JSON",
        ))
    }
}

/// The payload of an endpoint that returns nothing besides errcode/errmsg.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

impl Wire for Empty {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::IgnoredAny::deserialize(d).map(|_| Empty {})
    }
}
/// Every generated struct decodes leniently through its own [`DecodeStruct`] impl.
///
/// [`DecodeStruct`]: crate::decode::DecodeStruct
impl<T: crate::decode::DecodeStruct> Wire for T {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::decode::decode_struct(d)
    }
}

use serde::Deserialize as _;

/// Lists carried as one separated string, split by [`dingtalk_wire::split_list`].
fn split_list<T: Scalar, E: de::Error>(s: &str, sep: char) -> Result<Vec<T>, E> {
    dingtalk_wire::split_list(s, sep)
        .map(|p| {
            T::from_text(p).ok_or_else(|| {
                E::invalid_value(
                    de::Unexpected::Str(p),
                    &"a list element of the declared type",
                )
            })
        })
        .collect()
}

/// A separated string is split; anything else decodes as a plain list ([`Vec`]'s [`Wire`]).
fn de_separated<'de, D: Deserializer<'de>, T: Scalar + Wire>(
    d: D,
    sep: char,
) -> Result<Vec<T>, D::Error> {
    struct V<T>(char, PhantomData<T>);
    impl<'de, T: Scalar + Wire> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a `{}`-separated string or an array", self.0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            split_list(v, self.0)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Vec::<T>::wire(de::value::SeqAccessDeserializer::new(seq))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Vec::<T>::wire(v.into_deserializer())
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Vec::<T>::wire(v.into_deserializer())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Vec::<T>::wire(v.into_deserializer())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Vec::<T>::wire(v.into_deserializer())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V(sep, PhantomData))
}

/// Joins list elements with `sep` (query params and separated body fields).
pub fn join<T: Scalar>(items: &[T], sep: &str) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&item.to_text());
    }
    out
}

macro_rules! separated {
    ($name:ident, $sep:expr, $doc:literal) => {
        #[doc = $doc]
        pub mod $name {
            use super::*;

            /// Decodes the separated string (or an array).
            pub fn de<'de, D: Deserializer<'de>, T: Scalar + Wire>(
                d: D,
            ) -> Result<Vec<T>, D::Error> {
                de_separated(d, $sep)
            }

            /// Encodes as one separated string.
            pub fn ser<S: serde::Serializer, T: Scalar>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&join(v, &$sep.to_string()))
            }
        }
    };
}

separated!(
    comma,
    dingtalk_wire::COMMA,
    "`encoding: comma`: `\"a,b,c\"`."
);
separated!(pipe, dingtalk_wire::PIPE, "`encoding: pipe`: `\"a|b|c\"`.");

/// `encoding: json_text`: a JSON value carried as text inside a string.
pub mod json_text {
    use super::*;

    /// Decodes the embedded JSON text; a plain JSON value and an empty string are accepted too.
    pub fn de<'de, D: Deserializer<'de>, T: Wire>(d: D) -> Result<T, D::Error> {
        let value = match serde_json::Value::deserialize(d)? {
            // An empty string means "no value": fine for options, lists and maps.
            serde_json::Value::String(text) => dingtalk_wire::json_text(&text)
                .map_err(de::Error::custom)?
                .unwrap_or(serde_json::Value::Null),
            other => other,
        };
        T::wire(value).map_err(de::Error::custom)
    }

    /// Encodes the value as JSON text inside a string.
    pub fn ser<S: serde::Serializer, T: Serialize>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        let text = serde_json::to_string(v).map_err(serde::ser::Error::custom)?;
        s.serialize_str(&text)
    }
}

/// The JSON text of a value (query params with `encoding: json_text`).
pub fn json_text<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// `encoding: loose_map`: DingTalk's non-JSON map text, `"{1:1}"` or `"{1:false,2:true}"`.
pub mod loose_map {
    use super::*;
    use dingtalk_wire::LooseMapError;

    /// Parses `{k:v,...}` with unquoted (or quoted) keys and scalar values; a real JSON object
    /// is accepted too.
    pub fn de<'de, D: Deserializer<'de>, K: Scalar + Ord, V: Scalar + Wire>(
        d: D,
    ) -> Result<BTreeMap<K, V>, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        match value {
            serde_json::Value::String(text) => parse(&text).map_err(de::Error::custom),
            other => BTreeMap::<K, V>::wire(other).map_err(de::Error::custom),
        }
    }

    /// Encodes as a JSON object in a string, which DingTalk accepts where it sends map text.
    pub fn ser<S: serde::Serializer, K: Scalar, V: Scalar>(
        v: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut text = String::from("{");
        for (i, (k, val)) in v.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&serde_json::Value::String(k.to_text().into_owned()).to_string());
            text.push(':');
            let raw = val.to_text();
            // Numbers and booleans stay bare, everything else is a JSON string.
            match serde_json::from_str::<serde_json::Value>(&raw) {
                Ok(serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => {
                    text.push_str(&raw)
                }
                _ => text.push_str(&serde_json::Value::String(raw.into_owned()).to_string()),
            }
        }
        text.push('}');
        s.serialize_str(&text)
    }

    /// Parses the map text ([`dingtalk_wire::parse_loose_map`]), reading keys and values with
    /// their [`Scalar`] text rules.
    pub fn parse<K: Scalar + Ord, V: Scalar>(text: &str) -> Result<BTreeMap<K, V>, String> {
        let mut out = BTreeMap::new();
        for (k, v) in dingtalk_wire::parse_loose_map(text).map_err(|e| e.to_string())? {
            let key = K::from_text(k).ok_or_else(|| LooseMapError::bad_key(k).to_string())?;
            let value = V::from_text(v).ok_or_else(|| LooseMapError::bad_value(v).to_string())?;
            out.insert(key, value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Probe {
        #[serde(deserialize_with = "de", default)]
        n: Option<i64>,
        #[serde(deserialize_with = "de", default)]
        b: Option<bool>,
        #[serde(deserialize_with = "de", default)]
        s: Option<String>,
        #[serde(deserialize_with = "de", default)]
        list: Vec<i64>,
        #[serde(deserialize_with = "de", default)]
        nested: Vec<Vec<i64>>,
        #[serde(deserialize_with = "comma::de", default)]
        comma: Vec<i64>,
        #[serde(deserialize_with = "pipe::de", default)]
        pipe: Vec<String>,
        #[serde(deserialize_with = "loose_map::de", default)]
        order: BTreeMap<i64, i64>,
        #[serde(deserialize_with = "loose_map::de", default)]
        leader: BTreeMap<i64, bool>,
        #[serde(deserialize_with = "json_text::de", default)]
        ext: BTreeMap<String, String>,
    }

    fn probe(json: &str) -> Probe {
        match serde_json::from_str(json) {
            Ok(p) => p,
            Err(e) => panic!("{json}: {e}"),
        }
    }

    #[test]
    fn integers_above_2_pow_53_stay_exact() {
        assert_eq!(
            probe(r#"{"n": 176318668975061512}"#).n,
            Some(176_318_668_975_061_512)
        );
        assert_eq!(
            probe(r#"{"n": "176318668975061512"}"#).n,
            Some(176_318_668_975_061_512)
        );
        assert!(serde_json::from_str::<Probe>(r#"{"n": 1.5}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"n": 18446744073709551615}"#).is_err());
    }

    #[test]
    fn numbers_and_booleans_as_strings() {
        let p = probe(r#"{"b": "true", "s": 123, "n": " 42 "}"#);
        assert_eq!(
            (p.b, p.s.as_deref(), p.n),
            (Some(true), Some("123"), Some(42))
        );
        assert_eq!(probe(r#"{"b": 0}"#).b, Some(false));
        assert_eq!(probe(r#"{"b": "True"}"#).b, Some(true));
        assert_eq!(probe(r#"{"n": 1.0}"#).n, Some(1));
        assert_eq!(probe(r#"{"list": 2.0}"#).list, vec![2]);
        assert!(serde_json::from_str::<Probe>(r#"{"n": 9007199254740992.0}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"b": "maybe"}"#).is_err());
    }

    #[test]
    fn nulls_and_single_values_where_lists_are_declared() {
        assert_eq!(
            probe(r#"{"list": null, "n": null}"#).list,
            Vec::<i64>::new()
        );
        assert_eq!(probe(r#"{"list": 7}"#).list, vec![7]);
        assert_eq!(
            probe(r#"{"nested": [[456,123,1],[789,1]]}"#).nested,
            vec![vec![456, 123, 1], vec![789, 1]]
        );
    }

    #[test]
    fn separated_lists() {
        let p = probe(r#"{"comma": "2,3, 4", "pipe": "a|b"}"#);
        assert_eq!(p.comma, vec![2, 3, 4]);
        assert_eq!(p.pipe, vec!["a", "b"]);
        assert_eq!(probe(r#"{"comma": [5, "6"]}"#).comma, vec![5, 6]);
        assert_eq!(probe(r#"{"comma": ""}"#).comma, Vec::<i64>::new());
        assert_eq!(probe(r#"{"comma": 3.0}"#).comma, vec![3]);
        assert_eq!(probe(r#"{"pipe": true}"#).pipe, vec!["true"]);
        assert!(serde_json::from_str::<Probe>(r#"{"comma": "1,x"}"#).is_err());
        assert_eq!(join(&[1i64, 2, 3], ","), "1,2,3");
    }

    #[test]
    fn loose_maps_and_json_text() {
        let p = probe(
            r#"{"order": "{1:1,2:30}", "leader": "{1:false, 2:true}", "ext": "{\"爱好\":\"旅游\"}"}"#,
        );
        assert_eq!(p.order, BTreeMap::from([(1, 1), (2, 30)]));
        assert_eq!(p.leader, BTreeMap::from([(1, false), (2, true)]));
        assert_eq!(p.ext.get("爱好").map(String::as_str), Some("旅游"));
        assert_eq!(
            probe(r#"{"order": {"1": 5}}"#).order,
            BTreeMap::from([(1, 5)])
        );
        assert_eq!(probe(r#"{"ext": {"a": "b"}}"#).ext.len(), 1);
        assert!(serde_json::from_str::<Probe>(r#"{"order": "1:1"}"#).is_err());
        assert!(serde_json::from_str::<Probe>(r#"{"ext": "{not json"}"#).is_err());
    }

    #[test]
    fn encodings_serialize_to_their_wire_text() {
        #[derive(Serialize)]
        struct Out {
            #[serde(serialize_with = "comma::ser")]
            ids: Vec<i64>,
            #[serde(serialize_with = "pipe::ser")]
            users: Vec<String>,
            #[serde(serialize_with = "loose_map::ser")]
            order: BTreeMap<i64, i64>,
            #[serde(serialize_with = "json_text::ser")]
            ext: BTreeMap<String, String>,
        }
        let out = Out {
            ids: vec![2, 3],
            users: vec!["a".into(), "b".into()],
            order: BTreeMap::from([(1, 10)]),
            ext: BTreeMap::from([("k".to_string(), "v".to_string())]),
        };
        let json = serde_json::to_string(&out).unwrap_or_default();
        assert_eq!(
            json,
            r#"{"ids":"2,3","users":"a|b","order":"{\"1\":10}","ext":"{\"k\":\"v\"}"}"#
        );
    }
}
