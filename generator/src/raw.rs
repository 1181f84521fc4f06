//! The spec as written: one struct per YAML construct, deserialized item by item so that one bad
//! endpoint does not hide the problems of the next. Nothing here is checked beyond its shape;
//! [`crate::model`] resolves and validates.

use serde::Deserialize;
use serde_yaml::Value;

/// The top level of a spec file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub version: Option<u32>,
    pub area: Option<String>,
    /// The host of the file's endpoints: `oapi` (default) or `api`.
    pub host: Option<String>,
    pub doc: Option<String>,
    /// The rate-limit class of the area's endpoints, unless one says otherwise.
    pub rate_limit: Option<String>,
    #[serde(default)]
    pub types: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub endpoints: Option<serde_yaml::Mapping>,
    #[serde(default)]
    pub errors: Option<Vec<Value>>,
}

/// One row of an `errors:` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawErrorCode {
    /// An errcode (a number) or a v1.0 code (a string).
    pub code: Value,
    pub name: String,
    pub class: String,
    pub doc: Option<String>,
}

/// A named type: a struct (`fields`) or an enum (`enum` + `values`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawType {
    pub doc: Option<String>,
    pub fields: Option<serde_yaml::Mapping>,
    #[serde(rename = "enum")]
    pub enum_kind: Option<String>,
    pub values: Option<Vec<Value>>,
    pub union: Option<RawUnion>,
    pub variants: Option<Vec<Value>>,
    /// One complete value of the type (a push payload, a callback answer), as JSON text or YAML.
    pub example: Option<Value>,
    /// The app builds and sends values of this type itself, outside any endpoint (the answer to
    /// a callback, carried in a Stream ACK): it gets a constructor and setters like a param's.
    pub sent: Option<bool>,
}

/// `union:` of a tagged union: the key holding the tag and where each variant's fields sit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUnion {
    pub tag: String,
    pub content: Option<String>,
    /// `content: json_text`: the key whose string value holds the variant's fields as JSON text.
    pub at: Option<String>,
    /// The union of callback events: it implements the runtime's `CallbackEvent`.
    pub event: Option<bool>,
}

/// One variant of a tagged union.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub tag: String,
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub doc: Option<String>,
    /// In an event union: the string field whose value is the push's answer (else `success`).
    pub reply: Option<String>,
}

/// One enum value.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEnumValue {
    pub value: Value,
    pub name: Option<String>,
    pub doc: Option<String>,
}

/// A param or a struct field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawField {
    #[serde(rename = "type")]
    pub ty: Option<String>,
    #[serde(default)]
    pub required: bool,
    pub doc: Option<String>,
    pub example: Option<Value>,
    pub encoding: Option<String>,
    #[serde(default)]
    pub sensitive: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub max_len: Option<u64>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    #[serde(default)]
    pub flatten: bool,
    /// Body params only: the value is the whole JSON body.
    #[serde(default)]
    pub whole_body: bool,
    /// Headers only: an idempotency key, generated per call when unset.
    #[serde(default)]
    pub idempotency_key: bool,
}

/// An endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    pub summary: Option<String>,
    pub doc: Option<String>,
    pub method: Option<String>,
    /// Overrides the file's `host:`.
    pub host: Option<String>,
    pub path: Option<String>,
    pub auth: Option<String>,
    pub path_params: Option<serde_yaml::Mapping>,
    pub query: Option<serde_yaml::Mapping>,
    pub body: Option<serde_yaml::Mapping>,
    /// Extra request headers, keyed by header name.
    pub headers: Option<serde_yaml::Mapping>,
    pub response: Option<Value>,
    pub deprecated: Option<String>,
    /// The endpoint's public docs page (`https://open.dingtalk.com/...`).
    pub docs_url: Option<String>,
    pub idempotent: Option<bool>,
    pub pagination: Option<RawPagination>,
    pub upload: Option<String>,
    pub rate_limit: Option<String>,
    pub constraints: Option<Vec<RawConstraint>>,
    pub example: Option<Value>,
    /// A token endpoint: the token it issues and where its params come from (one form, or a
    /// list of forms).
    pub issues: Option<OneOrMany<RawIssues>>,
}

/// One item, or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A list.
    Many(Vec<T>),
    /// One.
    One(T),
}

impl<T> OneOrMany<T> {
    /// The items.
    pub fn items(&self) -> &[T] {
        match self {
            OneOrMany::Many(v) => v,
            OneOrMany::One(t) => std::slice::from_ref(t),
        }
    }
}

/// `issues:` of a token endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIssues {
    pub token: String,
    /// Param wire name → a credential's name, or `{value: text}`.
    #[serde(default)]
    pub from: serde_yaml::Mapping,
    #[serde(default)]
    pub answer: RawTokenAnswer,
    #[serde(default)]
    pub stale_ticket: Vec<Value>,
}

/// `answer:` of `issues:`: the answer fields that hold the token and what comes with it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokenAnswer {
    pub token: Option<String>,
    pub expires_in: Option<String>,
    pub refresh_token: Option<String>,
    pub corp_id: Option<String>,
}

/// One entry of `constraints:`: a rule between params.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConstraint {
    /// `[from, to]`: two time params, `to` at most `max_days` after `from`.
    pub span: Vec<String>,
    pub max_days: u32,
    /// Only the calendar days count (the endpoint ignores the time of day).
    #[serde(default)]
    pub whole_days: bool,
}

/// `pagination:` of a paged endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPagination {
    pub cursor: String,
    pub next: Option<String>,
    pub step: Option<String>,
    pub has_more: Option<String>,
    pub items: String,
}

/// The `response:` of an endpoint, unless it is the word `none`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawResponse {
    pub at: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<String>,
    pub fields: Option<serde_yaml::Mapping>,
}
