//! Rust names for spec names: heck cases, keyword escaping and identifier repair, in one place.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Words that cannot be plain identifiers; they are emitted as raw identifiers (`r#type`).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// Keywords that cannot be raw identifiers either; they get a trailing underscore.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

/// The snake_case field or method name for a wire name such as `orderInDepts` or `sub_dept_id_list`.
///
/// Characters that cannot appear in an identifier become `_`; a leading digit gets an `n` prefix.
pub fn snake(name: &str) -> String {
    repair(&name.to_snake_case(), 'n')
}

/// The UpperCamelCase type or variant name for a spec name.
pub fn camel(name: &str) -> String {
    repair(&name.to_upper_camel_case(), 'N')
}

fn repair(name: &str, digit_prefix: char) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    let trimmed = out.trim_matches('_');
    let mut out = match (trimmed.is_empty(), digit_prefix) {
        (false, _) => trimmed.to_string(),
        (true, 'n') => "unnamed".to_string(),
        (true, _) => "Unnamed".to_string(),
    };
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, digit_prefix);
    }
    if NOT_RAW.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Whether `name` is already in the form `snake` produces (used to validate spec keys).
pub fn is_snake(name: &str) -> bool {
    !name.is_empty() && snake(name) == name
}

/// Whether `name` is already in the form `camel` produces.
pub fn is_camel(name: &str) -> bool {
    !name.is_empty() && camel(name) == name
}

/// An identifier token, escaped as `r#name` when `name` is a keyword.
pub fn ident(name: &str) -> Ident {
    if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// The handle type of an area: `client.user()` returns a `UserApi`.
pub fn handle_name(area: &str) -> String {
    format!("{}Api", camel(area))
}

/// The request type the emitter generates for an endpoint: `UserGetRequest`.
pub fn request_name(area: &str, endpoint: &str) -> String {
    format!("{}{}Request", camel(area), camel(endpoint))
}

/// The response type the emitter generates for an endpoint whose `response:` lists `fields:`:
/// `UserGetResponse`.
pub fn response_name(area: &str, endpoint: &str) -> String {
    format!("{}{}Response", camel(area), camel(endpoint))
}

/// Names a spec type may not take, besides the per-area and per-endpoint names above
/// ([`handle_name`], [`request_name`], [`response_name`]), grouped with why: each entry is
/// `(why, names)`, and `why` completes "type `X` clashes with `X`, …".
///
/// Every spec type becomes an item of its area's module (`crate::api::user::UserDetail`) and is
/// named from other areas as `super::user::UserDetail`, so a name is reserved when the generated
/// modules or the crate's users already mean something else by it.
pub const RESERVED_TYPE_NAMES: &[(&str, &[&str])] = &[
    // The generated modules write these unqualified (`String`, `Vec<T>`, `Option<T>`, `Some`,
    // `None`, `Result<(), _>`, `Ok(())`, `Default::default()`, `impl Into<String>`, `+ Send`,
    // `#[derive(Clone, Debug, PartialEq, …)]`): a type of that name would shadow the prelude's
    // in its own module and break every item there. The rest of the prelude is reserved too.
    (
        "a name of the Rust prelude, which the generated code uses unqualified",
        &[
            "Option",
            "Some",
            "None",
            "Result",
            "Ok",
            "Err",
            "String",
            "ToString",
            "Vec",
            "Box",
            "Self",
            "Default",
            "Clone",
            "Copy",
            "Debug",
            "PartialEq",
            "Eq",
            "PartialOrd",
            "Ord",
            "Hash",
            "Send",
            "Sync",
            "Sized",
            "Unpin",
            "Drop",
            "Fn",
            "FnMut",
            "FnOnce",
            "Iterator",
            "IntoIterator",
            "DoubleEndedIterator",
            "ExactSizeIterator",
            "Extend",
            "FromIterator",
            "Into",
            "From",
            "TryFrom",
            "TryInto",
            "AsRef",
            "AsMut",
            "ToOwned",
        ],
    ),
    // The crate root re-exports the runtime's names and the generated `api` module adds `Api`,
    // `Call` and `ErrorCode`; users import them (`use dingtalk::*`, `use dingtalk::prelude::*`)
    // next to an area's types, and the generated docs link them by their bare name.
    (
        "a name the crate exports from its root or its `api` module, which users import next to the area's types",
        &[
            "Client",
            "ClientBuilder",
            "Credentials",
            "Call",
            "Api",
            "Error",
            "ErrorCode",
            "ErrorClass",
            "ApiError",
            "Endpoint",
            "EndpointMeta",
            "InvalidRequest",
            "SecretString",
            "UploadFile",
            "Download",
            "LimitStore",
            "RateLimit",
            "RedisStore",
            "RetryPolicy",
            "MemoryStore",
            "TokenStore",
        ],
    ),
    // Runtime traits the generated code implements for every type (`rt::Validate`, `rt::Wire`,
    // `rt::Scalar`) or names in signatures (`rt::Query`, `rt::Stream`).
    (
        "a runtime trait or type the generated code implements or names (`rt::Validate`, …)",
        &["Validate", "Wire", "Scalar", "Query", "Stream"],
    ),
];

/// Names an area (a spec file's `area:`, else its file stem) may not take, grouped with why:
/// each entry is `(why, names)`, and `{name}` in `why` stands for the area name.
///
/// An area becomes a module of `crate::api`, a cargo feature, a method of the `Api` trait
/// (`client.user()`) and the prefix of its handle and request types.
pub const RESERVED_AREA_NAMES: &[(&str, &[&str])] = &[
    // The generated block of the crate's `Cargo.toml` holds one feature per area next to `full`
    // (the generator's), `default` (cargo's) and the hand-written `conformance`, `receiver` and
    // `redis`: a second key of the same name breaks the manifest.
    (
        "every area is a cargo feature, and `{name}` already is one",
        &["full", "default", "conformance", "receiver", "redis"],
    ),
    // Modules the generated crate already has: `api::conformance` sits beside the area modules,
    // `prelude` at the crate root is what users glob-import for the handles.
    (
        "the generated crate already has a module `{name}`",
        &["conformance", "prelude"],
    ),
    // The generated modules write paths starting with these (`rt::Endpoint`, `serde::Serialize`,
    // `serde_json::Value`, `std::borrow::Cow`, `crate::api::Call`, `super::user::UserDetail`);
    // `api/mod.rs` imports `rt` itself, so an area module `rt` clashes with that import.
    (
        "the generated code writes paths starting with `{name}::`",
        &[
            "rt",
            "serde",
            "serde_json",
            "std",
            "core",
            "alloc",
            "crate",
            "super",
            "self",
        ],
    ),
    // An area's handle is a method of the `Api` trait on the runtime's `Client`; an inherent
    // method of the same name wins, so `client.<area>()` would call it instead (a test in
    // `tests/tests/reserved.rs` keeps this list in step with the runtime's `impl Client`).
    (
        "`client.{name}()` is already a method of the runtime's `Client`",
        CLIENT_METHODS,
    ),
];

/// The methods of the runtime's `Client` (inherent, and `clone`/`fmt` from its traits).
pub const CLIENT_METHODS: &[&str] = &[
    "access_token",
    "api_base_url",
    "base_url",
    "builder",
    "clear_access_token",
    "client_credentials",
    "clone",
    "corp",
    "corp_id",
    "corp_with_permanent_code",
    "download_to",
    "fmt",
    "forget_corp",
    "jsapi_ticket",
    "send",
    "send_with",
    "set_suite_ticket",
    "sign_in_user",
    "sign_out_user",
    "sns_login_url",
    "suite_access_token",
    "suite_key",
];

/// Why `name` cannot be a spec type's name, if it is in [`RESERVED_TYPE_NAMES`].
pub fn reserved_type_name(name: &str) -> Option<&'static str> {
    RESERVED_TYPE_NAMES
        .iter()
        .find(|(_, names)| names.contains(&name))
        .map(|(why, _)| *why)
}

/// Why `name` cannot be an area's name, if it is in [`RESERVED_AREA_NAMES`].
pub fn reserved_area_name(name: &str) -> Option<String> {
    RESERVED_AREA_NAMES
        .iter()
        .find(|(_, names)| names.contains(&name))
        .map(|(why, _)| why.replace("{name}", name))
}

/// Methods of the generated `Call` (`new`, `map`, `request`, `into_request`, `into_parts`, and
/// the per-call overrides `retry` and `timeout`): an optional request param's setter on `Call`
/// may not take one of these names.
pub const CALL_METHODS: &[&str] = &[
    "new",
    "map",
    "request",
    "into_request",
    "into_parts",
    "retry",
    "timeout",
];

/// Methods the emitter adds to the `Call` of a paged endpoint (`pagination:`).
pub const PAGED_CALL_METHODS: &[&str] = &["pages", "items"];

/// The constructor of every generated struct and request, and of every area handle: an optional
/// field's setter, or an endpoint's handle method, may not be named `new`.
pub const CONSTRUCTOR: &str = "new";

/// The field (and handle-method argument) an upload request carries its file in.
pub const UPLOAD_FIELD: &str = "file";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_follow_heck() {
        assert_eq!(snake("orderInDepts"), "order_in_depts");
        assert_eq!(snake("sub_dept_id_list"), "sub_dept_id_list");
        assert_eq!(snake("userId"), "user_id");
        assert_eq!(
            snake("managerUserId"),
            snake("managerUserid").replace("userid", "user_id")
        );
        assert_eq!(camel("user_detail"), "UserDetail");
        assert_eq!(camel("entry_asc"), "EntryAsc");
    }

    #[test]
    fn repairs_non_identifiers_and_leading_digits() {
        assert_eq!(snake("x-acs-token"), "x_acs_token");
        assert_eq!(snake("1st"), "n1st");
        assert_eq!(camel("100"), "N100");
        assert_eq!(snake("中文"), "unnamed");
        assert_eq!(snake("self"), "self_");
    }

    #[test]
    fn keywords_become_raw_identifiers() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("userid").to_string(), "userid");
    }

    #[test]
    fn recognises_canonical_forms() {
        assert!(is_snake("list_sub"));
        assert!(!is_snake("listSub"));
        assert!(is_camel("UserDetail"));
        assert!(!is_camel("user_detail"));
    }

    #[test]
    fn generated_names_follow_the_area_and_endpoint() {
        assert_eq!(handle_name("user"), "UserApi");
        assert_eq!(handle_name("cspace"), "CspaceApi");
        assert_eq!(request_name("user", "list_sub"), "UserListSubRequest");
        assert_eq!(response_name("user", "get"), "UserGetResponse");
    }

    #[test]
    fn reserved_type_names_say_why() {
        for name in [
            "Result",
            "Option",
            "Client",
            "ErrorCode",
            "Validate",
            "Stream",
        ] {
            assert!(reserved_type_name(name).is_some(), "{name}");
        }
        assert_eq!(
            reserved_type_name("String"),
            Some("a name of the Rust prelude, which the generated code uses unqualified")
        );
        assert_eq!(reserved_type_name("UserDetail"), None);
        // Case matters: these are Rust names.
        assert_eq!(reserved_type_name("result"), None);
    }

    #[test]
    fn reserved_names_are_listed_once_per_group_and_in_the_form_they_must_have() {
        for (why, names) in RESERVED_TYPE_NAMES {
            assert!(!why.contains("{name}"), "{why}");
            for (i, name) in names.iter().enumerate() {
                assert!(!names[..i].contains(name), "{name} listed twice");
                // `Self` is not UpperCamelCase to the checker (it is `Self_`) and fails there.
                assert!(is_camel(name) || *name == "Self", "{name}");
            }
        }
        for (_, names) in RESERVED_AREA_NAMES {
            for (i, name) in names.iter().enumerate() {
                assert!(!names[..i].contains(name), "{name} listed twice");
                // `crate`, `super` and `self` are not snake_case to the checker either.
                assert!(
                    is_snake(name) || NOT_RAW.contains(name),
                    "{name} is neither snake_case nor a path keyword"
                );
            }
        }
    }

    #[test]
    fn reserved_area_names_name_themselves() {
        assert_eq!(
            reserved_area_name("full").as_deref(),
            Some("every area is a cargo feature, and `full` already is one")
        );
        assert_eq!(
            reserved_area_name("prelude").as_deref(),
            Some("the generated crate already has a module `prelude`")
        );
        assert_eq!(
            reserved_area_name("rt").as_deref(),
            Some("the generated code writes paths starting with `rt::`")
        );
        // A real area: the errcode table's file.
        assert_eq!(reserved_area_name("errors"), None);
        assert_eq!(reserved_area_name("user"), None);
    }

    #[test]
    fn escapes_every_keyword_a_spec_name_can_become() {
        // Field and variant names go through `snake`/`camel`, which leave no bare keyword.
        for kw in KEYWORDS {
            assert_eq!(ident(&snake(kw)).to_string(), format!("r#{kw}"), "{kw}");
        }
        for kw in NOT_RAW {
            assert_eq!(snake(kw), format!("{}_", kw.to_lowercase()), "{kw}");
        }
        assert_eq!(camel("self"), "Self_");
    }
}
