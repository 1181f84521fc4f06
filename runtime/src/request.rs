//! What generated code describes: an endpoint's fixed metadata, how its request fills the query
//! string and body, and the limit checks that run before anything is sent.

use std::borrow::Cow;

use crate::wire::{Scalar, Wire};

/// HTTP method of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`: params in the path and query string, no body.
    Get,
    /// `POST`: a JSON body (or a multipart upload).
    Post,
    /// `PUT`: a JSON body.
    Put,
    /// `DELETE`: no body, unless the endpoint declares body params.
    Delete,
    /// `PATCH`: a JSON body.
    Patch,
}

/// The DingTalk host an endpoint lives on. They differ in more than the address: where the
/// token goes and how errors are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    /// `https://oapi.dingtalk.com`: the token in the query string; every answer is HTTP 200
    /// with an `errcode` envelope.
    Oapi,
    /// `https://api.dingtalk.com` (the `/v1.0/` and `/v2.0/` APIs): the token in the
    /// `x-acs-dingtalk-access-token` header; the body of a 2xx answer is the payload itself,
    /// and failures are real HTTP statuses with `{"code", "message", "requestid"}`.
    Api,
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
    /// A user's own token (`POST /v1.0/oauth2/userAccessToken`), for calls made on a user's
    /// behalf on api.dingtalk.com; the request names the user (see [`Endpoint::user`]).
    UserToken,
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
    /// The host it lives on.
    pub host: Host,
    /// HTTP method.
    pub method: Method,
    /// Whether the request carries a JSON body (always for POST, PUT and PATCH; for DELETE
    /// only when the spec declares body params; never for GET).
    pub json_body: bool,
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
    /// The published rate-limit class.
    pub rate_class: RateClass,
    /// Whether the answer carries secrets (a token, a permanent code): errors then quote none
    /// of it.
    pub secret_response: bool,
    /// The class of each errcode, from the error table of the spec the endpoint came from.
    pub classify: crate::error::Classify,
}

/// The rate limits DingTalk publishes for an endpoint. Every endpoint shares the per-API rules
/// (20 calls a second per app on standard-edition organisations, 1500 a minute per company);
/// the classes differ in what else applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RateClass {
    /// Token, identity and contacts APIs: not counted in the standard edition's monthly quota.
    Basic,
    /// Counted in the standard edition's monthly quota of 5000 calls to non-basic APIs
    /// (errcode 90020 once spent).
    Metered,
    /// A work notification: metered, and delivery is capped (at most 5000 recipients a minute,
    /// the same content to a user once a day, 500 messages per user a day for internal apps and
    /// 100 for third-party ones); DingTalk answers success but drops what exceeds the caps.
    WorkNotice,
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

    /// Extra headers (an idempotency key, say); the token header is added by the runtime.
    fn headers(&self, h: &mut Headers) {
        let _ = h;
    }

    /// For [`Auth::UserToken`] endpoints: the user whose token the call carries, by the key it
    /// was signed in under (see `Client::sign_in_user`).
    fn user(&self) -> Option<&str> {
        None
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

/// Query-string params, in the order they were added. `Debug` shows the names only: values
/// can be secrets (an AppSecret, a code).
#[derive(Clone, Default)]
pub struct Query {
    pairs: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field(
                "names",
                &self.pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            )
            .finish()
    }
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

/// Extra request headers, in the order they were added.
#[derive(Clone, Default)]
pub struct Headers {
    pairs: Vec<(&'static str, String)>,
}

impl Headers {
    /// Adds a header.
    pub fn push(&mut self, name: &'static str, value: String) {
        self.pairs.push((name, value));
    }

    /// The headers.
    pub fn pairs(&self) -> &[(&'static str, String)] {
        &self.pairs
    }
}

impl std::fmt::Debug for Headers {
    /// Names only: a header value can be a credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.pairs.iter().map(|(k, _)| k))
            .finish()
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
    /// Two times lie further apart than DingTalk accepts, or in the wrong order.
    #[error("`{to}` must lie between 0 and {max_days} days after `{from}`; it is {days:.2} days after it")]
    Span {
        /// Wire name of the earlier param.
        from: &'static str,
        /// Wire name of the later param.
        to: &'static str,
        /// The longest span accepted, in days.
        max_days: u32,
        /// The span given, in days (negative when `to` is before `from`).
        days: f64,
    },
    /// A time param is not in the format DingTalk expects.
    #[error("`{field}` is `{value}`; write `yyyy-MM-dd HH:mm:ss`")]
    BadTime {
        /// Wire name of the param.
        field: &'static str,
        /// Its value.
        value: String,
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

/// A time param of a span check: DingTalk's `yyyy-MM-dd HH:mm:ss` text or milliseconds since
/// the epoch.
#[derive(Clone, Copy, Debug)]
pub enum Moment<'a> {
    /// `yyyy-MM-dd HH:mm:ss` (or `yyyy-MM-dd`), in DingTalk's local time.
    Text(&'a str),
    /// Milliseconds since the epoch.
    Millis(i64),
}

impl Moment<'_> {
    /// Milliseconds on a common scale (text times as if in UTC: only differences matter).
    fn millis(&self, field: &'static str) -> Result<i64, InvalidRequest> {
        use time::macros::format_description;
        match *self {
            Moment::Millis(ms) => Ok(ms),
            Moment::Text(text) => {
                let full = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
                let date = format_description!("[year]-[month]-[day]");
                time::PrimitiveDateTime::parse(text.trim(), full)
                    .or_else(|_| time::Date::parse(text.trim(), date).map(|d| d.midnight()))
                    .map(|t| (t.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
                    .map_err(|_| InvalidRequest::BadTime {
                        field,
                        value: text.to_string(),
                    })
            }
        }
    }
}

const DAY_MS: i64 = 86_400_000;

/// Generated span check: `to` must lie between `from` and `max_days` days after it. With
/// `whole_days`, only the calendar days count (endpoints that ignore the time of day).
pub fn check_span(
    (from_field, from): (&'static str, Moment<'_>),
    (to_field, to): (&'static str, Moment<'_>),
    max_days: u32,
    whole_days: bool,
) -> Result<(), InvalidRequest> {
    let (mut a, mut b) = (from.millis(from_field)?, to.millis(to_field)?);
    if whole_days {
        // Saturating: the first day before i64::MIN ms does not fit; the span check below then
        // refuses the extreme value.
        a = a.div_euclid(DAY_MS).saturating_mul(DAY_MS);
        b = b.div_euclid(DAY_MS).saturating_mul(DAY_MS);
    }
    let span = b.saturating_sub(a);
    if span < 0 || span > i64::from(max_days) * DAY_MS {
        return Err(InvalidRequest::Span {
            from: from_field,
            to: to_field,
            max_days,
            days: span as f64 / DAY_MS as f64,
        });
    }
    Ok(())
}

/// Percent-encodes one path segment.
pub fn encode_path_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_between_extreme_times_are_refused_not_overflowed() {
        for whole_days in [false, true] {
            let span = check_span(
                ("from", Moment::Millis(i64::MIN)),
                ("to", Moment::Millis(i64::MAX)),
                7,
                whole_days,
            );
            assert!(matches!(span, Err(InvalidRequest::Span { .. })), "{span:?}");
            let backwards = check_span(
                ("from", Moment::Millis(i64::MAX)),
                ("to", Moment::Millis(i64::MIN)),
                7,
                whole_days,
            );
            assert!(
                matches!(backwards, Err(InvalidRequest::Span { .. })),
                "{backwards:?}"
            );
            let same = check_span(
                ("from", Moment::Millis(i64::MIN)),
                ("to", Moment::Millis(i64::MIN)),
                7,
                whole_days,
            );
            assert_eq!(same, Ok(()));
        }
    }

    #[test]
    fn query_debug_shows_names_only() {
        let mut q = Query::default();
        q.push("appsecret", &crate::SecretString::from("s3cr3t-value"));
        q.push_text("code", "tmp-code-1".into());
        let text = format!("{q:?}");
        assert!(
            text.contains("appsecret") && text.contains("code"),
            "{text}"
        );
        assert!(
            !text.contains("s3cr3t") && !text.contains("tmp-code"),
            "{text}"
        );
    }
}
