//! The Stream-mode stand-in itself, proved with a raw WebSocket client: the handshake and its
//! failures, tickets, delivery and ACKs, redelivery, disconnect with a drain, abrupt closes,
//! zombies, held and lost pushes, SYSTEM pings, and the rules a client can break.

use std::time::{Duration, Instant};

use dingtalk_tests::stream_standin::{StreamStandIn, CALLBACK_APP_ID, EVENT_CORP_ID};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{connect_async, MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const BOT_TOPIC: &str = "/v1.0/im/bot/messages/get";
const CARD_TOPIC: &str = "/v1.0/card/instances/callback";
const SECOND: Duration = Duration::from_secs(1);

fn subscriptions_all() -> Value {
    json!([{"type": "EVENT", "topic": "*"}, {"type": "CALLBACK", "topic": BOT_TOPIC}])
}

/// Posts a handshake; returns the status and the JSON answer.
async fn handshake_with(s: &StreamStandIn, id: &str, secret: &str, subs: Value) -> (u16, Value) {
    let body = json!({
        "clientId": id,
        "clientSecret": secret,
        "subscriptions": subs,
        "ua": "dingtalk-rs-test/0.0",
        "localIp": "127.0.0.1",
    });
    let resp = reqwest::Client::new()
        .post(format!("{}/v1.0/gateway/connections/open", s.base_url()))
        .json(&body)
        .send()
        .await
        .expect("the handshake request reaches the stand-in");
    let status = resp.status().as_u16();
    let answer = resp.json().await.expect("a JSON answer");
    (status, answer)
}

/// A good handshake; returns (endpoint, ticket).
async fn ticket_with(s: &StreamStandIn, subs: Value) -> (String, String) {
    let (status, answer) = handshake_with(s, "dingstreamapp", "stream-secret", subs).await;
    assert_eq!(status, 200, "handshake answer: {answer}");
    let endpoint = answer["endpoint"].as_str().expect("endpoint").to_string();
    let ticket = answer["ticket"].as_str().expect("ticket").to_string();
    (endpoint, ticket)
}

async fn dial(endpoint: &str, ticket: &str) -> Result<Ws, tungstenite::Error> {
    connect_async(format!("{endpoint}?ticket={ticket}"))
        .await
        .map(|(ws, _)| ws)
}

/// Handshake and connect; returns the socket and its connection number.
async fn open_with(s: &StreamStandIn, subs: Value) -> (Ws, u64) {
    let (endpoint, ticket) = ticket_with(s, subs).await;
    let ws = dial(&endpoint, &ticket)
        .await
        .expect("the upgrade succeeds");
    let seen = s
        .wait_until("the connection to register", SECOND, |seen| {
            seen.connection_by_ticket(&ticket).is_some()
        })
        .await;
    let id = seen
        .connection_by_ticket(&ticket)
        .map(|c| c.id)
        .expect("registered");
    (ws, id)
}

async fn open(s: &StreamStandIn) -> (Ws, u64) {
    open_with(s, subscriptions_all()).await
}

/// The next text frame, parsed; control frames are skipped. Panics on a close or a timeout.
async fn next_frame(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(2 * SECOND, ws.next())
            .await
            .expect("a frame within 2 s");
        match msg {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(&text).expect("frames are JSON")
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// Asserts no text frame arrives within `within`.
async fn no_frame(ws: &mut Ws, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
    }
}

/// How the socket ended: `true` when a close frame came first.
async fn wait_end(ws: &mut Ws, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the socket ends in time")
        {
            Some(Ok(Message::Close(_))) => return true,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => panic!("expected the end, got {other:?}"),
            None | Some(Err(_)) => return false,
        }
    }
}

fn data_of(frame: &Value) -> Value {
    let text = frame["data"].as_str().expect("data is a JSON string");
    serde_json::from_str(text).expect("data is JSON text")
}

fn message_id(frame: &Value) -> String {
    frame["headers"]["messageId"]
        .as_str()
        .expect("messageId")
        .to_string()
}

async fn send_ack(ws: &mut Ws, message_id: &str, code: i64, data: Value) {
    let ack = json!({
        "code": code,
        "headers": {"messageId": message_id, "contentType": "application/json"},
        "message": "OK",
        "data": data.to_string(),
    });
    ws.send(Message::text(ack.to_string()))
        .await
        .expect("the ACK is sent");
}

async fn ack_event(ws: &mut Ws, message_id: &str, status: &str) {
    send_ack(
        ws,
        message_id,
        200,
        json!({"status": status, "message": ""}),
    )
    .await;
}

#[tokio::test]
async fn handshake_answers_an_endpoint_and_a_ticket() {
    let s = StreamStandIn::start().await;
    let (status, answer) =
        handshake_with(&s, "dingstreamapp", "stream-secret", subscriptions_all()).await;
    assert_eq!(status, 200);
    assert_eq!(answer["endpoint"], json!(s.endpoint()));
    assert!(s.endpoint().starts_with("ws://127.0.0.1:"));
    assert!(s.endpoint().ends_with("/connect"));
    let ticket = answer["ticket"].as_str().expect("ticket");
    let parts: Vec<usize> = ticket.split('-').map(str::len).collect();
    assert_eq!(parts, [8, 4, 4, 4, 12], "uuid-like ticket {ticket}");

    let seen = s.seen();
    assert_eq!(seen.handshakes.len(), 1);
    let h = &seen.handshakes[0];
    assert!(h.accepted);
    assert_eq!(h.status, 200);
    assert_eq!(h.client_id, "dingstreamapp");
    assert_eq!(h.ua.as_deref(), Some("dingtalk-rs-test/0.0"));
    assert_eq!(h.local_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(
        h.subscriptions,
        [
            ("EVENT".to_string(), "*".to_string()),
            ("CALLBACK".to_string(), BOT_TOPIC.to_string())
        ]
    );
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
}

#[tokio::test]
async fn wrong_credentials_are_answered_401_auth_failed() {
    let s = StreamStandIn::start().await;
    let (status, answer) = handshake_with(&s, "dingstreamapp", "wrong", subscriptions_all()).await;
    assert_eq!(status, 401);
    assert_eq!(answer["code"], "authFailed");
    assert_eq!(answer["message"], "鉴权失败");
    assert!(answer["requestid"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(answer.get("ticket").is_none());

    let (status, _) = handshake_with(&s, "otherapp", "stream-secret", subscriptions_all()).await;
    assert_eq!(status, 401);

    let seen = s.seen();
    assert_eq!(seen.handshakes.len(), 2);
    assert!(seen
        .handshakes
        .iter()
        .all(|h| !h.accepted && h.status == 401));
    assert_eq!(seen.handshakes[1].client_id, "otherapp");
}

#[tokio::test]
async fn configured_credentials_replace_the_defaults() {
    let s = StreamStandIn::start().await;
    s.configure(|b| {
        b.client_id = "ding-other".into();
        b.client_secret = "other-secret".into();
    });
    let (status, _) =
        handshake_with(&s, "dingstreamapp", "stream-secret", subscriptions_all()).await;
    assert_eq!(status, 401);
    let (status, answer) =
        handshake_with(&s, "ding-other", "other-secret", subscriptions_all()).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn fail_handshakes_answers_503_that_many_times() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.fail_handshakes = 2);
    for _ in 0..2 {
        let (status, answer) =
            handshake_with(&s, "dingstreamapp", "stream-secret", subscriptions_all()).await;
        assert_eq!(status, 503);
        assert_eq!(answer["code"], "ServiceUnavailable");
        assert!(answer["message"].as_str().is_some());
    }
    let (status, answer) =
        handshake_with(&s, "dingstreamapp", "stream-secret", subscriptions_all()).await;
    assert_eq!(status, 200, "{answer}");
    let statuses: Vec<u16> = s.seen().handshakes.iter().map(|h| h.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn a_malformed_handshake_is_answered_400() {
    let s = StreamStandIn::start().await;
    let resp = reqwest::Client::new()
        .post(format!("{}/v1.0/gateway/connections/open", s.base_url()))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("reaches the stand-in");
    assert_eq!(resp.status().as_u16(), 400);
    let seen = s.seen();
    assert_eq!(seen.handshakes.len(), 1);
    assert!(!seen.handshakes[0].accepted);
}

#[tokio::test]
async fn a_reused_or_unknown_ticket_is_refused_before_the_upgrade() {
    let s = StreamStandIn::start().await;
    let (endpoint, ticket) = ticket_with(&s, subscriptions_all()).await;
    let _first = dial(&endpoint, &ticket).await.expect("first use upgrades");

    match dial(&endpoint, &ticket).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 401),
        other => panic!("a reused ticket must be refused with 401, got {other:?}"),
    }
    match dial(&endpoint, "00000000-0000-0000-0000-000000000000").await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 401),
        other => panic!("an unknown ticket must be refused with 401, got {other:?}"),
    }
    let seen = s
        .wait_until("the first connection", SECOND, |seen| {
            seen.connections.len() == 1
        })
        .await;
    let reasons: Vec<&str> = seen
        .refused_tickets
        .iter()
        .map(|(r, _)| r.as_str())
        .collect();
    assert_eq!(reasons, ["reused", "unknown"]);
    assert_eq!(seen.connections.len(), 1, "refusals open no connection");
}

#[tokio::test]
async fn an_expired_ticket_is_refused() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.ticket_ttl = Duration::from_millis(100));
    let (endpoint, ticket) = ticket_with(&s, subscriptions_all()).await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    match dial(&endpoint, &ticket).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status().as_u16(), 401),
        other => panic!("an expired ticket must be refused with 401, got {other:?}"),
    }
    let seen = s.seen();
    assert_eq!(seen.refused_tickets.len(), 1);
    assert_eq!(seen.refused_tickets[0].0, "expired");
    assert!(seen.connections.is_empty());

    // Expiry is the ticket's age: a fresh one under a longer lifetime upgrades.
    s.configure(|b| b.ticket_ttl = Duration::from_secs(5));
    let (endpoint, ticket) = ticket_with(&s, subscriptions_all()).await;
    dial(&endpoint, &ticket)
        .await
        .expect("a fresh ticket upgrades");
}

#[tokio::test]
async fn an_event_is_delivered_and_its_ack_recorded() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.redeliver_after = Some(Duration::from_millis(150)));
    let (mut ws, conn) = open(&s).await;
    let payload = json!({"userId": ["manager4220"], "eventTime": 1700000000000i64});
    let id = s.push_event("user_add_org", payload.clone());

    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["specVersion"], "1.0");
    assert_eq!(frame["type"], "EVENT");
    let h = &frame["headers"];
    assert_eq!(h["topic"], "*");
    assert_eq!(h["messageId"], json!(id));
    assert_eq!(h["contentType"], "application/json");
    assert_eq!(h["eventType"], "user_add_org");
    assert_eq!(h["eventCorpId"], EVENT_CORP_ID);
    assert_eq!(h["eventUnifiedAppId"], "dingstreamapp");
    for key in ["time", "eventBornTime", "eventId"] {
        assert!(h[key].as_str().is_some_and(|v| !v.is_empty()), "{key}");
    }
    assert!(h["time"].as_str().is_some_and(|t| t.parse::<u64>().is_ok()));
    assert_eq!(data_of(&frame), payload);
    assert_eq!(s.seen().pending(), std::slice::from_ref(&id));

    ack_event(&mut ws, &id, "SUCCESS").await;
    let seen = s
        .wait_until("the ACK", SECOND, |seen| seen.acked(&id).is_some())
        .await;
    let ack = seen.acked(&id).expect("acked");
    assert_eq!(ack.conn, conn);
    assert_eq!(ack.code, 200);
    assert_eq!(ack.data["status"], "SUCCESS");
    assert!(seen.pending().is_empty());
    assert_eq!(seen.deliveries.len(), 1);
    assert_eq!(seen.deliveries[0].conn, conn);
    assert!(!seen.deliveries[0].redelivery);

    // Final: not delivered again.
    no_frame(&mut ws, Duration::from_millis(400)).await;
    let seen = s.seen();
    assert_eq!(seen.deliveries.len(), 1);
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
}

#[tokio::test]
async fn a_callback_carries_its_topic_and_connection() {
    let s = StreamStandIn::start().await;
    let (mut ws, conn) = open(&s).await;
    let payload = json!({"msgtype": "text", "text": {"content": "hello"}, "conversationType": "1"});
    let id = s.push_callback(BOT_TOPIC, payload.clone());

    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["type"], "CALLBACK");
    let h = &frame["headers"];
    assert_eq!(h["topic"], BOT_TOPIC);
    assert_eq!(h["messageId"], json!(id));
    assert_eq!(h["appId"], CALLBACK_APP_ID);
    let seen = s.seen();
    let connection = seen
        .connections
        .iter()
        .find(|c| c.id == conn)
        .expect("conn");
    assert_eq!(h["connectionId"], json!(connection.connection_id));
    assert!(h.get("eventType").is_none());
    assert_eq!(data_of(&frame), payload);

    send_ack(&mut ws, &id, 200, json!({"response": {"ok": true}})).await;
    let seen = s
        .wait_until("the callback ACK", SECOND, |seen| seen.acked(&id).is_some())
        .await;
    assert_eq!(
        seen.acked(&id).map(|a| a.data.clone()),
        Some(json!({"response": {"ok": true}}))
    );
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
}

#[tokio::test]
async fn later_is_redelivered() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.redeliver_after = Some(Duration::from_millis(150)));
    let (mut ws, conn) = open(&s).await;
    let id = s.push_event("chat_update_title", json!({"chatId": "chat1"}));

    let first = next_frame(&mut ws).await;
    assert_eq!(message_id(&first), id);
    ack_event(&mut ws, &id, "LATER").await;

    let again = next_frame(&mut ws).await;
    assert_eq!(message_id(&again), id);
    assert_eq!(data_of(&again), json!({"chatId": "chat1"}));
    let seen = s.seen();
    assert!(seen.acked(&id).is_none(), "LATER is not final");
    assert_eq!(seen.acks_of(&id).len(), 1);
    assert!(!seen.acks_of(&id)[0].settled);
    let deliveries = seen.deliveries_of(&id);
    assert_eq!(deliveries.len(), 2);
    assert!(!deliveries[0].redelivery);
    assert!(deliveries[1].redelivery);
    assert_eq!(deliveries[1].conn, conn);
    let gap = deliveries[1].at.duration_since(deliveries[0].at);
    assert!(
        gap >= Duration::from_millis(150),
        "redelivered after {gap:?}"
    );

    ack_event(&mut ws, &id, "SUCCESS").await;
    s.wait_until("the final ACK", SECOND, |seen| seen.acked(&id).is_some())
        .await;
    no_frame(&mut ws, Duration::from_millis(400)).await;
    assert_eq!(s.seen().deliveries_of(&id).len(), 2);
}

#[tokio::test]
async fn no_ack_is_redelivered_until_acked() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.redeliver_after = Some(Duration::from_millis(100)));
    let (mut ws, _conn) = open(&s).await;
    let id = s.push_callback(BOT_TOPIC, json!({"msgId": "m1"}));

    for _ in 0..3 {
        let frame = next_frame(&mut ws).await;
        assert_eq!(message_id(&frame), id);
    }
    let seen = s.seen();
    assert!(seen.deliveries_of(&id).len() >= 3);
    assert!(seen.deliveries_of(&id)[1..].iter().all(|d| d.redelivery));
    assert_eq!(seen.pending(), std::slice::from_ref(&id));

    // A 500 is no final answer either.
    send_ack(&mut ws, &id, 500, json!({"response": null})).await;
    let frame = next_frame(&mut ws).await;
    assert_eq!(message_id(&frame), id);
    send_ack(&mut ws, &id, 200, json!({"response": null})).await;
    s.wait_until("the final ACK", SECOND, |seen| seen.acked(&id).is_some())
        .await;
}

#[tokio::test]
async fn without_redelivery_nothing_comes_back() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.redeliver_after = None);
    let (mut ws, _) = open(&s).await;
    let id = s.push_event("user_add_org", json!({}));
    assert_eq!(message_id(&next_frame(&mut ws).await), id);
    no_frame(&mut ws, Duration::from_millis(300)).await;
    assert_eq!(s.seen().deliveries_of(&id).len(), 1);
}

#[tokio::test]
async fn disconnect_sends_the_frame_then_closes_after_the_drain() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.drain = Duration::from_millis(400));
    let (mut ws, conn) = open(&s).await;
    assert_eq!(s.live_connections(), [conn]);

    s.disconnect(conn);
    let started = Instant::now();
    assert!(s.live_connections().is_empty(), "draining gets nothing");
    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["type"], "SYSTEM");
    assert_eq!(frame["headers"]["topic"], "disconnect");
    assert!(data_of(&frame)["reason"].as_str().is_some());
    send_ack(&mut ws, &message_id(&frame), 200, data_of(&frame)).await;

    // Pushed during the drain: held, not sent on the draining socket.
    let id = s.push_event("user_add_org", json!({}));
    let close_frame = wait_end(&mut ws, 2 * SECOND).await;
    let drained = started.elapsed();
    assert!(close_frame, "the drain ends with a close frame");
    assert!(
        drained >= Duration::from_millis(350),
        "closed after {drained:?}, before the drain"
    );
    assert!(
        drained < Duration::from_millis(1500),
        "closed after {drained:?}"
    );
    let seen = s
        .wait_until("the close", SECOND, |seen| {
            seen.connections[0].closed.is_some()
        })
        .await;
    assert!(!seen.connections[0].closed_by_client);
    assert_eq!(seen.disconnect_acks, [conn]);
    assert!(seen.deliveries_of(&id).is_empty());

    // The held push goes to the replacement connection.
    let (mut ws2, conn2) = open(&s).await;
    assert_eq!(message_id(&next_frame(&mut ws2).await), id);
    assert_eq!(s.seen().deliveries_of(&id)[0].conn, conn2);
    assert!(s.seen().violations.is_empty(), "{:?}", s.seen().violations);
}

#[tokio::test]
async fn disconnect_all_drains_every_connection() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.drain = Duration::from_millis(100));
    let (mut a, _) = open(&s).await;
    let (mut b, _) = open(&s).await;
    s.disconnect_all();
    assert!(s.live_connections().is_empty());
    for ws in [&mut a, &mut b] {
        assert_eq!(next_frame(ws).await["headers"]["topic"], "disconnect");
        assert!(wait_end(ws, SECOND).await);
    }
}

#[tokio::test]
async fn drop_tcp_closes_without_a_close_frame() {
    let s = StreamStandIn::start().await;
    let (mut ws, conn) = open(&s).await;
    s.drop_tcp(conn);
    assert!(
        !wait_end(&mut ws, SECOND).await,
        "no close frame on an abrupt drop"
    );
    let seen = s
        .wait_until("the drop", SECOND, |seen| {
            seen.connections[0].closed.is_some()
        })
        .await;
    assert!(!seen.connections[0].closed_by_client);
    assert!(s.live_connections().is_empty());
}

#[tokio::test]
async fn a_client_close_is_recorded_as_such() {
    let s = StreamStandIn::start().await;
    let (mut ws, _) = open(&s).await;
    ws.close(None).await.expect("close sent");
    let seen = s
        .wait_until("the client's close", SECOND, |seen| {
            seen.connections[0].closed.is_some()
        })
        .await;
    assert!(seen.connections[0].closed_by_client);
    assert!(s.live_connections().is_empty());
}

#[tokio::test]
async fn a_zombie_answers_pings_but_delivers_nothing() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.hold = Duration::from_millis(300));
    let (mut ws, conn) = open(&s).await;
    s.make_zombie(conn);
    assert!(s.live_connections().is_empty());

    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("ping sent");
    let pong = tokio::time::timeout(SECOND, ws.next())
        .await
        .expect("a pong in time");
    match pong {
        Some(Ok(Message::Pong(payload))) => assert_eq!(&payload[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }

    let id = s.push_event("user_add_org", json!({}));
    let _ = s.ping(conn);
    no_frame(&mut ws, Duration::from_millis(450)).await;
    let seen = s
        .wait_until("the push to be lost", SECOND, |seen| !seen.lost.is_empty())
        .await;
    assert_eq!(seen.client_pings, 1);
    assert!(seen.deliveries.is_empty());
    assert_eq!(seen.lost, [id]);
    assert!(seen.connections[0].closed.is_none(), "a zombie stays open");
}

#[tokio::test]
async fn a_push_waits_for_a_connection_within_hold() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.hold = Duration::from_secs(2));
    let id = s.push_event("user_add_org", json!({"n": 1}));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (mut ws, _) = open(&s).await;
    let frame = next_frame(&mut ws).await;
    assert_eq!(message_id(&frame), id);
    assert!(s.seen().lost.is_empty());
}

#[tokio::test]
async fn a_push_with_no_connection_within_hold_is_lost() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.hold = Duration::from_millis(150));
    let id = s.push_event("user_add_org", json!({}));
    let seen = s
        .wait_until("the push to be lost", SECOND, |seen| !seen.lost.is_empty())
        .await;
    assert_eq!(seen.lost, std::slice::from_ref(&id));
    // Lost is lost: a connection opened later does not get it.
    let (mut ws, _) = open(&s).await;
    no_frame(&mut ws, Duration::from_millis(200)).await;
    assert!(s.seen().deliveries_of(&id).is_empty());
}

#[tokio::test]
async fn a_ping_echo_is_recorded_and_a_wrong_opaque_is_a_violation() {
    let s = StreamStandIn::start().await;
    let (mut ws, conn) = open(&s).await;
    let opaque = s.ping(conn);
    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["type"], "SYSTEM");
    assert_eq!(frame["headers"]["topic"], "ping");
    assert_eq!(data_of(&frame), json!({"opaque": opaque}));
    send_ack(&mut ws, &message_id(&frame), 200, data_of(&frame)).await;
    let seen = s
        .wait_until("the echo", SECOND, |seen| !seen.pongs.is_empty())
        .await;
    assert_eq!(seen.pongs, [(conn, opaque)]);
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
    assert!(seen.acks.is_empty(), "echoes are not ACKs of pushes");

    let _ = s.ping(conn);
    let frame = next_frame(&mut ws).await;
    send_ack(
        &mut ws,
        &message_id(&frame),
        200,
        json!({"opaque": "wrong"}),
    )
    .await;
    let seen = s
        .wait_until("the wrong echo", SECOND, |seen| !seen.violations.is_empty())
        .await;
    assert!(
        seen.violations[0].contains("opaque"),
        "{:?}",
        seen.violations
    );
    assert_eq!(seen.pongs.len(), 2);
    assert_eq!(
        seen.pongs[1],
        (conn, "wrong".to_string()),
        "the echo as sent"
    );
}

#[tokio::test]
async fn system_pings_come_periodically() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.system_ping_every = Some(Duration::from_millis(100)));
    let (mut ws, conn) = open(&s).await;
    for _ in 0..2 {
        let frame = next_frame(&mut ws).await;
        assert_eq!(frame["headers"]["topic"], "ping");
        send_ack(&mut ws, &message_id(&frame), 200, data_of(&frame)).await;
    }
    let seen = s
        .wait_until("two echoes", SECOND, |seen| seen.pongs.len() == 2)
        .await;
    assert!(seen.pongs.iter().all(|(c, _)| *c == conn));
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
}

#[tokio::test]
async fn an_ack_on_another_connection_is_a_violation() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.redeliver_after = Some(Duration::from_millis(200)));
    let (mut a, conn_a) = open(&s).await;
    let (mut b, conn_b) = open(&s).await;
    let id = s.push_event("user_add_org", json!({}));
    let seen = s
        .wait_until("the delivery", SECOND, |seen| !seen.deliveries.is_empty())
        .await;
    let got = seen.deliveries[0].conn;
    let (receiver, other, other_conn) = if got == conn_a {
        (&mut a, &mut b, conn_b)
    } else {
        (&mut b, &mut a, conn_a)
    };
    assert_eq!(message_id(&next_frame(receiver).await), id);
    ack_event(other, &id, "SUCCESS").await;
    let seen = s
        .wait_until("the violation", SECOND, |seen| !seen.violations.is_empty())
        .await;
    assert!(seen.violations[0].contains(&id), "{:?}", seen.violations);
    let ack = &seen.acks_of(&id)[0];
    assert_eq!(ack.conn, other_conn);
    assert!(!ack.valid);
    assert!(seen.acked(&id).is_none(), "a misplaced ACK does not count");
    // So it comes again.
    s.wait_until("the redelivery", SECOND, |seen| {
        seen.deliveries_of(&id).len() >= 2
    })
    .await;
}

#[tokio::test]
async fn malformed_acks_are_violations_not_panics() {
    let s = StreamStandIn::start().await;
    let (mut ws, _) = open(&s).await;
    let id = s.push_event("user_add_org", json!({}));
    assert_eq!(message_id(&next_frame(&mut ws).await), id);
    for bad in [
        "not json at all".to_string(),
        json!({"headers": {"messageId": id}, "data": "{}"}).to_string(),
        json!({"code": 200, "data": "{}"}).to_string(),
        json!({"code": 200, "headers": {"messageId": id}, "data": {"status": "SUCCESS"}})
            .to_string(),
        json!({"code": 200, "headers": {"messageId": "no-such-id"}, "data": "{}"}).to_string(),
    ] {
        ws.send(Message::text(bad)).await.expect("sent");
    }
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("sent");
    let seen = s
        .wait_until("six violations", SECOND, |seen| seen.violations.len() == 6)
        .await;
    assert!(seen.acked(&id).is_none());
    // The stand-in still works.
    ack_event(&mut ws, &id, "SUCCESS").await;
    s.wait_until("the good ACK", SECOND, |seen| seen.acked(&id).is_some())
        .await;
}

#[tokio::test]
async fn pushes_route_at_random_or_to_all() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.redeliver_after = None);
    let (_a, conn_a) = open(&s).await;
    let (_b, conn_b) = open(&s).await;
    let ids: Vec<String> = (0..24)
        .map(|n| s.push_event("user_add_org", json!({"n": n})))
        .collect();
    let seen = s.seen();
    assert_eq!(
        seen.deliveries.len(),
        24,
        "each push goes to one connection"
    );
    let to_a = seen.deliveries.iter().filter(|d| d.conn == conn_a).count();
    assert!(
        to_a > 0 && to_a < 24,
        "random routing sent {to_a} of 24 to #{conn_a}"
    );

    s.configure(|b| b.duplicate_to_all = true);
    let id = s.push_event("user_add_org", json!({}));
    let seen = s.seen();
    let mut conns: Vec<u64> = seen.deliveries_of(&id).iter().map(|d| d.conn).collect();
    conns.sort_unstable();
    assert_eq!(conns, [conn_a, conn_b]);
    assert_eq!(seen.pending().len(), ids.len() + 1);
}

#[tokio::test]
async fn callbacks_go_only_to_subscribed_connections() {
    let s = StreamStandIn::start().await;
    s.configure(|b| b.hold = Duration::from_millis(200));
    let (mut events_only, _) = open_with(&s, json!([{"type": "EVENT", "topic": "*"}])).await;
    let id = s.push_callback(CARD_TOPIC, json!({}));
    no_frame(&mut events_only, Duration::from_millis(350)).await;
    let seen = s
        .wait_until("the callback to be lost", SECOND, |seen| {
            !seen.lost.is_empty()
        })
        .await;
    assert_eq!(seen.lost, [id]);
    let event = s.push_event("user_add_org", json!({}));
    assert_eq!(message_id(&next_frame(&mut events_only).await), event);
}

#[tokio::test]
async fn redeliver_sends_an_acknowledged_message_again() {
    let s = StreamStandIn::start().await;
    let (mut ws, _) = open(&s).await;
    let id = s.push_event("user_add_org", json!({}));
    assert_eq!(message_id(&next_frame(&mut ws).await), id);
    ack_event(&mut ws, &id, "SUCCESS").await;
    s.wait_until("the ACK", SECOND, |seen| seen.acked(&id).is_some())
        .await;
    s.redeliver(&id);
    assert_eq!(message_id(&next_frame(&mut ws).await), id);
    let seen = s.seen();
    assert_eq!(seen.deliveries_of(&id).len(), 2);
    assert!(seen.deliveries_of(&id)[1].redelivery);
}

#[tokio::test]
async fn push_raw_sends_the_text_as_is() {
    let s = StreamStandIn::start().await;
    let (mut ws, conn) = open(&s).await;
    s.push_raw("{\"type\": \"EVENT\", broken".to_string());
    let msg = tokio::time::timeout(SECOND, ws.next())
        .await
        .expect("in time");
    match msg {
        Some(Ok(Message::Text(text))) => assert_eq!(text, "{\"type\": \"EVENT\", broken"),
        other => panic!("expected the raw text, got {other:?}"),
    }
    let frame = json!({"specVersion": "1.0", "type": "EVENT", "headers": {"messageId": "raw-1"}, "data": "{}"});
    s.push_raw(frame.to_string());
    assert_eq!(next_frame(&mut ws).await, frame);
    ack_event(&mut ws, "raw-1", "SUCCESS").await;
    let seen = s
        .wait_until("the raw ACK", SECOND, |seen| !seen.acks.is_empty())
        .await;
    assert_eq!(seen.acks[0].conn, conn);
    assert!(seen.acks[0].valid);
    assert!(seen.violations.is_empty(), "{:?}", seen.violations);
}

#[tokio::test]
#[should_panic(expected = "something that never happens")]
async fn wait_until_panics_with_what_it_waited_for() {
    let s = StreamStandIn::start().await;
    s.wait_until(
        "something that never happens",
        Duration::from_millis(50),
        |_| false,
    )
    .await;
}
