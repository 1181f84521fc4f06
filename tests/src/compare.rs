//! Checks that a decoded response kept everything its example said: every declared field that
//! the example carries must come back with the same value, allowing for DingTalk's spellings
//! (`"1"` for 1, `"2,3"` for `[2, 3]`, `"{1:1}"` for `{"1": 1}`) and for the alias the example
//! used. Both sides are read with the decoder's own rules (`dingtalk-wire`), so a spelling the
//! runtime accepts compares equal to the value it decodes into.

use dingtalk_codegen::model::{Encoding, Endpoint, Host, MapKey, Spec, Ty, TypeKind, UnionContent};
use dingtalk_wire::{self as rules, FromRaw, Raw};
use serde_json::Value;

/// The example's payload for `ep` (the value under `at`, or the whole body less the envelope).
pub fn example_payload(ep: &Endpoint) -> Value {
    match (&ep.response.at, &ep.example) {
        (Some(key), example) => example.get(key).cloned().unwrap_or(Value::Null),
        // The whole answer of an oapi call, less the envelope the client reads itself.
        (None, Value::Object(map)) if ep.host == Host::Oapi => Value::Object(
            map.iter()
                .filter(|(k, _)| !dingtalk_wire::ENVELOPE_KEYS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        (None, example) => example.clone(),
    }
}

/// Compares `expected` (from the example) with `actual` (the decoded value re-encoded).
/// Returns the JSON path and a description of the first difference.
pub fn same(
    spec: &Spec,
    ty: &Ty,
    enc: Option<Encoding>,
    expected: &Value,
    actual: &Value,
    path: &str,
) -> Result<(), String> {
    let differ = |what: &str| {
        Err(format!(
            "at `{path}`: {what}: example {expected}, decoded {actual}"
        ))
    };
    if expected.is_null() {
        return Ok(());
    }
    match enc {
        Some(Encoding::Comma | Encoding::Pipe) => {
            let sep = if enc == Some(Encoding::Comma) {
                rules::COMMA
            } else {
                rules::PIPE
            };
            let (e, a) = (split(expected, sep), split(actual, sep));
            return same(spec, ty, None, &e, &a, path);
        }
        Some(Encoding::JsonText) => {
            let (e, a) = (unwrap_text(expected), unwrap_text(actual));
            return same(spec, ty, None, &e, &a, path);
        }
        Some(Encoding::LooseMap) => {
            let (e, a) = (loose_map(expected), loose_map(actual));
            return same(spec, ty, None, &e, &a, path);
        }
        None => {}
    }
    let scalar = |alike: bool| {
        if alike {
            Ok(())
        } else {
            differ("values differ")
        }
    };
    match ty {
        Ty::String => scalar(decodes_alike::<String>(expected, actual)),
        Ty::I64 => scalar(decodes_alike::<i64>(expected, actual)),
        Ty::F64 => scalar(decodes_alike::<f64>(expected, actual)),
        Ty::Bool => scalar(decodes_alike::<bool>(expected, actual)),
        Ty::Json => {
            if expected == actual {
                Ok(())
            } else {
                differ("JSON differs")
            }
        }
        Ty::List(inner) => {
            let e = rules::list_items(expected);
            let a = rules::list_items(actual);
            if e.len() != a.len() {
                return differ("list lengths differ");
            }
            for (i, (x, y)) in e.iter().zip(a).enumerate() {
                same(spec, inner, None, x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Ty::Map(key, inner) => {
            let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
                return differ("expected objects");
            };
            for (k, v) in e {
                let found = match key {
                    MapKey::String => a.get(k),
                    // Integer keys are read as integers: `" 1"` and `"1"` are one key.
                    MapKey::I64 => rules::int_from_str(k).and_then(|n| {
                        a.iter()
                            .find(|(ak, _)| rules::int_from_str(ak) == Some(n))
                            .map(|(_, av)| av)
                    }),
                };
                let Some(av) = found else {
                    return differ(&format!("key `{k}` lost"));
                };
                same(spec, inner, None, v, av, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        Ty::Named(name) => match spec.types.get(name).map(|t| &t.kind) {
            Some(TypeKind::Enum(e)) => {
                let alike = if e.integer {
                    decodes_alike::<i64>(expected, actual)
                } else {
                    decodes_alike::<String>(expected, actual)
                };
                if alike {
                    Ok(())
                } else {
                    differ("enum values differ")
                }
            }
            Some(TypeKind::Union(u)) => {
                let tag = |v: &Value| {
                    v.get(&u.tag_key)
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                if tag(expected) != tag(actual) {
                    return differ("union tags differ");
                }
                let Some(variant) =
                    tag(expected).and_then(|t| u.variants.iter().find(|v| v.tag == t))
                else {
                    return if expected == actual {
                        Ok(())
                    } else {
                        differ("unknown variant changed")
                    };
                };
                let inner = |v: &Value| match &u.content {
                    UnionContent::ByTag => v.get(&variant.tag).cloned().unwrap_or(Value::Null),
                    // JSON text compares as the value it holds.
                    UnionContent::JsonTextAt(at) => match v.get(at) {
                        Some(Value::String(text)) => {
                            serde_json::from_str(text).unwrap_or(Value::Null)
                        }
                        Some(other) => other.clone(),
                        None => Value::Null,
                    },
                    UnionContent::Inline => v.clone(),
                };
                same(
                    spec,
                    &Ty::Named(variant.ty.clone()),
                    None,
                    &inner(expected),
                    &inner(actual),
                    path,
                )
            }
            Some(TypeKind::Struct(fields)) => {
                let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
                    return differ("expected objects");
                };
                for f in fields {
                    let Some(ev) = std::iter::once(&f.wire)
                        .chain(&f.aliases)
                        .find_map(|k| e.get(k))
                    else {
                        continue;
                    };
                    if ev.is_null() {
                        continue;
                    }
                    let empty = ev.as_array().is_some_and(Vec::is_empty)
                        || ev.as_object().is_some_and(|o| o.is_empty());
                    if empty && f.ty.is_collection() && a.get(&f.wire).is_none() {
                        continue; // an empty optional list is not serialized
                    }
                    let Some(av) = a.get(&f.wire) else {
                        return Err(format!(
                            "at `{path}.{}`: field lost in decoding (example has {ev})",
                            f.wire
                        ));
                    };
                    same(
                        spec,
                        &f.ty,
                        f.encoding,
                        ev,
                        av,
                        &format!("{path}.{}", f.wire),
                    )?;
                }
                Ok(())
            }
            None => differ("unknown type"),
        },
    }
}

/// Both values decode into the same `T` by the decoder's scalar rules.
fn decodes_alike<T: FromRaw + PartialEq>(expected: &Value, actual: &Value) -> bool {
    let decode = |v: &Value| Raw::of(v).and_then(T::from_raw);
    let e = decode(expected);
    e.is_some() && e == decode(actual)
}

/// A separated string as the array of its parts; anything else as it is.
fn split(v: &Value, sep: char) -> Value {
    match v {
        Value::String(s) => Value::Array(
            rules::split_list(s, sep)
                .map(|p| Value::String(p.to_string()))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The JSON inside a string (null for an empty one); anything else as it is.
fn unwrap_text(v: &Value) -> Value {
    match v {
        Value::String(s) => match rules::json_text(s) {
            Ok(inner) => inner.unwrap_or(Value::Null),
            Err(_) => v.clone(),
        },
        other => other.clone(),
    }
}

/// Loose map text as an object of its entries' text; anything else as it is.
fn loose_map(v: &Value) -> Value {
    match v {
        Value::String(s) => match rules::parse_loose_map(s) {
            Ok(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                    .collect(),
            ),
            Err(_) => v.clone(),
        },
        other => other.clone(),
    }
}
