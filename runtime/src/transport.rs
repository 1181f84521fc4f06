//! Executes described requests: builds the URL (token in the query), sends JSON, decodes the
//! errcode envelope, and refreshes a rejected token once.

use std::sync::Arc;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use tracing::Instrument;

use crate::auth::Place;
use crate::error::endpoint_name;
use crate::error::Classify;
use crate::request::{Auth, Endpoint, EndpointMeta, Method, Query};
use crate::token::Cached;
use crate::wire::{self, Wire};
use crate::{ApiError, Client, Error, ErrorClass, SecretString};

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
        let body = match (meta.method, request.upload()) {
            (Method::Get, _) => Body::None,
            (Method::Post, Some((part, file))) => Body::Multipart(part, file.clone()),
            (Method::Post, None) => {
                Body::Json(Bytes::from(serde_json::to_vec(request).map_err(|e| {
                    Error::Decode {
                        endpoint: endpoint_name(&meta),
                        message: format!("cannot encode the request body: {e}"),
                        snippet: String::new(),
                    }
                })?))
            }
        };
        let path = request.path();
        let started = tokio::time::Instant::now();
        let mut attempt = 1;
        // A rejected token is refreshed and the call retried once, never more.
        let mut refreshed = false;
        let scheme = crate::auth::scheme(meta.auth);
        loop {
            let token = match scheme.token {
                None => Ok(None),
                Some(fetch) => fetch(self, meta.classify).await.map(Some),
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
                    let signed;
                    let (query, token_param) = match &scheme.place {
                        Place::Nothing => (&query, None),
                        Place::Query(name) => (&query, secret.map(|s| (*name, s))),
                        Place::Signed(sign) => {
                            signed = sign(self, &query).await?;
                            (&signed, None)
                        }
                    };
                    let url = build_url(&self.inner.base_url, &path, token_param, query);
                    let result = match self.execute(&meta, &url, &body, secret).await {
                        Ok(answer) if meta.binary => download::<E>(answer, &meta, secret),
                        Ok(answer) => decode::<E::Response>(&answer.bytes, &meta, secret),
                        Err(e) => Err(e),
                    };
                    match (result, token) {
                        (Ok(response), _) => return Ok(response),
                        (Err(Error::Api(e)), Some(t)) if e.is_token_invalid() && !refreshed => {
                            tracing::debug!(
                                code = e.code,
                                "token rejected; refreshing and retrying once"
                            );
                            if let Some(cache) = (scheme.cache)(self) {
                                cache.reject(&t).await;
                            }
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

    /// One HTTP exchange; returns the body of a 2xx answer with the headers a download needs.
    async fn execute(
        &self,
        meta: &EndpointMeta,
        url: &str,
        body: &Body,
        token: Option<&SecretString>,
    ) -> Result<Answer, Error> {
        let endpoint = || endpoint_name(meta);
        // The slot bounds the client's exchanges in flight; it is held until the body is read.
        let _slot = self.call_slot(&endpoint()).await?;
        let req = match body {
            Body::Json(b) => self
                .inner
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(b.clone()),
            Body::Multipart(name, file) => {
                let part = file.part().map_err(|message| Error::Invalid {
                    endpoint: endpoint(),
                    source: crate::InvalidRequest::BadFile { message },
                })?;
                self.inner
                    .http
                    .post(url)
                    .multipart(reqwest::multipart::Form::new().part(*name, part))
            }
            Body::None => self.inner.http.get(url),
        };
        let req = if meta.binary {
            req
        } else {
            req.header(reqwest::header::ACCEPT, "application/json")
        };
        let req = match self.call_timeout() {
            Some(timeout) => req.timeout(timeout),
            None => req,
        };
        // `without_url`: the URL holds the token.
        let resp = req
            .send()
            .await
            .map_err(|e| Error::transport(endpoint(), e))?;
        let resp = match (meta.binary, body) {
            (true, Body::None) => self.follow_download_redirects(resp, &endpoint()).await?,
            _ => resp,
        };
        let status = resp.status();
        let header = |name: reqwest::header::HeaderName| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let disposition = header(reqwest::header::CONTENT_DISPOSITION);
        let (bytes, whole, limit) = self.read_body(resp, meta.binary, &endpoint()).await?;
        if !status.is_success() {
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
            bytes,
            content_type,
            disposition,
        })
    }

    /// The app's token (an organisation's, on a suite's organisation client); fetch errors are
    /// classified with `classify`.
    pub(crate) async fn app_token(&self, classify: Classify) -> Result<Arc<Cached>, Error> {
        if let Some(grant) = &self.inner.corp {
            return self.corp_token(grant, classify).await;
        }
        let Some(creds) = &self.inner.credentials else {
            return Err(Error::Config("this call needs an access token: configure `app_key` or `corp_secret` on the client builder".into()));
        };
        self.inner
            .app_token
            .get(|| async {
                let mut q = Query::default();
                match creds {
                    crate::Credentials::AppKey {
                        app_key,
                        app_secret,
                    } => {
                        q.push("appkey", app_key);
                        q.push("appsecret", app_secret);
                    }
                    crate::Credentials::CorpSecret {
                        corp_id,
                        corp_secret,
                    } => {
                        q.push("corpid", corp_id);
                        q.push("corpsecret", corp_secret);
                    }
                }
                self.fetch_token("/gettoken", &q, None, classify).await
            })
            .await
    }

    pub(crate) async fn sns_app_token(&self, classify: Classify) -> Result<Arc<Cached>, Error> {
        let Some((app_id, secret)) = &self.inner.sns else {
            return Err(Error::Config(
                "this call needs the SNS app token: configure `sns_app` on the client builder"
                    .into(),
            ));
        };
        self.inner
            .sns_token
            .get(|| async {
                let mut q = Query::default();
                q.push("appid", app_id);
                q.push("appsecret", secret);
                self.fetch_token("/sns/gettoken", &q, None, classify).await
            })
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
        let Some((corp_id, secret)) = &self.inner.sso else {
            return Err(Error::Config(
                "this call needs the SSO token: configure `sso_secret` on the client builder"
                    .into(),
            ));
        };
        self.inner
            .sso_token
            .get(|| async {
                let mut q = Query::default();
                q.push("corpid", corp_id);
                q.push("corpsecret", secret);
                self.fetch_token("/sso/gettoken", &q, None, classify).await
            })
            .await
    }

    /// Asks DingTalk for a token: a GET, or a POST when there is a JSON `body`.
    pub(crate) async fn fetch_token(
        &self,
        path: &'static str,
        q: &Query,
        body: Option<serde_json::Value>,
        classify: Classify,
    ) -> Result<(SecretString, Option<i64>), Error> {
        const META: EndpointMeta = EndpointMeta {
            area: "runtime",
            name: "gettoken",
            method: Method::Get,
            path: "/gettoken",
            auth: Auth::None,
            payload_at: None,
            idempotent: true,
            binary: false,
            rate_class: crate::request::RateClass::Basic,
            secret_response: true,
            classify: crate::error::unclassified,
        };
        let (method, body) = match body {
            None => (Method::Get, Body::None),
            Some(json) => (Method::Post, Body::Json(Bytes::from(json.to_string()))),
        };
        let meta = EndpointMeta {
            path,
            method,
            classify,
            ..META
        };
        let url = build_url(&self.inner.base_url, path, None, q);
        let answer = self.execute(&meta, &url, &body, None).await?;
        let t: TokenResponse = decode(&answer.bytes, &meta, None)?;
        tracing::debug!(path, expires_in = t.expires_in, "fetched a token");
        Ok((t.access_token, t.expires_in))
    }
}

/// What a request sends.
enum Body {
    None,
    Json(Bytes),
    Multipart(&'static str, crate::UploadFile),
}

/// A 2xx answer.
struct Answer {
    bytes: Bytes,
    content_type: Option<String>,
    disposition: Option<String>,
}

/// A download: the file, unless DingTalk answered with its JSON error envelope instead.
fn download<E: Endpoint>(
    answer: Answer,
    meta: &EndpointMeta,
    token: Option<&SecretString>,
) -> Result<E::Response, Error> {
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

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(alias = "suite_access_token", deserialize_with = "wire::de")]
    access_token: SecretString,
    #[serde(default, deserialize_with = "wire::de")]
    expires_in: Option<i64>,
}

impl Wire for TokenResponse {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::deserialize(d)
    }
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

/// The errcode envelope every answer carries.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "wire::de")]
    errcode: Option<i64>,
    #[serde(default, deserialize_with = "wire::de")]
    errmsg: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    sub_code: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    sub_msg: Option<String>,
    #[serde(default, deserialize_with = "wire::de")]
    request_id: Option<String>,
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
    // An answer that carries secrets (tokens, permanent codes) is never quoted: neither its start
    // nor the decoder's message, which can repeat a value.
    let bad = |e: serde_json::Error| match meta.secret_response {
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
    };
    let env: Envelope = serde_json::from_slice(bytes).map_err(bad)?;
    if let Some(id) = &env.request_id {
        tracing::Span::current().record("request_id", id.as_str());
    }
    match env.errcode {
        Some(0) | None => {}
        Some(code) => {
            return Err(Error::from(
                ApiError {
                    endpoint: endpoint_name(meta),
                    code,
                    message: env.errmsg.unwrap_or_default(),
                    sub: env.sub_code.filter(|s| !s.is_empty()),
                    sub_msg: env.sub_msg,
                    request_id: env.request_id,
                    class: ErrorClass::Other,
                }
                .classified(meta.classify),
            ))
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let result = match meta.payload_at {
        None => T::wire(&mut de),
        Some(key) => At::<T> {
            key,
            _t: std::marker::PhantomData,
        }
        .deserialize(&mut de),
    };
    result.map_err(bad)
}

/// Decodes the value under one key of the top-level object, skipping the rest.
struct At<T> {
    key: &'static str,
    _t: std::marker::PhantomData<T>,
}

impl<'de, T: Wire> DeserializeSeed<'de> for At<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Wire> Visitor<'de> for At<T> {
    type Value = T;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == self.key && found.is_none() {
                found = Some(map.next_value_seed(Seed::<T>(std::marker::PhantomData))?);
            } else {
                map.next_value::<de::IgnoredAny>()?;
            }
        }
        match found {
            Some(v) => Ok(v),
            // An absent payload is fine for lists and optional values, an error otherwise.
            None => T::wire(serde_json::Value::Null)
                .map_err(|_| de::Error::custom(format_args!("the response has no `{}`", self.key))),
        }
    }
}

struct Seed<T>(std::marker::PhantomData<T>);

impl<'de, T: Wire> DeserializeSeed<'de> for Seed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::wire(d)
    }
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

    const META: EndpointMeta = EndpointMeta {
        area: "user",
        name: "get",
        method: Method::Post,
        path: "/topapi/v2/user/get",
        auth: Auth::AccessToken,
        payload_at: Some("result"),
        idempotent: true,
        binary: false,
        rate_class: crate::request::RateClass::Basic,
        secret_response: false,
        classify: |code| match code {
            40014 => ErrorClass::TokenInvalid,
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
            (api.code, api.sub.as_deref(), api.request_id.as_deref()),
            (88, Some("40014"), Some("r1"))
        );
        assert!(api.is_token_invalid());
        let ok = decode::<serde_json::Value>(br#"{"errcode":"0","result":{"a":1}}"#, &META, None);
        assert_eq!(ok.ok(), Some(serde_json::json!({"a": 1})));
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
            fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
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
