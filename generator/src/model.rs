//! The validated model the emitter works from: every name resolved to its Rust form, every type
//! reference checked, in spec order. Built by [`crate::check`].

use std::collections::BTreeMap;

use crate::diag::Loc;

/// The whole spec.
#[derive(Debug)]
pub struct Spec {
    /// The areas, sorted by name.
    pub areas: Vec<Area>,
    /// Every named type (declared, or synthesized for inline responses), by Rust name.
    pub types: BTreeMap<String, TypeDef>,
}

/// One spec file: one module and one client handle.
#[derive(Debug)]
pub struct Area {
    /// snake_case module and handle name.
    pub name: String,
    /// The spec file as shown to users (`spec/user.yaml`).
    pub file: String,
    /// Module docs.
    pub doc: String,
    /// Endpoints in spec order.
    pub endpoints: Vec<Endpoint>,
    /// Names of the types emitted into this area's module, in spec order.
    pub types: Vec<String>,
    /// DingTalk error codes declared in this file (`errors:`), in spec order.
    pub errors: Vec<ErrorCodeDef>,
}

/// One DingTalk error code.
#[derive(Debug)]
pub struct ErrorCodeDef {
    /// The code.
    pub code: Code,
    /// UpperCamelCase variant name.
    pub variant: String,
    /// How callers and the runtime should react.
    pub class: ErrorClass,
    /// What the code means.
    pub doc: String,
}

/// A code of the error table: an oapi errcode or a v1.0 string code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Code {
    /// `code: 40014`.
    Errcode(i64),
    /// `code: InvalidAuthentication`.
    Service(String),
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Code::Errcode(n) => write!(f, "errcode {n}"),
            Code::Service(s) => write!(f, "code `{s}`"),
        }
    }
}

/// The error classes the runtime knows (its `ErrorClass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `token_invalid`
    TokenInvalid,
    /// `rate_limited`
    RateLimited,
    /// `suspended`
    Suspended,
    /// `busy`
    Busy,
    /// `permission`
    Permission,
    /// `invalid_argument`
    InvalidArgument,
    /// `not_found`
    NotFound,
    /// `other`
    Other,
}

impl ErrorClass {
    /// The runtime's variant name.
    pub fn variant(self) -> &'static str {
        match self {
            ErrorClass::TokenInvalid => "TokenInvalid",
            ErrorClass::RateLimited => "RateLimited",
            ErrorClass::Suspended => "Suspended",
            ErrorClass::Busy => "Busy",
            ErrorClass::Permission => "Permission",
            ErrorClass::InvalidArgument => "InvalidArgument",
            ErrorClass::NotFound => "NotFound",
            ErrorClass::Other => "Other",
        }
    }
}

/// The error classes and their spec spellings.
pub const ERROR_CLASSES: [(&str, ErrorClass); 8] = [
    ("token_invalid", ErrorClass::TokenInvalid),
    ("rate_limited", ErrorClass::RateLimited),
    ("suspended", ErrorClass::Suspended),
    ("busy", ErrorClass::Busy),
    ("permission", ErrorClass::Permission),
    ("invalid_argument", ErrorClass::InvalidArgument),
    ("not_found", ErrorClass::NotFound),
    ("other", ErrorClass::Other),
];

/// The tokens a token endpoint can issue (the runtime's `grant::TokenKind`), by spec spelling
/// and variant name.
pub const TOKEN_KINDS: [(&str, &str); 8] = [
    ("app", "App"),
    ("sso", "Sso"),
    ("sns_app", "SnsApp"),
    ("suite", "Suite"),
    ("corp", "Corp"),
    ("user_sign_in", "UserSignIn"),
    ("user_refresh", "UserRefresh"),
    ("suite_ticket_push", "SuiteTicketPush"),
];

/// The credentials a token endpoint's params are filled from (the runtime's
/// `grant::Credential`), by spec spelling and variant name.
pub const CREDENTIALS: [(&str, &str); 18] = [
    ("app_key", "AppKey"),
    ("app_secret", "AppSecret"),
    ("corp_id", "CorpId"),
    ("corp_secret", "CorpSecret"),
    ("sso_corp_id", "SsoCorpId"),
    ("sso_secret", "SsoSecret"),
    ("sns_app_id", "SnsAppId"),
    ("sns_app_secret", "SnsAppSecret"),
    ("suite_key", "SuiteKey"),
    ("suite_secret", "SuiteSecret"),
    ("suite_ticket", "SuiteTicket"),
    ("suite_id", "SuiteId"),
    ("auth_corp_id", "AuthCorpId"),
    ("permanent_code", "PermanentCode"),
    ("client_id", "ClientId"),
    ("client_secret", "ClientSecret"),
    ("login_code", "LoginCode"),
    ("refresh_token", "RefreshToken"),
];

/// One entry of [`TOKEN_KINDS`] or [`CREDENTIALS`]: only the checker makes them, from the
/// tables, so an emitted variant always exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vocab {
    /// The spec's spelling.
    pub name: &'static str,
    /// The runtime's variant.
    pub variant: &'static str,
}

impl Vocab {
    /// The entry of `table` spelled `name`.
    pub fn find(table: &[(&'static str, &'static str)], name: &str) -> Option<Vocab> {
        table
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(name, variant)| Vocab { name, variant })
    }
}

/// What fills a token endpoint's param.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A credential of the client.
    Credential(Vocab),
    /// A fixed text.
    Value(String),
}

/// `issues:` of a token endpoint: the client fetches the token it names by calling it.
#[derive(Debug, Clone)]
pub struct Issues {
    /// Which token (an entry of [`TOKEN_KINDS`]).
    pub kind: Vocab,
    /// Param wire name, whether it is a body param, and what fills it.
    pub params: Vec<(String, bool, TokenSource)>,
    /// Answer fields: the token, its lifetime, the next refresh token, the user's organisation.
    pub token: Option<String>,
    /// See `token`.
    pub expires_in: Option<String>,
    /// See `token`.
    pub refresh_token: Option<String>,
    /// See `token`.
    pub corp_id: Option<String>,
    /// Codes meaning the suite ticket sent was stale, as text (`40078`, `invalidSuiteTicket`).
    pub stale_ticket: Vec<String>,
}

impl Area {
    /// The UpperCamelCase form of the area name, used as a prefix of generated type names.
    pub fn camel(&self) -> String {
        crate::naming::camel(&self.name)
    }

    /// Whether the area has a module (and a cargo feature): it declares types or endpoints. A
    /// file of errcodes only feeds the crate-wide `ErrorCode`.
    pub fn has_module(&self) -> bool {
        !self.types.is_empty() || !self.endpoints.is_empty()
    }
}

/// A named struct or enum.
#[derive(Debug)]
pub struct TypeDef {
    /// Rust (and spec) name.
    pub name: String,
    /// Area whose module holds the type.
    pub area: String,
    /// Type docs.
    pub doc: String,
    /// Struct fields or enum values.
    pub kind: TypeKind,
    /// Where it is declared.
    pub loc: Loc,
    /// Whether a request can carry it (a param's type, or inside one, or a type declared
    /// `sent: true`): only then does it get a constructor, setters and limit checks.
    pub sent: bool,
    /// One complete value of the type (`example:`), shown in its docs.
    pub example: Option<serde_json::Value>,
}

/// What a named type is.
#[derive(Debug)]
pub enum TypeKind {
    /// A JSON object.
    Struct(Vec<Field>),
    /// A closed list of values plus a catch-all.
    Enum(EnumDef),
    /// A JSON object tagged by one key, plus a catch-all for unknown tags.
    Union(UnionDef),
}

/// A tagged union: `{"msgtype": "text", "text": {...}}` or `{"EventType": "x", ...fields}`.
#[derive(Debug)]
pub struct UnionDef {
    /// The key that holds the tag (`msgtype`, `EventType`).
    pub tag_key: String,
    /// Where a variant's fields sit.
    pub content: UnionContent,
    /// Known variants.
    pub variants: Vec<UnionVariant>,
    /// Whether this is the union of callback events (`event: true`).
    pub event: bool,
}

/// Where the fields of a union's variant sit.
#[derive(Debug, Clone, PartialEq)]
pub enum UnionContent {
    /// Next to the tag (`content: inline`): `{"EventType": "x", ...fields}`.
    Inline,
    /// Under a key named after the tag (`content: by_tag`): `{"msgtype": "text", "text": {...}}`.
    ByTag,
    /// As JSON text under one fixed key (`content: json_text, at: msgParam`):
    /// `{"msgKey": "sampleText", "msgParam": "{\"content\":\"hi\"}"}`.
    JsonTextAt(String),
}

/// One variant of a tagged union.
#[derive(Debug)]
pub struct UnionVariant {
    /// The tag value.
    pub tag: String,
    /// UpperCamelCase variant name.
    pub variant: String,
    /// The struct holding the variant's fields.
    pub ty: String,
    /// Variant docs.
    pub doc: String,
    /// In an event union: the wire name of the string field whose value answers the push.
    pub reply: Option<String>,
    /// Where the variant is declared.
    pub loc: Loc,
}

/// A string- or integer-valued enum.
#[derive(Debug)]
pub struct EnumDef {
    /// `true` for `enum: integer`.
    pub integer: bool,
    /// The known values.
    pub values: Vec<EnumValue>,
}

/// One known enum value.
#[derive(Debug)]
pub struct EnumValue {
    /// The value on the wire.
    pub wire: EnumWire,
    /// UpperCamelCase variant name.
    pub variant: String,
    /// Variant docs.
    pub doc: String,
}

/// An enum value as DingTalk sends it.
#[derive(Debug, Clone, PartialEq)]
pub enum EnumWire {
    /// `enum: string`.
    Str(String),
    /// `enum: integer`.
    Int(i64),
}

/// A request param or a struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Name on the wire.
    pub wire: String,
    /// snake_case Rust name.
    pub rust: String,
    /// Value type.
    pub ty: Ty,
    /// Always sent (request) or always present (response).
    pub required: bool,
    /// Field docs.
    pub doc: String,
    /// Example value (request params), as JSON.
    pub example: Option<serde_json::Value>,
    /// Non-JSON wire form.
    pub encoding: Option<Encoding>,
    /// Redacted in `Debug`.
    pub sensitive: bool,
    /// Other wire names accepted when decoding.
    pub aliases: Vec<String>,
    /// Most characters (strings) or items (lists) DingTalk accepts.
    pub max_len: Option<u64>,
    /// Smallest value DingTalk accepts (numbers).
    pub min: Option<i64>,
    /// Largest value DingTalk accepts (numbers).
    pub max: Option<i64>,
    /// Body params only: the value's keys sit next to the other body params instead of under
    /// the param's name (a message whose `msgtype` and content are top-level body keys).
    pub flatten: bool,
    /// Body params only: the value is the whole JSON body (a bare array), not a key of it.
    pub whole_body: bool,
    /// Headers only: an idempotency key, generated per call when unset.
    pub idempotency_key: bool,
    /// Where it is declared.
    pub loc: Loc,
}

impl Field {
    /// Whether the Rust field is `Option<T>` (optional and not a collection).
    pub fn is_option(&self) -> bool {
        !self.required && !self.ty.is_collection()
    }
}

/// A value type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// `string`.
    String,
    /// `i64`.
    I64,
    /// `f64`.
    F64,
    /// `bool`.
    Bool,
    /// `json`: any JSON value.
    Json,
    /// `[T]`.
    List(Box<Ty>),
    /// `map<K, V>`; the key is a string or an i64.
    Map(MapKey, Box<Ty>),
    /// A named struct or enum.
    Named(String),
}

impl Ty {
    /// Lists and maps: empty rather than `None` when absent.
    pub fn is_collection(&self) -> bool {
        matches!(self, Ty::List(_) | Ty::Map(..))
    }
}

/// Key type of a `map<K, V>`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MapKey {
    /// String keys.
    String,
    /// Integer keys (JSON object keys that are numbers).
    I64,
}

/// Non-JSON wire forms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Encoding {
    /// `"a,b,c"`.
    Comma,
    /// `"a|b|c"`.
    Pipe,
    /// JSON text inside a string.
    JsonText,
    /// `"{1:1}"` map text.
    LooseMap,
}

/// HTTP method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// GET: params in the path and query string.
    Get,
    /// POST: JSON body.
    Post,
    /// PUT: JSON body.
    Put,
    /// DELETE: no body unless body params are declared.
    Delete,
    /// PATCH: JSON body.
    Patch,
}

impl Method {
    /// The spec and HTTP spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
        }
    }

    /// Every method, for parsing and messages.
    pub const ALL: [Method; 5] = [
        Method::Get,
        Method::Post,
        Method::Put,
        Method::Delete,
        Method::Patch,
    ];
}

/// The DingTalk host an endpoint lives on (`host:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `oapi`: oapi.dingtalk.com, the errcode envelope, the token in the query.
    Oapi,
    /// `api`: api.dingtalk.com, the payload as the body, HTTP-status errors, the token in a
    /// header.
    Api,
}

/// How a call is authorized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Auth {
    /// No token (token-issuing calls).
    None,
    /// The app's access token as `?access_token=`.
    AccessToken,
    /// The SSO token as `?access_token=`.
    SsoToken,
    /// The SNS login app's token (`/sns/gettoken`) as `?access_token=`.
    SnsAppToken,
    /// A signed-in user's token, in the header (api.dingtalk.com).
    UserToken,
    /// A signed query: `accessKey`, `timestamp` and the HMAC-SHA256 `signature`.
    Signed,
    /// An ISV suite's access token (`/service/get_suite_token`) as `?suite_access_token=`.
    SuiteToken,
    /// An ISV suite's signed query: `accessKey`, `timestamp`, `suiteTicket` and the
    /// HMAC-SHA256 `signature` of `timestamp + "\n" + suiteTicket`.
    SuiteSigned,
}

/// The rate limits DingTalk publishes for an endpoint (`rate_limit:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Token, identity and contacts APIs: outside the monthly quota.
    Basic,
    /// Counted in the standard edition's monthly quota.
    Metered,
    /// Work notifications: metered, with delivery caps.
    WorkNotice,
}

/// A rule between params of one endpoint (`constraints:`).
#[derive(Debug, Clone)]
pub enum Constraint {
    /// `to` lies between `from` and `max_days` days after it.
    Span {
        /// The earlier param.
        from: Field,
        /// The later param.
        to: Field,
        /// The longest span, in days.
        max_days: u32,
        /// Only calendar days count.
        whole_days: bool,
    },
}

/// One endpoint.
#[derive(Debug)]
pub struct Endpoint {
    /// snake_case name (the handle method).
    pub name: String,
    /// Request type name.
    pub request_type: String,
    /// One-line summary.
    pub summary: String,
    /// Longer docs.
    pub doc: String,
    /// The host it lives on.
    pub host: Host,
    /// HTTP method.
    pub method: Method,
    /// Path, possibly with `{name}` placeholders.
    pub path: String,
    /// Authorization.
    pub auth: Auth,
    /// Params substituted into the path.
    pub path_params: Vec<Field>,
    /// Query-string params.
    pub query: Vec<Field>,
    /// JSON body fields.
    pub body: Vec<Field>,
    /// Extra request headers (the wire name is the header name).
    pub headers: Vec<Header>,
    /// Where the payload is and what it decodes into.
    pub response: Response,
    /// The example response body.
    pub example: serde_json::Value,
    /// Replacement or reason, for legacy endpoints.
    pub deprecated: Option<String>,
    /// The public docs page.
    pub docs_url: Option<String>,
    /// The spec file that declares it (`spec/user.yaml`).
    pub file: String,
    /// Safe to repeat after a lost response.
    pub idempotent: bool,
    /// How to walk every page, for paged endpoints.
    pub pagination: Option<Pagination>,
    /// For `multipart/form-data` uploads: the name of the part that carries the file.
    pub upload: Option<String>,
    /// The published rate-limit class.
    pub rate_class: RateClass,
    /// Rules between params, checked before sending.
    pub constraints: Vec<Constraint>,
    /// For token endpoints: each token it issues and how the client fills its params.
    pub issues: Vec<Issues>,
    /// Where it is declared.
    pub loc: Loc,
}

impl Endpoint {
    /// Every request param: path, query, body, then headers.
    pub fn params(&self) -> impl Iterator<Item = &Field> {
        self.path_params
            .iter()
            .chain(&self.query)
            .chain(&self.body)
            .chain(self.headers.iter().map(|h| &h.field))
    }

    /// Whether the request carries a JSON body.
    pub fn json_body(&self) -> bool {
        match self.method {
            Method::Get => false,
            Method::Delete => !self.body.is_empty(),
            Method::Post | Method::Put | Method::Patch => true,
        }
    }
}

/// An extra request header.
#[derive(Debug, Clone)]
pub struct Header {
    /// The header as a param: its wire name is the header name.
    pub field: Field,
    /// An idempotency key (`x-client-token`): when the caller sets none, a fresh random one is
    /// sent, the same for every retry of one call.
    pub idempotency_key: bool,
}

/// How a paged endpoint moves from one page to the next. All names are Rust field names.
#[derive(Debug, Clone)]
pub struct Pagination {
    /// The request param holding the position (cursor, offset or page number).
    pub cursor: Field,
    /// Cursor style: the response field with the next position.
    pub next: Option<Field>,
    /// Offset style: the request param whose value is added to the offset.
    pub step: Option<Field>,
    /// The response field saying whether more pages follow.
    pub has_more: Option<Field>,
    /// The response field holding the page's items.
    pub items: Field,
}

/// The decoded payload of a successful call.
#[derive(Debug)]
pub struct Response {
    /// Key the payload sits under; `None` for the top level.
    pub at: Option<String>,
    /// What the answer carries.
    pub body: ResponseBody,
}

/// What an endpoint's answer carries.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// Only the envelope, or no body at all (`response: none`).
    Nothing,
    /// A payload of this type.
    Payload(Ty),
    /// The file itself (a download, `response: binary`), not JSON; errors still arrive as JSON.
    File,
}

impl Response {
    /// The payload's type, when there is one.
    pub fn ty(&self) -> Option<&Ty> {
        match &self.body {
            ResponseBody::Payload(ty) => Some(ty),
            ResponseBody::Nothing | ResponseBody::File => None,
        }
    }

    /// Whether the answer is a file.
    pub fn is_file(&self) -> bool {
        self.body == ResponseBody::File
    }
}
