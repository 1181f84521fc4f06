//! Walking paged endpoints as a `Stream`. Generated `pages()` / `items()` methods supply how to
//! build the next request from the last page; this module does the walking and stops after the
//! first error.

pub use futures_util::{Stream, StreamExt, TryStreamExt};

use crate::request::Endpoint;
use crate::{Client, Error};

/// Every page on `client`, starting with `first`; `next` builds the following request from the
/// current one and its page, or says there is none.
pub fn paginate<'c, R>(
    client: &'c Client,
    first: R,
    next: fn(&R, &R::Response) -> Option<R>,
) -> impl Stream<Item = Result<R::Response, Error>> + Send + 'c
where
    R: Endpoint + Clone + 'c,
{
    futures_util::stream::unfold(Some(first), move |state| async move {
        let request = state?;
        match client.send(&request).await {
            Ok(page) => {
                let following = next(&request, &page);
                Some((Ok(page), following))
            }
            // An error ends the walk: the caller sees it once and can resume from the request.
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// The items of every page, in order.
pub fn paginate_items<'c, P, T>(
    pages: impl Stream<Item = Result<P, Error>> + Send + 'c,
    items: fn(P) -> Vec<T>,
) -> impl Stream<Item = Result<T, Error>> + Send + 'c
where
    P: Send + 'c,
    T: Send + 'c,
{
    pages
        .map_ok(move |page| futures_util::stream::iter(items(page).into_iter().map(Ok)))
        .try_flatten()
}
