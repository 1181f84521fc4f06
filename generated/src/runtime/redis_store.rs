//! A [`TokenStore`] in Redis (feature `redis`): every instance of an app shares one token, and
//! one refresh per expiry for the whole fleet. Tokens are JSON `{"v": token, "e": expiry_ms}`
//! under the key, expiring with the token; the refresh lease is `<key>:lease`, a `SET NX PX`
//! whose expiry frees it if its holder dies. Compare-and-set and compare-and-delete run as Lua
//! scripts, so they are atomic across instances.

use std::fmt;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::runtime::store::{now_ms, StoreError, StoreFuture, StoredToken, TokenStore};
use crate::SecretString;

/// Stores `ARGV[1]` unless the stored token expires at `ARGV[2]` or later.
const PUT_IF_NEWER: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur then
  local ok, t = pcall(cjson.decode, cur)
  if ok and tonumber(t['e']) and tonumber(t['e']) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
"#;

/// Deletes the token if it is still `ARGV[1]`.
const REMOVE_IF: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur then
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
    /// Connects to `url` (`redis://host:port/db`); the connection reconnects by itself.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(err)?;
        let conn = ConnectionManager::new(client).await.map_err(err)?;
        Ok(RedisStore { conn })
    }
}

impl TokenStore for RedisStore {
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<StoredToken>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let raw: Option<String> = redis::cmd("GET")
                .arg(key)
                .query_async(&mut conn)
                .await
                .map_err(err)?;
            let Some(raw) = raw else { return Ok(None) };
            let v: serde_json::Value = serde_json::from_str(&raw)
                .map_err(|_| StoreError(format!("redis: `{key}` does not hold a token")))?;
            match (v["v"].as_str(), v["e"].as_i64()) {
                (Some(value), Some(e)) => Ok(Some(StoredToken {
                    value: SecretString::from(value),
                    expires_at_ms: e,
                })),
                _ => Err(StoreError(format!("redis: `{key}` does not hold a token"))),
            }
        })
    }

    fn put_if_newer<'a>(&'a self, key: &'a str, token: &'a StoredToken) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let value =
                serde_json::json!({"v": token.value.expose_secret(), "e": token.expires_at_ms})
                    .to_string();
            let ttl = (token.expires_at_ms - now_ms()).max(1);
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
}
