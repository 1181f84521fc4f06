//! User tokens: calls made on a user's behalf on api.dingtalk.com (`…/users/me/…`, calendars,
//! personal to-dos) carry the user's own token instead of the app's.
//!
//! A user signs in once: the login code from DingTalk's OAuth page is traded at
//! `POST /v1.0/oauth2/userAccessToken` for a user token (valid 7200 s) and a refresh token
//! (valid 30 days). Both are kept under a key the app chooses (the user's unionId is the natural
//! one), in memory and, when the client has a [`TokenStore`](crate::TokenStore), in the store, so
//! every instance of a fleet can act for the user. A call that needs the token refreshes it with
//! the refresh token when it is due; DingTalk hands out a new refresh token each time, and the
//! newest one is kept.
//!
//! See <https://open.dingtalk.com/document/orgapp/obtain-user-token>.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::Classify;
use crate::grant::{GrantInputs, TokenKind};
use crate::store::{now_ms, StoredToken};
use crate::token::{Cached, TokenCache};
use crate::{Client, Error, SecretString};

/// How long DingTalk keeps a refresh token valid.
const REFRESH_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The user tokens of one client: a token cache and the latest refresh token per user.
#[derive(Debug, Default)]
pub(crate) struct UserTokens {
    users: Mutex<HashMap<String, User>>,
}

#[derive(Debug)]
struct User {
    cache: Arc<TokenCache>,
    refresh: Option<SecretString>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A user signed in with [`Client::sign_in_user`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedInUser {
    /// The key the user's tokens are kept under.
    pub key: String,
    /// The organisation the user chose on the login page, when DingTalk says.
    pub corp_id: Option<String>,
}

impl Client {
    /// Trades a login code (`authCode` from DingTalk's OAuth login page) for the user's token and
    /// refresh token, and keeps both under `key` (use the user's unionId). Calls to endpoints
    /// that need a user token then name the user by `key`.
    ///
    /// Needs AppKey credentials (`app_key`) or an ISV suite (`suite`): they are the login's
    /// `clientId` and `clientSecret`. The trade is the spec's `user_sign_in` token endpoint
    /// (`POST /v1.0/oauth2/userAccessToken` in the `dingtalk` crate).
    pub async fn sign_in_user(&self, key: &str, auth_code: &str) -> Result<SignedInUser, Error> {
        let cache = self.user_entry(key)?;
        let inputs = GrantInputs {
            login_code: Some(auth_code),
            ..GrantInputs::default()
        };
        let answer = self
            .issue_token(TokenKind::UserSignIn, inputs, crate::error::unclassified)
            .await?;
        let corp_id = answer.corp_id.clone();
        let lifetime = answer.expires_in;
        let token = answer.token.clone();
        self.keep_refresh_token(key, answer.refresh_token).await;
        cache
            .get_once(|| async move { Ok((token, lifetime)) })
            .await?;
        Ok(SignedInUser {
            key: key.to_string(),
            corp_id,
        })
    }

    /// Forgets the user's tokens here (the shared store keeps them until they expire).
    pub fn sign_out_user(&self, key: &str) {
        lock(&self.inner.users.users).remove(key);
    }

    /// The token of the user signed in under `user`, refreshed with the refresh token when due.
    pub(crate) async fn user_token(
        &self,
        classify: Classify,
        user: Option<&str>,
    ) -> Result<Arc<Cached>, Error> {
        let Some(key) = user else {
            return Err(Error::Config(
                "this call needs a user token, but the request names no user".into(),
            ));
        };
        let cache = self.user_entry(key)?;
        cache
            .get(|| async {
                let refresh = self.refresh_token(key).await?;
                let inputs = GrantInputs {
                    refresh_token: Some(&refresh),
                    ..GrantInputs::default()
                };
                let answer = self
                    .issue_token(TokenKind::UserRefresh, inputs, classify)
                    .await?;
                self.keep_refresh_token(key, answer.refresh_token).await;
                Ok((answer.token, answer.expires_in))
            })
            .await
    }

    /// Drops a user token DingTalk rejected.
    pub(crate) async fn reject_user_token(&self, user: Option<&str>, used: &Arc<Cached>) {
        let cache = user.and_then(|key| {
            lock(&self.inner.users.users)
                .get(key)
                .map(|u| Arc::clone(&u.cache))
        });
        if let Some(cache) = cache {
            cache.reject(used).await;
        }
    }

    /// The user's cache, made on first use.
    fn user_entry(&self, key: &str) -> Result<Arc<TokenCache>, Error> {
        if key.is_empty() {
            return Err(Error::Config("a user key cannot be empty".into()));
        }
        let id = format!("{}:{key}", self.app_id());
        let mut users = lock(&self.inner.users.users);
        let user = users.entry(key.to_string()).or_insert_with(|| User {
            cache: Arc::new(self.inner.caches.cache("user_token", Some(&id))),
            refresh: None,
        });
        Ok(Arc::clone(&user.cache))
    }

    /// The store key of a user's refresh token.
    fn refresh_key(&self, key: &str) -> String {
        format!("dingtalk:user_refresh:{}:{key}", self.app_id())
    }

    /// Keeps the newest refresh token, here and in the store.
    async fn keep_refresh_token(&self, key: &str, refresh: Option<SecretString>) {
        let Some(refresh) = refresh else { return };
        if let Some(user) = lock(&self.inner.users.users).get_mut(key) {
            user.refresh = Some(refresh.clone());
        }
        if let Some(store) = &self.inner.caches.store {
            let stored = StoredToken {
                value: refresh,
                expires_at_ms: now_ms().saturating_add(
                    i64::try_from(REFRESH_LIFETIME.as_millis()).unwrap_or(i64::MAX),
                ),
            };
            if let Err(e) = store.put_if_newer(&self.refresh_key(key), &stored).await {
                tracing::warn!(error = %e, "could not keep a user's refresh token in the store");
            }
        }
    }

    /// The user's latest refresh token: here, else in the store.
    async fn refresh_token(&self, key: &str) -> Result<SecretString, Error> {
        let local = lock(&self.inner.users.users)
            .get(key)
            .and_then(|u| u.refresh.clone());
        if let Some(t) = local {
            return Ok(t);
        }
        if let Some(store) = &self.inner.caches.store {
            let stored = store
                .get(&self.refresh_key(key))
                .await
                .map_err(|e| Error::Store(e.to_string()))?;
            if let Some(t) = stored.filter(|t| t.expires_at_ms > now_ms()) {
                return Ok(t.value);
            }
        }
        Err(Error::SignInRequired {
            user: key.to_string(),
        })
    }
}
