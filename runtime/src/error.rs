//! The crate's error type. Every variant names the endpoint, none carries a secret: URLs (which
//! hold the token) are stripped from transport errors, and body snippets are redacted.

use crate::request::{EndpointMeta, InvalidRequest};

/// How to react to an error. Every errcode in the spec's error table has one (the generated
/// crate hands the table to the runtime in each endpoint's [`EndpointMeta::classify`]); so do
/// the HTTP and transport failures, so that callers and the runtime never match on numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The token was rejected or expired: refresh it and retry once.
    TokenInvalid,
    /// Throttled: back off before trying again.
    RateLimited,
    /// Throttled for minutes (a custom robot is blocked for 10 minutes after sending too
    /// fast): a retry within seconds fails again, so the client does not retry; pace the
    /// caller instead. Like [`RateLimited`](Self::RateLimited), the refused call was not
    /// processed.
    Suspended,
    /// DingTalk (or the network) is busy or failing for a moment: retry with backoff.
    Busy,
    /// The app lacks a permission, scope or whitelist entry: an admin has to act.
    Permission,
    /// The request is wrong: fix it, retrying will not help.
    InvalidArgument,
    /// What the request names does not exist.
    NotFound,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// A stable name, for logs, metrics and stores.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::TokenInvalid => "token_invalid",
            ErrorClass::RateLimited => "rate_limited",
            ErrorClass::Suspended => "suspended",
            ErrorClass::Busy => "busy",
            ErrorClass::Permission => "permission",
            ErrorClass::InvalidArgument => "invalid_argument",
            ErrorClass::NotFound => "not_found",
            ErrorClass::Other => "other",
        }
    }

    /// The class named `name` (by [`as_str`](Self::as_str)).
    pub fn from_name(name: &str) -> Option<ErrorClass> {
        [
            ErrorClass::TokenInvalid,
            ErrorClass::RateLimited,
            ErrorClass::Suspended,
            ErrorClass::Busy,
            ErrorClass::Permission,
            ErrorClass::InvalidArgument,
            ErrorClass::NotFound,
            ErrorClass::Other,
        ]
        .into_iter()
        .find(|c| c.as_str() == name)
    }
}

/// An error table: the class of a code. Generated from the spec's `errors:` and carried in
/// every [`EndpointMeta`].
pub type Classify = fn(&ApiCode) -> ErrorClass;

/// The table of a client that knows no code (every code is [`ErrorClass::Other`]).
pub fn unclassified(_code: &ApiCode) -> ErrorClass {
    ErrorClass::Other
}

/// What DingTalk calls the failure: a number on oapi.dingtalk.com, a dotted name on
/// api.dingtalk.com.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiCode {
    /// The `errcode` of the classic envelope (never 0).
    Errcode(i64),
    /// The `code` of a v1.0 error body (`InvalidAuthentication`,
    /// `Forbidden.AccessDenied.QpsLimitForApi`).
    Service(String),
}

impl std::fmt::Display for ApiCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiCode::Errcode(n) => write!(f, "errcode {n}"),
            ApiCode::Service(s) => write!(f, "code {s}"),
        }
    }
}

/// Anything that can go wrong in a call. Cloning is cheap enough to share one failure with
/// every caller that waited on it (a failed token refresh).
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// DingTalk refused the call: an errcode other than 0 (oapi), or an HTTP error status with a
    /// code (api.dingtalk.com). Boxed: it is the largest variant.
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A non-2xx HTTP status.
    #[error("{endpoint}: HTTP {status}; body starts with: {snippet}")]
    Http {
        /// `area.endpoint` (a token endpoint's, such as `auth.get_token`, for a token fetch).
        endpoint: String,
        /// HTTP status code.
        status: u16,
        /// The start of the body, without secrets.
        snippet: String,
    },
    /// The body was not the JSON the spec describes (an HTML error page, truncated JSON, ...).
    #[error("{endpoint}: cannot decode the response ({message}); body starts with: {snippet}")]
    Decode {
        /// `area.endpoint`.
        endpoint: String,
        /// What the decoder found wrong.
        message: String,
        /// The start of the body, without secrets.
        snippet: String,
    },
    /// The request never got an answer: connect error, timeout, reset.
    #[error("{endpoint}: request failed ({}): {message}", kind.as_str())]
    Transport {
        /// `area.endpoint`.
        endpoint: String,
        /// What failed.
        kind: TransportKind,
        /// The underlying error's text, without the URL (which holds the token).
        message: String,
    },
    /// The answer was longer than the client accepts
    /// ([`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)); the
    /// rest was not read.
    #[error("{endpoint}: the answer is longer than {limit} bytes; the rest was not read")]
    TooLarge {
        /// `area.endpoint`.
        endpoint: String,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The token the call needs could not be fetched, so the call itself was not sent. `source`
    /// is the token endpoint's failure, shared by every caller that waited on that fetch;
    /// [`code`](Error::code), [`class`](Error::class) and [`as_api`](Error::as_api) look through
    /// to it.
    #[error("no token, the call was not sent: {source}")]
    Token {
        /// The failure of the token request (already retried per the client's policy).
        source: Box<Error>,
    },
    /// The call waited longer than its deadline (its timeout plus its retry budget) for
    /// something other than its own request: a token refresh in flight, another instance's
    /// refresh lease, a call slot. It was not sent.
    #[error("{endpoint}: gave up after waiting {waited_ms} ms for {what}; the call was not sent")]
    Deadline {
        /// `area.endpoint`, or `runtime.token` while waiting for a token.
        endpoint: String,
        /// What it waited for.
        what: &'static str,
        /// How long it waited.
        waited_ms: u64,
    },
    /// The request breaks a documented limit; it was not sent.
    #[error("{endpoint}: {source}")]
    Invalid {
        /// `area.endpoint`.
        endpoint: String,
        /// Which limit.
        #[source]
        source: InvalidRequest,
    },
    /// A paged walk stopped: the next page's request repeats one already sent (the cursor
    /// cycles), or the walk reached the client's page cap
    /// ([`ClientBuilder::max_pages`](crate::ClientBuilder::max_pages)).
    #[error("{endpoint}: paging stopped after {pages} pages: {}", match reason {
        PagingStop::Cycle => "the next page's cursor was seen before (a cycle)",
        PagingStop::PageCap => "the client's page cap was reached",
    })]
    Paging {
        /// `area.endpoint`.
        endpoint: String,
        /// Pages received before the stop.
        pages: u64,
        /// Why.
        reason: PagingStop,
    },
    /// The shared token store failed (unreachable, or an unreadable answer).
    #[error("{0}")]
    Store(String),
    /// An ISV suite has no ticket yet: DingTalk pushes one (the `suite_ticket` event) about
    /// every 5 hours; pass it to [`Client::set_suite_ticket`](crate::Client::set_suite_ticket).
    #[error("suite `{suite_key}` has no suite ticket yet; DingTalk pushes one to the callback URL about every 5 hours: pass it to `Client::set_suite_ticket`")]
    MissingSuiteTicket {
        /// The suite key.
        suite_key: String,
    },
    /// The call needs the token of a user who has not signed in here (or whose refresh token
    /// expired): pass the user's login code to
    /// [`Client::sign_in_user`](crate::Client::sign_in_user).
    #[error("user `{user}` has not signed in (or the sign-in expired): pass a login code to `Client::sign_in_user`")]
    SignInRequired {
        /// The key the user's tokens are kept under.
        user: String,
    },
    /// The client cannot make this call as configured (e.g. no credentials for its token).
    #[error("configuration: {0}")]
    Config(String),
}

impl Error {
    /// The API error, when DingTalk answered with a code (the token endpoint's, for a
    /// [`Error::Token`]).
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e.as_ref()),
            Error::Token { source } => source.as_api(),
            _ => None,
        }
    }

    /// Whether the call failed because its token could not be fetched (the call was not sent).
    pub fn is_token_fetch(&self) -> bool {
        matches!(self, Error::Token { .. })
    }

    /// What failed in the transport, for [`Error::Transport`] (also behind an
    /// [`Error::Token`]).
    pub fn transport_kind(&self) -> Option<TransportKind> {
        match self {
            Error::Transport { kind, .. } => Some(*kind),
            Error::Token { source } => source.transport_kind(),
            _ => None,
        }
    }

    /// Whether DingTalk may have processed the call. `false` when the error proves it did not:
    /// the request was never sent (no token, a store or limiter failure, a limit check, the
    /// configuration, a deadline while waiting), no connection was made, or DingTalk refused
    /// it as throttled. A call that failed with `false` can be sent again even when it is not
    /// idempotent; the retry policy does so for transient classes.
    pub fn may_have_been_processed(&self) -> bool {
        match self {
            Error::Api(e) => !matches!(e.class(), ErrorClass::RateLimited | ErrorClass::Suspended),
            Error::Http { status, .. } => *status != 429,
            Error::Transport { kind, .. } => *kind != TransportKind::Connect,
            Error::Decode { .. } | Error::TooLarge { .. } => true,
            Error::Token { .. }
            | Error::Deadline { .. }
            | Error::Paging { .. }
            | Error::Store(_)
            | Error::Invalid { .. }
            | Error::MissingSuiteTicket { .. }
            | Error::SignInRequired { .. }
            | Error::Config(_) => false,
        }
    }

    /// A transport failure of `endpoint`, typed, with the URL (and so the token) removed.
    pub(crate) fn transport(endpoint: String, e: reqwest::Error) -> Error {
        let kind = if e.is_timeout() {
            TransportKind::Timeout
        } else if e.is_connect() {
            TransportKind::Connect
        } else if e.is_redirect() {
            TransportKind::Redirect
        } else if e.is_body() || e.is_request() || e.is_decode() {
            TransportKind::Broken
        } else {
            TransportKind::Other
        };
        let e = e.without_url();
        // The causes (an io error, a hyper error) say what happened; none carries the URL.
        let mut message = e.to_string();
        let mut cause = std::error::Error::source(&e);
        while let Some(c) = cause {
            message.push_str(": ");
            message.push_str(&c.to_string());
            cause = c.source();
        }
        Error::Transport {
            endpoint,
            kind,
            message,
        }
    }

    /// The errcode, when an oapi endpoint answered with one.
    pub fn code(&self) -> Option<i64> {
        self.as_api().and_then(ApiError::errcode)
    }

    /// The v1.0 error code (`InvalidAuthentication`), when an api.dingtalk.com endpoint
    /// answered with one.
    pub fn service_code(&self) -> Option<&str> {
        match &self.as_api()?.code {
            ApiCode::Service(s) => Some(s),
            ApiCode::Errcode(_) => None,
        }
    }

    /// How to react: the errcode's class for API errors; HTTP 429 is rate limiting, 5xx and
    /// transport failures are transient, a limit check is an invalid argument.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::Api(e) => e.class(),
            Error::Token { source } => source.class(),
            Error::Http { status: 429, .. } => ErrorClass::RateLimited,
            Error::Http { status, .. } if *status >= 500 => ErrorClass::Busy,
            Error::Http {
                status: 401 | 403, ..
            } => ErrorClass::Permission,
            Error::Http { status: 404, .. } => ErrorClass::NotFound,
            Error::Transport { .. } | Error::Store(_) | Error::Deadline { .. } => ErrorClass::Busy,
            Error::Invalid { .. } => ErrorClass::InvalidArgument,
            Error::Http { .. }
            | Error::Decode { .. }
            | Error::TooLarge { .. }
            | Error::Paging { .. }
            | Error::Config(_)
            | Error::SignInRequired { .. }
            | Error::MissingSuiteTicket { .. } => ErrorClass::Other,
        }
    }
}

/// Why a paged walk stopped with [`Error::Paging`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PagingStop {
    /// The next request repeats one already sent: the cursor cycles (A → B → A).
    Cycle,
    /// The walk reached the page cap.
    PageCap,
}

/// What failed in an [`Error::Transport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made (refused, unreachable, DNS, TLS): nothing was sent.
    Connect,
    /// The exchange took longer than the timeout.
    Timeout,
    /// The connection broke while the request was sent or the answer read (a reset).
    Broken,
    /// The server answered with a redirect; API calls follow none.
    Redirect,
    /// Anything else.
    Other,
}

impl TransportKind {
    /// A stable snake_case name, for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Broken => "broken",
            TransportKind::Redirect => "redirect",
            TransportKind::Other => "other",
        }
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

/// DingTalk refused the call: one type for both hosts' error models.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// `area.endpoint`, e.g. `user.get`.
    pub endpoint: String,
    /// The errcode (oapi) or the v1.0 `code`.
    pub code: ApiCode,
    /// The `errmsg` or `message`.
    pub message: String,
    /// `sub_code`, sent with errcode 88 and on some `topapi` errors.
    pub sub: Option<String>,
    /// `sub_msg`.
    pub sub_msg: Option<String>,
    /// `request_id` (oapi) or `requestid` / `x-acs-request-id` (v1.0), for DingTalk support.
    pub request_id: Option<String>,
    /// The HTTP status of a v1.0 error (oapi errors arrive with 200: `None`).
    pub status: Option<u16>,
    /// How to react, from the spec's error table (see [`ApiError::class`]).
    pub class: ErrorClass,
}

impl ApiError {
    /// An oapi error: errcode `code` with its `errmsg`.
    pub fn errcode(&self) -> Option<i64> {
        match self.code {
            ApiCode::Errcode(n) => Some(n),
            ApiCode::Service(_) => None,
        }
    }

    /// The code that says what went wrong: for errcode 88 (a gateway wrapper) the numeric
    /// `sub_code` when there is one, since that is the real cause; otherwise the code.
    pub fn effective_code(&self) -> ApiCode {
        let sub = self
            .sub
            .as_deref()
            .and_then(|s| s.trim().parse::<i64>().ok());
        match (&self.code, sub) {
            (ApiCode::Errcode(88), Some(sub)) => ApiCode::Errcode(sub),
            (code, _) => code.clone(),
        }
    }

    /// This error with its class looked up in `table`. A v1.0 code the table does not know
    /// takes the class of its HTTP status (429 throttled, 5xx busy).
    pub fn classified(mut self, table: Classify) -> Self {
        self.class = match (table(&self.effective_code()), self.status) {
            (ErrorClass::Other, Some(429)) => ErrorClass::RateLimited,
            (ErrorClass::Other, Some(s)) if s >= 500 => ErrorClass::Busy,
            (class, _) => class,
        };
        self
    }

    /// How to react: the class the spec's error table gives [`effective_code`](Self::effective_code).
    pub fn class(&self) -> ErrorClass {
        self.class
    }

    /// Whether the token was rejected (e.g. 40001, 40014, 42001, 33001, or 88 with sub_code
    /// 40014): the runtime then refreshes it and retries once.
    pub fn is_token_invalid(&self) -> bool {
        self.class == ErrorClass::TokenInvalid
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            Some(status) => write!(
                f,
                "{}: HTTP {status}, {}: {}",
                self.endpoint, self.code, self.message
            )?,
            None => write!(f, "{}: {}: {}", self.endpoint, self.code, self.message)?,
        }
        if let Some(sub) = &self.sub {
            write!(
                f,
                " (sub_code {sub}: {})",
                self.sub_msg.as_deref().unwrap_or("")
            )?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request_id {id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// `area.endpoint` for messages.
pub(crate) fn endpoint_name(meta: &EndpointMeta) -> String {
    format!("{}.{}", meta.area, meta.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: i64, sub: Option<&str>, class: ErrorClass) -> ApiError {
        ApiError {
            endpoint: "user.get".into(),
            code: ApiCode::Errcode(code),
            message: String::new(),
            sub: sub.map(str::to_string),
            sub_msg: None,
            request_id: None,
            status: None,
            class,
        }
    }

    #[test]
    fn errcode_88_means_its_numeric_sub_code() {
        let effective = |code, sub| api(code, sub, ErrorClass::Other).effective_code();
        assert_eq!(effective(88, Some("40014")), ApiCode::Errcode(40014));
        assert_eq!(effective(88, Some(" 60011 ")), ApiCode::Errcode(60011));
        assert_eq!(
            effective(88, Some("isv.not-a-number")),
            ApiCode::Errcode(88)
        );
        assert_eq!(effective(88, None), ApiCode::Errcode(88));
        assert_eq!(effective(40014, Some("1")), ApiCode::Errcode(40014));
    }

    #[test]
    fn a_v1_code_the_table_does_not_know_takes_its_status_class() {
        let v1 = |status| {
            ApiError {
                code: ApiCode::Service("Something.New".into()),
                status: Some(status),
                ..api(0, None, ErrorClass::Other)
            }
            .classified(unclassified)
            .class()
        };
        assert_eq!(v1(503), ErrorClass::Busy);
        assert_eq!(v1(429), ErrorClass::RateLimited);
        assert_eq!(v1(400), ErrorClass::Other);
        let known = ApiError {
            code: ApiCode::Service("InvalidAuthentication".into()),
            status: Some(400),
            ..api(0, None, ErrorClass::Other)
        }
        .classified(|c| match c {
            ApiCode::Service(s) if s == "InvalidAuthentication" => ErrorClass::TokenInvalid,
            _ => ErrorClass::Other,
        });
        assert!(known.is_token_invalid());
        assert_eq!(
            known.to_string(),
            "user.get: HTTP 400, code InvalidAuthentication: "
        );
    }

    #[test]
    fn http_and_local_failures_have_classes_too() {
        let http = |status| Error::Http {
            endpoint: "x".into(),
            status,
            snippet: String::new(),
        };
        assert_eq!(http(503).class(), ErrorClass::Busy);
        assert_eq!(http(429).class(), ErrorClass::RateLimited);
        assert_eq!(http(400).class(), ErrorClass::Other);
        assert_eq!(Error::Config("x".into()).class(), ErrorClass::Other);
        let denied = Error::from(api(60011, None, ErrorClass::Permission));
        assert_eq!(denied.class(), ErrorClass::Permission);
        assert!(api(40014, None, ErrorClass::TokenInvalid).is_token_invalid());
        assert_eq!(unclassified(&ApiCode::Errcode(-1)), ErrorClass::Other);
    }
}
