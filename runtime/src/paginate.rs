//! Walking paged endpoints as a `Stream`. Generated `pages()` / `items()` methods supply how to
//! build the next request from the last page; this module does the walking and stops after the
//! first error. A walk whose next request repeats one it already sent (a cursor that cycles,
//! A → B → A) or that reaches the client's page cap ends with [`Error::Paging`].

pub use futures_util::{Stream, StreamExt, TryStreamExt};

use std::collections::HashSet;
use std::hash::{Hash, Hasher};

use crate::error::endpoint_name;
use crate::request::{Endpoint, Query};
use crate::{Client, Error, PagingStop};

/// The page cap unless [`ClientBuilder::max_pages`](crate::ClientBuilder::max_pages) sets one.
pub const DEFAULT_MAX_PAGES: u64 = 100_000;

/// Where a walk is.
struct Walk<R> {
    next: Option<R>,
    /// Fingerprints of the requests sent.
    seen: HashSet<u64>,
    pages: u64,
}

/// What tells one page's request from another's: its path, query and body.
fn fingerprint<R: Endpoint>(request: &R) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    request.path().hash(&mut h);
    let mut q = Query::default();
    request.query(&mut q);
    q.pairs().hash(&mut h);
    serde_json::to_vec(request).unwrap_or_default().hash(&mut h);
    h.finish()
}

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
    let walk = Walk {
        next: Some(first),
        seen: HashSet::new(),
        pages: 0,
    };
    futures_util::stream::unfold(walk, move |mut walk| async move {
        let request = walk.next.take()?;
        let stop = |reason| Error::Paging {
            endpoint: endpoint_name(&R::META),
            pages: walk.pages,
            reason,
        };
        if walk.pages >= client.inner.max_pages {
            return Some((Err(stop(PagingStop::PageCap)), walk));
        }
        if !walk.seen.insert(fingerprint(&request)) {
            return Some((Err(stop(PagingStop::Cycle)), walk));
        }
        match client.send(&request).await {
            Ok(page) => {
                walk.pages += 1;
                walk.next = next(&request, &page);
                Some((Ok(page), walk))
            }
            // An error ends the walk: the caller sees it once and can resume from the request.
            Err(e) => Some((Err(e), walk)),
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
