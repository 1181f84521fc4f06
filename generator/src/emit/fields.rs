//! What a struct and a request share: field declarations, constructors and setters, and the
//! limit checks of a field.

use proc_macro2::TokenStream;
use quote::quote;

use super::{arg, doc_text, docs, field_type};
use crate::model::{Encoding, Field, Spec};
use crate::naming::ident;

/// Whether a struct is always `Serialize` (a request, or a type a request carries) or only
/// with the generated crate's `serialize` feature (a type only answers carry).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Serialize {
    Always,
    WithFeature,
}

impl Serialize {
    /// `attr` as a serde attribute, gated like the struct's `Serialize`.
    fn attr(self, attr: TokenStream) -> TokenStream {
        match self {
            Serialize::Always => quote!(#[serde(#attr)]),
            Serialize::WithFeature => quote!(#[cfg_attr(feature = "serialize", serde(#attr))]),
        }
    }
}

/// A struct field with its serde attributes. `skip` marks request params that are not part of
/// the JSON body (query and path params).
pub(super) fn field_decl(
    spec: &Spec,
    area: &str,
    f: &Field,
    skip: bool,
    serialize: Serialize,
) -> TokenStream {
    let rust = ident(&f.rust);
    let ty = field_type(spec, area, f);
    let doc = docs(&field_doc(f));
    if skip {
        return quote! { #doc #[serde(skip)] pub #rust: #ty, };
    }
    if f.flatten {
        let attr = serialize.attr(quote!(flatten));
        return quote! { #doc #attr pub #rust: #ty, };
    }
    let wire = &f.wire;
    let module = match f.encoding {
        None => None,
        Some(crate::model::Encoding::Comma) => Some("comma"),
        Some(crate::model::Encoding::Pipe) => Some("pipe"),
        Some(crate::model::Encoding::JsonText) => Some("json_text"),
        Some(crate::model::Encoding::LooseMap) => Some("loose_map"),
    };
    // Decoding is the struct's own visitor (see `decoder`): serde attributes here only serialize.
    let ser = module.map(|m| {
        let path = format!("::dingtalk_runtime::wire::{m}::ser");
        quote!(serialize_with = #path,)
    });
    let optional = if f.required {
        None
    } else {
        let skip_if = if f.ty.is_collection() {
            match f.ty {
                crate::model::Ty::List(_) => "Vec::is_empty",
                _ => "::std::collections::BTreeMap::is_empty",
            }
        } else {
            "Option::is_none"
        };
        Some(quote!(skip_serializing_if = #skip_if,))
    };
    let attr = serialize.attr(quote!(rename = #wire, #optional #ser));
    quote! {
        #doc
        #attr
        pub #rust: #ty,
    }
}

pub(super) fn field_doc(f: &Field) -> String {
    let mut doc = doc_text(&f.doc);
    let mut notes = vec![if f.flatten {
        "Sent flat: its keys sit next to the other body params".to_string()
    } else if f.whole_body {
        "Sent as the whole JSON body".to_string()
    } else {
        format!("Wire name `{}`", f.wire)
    }];
    if let Some(max) = f.max_len {
        notes.push(format!("at most {max}"));
    }
    if f.sensitive {
        notes.push("secret: redacted in `Debug`".to_string());
    }
    doc.push_str(&format!("\n\n{}.", notes.join("; ")));
    doc
}

/// `new(required…)` plus one setter per optional field.
/// The setter of optional field `f` on `target` (`self` for a struct, `self.request` for a
/// request's `Call`).
pub(super) fn setter(spec: &Spec, area: &str, f: &Field, target: TokenStream) -> TokenStream {
    let v = ident(&f.rust);
    let (t, conv) = arg(spec, area, f, &v);
    let store = if f.ty.is_collection() {
        conv
    } else {
        quote!(Some(#conv))
    };
    let doc = docs(&format!("Sets `{}`: {}", f.rust, first_sentence(&f.doc)));
    quote! {
        #doc
        pub fn #v(mut self, #v: #t) -> Self { #target.#v = #store; self }
    }
}

pub(super) fn builder_methods(
    spec: &Spec,
    area: &str,
    fields: &[Field],
    upload: bool,
    with_setters: bool,
) -> TokenStream {
    let required: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
    let upload_param = upload.then(|| quote!(file: rt::UploadFile));
    let upload_init = upload.then(|| quote!(file));
    let params = required
        .iter()
        .map(|f| {
            let v = ident(&f.rust);
            let (t, _) = arg(spec, area, f, &v);
            quote!(#v: #t)
        })
        .chain(upload_param);
    let inits = fields
        .iter()
        .map(|f| {
            let v = ident(&f.rust);
            if f.required {
                let (_, conv) = arg(spec, area, f, &v);
                // `v: v` is redundant: use the shorthand when no conversion is needed.
                if v == conv.to_string() {
                    quote!(#v)
                } else {
                    quote!(#v: #conv)
                }
            } else if f.ty.is_collection() {
                quote!(#v: Default::default())
            } else {
                quote!(#v: None)
            }
        })
        .chain(upload_init);
    let setters = fields
        .iter()
        .filter(|f| with_setters && !f.required)
        .map(|f| setter(spec, area, f, quote!(self)));
    let new_doc = if required.is_empty() {
        "Creates a value with every field empty.".to_string()
    } else {
        let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.rust)).collect();
        format!(
            "Creates a value from its required fields ({}); optional fields start empty.",
            names.join(", ")
        )
    };
    let new_doc = docs(&new_doc);
    quote! {
        #new_doc
        #[allow(clippy::new_without_default)]
        pub fn new(#(#params),*) -> Self { Self { #(#inits),* } }
        #(#setters)*
    }
}

pub(super) fn first_sentence(s: &str) -> String {
    let line = s.trim().lines().next().unwrap_or("").trim();
    line.to_string()
}

/// The checks of one field: its own `max_len`, then the limits inside any named type it holds.
pub(super) fn limit_checks(f: &Field) -> Vec<TokenStream> {
    let v = ident(&f.rust);
    let mut out = Vec::new();
    if let Some(max) = f.max_len {
        let wire = &f.wire;
        let len = match &f.ty {
            _ if f.encoding == Some(Encoding::JsonText) => quote!(rt::json_text(v).chars().count()),
            crate::model::Ty::List(_) => quote!(v.len()),
            _ => quote!(rt::Scalar::to_text(v).chars().count()),
        };
        out.push(if f.is_option() {
            quote!(if let Some(v) = &self.#v { rt::check_max_len(#wire, #len, #max)?; })
        } else {
            quote!({ let v = &self.#v; rt::check_max_len(#wire, #len, #max)?; })
        });
    }
    if f.min.is_some() || f.max.is_some() {
        let wire = &f.wire;
        let bound = |b: Option<i64>| match b {
            Some(b) => {
                let b = b as f64;
                quote!(Some(#b))
            }
            None => quote!(None),
        };
        let (min, max) = (bound(f.min), bound(f.max));
        let as_f64 = |x: TokenStream| {
            if f.ty == crate::model::Ty::F64 {
                x
            } else {
                quote!(#x as f64)
            }
        };
        out.push(if f.is_option() {
            let value = as_f64(quote!(v));
            quote!(if let Some(v) = self.#v { rt::check_range(#wire, #value, #min, #max)?; })
        } else {
            let value = as_f64(quote!(self.#v));
            quote!(rt::check_range(#wire, #value, #min, #max)?;)
        });
    }
    if holds_named(&f.ty) {
        out.push(quote!(rt::Validate::validate(&self.#v)?;));
    }
    out
}

fn holds_named(ty: &crate::model::Ty) -> bool {
    use crate::model::Ty;
    match ty {
        Ty::Named(_) => true,
        Ty::List(inner) | Ty::Map(_, inner) => holds_named(inner),
        _ => false,
    }
}
