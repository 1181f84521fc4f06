//! A Stream-mode bot: answers every robot message by echoing it through the message's
//! session webhook, and logs events.
//!
//! ```sh
//! # against local stand-ins: a robot message is pushed, the echo arrives, the bot stops
//! cargo run -p dingtalk-tests --example stream_bot
//! # against DingTalk, until Ctrl-C
//! DINGTALK_APP_KEY=ding... DINGTALK_APP_SECRET=... cargo run -p dingtalk-tests --example stream_bot
//! ```

use std::time::Duration;

use dingtalk::stream::{Answer, StreamHandle};
use dingtalk::Client;
use dingtalk_workflows::stream::{Reply, StreamMode, StreamPush};

/// Starts the bot on `client`.
fn bot(client: &Client) -> Result<StreamHandle, dingtalk::Error> {
    let replier = client.clone();
    client
        .stream_mode()
        .events()
        .robot_messages()
        .spawn(move |push| {
            let client = replier.clone();
            async move {
                match push {
                    StreamPush::RobotMessage(msg) => {
                        let text = msg.text().unwrap_or_default().trim().to_owned();
                        println!("robot message: {text:?}");
                        msg.reply(&client, Reply::text(format!("echo: {text}")))
                            .await?;
                    }
                    StreamPush::Event(e) => println!("event {}", e.event.tag()),
                    other => println!("push: {other:?}"),
                }
                Ok(Answer::Success)
            }
        })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    if let (Ok(key), Ok(secret)) = (
        std::env::var("DINGTALK_APP_KEY"),
        std::env::var("DINGTALK_APP_SECRET"),
    ) {
        let client = dingtalk::client().app_key(key, secret).build()?;
        let stream = bot(&client)?;
        println!("connected to DingTalk; Ctrl-C stops");
        tokio::signal::ctrl_c().await?;
        stream.shutdown().await?;
        return Ok(());
    }
    demo().await
}

/// The bot against the Stream stand-in (Stream and the handshake) and the API stand-in
/// (the session webhook).
async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    use dingtalk_tests::standin::StandIn;
    use dingtalk_tests::stream_standin::StreamStandIn;

    let stream_standin = StreamStandIn::start().await;
    let api = StandIn::start(&dingtalk_tests::load_spec()).await?;
    let client = dingtalk::client()
        .app_key("dingstreamapp", "stream-secret")
        // `base_url` sets both hosts: the api host is set after it.
        .base_url(api.base_url())
        .api_base_url(stream_standin.base_url())
        .build()?;
    let mut stream = bot(&client)?;
    stream.wait_connected(1).await;
    println!("connected to the stand-in at {}", stream_standin.base_url());

    let webhook = format!(
        "{}/robot/sendBySession?session=demo-session",
        api.base_url()
    );
    let expires = dingtalk::store::now_ms() + 3_600_000;
    let id = stream_standin.push_callback(
        "/v1.0/im/bot/messages/get",
        serde_json::json!({
            "msgtype": "text", "text": {"content": "hello bot"}, "msgId": "demo-1",
            "conversationType": "1", "conversationId": "cid-demo", "senderNick": "Demo", "senderStaffId": "demo-user",
            "robotCode": "dingdemorobot", "sessionWebhook": webhook,
            "sessionWebhookExpiredTime": expires,
        }),
    );
    stream_standin
        .wait_until(
            "the robot message acknowledged",
            Duration::from_secs(10),
            |s| s.acked(&id).is_some(),
        )
        .await;
    let sent = api
        .seen()
        .into_iter()
        .find(|s| s.path == "/robot/sendBySession")
        .ok_or("the echo never reached the session webhook")?;
    println!(
        "the session webhook received: {}",
        sent.body.map(|b| b.to_string()).unwrap_or_default()
    );
    stream.shutdown().await?;
    Ok(())
}
