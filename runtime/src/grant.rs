//! Token endpoints as data. A generated crate describes each endpoint that issues a token (the
//! spec's `issues:`) as a [`TokenEndpoint`]: which token, the endpoint's facts, where each param
//! comes from (a credential the client holds, or a fixed value) and which answer fields hold the
//! token and its lifetime. The client is built with that table
//! ([`ClientBuilder::new`](crate::ClientBuilder::new); `dingtalk::client()` passes the `dingtalk`
//! crate's) and fetches every token by executing an entry of it, so the runtime itself names no
//! token path and no param.
//!
//! Several entries may issue one kind (`/gettoken` and `POST /v1.0/oauth2/accessToken` both issue
//! the app token): the client takes the first whose params it can fill, those on the host set by
//! [`ClientBuilder::token_host`](crate::ClientBuilder::token_host) first.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserializer;

use crate::error::Classify;
use crate::request::{EndpointMeta, Query};
use crate::wire::Wire;
use crate::{Client, Error, SecretString};

/// Which token (or ticket) a token endpoint issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// The app's access token (`app`), for both hosts.
    App,
    /// The admin-console SSO token (`sso`).
    Sso,
    /// The SNS login app's token (`sns_app`).
    SnsApp,
    /// An ISV suite's own token (`suite`).
    Suite,
    /// An authorising organisation's token for an ISV suite (`corp`).
    Corp,
    /// A user's token, traded for a login code (`user_sign_in`).
    UserSignIn,
    /// A user's token, traded for the refresh token (`user_refresh`).
    UserRefresh,
    /// No token: DingTalk pushes the suite ticket again (`suite_ticket_push`).
    SuiteTicketPush,
}

impl TokenKind {
    /// Every kind.
    pub const ALL: [TokenKind; 8] = [
        TokenKind::App,
        TokenKind::Sso,
        TokenKind::SnsApp,
        TokenKind::Suite,
        TokenKind::Corp,
        TokenKind::UserSignIn,
        TokenKind::UserRefresh,
        TokenKind::SuiteTicketPush,
    ];

    /// The spec's spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenKind::App => "app",
            TokenKind::Sso => "sso",
            TokenKind::SnsApp => "sns_app",
            TokenKind::Suite => "suite",
            TokenKind::Corp => "corp",
            TokenKind::UserSignIn => "user_sign_in",
            TokenKind::UserRefresh => "user_refresh",
            TokenKind::SuiteTicketPush => "suite_ticket_push",
        }
    }

    /// The kind spelled `name` in a spec.
    pub fn from_name(name: &str) -> Option<TokenKind> {
        TokenKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether the answer carries a token (all but [`SuiteTicketPush`](Self::SuiteTicketPush)).
    pub fn issues_token(&self) -> bool {
        *self != TokenKind::SuiteTicketPush
    }
}

/// What the client fills a token endpoint's param with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Credential {
    /// The AppKey (`app_key`).
    AppKey,
    /// The AppSecret (`app_secret`).
    AppSecret,
    /// The CorpId of CorpSecret credentials (`corp_id`).
    CorpId,
    /// The CorpSecret (`corp_secret`).
    CorpSecret,
    /// The CorpId of the SSO credentials (`sso_corp_id`).
    SsoCorpId,
    /// The SSOSecret (`sso_secret`).
    SsoSecret,
    /// The SNS login app's AppId (`sns_app_id`).
    SnsAppId,
    /// The SNS login app's AppSecret (`sns_app_secret`).
    SnsAppSecret,
    /// The suite's SuiteKey, or a custom app's CustomKey (`suite_key`).
    SuiteKey,
    /// The suite's SuiteSecret (`suite_secret`).
    SuiteSecret,
    /// The latest suite ticket DingTalk pushed (`suite_ticket`).
    SuiteTicket,
    /// The suite's numeric SuiteId (`suite_id`), from
    /// [`ClientBuilder::suite_id`](crate::ClientBuilder::suite_id).
    SuiteId,
    /// The CorpId of the organisation an organisation client calls for (`auth_corp_id`).
    AuthCorpId,
    /// That organisation's permanent code, when given (`permanent_code`).
    PermanentCode,
    /// The app's Client ID for user logins: the AppKey, or the SuiteKey (`client_id`).
    ClientId,
    /// Its Client Secret (`client_secret`).
    ClientSecret,
    /// The login code of a user signing in (`login_code`).
    LoginCode,
    /// The user's refresh token (`refresh_token`).
    RefreshToken,
}

impl Credential {
    /// Every credential.
    pub const ALL: [Credential; 18] = [
        Credential::AppKey,
        Credential::AppSecret,
        Credential::CorpId,
        Credential::CorpSecret,
        Credential::SsoCorpId,
        Credential::SsoSecret,
        Credential::SnsAppId,
        Credential::SnsAppSecret,
        Credential::SuiteKey,
        Credential::SuiteSecret,
        Credential::SuiteTicket,
        Credential::SuiteId,
        Credential::AuthCorpId,
        Credential::PermanentCode,
        Credential::ClientId,
        Credential::ClientSecret,
        Credential::LoginCode,
        Credential::RefreshToken,
    ];

    /// The spec's spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Credential::AppKey => "app_key",
            Credential::AppSecret => "app_secret",
            Credential::CorpId => "corp_id",
            Credential::CorpSecret => "corp_secret",
            Credential::SsoCorpId => "sso_corp_id",
            Credential::SsoSecret => "sso_secret",
            Credential::SnsAppId => "sns_app_id",
            Credential::SnsAppSecret => "sns_app_secret",
            Credential::SuiteKey => "suite_key",
            Credential::SuiteSecret => "suite_secret",
            Credential::SuiteTicket => "suite_ticket",
            Credential::SuiteId => "suite_id",
            Credential::AuthCorpId => "auth_corp_id",
            Credential::PermanentCode => "permanent_code",
            Credential::ClientId => "client_id",
            Credential::ClientSecret => "client_secret",
            Credential::LoginCode => "login_code",
            Credential::RefreshToken => "refresh_token",
        }
    }

    /// The credential spelled `name` in a spec.
    pub fn from_name(name: &str) -> Option<Credential> {
        Credential::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// Where a token endpoint's param value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenSource {
    /// A credential of the client (or of the sign-in in progress).
    Credential(Credential),
    /// Always this text (`grantType: authorization_code`).
    Value(&'static str),
}

/// Where a param goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamPlace {
    /// The query string.
    Query,
    /// A key of the JSON body.
    Body,
}

/// One param of a token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenParam {
    /// Its wire name.
    pub name: &'static str,
    /// Query or body.
    pub place: ParamPlace,
    /// What fills it.
    pub source: TokenSource,
}

/// The answer fields a token endpoint's values sit in (at the payload's top level).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenAnswer {
    /// The token (every kind but [`TokenKind::SuiteTicketPush`]).
    pub token: Option<&'static str>,
    /// Its lifetime in seconds.
    pub expires_in: Option<&'static str>,
    /// The next refresh token (user tokens).
    pub refresh_token: Option<&'static str>,
    /// The organisation the user chose (user sign-in).
    pub corp_id: Option<&'static str>,
}

/// An endpoint that issues a token, as the spec describes it.
#[derive(Clone, Copy, Debug)]
pub struct TokenEndpoint {
    /// What it issues.
    pub kind: TokenKind,
    /// The endpoint's facts (host, method, path, auth, error table).
    pub meta: EndpointMeta,
    /// Every param, with what fills it.
    pub params: &'static [TokenParam],
    /// Where the answer's values are.
    pub answer: TokenAnswer,
    /// Codes (`40078`, `invalidSuiteTicket`) saying that the suite ticket sent was stale: the
    /// client then asks DingTalk to push a new one and tries once more.
    pub stale_ticket: &'static [&'static str],
}

impl TokenEndpoint {
    fn needs(&self, credential: Credential) -> bool {
        self.params
            .iter()
            .any(|p| p.source == TokenSource::Credential(credential))
    }

    /// Whether `code` is one of the codes that mean the suite ticket was stale.
    pub(crate) fn is_stale_ticket(&self, error: &Error) -> bool {
        let Some(api) = error.as_api() else {
            return false;
        };
        let code = match &api.code {
            crate::ApiCode::Errcode(n) => Cow::Owned(n.to_string()),
            crate::ApiCode::Service(s) => Cow::Borrowed(s.as_str()),
        };
        self.stale_ticket.iter().any(|c| *c == code)
    }
}

/// Values a sign-in or refresh supplies, beyond the client's configuration.
#[derive(Default)]
pub(crate) struct GrantInputs<'a> {
    pub(crate) login_code: Option<&'a str>,
    pub(crate) refresh_token: Option<&'a SecretString>,
    /// The suite ticket to send, read (or recovered) before the call.
    pub(crate) ticket: Option<SecretString>,
}

/// What a token endpoint answered.
pub(crate) struct Granted {
    pub(crate) token: SecretString,
    pub(crate) expires_in: Option<i64>,
    pub(crate) refresh_token: Option<SecretString>,
    pub(crate) corp_id: Option<String>,
}

/// A param's value: public text, or a secret noted for masking.
enum Text {
    Plain(String),
    Secret(SecretString),
}

impl Text {
    fn as_str(&self) -> &str {
        match self {
            Text::Plain(s) => s,
            Text::Secret(s) => s.expose_secret(),
        }
    }
}

/// An answer decoded as a JSON object, whatever its fields.
struct Fields(serde_json::Map<String, serde_json::Value>);

impl Wire for Fields {
    fn wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::Deserialize::deserialize(d).map(Fields)
    }
}

impl Client {
    /// The token endpoint that issues `kind` with what this client holds.
    pub(crate) fn token_endpoint(
        &self,
        kind: TokenKind,
        inputs: &GrantInputs<'_>,
    ) -> Result<&'static TokenEndpoint, Error> {
        let usable: Vec<&'static TokenEndpoint> = self
            .inner
            .token_endpoints
            .iter()
            .filter(|e| e.kind == kind)
            .filter(|e| self.can_authorise(e))
            .filter(|e| {
                e.params.iter().all(|p| match p.source {
                    TokenSource::Value(_) => true,
                    TokenSource::Credential(c) => self.has_credential(c, inputs),
                })
            })
            .collect();
        // An organisation client given a permanent code uses the form that takes it.
        let has_code = self.has_credential(Credential::PermanentCode, inputs);
        let rank = |e: &&TokenEndpoint| {
            let host = self
                .inner
                .token_host
                .map_or(0, |h| usize::from(e.meta.host != h));
            let code = usize::from(has_code != e.needs(Credential::PermanentCode));
            (code, host)
        };
        usable.into_iter().min_by_key(rank).ok_or_else(|| {
            let described = self.inner.token_endpoints.iter().any(|e| e.kind == kind);
            Error::Config(if described {
                format!(
                    "no token endpoint issuing the {} token can be filled with the credentials configured on the client builder",
                    kind.as_str()
                )
            } else {
                format!(
                    "the client's spec describes no endpoint issuing the {} token (`issues: {{token: {}}}`); build the client with a crate whose spec does, e.g. `dingtalk::client()`",
                    kind.as_str(),
                    kind.as_str()
                )
            })
        })
    }

    /// Whether this client can satisfy the endpoint's own auth (a suite token, a suite
    /// signature): those need a suite.
    fn can_authorise(&self, e: &TokenEndpoint) -> bool {
        use crate::request::Auth;
        match e.meta.auth {
            Auth::None => true,
            Auth::SuiteToken | Auth::SuiteSigned => self.inner.suite.is_some(),
            _ => false,
        }
    }

    fn has_credential(&self, c: Credential, inputs: &GrantInputs<'_>) -> bool {
        self.credential(c, inputs).is_some()
    }

    /// The value of `c`, when this client (or the sign-in) has it.
    fn credential(&self, c: Credential, inputs: &GrantInputs<'_>) -> Option<Text> {
        use crate::Credentials as C;
        let inner = &self.inner;
        let app = |f: fn(&C) -> Option<Text>| inner.credentials.as_ref().and_then(f);
        let suite = inner.suite.as_ref();
        match c {
            Credential::AppKey => app(|c| match c {
                C::AppKey { app_key, .. } => Some(Text::Plain(app_key.clone())),
                C::CorpSecret { .. } => None,
            }),
            Credential::AppSecret => app(|c| match c {
                C::AppKey { app_secret, .. } => Some(Text::Secret(app_secret.clone())),
                C::CorpSecret { .. } => None,
            }),
            Credential::CorpId => app(|c| match c {
                C::CorpSecret { corp_id, .. } => Some(Text::Plain(corp_id.clone())),
                C::AppKey { .. } => None,
            }),
            Credential::CorpSecret => app(|c| match c {
                C::CorpSecret { corp_secret, .. } => Some(Text::Secret(corp_secret.clone())),
                C::AppKey { .. } => None,
            }),
            Credential::SsoCorpId => inner.sso.as_ref().map(|(id, _)| Text::Plain(id.clone())),
            Credential::SsoSecret => inner.sso.as_ref().map(|(_, s)| Text::Secret(s.clone())),
            Credential::SnsAppId => inner.sns.as_ref().map(|(id, _)| Text::Plain(id.clone())),
            Credential::SnsAppSecret => inner.sns.as_ref().map(|(_, s)| Text::Secret(s.clone())),
            Credential::SuiteKey => suite.map(|s| Text::Plain(s.key.clone())),
            Credential::SuiteSecret => suite.map(|s| Text::Secret(s.secret().clone())),
            // Read from the store just before the call; its absence is recovered there.
            Credential::SuiteTicket => suite.map(|_| {
                Text::Secret(
                    inputs
                        .ticket
                        .clone()
                        .unwrap_or_else(|| SecretString::from("")),
                )
            }),
            Credential::SuiteId => suite.and_then(|s| s.id.clone()).map(Text::Plain),
            Credential::AuthCorpId => inner.corp.as_ref().map(|g| Text::Plain(g.corp_id.clone())),
            Credential::PermanentCode => inner
                .corp
                .as_ref()
                .and_then(|g| g.permanent_code.clone())
                .map(Text::Secret),
            Credential::ClientId => self
                .client_credentials()
                .map(|(id, _)| Text::Plain(id.to_string())),
            Credential::ClientSecret => self
                .client_credentials()
                .map(|(_, s)| Text::Secret(s.clone())),
            Credential::LoginCode => inputs.login_code.map(|c| Text::Plain(c.to_string())),
            Credential::RefreshToken => inputs.refresh_token.map(|t| Text::Secret(t.clone())),
        }
    }

    /// Executes `endpoint` once (a rejected suite token, for the forms that carry one, is
    /// refreshed and the request repeated once); retries are the token cache's.
    pub(crate) async fn run_token_endpoint(
        &self,
        endpoint: &'static TokenEndpoint,
        inputs: &GrantInputs<'_>,
        classify: Classify,
    ) -> Result<Option<Granted>, Error> {
        let meta = EndpointMeta {
            classify,
            ..endpoint.meta
        };
        let mut query = Query::default();
        let mut body = serde_json::Map::new();
        for p in endpoint.params {
            let value = match p.source {
                TokenSource::Value(v) => Text::Plain(v.to_string()),
                TokenSource::Credential(c) => self.credential(c, inputs).ok_or_else(|| {
                    Error::Config(format!(
                        "`{}` of {}.{} needs the {} credential",
                        p.name,
                        meta.area,
                        meta.name,
                        c.as_str()
                    ))
                })?,
            };
            if let Text::Secret(s) = &value {
                // Sent with the call: an error page may quote it back.
                crate::secret::note(s);
            }
            match p.place {
                ParamPlace::Query => query.push_text(p.name, value.as_str().to_string()),
                ParamPlace::Body => {
                    body.insert(
                        p.name.to_string(),
                        serde_json::Value::String(value.as_str().to_string()),
                    );
                }
            }
        }
        let body = meta
            .json_body
            .then(|| Bytes::from(serde_json::Value::Object(body).to_string()));
        let fields: Fields = self.exchange_described(&meta, &query, body).await?;
        if !endpoint.kind.issues_token() {
            return Ok(None);
        }
        let text = |field: Option<&str>| {
            field
                .and_then(|f| fields.0.get(f))
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let token = text(endpoint.answer.token).ok_or_else(|| Error::Decode {
            endpoint: crate::error::endpoint_name(&meta),
            message: format!(
                "the answer has no token in `{}`",
                endpoint.answer.token.unwrap_or("?")
            ),
            snippet: String::new(),
        })?;
        let expires_in = endpoint
            .answer
            .expires_in
            .and_then(|f| fields.0.get(f))
            .and_then(|v| match v {
                serde_json::Value::Number(n) => n.as_i64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            });
        tracing::debug!(
            endpoint = %format_args!("{}.{}", meta.area, meta.name),
            expires_in,
            "fetched a token"
        );
        Ok(Some(Granted {
            token: SecretString::from(token),
            expires_in,
            refresh_token: text(endpoint.answer.refresh_token).map(SecretString::from),
            corp_id: text(endpoint.answer.corp_id),
        }))
    }

    /// Issues a token of `kind`: picks the endpoint, reads the suite ticket it needs
    /// (recovering a missing one), runs it, and on a stale-ticket answer recovers a fresh
    /// ticket and runs it once more.
    pub(crate) async fn issue_token(
        &self,
        kind: TokenKind,
        mut inputs: GrantInputs<'_>,
        classify: Classify,
    ) -> Result<Granted, Error> {
        let endpoint = self.token_endpoint(kind, &inputs)?;
        // A signed form reads the ticket when it signs, the others send it as a param.
        let sends_ticket = endpoint.needs(Credential::SuiteTicket);
        let needs_ticket = sends_ticket || endpoint.meta.auth == crate::request::Auth::SuiteSigned;
        if sends_ticket {
            inputs.ticket = Some(self.suite_ticket_or_recover(None).await?);
        }
        let missing = || Error::Decode {
            endpoint: format!("{}.{}", endpoint.meta.area, endpoint.meta.name),
            message: "a token endpoint answered without a token".into(),
            snippet: String::new(),
        };
        match self.run_token_endpoint(endpoint, &inputs, classify).await {
            Ok(granted) => granted.ok_or_else(missing),
            Err(e) if needs_ticket && endpoint.is_stale_ticket(&e) => {
                tracing::info!(
                    code = %e.as_api().map(|a| a.code.to_string()).unwrap_or_default(),
                    "the suite ticket was refused; asking DingTalk to push a new one"
                );
                let used = match inputs.ticket.take() {
                    Some(t) => t,
                    None => self.current_suite_ticket().await?,
                };
                let fresh = self.suite_ticket_or_recover(Some(&used)).await?;
                inputs.ticket = sends_ticket.then_some(fresh);
                self.run_token_endpoint(endpoint, &inputs, classify)
                    .await?
                    .ok_or_else(missing)
            }
            Err(e) => Err(e),
        }
    }

    /// Asks DingTalk to push the suite ticket again, when the spec describes how and the
    /// client has what it needs. Says whether the request was made.
    pub(crate) async fn request_ticket_push(&self) -> Result<bool, Error> {
        let inputs = GrantInputs::default();
        let Ok(endpoint) = self.token_endpoint(TokenKind::SuiteTicketPush, &inputs) else {
            return Ok(false);
        };
        self.run_token_endpoint(endpoint, &inputs, endpoint.meta.classify)
            .await?;
        Ok(true)
    }

    /// A token cache's fetch for `kind`: the token and its lifetime.
    pub(crate) async fn fetch_kind(
        &self,
        kind: TokenKind,
        classify: Classify,
    ) -> Result<(SecretString, Option<i64>), Error> {
        let granted = self
            .issue_token(kind, GrantInputs::default(), classify)
            .await?;
        Ok((granted.token, granted.expires_in))
    }
}

/// The table of a client without token endpoints (tests of the runtime alone).
pub const NO_TOKEN_ENDPOINTS: &[TokenEndpoint] = &[];
