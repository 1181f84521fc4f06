//! A [`TokenStore`] in Redis (feature `redis`): every instance of an app shares one token, and
//! one refresh per expiry for the whole fleet. Tokens are JSON `{"v": token, "e": expiry_ms}`
//! under the key, expiring with the token; the refresh lease is `<key>:lease`, a `SET NX PX`
//! whose expiry frees it if its holder dies. Compare-and-set and compare-and-delete run as Lua
//! scripts, so they are atomic across instances.
//!
//! It is also a [`LimitStore`]: each rate-limit window is a sorted set of calls scored by when
//! their slot frees, under `<key>:<window ms>`; taking and releasing slots run as Lua scripts on
//! the Redis server's clock, so instances with skewed clocks still agree.

use std::fmt;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::limit::{LimitStore, WindowLimit};
use crate::store::{now_ms, StoreError, StoreFuture, StoredToken, TokenStore};
use crate::SecretString;

/// Stores `ARGV[1]` unless the stored token expires at `ARGV[2]` or later. A value that is no
/// token (unreadable, or a key of another type) is overwritten.
const PUT_IF_NEWER: &str = r#"
local read, cur = pcall(redis.call, 'GET', KEYS[1])
if read and cur then
  local ok, t = pcall(cjson.decode, cur)
  if ok and tonumber(t['e']) and tonumber(t['e']) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
"#;

/// Deletes the token if it is still `ARGV[1]`.
const REMOVE_IF: &str = r#"
local read, cur = pcall(redis.call, 'GET', KEYS[1])
if read and cur then
  local ok, t = pcall(cjson.decode, cur)
  if ok and t['v'] == ARGV[1] then redis.call('DEL', KEYS[1]) end
end
return 0
"#;

/// Deletes the lease if `ARGV[1]` still holds it.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
"#;

/// Sets the lease's expiry to `ARGV[2]` ms if `ARGV[1]` still holds it.
const RENEW: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"#;

/// Takes a slot for call `ARGV[1]`, held `ARGV[2]` ms, in every window `KEYS[i]` (capacity
/// `ARGV[1 + 2i]`, length `ARGV[2 + 2i]` ms) unless one is full; returns 0, or the ms until the
/// earliest slot of a full window frees.
const LIMIT_ACQUIRE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local hold = tonumber(ARGV[2])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[1 + 2 * i]) then
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(first[2]) - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now + hold, ARGV[1])
  redis.call('PEXPIRE', key, hold + tonumber(ARGV[2 + 2 * i]))
end
return 0
"#;

/// Marks call `ARGV[1]` complete: its slot in window `KEYS[i]` frees `ARGV[1 + i]` ms from now.
const LIMIT_COMPLETE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  local len = tonumber(ARGV[1 + i])
  redis.call('ZADD', key, 'XX', now + len, ARGV[1])
  if redis.call('PTTL', key) < len then redis.call('PEXPIRE', key, len) end
end
return 0
"#;

static ACQUIRE_SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(LIMIT_ACQUIRE));
static COMPLETE_SCRIPT: std::sync::LazyLock<redis::Script> =
    std::sync::LazyLock::new(|| redis::Script::new(LIMIT_COMPLETE));

/// Tokens in Redis, shared by every instance that connects to the same server.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
}

impl fmt::Debug for RedisStore {
    // The URL may hold a password: show nothing of the connection.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RedisStore")
    }
}

/// The error's category only: its text may echo connection details.
fn err(e: redis::RedisError) -> StoreError {
    StoreError(format!("redis: {:?}", e.kind()))
}

impl RedisStore {
    /// A handle on the shared connection (cheap: the manager is reference-counted).
    pub(crate) fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Connects to `url` (`redis://host:port/db`, or `rediss://` for TLS with the `redis-tls`
    /// feature); the connection reconnects by itself. Needs Redis 5.0 or later: the rate-limit
    /// scripts read the server's clock (`TIME`) before writing, which needs script effects
    /// replication, the default since 5.0.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("rediss://") && !cfg!(feature = "redis-tls") {
            return Err(StoreError(
                "redis: a rediss:// URL needs the `redis-tls` feature".into(),
            ));
        }
        let client = redis::Client::open(url).map_err(err)?;
        let conn = ConnectionManager::new(client).await.map_err(err)?;
        Ok(RedisStore { conn })
    }

    /// Connects to a `rediss://` `url` whose server certificate is signed by the CA in
    /// `root_cert_pem` (a private CA) instead of one of the public roots.
    #[cfg(feature = "redis-tls")]
    pub async fn connect_with_root_cert(
        url: &str,
        root_cert_pem: &[u8],
    ) -> Result<Self, StoreError> {
        let certs = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(root_cert_pem.to_vec()),
        };
        let client = redis::Client::build_with_tls(url, certs).map_err(err)?;
        let conn = ConnectionManager::new(client).await.map_err(err)?;
        Ok(RedisStore { conn })
    }
}

impl TokenStore for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<StoredToken>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let raw: Option<String> = match redis::cmd("GET").arg(key).query_async(&mut conn).await
            {
                Ok(raw) => raw,
                // A key of another type (a list, a hash): no token either.
                Err(e) if e.code() == Some("WRONGTYPE") => None,
                Err(e) => return Err(err(e)),
            };
            let Some(raw) = raw else { return Ok(None) };
            // A value this store did not write (corrupt, or another program's) is no token:
            // absent, so the next refresh overwrites it.
            let v: serde_json::Value = serde_json::from_str(&raw).unwrap_or_default();
            Ok(match (v["v"].as_str(), v["e"].as_i64()) {
                (Some(value), Some(e)) => Some(StoredToken {
                    value: SecretString::from(value),
                    expires_at_ms: e,
                }),
                _ => None,
            })
        })
    }

    fn put_if_newer<'a>(&'a self, key: &'a str, token: &'a StoredToken) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let value =
                serde_json::json!({"v": token.value.expose_secret(), "e": token.expires_at_ms})
                    .to_string();
            let ttl = token.expires_at_ms.saturating_sub(now_ms()).max(1);
            let stored: i64 = redis::Script::new(PUT_IF_NEWER)
                .key(key)
                .arg(value)
                .arg(token.expires_at_ms)
                .arg(ttl)
                .invoke_async(&mut conn)
                .await
                .map_err(err)?;
            Ok(stored == 1)
        })
    }

    fn remove_if<'a>(&'a self, key: &'a str, value: &'a SecretString) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _: i64 = redis::Script::new(REMOVE_IF)
                .key(key)
                .arg(value.expose_secret())
                .invoke_async(&mut conn)
                .await
                .map_err(err)?;
            Ok(())
        })
    }

    fn try_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let ms = ttl.as_millis().max(1) as u64;
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("{key}:lease"))
                .arg(holder)
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query_async(&mut conn)
                .await
                .map_err(err)?;
            Ok(set.is_some())
        })
    }

    fn release<'a>(&'a self, key: &'a str, holder: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let _: i64 = redis::Script::new(RELEASE)
                .key(format!("{key}:lease"))
                .arg(holder)
                .invoke_async(&mut conn)
                .await
                .map_err(err)?;
            Ok(())
        })
    }

    fn renew_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let _: i64 = redis::Script::new(RENEW)
                .key(format!("{key}:lease"))
                .arg(holder)
                .arg(ms)
                .invoke_async(&mut conn)
                .await
                .map_err(err)?;
            Ok(())
        })
    }
}

fn window_key(key: &str, w: &WindowLimit) -> String {
    format!("{key}:{}", w.length.as_millis())
}

impl LimitStore for RedisStore {
    fn try_acquire<'a>(
        &'a self,
        key: &'a str,
        call: &'a str,
        windows: &'a [WindowLimit],
        hold: Duration,
    ) -> StoreFuture<'a, Option<Duration>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let mut invocation = ACQUIRE_SCRIPT.prepare_invoke();
            invocation.arg(call).arg(hold.as_millis() as u64);
            for w in windows {
                invocation
                    .key(window_key(key, w))
                    .arg(w.capacity)
                    .arg(w.length.as_millis() as u64);
            }
            let wait: i64 = invocation.invoke_async(&mut conn).await.map_err(err)?;
            Ok((wait > 0).then(|| Duration::from_millis(wait as u64)))
        })
    }

    fn complete<'a>(
        &'a self,
        key: &'a str,
        call: &'a str,
        windows: &'a [WindowLimit],
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let mut invocation = COMPLETE_SCRIPT.prepare_invoke();
            invocation.arg(call);
            for w in windows {
                invocation
                    .key(window_key(key, w))
                    .arg(w.length.as_millis() as u64);
            }
            let _: i64 = invocation.invoke_async(&mut conn).await.map_err(err)?;
            Ok(())
        })
    }
}
