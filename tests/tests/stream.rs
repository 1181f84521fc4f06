//! Stream mode against the Stream stand-in: delivery across disconnects, zombie sockets,
//! backoff, credentials, a fleet sharing a Redis dedup store, slow handlers, typed robot
//! messages and card callbacks, ACK shapes and shutdown. Each scenario asserts what the
//! stand-in saw.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dingtalk::api::callback::Event;
use dingtalk::stream::{AckPolicy, Answer, Backoff, StreamConfig, StreamError, StreamHandle};
use dingtalk::Client;
use dingtalk_tests::redis_server::RedisServer;
use dingtalk_tests::stream_standin::{StreamSeen, StreamStandIn};
use dingtalk_workflows::stream::{card_answer, StreamMode, StreamPush};
use serde_json::{json, Value};

const APP: &str = "dingstreamapp";
const SECRET: &str = "stream-secret";

fn client(standin: &StreamStandIn, secret: &str) -> Client {
    dingtalk::client()
        .app_key(APP, secret)
        .api_base_url(standin.base_url())
        // No oapi call is made here; keep it off the network all the same.
        .base_url(standin.base_url())
        .build()
        .expect("client")
}

/// Quick timings for tests: a short backoff, a tight watchdog.
fn fast() -> StreamConfig {
    StreamConfig::default()
        .backoff(Backoff {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(200),
            reset_after: Duration::from_secs(5),
            seed: Some(42),
        })
        .keepalive(Duration::from_millis(200))
        .pong_timeout(Duration::from_millis(500))
        .drain(Duration::from_secs(2))
        .shutdown_grace(Duration::from_secs(2))
}

/// Which message ids the handler saw, how often.
#[derive(Clone, Default)]
struct Handled(Arc<Mutex<HashMap<String, usize>>>);

impl Handled {
    fn add(&self, id: &str) {
        *self.0.lock().unwrap().entry(id.to_owned()).or_default() += 1;
    }
    fn counts(&self) -> HashMap<String, usize> {
        self.0.lock().unwrap().clone()
    }
    fn total(&self) -> usize {
        self.counts().values().sum()
    }
}

/// Starts a client that records every push's messageId and answers SUCCESS.
fn counting(client: &Client, config: StreamConfig, handled: &Handled) -> StreamHandle {
    let handled = handled.clone();
    client
        .stream_mode()
        .events()
        .robot_messages()
        .config(config)
        .spawn(move |push| {
            let handled = handled.clone();
            async move {
                let id = push_id(&push);
                handled.add(&id);
                Ok(Answer::Success)
            }
        })
        .expect("spawn")
}

fn title_event(n: usize) -> Value {
    json!({"ChatId": format!("chat-{n}"), "Title": format!("title {n}"), "OperatorUnionId": "u1"})
}

fn all_acked(ids: &[String]) -> impl Fn(&StreamSeen) -> bool + '_ {
    move |seen: &StreamSeen| ids.iter().all(|id| seen.acked(id).is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_across_ten_disconnects_are_each_handled_once_and_none_is_lost() {
    let standin = StreamStandIn::start().await;
    standin.configure(|b| {
        // DingTalk closes a disconnected socket about 10 s later and holds pushes for a while;
        // here both are short, so a client that waited for the close would lose pushes.
        b.drain = Duration::from_millis(400);
        b.hold = Duration::from_millis(300);
        b.redeliver_after = Some(Duration::from_secs(1));
    });
    let handled = Handled::default();
    let mut stream = counting(&client(&standin, SECRET), fast(), &handled);
    stream.wait_connected(1).await;

    let mut ids = Vec::new();
    for round in 0..10 {
        let live_before = standin.seen().connections.len();
        for n in 0..50 {
            ids.push(standin.push_event("chat_update_title", title_event(round * 100 + n)));
        }
        standin.disconnect_all();
        // These land in the window between DingTalk's `disconnect` and the replacement.
        for n in 50..100 {
            ids.push(standin.push_event("chat_update_title", title_event(round * 100 + n)));
        }
        standin
            .wait_until("the replacement socket", Duration::from_secs(5), |s| {
                s.connections.len() > live_before
            })
            .await;
    }
    let seen = standin
        .wait_until(
            "all 1000 events acknowledged",
            Duration::from_secs(30),
            all_acked(&ids),
        )
        .await;
    stream.shutdown().await.expect("clean shutdown");

    let counts = handled.counts();
    assert_eq!(counts.len(), 1000, "every event reached the handler");
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    assert!(seen.lost.is_empty(), "lost: {:?}", seen.lost);
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
    assert!(seen.pending().is_empty());
    // Ten disconnects, ten replacements, each with a ticket of its own.
    assert!(seen.connections.len() >= 11, "{}", seen.connections.len());
    assert_eq!(seen.handshakes.len(), seen.connections.len());
    assert!(
        seen.refused_tickets.is_empty(),
        "{:?}",
        seen.refused_tickets
    );
    let redelivered = seen.deliveries.iter().filter(|d| d.redelivery).count();
    println!(
        "1000 events, 10 disconnects: {} sockets, {} deliveries ({} redeliveries), {} handled, 0 lost",
        seen.connections.len(),
        seen.deliveries.len(),
        redelivered,
        handled.total()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zombie_socket_that_answers_pings_but_delivers_nothing_is_replaced_within_the_watchdog() {
    let standin = StreamStandIn::start().await;
    standin.configure(|b| b.system_ping_every = Some(Duration::from_millis(100)));
    let handled = Handled::default();
    let idle = Duration::from_millis(600);
    let mut stream = counting(
        &client(&standin, SECRET),
        fast().idle_timeout(idle),
        &handled,
    );
    stream.wait_connected(1).await;

    // A healthy socket (DingTalk's own pings arrive) is kept: the watchdog is not a timer.
    tokio::time::sleep(idle * 3).await;
    assert_eq!(standin.seen().connections.len(), 1);

    let zombie = standin.live_connections()[0];
    let since = Instant::now();
    standin.make_zombie(zombie);
    let seen = standin
        .wait_until("a replacement socket", Duration::from_secs(5), |s| {
            s.connections.len() >= 2
        })
        .await;
    let replaced_after = seen.connections[1].opened.duration_since(since);
    assert!(
        replaced_after >= idle - Duration::from_millis(150) && replaced_after <= idle * 2,
        "replaced after {replaced_after:?} with a {idle:?} watchdog"
    );
    // The zombie kept answering WebSocket pings: only the watchdog could tell.
    assert!(seen.client_pings > 0);
    let id = standin.push_event("chat_update_title", title_event(1));
    standin
        .wait_until("the event on the new socket", Duration::from_secs(5), |s| {
            s.acked(&id).is_some()
        })
        .await;
    assert_eq!(stream.stats().replaced_idle, 1);
    println!("zombie socket replaced after {replaced_after:?} (watchdog {idle:?})");
    stream.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_failed_handshakes_follow_the_backoff_schedule_and_the_client_recovers() {
    let standin = StreamStandIn::start().await;
    standin.configure(|b| b.fail_handshakes = 20);
    let backoff = Backoff {
        base: Duration::from_millis(10),
        cap: Duration::from_millis(160),
        reset_after: Duration::from_secs(5),
        seed: Some(7),
    };
    let handled = Handled::default();
    let mut stream = counting(
        &client(&standin, SECRET),
        fast().backoff(backoff.clone()),
        &handled,
    );
    stream.wait_connected(1).await;
    let seen = standin.seen();
    assert_eq!(seen.handshakes.len(), 21, "20 refused, then one accepted");
    assert_eq!(seen.handshakes.iter().filter(|h| h.accepted).count(), 1);

    let gaps: Vec<Duration> = seen
        .handshakes
        .windows(2)
        .map(|w| w[1].at.duration_since(w[0].at))
        .collect();
    let slack = Duration::from_millis(60);
    let mut ceilings = Duration::ZERO;
    for (i, gap) in gaps.iter().enumerate() {
        let ceiling = backoff.ceiling(u32::try_from(i + 1).unwrap());
        ceilings += ceiling;
        assert!(
            *gap <= ceiling + slack,
            "gap {i} {gap:?} above its ceiling {ceiling:?}"
        );
    }
    // Jittered, not hammering: the waits add up to a good share of the ceilings.
    let waited: Duration = gaps.iter().sum();
    assert!(waited >= ceilings / 4, "waited {waited:?} of {ceilings:?}");
    let id = standin.push_event("chat_update_title", title_event(1));
    standin
        .wait_until("an event after recovery", Duration::from_secs(5), |s| {
            s.acked(&id).is_some()
        })
        .await;
    println!(
        "20 failed handshakes: waited {waited:?} in all (ceilings {ceilings:?}), then recovered"
    );
    stream.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_secret_stops_with_a_typed_error_after_one_handshake() {
    let standin = StreamStandIn::start().await;
    let handled = Handled::default();
    let stream = counting(&client(&standin, "wrong-secret"), fast(), &handled);
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.wait())
        .await
        .expect("the client gives up by itself");
    let error = ended.expect_err("a credential error");
    assert!(matches!(error, StreamError::Credentials(_)), "{error:?}");
    let text = format!("{error} {error:?}");
    assert!(text.contains("authFailed"), "{text}");
    assert!(!text.contains("wrong-secret"), "the secret leaked: {text}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = standin.seen();
    assert_eq!(seen.handshakes.len(), 1);
    assert!(seen.connections.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_a_redis_dedup_store_handle_each_duplicated_message_once() {
    let (_redis, store) = RedisServer::start().await.unwrap_or_else(|e| panic!("{e}"));
    let standin = StreamStandIn::start().await;
    // A fleet: every push goes to both instances' sockets.
    standin.configure(|b| b.duplicate_to_all = true);
    let handled = Handled::default();
    let mut instances = Vec::new();
    for _ in 0..2 {
        let client = client(&standin, SECRET);
        let handled = handled.clone();
        let stream = client
            .stream_mode()
            .events()
            .config(fast())
            .dedup_store(Arc::new(store.clone()))
            .spawn(move |push| {
                let handled = handled.clone();
                async move {
                    handled.add(&push_id(&push));
                    Ok(Answer::Success)
                }
            })
            .expect("spawn");
        instances.push(stream);
    }
    for s in &mut instances {
        s.wait_connected(1).await;
    }
    standin
        .wait_until("two live sockets", Duration::from_secs(5), |s| {
            s.connections.iter().filter(|c| c.closed.is_none()).count() == 2
        })
        .await;

    let ids: Vec<String> = (0..200)
        .map(|n| standin.push_event("chat_update_title", title_event(n)))
        .collect();
    // And some again, after they were acknowledged.
    standin
        .wait_until("all acknowledged", Duration::from_secs(20), all_acked(&ids))
        .await;
    for id in ids.iter().take(50) {
        standin.redeliver(id);
    }
    let seen = standin
        .wait_until("every copy answered", Duration::from_secs(20), |s| {
            s.acks.len() >= 200 * 2 + 50
        })
        .await;

    let counts = handled.counts();
    assert_eq!(counts.len(), 200);
    assert!(
        counts.values().all(|n| *n == 1),
        "a message was handled twice"
    );
    let replayed: u64 = instances.iter().map(|s| s.stats().replayed).sum();
    assert!(
        replayed >= 250,
        "copies answered from the store: {replayed}"
    );
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
    println!(
        "2 instances, 200 messages × 2 copies + 50 redeliveries: {} deliveries, {} handled, {replayed} answered from Redis",
        seen.deliveries.len(),
        handled.total()
    );
    for s in instances {
        s.shutdown().await.expect("clean shutdown");
    }
}

fn push_id(push: &StreamPush) -> String {
    match push {
        StreamPush::Event(e) => e.headers.message_id.clone(),
        StreamPush::RobotMessage(m) => m.headers.message_id.clone(),
        StreamPush::CardCallback(c) => c.headers.message_id.clone(),
        StreamPush::Callback(c) => c.headers.message_id.clone(),
        StreamPush::Undecodable(u) => u.headers.message_id.clone(),
        _ => String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_during_a_slow_handler_is_answered_from_its_result_not_run_twice() {
    let standin = StreamStandIn::start().await;
    standin.configure(|b| b.redeliver_after = Some(Duration::from_millis(150)));
    let runs = Arc::new(Mutex::new(0usize));
    let counter = runs.clone();
    let mut stream = client(&standin, SECRET)
        .stream_mode()
        .events()
        .config(fast().ack(AckPolicy::AfterHandler))
        .spawn(move |_push| {
            let counter = counter.clone();
            async move {
                *counter.lock().unwrap() += 1;
                tokio::time::sleep(Duration::from_millis(800)).await;
                Ok(Answer::Success)
            }
        })
        .expect("spawn");
    stream.wait_connected(1).await;
    let id = standin.push_event("chat_update_title", title_event(1));
    let seen = standin
        .wait_until(
            "the first delivery and its redeliveries answered",
            Duration::from_secs(5),
            |s| s.acks.iter().filter(|a| a.message_id == id).count() >= 2,
        )
        .await;
    let deliveries = seen
        .deliveries
        .iter()
        .filter(|d| d.message_id == id)
        .count();
    assert!(
        deliveries >= 2,
        "redelivered while the handler ran: {deliveries}"
    );
    assert_eq!(*runs.lock().unwrap(), 1, "the handler ran once");
    for ack in seen.acks.iter().filter(|a| a.message_id == id) {
        assert_eq!(ack.data["status"], "SUCCESS", "{ack:?}");
    }
    assert!(stream.stats().replayed >= 1);
    stream.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_answers_later_and_the_redelivery_runs_it_again() {
    let standin = StreamStandIn::start().await;
    standin.configure(|b| b.redeliver_after = Some(Duration::from_millis(100)));
    let runs = Arc::new(Mutex::new(0usize));
    let counter = runs.clone();
    let mut stream = client(&standin, SECRET)
        .stream_mode()
        .events()
        .config(fast())
        .spawn(move |_push| {
            let counter = counter.clone();
            async move {
                let mut n = counter.lock().unwrap();
                *n += 1;
                if *n == 1 {
                    return Err("database down".into());
                }
                Ok(Answer::Success)
            }
        })
        .expect("spawn");
    stream.wait_connected(1).await;
    let id = standin.push_event("chat_update_title", title_event(1));
    let seen = standin
        .wait_until("acknowledged after a retry", Duration::from_secs(5), |s| {
            s.acked(&id).is_some()
        })
        .await;
    let statuses: Vec<&Value> = seen
        .acks
        .iter()
        .filter(|a| a.message_id == id)
        .map(|a| &a.data["status"])
        .collect();
    assert_eq!(statuses, [&json!("LATER"), &json!("SUCCESS")]);
    assert_eq!(*runs.lock().unwrap(), 2);
    stream.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robot_messages_and_card_callbacks_arrive_typed_and_card_replies_ride_in_the_ack() {
    let standin = StreamStandIn::start().await;
    let seen_pushes = Arc::new(Mutex::new(Vec::new()));
    let log = seen_pushes.clone();
    let mut stream = client(&standin, SECRET)
        .stream_mode()
        .robot_messages()
        .card_callbacks()
        .config(fast())
        .spawn(move |push| {
            let log = log.clone();
            async move {
                match push {
                    StreamPush::RobotMessage(m) => {
                        log.lock().unwrap().push(format!(
                            "robot {} from {}",
                            m.text().unwrap_or_default(),
                            m.message.sender_nick.clone().unwrap_or_default()
                        ));
                        Ok(Answer::Success)
                    }
                    StreamPush::CardCallback(c) => {
                        log.lock()
                            .unwrap()
                            .push(format!("card {}", c.callback.out_track_id.clone()));
                        let reply: dingtalk::api::card::CardCallbackResponse =
                            serde_json::from_value(
                                json!({"cardData": {"cardParamMap": {"status": "done"}}}),
                            )
                            .expect("a card reply");
                        Ok(card_answer(&reply))
                    }
                    other => {
                        log.lock().unwrap().push(format!("other {other:?}"));
                        Ok(Answer::Success)
                    }
                }
            }
        })
        .expect("spawn");
    stream.wait_connected(1).await;
    let handshake = &standin.seen().handshakes[0];
    let topics: Vec<&str> = handshake
        .subscriptions
        .iter()
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(
        topics,
        ["/v1.0/im/bot/messages/get", "/v1.0/card/instances/callback"]
    );
    assert!(handshake
        .ua
        .as_deref()
        .is_some_and(|ua| ua.starts_with("dingtalk-rs/")));

    let robot = standin.push_callback(
        "/v1.0/im/bot/messages/get",
        json!({"msgtype": "text", "text": {"content": "hello"}, "senderNick": "张三",
               "conversationType": "1", "conversationId": "cid1", "msgId": "msg1", "robotCode": "dingrobot",
               "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=s1",
               "sessionWebhookExpiredTime": 4_102_444_800_000i64, "newField": {"x": 1}}),
    );
    let card = standin.push_callback(
        "/v1.0/card/instances/callback",
        json!({"outTrackId": "track-1", "corpId": "dingcorp", "userId": "u1",
               "content": "{\"cardPrivateData\":{\"actionIds\":[\"ok\"],\"params\":{}}}"}),
    );
    let seen = standin
        .wait_until("both callbacks answered", Duration::from_secs(5), |s| {
            s.acked(&robot).is_some() && s.acked(&card).is_some()
        })
        .await;
    let log = seen_pushes.lock().unwrap().clone();
    assert!(log.contains(&"robot hello from 张三".to_owned()), "{log:?}");
    assert!(log.contains(&"card track-1".to_owned()), "{log:?}");
    let card_ack = seen.acked(&card).unwrap();
    assert_eq!(card_ack.code, 200);
    assert_eq!(
        card_ack.data["response"]["cardData"]["cardParamMap"]["status"],
        "done"
    );
    stream.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_are_echoed_and_odd_frames_are_acknowledged_without_losing_them() {
    let standin = StreamStandIn::start().await;
    let undecodable = Arc::new(Mutex::new(Vec::new()));
    let unknown = Arc::new(Mutex::new(Vec::new()));
    let (u1, u2) = (undecodable.clone(), unknown.clone());
    let mut stream = client(&standin, SECRET)
        .stream_mode()
        .events()
        .config(fast())
        .spawn(move |push| {
            let (u1, u2) = (u1.clone(), u2.clone());
            async move {
                match push {
                    StreamPush::Undecodable(u) => u1.lock().unwrap().push(u.data.clone()),
                    StreamPush::Event(e) => {
                        if let Event::Unknown { tag, raw } = &e.event {
                            u2.lock().unwrap().push((tag.clone(), raw.clone()));
                        }
                    }
                    _ => {}
                }
                Ok(Answer::Success)
            }
        })
        .expect("spawn");
    stream.wait_connected(1).await;
    let conn = standin.live_connections()[0];
    let opaque = standin.ping(conn);
    let future = standin.push_event("a_future_event", json!({"someField": 1}));
    standin.push_raw(
        json!({"specVersion": "1.0", "type": "EVENT",
               "headers": {"messageId": "raw-1", "topic": "*", "eventType": "chat_update_title"},
               "data": "{not json"})
        .to_string(),
    );
    standin.push_raw("this is not a frame".to_owned());
    let seen = standin
        .wait_until(
            "the ping echoed and both events acknowledged",
            Duration::from_secs(5),
            |s| {
                s.pongs.iter().any(|(_, o)| *o == opaque)
                    && s.acked(&future).is_some()
                    && s.acks.iter().any(|a| a.message_id == "raw-1")
            },
        )
        .await;
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
    assert_eq!(*undecodable.lock().unwrap(), ["{not json"]);
    let unknown = unknown.lock().unwrap().clone();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].0, "a_future_event");
    assert_eq!(unknown[0].1["someField"], 1);
    stream.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_running_handlers_finish_and_answers_later_for_those_past_the_grace() {
    let standin = StreamStandIn::start().await;
    standin.configure(|b| b.redeliver_after = None);
    let (started_tx, mut started_rx) = tokio::sync::mpsc::channel::<()>(4);
    let mut stream = client(&standin, SECRET)
        .stream_mode()
        .events()
        .config(fast().shutdown_grace(Duration::from_millis(300)))
        .spawn(move |push| {
            let started = started_tx.clone();
            async move {
                let slow = matches!(&push, StreamPush::Event(e) if e.headers.event_type.as_deref() == Some("slow"));
                let _ = started.send(()).await;
                let wait = if slow { 5_000 } else { 100 };
                tokio::time::sleep(Duration::from_millis(wait)).await;
                Ok(Answer::Success)
            }
        })
        .expect("spawn");
    stream.wait_connected(1).await;
    let quick = standin.push_event("quick", json!({}));
    let slow = standin.push_event("slow", json!({}));
    // Both handlers run when the shutdown starts (frames still unread would simply be left to
    // DingTalk's redelivery).
    for _ in 0..2 {
        tokio::time::timeout(Duration::from_secs(5), started_rx.recv())
            .await
            .expect("both handlers started");
    }
    let started = Instant::now();
    stream.shutdown().await.expect("clean shutdown");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // What the client sent before closing reaches the stand-in's records a moment later.
    let seen = standin
        .wait_until(
            "both answered and the socket closed",
            Duration::from_secs(5),
            |s| {
                s.acked(&quick).is_some()
                    && !s.acks_of(&slow).is_empty()
                    && s.connections.iter().all(|c| c.closed.is_some())
            },
        )
        .await;
    let slow_acks: Vec<&Value> = seen
        .acks
        .iter()
        .filter(|a| a.message_id == slow)
        .map(|a| &a.data["status"])
        .collect();
    assert_eq!(slow_acks, [&json!("LATER")], "the slow one is handed back");
    assert!(seen.connections.iter().all(|c| c.closed.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_after_the_session_webhook_expired_goes_through_the_robot_api() {
    use dingtalk_tests::standin::StandIn;
    use dingtalk_workflows::stream::{Reply, RobotMessagePush};
    let api = StandIn::start(&dingtalk_tests::load_spec())
        .await
        .expect("bind");
    let client = dingtalk::client()
        .app_key(APP, SECRET)
        .base_url(api.base_url())
        .build()
        .expect("client");
    let message = |conversation_type: &str, expires: i64| {
        let m = json!({"msgId": "m1", "msgtype": "text", "text": {"content": "hi"},
                       "conversationId": "cid-group", "conversationType": conversation_type,
                       "senderStaffId": "staff-1", "robotCode": "dingrobot",
                       "sessionWebhook": format!("{}/robot/sendBySession?session=s1", api.base_url()),
                       "sessionWebhookExpiredTime": expires});
        RobotMessagePush::new(
            Default::default(),
            serde_json::from_value(m).expect("a robot message"),
        )
    };
    let expired = dingtalk::store::now_ms() - 1_000;
    message("1", expired)
        .reply(&client, Reply::text("one"))
        .await
        .expect("oto reply");
    message("2", expired)
        .reply(&client, Reply::markdown("t", "two"))
        .await
        .expect("group reply");
    // Valid for an hour: the session webhook.
    message("1", dingtalk::store::now_ms() + 3_600_000)
        .reply(&client, Reply::text("three"))
        .await
        .expect("webhook reply");
    let seen = api.seen();
    let paths: Vec<&str> = seen
        .iter()
        .map(|s| s.path.as_str())
        .filter(|p| !p.contains("oauth2") && *p != "/gettoken")
        .collect();
    assert_eq!(
        paths,
        [
            "/v1.0/robot/oToMessages/batchSend",
            "/v1.0/robot/groupMessages/send",
            "/robot/sendBySession"
        ]
    );
    let oto = seen
        .iter()
        .find(|s| s.path == "/v1.0/robot/oToMessages/batchSend")
        .unwrap();
    let body = oto.body.as_ref().unwrap();
    assert_eq!(
        (body["robotCode"].as_str(), &body["userIds"]),
        (Some("dingrobot"), &json!(["staff-1"]))
    );
    assert_eq!(body["msgKey"], "sampleText");
    let group = seen
        .iter()
        .find(|s| s.path == "/v1.0/robot/groupMessages/send")
        .unwrap();
    assert_eq!(
        group.body.as_ref().unwrap()["openConversationId"],
        "cid-group"
    );
    let session = seen
        .iter()
        .find(|s| s.path == "/robot/sendBySession")
        .unwrap();
    assert_eq!(session.query.get("session").map(String::as_str), Some("s1"));
    assert!(seen.iter().all(|s| s.violations.is_empty()), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_connections_share_the_pushes_and_on_receipt_acks_before_the_handler_ends() {
    let standin = StreamStandIn::start().await;
    standin.configure(|b| b.redeliver_after = None);
    let handled = Handled::default();
    let config = fast().connections(3).ack(AckPolicy::OnReceipt);
    let slow = handled.clone();
    let mut stream = client(&standin, SECRET)
        .stream_mode()
        .events()
        .config(config)
        .spawn(move |push| {
            let handled = slow.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                handled.add(&push_id(&push));
                Ok(Answer::Success)
            }
        })
        .expect("spawn");
    stream.wait_connected(3).await;
    let ids: Vec<String> = (0..60)
        .map(|n| standin.push_event("chat_update_title", title_event(n)))
        .collect();
    // Acknowledged on receipt: long before the 300 ms handlers could all have finished.
    let seen = standin
        .wait_until("all acknowledged", Duration::from_secs(5), all_acked(&ids))
        .await;
    assert!(handled.total() < 60, "ACKs waited for the handlers");
    let sockets: std::collections::HashSet<u64> = seen.deliveries.iter().map(|d| d.conn).collect();
    assert_eq!(sockets.len(), 3, "pushes spread over the three sockets");
    assert_eq!(seen.handshakes.len(), 3);
    stream.shutdown().await.expect("clean shutdown");
    assert_eq!(handled.total(), 60);
}
