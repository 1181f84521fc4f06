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
}
