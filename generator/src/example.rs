//! Checks that examples decode into their declared types, with the same leniency the runtime's
//! decoder has (numbers and booleans as strings, lists as separated strings, JSON in strings).
//! An example that fails here would fail in the integration test; catching it here names the
//! spec line and the JSON path instead.

use serde_json::Value;

use crate::diag::{Diagnostics, Loc};
use crate::model::{Encoding, Endpoint, EnumWire, Field, MapKey, Spec, Ty, TypeKind, UnionDef};

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
    if ep.response.binary {
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
    let Some(ty) = &ep.response.ty else { return };
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
                    ','
                } else {
                    '|'
                };
                for (i, part) in s.split(sep).filter(|p| !p.trim().is_empty()).enumerate() {
                    check(
                        spec,
                        inner,
                        None,
                        true,
                        &Value::String(part.trim().to_string()),
                        &format!("{path}[{i}]"),
                    )?;
                }
                return Ok(());
            }
        }
        Some(Encoding::JsonText) => {
            if let Value::String(s) = v {
                if s.trim().is_empty() {
                    return Ok(());
                }
                return match serde_json::from_str::<Value>(s) {
                    Ok(inner) => check(spec, ty, None, required, &inner, path),
                    Err(e) => fail(path, format!("a string that is not JSON text ({e})")),
                };
            }
        }
        Some(Encoding::LooseMap) if v.is_string() => return Ok(()),
        Some(Encoding::LooseMap) | None => {}
    }
    match ty {
        Ty::String => match v {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(()),
            other => fail(path, format!("expected a string, found {}", kind(other))),
        },
        Ty::I64 => match v {
            Value::Number(n) if n.is_i64() => Ok(()),
            Value::Number(n) if n.is_u64() => fail(path, format!("{n} does not fit in an i64")),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => Ok(()),
            other => fail(path, format!("expected an integer, found {}", kind(other))),
        },
        Ty::F64 => match v {
            Value::Number(_) => Ok(()),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(()),
            other => fail(path, format!("expected a number, found {}", kind(other))),
        },
        Ty::Bool => match v {
            Value::Bool(_) => Ok(()),
            Value::String(s) if matches!(s.trim(), "true" | "false" | "1" | "0") => Ok(()),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => Ok(()),
            other => fail(path, format!("expected a boolean, found {}", kind(other))),
        },
        Ty::Json => Ok(()),
        Ty::List(inner) => match v {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    check(spec, inner, None, true, item, &format!("{path}[{i}]"))?;
                }
                Ok(())
            }
            // A single value where a list is declared decodes as a list of one.
            single => check(spec, inner, None, true, single, &format!("{path}[0]")),
        },
        Ty::Map(key, inner) => match v {
            Value::Object(m) => {
                for (k, item) in m {
                    if *key == MapKey::I64 && k.trim().parse::<i64>().is_err() {
                        return fail(&join(path, k), "map key is not an integer");
                    }
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
                    let ok = if e.integer {
                        matches!(v, Value::Number(n) if n.is_i64())
                            || matches!(v, Value::String(s) if s.trim().parse::<i64>().is_ok())
                    } else {
                        matches!(v, Value::String(_) | Value::Number(_))
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
    if u.by_tag {
        match obj.get(tag) {
            Some(inner) => check(spec, &ty, None, true, inner, &join(path, tag)),
            None => fail(
                &join(path, tag),
                format!("union `{name}`, tag `{tag}`: the fields belong under `{tag}`"),
            ),
        }
    } else {
        check(spec, &ty, None, true, v, path)
    }
}
