//! Named structs and enums.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::fields::{builder_methods, field_decl, Serialize};
use super::{doc_text, docs};
use crate::model::{
    Area, EnumDef, EnumWire, Field, Spec, TypeDef, TypeKind, UnionContent, UnionDef,
};
use crate::naming::ident;

/// The line naming where a type is declared, after the type's own `example:` when it has one.
fn source_line(area: &Area, t: &TypeDef) -> String {
    let example = t
        .example
        .as_ref()
        .and_then(|v| serde_json::to_string_pretty(v).ok())
        .map(|json| format!("\n\nExample:\n\n```json\n{json}\n```"))
        .unwrap_or_default();
    format!("{example}\n\nSource: `{}` · `types.{}`", area.file, t.name)
}

pub(super) fn type_def(spec: &Spec, area: &Area, t: &TypeDef) -> TokenStream {
    match &t.kind {
        TypeKind::Struct(fields) => struct_def(spec, area, t, fields),
        TypeKind::Enum(e) => enum_def(area, t, e),
        TypeKind::Union(u) => union_def(spec, area, t, u),
    }
}

fn struct_def(spec: &Spec, area: &Area, t: &TypeDef, fields: &[Field]) -> TokenStream {
    let name = ident(&t.name);
    let doc = docs(&format!("{}{}", doc_text(&t.doc), source_line(area, t)));
    // A type only answers carry is encoded only with the `serialize` feature: deriving
    // `Serialize` for every answer type was a fifth of the crate's build.
    let serialize = if t.sent {
        Serialize::Always
    } else {
        Serialize::WithFeature
    };
    let decls = fields
        .iter()
        .map(|f| field_decl(spec, &area.name, f, false, serialize));
    // `PartialEq` comes with the `eq` feature: derived for every struct it was a quarter of the
    // crate's build, and callers rarely compare whole answers.
    let derive = match serialize {
        Serialize::Always => quote! {
            #[derive(Clone, Debug, serde::Serialize)]
            #[cfg_attr(feature = "eq", derive(PartialEq))]
        },
        Serialize::WithFeature => quote! {
            #[derive(Clone, Debug)]
            #[cfg_attr(feature = "eq", derive(PartialEq))]
            #[cfg_attr(feature = "serialize", derive(serde::Serialize))]
        },
    };
    // Only what a request can carry is built by callers and checked before sending; a type that
    // only arrives in answers is decoded, never constructed.
    let build = t.sent.then(|| {
        let builders = builder_methods(spec, &area.name, fields, false, true);
        let checks = fields.iter().flat_map(super::fields::limit_checks);
        quote! {
            impl #name { #builders }
            impl rt::Validate for #name {
                fn validate(&self) -> Result<(), rt::InvalidRequest> { #(#checks)* Ok(()) }
            }
        }
    });
    let decoder = decoder(spec, &area.name, t, fields);
    quote! {
        #doc
        #derive
        #[non_exhaustive]
        pub struct #name { #(#decls)* }
        #decoder
        #build
    }
}

/// The struct's `Deserialize`: one visitor that matches each key (and its aliases) and decodes
/// the value through the runtime's lenient seeds. Unknown keys are skipped; a key present under
/// its name and an alias keeps the name's value; a missing required field is serde's
/// "missing field" error.
fn decoder(spec: &Spec, area: &str, t: &TypeDef, fields: &[Field]) -> TokenStream {
    use crate::model::{Encoding, Ty};
    let name = ident(&t.name);
    let name_str = &t.name;
    let vars: Vec<_> = (0..fields.len()).map(|i| format_ident!("f{i}")).collect();
    let arms = fields.iter().zip(&vars).map(|(f, var)| {
        let full = super::field_type(spec, area, f);
        let inner = |ty: &Ty| super::ty_tokens(spec, area, ty, f.sensitive);
        let seed = match (&f.encoding, &f.ty) {
            (Some(Encoding::Comma), Ty::List(item)) => {
                let item = inner(item);
                quote!(rt::decode::Comma::<#item>::new())
            }
            (Some(Encoding::Pipe), Ty::List(item)) => {
                let item = inner(item);
                quote!(rt::decode::Pipe::<#item>::new())
            }
            (Some(Encoding::LooseMap), Ty::Map(_, v)) => {
                let k = match &f.ty {
                    Ty::Map(crate::model::MapKey::I64, _) => quote!(i64),
                    _ => quote!(String),
                };
                let v = inner(v);
                quote!(rt::decode::LooseMap::<#k, #v>::new())
            }
            (Some(Encoding::JsonText), _) => quote!(rt::decode::JsonText::<#full>::new()),
            _ => quote!(rt::decode::Field::<#full>::new()),
        };
        (var, seed)
    });
    // Keys are matched by index (names first, then aliases), so each decoder is one integer
    // `match` of calls, not a chain of string comparisons.
    let (slots, seeds): (Vec<_>, Vec<_>) = arms.unzip();
    let names = fields.iter().map(|f| f.wire.as_str());
    let alias_of: Vec<(usize, &str)> = fields
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.aliases.iter().map(move |a| (i, a.as_str())))
        .collect();
    let keys: Vec<&str> = names.chain(alias_of.iter().map(|(_, a)| *a)).collect();
    let name_arms = slots
        .iter()
        .zip(&seeds)
        .enumerate()
        .map(|(i, (var, seed))| {
            let i = proc_macro2::Literal::usize_unsuffixed(i);
            quote!(#i => rt::decode::put(&mut map, &mut #var, #seed),)
        });
    let alias_arms = alias_of.iter().enumerate().map(|(k, (i, _))| {
        let index = proc_macro2::Literal::usize_unsuffixed(fields.len() + k);
        let (var, seed) = (&slots[*i], &seeds[*i]);
        quote!(#index => rt::decode::put_alias(&mut map, &mut #var, #seed),)
    });
    let inits = fields.iter().zip(&vars).map(|(f, var)| {
        let rust = ident(&f.rust);
        let wire = &f.wire;
        if f.required {
            quote!(#rust: rt::decode::required(#var, #wire)?)
        } else {
            quote!(#rust: #var.unwrap_or_default())
        }
    });
    let walk = if fields.is_empty() {
        quote! {
            while map.next_key::<serde::de::IgnoredAny>()?.is_some() {
                rt::decode::skip(&mut map)?;
            }
        }
    } else {
        quote! {
            #(let mut #vars = None;)*
            while let Some(i) = rt::decode::next_field(&mut map, &[#(#keys),*])? {
                match i {
                    #(#name_arms)*
                    #(#alias_arms)*
                    _ => rt::decode::skip(&mut map),
                }?;
            }
        }
    };
    quote! {
        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                rt::decode::decode_struct(d)
            }
        }
        impl rt::decode::DecodeStruct for #name {
            const NAME: &'static str = #name_str;
            fn from_map<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                #walk
                Ok(#name { #(#inits),* })
            }
        }
    }
}

fn enum_def(area: &Area, t: &TypeDef, e: &EnumDef) -> TokenStream {
    let name = ident(&t.name);
    let doc = docs(&format!(
        "{}\n\nUnknown values decode into `Unknown`, so a value DingTalk adds later never fails decoding.{}",
        doc_text(&t.doc),
        source_line(area, t)
    ));
    let variants = e.values.iter().map(|v| {
        let var = ident(&v.variant);
        let wire = match &v.wire {
            EnumWire::Str(s) => format!("`{s}`"),
            EnumWire::Int(i) => format!("`{i}`"),
        };
        let doc = docs(&format!("{} ({wire})", doc_text(&v.doc)));
        quote!(#doc #var,)
    });
    let vars: Vec<_> = e.values.iter().map(|v| ident(&v.variant)).collect();
    if e.integer {
        let ints: Vec<i64> = e
            .values
            .iter()
            .map(|v| match v.wire {
                EnumWire::Int(i) => i,
                EnumWire::Str(_) => 0,
            })
            .collect();
        quote! {
            #doc
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                /// A value this version of the spec does not know.
                Unknown(i64),
            }
            impl #name {
                /// The value on the wire.
                pub fn value(&self) -> i64 {
                    match self { #(Self::#vars => #ints,)* Self::Unknown(v) => *v }
                }
                /// The variant for a wire value; unknown values map to `Unknown`.
                pub fn from_value(v: i64) -> Self {
                    match v { #(#ints => Self::#vars,)* other => Self::Unknown(other) }
                }
            }
            impl serde::Serialize for #name {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_i64(self.value()) }
            }
            impl<'de> serde::Deserialize<'de> for #name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    <i64 as rt::Wire>::wire(d).map(Self::from_value)
                }
            }
            impl rt::Wire for #name {
                fn wire<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> { <Self as serde::Deserialize>::deserialize(d) }
            }
            impl rt::Validate for #name {}
            impl rt::Scalar for #name {
                fn to_text(&self) -> ::std::borrow::Cow<'_, str> { self.value().to_string().into() }
                fn from_text(s: &str) -> Option<Self> { s.trim().parse().ok().map(Self::from_value) }
            }
        }
    } else {
        let strs: Vec<String> = e
            .values
            .iter()
            .map(|v| match &v.wire {
                EnumWire::Str(s) => s.clone(),
                EnumWire::Int(i) => i.to_string(),
            })
            .collect();
        let unknown = format_ident!("Unknown");
        quote! {
            #doc
            #[derive(Clone, Debug, PartialEq, Eq, Hash)]
            #[non_exhaustive]
            pub enum #name {
                #(#variants)*
                /// A value this version of the spec does not know.
                #unknown(String),
            }
            impl #name {
                /// The value on the wire.
                pub fn as_str(&self) -> &str {
                    match self { #(Self::#vars => #strs,)* Self::Unknown(v) => v }
                }
                /// The variant for a wire value; unknown values map to `Unknown`.
                pub fn from_wire(v: &str) -> Self {
                    match v { #(#strs => Self::#vars,)* other => Self::Unknown(other.to_string()) }
                }
            }
            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { f.write_str(self.as_str()) }
            }
            impl serde::Serialize for #name {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(self.as_str()) }
            }
            impl<'de> serde::Deserialize<'de> for #name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    <String as rt::Wire>::wire(d).map(|s| Self::from_wire(&s))
                }
            }
            impl rt::Wire for #name {
                fn wire<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> { <Self as serde::Deserialize>::deserialize(d) }
            }
            impl rt::Validate for #name {}
            impl rt::Scalar for #name {
                fn to_text(&self) -> ::std::borrow::Cow<'_, str> { self.as_str().into() }
                fn from_text(s: &str) -> Option<Self> { Some(Self::from_wire(s)) }
            }
        }
    }
}

/// A tagged union with a catch-all that keeps the tag and the raw JSON of unknown variants.
fn union_def(spec: &Spec, area: &Area, t: &TypeDef, u: &UnionDef) -> TokenStream {
    let name = ident(&t.name);
    let content = match &u.content {
        UnionContent::ByTag => format!("the variant's fields sit under a key named after the tag (`{{\"{0}\": \"text\", \"text\": {{...}}}}`)", u.tag_key),
        UnionContent::Inline => format!(
            "the variant's fields sit next to the tag (`{{\"{0}\": \"...\", ...}}`)",
            u.tag_key
        ),
        UnionContent::JsonTextAt(at) => format!(
            "the variant's fields are sent as JSON text under `{at}` (`{{\"{0}\": \"...\", \"{at}\": \"{{\\\"...\\\": ...}}\"}}`), so a tag and its fields always agree",
            u.tag_key
        ),
    };
    let malformed_doc = match u.event {
        true => " A known tag whose fields do not decode becomes `Malformed`, with the raw JSON and the decoder's message: a push is never lost to one odd field.",
        false => "",
    };
    let doc = docs(&format!(
        "{}\n\nTagged by `{}`; {content}. Unknown tags decode into `Unknown` with the raw JSON, so a variant DingTalk adds later never fails decoding.{malformed_doc}{}",
        doc_text(&t.doc),
        u.tag_key,
        source_line(area, t)
    ));
    let tag_key = &u.tag_key;
    let vars: Vec<_> = u.variants.iter().map(|v| ident(&v.variant)).collect();
    let tags: Vec<&str> = u.variants.iter().map(|v| v.tag.as_str()).collect();
    let tys: Vec<TokenStream> = u
        .variants
        .iter()
        .map(|v| {
            super::ty_tokens(
                spec,
                &area.name,
                &crate::model::Ty::Named(v.ty.clone()),
                false,
            )
        })
        .collect();
    let variant_docs = u
        .variants
        .iter()
        .map(|v| docs(&format!("{} (`{}`)", doc_text(&v.doc), v.tag)));
    // A push that spells a key both ways (`CorpId` / `corpId`) needs nothing here: the variant
    // struct's own decoder keeps the name's value over the alias's.
    let (ser_variant, de_variant) = if let UnionContent::JsonTextAt(at) = &u.content {
        (
            quote! {
                let mut map = serde_json::Map::new();
                map.insert(#tag_key.to_string(), serde_json::Value::String(tag.to_string()));
                map.insert(#at.to_string(), serde_json::Value::String(fields.to_string()));
                serde_json::Value::Object(map)
            },
            // The text is parsed; an object is taken as it is.
            quote! {
                let value = match value.get(#at) {
                    Some(serde_json::Value::String(text)) => serde_json::from_str::<serde_json::Value>(text).map_err(D::Error::custom)?,
                    Some(other) => other.clone(),
                    None => serde_json::Value::Null,
                };
            },
        )
    } else if u.content == UnionContent::ByTag {
        (
            quote! {
                let mut map = serde_json::Map::new();
                map.insert(#tag_key.to_string(), serde_json::Value::String(tag.to_string()));
                map.insert(tag.to_string(), fields);
                serde_json::Value::Object(map)
            },
            quote! { let value = value.get(tag).cloned().unwrap_or(serde_json::Value::Null); },
        )
    } else {
        (
            quote! {
                let mut map = match fields {
                    serde_json::Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                };
                map.insert(#tag_key.to_string(), serde_json::Value::String(tag.to_string()));
                serde_json::Value::Object(map)
            },
            quote! {},
        )
    };
    // An event union also keeps a known event whose fields did not decode (a field of an
    // unexpected shape): a verified push is acknowledged, not refused and lost.
    let malformed_variant = u.event.then(|| {
        quote! {
            /// A known tag whose fields did not decode (a field of an unexpected shape): the tag,
            /// the whole JSON object and the decoder's message.
            Malformed(rt::MalformedEvent),
        }
    });
    let malformed_arm = u.event.then(|| quote!(Self::Malformed(m) => &m.tag,));
    let malformed_raw = u
        .event
        .then(|| quote!(Self::Malformed(m) => return m.raw.serialize(s),));
    let malformed_valid = u.event.then(|| quote!(Self::Malformed(_) => Ok(()),));
    let decode_variant = |ty: &TokenStream, var: &proc_macro2::Ident| match u.event {
        true => quote! {
            match <#ty as rt::Wire>::wire(&value) {
                Ok(v) => Ok(Self::#var(v)),
                Err(e) => Ok(Self::Malformed(rt::MalformedEvent { tag: tag.to_string(), error: e.to_string(), raw: value })),
            }
        },
        false => quote! {
            <#ty as rt::Wire>::wire(value).map(Self::#var).map_err(D::Error::custom)
        },
    };
    let decodes: Vec<TokenStream> = tys
        .iter()
        .zip(&vars)
        .map(|(ty, var)| decode_variant(ty, var))
        .collect();
    // Checked before sending only when a request can carry it.
    let validate = t.sent.then(|| {
        quote! {
            impl rt::Validate for #name {
                fn validate(&self) -> Result<(), rt::InvalidRequest> {
                    match self { #(Self::#vars(v) => rt::Validate::validate(v),)* #malformed_valid Self::Unknown { .. } => Ok(()) }
                }
            }
        }
    });
    let serialize_gate = (!t.sent).then(|| quote!(#[cfg(feature = "serialize")]));
    let callback_event = u.event.then(|| {
        let replies = u.variants.iter().filter_map(|v| {
            let field = match spec.types.get(&v.ty).map(|t| &t.kind) {
                Some(TypeKind::Struct(fields)) => {
                    fields.iter().find(|f| Some(&f.wire) == v.reply.as_ref())?
                }
                _ => return None,
            };
            let var = ident(&v.variant);
            let f = ident(&field.rust);
            let text = if field.is_option() {
                quote!(v.#f.as_deref().unwrap_or(""))
            } else {
                quote!(v.#f.as_str())
            };
            Some(quote!(Self::#var(v) => #text,))
        });
        quote! {
            impl rt::CallbackEvent for #name {
                fn tag(&self) -> &str { #name::tag(self) }
                fn reply_text(&self) -> &str {
                    match self { #(#replies)* _ => "success" }
                }
            }
        }
    });
    quote! {
        #doc
        #[derive(Clone, Debug)]
        #[cfg_attr(feature = "eq", derive(PartialEq))]
        #[non_exhaustive]
        pub enum #name {
            #( #variant_docs #vars(#tys), )*
            #malformed_variant
            /// A tag this version of the spec does not know, with the whole JSON object.
            Unknown {
                /// The tag value (empty when the object had none).
                tag: String,
                /// The object as received.
                raw: serde_json::Value,
            },
        }
        #callback_event
        impl #name {
            /// The tag value on the wire.
            pub fn tag(&self) -> &str {
                match self { #(Self::#vars(_) => #tags,)* #malformed_arm Self::Unknown { tag, .. } => tag }
            }
        }
        #serialize_gate
        impl serde::Serialize for #name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::Error as _;
                let tag = self.tag();
                let fields = match self {
                    #(Self::#vars(v) => serde_json::to_value(v).map_err(S::Error::custom)?,)*
                    #malformed_raw
                    Self::Unknown { raw, .. } => return raw.serialize(s),
                };
                let value = { #ser_variant };
                value.serialize(s)
            }
        }
        impl<'de> serde::Deserialize<'de> for #name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
                if !value.is_object() {
                    return Err(D::Error::custom(concat!("expected a JSON object tagged by `", #tag_key, "`")));
                }
                let tag = value.get(#tag_key).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
                let tag = tag.as_str();
                match tag {
                    #(#tags => {
                        #de_variant
                        #decodes
                    })*
                    _ => Ok(Self::Unknown { tag: tag.to_string(), raw: value }),
                }
            }
        }
        #validate
        impl rt::Wire for #name {
            fn wire<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <Self as serde::Deserialize>::deserialize(d)
            }
        }
    }
}
