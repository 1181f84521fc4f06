//! The conformance module: calls any endpoint by name with its example arguments, so the
//! integration test can walk the spec's endpoint list without code per endpoint.

use proc_macro2::TokenStream;
use quote::quote;

use super::values::field_value;
use crate::model::Spec;
use crate::naming::ident;

/// No area's name: every type path gets its module prefix.
const OUTSIDE: &str = "";

pub(super) fn file(spec: &Spec) -> TokenStream {
    let mut names = Vec::new();
    let mut arms = Vec::new();
    for area in &spec.areas {
        let handle = ident(&area.name);
        for ep in &area.endpoints {
            let key = format!("{}.{}", area.name, ep.name);
            let method = ident(&ep.name);
            // A user-token call acts for the user the test signed in as `USER`.
            let as_user =
                (ep.auth == crate::model::Auth::UserToken).then(|| quote!(String::from(USER)));
            let required = as_user.into_iter().chain(
                ep.params()
                    .filter(|f| f.required)
                    .map(|f| field_value(spec, OUTSIDE, f)),
            );
            let file = ep.upload.as_ref().map(|_| {
                quote!(rt::UploadFile::from_bytes(
                    "example.txt",
                    &b"example file"[..]
                ))
            });
            let required = required.chain(file);
            // Optional params with an example are set too, so their setters and encodings run.
            let optional = ep
                .params()
                .filter(|f| !f.required && f.example.is_some())
                .map(|f| {
                    let setter = ident(&f.rust);
                    let value = field_value(spec, OUTSIDE, f);
                    quote!(.#setter(#value))
                });
            // A download comes back as its type and text, the shape of its example.
            let convert = if ep.response.is_file() {
                quote!(download_json)
            } else {
                quote!(to_json)
            };
            arms.push(quote! {
                #key => client.#handle().#method(#(#required),*) #(#optional)* .await.map(#convert),
            });
            names.push(key);
        }
    }
    quote! {
        //! Calls every endpoint with the example arguments from the spec. Used by the spec-driven
        //! integration tests; enabled by the `conformance` feature.
        #![allow(deprecated)]
        use ::dingtalk_runtime::codegen as rt;
        use crate::api::Api as _;

        /// The user key user-token calls act for: sign a user in under it first.
        pub const USER: &str = "conformance-user";

        /// Every endpoint, as `area.endpoint`, in spec order.
        pub const ENDPOINTS: &[&str] = &[#(#names),*];

        /// Calls `endpoint` (`area.endpoint`) with its example arguments and returns the decoded
        /// response re-encoded as JSON, or `None` for an unknown name.
        pub async fn call(client: &rt::Client, endpoint: &str) -> Option<Result<serde_json::Value, rt::Error>> {
            Some(match endpoint {
                #(#arms)*
                _ => return None,
            })
        }

        #[allow(dead_code)]
        fn download_json(d: rt::Download) -> serde_json::Value {
            serde_json::json!({ "content_type": d.content_type, "body": String::from_utf8_lossy(&d.bytes) })
        }

        fn to_json<T: serde::Serialize>(value: T) -> serde_json::Value {
            serde_json::to_value(value).unwrap_or_else(|e| serde_json::json!({ "conformance_serialize_error": e.to_string() }))
        }
    }
}
