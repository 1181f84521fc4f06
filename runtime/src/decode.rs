//! What generated `Deserialize` impls are made of: one hand-rolled visitor per struct (a loop
//! over the keys, a `match` on each) calls these seeds, instead of serde's derive making a
//! wrapper type and impl for every `deserialize_with` field, which costs far more to compile.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};

use crate::wire::{self, Scalar, Wire};

/// An object key, borrowed from the input when it has no escapes.
pub struct Key<'de>(pub Cow<'de, str>);

impl Key<'_> {
    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// A field decoded through [`Wire`] (the lenient decoding of every generated field).
pub struct Field<T>(PhantomData<T>);

/// A `encoding: comma` list (`"a,b"`, or a JSON list).
pub struct Comma<T>(PhantomData<T>);

/// A `encoding: pipe` list (`"a|b"`, or a JSON list).
pub struct Pipe<T>(PhantomData<T>);

/// A `encoding: json_text` value (JSON inside a string, or plain JSON).
pub struct JsonText<T>(PhantomData<T>);

/// A `encoding: loose_map` map (the non-JSON text `{1:1}`, or a JSON object).
pub struct LooseMap<K, V>(PhantomData<(K, V)>);

macro_rules! seed_new {
    ($($seed:ident<$($t:ident),+>),*) => {$(
        impl<$($t),+> $seed<$($t),+> {
            /// The seed.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                $seed(PhantomData)
            }
        }
    )*};
}
seed_new!(Field<T>, Comma<T>, Pipe<T>, JsonText<T>, LooseMap<K, V>);

impl<'de, T: Wire> DeserializeSeed<'de> for Field<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::wire(d)
    }
}

impl<'de, T: Scalar + Wire> DeserializeSeed<'de> for Comma<T> {
    type Value = Vec<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        wire::comma::de(d)
    }
}

impl<'de, T: Scalar + Wire> DeserializeSeed<'de> for Pipe<T> {
    type Value = Vec<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        wire::pipe::de(d)
    }
}

impl<'de, T: Wire> DeserializeSeed<'de> for JsonText<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        wire::json_text::de(d)
    }
}

impl<'de, K: Scalar + Ord, V: Scalar + Wire> DeserializeSeed<'de> for LooseMap<K, V> {
    type Value = BTreeMap<K, V>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<BTreeMap<K, V>, D::Error> {
        wire::loose_map::de(d)
    }
}

/// Reads the next key of an object and finds it in `keys` (a struct's wire names, then its
/// aliases): its index, `usize::MAX` for a key the struct does not know, `None` at the end.
/// Matching on an index instead of on strings keeps each generated decoder small to compile.
pub fn next_field<'de, A: de::MapAccess<'de>>(
    map: &mut A,
    keys: &[&str],
) -> Result<Option<usize>, A::Error> {
    Ok(map.next_key::<Key<'de>>()?.map(|key| {
        keys.iter()
            .position(|k| *k == key.as_str())
            .unwrap_or(usize::MAX)
    }))
}

/// Decodes the current value with `seed` into `slot` (a later duplicate key wins).
pub fn put<'de, A: de::MapAccess<'de>, S: DeserializeSeed<'de>>(
    map: &mut A,
    slot: &mut Option<S::Value>,
    seed: S,
) -> Result<(), A::Error> {
    *slot = Some(map.next_value_seed(seed)?);
    Ok(())
}

/// Decodes the value of an alias key into `slot`, unless the field's own name already filled
/// it (the name wins over an alias).
pub fn put_alias<'de, A: de::MapAccess<'de>, S: DeserializeSeed<'de>>(
    map: &mut A,
    slot: &mut Option<S::Value>,
    seed: S,
) -> Result<(), A::Error> {
    if slot.is_some() {
        skip(map)
    } else {
        put(map, slot, seed)
    }
}

/// Skips the current value (a key the struct does not know).
pub fn skip<'de, A: de::MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<de::IgnoredAny>().map(|_| ())
}

/// A required field's value, or serde's "missing field" error.
pub fn required<T, E: de::Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(field))
}

/// The error of a JSON value that is not an object where a struct is expected.
pub fn expecting(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    write!(f, "a `{name}` object")
}

/// A generated struct's decoder: its name and how to read it from a map. One generic visitor
/// ([`decode_struct`]) serves every struct, so each struct compiles one function, not a
/// visitor type with three.
pub trait DecodeStruct: Sized {
    /// The struct's name, for "expected …" messages.
    const NAME: &'static str;
    /// Reads the struct from the object's entries.
    fn from_map<'de, A: de::MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// Decodes a [`DecodeStruct`] from an object.
pub fn decode_struct<'de, D: Deserializer<'de>, T: DecodeStruct>(d: D) -> Result<T, D::Error> {
    struct StructVisitor<T>(PhantomData<T>);
    impl<'de, T: DecodeStruct> Visitor<'de> for StructVisitor<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            expecting(f, T::NAME)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::from_map(map)
        }
    }
    d.deserialize_map(StructVisitor(PhantomData))
}
