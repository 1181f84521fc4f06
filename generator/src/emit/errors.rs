//! The `ErrorCode` enum: every errcode of the spec's `errors:` table with its meaning and class.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::docs;
use crate::model::Spec;
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
    let vars: Vec<_> = rows.iter().map(|r| ident(&r.variant)).collect();
    let codes: Vec<i64> = rows.iter().map(|r| r.code).collect();
    let classes: Vec<_> = rows
        .iter()
        .map(|r| format_ident!("{}", r.class.variant()))
        .collect();
    let meanings: Vec<String> = rows
        .iter()
        .map(|r| r.doc.trim().lines().next().unwrap_or("").trim().to_string())
        .collect();
    let variant_docs = rows
        .iter()
        .map(|r| docs(&format!("{} (errcode `{}`)", r.doc.trim(), r.code)));
    // With no errcodes the matches have the catch-all arm alone.
    let allow = rows
        .is_empty()
        .then(|| quote!(#[allow(clippy::match_single_binding)]));
    quote! {
        #doc
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            #( #variant_docs #vars, )*
            /// A code the spec does not list.
            Unknown(i64),
        }
        #allow
        impl ErrorCode {
            /// The code's variant.
            pub fn from_code(code: i64) -> Self {
                match code { #(#codes => Self::#vars,)* other => Self::Unknown(other) }
            }
            /// The errcode.
            pub fn code(&self) -> i64 {
                match self { #(Self::#vars => #codes,)* Self::Unknown(c) => *c }
            }
            /// What the code means, per the reference (empty when unknown).
            pub fn meaning(&self) -> &'static str {
                match self { #(Self::#vars => #meanings,)* Self::Unknown(_) => "" }
            }
            /// How to react to it.
            pub fn class(&self) -> rt::ErrorClass {
                match self { #(Self::#vars => rt::ErrorClass::#classes,)* Self::Unknown(_) => rt::ErrorClass::Other }
            }
            /// The code of an API error: its errcode, or for errcode 88 its numeric `sub_code`.
            pub fn of(error: &rt::ApiError) -> Self {
                Self::from_code(error.effective_code())
            }
        }
        /// The spec's error table as the runtime takes it (every endpoint's `META.classify`).
        pub fn classify(code: i64) -> rt::ErrorClass {
            ErrorCode::from_code(code).class()
        }
    }
}
