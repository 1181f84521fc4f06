//! Auth schemes. Each kind of authorisation an endpoint declares ([`Auth`]) maps to one
//! [`Scheme`] value that says how to obtain its credential, where the credential goes, and which
//! cached token to drop when DingTalk rejects it. The transport executes schemes and never
//! matches on the kind, so a new kind (a header token, a user token) is a new scheme here.

use std::sync::Arc;

use crate::codegen::BoxFuture;
use crate::error::Classify;
use crate::request::{Auth, Query};
use crate::token::{Cached, TokenCache};
use crate::{Client, Error};

/// A token fetched or read from its cache; fetch errors are classified with the table given.
type TokenFn = for<'a> fn(&'a Client, Classify) -> BoxFuture<'a, Result<Arc<Cached>, Error>>;

/// The query signed afresh: run for every attempt, once the limiter has let the call go, so the
/// timestamp is recent when DingTalk sees it.
type SignFn = for<'a> fn(&'a Client, &'a Query) -> BoxFuture<'a, Result<Query, Error>>;

/// Where a scheme's credential goes.
pub(crate) enum Place {
    /// Nowhere: the endpoint takes no credential.
    Nothing,
    /// The token, as the query param of this name (first in the query string).
    Query(&'static str),
    /// The whole query, signed.
    Signed(SignFn),
}

/// How one kind of endpoint is authorised.
pub(crate) struct Scheme {
    /// The token it carries, if any.
    pub(crate) token: Option<TokenFn>,
    /// Where the credential goes.
    pub(crate) place: Place,
    /// The cache a rejected token is dropped from, so the retry fetches a new one.
    pub(crate) cache: fn(&Client) -> Option<&TokenCache>,
}

/// The scheme of `auth`: the one table of kinds.
pub(crate) fn scheme(auth: Auth) -> &'static Scheme {
    match auth {
        Auth::None => &NONE,
        Auth::AccessToken => &ACCESS_TOKEN,
        Auth::SsoToken => &SSO_TOKEN,
        Auth::SnsAppToken => &SNS_APP_TOKEN,
        Auth::Signed => &SIGNED,
        Auth::SuiteToken => &SUITE_TOKEN,
        Auth::SuiteSigned => &SUITE_SIGNED,
    }
}

fn no_cache(_: &Client) -> Option<&TokenCache> {
    None
}

static NONE: Scheme = Scheme {
    token: None,
    place: Place::Nothing,
    cache: no_cache,
};

/// The app's token (an organisation's, on a suite's organisation client), as `?access_token=`.
static ACCESS_TOKEN: Scheme = Scheme {
    token: Some(|c, classify| Box::pin(c.app_token(classify))),
    place: Place::Query("access_token"),
    cache: |c| Some(&c.inner.app_token),
};

/// The SSO token from `/sso/gettoken`, as `?access_token=`.
static SSO_TOKEN: Scheme = Scheme {
    token: Some(|c, classify| Box::pin(c.sso_token(classify))),
    place: Place::Query("access_token"),
    cache: |c| Some(&c.inner.sso_token),
};

/// The SNS login app's token from `/sns/gettoken`, as `?access_token=`.
static SNS_APP_TOKEN: Scheme = Scheme {
    token: Some(|c, classify| Box::pin(c.sns_app_token(classify))),
    place: Place::Query("access_token"),
    cache: |c| Some(&c.inner.sns_token),
};

/// `accessKey`, `timestamp` and `signature` with the SNS app's (or the AppKey's) secret.
static SIGNED: Scheme = Scheme {
    token: None,
    place: Place::Signed(|c, q| Box::pin(std::future::ready(c.signed_query(q)))),
    cache: no_cache,
};

/// The ISV suite's token, as `?suite_access_token=`.
static SUITE_TOKEN: Scheme = Scheme {
    token: Some(|c, classify| Box::pin(c.suite_token(classify))),
    place: Place::Query("suite_access_token"),
    cache: |c| c.inner.suite.as_ref().map(|s| &s.token),
};

/// `accessKey`, `timestamp`, `suiteTicket` and `signature` with the suite secret.
static SUITE_SIGNED: Scheme = Scheme {
    token: None,
    place: Place::Signed(|c, q| Box::pin(c.suite_signed_query(q))),
    cache: no_cache,
};
