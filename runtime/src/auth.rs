//! Auth schemes. Each kind of authorisation an endpoint declares ([`Auth`]), on the host it lives
//! on ([`Host`]), maps to one [`Scheme`] value that says how to obtain its credential, where the
//! credential goes (a query param, a header, a signed query), and which cached token to drop
//! when DingTalk rejects it. The transport executes schemes and never matches on the kind: the
//! api.dingtalk.com header token and the user token are schemes here like the rest.

use std::sync::Arc;

use crate::codegen::BoxFuture;
use crate::error::Classify;
use crate::request::{Auth, Host, Query};
use crate::token::{Cached, TokenCache};
use crate::{Client, Error};

/// A token fetched or read from its cache; fetch errors are classified with the table given.
/// The last argument is the request's user, for user tokens.
type TokenFn =
    for<'a> fn(&'a Client, Classify, Option<&'a str>) -> BoxFuture<'a, Result<Arc<Cached>, Error>>;

/// The query signed afresh: run for every attempt, once the limiter has let the call go, so the
/// timestamp is recent when DingTalk sees it.
type SignFn = for<'a> fn(&'a Client, &'a Query) -> BoxFuture<'a, Result<Query, Error>>;

/// Where a scheme's credential goes.
pub(crate) enum Place {
    /// Nowhere: the endpoint takes no credential.
    Nothing,
    /// The token, as the query param of this name (first in the query string).
    Query(&'static str),
    /// The bare token, as the header of this name.
    Header(&'static str),
    /// The whole query, signed.
    Signed(SignFn),
}

/// How one kind of endpoint is authorised.
pub(crate) struct Scheme {
    /// The token it carries, if any.
    pub(crate) token: Option<TokenFn>,
    /// Where the credential goes.
    pub(crate) place: Place,
    /// Drops a token DingTalk rejected from its cache, so the retry fetches a new one (given
    /// the request's user, for user tokens).
    pub(crate) reject: RejectFn,
}

/// Drops a rejected token.
type RejectFn = for<'a> fn(&'a Client, Option<&'a str>, &'a Arc<Cached>) -> BoxFuture<'a, ()>;

/// A rejection on `cache`.
fn drop_from<'a>(cache: Option<&'a TokenCache>, used: &'a Arc<Cached>) -> BoxFuture<'a, ()> {
    Box::pin(async move {
        if let Some(cache) = cache {
            cache.reject(used).await;
        }
    })
}

/// The header api.dingtalk.com takes the token in.
const API_TOKEN_HEADER: &str = "x-acs-dingtalk-access-token";

/// The scheme of `auth` on `host`: the one table of kinds. The generator only emits the pairs
/// the spec checker accepts; the others fail the call with a configuration error.
pub(crate) fn scheme(auth: Auth, host: Host) -> &'static Scheme {
    match (auth, host) {
        (Auth::None, _) => &NONE,
        (Auth::AccessToken, Host::Oapi) => &ACCESS_TOKEN,
        (Auth::AccessToken, Host::Api) => &ACCESS_TOKEN_HEADER,
        (Auth::UserToken, Host::Api) => &USER_TOKEN,
        (Auth::SsoToken, Host::Oapi) => &SSO_TOKEN,
        (Auth::SnsAppToken, Host::Oapi) => &SNS_APP_TOKEN,
        (Auth::Signed, Host::Oapi) => &SIGNED,
        (Auth::SuiteToken, Host::Oapi) => &SUITE_TOKEN,
        (Auth::SuiteSigned, Host::Oapi) => &SUITE_SIGNED,
        _ => &UNSUPPORTED,
    }
}

fn no_cache<'a>(_: &'a Client, _: Option<&'a str>, _: &'a Arc<Cached>) -> BoxFuture<'a, ()> {
    Box::pin(std::future::ready(()))
}

static NONE: Scheme = Scheme {
    token: None,
    place: Place::Nothing,
    reject: no_cache,
};

/// An auth kind the host does not have (a user token on oapi, a signed query on api).
static UNSUPPORTED: Scheme = Scheme {
    token: Some(|_, _, _| {
        Box::pin(std::future::ready(Err(Error::Config(
            "this endpoint's auth kind does not exist on its host; regenerate the crate with a checked spec".into(),
        ))))
    }),
    place: Place::Nothing,
    reject: no_cache,
};

/// The app's token (an organisation's, on a suite's organisation client), as `?access_token=`.
static ACCESS_TOKEN: Scheme = Scheme {
    token: Some(|c, classify, _| Box::pin(c.app_token(classify))),
    place: Place::Query("access_token"),
    reject: |c, _, used| drop_from(Some(&c.inner.app_token), used),
};

/// The same app token on api.dingtalk.com: one cache and one refresh serve both hosts.
static ACCESS_TOKEN_HEADER: Scheme = Scheme {
    place: Place::Header(API_TOKEN_HEADER),
    ..ACCESS_TOKEN
};

/// A signed-in user's token, in the header.
static USER_TOKEN: Scheme = Scheme {
    token: Some(|c, classify, user| Box::pin(c.user_token(classify, user))),
    place: Place::Header(API_TOKEN_HEADER),
    reject: |c, user, used| Box::pin(c.reject_user_token(user, used)),
};

/// The SSO token from `/sso/gettoken`, as `?access_token=`.
static SSO_TOKEN: Scheme = Scheme {
    token: Some(|c, classify, _| Box::pin(c.sso_token(classify))),
    place: Place::Query("access_token"),
    reject: |c, _, used| drop_from(Some(&c.inner.sso_token), used),
};

/// The SNS login app's token from `/sns/gettoken`, as `?access_token=`.
static SNS_APP_TOKEN: Scheme = Scheme {
    token: Some(|c, classify, _| Box::pin(c.sns_app_token(classify))),
    place: Place::Query("access_token"),
    reject: |c, _, used| drop_from(Some(&c.inner.sns_token), used),
};

/// `accessKey`, `timestamp` and `signature` with the SNS app's (or the AppKey's) secret.
static SIGNED: Scheme = Scheme {
    token: None,
    place: Place::Signed(|c, q| Box::pin(std::future::ready(c.signed_query(q)))),
    reject: no_cache,
};

/// The ISV suite's token, as `?suite_access_token=`.
static SUITE_TOKEN: Scheme = Scheme {
    token: Some(|c, classify, _| Box::pin(c.suite_token(classify))),
    place: Place::Query("suite_access_token"),
    reject: |c, _, used| drop_from(c.inner.suite.as_ref().map(|s| &s.token), used),
};

/// `accessKey`, `timestamp`, `suiteTicket` and `signature` with the suite secret.
static SUITE_SIGNED: Scheme = Scheme {
    token: None,
    place: Place::Signed(|c, q| Box::pin(c.suite_signed_query(q))),
    reject: no_cache,
};
