//! A throwaway `redis-server` on a free loopback port, for the Redis tests and benchmarks
//! (`bash scripts/test` installs the server where it is missing).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dingtalk::{RedisStore, TokenStore};

/// A running redis-server, stopped on drop.
pub struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:PORT/`.
    pub url: String,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RedisServer {
    /// Runs `redis-cli` against this server (a raw command a test needs, such as writing a
    /// value no store would write); panics when it fails.
    pub fn cli(&self, args: &[&str]) {
        let port = self
            .url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .unwrap_or("6379");
        let status = Command::new("redis-cli")
            .args(["-p", port])
            .args(args)
            .stdout(Stdio::null())
            .status();
        assert!(
            status.as_ref().is_ok_and(|s| s.success()),
            "redis-cli {args:?}: {status:?}"
        );
    }

    /// Starts a server without persistence, and connects a store to it once it answers.
    pub async fn start() -> Result<(RedisServer, RedisStore), String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .map_err(|e| format!("no free port: {e}"))?;
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| {
                format!("cannot start redis-server ({e}); `bash scripts/test` installs it")
            })?;
        let server = RedisServer {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        };
        for _ in 0..100 {
            if let Ok(store) = RedisStore::connect(&server.url).await {
                if store.get("ping").await.is_ok() {
                    return Ok((server, store));
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("redis-server did not come up on {}", server.url))
    }
}
