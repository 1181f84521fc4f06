//! The client: credentials, HTTP settings and the token caches, shared cheaply by cloning.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::token::TokenCache;
use crate::{Error, SecretString};

/// DingTalk's classic server API host.
pub const DEFAULT_BASE_URL: &str = "https://oapi.dingtalk.com";

/// DingTalk's newer server API host (the `/v1.0/` and `/v2.0/` APIs).
pub const DEFAULT_API_BASE_URL: &str = "https://api.dingtalk.com";

/// Settings of one call that override the client's (`Call::retry` and `Call::timeout` in
/// generated crates, or [`Client::send_with`]).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct CallOptions {
    /// The retry policy of this call (its token fetches keep the client's).
    pub retry: Option<crate::RetryPolicy>,
    /// The time each HTTP exchange of this call may take.
    pub timeout: Option<Duration>,
}

impl CallOptions {
    /// Sets [`retry`](Self::retry).
    pub fn retry(mut self, policy: crate::RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}

tokio::task_local! {
    /// The options of the call running in this task.
    static CALL: CallOptions;
    /// Where the download running in this task writes its chunks ([`Client::download_to`]).
    static DOWNLOAD_SINK: tokio::sync::mpsc::Sender<bytes::Bytes>;
}

/// The longest JSON answer read unless [`ClientBuilder::max_response_bytes`] says otherwise:
/// 16 MiB, far above any DingTalk answer.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 16 << 20;

/// The longest download held in memory unless [`ClientBuilder::max_download_bytes`] says
/// otherwise: 256 MiB.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 256 << 20;

/// Calls in flight per client unless [`ClientBuilder::max_in_flight`] says otherwise.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 128;

/// The most of an error page read: enough for its snippet.
const ERROR_PAGE_BYTES: u64 = 64 << 10;

/// The credentials an app trades for its access token at `/gettoken`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Credentials {
    /// An app's AppKey and AppSecret (current apps).
    AppKey {
        /// AppKey (Client ID).
        app_key: String,
        /// AppSecret.
        app_secret: SecretString,
    },
    /// An organisation's CorpId and CorpSecret (older apps).
    CorpSecret {
        /// CorpId.
        corp_id: String,
        /// CorpSecret.
        corp_secret: SecretString,
    },
}

impl Credentials {
    /// The public half (AppKey or CorpId), for logs.
    pub fn id(&self) -> &str {
        match self {
            Credentials::AppKey { app_key, .. } => app_key,
            Credentials::CorpSecret { corp_id, .. } => corp_id,
        }
    }

    /// What names this app in a token store: the AppKey, or for CorpSecret apps (an
    /// organisation can have several) the CorpId and a digest of the secret,
    /// `<corpid>:<16 hex digits>`.
    pub fn store_id(&self) -> String {
        match self {
            Credentials::AppKey { app_key, .. } => app_key.clone(),
            Credentials::CorpSecret {
                corp_id,
                corp_secret,
            } => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(corp_secret.expose_secret().as_bytes());
                let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
                format!("{corp_id}:{hex}")
            }
        }
    }
}

/// A DingTalk client. Cheap to clone; clones share the connection pool and token caches.
///
/// ```no_run
/// # async fn run() -> Result<(), dingtalk_runtime::Error> {
/// // A generated crate hands the builder its token endpoints: `dingtalk::client()`.
/// # let token_endpoints = dingtalk_runtime::grant::NO_TOKEN_ENDPOINTS;
/// let client = dingtalk_runtime::ClientBuilder::new(token_endpoints)
///     .app_key("dingxxxx", "secret")
///     .build()?;
/// // Generated crates add the calls: `client.user().get("manager4220").await?` with the
/// // `dingtalk` crate's prelude in scope.
/// let token = client.access_token().await?;
/// # let _ = token; Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// The endpoints that issue tokens, from the generated crate's spec.
    pub(crate) token_endpoints: &'static [crate::grant::TokenEndpoint],
    /// The host whose token endpoints are tried first, if one is preferred.
    pub(crate) token_host: Option<crate::request::Host>,
    /// How token caches are made (for the organisation clients of a suite, made later).
    pub(crate) caches: CacheConfig,
    pub(crate) limits: LimitConfig,
    /// ISV suite or custom app credentials, shared with its organisations' clients.
    pub(crate) suite: Option<Arc<crate::isv::Suite>>,
    /// Set on an organisation's client: whose token `access_token` calls carry.
    pub(crate) corp: Option<crate::isv::CorpGrant>,
    /// On a suite's client: the organisation clients handed out.
    pub(crate) corps: crate::isv::Corps,
    pub(crate) base_url: String,
    pub(crate) api_base_url: String,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) sso: Option<(String, SecretString)>,
    pub(crate) sns: Option<(String, SecretString)>,
    pub(crate) app_token: TokenCache,
    pub(crate) sso_token: TokenCache,
    pub(crate) sns_token: TokenCache,
    pub(crate) jsapi_ticket: TokenCache,
    /// Signed-in users' tokens.
    pub(crate) users: crate::user_token::UserTokens,
    pub(crate) retry: crate::RetryPolicy,
    /// The time one request may take.
    pub(crate) timeout: Duration,
    /// The most pages a walk fetches.
    pub(crate) max_pages: u64,
    /// The longest JSON answer read, and the longest download.
    pub(crate) max_response_bytes: u64,
    pub(crate) max_download_bytes: u64,
    /// Bounds the HTTP exchanges in flight (shared with the organisation clients of a suite).
    pub(crate) in_flight: Arc<tokio::sync::Semaphore>,
    pub(crate) limiter: Option<crate::limit::Limiter>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("api_base_url", &self.inner.api_base_url)
            .field("credentials", &self.inner.credentials)
            .field("sso_corp_id", &self.inner.sso.as_ref().map(|(id, _)| id))
            .field("sns_app_id", &self.inner.sns.as_ref().map(|(id, _)| id))
            .field("suite_key", &self.inner.suite.as_ref().map(|s| &s.key))
            .field("corp_id", &self.corp_id())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The base URL oapi.dingtalk.com calls go to.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The base URL api.dingtalk.com calls go to.
    pub fn api_base_url(&self) -> &str {
        &self.inner.api_base_url
    }

    /// The base URL of `host`.
    pub(crate) fn host_url(&self, host: crate::request::Host) -> &str {
        match host {
            crate::request::Host::Oapi => &self.inner.base_url,
            crate::request::Host::Api => &self.inner.api_base_url,
        }
    }

    /// The app's access token, from the cache or freshly fetched. An errcode from the token
    /// endpoint is [`ErrorClass::Other`](crate::ErrorClass::Other) here (a call classifies it
    /// with its own error table).
    pub async fn access_token(&self) -> Result<SecretString, Error> {
        let token = self.guarded(self.app_token(crate::error::unclassified));
        Ok(token.await?.value.clone())
    }

    /// Runs `fut` (a call, or a token fetch of its own) within a call's bounds: waits end at
    /// [`call_deadline`](Self::call_deadline), and every secret the client knows or the call
    /// sends is masked in the error snippets it makes.
    pub(crate) async fn guarded<F: std::future::Future>(&self, fut: F) -> F::Output {
        let deadline = self.call_deadline();
        let masked = crate::secret::masking(self.clone(), fut);
        crate::token::DEADLINE.scope(deadline, masked).await
    }

    /// The secrets this client holds: credentials, and the tokens and codes it has.
    pub(crate) fn known_secrets(&self) -> Vec<SecretString> {
        let inner = &self.inner;
        let mut known = Vec::new();
        match &inner.credentials {
            Some(Credentials::AppKey { app_secret, .. }) => known.push(app_secret.clone()),
            Some(Credentials::CorpSecret { corp_secret, .. }) => known.push(corp_secret.clone()),
            None => {}
        }
        known.extend(inner.sso.iter().map(|(_, s)| s.clone()));
        known.extend(inner.sns.iter().map(|(_, s)| s.clone()));
        for cache in [
            &inner.app_token,
            &inner.sso_token,
            &inner.sns_token,
            &inner.jsapi_ticket,
        ] {
            known.extend(cache.current_value());
        }
        self.suite_secrets(&mut known);
        known
    }

    /// The app (AppKey, CorpId or suite key) this client calls as, for logs.
    pub(crate) fn app_id(&self) -> &str {
        match (&self.inner.credentials, &self.inner.suite) {
            (Some(c), _) => c.id(),
            (None, Some(s)) => &s.key,
            (None, None) => "",
        }
    }

    /// A client for one organisation of this suite: the same connection pool, settings and
    /// suite, its own token and rate limiter (DingTalk's limits are per organisation).
    pub(crate) fn for_corp(&self, grant: crate::isv::CorpGrant) -> Client {
        let inner = &self.inner;
        let suite_key = inner.suite.as_ref().map_or("", |s| s.key.as_str());
        let id = format!("{suite_key}:{}", grant.corp_id);
        Client {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                token_endpoints: inner.token_endpoints,
                token_host: inner.token_host,
                caches: inner.caches.clone(),
                limits: inner.limits.clone(),
                suite: inner.suite.clone(),
                corp: Some(grant),
                corps: Default::default(),
                base_url: inner.base_url.clone(),
                api_base_url: inner.api_base_url.clone(),
                credentials: None,
                sso: None,
                sns: None,
                app_token: inner.caches.cache("corp_token", Some(&id)),
                sso_token: inner.caches.cache("sso_token", None),
                sns_token: inner.caches.cache("sns_token", None),
                jsapi_ticket: inner.caches.cache("corp_jsapi_ticket", Some(&id)),
                users: Default::default(),
                retry: inner.retry.clone(),
                timeout: inner.timeout,
                max_pages: inner.max_pages,
                max_response_bytes: inner.max_response_bytes,
                max_download_bytes: inner.max_download_bytes,
                in_flight: Arc::clone(&inner.in_flight),
                limiter: inner.limits.limiter(&id),
            }),
        }
    }

    /// The JSAPI ticket, cached like a token (shared through the token store, refreshed before
    /// it expires); `fetch` asks DingTalk for a fresh one (ticket, seconds it lives) when needed.
    /// The ticket's endpoint is the spec's, so the caller (a workflow) makes that call.
    pub async fn jsapi_ticket<F, Fut>(&self, fetch: F) -> Result<SecretString, Error>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        let ticket = self.guarded(self.inner.jsapi_ticket.get_once(fetch));
        Ok(ticket.await?.value.clone())
    }

    /// A slot for one HTTP exchange, waiting for one until the call's deadline.
    pub(crate) async fn call_slot(
        &self,
        endpoint: &str,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, Error> {
        let started = tokio::time::Instant::now();
        let deadline = crate::token::DEADLINE
            .try_with(|d| *d)
            .unwrap_or_else(|_| self.call_deadline());
        match tokio::time::timeout_at(deadline, self.inner.in_flight.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            // The semaphore is never closed.
            Ok(Err(_)) | Err(_) => Err(Error::Deadline {
                endpoint: endpoint.to_string(),
                what: "a free call slot (`max_in_flight`)",
                waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            }),
        }
    }

    /// A download answered with a redirect (the file on a CDN): follows it with plain GETs, up
    /// to 5 hops. API calls follow none (the client's reqwest policy); a download's GET carries
    /// no body, and the HTTPS-only rule still applies to every hop.
    pub(crate) async fn follow_download_redirects(
        &self,
        mut resp: reqwest::Response,
        endpoint: &str,
    ) -> Result<reqwest::Response, Error> {
        for _ in 0..5 {
            if !resp.status().is_redirection() {
                return Ok(resp);
            }
            let next = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| resp.url().join(l).ok());
            let Some(next) = next else {
                return Ok(resp);
            };
            let req = self.inner.http.get(next);
            let req = match self.call_timeout() {
                Some(t) => req.timeout(t),
                None => req,
            };
            resp = req
                .send()
                .await
                .map_err(|e| Error::transport(endpoint.to_string(), e))?;
        }
        Ok(resp)
    }

    /// The body of `resp`, read chunk by chunk up to the cap for its kind (`binary`: a download;
    /// an error status: only what a snippet needs). Says whether it was read whole; the cap.
    /// A download inside [`download_to`](Self::download_to) goes to its writer instead (the
    /// body returned is then empty), unless it is DingTalk's JSON error envelope.
    pub(crate) async fn read_body(
        &self,
        mut resp: reqwest::Response,
        binary: bool,
        endpoint: &str,
    ) -> Result<(bytes::Bytes, bool, u64), Error> {
        let transport = |e| Error::transport(endpoint.to_string(), e);
        let cap = match (resp.status().is_success(), binary) {
            (false, _) => ERROR_PAGE_BYTES,
            (true, true) => self.inner.max_download_bytes,
            (true, false) => self.inner.max_response_bytes,
        };
        let sink = match (resp.status().is_success(), binary) {
            (true, true) => DOWNLOAD_SINK.try_with(Clone::clone).ok(),
            _ => None,
        };
        let Some(sink) = sink else {
            let (bytes, whole) = read_capped(resp, cap, None).await.map_err(transport)?;
            return Ok((bytes, whole, cap));
        };
        let first = resp.chunk().await.map_err(transport)?.unwrap_or_default();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let json = content_type.is_some_and(|c| c.contains("json"))
            || (content_type.is_none_or(|c| c.starts_with("text/"))
                && first.trim_ascii_start().starts_with(b"{\"errcode\""));
        if json {
            let (bytes, whole) = read_capped(resp, cap, Some(first))
                .await
                .map_err(transport)?;
            return Ok((bytes, whole, cap));
        }
        let gone = || Error::Transport {
            endpoint: endpoint.to_string(),
            kind: crate::TransportKind::Other,
            message: "the download's writer failed".into(),
        };
        if !first.is_empty() {
            sink.send(first).await.map_err(|_| gone())?;
        }
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            sink.send(chunk).await.map_err(|_| gone())?;
        }
        Ok((bytes::Bytes::new(), true, cap))
    }

    /// Sends the download `request` and writes the file to `writer` as it arrives, in constant
    /// memory, whatever its size; returns the endpoint's answer (its `bytes` empty: they went to
    /// `writer`) and how many bytes were written. DingTalk's JSON error answer is an error, as
    /// for [`send`](Self::send). Not retried once bytes may have been written: the call runs
    /// without the retry policy (a rejected token is still refreshed and retried once).
    pub async fn download_to<E, W>(
        &self,
        request: &E,
        writer: &mut W,
    ) -> Result<(E::Response, u64), Error>
    where
        E: crate::Endpoint,
        W: tokio::io::AsyncWrite + Unpin + Send,
    {
        use tokio::io::AsyncWriteExt;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
        let options = CallOptions::default().retry(crate::RetryPolicy::none());
        let call = DOWNLOAD_SINK.scope(tx, CALL.scope(options, self.send(request)));
        let endpoint = crate::error::endpoint_name(&E::META);
        let drain = async {
            let mut written = 0u64;
            while let Some(chunk) = rx.recv().await {
                writer.write_all(&chunk).await?;
                written += chunk.len() as u64;
            }
            writer.flush().await?;
            Ok::<_, std::io::Error>(written)
        };
        let (answer, written) = tokio::join!(call, drain);
        let written = written.map_err(|e| Error::Transport {
            endpoint,
            kind: crate::TransportKind::Other,
            message: format!("the download's writer failed: {e}"),
        });
        match (answer, written) {
            (Ok(answer), Ok(written)) => Ok((answer, written)),
            // The writer's failure is why the call failed.
            (_, Err(e)) | (Err(e), _) => Err(e),
        }
    }

    /// The deadline of a call starting now: one timeout past its retry budget. Whatever the
    /// call waits for (a token refresh, another instance's lease) it stops waiting then.
    pub(crate) fn call_deadline(&self) -> tokio::time::Instant {
        let (budget, timeout) = CALL
            .try_with(|o| (o.retry.as_ref().map(|r| r.budget), o.timeout))
            .unwrap_or_default();
        let budget = budget.unwrap_or(self.inner.retry.budget);
        let timeout = timeout.unwrap_or(self.inner.timeout);
        tokio::time::Instant::now() + budget.saturating_add(timeout)
    }

    /// Sends `request` with `options` overriding the client's retry policy and timeout.
    pub async fn send_with<E: crate::Endpoint>(
        &self,
        request: &E,
        options: CallOptions,
    ) -> Result<E::Response, Error> {
        CALL.scope(options, self.send(request)).await
    }

    /// The retry policy of the call running in this task: its own, or the client's.
    pub(crate) fn retry_policy(&self) -> crate::RetryPolicy {
        CALL.try_with(|o| o.retry.clone())
            .ok()
            .flatten()
            .unwrap_or_else(|| self.inner.retry.clone())
    }

    /// The timeout the call running in this task sets for its exchanges, if any.
    pub(crate) fn call_timeout(&self) -> Option<Duration> {
        CALL.try_with(|o| o.timeout).ok().flatten()
    }

    /// The suite key of an ISV suite's (or custom app's) client and its organisations' clients.
    pub fn suite_key(&self) -> Option<&str> {
        self.inner.suite.as_ref().map(|s| s.key.as_str())
    }

    /// The Client ID and Client Secret that identify the app itself, as the Stream handshake
    /// sends them: the AppKey and AppSecret, or an ISV suite's SuiteKey and SuiteSecret.
    /// `None` for CorpId/CorpSecret apps, which have no Client ID.
    pub fn client_credentials(&self) -> Option<(&str, &SecretString)> {
        match (&self.inner.credentials, &self.inner.suite) {
            (
                Some(Credentials::AppKey {
                    app_key,
                    app_secret,
                }),
                _,
            ) => Some((app_key.as_str(), app_secret)),
            (None, Some(suite)) => Some((suite.key.as_str(), suite.secret())),
            _ => None,
        }
    }

    /// Forgets the cached access token, so the next call fetches a new one.
    pub fn clear_access_token(&self) {
        if let Some(t) = self.inner.app_token.fresh() {
            self.inner.app_token.invalidate(&t);
        }
    }
}

/// Configures a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    token_endpoints: &'static [crate::grant::TokenEndpoint],
    token_host: Option<crate::request::Host>,
    suite_id: Option<String>,
    suite_ticket_wait: Duration,
    base_url: String,
    api_base_url: String,
    credentials: Option<Credentials>,
    sso: Option<(String, SecretString)>,
    sns: Option<(String, SecretString)>,
    suite: Option<(String, SecretString, bool)>,
    timeout: Duration,
    connect_timeout: Duration,
    refresh_margin: Duration,
    failure_cooldown: Duration,
    max_pages: u64,
    max_response_bytes: u64,
    max_download_bytes: u64,
    max_in_flight: usize,
    http: Option<reqwest::Client>,
    retry: crate::RetryPolicy,
    rate_limit: Option<crate::RateLimit>,
    limit_store: Option<Arc<dyn crate::LimitStore>>,
    store: Option<Arc<dyn crate::TokenStore>>,
}

impl ClientBuilder {
    /// Starts configuring a client whose tokens are fetched from `token_endpoints`, a generated
    /// crate's table of the spec's token endpoints. `dingtalk::client()` starts one with the
    /// `dingtalk` crate's.
    pub fn new(token_endpoints: &'static [crate::grant::TokenEndpoint]) -> Self {
        ClientBuilder {
            token_endpoints,
            token_host: None,
            suite_id: None,
            suite_ticket_wait: crate::isv::DEFAULT_TICKET_WAIT,
            base_url: DEFAULT_BASE_URL.to_string(),
            api_base_url: DEFAULT_API_BASE_URL.to_string(),
            credentials: None,
            sso: None,
            sns: None,
            suite: None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            refresh_margin: Duration::from_secs(300),
            failure_cooldown: crate::token::DEFAULT_FAILURE_COOLDOWN,
            max_pages: crate::paginate::DEFAULT_MAX_PAGES,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            http: None,
            retry: crate::RetryPolicy::default(),
            rate_limit: None,
            limit_store: None,
            store: None,
        }
    }

    /// Fetches tokens from the endpoints of `host` where the spec describes several forms
    /// (`/gettoken` on oapi and `POST /v1.0/oauth2/accessToken` on api for the app token;
    /// `/service/get_suite_token` and `POST /v1.0/oauth2/suiteAccessToken` for a suite's). By
    /// default the first form the spec lists that the credentials can fill.
    pub fn token_host(mut self, host: crate::request::Host) -> Self {
        self.token_host = Some(host);
        self
    }

    /// The ISV suite's numeric SuiteId (from the developer console). With it, a missing or
    /// refused suite ticket is recovered: the client asks DingTalk to push a new one
    /// (`POST /v1.0/event/suiteTicket/rePush`), and the call waits for the push, which the
    /// app's callback keeps with [`Client::set_suite_ticket`].
    pub fn suite_id(mut self, suite_id: impl Into<String>) -> Self {
        self.suite_id = Some(suite_id.into());
        self
    }

    /// How long a call waits for the suite ticket it asked DingTalk to push (default
    /// [`DEFAULT_TICKET_WAIT`](crate::isv::DEFAULT_TICKET_WAIT), 10 s); then it fails with
    /// [`Error::MissingSuiteTicket`].
    pub fn suite_ticket_wait(mut self, wait: Duration) -> Self {
        self.suite_ticket_wait = wait;
        self
    }

    /// Authenticates with an app's AppKey and AppSecret.
    pub fn app_key(
        mut self,
        app_key: impl Into<String>,
        app_secret: impl Into<SecretString>,
    ) -> Self {
        self.credentials = Some(Credentials::AppKey {
            app_key: app_key.into(),
            app_secret: app_secret.into(),
        });
        self
    }

    /// Authenticates with the older CorpId and CorpSecret.
    pub fn corp_secret(
        mut self,
        corp_id: impl Into<String>,
        corp_secret: impl Into<SecretString>,
    ) -> Self {
        self.credentials = Some(Credentials::CorpSecret {
            corp_id: corp_id.into(),
            corp_secret: corp_secret.into(),
        });
        self
    }

    /// Enables `sso_token` endpoints (admin-console login-free) with the CorpId and SSOSecret.
    pub fn sso_secret(
        mut self,
        corp_id: impl Into<String>,
        sso_secret: impl Into<SecretString>,
    ) -> Self {
        self.sso = Some((corp_id.into(), sso_secret.into()));
        self
    }

    /// Enables third-party (SNS) login calls with the login app's AppId and AppSecret: they
    /// fetch the SNS app token and sign `getuserinfo_bycode`. Without it, signed calls use the
    /// AppKey credentials.
    pub fn sns_app(
        mut self,
        app_id: impl Into<String>,
        app_secret: impl Into<SecretString>,
    ) -> Self {
        self.sns = Some((app_id.into(), app_secret.into()));
        self
    }

    /// Makes this the client of an ISV suite (第三方企业应用) with its SuiteKey and SuiteSecret.
    /// Feed it the tickets DingTalk pushes ([`Client::set_suite_ticket`]); then
    /// [`Client::corp`] gives a client for each authorising organisation, and `suite_token`
    /// endpoints (`get_permanent_code`, `activate_suite`) carry the suite's token.
    pub fn suite(
        mut self,
        suite_key: impl Into<String>,
        suite_secret: impl Into<SecretString>,
    ) -> Self {
        self.suite = Some((suite_key.into(), suite_secret.into(), false));
        self
    }

    /// Makes this the client of a custom app (定制应用) with its CustomKey and CustomSecret:
    /// like [`suite`](Self::suite), but no ticket is pushed or needed.
    pub fn custom_app(
        mut self,
        custom_key: impl Into<String>,
        custom_secret: impl Into<SecretString>,
    ) -> Self {
        self.suite = Some((custom_key.into(), custom_secret.into(), true));
        self
    }

    /// Sends the calls of both hosts to another address (a proxy, or a local stand-in in tests
    /// that serves both: their paths do not overlap).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self.api_base_url = self.base_url.clone();
        self
    }

    /// Sends api.dingtalk.com calls to another address; call it after [`base_url`](Self::base_url),
    /// which sets both.
    pub fn api_base_url(mut self, url: impl Into<String>) -> Self {
        self.api_base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Total time a request may take (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time to establish a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long before expiry a token is refreshed (default 300 s; at most half its lifetime).
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// How long a failed token refresh is shared with the calls that come after it (default
    /// 1 s): they fail at once with the same [`Error::Token`] instead of
    /// asking DingTalk again (or use the current token while it still works).
    pub fn token_failure_cooldown(mut self, cooldown: Duration) -> Self {
        self.failure_cooldown = cooldown;
        self
    }

    /// The most pages a `pages()` / `items()` walk fetches (default
    /// [`DEFAULT_MAX_PAGES`](crate::paginate::DEFAULT_MAX_PAGES)); the walk then ends with
    /// [`Error::Paging`].
    pub fn max_pages(mut self, pages: u64) -> Self {
        self.max_pages = pages;
        self
    }

    /// The longest JSON answer read (default [`DEFAULT_MAX_RESPONSE_BYTES`], 16 MiB); a longer
    /// one is [`Error::TooLarge`], and the rest is not read.
    pub fn max_response_bytes(mut self, bytes: u64) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// The longest download held in memory (default [`DEFAULT_MAX_DOWNLOAD_BYTES`], 256 MiB).
    pub fn max_download_bytes(mut self, bytes: u64) -> Self {
        self.max_download_bytes = bytes;
        self
    }

    /// The most HTTP exchanges this client (its clones and, for a suite, its organisations'
    /// clients) has in flight at once (default [`DEFAULT_MAX_IN_FLIGHT`]); further calls wait
    /// for a slot, until their deadline.
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls.max(1);
        self
    }

    /// How failed calls are retried (default [`RetryPolicy::default`](crate::RetryPolicy);
    /// [`RetryPolicy::none`](crate::RetryPolicy::none) turns retries off).
    pub fn retry(mut self, policy: crate::RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Paces calls per endpoint to stay within `limit` (off by default;
    /// [`RateLimit::published`](crate::RateLimit::published) gives DingTalk's published limits).
    /// Calls over the limit wait instead of being throttled by DingTalk.
    pub fn rate_limit(mut self, limit: crate::RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// Keeps the rate limit's windows in `store` (a [`RedisStore`](crate::RedisStore) with
    /// the `redis` feature), so that every instance of the app draws on one quota, as DingTalk
    /// counts it. Takes effect with [`rate_limit`](Self::rate_limit). Should the store fail or
    /// take longer than [`STORE_PATIENCE`](crate::limit::STORE_PATIENCE) to answer, a circuit
    /// breaker keeps calls to this process's windows for
    /// [`STORE_COOL_OFF`](crate::limit::STORE_COOL_OFF), with one warning, then tries the store
    /// again.
    pub fn rate_limit_store(mut self, store: Arc<dyn crate::LimitStore>) -> Self {
        self.limit_store = Some(store);
        self
    }

    /// Shares tokens through `store` (a [`MemoryStore`](crate::MemoryStore) for the clients of
    /// one process, or a store every instance of the app reaches). Only one client refreshes a
    /// token per expiry; the others pick it up from the store. Keys include the app, so many
    /// apps can share one store.
    pub fn token_store(mut self, store: Arc<dyn crate::TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Uses this reqwest client (and its connection pool) instead of building one; the
    /// timeouts above are then the client's own.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        for url in [&self.base_url, &self.api_base_url] {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(Error::Config(format!(
                    "base URL `{url}` must start with https:// or http://"
                )));
            }
        }
        // With a reqwest client of the caller's, its timeout is unknown here.
        let own_timeout = self.http.is_none().then_some(self.timeout);
        let http = match self.http {
            Some(h) => h,
            // No redirects: a 307 would re-send a body that can hold a suite secret or a
            // permanent code, to wherever it points (downloads follow theirs by hand, with a
            // bodiless GET). HTTPS only, unless the base URL is plain HTTP (a stand-in in tests).
            None => reqwest::Client::builder()
                .timeout(self.timeout)
                .connect_timeout(self.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .https_only(self.base_url.starts_with("https://"))
                .build()
                .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?,
        };
        // This client's name when it holds a refresh lease.
        let holder = crate::store::random_id();
        // A lease outlives the token request it covers, so a slow refresh is not duplicated,
        // and is renewed before each retry; a holder that died frees it after about one timeout.
        let lease = self
            .timeout
            .saturating_add((self.timeout / 2).min(Duration::from_secs(5)));
        let caches = CacheConfig {
            store: self.store.clone(),
            margin: self.refresh_margin,
            holder,
            lease,
            policy: crate::token::FetchPolicy {
                retry: self.retry.clone(),
                timeout: self.timeout,
                cooldown: self.failure_cooldown,
            },
        };
        let cache = |kind: &str, id: Option<&str>| caches.cache(kind, id);
        let store_id = self.credentials.as_ref().map(Credentials::store_id);
        let app_token = cache("app_token", store_id.as_deref());
        let sso_token = cache("sso_token", self.sso.as_ref().map(|(id, _)| id.as_str()));
        let sns_token = cache("sns_token", self.sns.as_ref().map(|(id, _)| id.as_str()));
        let jsapi_ticket = cache("jsapi_ticket", store_id.as_deref());
        let limits = LimitConfig {
            limit: self.rate_limit,
            store: self.limit_store,
            // A slot outlives the longest call it can cover, then lapses (10 minutes when the
            // timeout is the caller's reqwest client's).
            hold: own_timeout.map_or(Duration::from_secs(600), |t| t + Duration::from_secs(5)),
        };
        let app_id = self
            .credentials
            .as_ref()
            .map(|c| c.id().to_string())
            .or_else(|| self.suite.as_ref().map(|(key, _, _)| key.clone()));
        let (suite_id, ticket_wait) = (self.suite_id, self.suite_ticket_wait);
        let suite = self.suite.map(|(key, secret, custom)| {
            let token = cache("suite_token", Some(&key));
            Arc::new(
                crate::isv::Suite::new(key, secret, custom, self.store.clone(), token)
                    .recovery(suite_id, ticket_wait),
            )
        });
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                token_endpoints: self.token_endpoints,
                token_host: self.token_host,
                caches,
                limits: limits.clone(),
                suite,
                corp: None,
                corps: Default::default(),
                base_url: self.base_url,
                api_base_url: self.api_base_url,
                credentials: self.credentials,
                sso: self.sso,
                sns: self.sns,
                app_token,
                sso_token,
                sns_token,
                jsapi_ticket,
                users: Default::default(),
                retry: self.retry,
                timeout: self.timeout,
                max_pages: self.max_pages,
                max_response_bytes: self.max_response_bytes,
                max_download_bytes: self.max_download_bytes,
                in_flight: Arc::new(tokio::sync::Semaphore::new(self.max_in_flight)),
                limiter: limits.limiter(app_id.as_deref().unwrap_or("")),
            }),
        })
    }
}

/// What every token cache of a client is made with.
#[derive(Clone, Debug)]
pub(crate) struct CacheConfig {
    pub(crate) store: Option<Arc<dyn crate::TokenStore>>,
    margin: Duration,
    /// This client's name when it holds a refresh lease.
    holder: String,
    lease: Duration,
    /// How token fetches are retried and failures shared.
    policy: crate::token::FetchPolicy,
}

impl CacheConfig {
    /// A cache for the `kind` token of `id`: shared through the store under
    /// `dingtalk:<kind>:<id>` when both are there, local otherwise.
    pub(crate) fn cache(&self, kind: &str, id: Option<&str>) -> TokenCache {
        match (&self.store, id) {
            (Some(store), Some(id)) => TokenCache::shared(
                self.margin,
                self.policy.clone(),
                crate::token::Shared {
                    store: Arc::clone(store),
                    key: format!("dingtalk:{kind}:{id}"),
                    holder: self.holder.clone(),
                    lease: self.lease,
                },
            ),
            _ => TokenCache::new(self.margin, self.policy.clone()),
        }
    }
}

/// What every rate limiter of a client is made with.
#[derive(Clone, Debug)]
pub(crate) struct LimitConfig {
    limit: Option<crate::RateLimit>,
    store: Option<Arc<dyn crate::LimitStore>>,
    hold: Duration,
}

impl LimitConfig {
    /// The limiter of app `app` (an AppKey, or `suite:corp`), if limiting is on.
    pub(crate) fn limiter(&self, app: &str) -> Option<crate::limit::Limiter> {
        let limit = self.limit?;
        Some(match &self.store {
            Some(store) => crate::limit::Limiter::shared(
                limit,
                Arc::clone(store),
                format!("dingtalk:limit:{app}"),
                self.hold,
            ),
            None => crate::limit::Limiter::new(limit),
        })
    }
}

/// Reads at most `cap` bytes of `resp`'s body, one chunk at a time (an announced length over the
/// cap reads nothing); says whether the body was read whole.
async fn read_capped(
    mut resp: reqwest::Response,
    cap: u64,
    first: Option<bytes::Bytes>,
) -> Result<(bytes::Bytes, bool), reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > cap) {
        return Ok((bytes::Bytes::new(), false));
    }
    let mut body = bytes::BytesMut::new();
    if let Some(first) = first {
        let room = usize::try_from(cap).unwrap_or(usize::MAX);
        if first.len() > room {
            body.extend_from_slice(&first[..room]);
            return Ok((body.freeze(), false));
        }
        body.extend_from_slice(&first);
    }
    while let Some(chunk) = resp.chunk().await? {
        let room = usize::try_from(cap)
            .unwrap_or(usize::MAX)
            .saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body.freeze(), false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), true))
}
