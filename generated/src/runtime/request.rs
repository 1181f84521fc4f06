//! What generated code describes: an endpoint's fixed metadata, how its request fills the query
//! string and body, and the limit checks that run before anything is sent.

use std::borrow::Cow;

use crate::runtime::wire::{Scalar, Wire};

/// HTTP method of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Every param in the query string.
    Get,
    /// JSON body.
    Post,
}

/// How an endpoint is authorized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No token (token-issuing calls).
    None,
    /// The app's access token, as `?access_token=`.
    AccessToken,
    /// The SSO token from `/sso/gettoken`, as `?access_token=`.
    SsoToken,
    /// The SNS login app's token from `/sns/gettoken`, as `?access_token=`.
    SnsAppToken,
    /// A signed query: `accessKey`, `timestamp` (ms) and `signature` =
    /// Base64(HMAC-SHA256(app secret, timestamp)).
    Signed,
    /// An ISV suite's token from `/service/get_suite_token`, as `?suite_access_token=`.
    SuiteToken,
    /// A query signed with the suite secret: `accessKey` (suite key), `timestamp` (ms),
    /// `suiteTicket` and `signature` = Base64(HMAC-SHA256(suite secret, timestamp + "\n" +
    /// suiteTicket)).
    SuiteSigned,
}

/// The fixed facts about an endpoint, from the spec.
#[derive(Clone, Copy, Debug)]
pub struct EndpointMeta {
    /// Spec area (module and handle).
    pub area: &'static str,
    /// Endpoint name within the area.
    pub name: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path template.
    pub path: &'static str,
    /// Authorization.
    pub auth: Auth,
    /// Key the payload sits under, or `None` for the top level.
    pub payload_at: Option<&'static str>,
    /// Whether a repeat after a lost response is harmless.
    pub idempotent: bool,
    /// Whether the answer is a file (a download) rather than JSON.
    pub binary: bool,
}

/// A request to one endpoint: generated for every endpoint in the spec.
pub trait Endpoint: serde::Serialize + Send + Sync {
    /// The decoded payload of a successful call.
    type Response: Wire + Send + 'static;
    /// The endpoint's fixed facts.
    const META: EndpointMeta;

    /// Adds the query params (not the token).
    fn query(&self, q: &mut Query);

    /// The path with any placeholders filled in.
    fn path(&self) -> Cow<'static, str> {
        Cow::Borrowed(Self::META.path)
    }

    /// For downloads (`response: binary`): the response built from the file.
    fn from_download(download: crate::Download) -> Option<Self::Response> {
        let _ = download;
        None
    }

    /// For uploads: the multipart part name and the file. The request is then sent as
    /// `multipart/form-data` instead of JSON.
    fn upload(&self) -> Option<(&'static str, &crate::UploadFile)> {
        None
    }

    /// Checks documented limits before sending.
    fn validate(&self) -> Result<(), InvalidRequest> {
        Ok(())
    }
}

/// Query-string params, in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct Query {
    pairs: Vec<(&'static str, String)>,
}

impl Query {
    /// Adds a scalar param.
    pub fn push<T: Scalar>(&mut self, name: &'static str, value: &T) {
        self.pairs.push((name, value.to_text().into_owned()));
    }

    /// Adds a param already in its wire text.
    pub fn push_text(&mut self, name: &'static str, value: String) {
        self.pairs.push((name, value));
    }

    /// The params.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.pairs
    }
}

/// A request that breaks a documented limit.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRequest {
    /// A number lies outside the accepted range.
    #[error("`{field}` is {value}; it must lie in {}..={}", min.map_or("".into(), |m| m.to_string()), max.map_or("".into(), |m| m.to_string()))]
    OutOfRange {
        /// Wire name of the param.
        field: &'static str,
        /// Its value.
        value: f64,
        /// The smallest accepted value.
        min: Option<f64>,
        /// The largest accepted value.
        max: Option<f64>,
    },
    /// The file of an upload cannot be sent as given (e.g. an unparsable content type).
    #[error("the file cannot be sent: {message}")]
    BadFile {
        /// What is wrong.
        message: String,
    },
    /// A string or list is longer than DingTalk accepts.
    #[error("`{field}` has {len} characters or items; at most {max} are allowed")]
    TooLong {
        /// Wire name of the param.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: u64,
    },
}

/// Limit checks of a value that may be sent: generated for every spec type; containers check
/// their items.
pub trait Validate {
    /// Checks the documented limits of this value and everything inside it.
    fn validate(&self) -> Result<(), InvalidRequest> {
        Ok(())
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self) -> Result<(), InvalidRequest> {
        self.as_ref().map_or(Ok(()), Validate::validate)
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self) -> Result<(), InvalidRequest> {
        self.iter().try_for_each(Validate::validate)
    }
}

impl<K, V: Validate> Validate for std::collections::BTreeMap<K, V> {
    fn validate(&self) -> Result<(), InvalidRequest> {
        self.values().try_for_each(Validate::validate)
    }
}

/// Generated range check: fails when `value` lies outside `min..=max`.
pub fn check_range(
    field: &'static str,
    value: f64,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<(), InvalidRequest> {
    if min.is_some_and(|m| value < m) || max.is_some_and(|m| value > m) {
        Err(InvalidRequest::OutOfRange {
            field,
            value,
            min,
            max,
        })
    } else {
        Ok(())
    }
}

/// Generated limit check: fails when `len` exceeds `max`.
pub fn check_max_len(field: &'static str, len: usize, max: u64) -> Result<(), InvalidRequest> {
    if len as u64 > max {
        Err(InvalidRequest::TooLong { field, len, max })
    } else {
        Ok(())
    }
}

/// Percent-encodes one path segment.
pub fn encode_path_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
