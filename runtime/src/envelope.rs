//! The oapi errcode envelope, read in the same pass over the body as the payload: the envelope's
//! keys are picked out of the object while the payload (the whole object, or the value under
//! `payload_at`) decodes, so a success answer is parsed once.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::decode::{Field, Key};
use crate::wire::{self, Wire};

/// The errcode envelope every oapi answer carries.
#[derive(Default, Deserialize)]
pub(crate) struct Envelope {
    #[serde(default, deserialize_with = "wire::de")]
    pub errcode: Option<i64>,
    #[serde(default, deserialize_with = "wire::de")]
    pub errmsg: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    pub sub_code: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    pub sub_msg: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    pub request_id: Option<String>,
}

impl Envelope {
    /// The number of an envelope key in [`dingtalk_wire::ENVELOPE_KEYS`].
    fn index(key: &str) -> Option<usize> {
        dingtalk_wire::ENVELOPE_KEYS.iter().position(|k| *k == key)
    }

    /// Reads the value of the envelope key numbered `index` (a later duplicate wins): the
    /// fields in the order of [`dingtalk_wire::ENVELOPE_KEYS`].
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        match index {
            0 => self.errcode = map.next_value_seed(Field::<Option<i64>>::new())?,
            1 => self.errmsg = map.next_value_seed(Field::<Option<String>>::new())?,
            2 => self.sub_code = map.next_value_seed(Field::<Option<String>>::new())?,
            3 => self.sub_msg = map.next_value_seed(Field::<Option<String>>::new())?,
            _ => self.request_id = map.next_value_seed(Field::<Option<String>>::new())?,
        }
        Ok(())
    }

    /// The errcode of a failed call (present and not 0).
    pub fn failure(&self) -> Option<i64> {
        self.errcode.filter(|code| *code != 0)
    }
}

/// What one pass over an oapi answer found.
pub(crate) enum Read<T> {
    /// A success answer (errcode 0 or none) and its payload.
    Payload(Envelope, T),
    /// A failed call and its errcode (≠ 0); a payload key after the errcode was skipped.
    Failed(Envelope, i64),
}

impl<T> Read<T> {
    /// The envelope of a failed call as a [`Read`]; `None` when it says the call succeeded.
    pub fn failed(env: Envelope) -> Option<Self> {
        env.failure().map(|code| Read::Failed(env, code))
    }
}

/// Reads an oapi answer in one pass: the envelope, and the payload at the top level
/// (`payload_at` none; the envelope's keys are not shown to `T`) or under `payload_at`.
pub(crate) fn read<T: Wire>(
    bytes: &[u8],
    payload_at: Option<&'static str>,
) -> Result<Read<T>, serde_json::Error> {
    let mut env = Envelope::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let payload = match payload_at {
        None => Some(T::wire(Tap {
            de: &mut de,
            env: &mut env,
        })?),
        Some(key) => At::<T> {
            key,
            env: Some(&mut env),
            _t: PhantomData,
        }
        .deserialize(&mut de)?,
    };
    de.end()?;
    Ok(match (env.failure(), payload) {
        (Some(code), _) => Read::Failed(env, code),
        (None, Some(payload)) => Read::Payload(env, payload),
        // `At` skips the payload only once an errcode ≠ 0 was read.
        (None, None) => return Err(de::Error::custom("the response has no payload")),
    })
}

/// Decodes the value under one key of the top-level object, skipping the rest, and (on oapi)
/// reading the envelope's keys on the way. `None` when the key is absent or skipped because the
/// envelope already said the call failed.
pub(crate) struct At<'e, T> {
    pub key: &'static str,
    pub env: Option<&'e mut Envelope>,
    pub _t: PhantomData<T>,
}

impl<'de, T: Wire> DeserializeSeed<'de> for At<'_, T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Wire> Visitor<'de> for At<'_, T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Option<T>, A::Error> {
        let mut found = None;
        let mut seen = false;
        while let Some(k) = map.next_key::<Key<'de>>()? {
            let k = k.as_str();
            if k == self.key && !seen {
                seen = true;
                let failed = self.env.as_ref().is_some_and(|env| env.failure().is_some());
                if !failed {
                    found = Some(map.next_value_seed(Field::<T>::new())?);
                    continue;
                }
            } else if let (Some(env), Some(i)) = (self.env.as_deref_mut(), Envelope::index(k)) {
                env.read(i, &mut map)?;
                continue;
            }
            map.next_value::<de::IgnoredAny>()?;
        }
        if found.is_some() || self.env.as_ref().is_some_and(|env| env.failure().is_some()) {
            return Ok(found);
        }
        // An absent payload is fine for lists and optional values, an error otherwise.
        T::wire(serde_json::Value::Null)
            .map(Some)
            .map_err(|_| de::Error::custom(format_args!("the response has no `{}`", self.key)))
    }
}

/// The top-level deserializer of a payload that is the whole answer: it hands the payload's
/// decoder every key but the envelope's, which it reads itself.
struct Tap<'e, D> {
    de: D,
    env: &'e mut Envelope,
}

/// The visitor of a [`Tap`]: an object's entries pass through [`TapMap`]; everything else
/// reaches the payload's own visitor unchanged.
struct TapVisitor<'e, V> {
    visitor: V,
    env: &'e mut Envelope,
}

/// An object's entries with the envelope's keys taken out.
struct TapMap<'e, A> {
    map: A,
    env: &'e mut Envelope,
}

macro_rules! tap_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.de.$method($($arg,)* TapVisitor { visitor, env: self.env })
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Tap<'_, D> {
    type Error = D::Error;
    tap_deserialize! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
        deserialize_i32(); deserialize_i64(); deserialize_i128(); deserialize_u8();
        deserialize_u16(); deserialize_u32(); deserialize_u64(); deserialize_u128();
        deserialize_f32(); deserialize_f64(); deserialize_char(); deserialize_str();
        deserialize_string(); deserialize_bytes(); deserialize_byte_buf(); deserialize_option();
        deserialize_unit(); deserialize_seq(); deserialize_map(); deserialize_identifier();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
    }
    /// A payload that ignores the answer still has its envelope read: serde_json would skip
    /// the object without showing it to a visitor.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.de.deserialize_any(TapVisitor {
            visitor,
            env: self.env,
        })
    }
    fn is_human_readable(&self) -> bool {
        self.de.is_human_readable()
    }
}

macro_rules! tap_visit {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method<E: de::Error>(self, v: $ty) -> Result<V::Value, E> {
            self.visitor.$method(v)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TapVisitor<'_, V> {
    type Value = V::Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.visitor.expecting(f)
    }
    tap_visit! {
        visit_bool(bool); visit_i8(i8); visit_i16(i16); visit_i32(i32); visit_i64(i64);
        visit_i128(i128); visit_u8(u8); visit_u16(u16); visit_u32(u32); visit_u64(u64);
        visit_u128(u128); visit_f32(f32); visit_f64(f64); visit_char(char); visit_str(&str);
        visit_borrowed_str(&'de str); visit_string(String); visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]); visit_byte_buf(Vec<u8>);
    }
    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }
    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_unit()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_some(Tap {
            de: d,
            env: self.env,
        })
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<V::Value, D::Error> {
        self.visitor.visit_newtype_struct(Tap {
            de: d,
            env: self.env,
        })
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(TapMap { map, env: self.env })
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_enum(data)
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TapMap<'_, A> {
    type Error = A::Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        while let Some(key) = self.map.next_key::<Key<'de>>()? {
            if let Some(i) = Envelope::index(key.as_str()) {
                self.env.read(i, &mut self.map)?;
                continue;
            }
            return match key.0 {
                Cow::Borrowed(k) => seed.deserialize(BorrowedStrDeserializer::new(k)),
                Cow::Owned(k) => seed.deserialize(StringDeserializer::new(k)),
            }
            .map(Some);
        }
        Ok(None)
    }
    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Page {
        names: Vec<String>,
        keys: Vec<String>,
    }

    /// Records every key it is shown, so the tests see what the payload's decoder saw.
    impl Wire for Page {
        fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Page;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a page")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
                    let mut page = Page {
                        names: Vec::new(),
                        keys: Vec::new(),
                    };
                    while let Some(k) = map.next_key::<String>()? {
                        if k == "names" {
                            page.names = map.next_value()?;
                        } else {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                        page.keys.push(k);
                    }
                    Ok(page)
                }
            }
            d.deserialize_map(V)
        }
    }

    fn top(body: &str) -> Result<Read<Page>, serde_json::Error> {
        read::<Page>(body.as_bytes(), None)
    }

    #[test]
    fn top_level_payload_never_sees_the_envelope() {
        let body = r#"{"errcode":"0","names":["a","b"],"errmsg":"ok","request_id":"r1","x":{"errcode":5}}"#;
        let Ok(Read::Payload(env, page)) = top(body) else {
            panic!("a success answer")
        };
        assert_eq!(page.names, ["a", "b"]);
        assert_eq!(page.keys, ["names", "x"]);
        assert_eq!(env.errcode, Some(0));
        assert_eq!(env.errmsg.as_deref(), Some("ok"));
        assert_eq!(env.request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn an_errcode_anywhere_in_the_object_fails_the_call() {
        for body in [
            r#"{"names":[],"errcode":40014,"errmsg":"bad token","sub_code":"s","sub_msg":"m"}"#,
            r#"{"errcode":40014,"errmsg":"bad token","sub_code":"s","sub_msg":"m","names":[]}"#,
        ] {
            let Ok(Read::Failed(env, 40014)) = top(body) else {
                panic!("a failed call: {body}")
            };
            assert_eq!(env.failure(), Some(40014));
            assert_eq!(env.errmsg.as_deref(), Some("bad token"));
            assert_eq!(env.sub_code.as_deref(), Some("s"));
            assert_eq!(env.sub_msg.as_deref(), Some("m"));
        }
    }

    #[test]
    fn a_payload_that_ignores_the_answer_still_fails_on_an_errcode() {
        let read = |body: &str| read::<crate::wire::Empty>(body.as_bytes(), None);
        assert!(matches!(
            read(r#"{"errcode":40035,"errmsg":"bad","nested":{"errcode":0}}"#),
            Ok(Read::Failed(env, 40035)) if env.errmsg.as_deref() == Some("bad")
        ));
        assert!(matches!(read(r#"{"errcode":0}"#), Ok(Read::Payload(..))));
    }

    #[test]
    fn payload_under_a_key() {
        let at = |body: &str| read::<Vec<i64>>(body.as_bytes(), Some("result"));
        let Ok(Read::Payload(env, ids)) = at(r#"{"result":[1,"2"],"errcode":0,"request_id":"q"}"#)
        else {
            panic!("a success answer")
        };
        assert_eq!((ids, env.request_id.as_deref()), (vec![1, 2], Some("q")));
        // An absent list is empty; an error answer skips the payload, even a malformed one.
        assert!(matches!(at(r#"{"errcode":0}"#), Ok(Read::Payload(_, ids)) if ids.is_empty()));
        assert!(matches!(
            at(r#"{"errcode":88,"result":"not a list"}"#),
            Ok(Read::Failed(_, 88))
        ));
        // Only the first payload key counts.
        assert!(matches!(
            at(r#"{"result":[1],"result":[2]}"#),
            Ok(Read::Payload(_, ids)) if ids == [1]
        ));
        assert!(at(r#"{"result":[1],"errcode":0"#).is_err(), "truncated");
        assert!(at("<html>").is_err());
    }

    #[test]
    fn a_required_payload_that_is_absent() {
        let err = read::<Page>(br#"{"errcode":0}"#, Some("result"))
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("the response has no `result`")));
    }

    #[test]
    fn escaped_keys_reach_the_payload() {
        let Ok(Read::Payload(_, page)) = top(r#"{"na\u006des":["x"],"err\u0063ode":0}"#) else {
            panic!("a success answer")
        };
        assert_eq!(
            (page.names, page.keys),
            (vec!["x".to_string()], vec!["names".to_string()])
        );
    }
}
