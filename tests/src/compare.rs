//! Checks that a decoded response kept everything its example said: every declared field that
//! the example carries must come back with the same value, allowing for DingTalk's spellings
//! (`"1"` for 1, `"2,3"` for `[2, 3]`, `"{1:1}"` for `{"1": 1}`) and for the alias the example
//! used.

use dingtalk::runtime::wire::loose_map;
use dingtalk_codegen::model::{Encoding, Endpoint, Spec, Ty, TypeKind};
use serde_json::Value;

/// The example's payload for `ep` (the value under `at`, or the whole body).
pub fn example_payload(ep: &Endpoint) -> Value {
    match &ep.response.at {
        Some(key) => ep.example.get(key).cloned().unwrap_or(Value::Null),
        None => ep.example.clone(),
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
                ','
            } else {
                '|'
            };
            let (e, a) = (split(expected, sep), split(actual, sep));
            return same(spec, ty, None, &e, &a, path);
        }
        Some(Encoding::JsonText) => {
            let (e, a) = (unwrap_text(expected), unwrap_text(actual));
            return same(spec, ty, None, &e, &a, path);
        }
        Some(Encoding::LooseMap) => {
            let parse = |v: &Value| -> Option<Value> {
                match v {
                    Value::String(s) => loose_map::parse::<String, String>(s)
                        .ok()
                        .map(|m| serde_json::to_value(m).unwrap_or_default()),
                    Value::Object(o) => Some(Value::Object(
                        o.iter()
                            .map(|(k, v)| (k.clone(), Value::String(text(v))))
                            .collect(),
                    )),
                    _ => None,
                }
            };
            return if parse(expected) == parse(actual) {
                Ok(())
            } else {
                differ("map text differs")
            };
        }
        None => {}
    }
    match ty {
        Ty::String => {
            if text(expected) == text(actual) {
                Ok(())
            } else {
                differ("strings differ")
            }
        }
        Ty::I64 | Ty::F64 | Ty::Bool => {
            let norm = |v: &Value| match text(v).trim() {
                "1" if *ty == Ty::Bool => "true".to_string(),
                "0" if *ty == Ty::Bool => "false".to_string(),
                t => t
                    .parse::<f64>()
                    .map(|f| f.to_string())
                    .unwrap_or_else(|_| t.to_string()),
            };
            // i64 must match digit for digit: compare the text, not a float.
            let exact = |v: &Value| text(v).trim().to_string();
            let ok = if *ty == Ty::I64 {
                exact(expected) == exact(actual)
            } else {
                norm(expected) == norm(actual)
            };
            if ok {
                Ok(())
            } else {
                differ("values differ")
            }
        }
        Ty::Json => {
            if expected == actual {
                Ok(())
            } else {
                differ("JSON differs")
            }
        }
        Ty::List(inner) => {
            let e = as_list(expected);
            let a = as_list(actual);
            if e.len() != a.len() {
                return differ("list lengths differ");
            }
            for (i, (x, y)) in e.iter().zip(&a).enumerate() {
                same(spec, inner, None, x, y, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Ty::Map(_, inner) => {
            let (Some(e), Some(a)) = (expected.as_object(), actual.as_object()) else {
                return differ("expected objects");
            };
            for (k, v) in e {
                let Some(av) = a.get(k.trim()) else {
                    return differ(&format!("key `{k}` lost"));
                };
                same(spec, inner, None, v, av, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        Ty::Named(name) => match spec.types.get(name).map(|t| &t.kind) {
            Some(TypeKind::Enum(_)) => {
                if text(expected).trim() == text(actual).trim() {
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
                let inner = |v: &Value| {
                    if u.by_tag {
                        v.get(&variant.tag).cloned().unwrap_or(Value::Null)
                    } else {
                        v.clone()
                    }
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

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        Value::Null => Vec::new(),
        single => vec![single.clone()],
    }
}

fn split(v: &Value, sep: char) -> Value {
    match v {
        Value::String(s) => Value::Array(
            s.split(sep)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| Value::String(p.to_string()))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn unwrap_text(v: &Value) -> Value {
    match v {
        Value::String(s) if s.trim().is_empty() => Value::Null,
        Value::String(s) => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}
