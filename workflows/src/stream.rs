//! Stream mode on a [`Client`]: the handshake through the spec's `gateway.open_connection`
//! call, pushes typed with the spec's types (the callback [`Event`] union, the robot message,
//! the card callback), and replies to robot messages.
//!
//! ```no_run
//! use dingtalk::stream::{Answer, StreamConfig};
//! use dingtalk_workflows::stream::{Reply, StreamMode, StreamPush};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = dingtalk::client().app_key("dingxxxx", "secret").build()?;
//! let replier = client.clone();
//! let stream = client
//!     .stream_mode()
//!     .events()
//!     .robot_messages()
//!     .spawn(move |push| {
//!         let client = replier.clone();
//!         async move {
//!             match push {
//!                 StreamPush::RobotMessage(msg) => {
//!                     let text = msg.text().unwrap_or_default().to_owned();
//!                     msg.reply(&client, Reply::text(format!("echo: {text}"))).await?;
//!                 }
//!                 StreamPush::Event(e) => println!("event {}", e.event.tag()),
//!                 _ => {}
//!             }
//!             Ok(Answer::Success)
//!         }
//!     })?;
//! stream.shutdown().await?;
//! # Ok(()) }
//! ```
//!
//! The delivery guarantees are the runtime's (see [`dingtalk::stream`]): DingTalk delivers at
//! least once; with one [`DedupStore`] shared by every instance (a `RedisStore` for a fleet)
//! each message reaches the handler once.

use std::future::Future;
use std::sync::Arc;

use dingtalk::api::callback::Event;
use dingtalk::api::card::CardCallback;
use dingtalk::api::gateway::{GatewaySubscription, GatewaySubscriptionType};
use dingtalk::api::robot::{
    RobotConversationType, RobotInboundMessage, RobotMessage, RobotSampleMarkdown, RobotSampleText,
    RobotWebhookMarkdown, RobotWebhookMessage, RobotWebhookText,
};
use dingtalk::prelude::*;
use dingtalk::stream::{
    Answer, CallbackPush, DedupStore, EventPush, FrameHeaders, FrameKind, HandlerError, Push,
    StreamClient, StreamConfig, StreamHandle, Ticket, UndecodablePush, TOPIC_CARD_CALLBACK,
    TOPIC_ROBOT_MESSAGE,
};
use dingtalk::{Client, Error};

use crate::robot_webhook::{reply_to, RobotWebhookError};

/// What the client names itself in the handshake's `ua`.
const UA: &str = concat!("dingtalk-rs/", env!("CARGO_PKG_VERSION"));

/// Stream mode for a [`Client`].
pub trait StreamMode {
    /// Starts configuring a Stream connection that authenticates with this client's Client ID
    /// and secret (AppKey/AppSecret; an ISV suite's SuiteKey/SuiteSecret).
    fn stream_mode(&self) -> StreamBuilder;
}

impl StreamMode for Client {
    fn stream_mode(&self) -> StreamBuilder {
        StreamBuilder {
            client: self.clone(),
            subscriptions: Vec::new(),
            config: StreamConfig::default(),
            dedup: None,
        }
    }
}

/// Configures what a Stream connection subscribes to and how it behaves.
#[derive(Debug)]
pub struct StreamBuilder {
    client: Client,
    subscriptions: Vec<GatewaySubscription>,
    config: StreamConfig,
    dedup: Option<Arc<dyn DedupStore>>,
}

impl StreamBuilder {
    fn subscribe(mut self, kind: GatewaySubscriptionType, topic: &str) -> Self {
        let already = self
            .subscriptions
            .iter()
            .any(|s| s.r#type == kind && s.topic == topic);
        if !already {
            self.subscriptions
                .push(GatewaySubscription::new(kind, topic.to_owned()));
        }
        self
    }

    /// Receives the events chosen in the developer console (`EVENT`, topic `*`).
    pub fn events(self) -> Self {
        self.subscribe(GatewaySubscriptionType::Event, "*")
    }

    /// Receives the messages users send the app's robot ([`TOPIC_ROBOT_MESSAGE`]).
    pub fn robot_messages(self) -> Self {
        self.subscribe(GatewaySubscriptionType::Callback, TOPIC_ROBOT_MESSAGE)
    }

    /// Receives interactions with the app's cards ([`TOPIC_CARD_CALLBACK`]).
    pub fn card_callbacks(self) -> Self {
        self.subscribe(GatewaySubscriptionType::Callback, TOPIC_CARD_CALLBACK)
    }

    /// Receives the callbacks of another topic (they arrive as [`StreamPush::Callback`]).
    pub fn callback(self, topic: &str) -> Self {
        self.subscribe(GatewaySubscriptionType::Callback, topic)
    }

    /// Sets how the connection behaves.
    pub fn config(mut self, config: StreamConfig) -> Self {
        self.config = config;
        self
    }

    /// Shares message claims and ACKs through `store`, so that several instances handle each
    /// message once.
    pub fn dedup_store(mut self, store: Arc<dyn DedupStore>) -> Self {
        self.dedup = Some(store);
        self
    }

    /// Connects and hands every push to `handler` until [`StreamHandle::shutdown`].
    ///
    /// Fails at once with [`Error::Config`] when the client has no Client ID (a
    /// CorpId/CorpSecret app) or nothing was subscribed.
    pub fn spawn<F, Fut>(self, handler: F) -> Result<StreamHandle, Error>
    where
        F: Fn(StreamPush) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Answer, HandlerError>> + Send + 'static,
    {
        let Some((client_id, _)) = self.client.client_credentials() else {
            return Err(Error::Config(
                "Stream mode needs a Client ID and secret: build the client with `app_key` or `suite`".to_owned(),
            ));
        };
        if self.subscriptions.is_empty() {
            return Err(Error::Config(
                "Stream mode subscribed to nothing: call `events()`, `robot_messages()`, `card_callbacks()` or `callback(topic)`".to_owned(),
            ));
        }
        let app = client_id.to_owned();
        let client = self.client;
        let subscriptions = self.subscriptions;
        let handshake = move || {
            let client = client.clone();
            let subscriptions = subscriptions.clone();
            async move {
                let Some((id, secret)) = client.client_credentials() else {
                    return Err(Error::Config("no Client ID".to_owned()));
                };
                let (id, secret) = (id.to_owned(), secret.clone());
                let answer = client
                    .gateway()
                    .open_connection(id, secret, subscriptions)
                    .ua(UA)
                    .await?;
                Ok(Ticket {
                    endpoint: answer.endpoint,
                    ticket: answer.ticket,
                })
            }
        };
        let handler = Arc::new(handler);
        let typed = move |push: Push<Event>| {
            let handler = handler.clone();
            async move { handler(StreamPush::from(push)).await }
        };
        let mut stream = StreamClient::<Event>::new(&app, handshake, typed).config(self.config);
        if let Some(store) = self.dedup {
            stream = stream.dedup_store(store);
        }
        Ok(stream.spawn())
    }
}

/// One push, typed by what it carries. The typed payloads are boxed: they are large, and a
/// push moves through channels and tasks.
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamPush {
    /// An event, in the same [`Event`] union as HTTP pushes.
    Event(Box<EventPush<Event>>),
    /// A message sent to the app's robot.
    RobotMessage(Box<RobotMessagePush>),
    /// An interaction with one of the app's cards; answer with [`card_answer`] to update it.
    CardCallback(Box<CardCallbackPush>),
    /// A callback of another topic, with its raw data.
    Callback(CallbackPush),
    /// A frame that could not be opened (or a robot message or card callback of an
    /// unexpected shape), kept as received.
    Undecodable(UndecodablePush),
}

impl From<Push<Event>> for StreamPush {
    fn from(push: Push<Event>) -> StreamPush {
        match push {
            Push::Event(e) => StreamPush::Event(Box::new(e)),
            Push::Callback(c) => match c.topic() {
                TOPIC_ROBOT_MESSAGE => match c.decode::<RobotInboundMessage>() {
                    Ok(message) => StreamPush::RobotMessage(Box::new(RobotMessagePush {
                        headers: c.headers,
                        message,
                    })),
                    Err(e) => undecodable(c, format!("not a robot message: {e}")),
                },
                TOPIC_CARD_CALLBACK => match c.decode::<CardCallback>() {
                    Ok(callback) => StreamPush::CardCallback(Box::new(CardCallbackPush {
                        headers: c.headers,
                        callback,
                    })),
                    Err(e) => undecodable(c, format!("not a card callback: {e}")),
                },
                _ => StreamPush::Callback(c),
            },
            Push::Undecodable(u) => StreamPush::Undecodable(u),
            // `Push` may grow: a kind this crate does not know yet is kept with its headers.
            other => StreamPush::Undecodable(UndecodablePush::new(
                FrameKind::Other("unknown".to_owned()),
                other.headers().clone(),
                String::new(),
                "a push kind this crate does not know".to_owned(),
            )),
        }
    }
}

fn undecodable(c: CallbackPush, error: String) -> StreamPush {
    StreamPush::Undecodable(UndecodablePush::new(
        FrameKind::Callback,
        c.headers,
        c.data.to_string(),
        error,
    ))
}

/// A robot message and the frame headers it came with.
#[derive(Debug)]
#[non_exhaustive]
pub struct RobotMessagePush {
    /// The frame's headers.
    pub headers: FrameHeaders,
    /// The message.
    pub message: RobotInboundMessage,
}

/// A card interaction and the frame headers it came with.
#[derive(Debug)]
#[non_exhaustive]
pub struct CardCallbackPush {
    /// The frame's headers.
    pub headers: FrameHeaders,
    /// The interaction.
    pub callback: CardCallback,
}

/// The answer that updates the card a [`CardCallbackPush`] came from: `response` is carried in
/// the ACK.
pub fn card_answer(response: &dingtalk::api::card::CardCallbackResponse) -> Answer {
    match serde_json::to_value(response) {
        Ok(v) => Answer::Response(v),
        // A generated type always serializes; answer without an update if it somehow does not.
        Err(_) => Answer::Success,
    }
}

/// A reply to a robot message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// Plain text.
    Text(String),
    /// Markdown with a title (the title shows in notifications).
    Markdown {
        /// The title.
        title: String,
        /// The Markdown text.
        text: String,
    },
}

impl Reply {
    /// A plain-text reply.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::Text(text.into())
    }

    /// A Markdown reply.
    pub fn markdown(title: impl Into<String>, text: impl Into<String>) -> Reply {
        Reply::Markdown {
            title: title.into(),
            text: text.into(),
        }
    }

    fn webhook(&self) -> RobotWebhookMessage {
        match self {
            Reply::Text(t) => RobotWebhookMessage::Text(RobotWebhookText::new(t.clone())),
            Reply::Markdown { title, text } => RobotWebhookMessage::Markdown(
                RobotWebhookMarkdown::new(title.clone(), text.clone()),
            ),
        }
    }

    fn robot_api(&self) -> RobotMessage {
        match self {
            Reply::Text(t) => RobotMessage::SampleText(RobotSampleText::new(t.clone())),
            Reply::Markdown { title, text } => {
                RobotMessage::SampleMarkdown(RobotSampleMarkdown::new(title.clone(), text.clone()))
            }
        }
    }
}

/// How long before its expiry a session webhook is no longer used: a reply sent just before
/// would arrive after.
const WEBHOOK_MARGIN_MS: i64 = 30_000;

impl RobotMessagePush {
    /// A push built from its parts (tests, or messages that arrived some other way, such as
    /// the HTTP robot callback).
    pub fn new(headers: FrameHeaders, message: RobotInboundMessage) -> RobotMessagePush {
        RobotMessagePush { headers, message }
    }

    /// The text of a text message.
    pub fn text(&self) -> Option<&str> {
        self.message.text.as_ref().map(|t| t.content.as_str())
    }

    /// Replies in the conversation the message came from: through its session webhook while
    /// that is valid (`sessionWebhookExpiredTime`, less a 30 s margin), through the robot API
    /// after (`robot.batch_send_oto` to the sender of a one-to-one message,
    /// `robot.org_group_send` in a group), which needs the message's `robotCode`.
    pub async fn reply(&self, client: &Client, reply: Reply) -> Result<(), RobotWebhookError> {
        let m = &self.message;
        let now = dingtalk::store::now_ms();
        let webhook_valid = m
            .session_webhook_expired_time
            .is_some_and(|expires| expires.saturating_sub(WEBHOOK_MARGIN_MS) > now);
        if m.session_webhook.is_some() && webhook_valid {
            return reply_to(client, m, reply.webhook()).await;
        }
        let config = |what: &str| RobotWebhookError::Api(Error::Config(what.to_owned()));
        let Some(robot_code) = m.robot_code.clone() else {
            return Err(config(
                "the session webhook expired and the message carries no robotCode to reply through the robot API",
            ));
        };
        let sent = match m.conversation_type {
            Some(RobotConversationType::Group) => client
                .robot()
                .org_group_send(robot_code, m.conversation_id.clone(), reply.robot_api())
                .await
                .map(drop),
            _ => {
                let Some(sender) = m.sender_staff_id.clone() else {
                    return Err(config("a one-to-one message without senderStaffId"));
                };
                client
                    .robot()
                    .batch_send_oto(robot_code, vec![sender], reply.robot_api())
                    .await
                    .map(drop)
            }
        };
        sent.map_err(RobotWebhookError::Api)
    }
}
