//! Per endpoint: the request type, its `Endpoint` impl, the handle method and the setters on
//! `Call`. The generated code only describes the request; `dingtalk_runtime` executes it.

use proc_macro2::TokenStream;
use quote::quote;

use super::fields::{builder_methods, field_decl, limit_checks, setter, Serialize};
use super::{arg, doc_text, docs, ty_tokens};
use crate::model::{
    Area, Auth, Constraint, Encoding, Endpoint, Field, Host, Method, RateClass, Spec,
};
use crate::naming::ident;

pub(super) fn area(spec: &Spec, area: &Area) -> TokenStream {
    let handle = ident(&format!("{}Api", area.camel()));
    let summary = area.doc.trim().split("\n\n").next().unwrap_or("").trim();
    let area_doc = docs(&format!(
        "{summary}\n\nObtained from [`Api::{}`](crate::api::Api::{}) (`client.{}()`); every method returns a [`Call`](crate::api::Call) to `.await`.",
        area.name, area.name, area.name
    ));
    let methods = area
        .endpoints
        .iter()
        .map(|ep| handle_method(spec, area, ep));
    let requests = area.endpoints.iter().map(|ep| request(spec, area, ep));
    quote! {
        #area_doc
        #[derive(Clone, Copy, Debug)]
        pub struct #handle<'c> { client: &'c rt::Client }
        impl<'c> #handle<'c> {
            /// The handle of this area on `client`.
            pub fn new(client: &'c rt::Client) -> Self { Self { client } }
            #(#methods)*
        }
        #(#requests)*
    }
}

/// The docs shared by the handle method and the request type.
fn endpoint_doc(ep: &Endpoint) -> String {
    let method = ep.method.as_str();
    let mut doc = doc_text(&ep.summary);
    if !ep.doc.trim().is_empty() {
        doc.push_str("\n\n");
        doc.push_str(&doc_text(&ep.doc));
    }
    let auth = match ep.auth {
        Auth::None => "no token",
        Auth::AccessToken => "the app's access token",
        Auth::SsoToken => "the SSO token",
        Auth::SnsAppToken => "the SNS app's token",
        Auth::UserToken => "a signed-in user's token (`as_user`)",
        Auth::Signed => "a signed query (accessKey, timestamp, signature)",
        Auth::SuiteToken => "the ISV suite's access token",
        Auth::SuiteSigned => {
            "a query signed with the suite secret (accessKey, timestamp, suiteTicket, signature)"
        }
    };
    let retry = if ep.idempotent {
        "idempotent (retried after a lost response)"
    } else {
        "not idempotent (never retried once sent)"
    };
    let host = match ep.host {
        Host::Oapi => "",
        Host::Api => "https://api.dingtalk.com",
    };
    doc.push_str(&format!(
        "\n\n`{method} {host}{}` · {auth} · {retry}",
        ep.path
    ));
    let rate = match ep.rate_class {
        RateClass::Basic => "rate limit: basic (20/s per app, 1500/min per company; outside the monthly quota)",
        RateClass::Metered => "rate limit: metered (20/s per app, 1500/min per company; counted in the standard edition's monthly quota)",
        RateClass::WorkNotice => "rate limit: work notice (metered; at most 5000 recipients a minute, one identical message per user a day)",
    };
    doc.push_str(&format!(" · {rate}"));
    for c in &ep.constraints {
        match c {
            Constraint::Span {
                from,
                to,
                max_days,
                whole_days,
            } => {
                let days = if *whole_days { " (calendar days)" } else { "" };
                doc.push_str(&format!(
                    "\n\nChecked before sending: `{}` lies between `{}` and {max_days} days after it{days}.",
                    to.wire, from.wire
                ));
            }
        }
    }
    if let Some(dep) = &ep.deprecated {
        doc.push_str(&format!("\n\nDeprecated: {}", deprecation_note(dep)));
    }
    if let Some(url) = &ep.docs_url {
        doc.push_str(&format!("\n\nDingTalk docs: <{url}>"));
    }
    doc.push_str(&format!(
        "\n\nSource: `{}` · `endpoints.{}`",
        ep.file, ep.name
    ));
    doc
}

/// `deprecated:` names the replacement endpoint, or is a sentence of its own.
fn deprecation_note(dep: &str) -> String {
    if crate::naming::is_snake(dep) && !dep.contains(' ') {
        format!("legacy endpoint; use `{dep}` instead")
    } else {
        dep.to_string()
    }
}

/// Every field of the request: `as_user` first for user-token calls, then the params.
fn request_fields(ep: &Endpoint) -> Vec<Field> {
    let as_user = (ep.auth == Auth::UserToken).then(|| Field {
        wire: "as_user".into(),
        rust: "as_user".into(),
        ty: crate::model::Ty::String,
        required: true,
        doc: "The user whose token the call carries: the key they signed in under with `Client::sign_in_user` (their unionId). Not sent.".into(),
        example: None,
        encoding: None,
        sensitive: false,
        aliases: Vec::new(),
        max_len: None,
        min: None,
        max: None,
        flatten: false,
        whole_body: false,
        idempotency_key: false,
        loc: ep.loc.clone(),
    });
    as_user.into_iter().chain(ep.params().cloned()).collect()
}

fn handle_method(spec: &Spec, area: &Area, ep: &Endpoint) -> TokenStream {
    let name = ident(&ep.name);
    let req = ident(&ep.request_type);
    let doc = docs(&endpoint_doc(ep));
    let fields = request_fields(ep);
    let required: Vec<&Field> = fields.iter().filter(|f| f.required).collect();
    let params = required.iter().map(|f| {
        let v = ident(&f.rust);
        let (t, _) = arg(spec, &area.name, f, &v);
        quote!(#v: #t)
    });
    let upload = ep.upload.is_some();
    let file_param = upload.then(|| quote!(file: rt::UploadFile));
    let params = params.chain(file_param);
    let args = required
        .iter()
        .map(|f| ident(&f.rust))
        .chain(upload.then(|| quote::format_ident!("file")));
    let deprecated = ep.deprecated.as_ref().map(|d| {
        let note = deprecation_note(d);
        quote!(#[deprecated(note = #note)])
    });
    quote! {
        #doc
        #deprecated
        pub fn #name(&self, #(#params),*) -> crate::api::Call<'c, #req> {
            crate::api::Call::new(self.client, #req::new(#(#args),*))
        }
    }
}

fn request(spec: &Spec, area: &Area, ep: &Endpoint) -> TokenStream {
    let req = ident(&ep.request_type);
    let handle = format!("{}Api", area.camel());
    let doc = docs(&format!(
        "Request of [`{handle}::{}`]: {}\n\nBuild it with `new` and the setters, or get it pre-filled from the handle method.",
        ep.name,
        endpoint_doc(ep)
    ));
    let all = request_fields(ep);
    // Only body params are serialized; the rest go in the path, query or headers.
    let in_body = |f: &Field| ep.body.iter().any(|b| b.wire == f.wire) && f.rust != "as_user";
    let decls = all
        .iter()
        .map(|f| field_decl(spec, &area.name, f, !in_body(f), Serialize::Always));
    // A request is built through its `Call`: the setters live there only, one per optional
    // param (`Call::into_request` hands the built request over).
    let builders = builder_methods(spec, &area.name, &all, ep.upload.is_some(), false);
    let file_decl = ep.upload.as_ref().map(|part| {
        let doc = super::docs(&format!("The file, sent as the multipart part `{part}`."));
        quote!(#doc #[serde(skip)] pub file: rt::UploadFile,)
    });
    let call_setters: Vec<TokenStream> = all
        .iter()
        .filter(|f| !f.required)
        .map(|f| setter(spec, &area.name, f, quote!(self.request)))
        .collect();
    let response = match ep.response.ty() {
        Some(ty) => ty_tokens(spec, &area.name, ty, false),
        None if ep.response.is_file() => quote!(rt::Download),
        None => quote!(rt::Empty),
    };
    let meta = meta(spec, area, ep);
    // A `whole_body` param is the entire body: the request serializes as that one field.
    let transparent = ep
        .body
        .iter()
        .any(|f| f.whole_body)
        .then(|| quote!(#[serde(transparent)]));
    let binary = ep.response.is_file();
    let path = &ep.path;
    let download_fn = binary.then(|| {
        quote! {
            fn from_download(download: rt::Download) -> Option<Self::Response> { Some(download) }
        }
    });
    let upload_fn = ep.upload.as_ref().map(|part| quote! {
        fn upload(&self) -> Option<(&'static str, &rt::UploadFile)> { Some((#part, &self.file)) }
    });
    let query = ep.query.iter().map(query_push);
    let headers_fn = (!ep.headers.is_empty()).then(|| {
        let pushes = ep.headers.iter().map(header_push);
        quote! {
            fn headers(&self, h: &mut rt::Headers) { #(#pushes)* }
        }
    });
    let user_fn = (ep.auth == Auth::UserToken).then(|| {
        quote! {
            fn user(&self) -> Option<&str> { Some(&self.as_user) }
        }
    });
    let path_fn = (!ep.path_params.is_empty()).then(|| {
        let replaces = ep.path_params.iter().map(|f| {
            let v = ident(&f.rust);
            let ph = format!("{{{}}}", f.wire);
            quote!(let path = path.replace(#ph, &rt::encode_path_segment(&rt::Scalar::to_text(&self.#v)));)
        });
        quote! {
            fn path(&self) -> ::std::borrow::Cow<'static, str> {
                let path = #path.to_string();
                #(#replaces)*
                path.into()
            }
        }
    });
    let pages = ep
        .pagination
        .as_ref()
        .map(|pg| pagination(spec, area, ep, pg));
    // Requests without optional params or pages get no `Call` impl.
    let call_impl = (!call_setters.is_empty() || pages.is_some())
        .then(|| quote!(impl<'c> crate::api::Call<'c, #req> { #(#call_setters)* #pages }));
    let checks: Vec<TokenStream> = all
        .iter()
        .flat_map(limit_checks)
        .chain(ep.constraints.iter().map(constraint_check))
        .collect();
    let validate = (!checks.is_empty()).then(|| {
        quote! {
            fn validate(&self) -> Result<(), rt::InvalidRequest> { #(#checks)* Ok(()) }
        }
    });
    quote! {
        #doc
        #[derive(Clone, Debug, serde::Serialize)]
        #[cfg_attr(feature = "eq", derive(PartialEq))]
        #transparent
        #[non_exhaustive]
        pub struct #req { #(#decls)* #file_decl }
        impl #req { #builders }
        impl rt::Endpoint for #req {
            type Response = #response;
            const META: rt::EndpointMeta = #meta;
            fn query(&self, q: &mut rt::Query) { #(#query)* let _ = q; }
            #path_fn
            #headers_fn
            #user_fn
            #validate
            #download_fn
            #upload_fn
        }
        #call_impl
    }
}

/// The endpoint's `rt::EndpointMeta` value: its facts for the runtime.
pub(super) fn meta(spec: &Spec, area: &Area, ep: &Endpoint) -> TokenStream {
    let method = match ep.method {
        Method::Get => quote!(rt::Method::Get),
        Method::Post => quote!(rt::Method::Post),
        Method::Put => quote!(rt::Method::Put),
        Method::Delete => quote!(rt::Method::Delete),
        Method::Patch => quote!(rt::Method::Patch),
    };
    let host = match ep.host {
        Host::Oapi => quote!(rt::Host::Oapi),
        Host::Api => quote!(rt::Host::Api),
    };
    let json_body = ep.json_body();
    let auth = match ep.auth {
        Auth::None => quote!(rt::Auth::None),
        Auth::UserToken => quote!(rt::Auth::UserToken),
        Auth::AccessToken => quote!(rt::Auth::AccessToken),
        Auth::SsoToken => quote!(rt::Auth::SsoToken),
        Auth::SnsAppToken => quote!(rt::Auth::SnsAppToken),
        Auth::Signed => quote!(rt::Auth::Signed),
        Auth::SuiteToken => quote!(rt::Auth::SuiteToken),
        Auth::SuiteSigned => quote!(rt::Auth::SuiteSigned),
    };
    let at = match &ep.response.at {
        Some(k) => quote!(Some(#k)),
        None => quote!(None),
    };
    let area_name = &area.name;
    let ep_name = &ep.name;
    let path = &ep.path;
    let idempotent = ep.idempotent;
    let binary = ep.response.is_file();
    let secret_response = ep
        .response
        .ty()
        .is_some_and(|ty| holds_secret(spec, ty, &mut Vec::new()));
    let rate_class = match ep.rate_class {
        RateClass::Basic => quote!(rt::RateClass::Basic),
        RateClass::Metered => quote!(rt::RateClass::Metered),
        RateClass::WorkNotice => quote!(rt::RateClass::WorkNotice),
    };
    quote! {
        rt::EndpointMeta {
            area: #area_name,
            name: #ep_name,
            host: #host,
            method: #method,
            json_body: #json_body,
            path: #path,
            auth: #auth,
            payload_at: #at,
            idempotent: #idempotent,
            binary: #binary,
            rate_class: #rate_class,
            secret_response: #secret_response,
            classify: crate::api::classify,
        }
    }
}

/// Pushes one header; optional ones only when set, an unset idempotency key as a fresh one.
fn header_push(h: &crate::model::Header) -> TokenStream {
    let v = ident(&h.field.rust);
    let wire = &h.field.wire;
    if h.idempotency_key {
        quote!(h.push(#wire, self.#v.clone().unwrap_or_else(rt::random_id));)
    } else if h.field.is_option() {
        quote!(if let Some(v) = &self.#v { h.push(#wire, rt::Scalar::to_text(v).into_owned()); })
    } else {
        quote!(h.push(#wire, rt::Scalar::to_text(&self.#v).into_owned());)
    }
}

/// Pushes one query param; optional ones only when set.
fn query_push(f: &Field) -> TokenStream {
    let v = ident(&f.rust);
    let wire = &f.wire;
    let value = |x: TokenStream| match f.encoding {
        Some(Encoding::Comma) => quote!(q.push_text(#wire, rt::join(#x, ","));),
        Some(Encoding::Pipe) => quote!(q.push_text(#wire, rt::join(#x, "|"));),
        Some(Encoding::JsonText | Encoding::LooseMap) => {
            quote!(q.push_text(#wire, rt::json_text(#x));)
        }
        None => quote!(q.push(#wire, #x);),
    };
    if f.is_option() {
        let push = value(quote!(v));
        quote!(if let Some(v) = &self.#v { #push })
    } else if !f.required && f.ty.is_collection() {
        let push = value(quote!(&self.#v));
        quote!(if !self.#v.is_empty() { #push })
    } else {
        value(quote!(&self.#v))
    }
}

/// The check of one `constraints:` rule; optional params are checked when both are set.
fn constraint_check(c: &Constraint) -> TokenStream {
    match c {
        Constraint::Span {
            from,
            to,
            max_days,
            whole_days,
        } => {
            let moment = |f: &Field, v: TokenStream| match f.ty {
                crate::model::Ty::I64 => quote!(rt::Moment::Millis(*#v)),
                _ => quote!(rt::Moment::Text(#v)),
            };
            let (a, b) = (ident(&from.rust), ident(&to.rust));
            let (fw, tw) = (&from.wire, &to.wire);
            let (ma, mb) = (moment(from, quote!(a)), moment(to, quote!(b)));
            let check = quote! {
                rt::check_span((#fw, #ma), (#tw, #mb), #max_days, #whole_days)?;
            };
            match (from.is_option(), to.is_option()) {
                (false, false) => quote!({ let (a, b) = (&self.#a, &self.#b); #check }),
                (true, true) => quote!(if let (Some(a), Some(b)) = (&self.#a, &self.#b) { #check }),
                (true, false) => quote!(if let (Some(a), b) = (&self.#a, &self.#b) { #check }),
                (false, true) => quote!(if let (a, Some(b)) = (&self.#a, &self.#b) { #check }),
            }
        }
    }
}

/// Whether a value of `ty` can carry a `sensitive` field, at any depth (`seen` stops cycles).
fn holds_secret(spec: &Spec, ty: &crate::model::Ty, seen: &mut Vec<String>) -> bool {
    use crate::model::{Ty, TypeKind};
    match ty {
        Ty::List(inner) | Ty::Map(_, inner) => holds_secret(spec, inner, seen),
        Ty::Named(name) if !seen.contains(name) => {
            seen.push(name.clone());
            match spec.types.get(name).map(|t| &t.kind) {
                Some(TypeKind::Struct(fields)) => fields
                    .iter()
                    .any(|f| f.sensitive || holds_secret(spec, &f.ty, seen)),
                Some(TypeKind::Union(u)) => u
                    .variants
                    .iter()
                    .any(|v| holds_secret(spec, &Ty::Named(v.ty.clone()), seen)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// `pages()` and `items()` on the `Call` of a paged endpoint.
fn pagination(
    spec: &Spec,
    area: &Area,
    ep: &Endpoint,
    pg: &crate::model::Pagination,
) -> TokenStream {
    let req = ident(&ep.request_type);
    let Some(response) = ep.response.ty() else {
        return quote!();
    };
    let page_ty = ty_tokens(spec, &area.name, response, false);
    let crate::model::Ty::List(item) = &pg.items.ty else {
        return quote!();
    };
    let item_ty = ty_tokens(spec, &area.name, item, false);
    let items = ident(&pg.items.rust);
    let cursor = ident(&pg.cursor.rust);
    let current = if pg.cursor.required {
        quote!(req.#cursor)
    } else {
        quote!(req.#cursor.unwrap_or(0))
    };
    let stop = match &pg.has_more {
        Some(f) => {
            let h = ident(&f.rust);
            let more = if f.required {
                quote!(page.#h)
            } else {
                quote!(page.#h.unwrap_or(false))
            };
            quote!(!#more || page.#items.is_empty())
        }
        None => quote!(page.#items.is_empty()),
    };
    let text_cursor = pg.cursor.ty == crate::model::Ty::String;
    let (next, how) = match (&pg.next, &pg.step) {
        // A string cursor: the next token, until the answer has none.
        (Some(f), _) if text_cursor => {
            let n = ident(&f.rust);
            let value = if f.required {
                quote!(let next = page.#n.clone(); if next.is_empty() { return None; })
            } else {
                quote!(let next = match &page.#n { Some(n) if !n.is_empty() => n.clone(), _ => return None };)
            };
            (value, format!("following `{}`", f.wire))
        }
        (Some(f), _) => {
            let n = ident(&f.rust);
            let value = if f.required {
                quote!(let next = page.#n;)
            } else {
                quote!(let next = page.#n?;)
            };
            (value, format!("following `{}`", f.wire))
        }
        (None, Some(step)) => {
            let s = ident(&step.rust);
            let size = if step.required {
                quote!(req.#s)
            } else {
                quote!(req.#s.unwrap_or(page.#items.len() as i64))
            };
            (
                quote! {
                    let size = #size;
                    // A short page is the last one.
                    if (page.#items.len() as i64) < size { return None; }
                    let next = #current.checked_add(size)?;
                },
                format!("advancing `{}` by `{}`", pg.cursor.wire, step.wire),
            )
        }
        (None, None) => (
            quote!(let next = #current.checked_add(1)?;),
            format!("advancing `{}` by one", pg.cursor.wire),
        ),
    };
    let set = if pg.cursor.required {
        quote!(req.#cursor = next;)
    } else {
        quote!(req.#cursor = Some(next);)
    };
    // The position has stopped moving: the walk ends.
    let unmoved = match (text_cursor, pg.cursor.required) {
        (true, true) => quote!(next == req.#cursor),
        (true, false) => quote!(req.#cursor.as_deref() == Some(next.as_str())),
        (false, _) => quote!(next == #current),
    };
    let while_more = pg
        .has_more
        .as_ref()
        .map_or(String::new(), |h| format!(" while `{}` is true", h.wire));
    let pages_doc = super::docs(&format!(
        "Every page from this request's position on, {how}{while_more}. Stops after an empty page, when the position stops moving, and after the first error.\n\nConsume it with `futures_util::StreamExt` (re-exported as `dingtalk_runtime::paginate::StreamExt`)."
    ));
    let items_doc = super::docs(&format!(
        "Every item (`{}`) of every page; see [`pages`](Self::pages).",
        pg.items.wire
    ));
    quote! {
        #pages_doc
        pub fn pages(self) -> impl rt::Stream<Item = Result<#page_ty, rt::Error>> + Send + 'c {
            let (client, first) = self.into_parts();
            rt::paginate(client, first, |req: &#req, page: &#page_ty| -> Option<#req> {
                if #stop { return None; }
                #next
                if #unmoved { return None; }
                let mut req = req.clone();
                #set
                Some(req)
            })
        }
        #items_doc
        pub fn items(self) -> impl rt::Stream<Item = Result<#item_ty, rt::Error>> + Send + 'c {
            rt::paginate_items(self.pages(), |page: #page_ty| page.#items)
        }
    }
}
