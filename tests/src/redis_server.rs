//! A throwaway `redis-server` on a free loopback port, for the Redis tests and benchmarks
//! (`bash scripts/test` installs the server where it is missing).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dingtalk::{RedisStore, TokenStore};

/// A running redis-server, stopped on drop.
pub struct RedisServer {
    child: Child,
    /// `redis://127.0.0.1:PORT/` (`rediss://` for a TLS server).
    pub url: String,
    /// The folder of a TLS server's certificates, removed on drop.
    certs: Option<std::path::PathBuf>,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.certs {
            let _ = std::fs::remove_dir_all(dir);
        }
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
            certs: None,
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

/// A free loopback port.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Runs `openssl` with `args` in `dir`.
fn openssl(dir: &std::path::Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("cannot run openssl: {e}"))?;
    match out.status.success() {
        true => Ok(()),
        false => Err(format!(
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )),
    }
}

impl RedisServer {
    /// Starts a server that speaks TLS only, with a certificate for 127.0.0.1 from a CA made
    /// for it; connects a store (`rediss://`) that trusts that CA.
    pub async fn start_tls() -> Result<(RedisServer, RedisStore), String> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("dingtalk-redis-tls-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{e}"))?;
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let ca = [
            &ec[..],
            &[
                "-x509",
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=test-ca",
            ],
        ]
        .concat();
        openssl(&dir, &[&["req"], &ca[..]].concat())?;
        let csr = [
            &ec[..],
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat();
        openssl(&dir, &[&["req"], &csr[..]].concat())?;
        std::fs::write(dir.join("ext"), "subjectAltName=IP:127.0.0.1\n")
            .map_err(|e| format!("{e}"))?;
        openssl(
            &dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.crt",
                "-days",
                "2",
                "-extfile",
                "ext",
            ],
        )?;
        let child = Command::new("redis-server")
            .current_dir(&dir)
            .args([
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .args([
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
            ])
            .args(["--tls-ca-cert-file", "ca.crt", "--tls-auth-clients", "no"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server ({e})"))?;
        let server = RedisServer {
            child,
            url: format!("rediss://127.0.0.1:{port}/"),
            certs: Some(dir.clone()),
        };
        let ca = std::fs::read(dir.join("ca.crt")).map_err(|e| format!("{e}"))?;
        let mut last = String::new();
        for _ in 0..100 {
            match RedisStore::connect_with_root_cert(&server.url, &ca).await {
                Ok(store) => match store.get("ping").await {
                    Ok(_) => return Ok((server, store)),
                    Err(e) => last = e.to_string(),
                },
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("no TLS connection to {}: {last}", server.url))
    }
}
