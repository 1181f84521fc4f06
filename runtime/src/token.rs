//! The token caches.
//!
//! Reads are lock-free (`ArcSwap`). When a token is missing or due, one caller leads a refresh
//! (a *flight*): it fetches, retrying as the client's [`RetryPolicy`] says, and every caller that
//! arrives meanwhile waits on that flight and shares its outcome, its error included. So N
//! concurrent callers cost at most the policy's attempt limit of token requests, whatever the
//! token endpoint answers. A failure is shared for a short cooldown, so callers arriving just
//! after it do not start another flight; a refresh that fails while the current token still
//! lives keeps serving that token (with a warning) until it really expires.
//!
//! Waiting is bounded: a waiter gives up at its call's deadline (the task-local [`DEADLINE`]
//! set by `Client::send`, or the client's timeout plus retry budget). A leader that is cancelled
//! hands over: its waiters see the flight closed and one of them leads anew.
//!
//! With a shared [`TokenStore`] the leader first looks in the store, then takes the store's
//! refresh lease before asking DingTalk. The lease covers one attempt (about one fetch timeout)
//! and is renewed before each retry; it is released when the fetch ends, also when the leader is
//! cancelled (a drop guard). A failed fetch is written to the store too, so other instances share
//! the error instead of fetching again. Should the store fail, the token is fetched without it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::TransportKind;
use crate::store::{now_ms, StoreError, StoredToken, TokenStore};
use crate::{ApiCode, ApiError, Error, ErrorClass, RetryPolicy, SecretString};

/// Lifetime assumed when DingTalk does not say (`/sso/gettoken` has no `expires_in`).
pub(crate) const DEFAULT_LIFETIME: Duration = Duration::from_secs(7200);
/// The longest lifetime believed; DingTalk documents 7200 s, so larger values are clamped.
const MAX_LIFETIME: Duration = Duration::from_secs(7200);

/// How long a failed refresh is shared with later callers, unless the builder sets another.
pub(crate) const DEFAULT_FAILURE_COOLDOWN: Duration = Duration::from_secs(1);

tokio::task_local! {
    /// The deadline of the call running in this task (set by `Client::send`): how long it may
    /// wait for a token, wherever that token comes from.
    pub(crate) static DEADLINE: Instant;
}

/// A token with its expiry.
#[derive(Debug)]
pub(crate) struct Cached {
    pub(crate) value: SecretString,
    /// When to fetch a new one.
    refresh_at: Instant,
    /// When this one stops working.
    expires_at: Instant,
}

/// How a cache fetches: the client's retry policy and timeout, and how long a failure is shared.
#[derive(Clone, Debug)]
pub(crate) struct FetchPolicy {
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
    pub(crate) cooldown: Duration,
}

impl FetchPolicy {
    /// How long a caller without a deadline of its own may wait: its retry budget and one more
    /// timeout (the last attempt may start just before the budget runs out).
    pub(crate) fn patience(&self) -> Duration {
        self.retry.budget.saturating_add(self.timeout)
    }
}

/// What a refresh in flight publishes to its waiters.
type Outcome = Result<Arc<Cached>, Error>;

/// The refresh in flight and the last failure.
#[derive(Default)]
struct State {
    /// The flight's outcome once published; the sender is dropped unpublished when its leader
    /// is cancelled.
    flight: Option<watch::Receiver<Option<Outcome>>>,
    /// The last failure, shared until the instant given.
    failure: Option<(Instant, Error)>,
}

/// One cached token, and the flight that refreshes it.
pub(crate) struct TokenCache {
    current: ArcSwapOption<Cached>,
    state: Mutex<State>,
    margin: Duration,
    policy: FetchPolicy,
    shared: Option<Shared>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("margin", &self.margin)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

/// The shared store behind a cache, and this cache's key and lease identity there.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn TokenStore>,
    pub(crate) key: String,
    pub(crate) holder: String,
    /// How long the lease lives without renewal: about one fetch timeout.
    pub(crate) lease: Duration,
}

impl Shared {
    /// Where a failed refresh is recorded for the other instances.
    fn failure_key(&self) -> String {
        format!("{}:failure", self.key)
    }
}

/// How often a client waiting for another's refresh looks in the store.
const POLL: Duration = Duration::from_millis(25);

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a look in the store found.
enum Look {
    /// A token that needs no refresh yet.
    Fresh(StoredToken),
    /// A failure recorded by another instance, still shared.
    Failed(Error),
    /// Neither.
    Nothing,
}

impl TokenCache {
    /// A cache that refreshes `margin` before expiry.
    pub(crate) fn new(margin: Duration, policy: FetchPolicy) -> Self {
        TokenCache {
            current: ArcSwapOption::empty(),
            state: Mutex::new(State::default()),
            margin,
            policy,
            shared: None,
        }
    }

    /// A cache that shares its token through `shared`.
    pub(crate) fn shared(margin: Duration, policy: FetchPolicy, shared: Shared) -> Self {
        TokenCache {
            shared: Some(shared),
            ..TokenCache::new(margin, policy)
        }
    }

    /// The cached token if it needs no refresh yet. Lock-free.
    pub(crate) fn fresh(&self) -> Option<Arc<Cached>> {
        let guard = self.current.load();
        match &*guard {
            Some(t) if Instant::now() < t.refresh_at => Some(Arc::clone(t)),
            _ => None,
        }
    }

    /// The cached token's value, fresh or not (to mask it in error messages).
    pub(crate) fn current_value(&self) -> Option<SecretString> {
        self.current.load().as_ref().map(|t| t.value.clone())
    }

    /// The cached token if it still works, due for refresh or not.
    fn usable(&self) -> Option<Arc<Cached>> {
        let guard = self.current.load();
        match &*guard {
            Some(t) if Instant::now() < t.expires_at => Some(Arc::clone(t)),
            _ => None,
        }
    }

    /// The cached token, fetching a new one with `fetch` (which returns the token and its
    /// lifetime) when it is missing or due. The fetch is retried per the client's policy.
    pub(crate) async fn get<F, Fut>(&self, fetch: F) -> Result<Arc<Cached>, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        self.get_with(fetch, true).await
    }

    /// Like [`get`](Self::get), for a `fetch` that can run only once and retries by itself (it
    /// makes a call of its own).
    pub(crate) async fn get_once<F, Fut>(&self, fetch: F) -> Result<Arc<Cached>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        let mut fetch = Some(fetch);
        self.get_with(
            move || {
                let once = fetch.take();
                async move {
                    match once {
                        Some(f) => f().await,
                        None => Err(Error::Config("a one-shot token fetch ran twice".into())),
                    }
                }
            },
            false,
        )
        .await
    }

    async fn get_with<F, Fut>(&self, mut fetch: F, retry: bool) -> Result<Arc<Cached>, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        let deadline = DEADLINE
            .try_with(|d| *d)
            .unwrap_or_else(|_| Instant::now() + self.policy.patience());
        let started = Instant::now();
        loop {
            if let Some(t) = self.fresh() {
                return Ok(t);
            }
            let tx = {
                let mut state = lock(&self.state);
                // Whoever published last may have refreshed already.
                if let Some(t) = self.fresh() {
                    return Ok(t);
                }
                let old = self.usable();
                if let Some((until, e)) = &state.failure {
                    if Instant::now() < *until {
                        return old.ok_or_else(|| e.clone());
                    }
                    state.failure = None;
                }
                let flight = state.flight.as_ref().filter(|rx| rx.has_changed().is_ok());
                match (flight.cloned(), old) {
                    // A refresh is under way; the current token still works meanwhile.
                    (Some(_), Some(old)) => return Ok(old),
                    (Some(rx), None) => Err(rx),
                    (None, _) => {
                        let (tx, rx) = watch::channel(None);
                        state.flight = Some(rx);
                        Ok(tx)
                    }
                }
            };
            let mut rx = match tx {
                Ok(tx) => {
                    let flight = Flight {
                        cache: self,
                        tx: Some(tx),
                    };
                    let fetched = match tokio::time::timeout_at(
                        deadline,
                        self.lead(&mut fetch, retry, deadline),
                    )
                    .await
                    {
                        Ok(fetched) => fetched,
                        Err(_) => Err(deadline_error(started, "a token refresh")),
                    };
                    return flight.publish(fetched);
                }
                Err(rx) => rx,
            };
            let outcome =
                match tokio::time::timeout_at(deadline, rx.wait_for(Option::is_some)).await {
                    Ok(Ok(outcome)) => outcome.clone(),
                    // The leader was cancelled before it finished: lead, or wait on the next one.
                    Ok(Err(_)) => None,
                    Err(_) => return Err(deadline_error(started, "a token refresh in flight")),
                };
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// Fetches a token (through the store when there is one): its value and expiry in ms since
    /// the epoch.
    async fn lead<F, Fut>(
        &self,
        fetch: &mut F,
        retry: bool,
        deadline: Instant,
    ) -> Result<(SecretString, i64), Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        let Some(shared) = &self.shared else {
            let (value, expires_in) = self.fetch_retried(fetch, retry, None).await?;
            return Ok((value, expiry(expires_in)));
        };
        let started = Instant::now();
        loop {
            match self.look(shared).await {
                Err(e) => return self.fetch_without_store(shared, fetch, retry, e).await,
                Ok(Look::Fresh(t)) => return Ok((t.value, t.expires_at_ms)),
                Ok(Look::Failed(e)) => return Err(e),
                Ok(Look::Nothing) => {}
            }
            match shared
                .store
                .try_lease(&shared.key, &shared.holder, shared.lease)
                .await
            {
                Err(e) => return self.fetch_without_store(shared, fetch, retry, e).await,
                Ok(true) => return self.fetch_leased(shared, fetch, retry).await,
                Ok(false) => {
                    // Someone else holds the lease: wait for its token or failure, or for its
                    // lease to lapse, but not past the deadline.
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(deadline_error(started, "another instance's token refresh"));
                    }
                    tokio::time::sleep(POLL.min(deadline - now)).await;
                }
            }
        }
    }

    /// Under the lease: fetches, shares the token (or the failure) through the store, releases.
    async fn fetch_leased<F, Fut>(
        &self,
        shared: &Shared,
        fetch: &mut F,
        retry: bool,
    ) -> Result<(SecretString, i64), Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        let lease = Lease { shared, held: true };
        // A token or a failure may have been stored between the look and the lease.
        let result = match self.look(shared).await {
            Ok(Look::Fresh(t)) => Ok((t.value, t.expires_at_ms)),
            Ok(Look::Failed(e)) => Err(e),
            Ok(Look::Nothing) | Err(_) => {
                match self.fetch_retried(fetch, retry, Some(shared)).await {
                    Ok((value, expires_in)) => {
                        let stored = StoredToken {
                            value,
                            expires_at_ms: expiry(expires_in),
                        };
                        // Compare-and-set: a newer token from elsewhere is not overwritten.
                        if let Err(e) = shared.store.put_if_newer(&shared.key, &stored).await {
                            tracing::warn!(error = %e, "could not share a fresh token through the store");
                        }
                        Ok((stored.value, stored.expires_at_ms))
                    }
                    Err(e) => {
                        let e = as_token_error(e);
                        if let Some(text) = encode_failure(&e) {
                            let record = StoredToken {
                                value: SecretString::from(text),
                                expires_at_ms: now_ms().saturating_add(
                                    i64::try_from(self.policy.cooldown.as_millis())
                                        .unwrap_or(i64::MAX),
                                ),
                            };
                            let key = shared.failure_key();
                            if let Err(e) = shared.store.put_if_newer(&key, &record).await {
                                tracing::warn!(error = %e, "could not share a failed token refresh through the store");
                            }
                        }
                        Err(e)
                    }
                }
            }
        };
        lease.release().await;
        result
    }

    /// The store failed: fetch without it (and try to share the token anyway).
    async fn fetch_without_store<F, Fut>(
        &self,
        shared: &Shared,
        fetch: &mut F,
        retry: bool,
        error: StoreError,
    ) -> Result<(SecretString, i64), Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        tracing::warn!(error = %error, "token store unavailable; fetching the token without it");
        let (value, expires_in) = self.fetch_retried(fetch, retry, None).await?;
        let stored = StoredToken {
            value,
            expires_at_ms: expiry(expires_in),
        };
        let _ = shared.store.put_if_newer(&shared.key, &stored).await;
        Ok((stored.value, stored.expires_at_ms))
    }

    /// The store's token if it needs no refresh, else a failure another instance recorded; a
    /// stored token that still works is kept as the current one meanwhile.
    async fn look(&self, shared: &Shared) -> Result<Look, StoreError> {
        let now = now_ms();
        // A token no client wrote: expiring further out than DingTalk's lifetime allows.
        let latest = now.saturating_add(MAX_LIFETIME.as_millis() as i64 + 60_000);
        let mut stored = shared.store.get(&shared.key).await?;
        if let Some(t) = stored.take_if(|t| t.expires_at_ms > latest) {
            // Compare-and-set would keep it forever: drop it.
            let _ = shared.store.remove_if(&shared.key, &t.value).await;
        }
        if let Some(t) = stored {
            let margin = i64::try_from(self.margin.as_millis()).unwrap_or(i64::MAX);
            if t.expires_at_ms.saturating_sub(margin) > now {
                return Ok(Look::Fresh(t));
            }
            if t.expires_at_ms > now && self.usable().is_none() {
                self.keep_due(t);
            }
        }
        if let Some(f) = shared.store.get(&shared.failure_key()).await? {
            if f.expires_at_ms > now {
                if let Some(e) = decode_failure(f.value.expose_secret()) {
                    return Ok(Look::Failed(e));
                }
            }
        }
        Ok(Look::Nothing)
    }

    /// Runs `fetch`, retrying per the policy (renewing the lease before each retry).
    async fn fetch_retried<F, Fut>(
        &self,
        fetch: &mut F,
        retry: bool,
        lease: Option<&Shared>,
    ) -> Result<(SecretString, Option<i64>), Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(SecretString, Option<i64>), Error>>,
    {
        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let error = match fetch().await {
                Ok(t) => return Ok(t),
                Err(e) => e,
            };
            let delay = match retry {
                true => self
                    .policy
                    .retry
                    .delay(&error, true, attempt, started.elapsed()),
                false => None,
            };
            let Some(delay) = delay else {
                return Err(error);
            };
            tracing::debug!(attempt, ?delay, class = ?error.class(), "retrying a token fetch");
            if let Some(shared) = lease {
                let renew =
                    shared
                        .store
                        .renew_lease(&shared.key, &shared.holder, shared.lease + delay);
                if let Err(e) = renew.await {
                    tracing::debug!(error = %e, "could not renew the refresh lease");
                }
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Caches a token expiring at `expires_at_ms` locally.
    fn keep(&self, value: SecretString, expires_at_ms: i64) -> Arc<Cached> {
        let remaining = remaining(expires_at_ms);
        // Refresh a margin before expiry, but never sooner than half the lifetime.
        let early = self.margin.min(remaining / 2);
        let now = Instant::now();
        let cached = Arc::new(Cached {
            value,
            refresh_at: now + remaining - early,
            expires_at: now + remaining,
        });
        self.current.store(Some(Arc::clone(&cached)));
        cached
    }

    /// Caches a stored token that is due for refresh but still works, to serve should the
    /// refresh fail.
    fn keep_due(&self, t: StoredToken) {
        let now = Instant::now();
        self.current.store(Some(Arc::new(Cached {
            value: t.value,
            refresh_at: now,
            expires_at: now + remaining(t.expires_at_ms),
        })));
    }

    /// Forgets a shared failure, here and in the store (the inputs of the fetch changed: a new
    /// suite ticket).
    pub(crate) async fn forget_failure(&self) {
        lock(&self.state).failure = None;
        if let Some(shared) = &self.shared {
            let key = shared.failure_key();
            if let Ok(Some(f)) = shared.store.get(&key).await {
                let _ = shared.store.remove_if(&key, &f.value).await;
            }
        }
    }

    /// Forgets `used` here and in the shared store (DingTalk rejected it).
    pub(crate) async fn reject(&self, used: &Arc<Cached>) {
        self.invalidate(used);
        if let Some(shared) = &self.shared {
            if let Err(e) = shared.store.remove_if(&shared.key, &used.value).await {
                tracing::warn!(error = %e, "could not drop a rejected token from the store");
            }
        }
    }

    /// Drops `used` if it is still the cached token (DingTalk rejected it). A token that a
    /// concurrent refresh already replaced stays.
    pub(crate) fn invalidate(&self, used: &Arc<Cached>) {
        let current = self.current.load();
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, used)) {
            self.current.compare_and_swap(&*current, None);
        }
    }
}

/// The leader's side of a flight. Publishing ends it; dropping it unpublished (the leader was
/// cancelled) closes it, and its waiters start over.
struct Flight<'a> {
    cache: &'a TokenCache,
    tx: Option<watch::Sender<Option<Outcome>>>,
}

impl Flight<'_> {
    fn publish(mut self, fetched: Result<(SecretString, i64), Error>) -> Outcome {
        let cache = self.cache;
        let mut state = lock(&cache.state);
        let outcome = match fetched {
            Ok((value, expires_at_ms)) => {
                state.failure = None;
                Ok(cache.keep(value, expires_at_ms))
            }
            Err(e) => {
                let e = as_token_error(e);
                if e.is_token_fetch() {
                    state.failure = Some((Instant::now() + cache.policy.cooldown, e.clone()));
                }
                match cache.usable() {
                    Some(old) => {
                        tracing::warn!(error = %e, "token refresh failed; the current token is used until it expires");
                        Ok(old)
                    }
                    None => Err(e),
                }
            }
        };
        state.flight = None;
        if let Some(tx) = self.tx.take() {
            tx.send_replace(Some(outcome.clone()));
        }
        outcome
    }
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        if self.tx.take().is_some() {
            lock(&self.cache.state).flight = None;
        }
    }
}

/// A held refresh lease; released when the fetch ends, in the background when its holder is
/// cancelled.
struct Lease<'a> {
    shared: &'a Shared,
    held: bool,
}

impl Lease<'_> {
    async fn release(mut self) {
        self.held = false;
        let shared = self.shared;
        if let Err(e) = shared.store.release(&shared.key, &shared.holder).await {
            tracing::warn!(error = %e, "could not release the refresh lease; it lapses by itself");
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if !self.held {
            return;
        }
        let store = Arc::clone(&self.shared.store);
        let key = self.shared.key.clone();
        let holder = self.shared.holder.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = store.release(&key, &holder).await;
            });
        }
    }
}

/// The waiter's deadline passed.
fn deadline_error(started: Instant, what: &'static str) -> Error {
    Error::Deadline {
        endpoint: "runtime.token".into(),
        what,
        waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// A failure of the token endpoint itself, as [`Error::Token`]; failures before any request
/// (configuration, a missing suite ticket, the store, a deadline) stay as they are.
fn as_token_error(e: Error) -> Error {
    match e {
        Error::Api(_)
        | Error::Http { .. }
        | Error::Decode { .. }
        | Error::Transport { .. }
        | Error::TooLarge { .. } => Error::Token {
            source: Box::new(e),
        },
        other => other,
    }
}

/// A token failure as the store keeps it, for other instances (`None` for other errors).
fn encode_failure(e: &Error) -> Option<String> {
    let Error::Token { source } = e else {
        return None;
    };
    let v = match source.as_ref() {
        Error::Api(a) => {
            let code = match &a.code {
                ApiCode::Errcode(n) => serde_json::json!(n),
                ApiCode::Service(s) => serde_json::json!(s),
            };
            serde_json::json!({"api": {
                "endpoint": a.endpoint, "code": code, "message": a.message, "sub": a.sub,
                "sub_msg": a.sub_msg, "request_id": a.request_id, "status": a.status,
                "class": a.class.as_str(),
            }})
        }
        Error::Http {
            endpoint,
            status,
            snippet,
        } => {
            serde_json::json!({"http": {"endpoint": endpoint, "status": status, "snippet": snippet}})
        }
        Error::Decode {
            endpoint,
            message,
            snippet,
        } => {
            serde_json::json!({"decode": {"endpoint": endpoint, "message": message, "snippet": snippet}})
        }
        Error::Transport {
            endpoint,
            kind,
            message,
        } => {
            serde_json::json!({"transport": {"endpoint": endpoint, "kind": kind.as_str(), "message": message}})
        }
        Error::TooLarge { endpoint, limit } => {
            serde_json::json!({"too_large": {"endpoint": endpoint, "limit": limit}})
        }
        _ => return None,
    };
    Some(v.to_string())
}

/// The failure another instance recorded (`None` when the record is unreadable: ignored).
fn decode_failure(text: &str) -> Option<Error> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let s = |o: &serde_json::Value, k: &str| o[k].as_str().map(str::to_string);
    let text = |o: &serde_json::Value, k: &str| s(o, k).unwrap_or_default();
    let source = if let Some(a) = v.get("api") {
        Error::from(ApiError {
            endpoint: text(a, "endpoint"),
            code: match &a["code"] {
                serde_json::Value::String(code) => ApiCode::Service(code.clone()),
                n => ApiCode::Errcode(n.as_i64()?),
            },
            message: text(a, "message"),
            sub: s(a, "sub"),
            sub_msg: s(a, "sub_msg"),
            request_id: s(a, "request_id"),
            status: a["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
            class: a["class"]
                .as_str()
                .and_then(ErrorClass::from_name)
                .unwrap_or(ErrorClass::Other),
        })
    } else if let Some(h) = v.get("http") {
        Error::Http {
            endpoint: text(h, "endpoint"),
            status: u16::try_from(h["status"].as_u64()?).ok()?,
            snippet: text(h, "snippet"),
        }
    } else if let Some(d) = v.get("decode") {
        Error::Decode {
            endpoint: text(d, "endpoint"),
            message: text(d, "message"),
            snippet: text(d, "snippet"),
        }
    } else if let Some(t) = v.get("transport") {
        let kind = match t["kind"].as_str()? {
            "connect" => TransportKind::Connect,
            "timeout" => TransportKind::Timeout,
            "broken" => TransportKind::Broken,
            "redirect" => TransportKind::Redirect,
            _ => TransportKind::Other,
        };
        Error::Transport {
            endpoint: text(t, "endpoint"),
            kind,
            message: text(t, "message"),
        }
    } else if let Some(t) = v.get("too_large") {
        Error::TooLarge {
            endpoint: text(t, "endpoint"),
            limit: t["limit"].as_u64()?,
        }
    } else {
        return None;
    };
    Some(Error::Token {
        source: Box::new(source),
    })
}

/// How long a token expiring at `expires_at_ms` has left (none for a time past, or for a
/// nonsensical one; at most the documented lifetime).
fn remaining(expires_at_ms: i64) -> Duration {
    let ms = expires_at_ms.saturating_sub(now_ms()).max(0);
    Duration::from_millis(u64::try_from(ms).unwrap_or(0)).min(MAX_LIFETIME)
}

/// The expiry, in ms since the epoch, of a token that lives `expires_in` seconds from now.
fn expiry(expires_in: Option<i64>) -> i64 {
    let ms = i64::try_from(lifetime(expires_in).as_millis()).unwrap_or(i64::MAX);
    now_ms().saturating_add(ms)
}

/// The lifetime to believe for an `expires_in`: missing or nonsensical values fall back to the
/// documented 7200 s, large ones are clamped to it.
fn lifetime(expires_in: Option<i64>) -> Duration {
    match expires_in {
        Some(s) if s > 0 => Duration::from_secs(s as u64).min(MAX_LIFETIME),
        _ => DEFAULT_LIFETIME,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> FetchPolicy {
        FetchPolicy {
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            cooldown: DEFAULT_FAILURE_COOLDOWN,
        }
    }

    #[test]
    fn untrusted_lifetimes_fall_back_or_clamp() {
        assert_eq!(lifetime(None), DEFAULT_LIFETIME);
        assert_eq!(lifetime(Some(0)), DEFAULT_LIFETIME);
        assert_eq!(lifetime(Some(-5)), DEFAULT_LIFETIME);
        assert_eq!(lifetime(Some(i64::MAX)), MAX_LIFETIME);
        assert_eq!(lifetime(Some(60)), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn refreshes_after_the_margin_and_keeps_replaced_tokens() {
        let cache = TokenCache::new(Duration::from_secs(300), policy());
        let first = cache
            .get(|| async { Ok((SecretString::from("a"), Some(7200))) })
            .await;
        let first = first.map_err(|e| e.to_string());
        assert_eq!(first.as_ref().map(|t| t.value.expose_secret()), Ok("a"));
        tokio::time::advance(Duration::from_secs(7200 - 301)).await;
        assert!(cache.fresh().is_some());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert!(cache.fresh().is_none(), "due for refresh inside the margin");
        let second = cache
            .get(|| async { Ok((SecretString::from("b"), Some(7200))) })
            .await;
        let second = second.map_err(|e| e.to_string());
        assert_eq!(second.as_ref().map(|t| t.value.expose_secret()), Ok("b"));
        // Invalidating the old token does not drop the new one.
        if let Ok(old) = &first {
            cache.invalidate(old);
        }
        assert!(cache.fresh().is_some());
        if let Ok(new) = &second {
            cache.invalidate(new);
        }
        assert!(cache.fresh().is_none());
    }

    #[tokio::test]
    async fn stored_expiries_at_the_extremes_count_as_absent() {
        let store = Arc::new(crate::MemoryStore::new());
        for (value, expires_at_ms) in [("min", i64::MIN), ("max", i64::MAX)] {
            let cache = TokenCache::shared(
                Duration::from_secs(300),
                policy(),
                Shared {
                    store: Arc::clone(&store) as Arc<dyn TokenStore>,
                    key: format!("k-{value}"),
                    holder: "me".into(),
                    lease: Duration::from_secs(1),
                },
            );
            let poisoned = StoredToken {
                value: SecretString::from(value),
                expires_at_ms,
            };
            let put = store.put_if_newer(&format!("k-{value}"), &poisoned).await;
            assert_eq!(put, Ok(true));
            let got = cache
                .get(|| async { Ok((SecretString::from("fresh"), Some(7200))) })
                .await
                .map(|t| t.value.expose_secret().to_string())
                .map_err(|e| e.to_string());
            assert_eq!(got.as_deref(), Ok("fresh"), "{value}");
            // Kept locally with the local lifetime rules, not the stored nonsense.
            assert_eq!(remaining(i64::MIN), Duration::ZERO);
            assert_eq!(remaining(i64::MAX), MAX_LIFETIME);
        }
    }

    #[test]
    fn failure_records_round_trip() {
        let e = as_token_error(Error::Http {
            endpoint: "runtime.token".into(),
            status: 500,
            snippet: "<html>".into(),
        });
        let text = encode_failure(&e).unwrap_or_default();
        let back = decode_failure(&text);
        assert!(
            matches!(&back, Some(Error::Token { source }) if matches!(**source, Error::Http { status: 500, .. })),
            "{back:?}"
        );
        assert!(decode_failure("not json").is_none());
        assert!(encode_failure(&Error::Config("x".into())).is_none());
    }
}
