//! The Redis token store against a real `redis-server` that this test starts on a free port
//! (`bash scripts/test` installs it where it is missing): instances in separate tasks share one
//! token with one refresh, a dead lease holder is taken over, a stale write is rejected.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dingtalk::runtime::store::StoredToken;
use dingtalk::{RedisStore, SecretString, TokenStore};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::StandIn;

/// A redis-server for this test, stopped on drop.
struct Redis {
    child: Child,
    url: String,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn redis() -> (Redis, RedisStore) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start redis-server ({e}); `bash scripts/test` installs it")
        });
    let server = Redis {
        child,
        url: format!("redis://127.0.0.1:{port}/"),
    };
    for _ in 0..100 {
        if let Ok(store) = RedisStore::connect(&server.url).await {
            if store.get("ping").await.is_ok() {
                return (server, store);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("redis-server did not come up on {}", server.url);
}

fn client(standin: &StandIn, store: &RedisStore) -> dingtalk::Client {
    dingtalk::Client::builder()
        .app_key("dingkey", "secret")
        .base_url(standin.base_url())
        .token_store(Arc::new(store.clone()) as Arc<dyn TokenStore>)
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_in_separate_tasks_share_one_token_with_one_refresh() {
    let (_redis, store) = redis().await;
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    standin.configure(|b| b.rotate_tokens = true);
    // Each task is its own instance: its own client, its own local cache and connection.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = client(&standin, &store);
            tokio::spawn(async move {
                for _ in 0..5 {
                    c.department().list_sub_ids(1).await?;
                }
                Ok::<_, dingtalk::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task").expect("calls");
    }
    assert_eq!(
        standin.token_requests(),
        1,
        "one refresh for the whole fleet"
    );
    assert_eq!(standin.business_requests(), 40);
}

#[tokio::test]
async fn a_lease_whose_holder_died_is_taken_over() {
    let (_redis, store) = redis().await;
    let standin = StandIn::start(&load_spec()).await.expect("bind");
    assert_eq!(
        store
            .try_lease(
                "dingtalk:app_token:dingkey",
                "dead-instance",
                Duration::from_millis(400)
            )
            .await,
        Ok(true)
    );
    let c = client(&standin, &store);
    c.department()
        .list_sub_ids(1)
        .await
        .expect("the lease lapses and this instance refreshes");
    assert_eq!(standin.token_requests(), 1);
    let stored = store
        .get("dingtalk:app_token:dingkey")
        .await
        .expect("read")
        .expect("a token");
    assert!(stored.expires_at_ms > dingtalk_now_ms());
}

#[tokio::test]
async fn compare_and_set_rejects_the_stale_write() {
    let (_redis, store) = redis().await;
    let token = |v: &str, e: i64| StoredToken {
        value: SecretString::from(v),
        expires_at_ms: e,
    };
    let later = dingtalk_now_ms() + 7_200_000;
    assert_eq!(
        store.put_if_newer("k", &token("new", later)).await,
        Ok(true)
    );
    assert_eq!(
        store.put_if_newer("k", &token("old", later - 1000)).await,
        Ok(false)
    );
    assert_eq!(
        store.get("k").await.ok().flatten().map(|t| t.value),
        Some(SecretString::from("new"))
    );
    // A rejected token goes only if it is still the stored one.
    store
        .remove_if("k", &SecretString::from("old"))
        .await
        .expect("remove");
    assert!(store.get("k").await.ok().flatten().is_some());
    store
        .remove_if("k", &SecretString::from("new"))
        .await
        .expect("remove");
    assert_eq!(store.get("k").await, Ok(None));
    // Leases: exclusive, released only by their holder.
    assert_eq!(
        store.try_lease("k", "a", Duration::from_secs(5)).await,
        Ok(true)
    );
    assert_eq!(
        store.try_lease("k", "b", Duration::from_secs(5)).await,
        Ok(false)
    );
    store.release("k", "b").await.expect("release");
    assert_eq!(
        store.try_lease("k", "b", Duration::from_secs(5)).await,
        Ok(false)
    );
    store.release("k", "a").await.expect("release");
    assert_eq!(
        store.try_lease("k", "b", Duration::from_secs(5)).await,
        Ok(true)
    );
}

fn dingtalk_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
