//! A local stand-in for `oapi.dingtalk.com` and `api.dingtalk.com` (their paths do not overlap,
//! so one server plays both): a real HTTP server on 127.0.0.1 that knows every endpoint from the
//! spec. Each host keeps its own rules: the token in the query and errcode answers on oapi, the
//! token in the `x-acs-dingtalk-access-token` header and HTTP-status errors on api. For each request it finds the endpoint by method and path, checks
//! what DingTalk would check (method, path, required params, token, content type), records
//! what it saw, and answers with the endpoint's example response.
//!
//! The endpoints the spec marks as issuing tokens (`issues:`: `/gettoken`, the v1.0 app, suite,
//! corp and user tokens, …) hand out tokens the stand-in tracks, so tests can expire or reject
//! them and count refreshes; which answer field holds the token, which param carries the suite
//! ticket or the organisation, come from the same `issues:`.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method as HttpMethod, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use dingtalk_codegen::model::{Auth, Endpoint, Host, Method, Spec, TokenSource, Ty, TypeKind};
use serde_json::{json, Value};

/// One request as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Query params.
    pub query: BTreeMap<String, String>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// The body parsed as JSON (POST).
    pub body: Option<Value>,
    /// The `x-acs-dingtalk-access-token` header (api.dingtalk.com calls).
    pub token_header: Option<String>,
    /// `area.endpoint` it matched, or `None`.
    pub endpoint: Option<String>,
    /// What DingTalk would have rejected.
    pub violations: Vec<String>,
}

/// How the stand-in behaves; tests change it through [`StandIn::configure`].
#[derive(Clone, Debug, Default)]
pub struct Behavior {
    /// Issue a new token (`tok-1`, `tok-2`, …) on every token request and accept only the
    /// newest; otherwise hand out the spec example's token every time.
    pub rotate_tokens: bool,
    /// The lifetime sent with issued tokens (in the field the endpoint's `issues:` names), or
    /// the spec example's.
    pub expires_in: Option<i64>,
    /// Answers for the next business calls, one per call, before answering normally: a JSON
    /// body (an errcode), or a raw HTTP status and body (an HTML error page, truncated JSON).
    pub fail_next: VecDeque<Fault>,
    /// Answer calls beyond this many per second per path as throttled (errcode 90018 on oapi,
    /// HTTP 403 `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` on api.dingtalk.com), counted
    /// over a sliding second as DingTalk's gateway does.
    pub quota_per_second: Option<usize>,
    /// The suite ticket DingTalk last pushed: `get_suite_token` must carry it with
    /// [`SUITE_SECRET`], and the signed `get_corp_token` must be signed over it (any ticket and
    /// secret when `None`, as the spec examples carry placeholders).
    pub suite_ticket: Option<String>,
    /// Answers for the next token requests, one per request, before issuing a token normally
    /// (`Slow` delays the token it then issues).
    pub token_fail_next: VecDeque<Fault>,
    /// The answer to every token request while set (after `token_fail_next` is used up).
    pub token_fail_all: Option<Fault>,
    /// Told of every accepted request to push the suite ticket again (the spec's
    /// `suite_ticket_push` endpoint), so a test can play DingTalk's push.
    pub on_ticket_push: Option<tokio::sync::mpsc::UnboundedSender<()>>,
}

/// A scripted wrong answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// HTTP 200 with this JSON body.
    Json(Value),
    /// This status and raw body.
    Raw(u16, String),
    /// This status with this JSON body (api.dingtalk.com's error model).
    Status(u16, Value),
    /// The normal answer, after this long (to trip client timeouts).
    Slow(std::time::Duration),
    /// The request is handled, then the connection breaks while the answer is sent: the status
    /// line and part of the body go out, then the connection is dropped.
    Reset,
}

impl Fault {
    /// An api.dingtalk.com error: `status` with `{"code": code, "message", "requestid"}`.
    pub fn v1(status: u16, code: &str) -> Fault {
        Fault::Status(status, v1_error(code, "scripted by the test"))
    }

    /// HTTP 200 with `{"errcode": code, "errmsg": ...}`.
    pub fn errcode(code: i64) -> Fault {
        Fault::Json(
            json!({"errcode": code, "errmsg": "scripted by the test", "request_id": "standin-req"}),
        )
    }
}

struct Route {
    key: String,
    endpoint: EndpointFacts,
    example: Value,
}

/// What the stand-in needs to know of an endpoint.
#[derive(Clone)]
struct EndpointFacts {
    host: Host,
    method: Method,
    json_body: bool,
    path: String,
    auth: Auth,
    required_query: Vec<String>,
    required_body: Vec<String>,
    /// Multipart part that must carry the file, for uploads.
    upload: Option<String>,
    /// The body is one param's value (a bare array), not an object of params.
    whole_body: bool,
    /// Serve the example as a raw file, for downloads.
    binary: bool,
    /// What it issues, when it is a token endpoint.
    issues: Option<TokenFacts>,
}

/// A token endpoint's facts from its `issues:` (the first form: the forms of one endpoint
/// share their fields).
#[derive(Clone)]
struct TokenFacts {
    /// The token kind's spec spelling (`app`, `suite`, `suite_ticket_push`, …).
    kind: &'static str,
    /// The answer field of the token, and of its lifetime.
    token_field: Option<String>,
    expires_field: Option<String>,
    /// The params filled with the suite secret, the suite ticket, the organisation.
    suite_secret: Option<String>,
    suite_ticket: Option<String>,
    auth_corp: Option<String>,
}

impl TokenFacts {
    fn from(ep: &Endpoint) -> Option<TokenFacts> {
        let first = ep.issues.first()?;
        let param = |credential: &str| {
            first
                .params
                .iter()
                .find_map(|(name, _, source)| match source {
                    TokenSource::Credential(c) if c.name == credential => Some(name.clone()),
                    _ => None,
                })
        };
        Some(TokenFacts {
            kind: first.kind.name,
            token_field: first.token.clone(),
            expires_field: first.expires_in.clone(),
            suite_secret: param("suite_secret"),
            suite_ticket: param("suite_ticket"),
            auth_corp: param("auth_corp_id"),
        })
    }

    fn issues_token(&self) -> bool {
        self.kind != "suite_ticket_push"
    }
}

impl EndpointFacts {
    fn from(ep: &Endpoint, spec: &Spec) -> Self {
        EndpointFacts {
            host: ep.host,
            method: ep.method,
            json_body: ep.json_body(),
            path: ep.path.clone(),
            auth: ep.auth,
            required_query: ep
                .query
                .iter()
                .filter(|f| f.required)
                .map(|f| f.wire.clone())
                .collect(),
            // A flattened union shows as its tag key next to the other params.
            required_body: ep
                .body
                .iter()
                .filter(|f| f.required && !f.whole_body)
                .filter_map(|f| match (&f.ty, f.flatten) {
                    (_, false) => Some(f.wire.clone()),
                    (Ty::Named(name), true) => match spec.types.get(name).map(|t| &t.kind) {
                        Some(TypeKind::Union(u)) => Some(u.tag_key.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect(),
            upload: ep.upload.clone(),
            whole_body: ep.body.iter().any(|f| f.whole_body),
            binary: ep.response.is_file(),
            issues: TokenFacts::from(ep),
        }
    }

    fn path_matches(&self, path: &str) -> bool {
        let want: Vec<&str> = self.path.split('/').collect();
        let got: Vec<&str> = path.split('/').collect();
        want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|(w, g)| w == g || (w.starts_with('{') && w.ends_with('}') && !g.is_empty()))
    }
}

struct Inner {
    routes: Vec<Route>,
    /// The paths of the endpoints that issue tokens.
    token_paths: Vec<String>,
    behavior: Mutex<Behavior>,
    seen: Mutex<Vec<Seen>>,
    /// Tokens currently accepted (with the family that issued them), and how many were issued.
    tokens: Mutex<(Vec<(String, String)>, u64)>,
    example_token: String,
    /// Arrival times of accepted business calls per path, for the quota.
    arrivals: Mutex<std::collections::HashMap<String, VecDeque<std::time::Instant>>>,
    /// Calls answered with 90018 because of the quota.
    throttled: Mutex<usize>,
}

impl Inner {
    fn is_token_path(&self, path: &str) -> bool {
        self.token_paths.iter().any(|p| p == path)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running stand-in. Dropping it stops the server.
pub struct StandIn {
    addr: SocketAddr,
    inner: Arc<Inner>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The header api.dingtalk.com takes the token in.
const API_TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

/// A v1.0 error answer.
fn v1_error(code: &str, message: &str) -> Value {
    json!({"code": code, "message": message, "requestid": "standin-req"})
}

/// The secret the stand-in checks signed calls against (`dingtalk::client().sns_app(.., this)`).
pub const SNS_SECRET: &str = "sns-app-secret";

/// The suite secret the stand-in checks suite-signed calls and suite-token requests against
/// (`dingtalk::client().suite(.., this)`).
pub const SUITE_SECRET: &str = "suite-secret";

impl StandIn {
    /// Starts a stand-in for every endpoint of `spec` on an ephemeral loopback port.
    pub async fn start(spec: &Spec) -> std::io::Result<StandIn> {
        let mut routes = Vec::new();
        let mut example_token = String::from("standin-token");
        for area in &spec.areas {
            for ep in &area.endpoints {
                if ep.path == "/gettoken" {
                    if let Some(t) = ep.example.get("access_token").and_then(Value::as_str) {
                        example_token = t.to_string();
                    }
                }
                routes.push(Route {
                    key: format!("{}.{}", area.name, ep.name),
                    endpoint: EndpointFacts::from(ep, spec),
                    example: ep.example.clone(),
                });
            }
        }
        let mut token_paths: Vec<String> = routes
            .iter()
            .filter(|r| {
                r.endpoint
                    .issues
                    .as_ref()
                    .is_some_and(TokenFacts::issues_token)
            })
            .map(|r| r.endpoint.path.clone())
            .collect();
        token_paths.dedup();
        let inner = Arc::new(Inner {
            routes,
            token_paths,
            behavior: Mutex::new(Behavior::default()),
            seen: Mutex::new(Vec::new()),
            tokens: Mutex::new((Vec::new(), 0)),
            example_token,
            arrivals: Mutex::default(),
            throttled: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(StandIn {
            addr,
            inner,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Changes the behaviour.
    pub fn configure(&self, f: impl FnOnce(&mut Behavior)) {
        f(&mut lock(&self.inner.behavior));
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.inner.seen).clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_seen(&self) {
        lock(&self.inner.seen).clear();
    }

    /// Requests to token-issuing paths so far.
    pub fn token_requests(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| self.inner.is_token_path(&s.path))
            .count()
    }

    /// Requests to other paths so far.
    pub fn business_requests(&self) -> usize {
        self.seen()
            .iter()
            .filter(|s| !self.inner.is_token_path(&s.path))
            .count()
    }

    /// Token requests per `(path, auth_corpid)`: how often each organisation's token (or, with
    /// no corp, the suite's or app's) was fetched.
    pub fn token_requests_for(&self, path: &str, corp: Option<&str>) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path == path)
            .filter(|s| {
                s.body
                    .as_ref()
                    .and_then(|b| b.get("auth_corpid").or_else(|| b.get("authCorpId")))
                    .and_then(Value::as_str)
                    == corp
            })
            .count()
    }

    /// The token of every business request (the `access_token` query param, or the
    /// api.dingtalk.com header), in order.
    pub fn tokens_used(&self) -> Vec<String> {
        self.seen()
            .iter()
            .filter(|s| !self.inner.is_token_path(&s.path))
            .filter_map(|s| {
                s.query
                    .get("access_token")
                    .or(s.token_header.as_ref())
                    .cloned()
            })
            .collect()
    }

    /// Calls answered as throttled because they exceeded `quota_per_second`.
    pub fn throttled(&self) -> usize {
        *lock(&self.inner.throttled)
    }

    /// Makes every issued token invalid (as if DingTalk expired them).
    pub fn revoke_tokens(&self) {
        lock(&self.inner.tokens).0.clear();
    }
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query: BTreeMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut seen = Seen {
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        content_type: content_type.clone(),
        body: None,
        token_header: headers
            .get(API_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        endpoint: None,
        violations: Vec::new(),
    };

    let multipart = content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("multipart/form-data"));
    let wanted = match method.as_str() {
        "GET" => Method::Get,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        _ => Method::Post,
    };
    // GET and body-less DELETE carry nothing; the rest a JSON object (or a multipart upload).
    let json_expected = !multipart
        && (!body.is_empty() || matches!(wanted, Method::Post | Method::Put | Method::Patch));
    // A bare array is a body only for endpoints whose one param is the whole body; which
    // endpoint it is is known below, so the check waits until then.
    let mut bare_body = false;
    if json_expected {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) if v.is_object() => seen.body = Some(v),
            Ok(v) if v.is_array() => {
                bare_body = true;
                seen.body = Some(v);
            }
            _ => seen.violations.push(format!(
                "{method} body is not a JSON object: {:?}",
                String::from_utf8_lossy(&body)
            )),
        }
        if !content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
        {
            seen.violations.push(format!(
                "{method} without Content-Type: application/json (got {content_type:?})"
            ));
        }
    }
    let candidates: Vec<&Route> = inner
        .routes
        .iter()
        .filter(|r| r.endpoint.path_matches(&path))
        .collect();
    if candidates.is_empty() {
        seen.violations
            .push(format!("no endpoint has the path {path}"));
        return finish(
            &inner,
            seen,
            StatusCode::NOT_FOUND,
            json!({"errcode": 404, "errmsg": "URI does not exist"}),
        );
    }
    let same_method: Vec<&Route> = candidates
        .iter()
        .copied()
        .filter(|r| r.endpoint.method == wanted)
        .collect();
    if same_method.is_empty() {
        seen.violations
            .push(format!("{path} does not take {method}"));
        return finish(
            &inner,
            seen,
            StatusCode::OK,
            json!({"errcode": 43001, "errmsg": "wrong method"}),
        );
    }
    // Endpoints that share a path (two credential styles of /gettoken) are told apart by their
    // required params.
    let problems = |r: &Route| -> Vec<String> {
        let mut p = Vec::new();
        for q in &r.endpoint.required_query {
            if !query.contains_key(q) {
                p.push(format!("{}: missing required query param `{q}`", r.key));
            }
        }
        for b in &r.endpoint.required_body {
            if seen
                .body
                .as_ref()
                .and_then(|v| v.get(b))
                .is_none_or(Value::is_null)
            {
                p.push(format!("{}: missing required body param `{b}`", r.key));
            }
        }
        p
    };
    // The most specific match wins: `/file/upload/transaction` opens without `upload_id` and
    // commits with it.
    let specificity =
        |r: &&&Route| r.endpoint.required_query.len() + r.endpoint.required_body.len();
    let route = match same_method
        .iter()
        .filter(|r| problems(r).is_empty())
        .max_by_key(specificity)
    {
        Some(r) => *r,
        None => {
            seen.violations.extend(problems(same_method[0]));
            same_method[0]
        }
    };
    seen.endpoint = Some(route.key.clone());
    match (route.endpoint.whole_body, bare_body) {
        (true, false) if seen.body.is_some() => seen.violations.push(format!(
            "{}: the body must be the bare JSON array, not an object",
            route.key
        )),
        (true, true)
            if seen
                .body
                .as_ref()
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty) =>
        {
            seen.violations
                .push(format!("{}: an empty body array", route.key));
        }
        (false, true) => seen.violations.push(format!(
            "{}: a bare JSON array sent to an endpoint that takes an object",
            route.key
        )),
        _ => {}
    }
    if !route.endpoint.json_body && !body.is_empty() {
        seen.violations
            .push(format!("{}: a {method} with a body", route.key));
    }
    match (&route.endpoint.upload, multipart) {
        (Some(part), true) => {
            let text = String::from_utf8_lossy(&body);
            if !text.contains(&format!("name=\"{part}\"")) {
                seen.violations.push(format!(
                    "{}: the multipart body has no part named `{part}`",
                    route.key
                ));
            }
        }
        (Some(_), false) => seen.violations.push(format!(
            "{}: an upload must be multipart/form-data (got {content_type:?})",
            route.key
        )),
        (None, true) => seen.violations.push(format!(
            "{}: multipart/form-data sent to a JSON endpoint",
            route.key
        )),
        (None, false) => {}
    }

    if matches!(route.endpoint.auth, Auth::Signed | Auth::SuiteSigned) {
        // Recompute the signature as DingTalk does and refuse a wrong or stale one. Personal
        // login signs the timestamp with the SNS app's secret, the ISV form
        // `timestamp + "\n" + suiteTicket` with the suite secret.
        let ts = query.get("timestamp").cloned().unwrap_or_default();
        let ticket = query.get("suiteTicket").cloned().unwrap_or_default();
        let suite = route.endpoint.auth == Auth::SuiteSigned;
        let expected = if suite {
            dingtalk::runtime::sign::hmac_sha256_base64(SUITE_SECRET, &format!("{ts}\n{ticket}"))
        } else {
            dingtalk::runtime::sign::hmac_sha256_base64(SNS_SECRET, &ts)
        };
        let now = crate::now_ms();
        let fresh = ts.parse::<i64>().is_ok_and(|t| (now - t).abs() <= 60_000);
        let latest = lock(&inner.behavior).suite_ticket.clone();
        if !query.contains_key("accessKey") {
            seen.violations
                .push(format!("{}: a signed call without accessKey", route.key));
        }
        let refusal = if query.get("signature") != Some(&expected) {
            Some(("wrong signature".to_string(), 853004, "签名不匹配"))
        } else if !fresh {
            Some((format!("stale timestamp {ts}"), 853002, "时间戳过期"))
        } else if suite && latest.is_some_and(|t| t != ticket) {
            Some((
                "not the latest suite ticket".to_string(),
                40078,
                "不存在的临时授权码或suite_ticket",
            ))
        } else {
            None
        };
        if let Some((why, code, msg)) = refusal {
            seen.violations.push(format!("{}: {why}", route.key));
            return finish(
                &inner,
                seen,
                StatusCode::OK,
                json!({"errcode": code, "errmsg": msg}),
            );
        }
    }
    if route.endpoint.host == Host::Api {
        if query.contains_key("access_token") {
            seen.violations.push(format!(
                "{}: a token in the query of an api.dingtalk.com call",
                route.key
            ));
        }
        if matches!(route.endpoint.auth, Auth::AccessToken | Auth::UserToken) {
            let sent = headers.get(API_TOKEN_HEADER).and_then(|v| v.to_str().ok());
            let family_ok = |family: &str| match route.endpoint.auth {
                Auth::UserToken => family == "user",
                _ => family != "user",
            };
            let valid = sent.is_some_and(|t| {
                lock(&inner.tokens)
                    .0
                    .iter()
                    .any(|(family, known)| known == t && family_ok(family))
            });
            if sent.is_none() {
                seen.violations
                    .push(format!("{}: no {API_TOKEN_HEADER} header", route.key));
            }
            if !valid {
                return finish(
                    &inner,
                    seen,
                    StatusCode::BAD_REQUEST,
                    v1_error("InvalidAuthentication", "不合法的access_token"),
                );
            }
        }
    } else if matches!(
        route.endpoint.auth,
        Auth::AccessToken | Auth::SsoToken | Auth::SnsAppToken | Auth::SuiteToken
    ) {
        let param = if route.endpoint.auth == Auth::SuiteToken {
            "suite_access_token"
        } else {
            "access_token"
        };
        let valid = query
            .get(param)
            .is_some_and(|t| lock(&inner.tokens).0.iter().any(|(_, known)| known == t));
        if !query.contains_key(param) {
            seen.violations
                .push(format!("{}: no {param} in the query", route.key));
        }
        if !valid {
            return finish(
                &inner,
                seen,
                StatusCode::OK,
                json!({"errcode": 40014, "errmsg": "不合法的access_token"}),
            );
        }
    }
    if inner.is_token_path(&path) {
        let fault = {
            let mut behavior = lock(&inner.behavior);
            let next = behavior.token_fail_next.pop_front();
            next.or_else(|| behavior.token_fail_all.clone())
        };
        match fault {
            Some(Fault::Slow(delay)) => {
                // Recorded on arrival, as for business calls; the token is issued afterwards.
                let mut arrived = seen.clone();
                arrived.endpoint = Some(format!("{} (slow)", route.key));
                lock(&inner.seen).push(arrived);
                tokio::time::sleep(delay).await;
                return issue_token(&inner, seen, route, false);
            }
            Some(fault) => return answer_fault(&inner, seen, fault),
            None => {}
        }
        return issue_token(&inner, seen, route, true);
    }
    business(&inner, seen, route, &path).await
}

/// Answers a token request with a fresh token; `record` says whether to record the request
/// (a slow one was recorded on arrival). What to check and where the token goes come from the
/// endpoint's `issues:`.
fn issue_token(inner: &Inner, mut seen: Seen, route: &Route, record: bool) -> Response {
    let Some(facts) = route.endpoint.issues.clone() else {
        return finish(inner, seen, StatusCode::OK, route.example.clone());
    };
    let behavior = lock(&inner.behavior).clone();
    let body = seen.body.clone().unwrap_or_default();
    let field = |k: &Option<String>| {
        k.as_ref()
            .and_then(|k| body.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let v1 = route.endpoint.host == Host::Api;
    let refuse = |inner: &Inner, seen: Seen, errcode: i64, code: &str, msg: &str| {
        if v1 {
            finish(inner, seen, StatusCode::BAD_REQUEST, v1_error(code, msg))
        } else {
            finish(
                inner,
                seen,
                StatusCode::OK,
                json!({"errcode": errcode, "errmsg": msg}),
            )
        }
    };
    // With a pushed ticket configured, a form that sends the ticket needs the suite's secret
    // and that ticket.
    if behavior.suite_ticket.is_some() && facts.suite_ticket.is_some() {
        if field(&facts.suite_secret).as_deref() != Some(SUITE_SECRET) {
            seen.violations
                .push(format!("{}: wrong suite secret", route.key));
            return refuse(
                inner,
                seen,
                40089,
                "invalidClientIdOrSecret",
                "不合法的corpid或corpsecret",
            );
        }
        if field(&facts.suite_ticket) != behavior.suite_ticket {
            seen.violations
                .push(format!("{}: not the latest suite ticket", route.key));
            return refuse(
                inner,
                seen,
                40078,
                "invalidSuiteTicket",
                "不存在的临时授权码或suite_ticket",
            );
        }
    }
    // Tokens belong to a family (the app, the suite, each organisation, the users); a new one
    // replaces only its own family's. Both hosts' app tokens are one family: one token.
    let corp = field(&facts.auth_corp);
    let family = match (&corp, facts.kind) {
        (Some(corp), _) => format!("corp-{corp}"),
        (None, "user_sign_in" | "user_refresh") => "user".to_string(),
        (None, kind) => kind.to_string(),
    };
    let token_field = facts
        .token_field
        .clone()
        .unwrap_or_else(|| "access_token".to_string());
    let token = {
        let mut tokens = lock(&inner.tokens);
        tokens.1 += 1;
        let t = match (&corp, behavior.rotate_tokens) {
            (Some(corp), true) => format!("corp-{corp}-{}", tokens.1),
            (None, true) if family == "suite" => format!("suite-{}", tokens.1),
            (None, true) if family == "user" => format!("user-{}", tokens.1),
            (None, true) => format!("tok-{}", tokens.1),
            (_, false) => route
                .example
                .get(&token_field)
                .and_then(Value::as_str)
                .map_or_else(|| inner.example_token.clone(), str::to_string),
        };
        if behavior.rotate_tokens {
            tokens.0.retain(|(f, _)| f != &family);
        }
        if !tokens.0.iter().any(|(_, known)| known == &t) {
            tokens.0.push((family, t.clone()));
        }
        t
    };
    let mut answer = route.example.clone();
    answer[token_field.as_str()] = Value::String(token);
    if let (Some(field), Some(lifetime)) = (&facts.expires_field, behavior.expires_in) {
        answer[field.as_str()] = Value::from(lifetime);
    }
    if !record {
        return json_response(StatusCode::OK, answer);
    }
    finish(inner, seen, StatusCode::OK, answer)
}

/// A scripted wrong answer, to a token or a business call (`Slow` is handled by the caller).
fn answer_fault(inner: &Inner, seen: Seen, fault: Fault) -> Response {
    match fault {
        Fault::Json(body) => finish(inner, seen, StatusCode::OK, body),
        Fault::Status(status, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            finish(inner, seen, status, body)
        }
        Fault::Raw(status, body) => {
            lock(&inner.seen).push(seen);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [("content-type", "text/html")], body).into_response()
        }
        Fault::Reset | Fault::Slow(_) => {
            lock(&inner.seen).push(seen);
            // The answer's length is announced, its start sent, then the stream fails: the
            // connection is dropped mid-answer.
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"errcode\":0,")),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "scripted reset",
                )),
            ];
            let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
            (StatusCode::OK, [("content-type", "application/json")], body).into_response()
        }
    }
}

/// A business call past the token check: quota, scripted faults, then the example.
async fn business(inner: &Inner, mut seen: Seen, route: &Route, path: &str) -> Response {
    let path = path.to_string();
    if let Some(facts) = route.endpoint.issues.as_ref().filter(|f| !f.issues_token()) {
        // A request to push the suite ticket again: the suite's secret, then the push.
        let secret = facts
            .suite_secret
            .as_ref()
            .and_then(|k| seen.query.get(k))
            .cloned();
        // Checked when a test plays a suite (the spec examples carry placeholders).
        let playing = lock(&inner.behavior).suite_ticket.is_some();
        if playing && secret.as_deref() != Some(SUITE_SECRET) {
            seen.violations
                .push(format!("{}: wrong suite secret", route.key));
            return finish(
                inner,
                seen,
                StatusCode::BAD_REQUEST,
                v1_error("invalidClientIdOrSecret", "suiteSecret不正确"),
            );
        }
        if let Some(tx) = &lock(&inner.behavior).on_ticket_push {
            let _ = tx.send(());
        }
    }
    let quota = lock(&inner.behavior).quota_per_second;
    if let Some(quota) = quota {
        let now = std::time::Instant::now();
        let mut arrivals = lock(&inner.arrivals);
        let window = arrivals.entry(path.clone()).or_default();
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            window.pop_front();
        }
        if window.len() >= quota {
            drop(arrivals);
            *lock(&inner.throttled) += 1;
            // Each host throttles in its own error model: errcode 90018 on oapi, HTTP 403 with
            // the QpsLimit code on api.dingtalk.com.
            let (status, body) = match route.endpoint.host {
                Host::Api => (
                    StatusCode::FORBIDDEN,
                    v1_error(
                        "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                        "当前应用调用该接口的QPS超过限制",
                    ),
                ),
                _ => (
                    StatusCode::OK,
                    json!({"errcode": 90018, "errmsg": "当前应用调用该接口的QPS超过限制"}),
                ),
            };
            return finish(inner, seen, status, body);
        }
        window.push_back(now);
    }
    let forced = lock(&inner.behavior).fail_next.pop_front();
    match forced {
        Some(Fault::Slow(delay)) => {
            // Recorded on arrival: a client that gives up drops the connection, and with it
            // this handler.
            lock(&inner.seen).push(seen);
            tokio::time::sleep(delay).await;
            let body = route.example.to_string();
            return (StatusCode::OK, [("content-type", "application/json")], body).into_response();
        }
        Some(fault) => return answer_fault(inner, seen, fault),
        None => {}
    }
    if route.endpoint.binary {
        let ct = route.example["content_type"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string();
        let file = route.example["body"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        lock(&inner.seen).push(seen);
        let disposition = "attachment; filename=\"example.bin\"".to_string();
        return (
            StatusCode::OK,
            [("content-type", ct), ("content-disposition", disposition)],
            file,
        )
            .into_response();
    }
    finish(inner, seen, StatusCode::OK, route.example.clone())
}

fn finish(inner: &Inner, seen: Seen, status: StatusCode, body: Value) -> Response {
    lock(&inner.seen).push(seen);
    json_response(status, body)
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [("content-type", "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}
