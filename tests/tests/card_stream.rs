//! AI-card streaming through `CardStreamer` against a stand-in that throttles
//! `PUT /v1.0/card/streaming` with HTTP 403 `QpsLimit` above its quota: updates coalesce (the
//! latest text wins), the pace adapts, nothing is lost, and the end is sent exactly once.

use std::collections::HashSet;
use std::time::Duration;

use dingtalk::{ErrorClass, RetryPolicy};
use dingtalk_tests::load_spec;
use dingtalk_tests::standin::{Fault, Seen, StandIn};
use dingtalk_workflows::{CardStreamConfig, CardStreamError, CardStreamer};
use serde_json::Value;

const STREAMING: &str = "/v1.0/card/streaming";

async fn setup() -> (StandIn, dingtalk::Client) {
    let standin = StandIn::start(&load_spec())
        .await
        .expect("bind the stand-in");
    let client = dingtalk::client()
        .app_key("dingkey", "app-secret-value")
        .base_url(standin.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    (standin, client)
}

/// The streaming calls for one card, in arrival order.
fn calls(standin: &StandIn, card: &str) -> Vec<Seen> {
    standin
        .seen()
        .into_iter()
        .filter(|s| s.path == STREAMING)
        .filter(|s| field(s, "outTrackId").as_str() == Some(card))
        .collect()
}

fn field(seen: &Seen, name: &str) -> Value {
    seen.body
        .as_ref()
        .and_then(|b| b.get(name))
        .cloned()
        .unwrap_or(Value::Null)
}

fn content(seen: &Seen) -> String {
    field(seen, "content")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_cards_under_a_403_quota_lose_nothing_and_end_once() {
    const QUOTA: usize = 8;
    const CARDS: usize = 4;
    const TOKENS: usize = 150;
    let (standin, client) = setup().await;
    standin.configure(|b| b.quota_per_second = Some(QUOTA));
    // The default pace (20/s) is above this stand-in's quota, as when other instances of the
    // app stream too: the streamer has to find the quota from DingTalk's answers.
    let streamer = CardStreamer::with_config(
        &client,
        CardStreamConfig::default().backoff(Duration::from_millis(100), Duration::from_secs(1)),
    );
    let cards: Vec<String> = (0..CARDS).map(|i| format!("card-{i}")).collect();
    let tasks: Vec<_> = cards
        .iter()
        .map(|card| {
            let stream = streamer.open(card.clone(), "content");
            let card = card.clone();
            tokio::spawn(async move {
                let mut whole = String::new();
                for i in 0..TOKENS {
                    let token = format!("{card}·{i} ");
                    whole.push_str(&token);
                    stream.push_str(&token);
                    tokio::time::sleep(Duration::from_millis(8)).await;
                }
                (whole, stream.finish().await)
            })
        })
        .collect();

    let mut reports = Vec::new();
    for (card, task) in cards.iter().zip(tasks) {
        let (whole, result) = task.await.expect("the feeding task");
        let report = result.expect("the stream ends normally");
        let seen = calls(&standin, card);
        let last = seen.last().expect("calls were made");
        // The last call is the end, with the whole text, accepted: a throttled end would have
        // been sent again after it.
        assert_eq!(field(last, "isFinalize"), Value::Bool(true), "{card}");
        assert_eq!(content(last), whole, "{card}: the final text is complete");
        assert_eq!(
            seen.iter()
                .filter(|s| field(s, "isFinalize") == Value::Bool(true))
                .count(),
            1 + seen
                .iter()
                .rev()
                .skip(1)
                .take_while(|s| field(s, "isFinalize") == Value::Bool(true))
                .count(),
            "{card}: only the end (and its throttled tries) is final"
        );
        // Each call carries the whole text so far, never older than the call before.
        let mut previous = 0;
        for s in &seen {
            assert_eq!(field(s, "isFull"), Value::Bool(true));
            assert_eq!(field(s, "key").as_str(), Some("content"));
            let text = content(s);
            assert!(
                whole.starts_with(&text),
                "{card}: a call with a text the card never had"
            );
            assert!(
                text.len() >= previous,
                "{card}: an older text after a newer one"
            );
            previous = text.len();
        }
        // Every update counted, merged into far fewer calls.
        assert_eq!(report.updates, TOKENS as u64 + 1, "{card}");
        assert_eq!(report.sent + report.throttled, seen.len() as u64, "{card}");
        assert!(report.sent < report.updates / 4, "{card}: {report:?}");
        assert_eq!(report.failed, 0);
        reports.push(report);
    }
    let all = standin
        .seen()
        .into_iter()
        .filter(|s| s.path == STREAMING)
        .collect::<Vec<_>>();
    assert!(all.iter().all(|s| s.violations.is_empty()), "{all:?}");
    let guids: HashSet<String> = all.iter().map(|s| field(s, "guid").to_string()).collect();
    assert_eq!(guids.len(), all.len(), "a fresh guid for each call");
    let throttled: u64 = reports.iter().map(|r| r.throttled).sum();
    let sent: u64 = reports.iter().map(|r| r.sent).sum();
    assert_eq!(throttled, standin.throttled() as u64);
    assert!(throttled > 0, "the stand-in's quota was met");
    let stats = streamer.stats();
    assert_eq!((stats.sent, stats.throttled), (sent, throttled));
    assert_eq!(stats.updates, (CARDS * (TOKENS + 1)) as u64);
    println!(
        "card streaming: {} updates on {CARDS} cards → {sent} calls accepted, {throttled} throttled ({QUOTA}/s quota)",
        stats.updates
    );
}

#[tokio::test]
async fn a_permission_error_ends_the_stream_at_once() {
    let (standin, client) = setup().await;
    standin.configure(|b| {
        b.fail_next.push_back(Fault::v1(
            403,
            "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        ))
    });
    let streamer = CardStreamer::new(&client);
    let card = streamer.open("card-denied", "content");
    card.update("第一段");
    tokio::time::sleep(Duration::from_millis(200)).await;
    card.push_str("第二段"); // after the refusal: not sent
    let err = card.finish().await.expect_err("refused");
    let CardStreamError::Api { error, report } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(error.class(), ErrorClass::Permission);
    assert_eq!((report.sent, report.failed), (0, 1));
    assert_eq!(
        calls(&standin, "card-denied").len(),
        1,
        "no retry, no end sent"
    );
    assert!(err.to_string().contains("0 of"), "{err}");
}

#[tokio::test]
async fn a_lost_answer_to_the_end_is_sent_again_with_the_same_guid() {
    let (standin, client) = setup().await;
    let streamer = CardStreamer::with_config(
        &client,
        CardStreamConfig::default().backoff(Duration::from_millis(10), Duration::from_millis(50)),
    );
    let card = streamer.open("card-lost", "content");
    card.update("正在思考");
    while streamer.stats().sent < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    standin.configure(|b| b.fail_next.push_back(Fault::v1(500, "system.error")));
    card.update("答案是 42");
    let report = card.finish().await.expect("ended after the resend");
    let seen = calls(&standin, "card-lost");
    assert_eq!(seen.len(), 3, "{seen:?}");
    let (failed, resent) = (&seen[1], &seen[2]);
    assert_eq!(
        field(failed, "guid"),
        field(resent, "guid"),
        "DingTalk can drop the repeat"
    );
    assert_eq!(content(resent), "答案是 42");
    assert_eq!(field(resent, "isFinalize"), Value::Bool(true));
    assert_eq!((report.sent, report.failed, report.throttled), (2, 1, 0));
}

#[tokio::test]
async fn a_lost_answer_mid_stream_is_superseded_by_the_latest_text() {
    let (standin, client) = setup().await;
    let streamer = CardStreamer::with_config(
        &client,
        CardStreamConfig::default().backoff(Duration::from_millis(10), Duration::from_millis(50)),
    );
    standin.configure(|b| b.fail_next.push_back(Fault::v1(500, "system.error")));
    let card = streamer.open("card-mid", "content");
    card.update("甲");
    while streamer.stats().failed < 1 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    card.update("甲乙");
    card.finish().await.expect("ended");
    let seen = calls(&standin, "card-mid");
    let texts: Vec<String> = seen.iter().map(content).collect();
    assert_eq!(texts.last().map(String::as_str), Some("甲乙"));
    assert_ne!(field(&seen[0], "guid"), field(&seen[1], "guid"));
    assert!(texts.len() <= 3, "{texts:?}");
}

#[tokio::test]
async fn a_dropped_stream_still_sends_its_latest_text_but_no_end() {
    let (standin, client) = setup().await;
    let streamer = CardStreamer::new(&client);
    let card = streamer.open("card-dropped", "content");
    card.update("一半");
    drop(card);
    for _ in 0..200 {
        if streamer.stats().sent == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let seen = calls(&standin, "card-dropped");
    assert_eq!(seen.len(), 1);
    assert_eq!(content(&seen[0]), "一半");
    assert_eq!(field(&seen[0], "isFinalize"), Value::Bool(false));
    // Debug of a streamer shows its counts, never a token.
    let shown = format!("{streamer:?}");
    assert!(
        shown.contains("sent: 1") && !shown.contains("app-secret-value"),
        "{shown}"
    );
}
