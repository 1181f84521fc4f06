//! The custom robot webhook and the session-webhook reply (dingtalk-workflows), against the
//! stand-in: signing, keyword and size refusals, the per-robot limiter, errcode classes, secrets
//! in `Debug` and errors, and the incoming robot message and card callback payloads.

use std::time::{Duration, Instant};

use dingtalk::prelude::*;

use dingtalk::api::card::{CardCallback, CardCallbackResponse, CardData, CardUpdateOptions};
use dingtalk::api::robot::{
    RobotConversationType, RobotInboundMessage, RobotInboundMessageType, RobotWebhookActionCard,
    RobotWebhookAt, RobotWebhookButton, RobotWebhookLink, RobotWebhookMarkdown,
    RobotWebhookMessage, RobotWebhookText,
};
use dingtalk::{ErrorClass, ErrorCode, RetryPolicy};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, Seen, StandIn};
use dingtalk_workflows::{
    reply_by_session, reply_by_session_with_at, reply_to, RobotWebhook, RobotWebhookError, WhenFull,
};
use serde_json::{json, Value};

/// A robot token long enough to be masked wherever an error quotes it.
const TOKEN: &str = "8d3f5c0e9b7a41d2a6e4c3b2f1e0d9c8b7a6f5e4d3c2b1a0";
const SECRET: &str = "SEC7b1f0c2d9e8a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3";
const SESSION: &str = "d5e5ab2e4d7e1c43b0e9e0e5d8f0f7a1c2b3";

async fn setup(policy: RetryPolicy) -> (StandIn, dingtalk::Client) {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    // No app credentials: neither webhook needs an app token.
    let client = dingtalk::client()
        .base_url(standin.base_url())
        .timeout(Duration::from_secs(5))
        .retry(policy)
        .build()
        .expect("client");
    (standin, client)
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        rate_limit_delay: Duration::from_millis(5),
        budget: Duration::from_secs(5),
    }
}

fn text(s: &str) -> RobotWebhookMessage {
    RobotWebhookMessage::Text(RobotWebhookText::new(s))
}

fn webhook_url(standin: &StandIn) -> String {
    format!("{}/robot/send?access_token={TOKEN}", standin.base_url())
}

/// The requests that reached the robot webhook, each checked for what DingTalk would refuse.
fn sends(standin: &StandIn, path: &str) -> Vec<Seen> {
    let seen: Vec<Seen> = standin
        .seen()
        .into_iter()
        .filter(|s| s.path == path)
        .collect();
    for s in &seen {
        assert!(s.violations.is_empty(), "{:?}", s.violations);
    }
    seen
}

#[tokio::test]
async fn a_signed_request_carries_a_timestamp_and_a_sign_that_verifies() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let robot = RobotWebhook::new(&client, &webhook_url(&standin))
        .expect("webhook URL")
        .secret(SECRET)
        .rate_limit(100, Duration::from_secs(60));
    // A sign is Base64: send until one holds a `+`, which only survives the query when
    // URL-encoded (a raw `+` decodes as a space and fails the check below).
    let mut plus_seen = false;
    for i in 0..40 {
        robot
            .send(text(&format!("部署完成 #{i}")))
            .await
            .expect("signed send");
        let last = sends(&standin, "/robot/send").pop().expect("recorded");
        assert_eq!(last.endpoint.as_deref(), Some("robot.send_webhook"));
        assert_eq!(
            last.query.get("access_token").map(String::as_str),
            Some(TOKEN)
        );
        let ts: i64 = last.query["timestamp"].parse().expect("numeric timestamp");
        assert!(
            (dingtalk_tests::now_ms() - ts).abs() < 60_000,
            "fresh timestamp"
        );
        let expected = dingtalk::sign::hmac_sha256_base64(SECRET, &format!("{ts}\n{SECRET}"));
        assert_eq!(last.query.get("sign"), Some(&expected), "sign verifies");
        assert_eq!(
            last.body,
            Some(json!({"msgtype": "text", "text": {"content": format!("部署完成 #{i}")}})),
            "the message goes flat, with no token in the body"
        );
        plus_seen |= expected.contains('+');
        if plus_seen && i >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(plus_seen, "no sign with a `+` in 40 tries");

    // Unsigned: neither param is sent; a bare token works as well as the URL.
    let plain = RobotWebhook::new(&client, TOKEN).expect("bare token");
    plain
        .send_with_at(
            text("@manager4220 请处理"),
            RobotWebhookAt::new().at_user_ids(vec!["manager4220".into()]),
        )
        .await
        .expect("unsigned send");
    let last = sends(&standin, "/robot/send").pop().expect("recorded");
    assert!(!last.query.contains_key("timestamp") && !last.query.contains_key("sign"));
    assert_eq!(
        last.query.get("access_token").map(String::as_str),
        Some(TOKEN)
    );
    assert_eq!(
        last.body.as_ref().and_then(|b| b.get("at")),
        Some(&json!({"atUserIds": ["manager4220"]}))
    );
}

#[tokio::test]
async fn a_message_without_a_keyword_is_refused_and_nothing_is_sent() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let robot = RobotWebhook::new(&client, &webhook_url(&standin))
        .expect("webhook")
        .keywords(["告警", "deploy"]);
    let refused = [
        text("hello"),
        // A keyword only in a URL is not in the message a reader sees.
        RobotWebhookMessage::Link(RobotWebhookLink::new(
            "发布",
            "新版本",
            "https://example.com/deploy",
        )),
    ];
    for message in refused {
        let err = robot.send(message).await.expect_err("no keyword");
        assert!(
            matches!(&err, RobotWebhookError::MissingKeyword { keywords } if keywords.len() == 2),
            "{err:?}"
        );
    }
    assert_eq!(standin.business_requests(), 0, "nothing reached DingTalk");

    let accepted = [
        text("磁盘告警: 90%"),
        RobotWebhookMessage::Markdown(RobotWebhookMarkdown::new("deploy done", "all green")),
        RobotWebhookMessage::ActionCard(RobotWebhookActionCard::new("发布", "v1.2").btns(vec![
            RobotWebhookButton::new("deploy now", "https://example.com/go"),
        ])),
    ];
    for message in accepted {
        robot.send(message).await.expect("has a keyword");
    }
    assert_eq!(sends(&standin, "/robot/send").len(), 3);
}

#[tokio::test]
async fn the_21st_message_in_a_window_waits_for_a_free_slot() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let window = Duration::from_millis(500);
    let robot = RobotWebhook::new(&client, &webhook_url(&standin))
        .expect("webhook")
        .rate_limit(20, window);
    let start = Instant::now();
    for i in 0..20 {
        // Clones share the robot's limiter.
        robot
            .clone()
            .send(text(&format!("m{i}")))
            .await
            .expect("within the limit");
    }
    assert_eq!(sends(&standin, "/robot/send").len(), 20);
    assert!(
        start.elapsed() < window,
        "the first 20 went at once ({:?})",
        start.elapsed()
    );
    let held = tokio::spawn({
        let robot = robot.clone();
        async move { robot.send(text("m20")).await }
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        sends(&standin, "/robot/send").len(),
        20,
        "the 21st is held while the window is full"
    );
    held.await.expect("task").expect("sent once a slot freed");
    assert!(
        start.elapsed() >= window,
        "sent only after the window ({:?})",
        start.elapsed()
    );
    assert_eq!(sends(&standin, "/robot/send").len(), 21);
}

#[tokio::test]
async fn the_21st_message_in_a_window_is_refused_when_configured() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let window = Duration::from_millis(400);
    let robot = RobotWebhook::new(&client, &webhook_url(&standin))
        .expect("webhook")
        .rate_limit(20, window)
        .when_full(WhenFull::Refuse);
    for i in 0..20 {
        robot.send(text(&format!("m{i}"))).await.expect("within");
    }
    let err = robot.send(text("m20")).await.expect_err("full");
    let RobotWebhookError::RateLimited { retry_after } = err else {
        panic!("{err:?}")
    };
    assert!(
        retry_after > Duration::ZERO && retry_after <= window,
        "{retry_after:?}"
    );
    assert_eq!(
        sends(&standin, "/robot/send").len(),
        20,
        "the 21st was not sent"
    );
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    robot.send(text("m20")).await.expect("a slot freed");
    assert_eq!(sends(&standin, "/robot/send").len(), 21);
}

#[tokio::test]
async fn a_body_over_20000_bytes_is_refused_before_sending() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let robot = RobotWebhook::new(&client, &webhook_url(&standin)).expect("webhook");
    // {"msgtype":"text","text":{"content":""}} is 39 bytes.
    let overhead = serde_json::to_vec(&json!({"msgtype": "text", "text": {"content": ""}}))
        .expect("json")
        .len();
    let fits = "a".repeat(20_000 - overhead);
    robot.send(text(&fits)).await.expect("exactly 20,000 bytes");
    assert_eq!(
        serde_json::to_vec(&sends(&standin, "/robot/send")[0].body)
            .expect("json")
            .len(),
        20_000
    );
    for too_long in [
        format!("{fits}a"),
        // Bytes, not characters: 6,667 three-byte characters.
        "字".repeat(6_667),
    ] {
        let err = robot.send(text(&too_long)).await.expect_err("too large");
        assert!(
            matches!(err, RobotWebhookError::TooLarge { bytes, limit: 20_000 } if bytes > 20_000),
            "{err:?}"
        );
    }
    let err = reply_by_session(
        &client,
        &format!(
            "{}/robot/sendBySession?session={SESSION}",
            standin.base_url()
        ),
        text(&"b".repeat(20_000)),
    )
    .await
    .expect_err("too large");
    assert!(matches!(err, RobotWebhookError::TooLarge { .. }), "{err:?}");
    assert_eq!(
        standin.business_requests(),
        1,
        "only the one that fits was sent"
    );
}

#[tokio::test]
async fn webhook_errcodes_classify_as_declared() {
    let cases = [
        (
            310000,
            ErrorCode::RobotWebhookSecurityFailed,
            ErrorClass::InvalidArgument,
        ),
        (
            410100,
            ErrorCode::RobotWebhookTooFast,
            ErrorClass::Suspended,
        ),
        (
            130101,
            ErrorCode::RobotWebhookSentTooFast,
            ErrorClass::Suspended,
        ),
        (
            460101,
            ErrorCode::RobotWebhookMessageTooLong,
            ErrorClass::InvalidArgument,
        ),
    ];
    for (code, variant, class) in cases {
        assert_eq!(ErrorCode::from_errcode(code), Some(variant.clone()));
        assert_eq!(variant.class(), class, "{code}");
        let (standin, client) = setup(RetryPolicy::none()).await;
        standin.configure(|b| b.fail_next.push_back(Fault::errcode(code)));
        let robot = RobotWebhook::new(&client, &webhook_url(&standin)).expect("webhook");
        let err = robot
            .send(text("告警"))
            .await
            .expect_err("scripted errcode");
        let api = err.api().expect("the call was made");
        assert_eq!((api.code(), api.class()), (Some(code), class), "{code}");
        assert_eq!(standin.business_requests(), 1);

        // With retries on, none is retried: DingTalk blocks a robot that sent too fast for 10
        // minutes, so a retry within the budget would fail again (and prolong the block); a
        // failed check or an oversized body fails the same way every time. The refusal for
        // speed still tells the caller nothing was posted.
        let (standin, client) = setup(fast_retries()).await;
        standin.configure(|b| b.fail_next.push_back(Fault::errcode(code)));
        let robot = RobotWebhook::new(&client, &webhook_url(&standin)).expect("webhook");
        let err = robot.send(text("告警")).await.expect_err("not retried");
        assert_eq!(standin.business_requests(), 1, "{code}");
        let processed = err.api().map(|e| e.may_have_been_processed());
        assert_eq!(
            processed,
            Some(class != ErrorClass::Suspended),
            "{code}: only a throttled send is known not to have been posted"
        );
    }
}

#[tokio::test]
async fn the_token_the_secret_and_the_session_stay_out_of_debug_and_errors() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let robot = RobotWebhook::new(&client, &webhook_url(&standin))
        .expect("webhook")
        .secret(SECRET)
        .keywords(["告警"]);
    let mut outputs = vec![format!("{robot:?}")];
    let call = client.robot().send_webhook(TOKEN, text("告警"));
    outputs.push(format!("{:?}", call.request()));

    // DingTalk quoting the token back, in an errcode answer and in a gateway page.
    standin.configure(|b| {
        b.fail_next.push_back(Fault::Json(json!({
            "errcode": 310000,
            "errmsg": format!("sign not match, access_token={TOKEN}")
        })));
        b.fail_next.push_back(Fault::Raw(
            502,
            format!("<html>bad gateway /robot/send?access_token={TOKEN}</html>"),
        ));
        b.fail_next.push_back(Fault::Raw(
            502,
            format!("<html>bad gateway /robot/sendBySession?session={SESSION}</html>"),
        ));
    });
    for _ in 0..2 {
        let err = robot.send(text("告警")).await.expect_err("scripted");
        assert!(err.api().is_some(), "{err:?}");
        outputs.push(format!("{err} {err:?}"));
    }
    let session_url = format!(
        "{}/robot/sendBySession?session={SESSION}",
        standin.base_url()
    );
    let err = reply_by_session(&client, &session_url, text("好的"))
        .await
        .expect_err("scripted");
    outputs.push(format!("{err} {err:?}"));
    for refused in [
        RobotWebhook::new(
            &client,
            &format!("https://evil.example/robot/send?access_token={TOKEN}"),
        )
        .map(|_| ()),
        reply_by_session(
            &client,
            &format!("https://evil.example/robot/sendBySession?session={SESSION}"),
            text("x"),
        )
        .await,
    ] {
        let err = refused.expect_err("foreign URL");
        outputs.push(format!("{err} {err:?}"));
    }
    // An incoming message redacts its session webhook.
    let incoming: RobotInboundMessage = serde_json::from_value(json!({
        "msgId": "m1", "msgtype": "text", "conversationId": "cid1",
        "sessionWebhook": session_url, "text": {"content": "hi"}
    }))
    .expect("decodes");
    outputs.push(format!("{incoming:?}"));

    for out in &outputs {
        for secret in [TOKEN, SECRET, SESSION] {
            assert!(!out.contains(secret), "{secret} leaked in: {out}");
        }
    }
    assert!(
        outputs.iter().any(|o| o.contains("<redacted>")),
        "{outputs:?}"
    );
}

#[tokio::test]
async fn reply_by_session_refuses_foreign_urls_and_sends_the_session_value() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let base = standin.base_url();
    for foreign in [
        format!("https://evil.example/robot/sendBySession?session={SESSION}"),
        format!("https://evil.example/collect?session={SESSION}"),
        format!("http://oapi.dingtalk.com/robot/sendBySession?session={SESSION}"),
        format!("https://oapi.dingtalk.com:8443/robot/sendBySession?session={SESSION}"),
        format!("https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"),
        format!("https://oapi.dingtalk.com/robot/sendBySession/../send?session={SESSION}"),
        "https://oapi.dingtalk.com/robot/sendBySession".to_string(),
        "https://oapi.dingtalk.com/robot/sendBySession?session=".to_string(),
        format!("{base}/robot/sendBySession?session=a&session=b"),
        "sendBySession?session=abc".to_string(),
    ] {
        let err = reply_by_session(&client, &foreign, text("x"))
            .await
            .expect_err("refused");
        assert!(
            matches!(err, RobotWebhookError::NotASessionWebhook { .. }),
            "{foreign}: {err:?}"
        );
    }
    assert_eq!(standin.business_requests(), 0, "nothing was sent anywhere");

    // DingTalk's own URL: the session goes to the client's host (here the stand-in), never to
    // the URL's.
    let markdown =
        RobotWebhookMessage::Markdown(RobotWebhookMarkdown::new("查询结果", "**3** 条待办"));
    reply_by_session(
        &client,
        &format!("https://oapi.dingtalk.com/robot/sendBySession?session={SESSION}"),
        markdown,
    )
    .await
    .expect("reply");
    reply_by_session_with_at(
        &client,
        &format!("{base}/robot/sendBySession?session=other-session"),
        text("@manager4220 好的"),
        RobotWebhookAt::new().at_user_ids(vec!["manager4220".into()]),
    )
    .await
    .expect("reply with @");
    let seen = sends(&standin, "/robot/sendBySession");
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].endpoint.as_deref(), Some("robot.send_by_session"));
    assert_eq!(
        seen[0].query.get("session").map(String::as_str),
        Some(SESSION)
    );
    assert_eq!(
        seen[0].query.len(),
        1,
        "no token besides the session: {:?}",
        seen[0].query
    );
    assert_eq!(
        seen[0].body,
        Some(
            json!({"msgtype": "markdown", "markdown": {"title": "查询结果", "text": "**3** 条待办"}})
        )
    );
    assert_eq!(
        seen[1].query.get("session").map(String::as_str),
        Some("other-session")
    );
    assert_eq!(
        seen[1].body.as_ref().and_then(|b| b.get("at")),
        Some(&json!({"atUserIds": ["manager4220"]}))
    );
}

#[tokio::test]
async fn reply_to_uses_the_session_webhook_only_while_it_is_valid() {
    let (standin, client) = setup(RetryPolicy::none()).await;
    let spec = load_spec();
    // The spec's example expired in 2021.
    let example = spec.types["RobotInboundMessage"]
        .example
        .clone()
        .expect("example");
    let old: RobotInboundMessage = serde_json::from_value(example).expect("decodes");
    let err = reply_to(&client, &old, text("迟到的回复"))
        .await
        .expect_err("expired");
    assert!(
        matches!(
            err,
            RobotWebhookError::SessionExpired {
                expired_at: Some(1613635652738)
            }
        ),
        "{err:?}"
    );
    let fresh: RobotInboundMessage = serde_json::from_value(json!({
        "msgId": "m1", "msgtype": "text", "conversationId": "cid1",
        "sessionWebhook": format!("{}/robot/sendBySession?session={SESSION}", standin.base_url()),
        "sessionWebhookExpiredTime": dingtalk_tests::now_ms() + 60_000,
        "text": {"content": "你好"}
    }))
    .expect("decodes");
    reply_to(&client, &fresh, text("收到"))
        .await
        .expect("reply");
    let without: RobotInboundMessage =
        serde_json::from_value(json!({"msgId": "m2", "msgtype": "text", "conversationId": "c"}))
            .expect("decodes");
    let err = reply_to(&client, &without, text("x"))
        .await
        .expect_err("no webhook");
    assert!(
        matches!(err, RobotWebhookError::SessionExpired { expired_at: None }),
        "{err:?}"
    );
    let seen = sends(&standin, "/robot/sendBySession");
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].query.get("session").map(String::as_str),
        Some(SESSION)
    );
}

#[test]
fn incoming_robot_messages_decode_every_kind() {
    let spec = load_spec();
    let example = spec.types["RobotInboundMessage"]
        .example
        .clone()
        .expect("the spec has an example");
    let m: RobotInboundMessage = serde_json::from_value(example).expect("the example decodes");
    assert_eq!(m.msgtype, RobotInboundMessageType::Text);
    assert_eq!(m.conversation_type, Some(RobotConversationType::Group));
    assert_eq!(m.text.as_ref().map(|t| t.content.as_str()), Some(" 你好"));
    assert_eq!(m.at_users[0].staff_id.as_deref(), Some("manager4220"));
    assert_eq!(m.create_at, Some(1613630252678));
    assert_eq!(m.is_in_at_list, Some(true));
    assert!(m
        .session_webhook
        .as_ref()
        .is_some_and(|s| s.expose_secret().contains("/robot/sendBySession?session=")));

    // The media kinds keep their details in `content`; numbers may arrive as text.
    let picture: RobotInboundMessage = serde_json::from_str(
        r#"{"msgId":"p","msgtype":"picture","conversationId":"c","conversationType":"1",
            "createAt":"1700000000000",
            "content":{"downloadCode":"dl-1","pictureDownloadCode":"pdl-1"}}"#,
    )
    .expect("picture");
    assert_eq!(picture.msgtype, RobotInboundMessageType::Picture);
    assert_eq!(
        picture.conversation_type,
        Some(RobotConversationType::Single)
    );
    assert_eq!(picture.create_at, Some(1_700_000_000_000));
    let content = picture.content.expect("content");
    assert_eq!(content.download_code.as_deref(), Some("dl-1"));
    assert_eq!(content.picture_download_code.as_deref(), Some("pdl-1"));

    let audio: RobotInboundMessage = serde_json::from_str(
        r#"{"msgId":"a","msgtype":"audio","conversationId":"c",
            "content":{"duration":"4000","downloadCode":"dl-2","recognition":"钉钉，让进步发生"}}"#,
    )
    .expect("audio");
    let content = audio.content.expect("content");
    assert_eq!(content.duration, Some(4000));
    assert_eq!(content.recognition.as_deref(), Some("钉钉，让进步发生"));

    let rich: RobotInboundMessage = serde_json::from_str(
        r#"{"msgId":"r","msgtype":"richText","conversationId":"c",
            "content":{"richText":[{"text":"看图"},{"type":"picture","downloadCode":"dl-3"}]}}"#,
    )
    .expect("rich text");
    let pieces = rich.content.expect("content").rich_text;
    assert_eq!(pieces[0].text.as_deref(), Some("看图"));
    assert_eq!(
        (
            pieces[1].r#type.as_deref(),
            pieces[1].download_code.as_deref()
        ),
        (Some("picture"), Some("dl-3"))
    );

    let file: RobotInboundMessage = serde_json::from_str(
        r#"{"msgId":"f","msgtype":"file","conversationId":"c",
            "content":{"downloadCode":"dl-4","fileName":"报告.pdf","spaceId":"1","fileId":"2"}}"#,
    )
    .expect("file");
    assert_eq!(
        file.content.expect("content").file_name.as_deref(),
        Some("报告.pdf")
    );

    // A kind the spec does not know keeps its name; the rest of the message still decodes.
    let newer: RobotInboundMessage = serde_json::from_str(
        r#"{"msgId":"n","msgtype":"interactiveCard","conversationId":"c","senderStaffId":"u1"}"#,
    )
    .expect("unknown kind");
    assert!(
        matches!(&newer.msgtype, RobotInboundMessageType::Unknown(v) if v == "interactiveCard"),
        "{:?}",
        newer.msgtype
    );
    assert_eq!(newer.sender_staff_id.as_deref(), Some("u1"));

    // Without an id the message cannot be deduplicated: that is an error, not a default.
    assert!(serde_json::from_str::<RobotInboundMessage>(
        r#"{"msgtype":"text","conversationId":"c"}"#
    )
    .is_err());
}

#[test]
fn card_callbacks_decode_and_answers_build() {
    let spec = load_spec();
    let example = spec.types["CardCallback"].example.clone().expect("example");
    let cb: CardCallback = serde_json::from_value(example).expect("the example decodes");
    assert_eq!(cb.out_track_id, "order_20240101_001");
    assert_eq!(cb.r#type.as_deref(), Some("actionCallback"));
    let private = cb
        .content
        .as_ref()
        .and_then(|c| c.card_private_data.as_ref())
        .expect("the JSON-text content decodes");
    assert_eq!(private.action_ids, vec!["agree".to_string()]);
    assert_eq!(private.params.get("reason"), Some(&json!("ok")));
    assert!(cb.extension.is_empty());

    // The content travels as JSON text and goes back out as JSON text.
    let back = serde_json::to_value(&cb).expect("encodes");
    let content_text = back["content"].as_str().expect("JSON text");
    let content: Value = serde_json::from_str(content_text).expect("valid JSON");
    assert_eq!(content["cardPrivateData"]["actionIds"], json!(["agree"]));

    let answer = CardCallbackResponse::new()
        .card_data(
            CardData::new().card_param_map([("status".to_string(), "approved".to_string())].into()),
        )
        .private_data(
            [(
                "manager4220".to_string(),
                CardData::new()
                    .card_param_map([("myChoice".to_string(), "agree".to_string())].into()),
            )]
            .into(),
        )
        .card_update_options(
            CardUpdateOptions::new()
                .update_card_data_by_key(true)
                .update_private_data_by_key(true),
        );
    let wire = serde_json::to_value(&answer).expect("encodes");
    assert_eq!(
        wire,
        json!({
            "cardData": {"cardParamMap": {"status": "approved"}},
            "privateData": {"manager4220": {"cardParamMap": {"myChoice": "agree"}}},
            "cardUpdateOptions": {"updateCardDataByKey": true, "updatePrivateDataByKey": true}
        })
    );
    let example = spec.types["CardCallbackResponse"]
        .example
        .clone()
        .expect("example");
    let decoded: CardCallbackResponse = serde_json::from_value(example).expect("decodes");
    assert_eq!(
        decoded
            .card_update_options
            .and_then(|o| o.update_card_data_by_key),
        Some(true)
    );
}
