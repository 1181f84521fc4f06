//! Executes described requests on either host: builds the URL, places the token where its
//! scheme says (query or header), sends JSON, decodes the answer (the errcode envelope on oapi;
//! the status, payload or error body on api.dingtalk.com), and refreshes a rejected token once.

use std::sync::Arc;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed};
use serde::Deserialize;
use tracing::Instrument;

use crate::auth::Place;
use crate::envelope::{self, Envelope, Read};
use crate::error::endpoint_name;
use crate::error::Classify;
use crate::grant::TokenKind;
use crate::request::{Endpoint, EndpointMeta, Host, Method, Query};
use crate::token::Cached;
use crate::wire::{self, Wire};
use crate::{ApiCode, ApiError, Client, Error, ErrorClass, SecretString};

/// How much of a bad body an error shows.
const SNIPPET_CHARS: usize = 200;

impl Client {
    /// Sends a request built by hand (handle methods do this for you).
    pub async fn send<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        let meta = E::META;
        let span = tracing::debug_span!(
            "dingtalk.call",
            endpoint = %format_args!("{}.{}", meta.area, meta.name),
            app = self.app_id(),
            corp = self.corp_id().unwrap_or(""),
            request_id = tracing::field::Empty,
        );
        self.guarded(self.send_inner(request))
            .instrument(span)
            .await
    }

    async fn send_inner<E: Endpoint>(&self, request: &E) -> Result<E::Response, Error> {
        let meta = E::META;
        request.validate().map_err(|source| Error::Invalid {
            endpoint: endpoint_name(&meta),
            source,
        })?;
        let mut query = Query::default();
        request.query(&mut query);
        let mut headers = crate::request::Headers::default();
        request.headers(&mut headers);
        let body = match (meta.json_body, request.upload()) {
            (_, Some((part, file))) => Body::Multipart(part, file.clone()),
            (false, None) => Body::None,
            (true, None) => Body::Json(Bytes::from(serde_json::to_vec(request).map_err(|e| {
                Error::Decode {
                    endpoint: endpoint_name(&meta),
                    message: format!("cannot encode the request body: {e}"),
                    snippet: String::new(),
                }
            })?)),
        };
        let path = request.path();
        let user = request.user();
        let started = tokio::time::Instant::now();
        let mut attempt = 1;
        // A rejected token is refreshed and the call retried once, never more.
        let mut refreshed = false;
        let scheme = crate::auth::scheme(meta.auth, meta.host);
        loop {
            let token = match scheme.token {
                None => Ok(None),
                Some(fetch) => fetch(self, meta.classify, user).await.map(Some),
            };
            let error = match token {
                Err(e) => e,
                Ok(token) => {
                    // DingTalk counts per API path; the permit is held until the answer is in.
                    let _permit = match &self.inner.limiter {
                        Some(limiter) => Some(limiter.acquire(meta.path).await),
                        None => None,
                    };
                    let secret = token.as_ref().map(|t| &t.value);
                    let placed = self.place(scheme, &query, secret).await?;
                    let url = build_url(
                        self.host_url(meta.host),
                        &path,
                        placed.token_param,
                        &placed.query,
                    );
                    let exchange = Exchange {
                        url: &url,
                        body: &body,
                        headers: &headers,
                        token_header: placed.token_header,
                    };
                    let result = match self.execute(&meta, exchange, secret).await {
                        Ok(answer) if meta.binary => download::<E>(answer, &meta, secret),
                        Ok(answer) => decode_from::<E::Response>(&answer, &meta, secret),
                        Err(e) => Err(e),
                    };
                    match (result, token) {
                        (Ok(response), _) => return Ok(response),
                        (Err(Error::Api(e)), Some(t)) if e.is_token_invalid() && !refreshed => {
                            tracing::debug!(
                                code = %e.code,
                                "token rejected; refreshing and retrying once"
                            );
                            (scheme.reject)(self, user, &t).await;
                            refreshed = true;
                            continue;
                        }
                        (Err(e), _) => e,
                    }
                }
            };
            match self
                .retry_policy()
                .delay(&error, meta.idempotent, attempt, started.elapsed())
            {
                Some(delay) => {
                    tracing::debug!(attempt, ?delay, class = ?error.class(), "retrying after a transient failure");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => return Err(error),
            }
        }
    }

    /// One HTTP exchange; returns the answer with the headers decoding needs. A non-2xx
    /// status is an error here on oapi (whose failures arrive as 200 + errcode); on
    /// api.dingtalk.com it is the error model, decoded with the body.
    async fn execute(
        &self,
        meta: &EndpointMeta,
        exchange: Exchange<'_>,
        token: Option<&SecretString>,
    ) -> Result<Answer, Error> {
        let endpoint = || endpoint_name(meta);
        // The slot bounds the client's exchanges in flight; it is held until the body is read.
        let _slot = self.call_slot(&endpoint()).await?;
        let http = &self.inner.http;
        let url = exchange.url;
        let req = match meta.method {
            Method::Get => http.get(url),
            Method::Post => http.post(url),
            Method::Put => http.put(url),
            Method::Delete => http.delete(url),
            Method::Patch => http.patch(url),
        };
        let req = match exchange.body {
            Body::Json(b) => req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.clone()),
            Body::Multipart(name, file) => {
                let part = file.part().map_err(|message| Error::Invalid {
                    endpoint: endpoint(),
                    source: crate::InvalidRequest::BadFile { message },
                })?;
                req.multipart(reqwest::multipart::Form::new().part(*name, part))
            }
            Body::None => req,
        };
        let req = if meta.binary {
            req
        } else {
            req.header(reqwest::header::ACCEPT, "application/json")
        };
        let mut req = match self.call_timeout() {
            Some(timeout) => req.timeout(timeout),
            None => req,
        };
        for (name, value) in exchange.headers.pairs() {
            req = req.header(*name, value);
        }
        if let Some((name, t)) = exchange.token_header {
            let mut value =
                reqwest::header::HeaderValue::from_str(t.expose_secret()).map_err(|_| {
                    Error::Config("the access token is not a valid header value".into())
                })?;
            value.set_sensitive(true);
            req = req.header(name, value);
        }
        // `without_url`: the URL holds the token.
        let resp = req
            .send()
            .await
            .map_err(|e| Error::transport(endpoint(), e))?;
        let resp = match (meta.binary, exchange.body) {
            (true, Body::None) => self.follow_download_redirects(resp, &endpoint()).await?,
            _ => resp,
        };
        let status = resp.status();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE.as_str());
        let disposition = header(reqwest::header::CONTENT_DISPOSITION.as_str());
        let request_id = header("x-acs-request-id");
        let (bytes, whole, limit) = self.read_body(resp, meta.binary, &endpoint()).await?;
        if !status.is_success() && meta.host == Host::Oapi {
            return Err(Error::Http {
                endpoint: endpoint(),
                status: status.as_u16(),
                snippet: quote(meta, &bytes, token),
            });
        }
        if !whole {
            return Err(Error::TooLarge {
                endpoint: endpoint(),
                limit,
            });
        }
        Ok(Answer {
            status: status.as_u16(),
            bytes,
            content_type,
            disposition,
            request_id,
        })
    }

    /// The app's token (an organisation's, on a suite's organisation client); fetch errors are
    /// classified with `classify`.
    pub(crate) async fn app_token(&self, classify: Classify) -> Result<Arc<Cached>, Error> {
        if self.inner.corp.is_some() {
            return self.corp_token(classify).await;
        }
        if self.inner.credentials.is_none() {
            return Err(Error::Config("this call needs an access token: configure `app_key` or `corp_secret` on the client builder".into()));
        }
        self.inner
            .app_token
            .get(|| self.fetch_kind(TokenKind::App, classify))
            .await
    }

    pub(crate) async fn sns_app_token(&self, classify: Classify) -> Result<Arc<Cached>, Error> {
        if self.inner.sns.is_none() {
            return Err(Error::Config(
                "this call needs the SNS app token: configure `sns_app` on the client builder"
                    .into(),
            ));
        }
        self.inner
            .sns_token
            .get(|| self.fetch_kind(TokenKind::SnsApp, classify))
            .await
    }

    /// `query` plus `accessKey`, `timestamp` and `signature`, signed with the SNS app's secret
    /// (or the AppKey credentials).
    pub(crate) fn signed_query(&self, query: &Query) -> Result<Query, Error> {
        let (key, secret) =
            match (&self.inner.sns, &self.inner.credentials) {
                (Some((id, secret)), _) => (id.as_str(), secret),
                (
                    None,
                    Some(crate::Credentials::AppKey {
                        app_key,
                        app_secret,
                    }),
                ) => (app_key.as_str(), app_secret),
                _ => return Err(Error::Config(
                    "a signed call needs `sns_app` or `app_key` credentials on the client builder"
                        .into(),
                )),
            };
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
            .to_string();
        let signature = crate::sign::hmac_sha256_base64(secret.expose_secret(), &timestamp);
        let mut signed = query.clone();
        signed.push("accessKey", &key.to_string());
        signed.push_text("timestamp", timestamp);
        signed.push_text("signature", signature);
        Ok(signed)
    }

    pub(crate) async fn sso_token(&self, classify: Classify) -> Result<Arc<Cached>, Error> {
        if self.inner.sso.is_none() {
            return Err(Error::Config(
                "this call needs the SSO token: configure `sso_secret` on the client builder"
                    .into(),
            ));
        }
        self.inner
            .sso_token
            .get(|| self.fetch_kind(TokenKind::Sso, classify))
            .await
    }

    /// Puts the credential where `scheme` says: the token in the query or a header, or the
    /// whole query signed.
    async fn place<'a>(
        &self,
        scheme: &crate::auth::Scheme,
        query: &'a Query,
        secret: Option<&'a SecretString>,
    ) -> Result<Placed<'a>, Error> {
        Ok(match &scheme.place {
            Place::Nothing => Placed::plain(query),
            Place::Query(name) => Placed {
                token_param: secret.map(|s| (*name, s)),
                ..Placed::plain(query)
            },
            Place::Header(name) => Placed {
                token_header: secret.map(|s| (*name, s)),
                ..Placed::plain(query)
            },
            Place::Signed(sign) => Placed {
                query: std::borrow::Cow::Owned(sign(self, query).await?),
                ..Placed::plain(query)
            },
        })
    }

    /// One exchange of an endpoint described by data alone (a token endpoint of the client's
    /// table): `query` and the JSON `body` as given, the credential its auth scheme names
    /// placed as for any call, and a rejected token refreshed and the request repeated once.
    /// Not retried otherwise: token fetches are retried by the cache that runs them.
    pub(crate) async fn exchange_described<T: Wire>(
        &self,
        meta: &EndpointMeta,
        query: &Query,
        body: Option<Bytes>,
    ) -> Result<T, Error> {
        let body = body.map_or(Body::None, Body::Json);
        let scheme = crate::auth::scheme(meta.auth, meta.host);
        let mut refreshed = false;
        loop {
            let token = match scheme.token {
                None => None,
                Some(fetch) => Some(fetch(self, meta.classify, None).await?),
            };
            let secret = token.as_ref().map(|t| &t.value);
            let placed = self.place(scheme, query, secret).await?;
            let url = build_url(
                self.host_url(meta.host),
                meta.path,
                placed.token_param,
                &placed.query,
            );
            let exchange = Exchange {
                url: &url,
                body: &body,
                headers: &Default::default(),
                token_header: placed.token_header,
            };
            let result = match self.execute(meta, exchange, secret).await {
                Ok(answer) => decode_from::<T>(&answer, meta, secret),
                Err(e) => Err(e),
            };
            match (result, token) {
                (Err(Error::Api(e)), Some(t)) if e.is_token_invalid() && !refreshed => {
                    (scheme.reject)(self, None, &t).await;
                    refreshed = true;
                }
                (result, _) => return result,
            }
        }
    }
}

/// A query with the credential placed: the token as a query param or a header, or the query
/// signed.
struct Placed<'a> {
    query: std::borrow::Cow<'a, Query>,
    token_param: Option<(&'static str, &'a SecretString)>,
    token_header: Option<(&'static str, &'a SecretString)>,
}

impl<'a> Placed<'a> {
    fn plain(query: &'a Query) -> Self {
        Placed {
            query: std::borrow::Cow::Borrowed(query),
            token_param: None,
            token_header: None,
        }
    }
}

/// What a request sends.
enum Body {
    None,
    Json(Bytes),
    Multipart(&'static str, crate::UploadFile),
}

/// One request as it goes out.
struct Exchange<'a> {
    url: &'a str,
    body: &'a Body,
    headers: &'a crate::request::Headers,
    /// The token header (api.dingtalk.com), marked sensitive.
    token_header: Option<(&'static str, &'a SecretString)>,
}

/// An answer: 2xx on oapi; any status on api.dingtalk.com.
struct Answer {
    status: u16,
    bytes: Bytes,
    content_type: Option<String>,
    disposition: Option<String>,
    /// `x-acs-request-id` (api.dingtalk.com).
    request_id: Option<String>,
}

/// A download: the file, unless DingTalk answered with its JSON error envelope instead.
fn download<E: Endpoint>(
    answer: Answer,
    meta: &EndpointMeta,
    token: Option<&SecretString>,
) -> Result<E::Response, Error> {
    if !(200..300).contains(&answer.status) {
        return Err(service_error(&answer, meta, token));
    }
    let json = answer
        .content_type
        .as_deref()
        .is_some_and(|c| c.contains("json"))
        || (answer
            .content_type
            .as_deref()
            .is_none_or(|c| c.starts_with("text/"))
            && answer.bytes.trim_ascii_start().starts_with(b"{\"errcode\""));
    if json {
        // An errcode ≠ 0 becomes the API error; a success envelope without a file is unexpected.
        decode::<serde_json::Value>(&answer.bytes, meta, token)?;
        return Err(Error::Decode {
            endpoint: endpoint_name(meta),
            message: "expected a file, got a JSON answer".into(),
            snippet: snippet(&answer.bytes, token),
        });
    }
    let file_name = answer
        .disposition
        .as_deref()
        .and_then(crate::files::disposition_file_name);
    let download = crate::Download {
        bytes: answer.bytes,
        content_type: answer.content_type,
        file_name,
    };
    E::from_download(download).ok_or_else(|| Error::Decode {
        endpoint: endpoint_name(meta),
        message: "this endpoint does not return a file".into(),
        snippet: String::new(),
    })
}

/// `base` + `path` + the query string, with the token (under its param name) first.
fn build_url(
    base: &str,
    path: &str,
    token: Option<(&str, &SecretString)>,
    query: &Query,
) -> String {
    let mut url = String::with_capacity(base.len() + path.len() + 64);
    url.push_str(base);
    url.push_str(path);
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    if let Some((name, t)) = token {
        ser.append_pair(name, t.expose_secret());
    }
    for (k, v) in query.pairs() {
        ser.append_pair(k, v);
    }
    let qs = ser.finish();
    if !qs.is_empty() {
        url.push('?');
        url.push_str(&qs);
    }
    url
}

/// Decodes a JSON answer of endpoint `meta` as a call does: an errcode ≠ 0 becomes an
/// [`ApiError`] classified with the endpoint's error table, otherwise the payload (at the top
/// level or under `payload_at`) becomes `T`. For tests and tools that hold a body already.
pub fn decode_answer<T: Wire>(bytes: &[u8], meta: &EndpointMeta) -> Result<T, Error> {
    decode(bytes, meta, None)
}

/// [`decode_answer`], masking `token` wherever the body is quoted in an error.
pub(crate) fn decode<T: Wire>(
    bytes: &[u8],
    meta: &EndpointMeta,
    token: Option<&SecretString>,
) -> Result<T, Error> {
    if meta.host == Host::Api {
        return payload(bytes, meta, token);
    }
    let read = match envelope::read::<T>(bytes, meta.payload_at) {
        Ok(read) => read,
        // The one pass failed, perhaps on an error answer's odd or missing payload: the
        // envelope alone tells an error answer from a body that is not the JSON expected.
        Err(e) => match serde_json::from_slice::<Envelope>(bytes).map(Read::failed) {
            Ok(Some(read)) => read,
            _ => return Err(bad_body(e, bytes, meta, token)),
        },
    };
    let (env, code) = match read {
        Read::Payload(env, payload) => {
            record_request_id(&env);
            return Ok(payload);
        }
        Read::Failed(env, code) => (env, code),
    };
    record_request_id(&env);
    Err(Error::from(
        ApiError {
            endpoint: endpoint_name(meta),
            code: ApiCode::Errcode(code),
            // DingTalk's text may quote what it was sent (a token in the query).
            message: crate::secret::mask(&env.errmsg.unwrap_or_default(), token),
            sub: env.sub_code.filter(|s| !s.is_empty()),
            sub_msg: env.sub_msg.map(|m| crate::secret::mask(&m, token)),
            request_id: env.request_id,
            status: None,
            class: ErrorClass::Other,
        }
        .classified(meta.classify),
    ))
}

fn record_request_id(env: &Envelope) {
    if let Some(id) = &env.request_id {
        tracing::Span::current().record("request_id", id.as_str());
    }
}

/// An answer of either host: the errcode envelope (oapi), or the status and the payload or
/// error body (api.dingtalk.com).
fn decode_from<T: Wire>(
    answer: &Answer,
    meta: &EndpointMeta,
    token: Option<&SecretString>,
) -> Result<T, Error> {
    if meta.host == Host::Api {
        if let Some(id) = &answer.request_id {
            tracing::Span::current().record("request_id", id.as_str());
        }
        if !(200..300).contains(&answer.status) {
            return Err(service_error(answer, meta, token));
        }
    }
    decode(&answer.bytes, meta, token)
}

/// The error body of a v1.0 answer with an error status.
#[derive(Deserialize)]
struct ServiceError {
    #[serde(default, deserialize_with = "wire::de")]
    code: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    message: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    requestid: Option<String>,
}

/// A v1.0 failure: the error body as an [`ApiError`] classified with the endpoint's table, or
/// [`Error::Http`] when the body is not one (a gateway's HTML page).
fn service_error(answer: &Answer, meta: &EndpointMeta, token: Option<&SecretString>) -> Error {
    let parsed = serde_json::from_slice::<ServiceError>(&answer.bytes).ok();
    match parsed {
        Some(ServiceError {
            code: Some(code),
            message,
            requestid,
        }) if !code.is_empty() => Error::from(
            ApiError {
                endpoint: endpoint_name(meta),
                code: ApiCode::Service(code),
                message: crate::secret::mask(&message.unwrap_or_default(), token),
                sub: None,
                sub_msg: None,
                request_id: requestid.or_else(|| answer.request_id.clone()),
                status: Some(answer.status),
                class: ErrorClass::Other,
            }
            .classified(meta.classify),
        ),
        _ => Error::Http {
            endpoint: endpoint_name(meta),
            status: answer.status,
            snippet: snippet(&answer.bytes, token),
        },
    }
}

/// A body that is not the JSON expected. An answer that carries secrets (tokens, permanent
/// codes) is never quoted: neither its start nor the decoder's message, which can repeat a
/// value.
fn bad_body(
    e: serde_json::Error,
    bytes: &[u8],
    meta: &EndpointMeta,
    token: Option<&SecretString>,
) -> Error {
    match meta.secret_response {
        false => Error::Decode {
            endpoint: endpoint_name(meta),
            message: crate::secret::mask(&e.to_string(), token),
            snippet: snippet(bytes, token),
        },
        true => Error::Decode {
            endpoint: endpoint_name(meta),
            message: format!(
                "{:?} error at line {}, column {} (details hidden: the answer holds secrets)",
                e.classify(),
                e.line(),
                e.column()
            ),
            snippet: "<not shown: the answer holds secrets>".into(),
        },
    }
}

/// The payload of a success answer: at the top level or under `payload_at`. An empty body (a
/// v1.0 answer with no content) decodes as JSON `null`, which suits `response: none` and
/// optional payloads and fails the rest.
fn payload<T: Wire>(
    bytes: &[u8],
    meta: &EndpointMeta,
    token: Option<&SecretString>,
) -> Result<T, Error> {
    let bad = |e| bad_body(e, bytes, meta, token);
    if bytes.trim_ascii().is_empty() {
        return T::wire(serde_json::Value::Null).map_err(bad);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = match meta.payload_at {
        None => T::wire(&mut de),
        Some(key) => envelope::At::<T> {
            key,
            env: None,
            _t: std::marker::PhantomData,
        }
        .deserialize(&mut de)
        .and_then(|v| v.ok_or_else(|| de::Error::custom("the response has no payload"))),
    };
    result.and_then(|v| de.end().map(|()| v)).map_err(bad)
}

/// The start of a body for error messages, with the token and every other secret the call
/// knows masked (before the text is cut).
fn snippet(bytes: &[u8], token: Option<&SecretString>) -> String {
    crate::secret::snippet(bytes, token, SNIPPET_CHARS)
}

/// [`snippet`], or nothing of the body when the endpoint's answers carry secrets.
fn quote(meta: &EndpointMeta, bytes: &[u8], token: Option<&SecretString>) -> String {
    match meta.secret_response {
        true => "<not shown: the answer holds secrets>".into(),
        false => snippet(bytes, token),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Auth;

    const META: EndpointMeta = EndpointMeta {
        area: "user",
        name: "get",
        host: Host::Oapi,
        method: Method::Post,
        json_body: true,
        path: "/topapi/v2/user/get",
        auth: Auth::AccessToken,
        payload_at: Some("result"),
        idempotent: true,
        binary: false,
        rate_class: crate::request::RateClass::Basic,
        secret_response: false,
        classify: |code| match code {
            ApiCode::Errcode(40014) => ErrorClass::TokenInvalid,
            ApiCode::Service(s) if s == "InvalidAuthentication" => ErrorClass::TokenInvalid,
            _ => ErrorClass::Other,
        },
    };

    #[test]
    fn errcode_as_string_and_sub_code() {
        let e = decode::<serde_json::Value>(
            br#"{"errcode":"88","errmsg":"auth","sub_code":"40014","sub_msg":"bad token","request_id":"r1"}"#,
            &META,
            None,
        );
        let Err(Error::Api(api)) = e else {
            panic!("expected an API error, got {e:?}")
        };
        assert_eq!(
            (
                api.code.clone(),
                api.sub.as_deref(),
                api.request_id.as_deref()
            ),
            (ApiCode::Errcode(88), Some("40014"), Some("r1"))
        );
        assert!(api.is_token_invalid());
        let ok = decode::<serde_json::Value>(br#"{"errcode":"0","result":{"a":1}}"#, &META, None);
        assert_eq!(ok.ok(), Some(serde_json::json!({"a": 1})));
    }

    const V1: EndpointMeta = EndpointMeta {
        host: Host::Api,
        method: Method::Get,
        json_body: false,
        path: "/v1.0/contact/users/{unionId}",
        payload_at: None,
        ..META
    };

    fn answer(status: u16, body: &'static [u8]) -> Answer {
        Answer {
            status,
            bytes: Bytes::from_static(body),
            content_type: Some("application/json".into()),
            disposition: None,
            request_id: Some("hdr-req".into()),
        }
    }

    #[test]
    fn v1_answers_are_the_payload_or_a_status_with_a_code() {
        // No envelope: the body is the payload, even one that has an `errcode`-like key.
        let ok =
            decode_from::<serde_json::Value>(&answer(200, br#"{"errcode":5,"a":1}"#), &V1, None);
        assert_eq!(ok.ok(), Some(serde_json::json!({"errcode": 5, "a": 1})));
        // A bare boolean, and no body at all.
        assert_eq!(
            decode_from::<bool>(&answer(200, b"true"), &V1, None).ok(),
            Some(true)
        );
        assert!(decode_from::<crate::wire::Empty>(&answer(204, b""), &V1, None).is_ok());
        assert!(matches!(
            decode_from::<bool>(&answer(200, b""), &V1, None),
            Err(Error::Decode { .. })
        ));
        // The error model: status + code, classified by the table; the body's request id wins.
        let e = decode_from::<serde_json::Value>(
            &answer(
                400,
                br#"{"code":"InvalidAuthentication","message":"bad token","requestid":"body-req"}"#,
            ),
            &V1,
            None,
        );
        let Err(Error::Api(api)) = &e else {
            panic!("expected an API error, got {e:?}")
        };
        assert_eq!(api.code, ApiCode::Service("InvalidAuthentication".into()));
        assert_eq!(
            (api.status, api.request_id.as_deref()),
            (Some(400), Some("body-req"))
        );
        assert!(api.is_token_invalid());
        assert_eq!(
            e.as_ref().err().and_then(Error::service_code),
            Some("InvalidAuthentication")
        );
        assert_eq!(e.as_ref().err().and_then(Error::code), None);
        // A gateway page instead of an error body is an HTTP error, with the token masked.
        let token = SecretString::from("tok-9");
        let page = decode_from::<serde_json::Value>(
            &answer(502, b"<html>bad gateway tok-9</html>"),
            &V1,
            Some(&token),
        );
        match &page {
            Err(Error::Http {
                status: 502,
                snippet,
                ..
            }) => assert!(!snippet.contains("tok-9")),
            other => panic!("expected HTTP 502, got {other:?}"),
        }
        assert_eq!(page.err().map(|e| e.class()), Some(ErrorClass::Busy));
        // Trailing garbage after the payload is not a success.
        assert!(decode_from::<serde_json::Value>(&answer(200, b"{} x"), &V1, None).is_err());
    }

    #[test]
    fn html_and_truncated_bodies_are_decode_errors_without_the_token() {
        let token = SecretString::from("tok-123");
        for body in [
            &b"<html>tok-123 blocked</html>"[..],
            br#"{"errcode":0,"result":{"a""#,
            b"",
        ] {
            let e = decode::<serde_json::Value>(body, &META, Some(&token));
            let Err(Error::Decode { snippet, .. }) = &e else {
                panic!("expected a decode error, got {e:?}")
            };
            assert!(!snippet.contains("tok-123"));
            assert!(!format!("{e:?}").contains("tok-123"));
        }
    }

    #[test]
    fn missing_payload_key() {
        let e = decode::<std::collections::BTreeMap<String, i64>>(br#"{"errcode":0}"#, &META, None);
        assert_eq!(e.ok(), Some(Default::default()));
        #[derive(Debug, Deserialize)]
        struct Needs {
            #[allow(dead_code)]
            a: i64,
        }
        impl Wire for Needs {
            fn wire<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::deserialize(d)
            }
        }
        let e = decode::<Needs>(br#"{"errcode":0}"#, &META, None);
        assert!(
            matches!(&e, Err(Error::Decode { message, .. }) if message.contains("no `result`")),
            "{e:?}"
        );
    }

    #[test]
    fn url_carries_the_token_and_encodes_params() {
        let mut q = Query::default();
        q.push_text("media_id", "@lADO#$".into());
        let url = build_url(
            "http://h",
            "/media/get",
            Some(("access_token", &SecretString::from("t"))),
            &q,
        );
        assert_eq!(
            url,
            "http://h/media/get?access_token=t&media_id=%40lADO%23%24"
        );
    }
}
