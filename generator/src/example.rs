//! Checks that examples decode into their declared types, with the leniency the runtime's
//! decoder has (numbers and booleans as strings, lists as separated strings, JSON in strings).
//! The rules themselves live in `dingtalk-wire`, which the runtime's decoder calls too, so an
//! example passes here exactly when the runtime decodes it. An example that fails here would
//! fail in the integration test; catching it here names the spec line and the JSON path instead.
//!
//! Two checks are stricter than the decoder, on purpose, because the example would decode only
//! into a catch-all: a boolean for a string enum, and a union object without a string tag.

use dingtalk_wire::{self as rules, Raw};
use serde_json::Value;

use crate::diag::{Diagnostics, Loc};
use crate::model::{
    Encoding, Endpoint, EnumWire, Field, MapKey, Spec, Ty, TypeDef, TypeKind, UnionDef,
};

/// Checks an endpoint's example response; problems are reported at `loc` (its `example:` line).
pub fn check_endpoint(spec: &Spec, ep: &Endpoint, loc: Loc, diags: &mut Diagnostics) {
    let what = format!("endpoint `{}`", ep.name);
    let Value::Object(body) = &ep.example else {
        diags.error(
            loc,
            format!("{what}: `example:` must be a JSON object (the whole response body)"),
        );
        return;
    };
    if ep.response.is_file() {
        // A download's example is the file the stand-in serves: its type and its text.
        let ok = body.get("content_type").is_some_and(Value::is_string)
            && body.get("body").is_some_and(Value::is_string);
        if !ok {
            diags.error(
                loc,
                format!("{what}: a `response: binary` example is the file served: {{\"content_type\": \"image/png\", \"body\": \"...\"}}"),
            );
        }
        return;
    }
    match body.get("errcode") {
        None | Some(Value::Null) => {}
        Some(code) if code == 0 || code == "0" => {}
        Some(code) => diags.error(
            loc.clone(),
            format!("{what}: the example has errcode {code}; use a success response (errcode 0)"),
        ),
    }
    let Some(ty) = ep.response.ty() else { return };
    let (value, base) = match &ep.response.at {
        None => (&ep.example, String::new()),
        Some(key) => match body.get(key) {
            Some(v) => (v, key.clone()),
            None => {
                diags.error(
                    loc,
                    format!("{what}: the response sits at `{key}`, but the example has no `{key}` key; add it or fix `at:`"),
                );
                return;
            }
        },
    };
    if let Err((path, msg)) = check(spec, ty, None, true, value, &base) {
        let at = if path.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{path}`")
        };
        diags.error(
            loc,
            format!("{what}: the example does not decode into the response: at {at}: {msg}"),
        );
    }
}

/// Checks a type's own `example:` (a push payload, a callback answer) against the type, as the
/// runtime would decode it; problems are reported at `loc` (its `example:` line).
pub fn check_type(spec: &Spec, def: &TypeDef, loc: Loc, diags: &mut Diagnostics) {
    let Some(example) = &def.example else { return };
    let ty = Ty::Named(def.name.clone());
    if let Err((path, msg)) = check(spec, &ty, None, true, example, "") {
        let at = if path.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{path}`")
        };
        diags.error(
            loc,
            format!(
                "type `{}`: the example does not decode into it: at {at}: {msg}",
                def.name
            ),
        );
    }
}

/// Checks a request param's `example:` value against its type.
pub fn check_param(spec: &Spec, endpoint: &str, f: &Field, diags: &mut Diagnostics) {
    let Some(example) = &f.example else { return };
    // Param examples are written as the Rust value, not the wire text: no encoding applies.
    if let Err((path, msg)) = check(spec, &f.ty, None, true, example, &f.wire) {
        diags.error(
            f.loc.clone(),
            format!("endpoint `{endpoint}`, param `{}`: `example:` does not fit its type: at `{path}`: {msg}", f.wire),
        );
    }
}

type Failure = (String, String);

fn fail(path: &str, msg: impl Into<String>) -> Result<(), Failure> {
    Err((path.to_string(), msg.into()))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Checks a map key against its declared type.
fn check_key(key: MapKey, k: &str, path: &str) -> Result<(), Failure> {
    if key == MapKey::I64 && rules::int_from_str(k).is_none() {
        return fail(&join(path, k), "map key is not an integer");
    }
    Ok(())
}

/// Checks the text of one element of a separated list or one value of a loose map: the runtime
/// reads it with the element type's text rule, which is the rule for a JSON string.
fn check_text(spec: &Spec, ty: &Ty, text: &str, path: &str) -> Result<(), Failure> {
    check(spec, ty, None, true, &Value::String(text.to_string()), path)
}

/// Checks `v` against `ty`. `required` decides whether null is acceptable.
fn check(
    spec: &Spec,
    ty: &Ty,
    enc: Option<Encoding>,
    required: bool,
    v: &Value,
    path: &str,
) -> Result<(), Failure> {
    if v.is_null() {
        return if required && !ty.is_collection() && *ty != Ty::Json {
            fail(path, "null where a value is required")
        } else {
            Ok(())
        };
    }
    match enc {
        Some(Encoding::Comma | Encoding::Pipe) => {
            if let (Value::String(s), Ty::List(inner)) = (v, ty) {
                let sep = if enc == Some(Encoding::Comma) {
                    rules::COMMA
                } else {
                    rules::PIPE
                };
                for (i, part) in rules::split_list(s, sep).enumerate() {
                    check_text(spec, inner, part, &format!("{path}[{i}]"))?;
                }
                return Ok(());
            }
        }
        Some(Encoding::JsonText) => {
            if let Value::String(s) = v {
                return match rules::json_text(s) {
                    Ok(Some(inner)) => check(spec, ty, None, required, &inner, path),
                    // An empty string stands for null.
                    Ok(None) => check(spec, ty, None, required, &Value::Null, path),
                    Err(e) => fail(path, format!("a string that is not JSON text ({e})")),
                };
            }
        }
        Some(Encoding::LooseMap) => match (v, ty) {
            (Value::String(s), Ty::Map(key, inner)) => {
                let entries =
                    rules::parse_loose_map(s).map_err(|e| (path.to_string(), e.to_string()))?;
                for (k, item) in entries {
                    check_key(*key, k, path)?;
                    check_text(spec, inner, item, &join(path, k))?;
                }
                return Ok(());
            }
            // Map text on a type that is not a map is reported as a misplaced encoding.
            (Value::String(_), _) => return Ok(()),
            _ => {}
        },
        None => {}
    }
    match ty {
        Ty::String => match Raw::of(v) {
            Some(_) => Ok(()),
            None => fail(path, format!("expected a string, found {}", kind(v))),
        },
        Ty::I64 => match Raw::of(v) {
            Some(raw) if rules::int(raw).is_some() => Ok(()),
            Some(Raw::U64(n)) => fail(path, format!("{n} does not fit in an i64")),
            Some(Raw::F64(n)) => fail(
                path,
                format!("expected an integer, found {n} (a float is an integer only when whole and below 2^53)"),
            ),
            _ => fail(path, format!("expected an integer, found {}", kind(v))),
        },
        Ty::F64 => match Raw::of(v).and_then(rules::float) {
            Some(_) => Ok(()),
            None => fail(path, format!("expected a number, found {}", kind(v))),
        },
        Ty::Bool => match Raw::of(v).and_then(rules::boolean) {
            Some(_) => Ok(()),
            None => fail(
                path,
                format!("expected a boolean (true/false, 0/1, or their text), found {}", kind(v)),
            ),
        },
        Ty::Json => Ok(()),
        Ty::List(inner) => {
            // A single value where a list is declared decodes as a list of one.
            for (i, item) in rules::list_items(v).iter().enumerate() {
                check(spec, inner, None, true, item, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        Ty::Map(key, inner) => match v {
            Value::Object(m) => {
                for (k, item) in m {
                    check_key(*key, k, path)?;
                    check(spec, inner, None, true, item, &join(path, k))?;
                }
                Ok(())
            }
            other => fail(path, format!("expected an object, found {}", kind(other))),
        },
        Ty::Named(name) => {
            let Some(def) = spec.types.get(name) else {
                return fail(path, format!("unknown type `{name}`"));
            };
            match &def.kind {
                TypeKind::Union(u) => check_union(spec, name, u, v, path),
                TypeKind::Enum(e) => {
                    let ok = match Raw::of(v) {
                        Some(raw) if e.integer => rules::int(raw).is_some(),
                        // Decodes (as `Unknown("true")`), but can never be one of the values.
                        Some(Raw::Bool(_)) => false,
                        Some(_) => true,
                        None => false,
                    };
                    if ok {
                        Ok(())
                    } else {
                        let want = if e.integer { "an integer" } else { "a string" };
                        let known: Vec<String> = e
                            .values
                            .iter()
                            .map(|x| match &x.wire {
                                EnumWire::Str(s) => s.clone(),
                                EnumWire::Int(i) => i.to_string(),
                            })
                            .collect();
                        fail(
                            path,
                            format!(
                                "expected {want} (enum `{name}`: {}), found {}",
                                known.join(", "),
                                kind(v)
                            ),
                        )
                    }
                }
                TypeKind::Struct(fields) => {
                    let Value::Object(obj) = v else {
                        return fail(
                            path,
                            format!("expected an object (`{name}`), found {}", kind(v)),
                        );
                    };
                    for f in fields {
                        let found = std::iter::once(&f.wire)
                            .chain(&f.aliases)
                            .find_map(|k| obj.get(k).map(|v| (k, v)));
                        match found {
                            Some((k, value)) => {
                                check(spec, &f.ty, f.encoding, f.required, value, &join(path, k))?
                            }
                            None if f.required => {
                                return fail(
                                    &join(path, &f.wire),
                                    format!("required field `{}` of `{name}` is missing", f.wire),
                                )
                            }
                            None => {}
                        }
                    }
                    Ok(())
                }
            }
        }
    }
}

/// A union decodes its known tags into the variant's struct and keeps unknown tags as they are.
fn check_union(
    spec: &Spec,
    name: &str,
    u: &UnionDef,
    v: &Value,
    path: &str,
) -> Result<(), Failure> {
    let Value::Object(obj) = v else {
        return fail(
            path,
            format!("expected an object (union `{name}`), found {}", kind(v)),
        );
    };
    let Some(tag) = obj.get(&u.tag_key).and_then(Value::as_str) else {
        return fail(
            &join(path, &u.tag_key),
            format!("union `{name}` needs its tag `{}` as a string", u.tag_key),
        );
    };
    let Some(variant) = u.variants.iter().find(|x| x.tag == tag) else {
        return Ok(());
    };
    let ty = Ty::Named(variant.ty.clone());
    match &u.content {
        crate::model::UnionContent::ByTag => match obj.get(tag) {
            Some(inner) => check(spec, &ty, None, true, inner, &join(path, tag)),
            None => fail(
                &join(path, tag),
                format!("union `{name}`, tag `{tag}`: the fields belong under `{tag}`"),
            ),
        },
        crate::model::UnionContent::JsonTextAt(at) => {
            let inner = match obj.get(at) {
                Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                    Ok(inner) => inner,
                    Err(e) => {
                        return fail(
                            &join(path, at),
                            format!("union `{name}`: `{at}` is not JSON text: {e}"),
                        )
                    }
                },
                Some(other) => other.clone(),
                None => {
                    return fail(
                        &join(path, at),
                        format!("union `{name}`, tag `{tag}`: the fields belong under `{at}`"),
                    )
                }
            };
            check(spec, &ty, None, true, &inner, &join(path, at))
        }
        crate::model::UnionContent::Inline => check(spec, &ty, None, true, v, path),
    }
}
