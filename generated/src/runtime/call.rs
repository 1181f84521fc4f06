//! `Call`: a request bound to a client, configured with setters and sent by `.await`.

use std::future::{Future, IntoFuture};
use std::pin::Pin;

use crate::runtime::request::Endpoint;
use crate::{Client, Error};

/// A request ready to send: returned by every handle method (`client.user().get(..)`).
/// Optional params are set with the generated setters; `.await` sends it.
#[must_use = "a Call does nothing until it is awaited"]
#[derive(Debug)]
pub struct Call<'c, R> {
    client: &'c Client,
    request: R,
}

impl<'c, R> Call<'c, R> {
    /// Binds `request` to `client`.
    pub fn new(client: &'c Client, request: R) -> Self {
        Call { client, request }
    }

    /// Changes the request (the generated setters use this).
    pub fn map(self, f: impl FnOnce(R) -> R) -> Self {
        Call {
            client: self.client,
            request: f(self.request),
        }
    }

    /// The client the call goes through.
    pub(crate) fn client(&self) -> &'c Client {
        self.client
    }

    /// The request as configured so far.
    pub fn request(&self) -> &R {
        &self.request
    }

    /// The request, to send later with [`Client::send`].
    pub fn into_request(self) -> R {
        self.request
    }
}

impl<'c, R: Endpoint + 'c> IntoFuture for Call<'c, R> {
    type Output = Result<R::Response, Error>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send + 'c>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.client.send(&self.request).await })
    }
}
