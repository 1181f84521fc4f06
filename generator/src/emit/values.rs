//! Rust expressions for example values, used by the conformance module to call each endpoint
//! with the arguments its spec gives (or type defaults where it gives none).

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use super::ty_tokens;
use crate::model::{EnumWire, Field, MapKey, Spec, Ty, TypeKind};
use crate::naming::ident;

/// The value the conformance call passes for `f`: its `example:`, or a default for its type.
pub(super) fn field_value(spec: &Spec, area: &str, f: &Field) -> TokenStream {
    let example = f
        .example
        .clone()
        .unwrap_or_else(|| default_json(spec, &f.ty));
    expr(spec, area, &f.ty, f.sensitive, &example)
}

/// A JSON value that fits `ty`, for params without an example.
pub(super) fn default_json(spec: &Spec, ty: &Ty) -> Value {
    match ty {
        Ty::String => Value::String("example".into()),
        Ty::I64 => Value::from(1),
        Ty::F64 => Value::from(1.5),
        Ty::Bool => Value::Bool(true),
        Ty::Json => serde_json::json!({}),
        Ty::List(inner) => Value::Array(vec![default_json(spec, inner)]),
        Ty::Map(..) => serde_json::json!({}),
        Ty::Named(name) => match spec.types.get(name).map(|t| &t.kind) {
            Some(TypeKind::Enum(e)) => match e.values.first().map(|v| &v.wire) {
                Some(EnumWire::Str(s)) => Value::String(s.clone()),
                Some(EnumWire::Int(i)) => Value::from(*i),
                None => Value::Null,
            },
            Some(TypeKind::Union(u)) => match u.variants.first() {
                Some(v) => {
                    let fields = default_json(spec, &Ty::Named(v.ty.clone()));
                    match &u.content {
                        crate::model::UnionContent::ByTag => {
                            serde_json::json!({ u.tag_key.clone(): v.tag, v.tag.clone(): fields })
                        }
                        crate::model::UnionContent::JsonTextAt(at) => {
                            serde_json::json!({ u.tag_key.clone(): v.tag, at.clone(): fields.to_string() })
                        }
                        crate::model::UnionContent::Inline => {
                            let mut obj = fields;
                            obj[u.tag_key.as_str()] = Value::String(v.tag.clone());
                            obj
                        }
                    }
                }
                None => Value::Null,
            },
            Some(TypeKind::Struct(fields)) => Value::Object(
                fields
                    .iter()
                    .filter(|f| f.required)
                    .map(|f| {
                        (
                            f.wire.clone(),
                            f.example
                                .clone()
                                .unwrap_or_else(|| default_json(spec, &f.ty)),
                        )
                    })
                    .collect(),
            ),
            None => Value::Null,
        },
    }
}

/// An expression of type `ty` built from `v` (already checked against `ty` by the validator).
fn expr(spec: &Spec, area: &str, ty: &Ty, sensitive: bool, v: &Value) -> TokenStream {
    match ty {
        Ty::String => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if sensitive {
                quote!(::dingtalk_runtime::SecretString::from(#s))
            } else {
                quote!(String::from(#s))
            }
        }
        Ty::I64 => {
            let i = as_i64(v);
            quote!(#i)
        }
        Ty::F64 => {
            let f = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .unwrap_or(0.0);
            quote!(#f)
        }
        Ty::Bool => {
            let b = matches!(v, Value::Bool(true))
                || matches!(v.as_str(), Some("true" | "1"))
                || v.as_i64() == Some(1);
            quote!(#b)
        }
        Ty::Json => {
            let text = v.to_string();
            quote!(serde_json::from_str::<serde_json::Value>(#text).unwrap_or_default())
        }
        Ty::List(inner) => {
            let items: Vec<TokenStream> = match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| expr(spec, area, inner, sensitive, i))
                    .collect(),
                Value::Null => Vec::new(),
                single => vec![expr(spec, area, inner, sensitive, single)],
            };
            quote!(vec![#(#items),*])
        }
        Ty::Map(key, inner) => {
            let entries: Vec<TokenStream> = v
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, item)| {
                    let key = match key {
                        MapKey::String => quote!(String::from(#k)),
                        MapKey::I64 => {
                            let i: i64 = k.trim().parse().unwrap_or_default();
                            quote!(#i)
                        }
                    };
                    let value = expr(spec, area, inner, sensitive, item);
                    quote!((#key, #value))
                })
                .collect();
            quote!([#(#entries),*].into_iter().collect())
        }
        Ty::Named(name) => {
            let path = ty_tokens(spec, area, ty, false);
            match spec.types.get(name).map(|t| &t.kind) {
                Some(TypeKind::Enum(e)) if e.integer => {
                    let i = as_i64(v);
                    quote!(#path::from_value(#i))
                }
                Some(TypeKind::Enum(_)) => {
                    let s = v
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string());
                    quote!(#path::from_wire(#s))
                }
                Some(TypeKind::Union(u)) => {
                    let tag = v
                        .get(&u.tag_key)
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    match u.variants.iter().find(|x| x.tag == tag) {
                        Some(variant) => {
                            let var = ident(&variant.variant);
                            let inner = match &u.content {
                                crate::model::UnionContent::ByTag => {
                                    v.get(tag).cloned().unwrap_or(Value::Null)
                                }
                                crate::model::UnionContent::JsonTextAt(at) => match v.get(at) {
                                    Some(Value::String(text)) => {
                                        serde_json::from_str(text).unwrap_or(Value::Null)
                                    }
                                    Some(other) => other.clone(),
                                    None => Value::Null,
                                },
                                crate::model::UnionContent::Inline => v.clone(),
                            };
                            let e = expr(spec, area, &Ty::Named(variant.ty.clone()), false, &inner);
                            quote!(#path::#var(#e))
                        }
                        None => {
                            let text = v.to_string();
                            quote!(#path::Unknown { tag: String::from(#tag), raw: serde_json::from_str(#text).unwrap_or_default() })
                        }
                    }
                }
                Some(TypeKind::Struct(fields)) => {
                    let obj = v.as_object();
                    let get = |f: &Field| {
                        obj.and_then(|o| {
                            std::iter::once(&f.wire)
                                .chain(&f.aliases)
                                .find_map(|k| o.get(k))
                        })
                        .filter(|v| !v.is_null())
                        .cloned()
                    };
                    let args = fields.iter().filter(|f| f.required).map(|f| {
                        let value = get(f).unwrap_or_else(|| default_json(spec, &f.ty));
                        expr(spec, area, &f.ty, f.sensitive, &value)
                    });
                    let setters = fields.iter().filter(|f| !f.required).filter_map(|f| {
                        let value = get(f)?;
                        let setter = ident(&f.rust);
                        let e = expr(spec, area, &f.ty, f.sensitive, &value);
                        Some(quote!(.#setter(#e)))
                    });
                    quote!(#path::new(#(#args),*) #(#setters)*)
                }
                None => quote!(Default::default()),
            }
        }
    }
}

fn as_i64(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        .unwrap_or_default()
}
