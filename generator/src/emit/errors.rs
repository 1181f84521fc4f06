//! The `ErrorCode` enum: every errcode of the spec's `errors:` table with its meaning and class.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use crate::model::{Code, Spec};
use crate::naming::ident;

pub(super) fn error_code(spec: &Spec) -> TokenStream {
    let rows: Vec<_> = spec.areas.iter().flat_map(|a| &a.errors).collect();
    let source = spec
        .areas
        .iter()
        .find(|a| !a.errors.is_empty())
        .map_or("no spec file declares `errors:`".to_string(), |a| {
            format!("from `{}`", a.file)
        });
    let doc = docs(&format!(
        "A DingTalk errcode ({source}). Codes the spec does not list are `Unknown`.\n\nEach code knows its meaning and its [`ErrorClass`](rt::ErrorClass), which decides whether the runtime refreshes the token, backs off, or gives up; [`classify`] hands the table to the runtime in every endpoint's metadata."
    ));
    let num: Vec<_> = rows
        .iter()
        .filter_map(|r| match &r.code {
            Code::Errcode(n) => Some((ident(&r.variant), *n, r)),
            Code::Service(_) => None,
        })
        .collect();
    let text: Vec<_> = rows
        .iter()
        .filter_map(|r| match &r.code {
            Code::Service(s) => Some((ident(&r.variant), s.clone(), r)),
            Code::Errcode(_) => None,
        })
        .collect();
    let vars: Vec<_> = rows.iter().map(|r| ident(&r.variant)).collect();
    let (num_vars, num_codes): (Vec<_>, Vec<i64>) = num.iter().map(|(v, n, _)| (v, *n)).unzip();
    let (text_vars, text_codes): (Vec<_>, Vec<&String>) =
        text.iter().map(|(v, s, _)| (v, s)).unzip();
    let class = |r: &crate::model::ErrorCodeDef| format_ident!("{}", r.class.variant());
    let num_classes: Vec<_> = num.iter().map(|(_, _, r)| class(r)).collect();
    let text_classes: Vec<_> = text.iter().map(|(_, _, r)| class(r)).collect();
    let classes: Vec<_> = rows.iter().map(|r| class(r)).collect();
    let meanings: Vec<String> = rows
        .iter()
        .map(|r| r.doc.trim().lines().next().unwrap_or("").trim().to_string())
        .collect();
    let variant_docs = rows.iter().map(|r| {
        let code = match &r.code {
            Code::Errcode(n) => format!("errcode `{n}`"),
            Code::Service(s) => format!("v1.0 code `{s}`"),
        };
        docs(&format!("{} ({code})", r.doc.trim()))
    });
    let codes = rows.iter().map(|r| match &r.code {
        Code::Errcode(n) => quote!(rt::ApiCode::Errcode(#n)),
        Code::Service(s) => quote!(rt::ApiCode::Service(#s.to_string())),
    });
    quote! {
        #doc
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #( #variant_docs #vars, )*
            /// A code the spec does not list.
            Unknown(rt::ApiCode),
        }
        impl ErrorCode {
            /// The code's variant.
            pub fn from_code(code: &rt::ApiCode) -> Self {
                let known = match code {
                    rt::ApiCode::Errcode(n) => Self::from_errcode(*n),
                    rt::ApiCode::Service(s) => Self::from_service_code(s),
                };
                known.unwrap_or_else(|| Self::Unknown(code.clone()))
            }
            /// The variant of an oapi errcode the spec lists.
            #[allow(clippy::match_single_binding)]
            pub fn from_errcode(code: i64) -> Option<Self> {
                match code { #(#num_codes => Some(Self::#num_vars),)* _ => None }
            }
            /// The variant of a v1.0 code the spec lists.
            #[allow(clippy::match_single_binding)]
            pub fn from_service_code(code: &str) -> Option<Self> {
                match code { #(#text_codes => Some(Self::#text_vars),)* _ => None }
            }
            /// The code.
            pub fn code(&self) -> rt::ApiCode {
                match self { #(Self::#vars => #codes,)* Self::Unknown(c) => c.clone() }
            }
            /// What the code means, per the reference (empty when unknown).
            pub fn meaning(&self) -> &'static str {
                match self { #(Self::#vars => #meanings,)* Self::Unknown(_) => "" }
            }
            /// How to react to it.
            pub fn class(&self) -> rt::ErrorClass {
                match self { #(Self::#vars => rt::ErrorClass::#classes,)* Self::Unknown(_) => rt::ErrorClass::Other }
            }
            /// The code of an API error: its code, or for errcode 88 its numeric `sub_code`.
            pub fn of(error: &rt::ApiError) -> Self {
                Self::from_code(&error.effective_code())
            }
        }
        /// The spec's error table as the runtime takes it (every endpoint's `META.classify`).
        #[allow(clippy::match_single_binding)]
        pub fn classify(code: &rt::ApiCode) -> rt::ErrorClass {
            match code {
                rt::ApiCode::Errcode(n) => match n { #(#num_codes => rt::ErrorClass::#num_classes,)* _ => rt::ErrorClass::Other },
                rt::ApiCode::Service(s) => match s.as_str() { #(#text_codes => rt::ErrorClass::#text_classes,)* _ => rt::ErrorClass::Other },
            }
        }
    }
}
