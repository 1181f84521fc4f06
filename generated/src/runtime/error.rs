//! The crate's error type. Every variant names the endpoint, none carries a secret: URLs (which
//! hold the token) are stripped from transport errors, and body snippets are redacted.

use crate::runtime::request::{EndpointMeta, InvalidRequest};

/// Errcodes that mean "the access token is bad or expired": refresh it and retry once.
pub(crate) const TOKEN_INVALID_CODES: [i64; 4] = [40001, 40014, 42001, 33001];

/// Anything that can go wrong in a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// DingTalk answered with an errcode other than 0 (boxed: it is the largest variant).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// A non-2xx HTTP status.
    #[error("{endpoint}: HTTP {status}; body starts with: {snippet}")]
    Http {
        /// `area.endpoint` (or `gettoken` for the token call).
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
    #[error("{endpoint}: request failed: {source}")]
    Transport {
        /// `area.endpoint`.
        endpoint: String,
        /// The underlying error, with the URL (and so the token) removed.
        #[source]
        source: reqwest::Error,
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
    /// The client cannot make this call as configured (e.g. no credentials for its token).
    #[error("configuration: {0}")]
    Config(String),
}

impl Error {
    /// The API error, when DingTalk answered with an errcode.
    pub fn as_api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e.as_ref()),
            _ => None,
        }
    }

    /// The errcode, when DingTalk answered with one.
    pub fn code(&self) -> Option<i64> {
        self.as_api().map(|e| e.code)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Self {
        Error::Api(Box::new(e))
    }
}

/// DingTalk answered with an errcode other than 0.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// `area.endpoint`, e.g. `user.get`.
    pub endpoint: String,
    /// The errcode.
    pub code: i64,
    /// The errmsg.
    pub message: String,
    /// `sub_code`, sent with errcode 88 and on some `topapi` errors.
    pub sub: Option<String>,
    /// `sub_msg`.
    pub sub_msg: Option<String>,
    /// `request_id`, for DingTalk support.
    pub request_id: Option<String>,
}

impl ApiError {
    /// Whether the token was rejected (40001, 40014, 42001, 33001, or 88 with sub_code 40014):
    /// the runtime then refreshes it and retries once.
    pub fn is_token_invalid(&self) -> bool {
        TOKEN_INVALID_CODES.contains(&self.code)
            || (self.code == 88
                && self
                    .sub
                    .as_deref()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .is_some_and(|c| TOKEN_INVALID_CODES.contains(&c)))
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: errcode {}: {}",
            self.endpoint, self.code, self.message
        )?;
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
