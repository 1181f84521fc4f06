//! ISV (suite) apps and custom apps: the suite ticket DingTalk pushes, the suite's own token, and
//! one access token per authorising organisation.
//!
//! The chain: DingTalk pushes a `suite_ticket` about every 5 hours → [`Client::set_suite_ticket`]
//! keeps it in the token store (so every instance sees it) → the suite token
//! (`/service/get_suite_token`) and each organisation's token (`/service/get_corp_token`, signed
//! with the ticket) are fetched on demand and cached like any token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Classify;
use crate::grant::TokenKind;
use crate::request::Query;
use crate::store::{now_ms, StoredToken, TokenStore};
use crate::token::{Cached, TokenCache};
use crate::{Client, Error, SecretString};

/// How long a pushed ticket is kept. DingTalk pushes a new one about every 5 hours and does
/// not document a lifetime; a day leaves room for missed pushes.
const TICKET_KEEP: Duration = Duration::from_secs(24 * 3600);

/// How long a missing or refused ticket waits for the push it asked for, unless
/// [`ClientBuilder::suite_ticket_wait`](crate::ClientBuilder::suite_ticket_wait) says otherwise.
pub const DEFAULT_TICKET_WAIT: Duration = Duration::from_secs(10);

/// The shortest time between two requests to push the ticket again: a push that did not come
/// is not asked for again and again by every waiting call.
const REPUSH_COOL_OFF: Duration = Duration::from_secs(60);

/// How often a waiting call looks for the ticket in the store (another instance may be the one
/// that receives the push).
const TICKET_POLL: Duration = Duration::from_millis(100);

/// A suite's credentials, ticket storage and token; shared by the suite client and every
/// organisation's client.
#[derive(Debug)]
pub(crate) struct Suite {
    pub(crate) key: String,
    /// The numeric SuiteId, which the request for a new ticket push names.
    pub(crate) id: Option<String>,
    secret: SecretString,
    /// Custom apps (定制应用) sign with any ticket; they are never pushed one.
    fixed_ticket: Option<SecretString>,
    /// The configured token store, or one of the suite's own.
    tickets: Arc<dyn TokenStore>,
    pub(crate) token: TokenCache,
    /// How long a call waits for a ticket it asked DingTalk to push.
    ticket_wait: Duration,
    /// When this client last asked for a push; held while asking, so one call asks for all.
    repushed: tokio::sync::Mutex<Option<tokio::time::Instant>>,
    /// Woken when this process keeps a pushed ticket.
    arrived: tokio::sync::Notify,
}

impl Suite {
    /// The suite secret (the `clientSecret` of its users' logins).
    pub(crate) fn secret(&self) -> &SecretString {
        &self.secret
    }

    pub(crate) fn new(
        key: String,
        secret: SecretString,
        custom: bool,
        store: Option<Arc<dyn TokenStore>>,
        token: TokenCache,
    ) -> Self {
        Suite {
            key,
            id: None,
            secret,
            fixed_ticket: custom.then(|| SecretString::from("custom")),
            tickets: store.unwrap_or_else(|| Arc::new(crate::MemoryStore::new())),
            token,
            ticket_wait: DEFAULT_TICKET_WAIT,
            repushed: tokio::sync::Mutex::new(None),
            arrived: tokio::sync::Notify::new(),
        }
    }

    /// Sets the SuiteId and the ticket wait.
    pub(crate) fn recovery(mut self, id: Option<String>, wait: Duration) -> Self {
        self.id = id;
        self.ticket_wait = wait;
        self
    }

    fn ticket_key(&self) -> String {
        format!("dingtalk:suite_ticket:{}", self.key)
    }

    /// The latest pushed ticket.
    async fn ticket(&self) -> Result<SecretString, Error> {
        if let Some(t) = &self.fixed_ticket {
            return Ok(t.clone());
        }
        let stored = self
            .tickets
            .get(&self.ticket_key())
            .await
            .map_err(|e| Error::Store(e.to_string()))?;
        match stored {
            Some(t) if t.expires_at_ms > now_ms() => {
                // Sent with the call: an error page may quote it back.
                crate::secret::note(&t.value);
                Ok(t.value)
            }
            _ => Err(Error::MissingSuiteTicket {
                suite_key: self.key.clone(),
            }),
        }
    }

    /// `query` plus `accessKey`, `timestamp`, `suiteTicket` and the signature of
    /// `timestamp + "\n" + suiteTicket`.
    fn sign(&self, query: &Query, ticket: &SecretString) -> Query {
        let timestamp = now_ms().to_string();
        let message = format!("{timestamp}\n{}", ticket.expose_secret());
        let signature = crate::sign::hmac_sha256_base64(self.secret.expose_secret(), &message);
        let mut signed = query.clone();
        signed.push_text("accessKey", self.key.clone());
        signed.push_text("timestamp", timestamp);
        signed.push_text("suiteTicket", ticket.expose_secret().to_string());
        signed.push_text("signature", signature);
        signed
    }
}

/// A push's time in ms, trusted within reason: a time in seconds is scaled, and one in the
/// future is taken as now, so a mis-stamped push neither vanishes nor outranks later ones.
fn push_time(pushed_at: i64, now_ms: i64) -> i64 {
    // Before 1973 in ms, but a plausible time in seconds.
    let ms = if (0..100_000_000_000).contains(&pushed_at) {
        pushed_at.saturating_mul(1000)
    } else {
        pushed_at
    };
    ms.min(now_ms)
}

/// How an organisation's client gets its token.
#[derive(Debug)]
pub(crate) struct CorpGrant {
    pub(crate) corp_id: String,
    /// The old form (`permanent_code` with the suite token) instead of the signed one.
    pub(crate) permanent_code: Option<SecretString>,
}

/// The organisation clients a suite client has handed out, by CorpId.
pub(crate) type Corps = Mutex<HashMap<String, Client>>;

impl Client {
    /// Keeps a suite ticket DingTalk pushed (the `suite_ticket` event), in the token store when
    /// one is configured so that every instance of the app uses it. `pushed_at_ms` is the push's
    /// `TimeStamp`: an older push never replaces a newer one. Says whether the ticket was kept.
    ///
    /// `dingtalk_workflows::Isv::accept_suite_ticket` takes the decoded event instead.
    pub async fn set_suite_ticket(
        &self,
        ticket: impl Into<SecretString>,
        pushed_at_ms: i64,
    ) -> Result<bool, Error> {
        let suite = self.suite()?;
        let stored = StoredToken {
            value: ticket.into(),
            expires_at_ms: push_time(pushed_at_ms, now_ms())
                .saturating_add(TICKET_KEEP.as_millis() as i64),
        };
        let kept = suite
            .tickets
            .put_if_newer(&suite.ticket_key(), &stored)
            .await
            .map_err(|e| Error::Store(e.to_string()))?;
        // A refresh that failed with the old ticket may work with this one.
        suite.token.forget_failure().await;
        suite.arrived.notify_waiters();
        Ok(kept)
    }

    /// The client for one authorising organisation: its calls carry that organisation's access
    /// token, fetched with the signed `/service/get_corp_token` and cached (and shared through
    /// the token store) per organisation. Repeated calls return clients that share the token.
    /// Needs [`ClientBuilder::suite`](crate::ClientBuilder::suite) or
    /// [`ClientBuilder::custom_app`](crate::ClientBuilder::custom_app).
    pub fn corp(&self, corp_id: &str) -> Result<Client, Error> {
        self.corp_client(corp_id, None)
    }

    /// Like [`Client::corp`], but fetches the token with the old form of `get_corp_token`: the
    /// suite token plus the organisation's permanent code (from `get_permanent_code`).
    pub fn corp_with_permanent_code(
        &self,
        corp_id: &str,
        permanent_code: impl Into<SecretString>,
    ) -> Result<Client, Error> {
        self.corp_client(corp_id, Some(permanent_code.into()))
    }

    /// Forgets an organisation, e.g. when its `suite_relieve` push says it revoked the suite:
    /// drops its client and its token, here and (when this client holds it) in the token store.
    /// Says whether the organisation was known. A later [`Client::corp`] starts afresh.
    pub async fn forget_corp(&self, corp_id: &str) -> bool {
        let removed = {
            let mut corps = self.inner.corps.lock().unwrap_or_else(|p| p.into_inner());
            corps.remove(corp_id)
        };
        let Some(client) = removed else {
            return false;
        };
        if let Some(token) = client.inner.app_token.fresh() {
            client.inner.app_token.reject(&token).await;
        }
        true
    }

    /// The organisation this client calls for, when it came from [`Client::corp`].
    pub fn corp_id(&self) -> Option<&str> {
        self.inner.corp.as_ref().map(|g| g.corp_id.as_str())
    }

    /// The suite's access token, from the cache or freshly fetched (an errcode is
    /// [`ErrorClass::Other`](crate::ErrorClass::Other) here, as for
    /// [`access_token`](Client::access_token)).
    pub async fn suite_access_token(&self) -> Result<SecretString, Error> {
        let token = self.guarded(self.suite_token(crate::error::unclassified));
        Ok(token.await?.value.clone())
    }

    /// Adds the suite's secrets this client holds (the suite secret, its token, the
    /// organisation's permanent code) to `known`, to mask them in error messages.
    pub(crate) fn suite_secrets(&self, known: &mut Vec<SecretString>) {
        if let Some(suite) = &self.inner.suite {
            known.push(suite.secret.clone());
            known.extend(suite.token.current_value());
        }
        if let Some(code) = self
            .inner
            .corp
            .as_ref()
            .and_then(|g| g.permanent_code.as_ref())
        {
            known.push(code.clone());
        }
    }

    fn suite(&self) -> Result<&Arc<Suite>, Error> {
        self.inner.suite.as_ref().ok_or_else(|| {
            Error::Config(
                "this needs an ISV suite or custom app: configure `suite` or `custom_app` on the client builder"
                    .into(),
            )
        })
    }

    fn corp_client(
        &self,
        corp_id: &str,
        permanent_code: Option<SecretString>,
    ) -> Result<Client, Error> {
        self.suite()?;
        if self.inner.corp.is_some() {
            return Err(Error::Config(
                "`corp` is called on the suite's client, not on an organisation's".into(),
            ));
        }
        let mut corps = self.inner.corps.lock().unwrap_or_else(|p| p.into_inner());
        // Either form fetches the same company's token: keep the client (its token and rate
        // limiter) unless a different permanent code is given.
        if let Some(client) = corps.get(corp_id) {
            let same = match (&permanent_code, client.inner.corp.as_ref()) {
                (None, _) => true,
                (Some(code), Some(grant)) => grant.permanent_code.as_ref() == Some(code),
                (Some(_), None) => false,
            };
            if same {
                return Ok(client.clone());
            }
        }
        let client = self.for_corp(CorpGrant {
            corp_id: corp_id.to_string(),
            permanent_code,
        });
        corps.insert(corp_id.to_string(), client.clone());
        Ok(client)
    }

    pub(crate) async fn suite_token(&self, classify: Classify) -> Result<Arc<Cached>, Error> {
        let suite = self.suite()?;
        suite
            .token
            .get(|| self.fetch_kind(TokenKind::Suite, classify))
            .await
    }

    /// The token of the organisation this client calls for (the form that takes its permanent
    /// code when it has one).
    pub(crate) async fn corp_token(&self, classify: Classify) -> Result<Arc<Cached>, Error> {
        self.suite()?;
        self.inner
            .app_token
            .get(|| self.fetch_kind(TokenKind::Corp, classify))
            .await
    }

    /// `query` signed for a `suite_signed` endpoint, with the latest ticket (asked for when
    /// there is none).
    pub(crate) async fn suite_signed_query(&self, query: &Query) -> Result<Query, Error> {
        let suite = self.suite()?;
        let ticket = self.suite_ticket_or_recover(None).await?;
        Ok(suite.sign(query, &ticket))
    }

    /// The ticket in the store now, or [`Error::MissingSuiteTicket`].
    pub(crate) async fn current_suite_ticket(&self) -> Result<SecretString, Error> {
        self.suite()?.ticket().await
    }

    /// The latest pushed ticket that is not `stale`. When there is none, DingTalk is asked to
    /// push one (by one call for all that wait, at most once per [`REPUSH_COOL_OFF`]; needs the
    /// spec's `suite_ticket_push` endpoint and [`ClientBuilder::suite_id`](crate::ClientBuilder::suite_id))
    /// and the calls wait until one ticket wait after the request for it to arrive, here or in
    /// the token store. A push that did not come fails the calls of the cool-off at once.
    pub(crate) async fn suite_ticket_or_recover(
        &self,
        stale: Option<&SecretString>,
    ) -> Result<SecretString, Error> {
        let suite = self.suite()?;
        let usable = |t: &SecretString| stale.is_none_or(|s| s != t);
        let missing = || Error::MissingSuiteTicket {
            suite_key: suite.key.clone(),
        };
        match suite.ticket().await {
            Ok(t) if usable(&t) => return Ok(t),
            Ok(_) | Err(Error::MissingSuiteTicket { .. }) => {}
            Err(e) => return Err(e),
        }
        if suite.fixed_ticket.is_some() {
            return Err(missing());
        }
        // Waits end one ticket wait after the request they wait for.
        let deadline = {
            let mut last = suite.repushed.lock().await;
            // Another call may have got the ticket while this one waited for the lock.
            if let Ok(t) = suite.ticket().await {
                if usable(&t) {
                    return Ok(t);
                }
            }
            match *last {
                // A request is out: wait for its push with the calls that made it.
                Some(at) if at.elapsed() < suite.ticket_wait => at + suite.ticket_wait,
                // One went unanswered a moment ago: do not ask again yet.
                Some(at) if at.elapsed() < REPUSH_COOL_OFF => return Err(missing()),
                _ => match self.request_ticket_push().await {
                    Ok(true) => {
                        let now = tokio::time::Instant::now();
                        *last = Some(now);
                        tracing::info!(suite_key = %suite.key, "asked DingTalk to push the suite ticket again");
                        now + suite.ticket_wait
                    }
                    Ok(false) => return Err(missing()),
                    Err(e) => {
                        *last = Some(tokio::time::Instant::now());
                        tracing::warn!(error = %e, "could not ask DingTalk to push the suite ticket again");
                        return Err(missing());
                    }
                },
            }
        };
        loop {
            let arrived = suite.arrived.notified();
            if let Ok(t) = suite.ticket().await {
                if usable(&t) {
                    return Ok(t);
                }
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(missing());
            }
            let nap = TICKET_POLL.min(deadline - now);
            let _ = tokio::time::timeout(nap, arrived).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::push_time;

    #[test]
    fn push_times_in_seconds_or_the_future_are_normalised() {
        let now = 1_700_000_000_000;
        assert_eq!(push_time(now - 5, now), now - 5);
        assert_eq!(push_time(1_699_999_999, now), 1_699_999_999_000, "seconds");
        assert_eq!(push_time(now + 86_400_000, now), now, "the future is now");
    }
}
