//! A custom robot's webhook (自定义机器人), and replies through a chat's session webhook.
//!
//! [`RobotWebhook`] sends through the generated `client.robot().send_webhook(..)` call, so the
//! client's transport, retries and error classes apply; before a message leaves it
//!
//! - signs the request when the robot uses signing (加签): `timestamp` (ms) and
//!   `sign` = Base64(HMAC-SHA256(key = secret, message = `timestamp + "\n" + secret`)), which the
//!   client URL-encodes in the query;
//! - refuses a message that contains none of the robot's keywords (关键词), when keywords are
//!   configured ([`RobotWebhookError::MissingKeyword`]);
//! - refuses a body over [`MAX_BODY_BYTES`] ([`RobotWebhookError::TooLarge`]);
//! - paces the robot to [`DEFAULT_MESSAGES_PER_MINUTE`] messages in any rolling minute
//!   (configurable), waiting for a free slot or refusing ([`WhenFull`]). DingTalk throttles a
//!   robot that sends more for 10 minutes (errcodes 410100, 130101), so the limiter errs on the
//!   safe side: a message holds its slot from the moment it is sent until a whole window after
//!   its answer arrived.
//!
//! The limiter belongs to one `RobotWebhook` and its clones: build one per robot and share it
//! (clone it) between the tasks that post through that robot.
//!
//! [`reply_by_session`] answers an incoming robot message through the `sessionWebhook` it
//! carried. That URL comes from a payload, so it is never fetched: only its `session` value is
//! used, and only when the URL is a `/robot/sendBySession` URL of DingTalk (or of the client's
//! own base URL); the reply goes through the generated `send_by_session` call.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dingtalk::api::robot::{RobotInboundMessage, RobotWebhookAt, RobotWebhookMessage};
use dingtalk::prelude::*;
use dingtalk::sign::hmac_sha256_base64;
use dingtalk::{Client, SecretString};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The largest JSON body DingTalk accepts from a robot webhook, in bytes (errcode 460101 past it).
pub const MAX_BODY_BYTES: usize = 20_000;

/// Messages a custom robot may send in a minute before DingTalk throttles it.
pub const DEFAULT_MESSAGES_PER_MINUTE: u32 = 20;

/// The path of a custom robot's webhook.
const SEND_PATH: &str = "/robot/send";
/// The path of a chat's session webhook.
const SESSION_PATH: &str = "/robot/sendBySession";
/// DingTalk's host for both.
const DINGTALK_HOST: &str = "oapi.dingtalk.com";

/// What [`RobotWebhook`] does with a message when the robot's window is full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WhenFull {
    /// Wait until a slot frees, then send (the default). The wait is at most one window.
    #[default]
    Wait,
    /// Send nothing and return [`RobotWebhookError::RateLimited`] with the time until a slot
    /// frees.
    Refuse,
}

/// Why a robot message was not sent, or failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum RobotWebhookError {
    /// The webhook given to [`RobotWebhook::new`] is neither a custom robot's webhook URL
    /// (`https://oapi.dingtalk.com/robot/send?access_token=…`) nor a bare token.
    InvalidWebhook {
        /// What is wrong with it (never the URL or the token itself).
        reason: &'static str,
    },
    /// The robot has keywords and the message contains none of them: DingTalk would refuse
    /// it (errcode 310000), so it was not sent.
    MissingKeyword {
        /// The robot's keywords.
        keywords: Vec<String>,
    },
    /// The JSON body is larger than DingTalk accepts (errcode 460101), so it was not sent.
    TooLarge {
        /// The body's size in bytes.
        bytes: usize,
        /// The most DingTalk accepts ([`MAX_BODY_BYTES`]).
        limit: usize,
    },
    /// The robot's window is full and [`WhenFull::Refuse`] is set: nothing was sent.
    RateLimited {
        /// How long until a slot frees, at the latest.
        retry_after: Duration,
    },
    /// The URL given to [`reply_by_session`] is not a session webhook
    /// (`https://oapi.dingtalk.com/robot/sendBySession?session=…`); nothing was sent.
    NotASessionWebhook {
        /// What is wrong with it (never the URL or the session itself).
        reason: &'static str,
    },
    /// The message's session webhook expired (`sessionWebhookExpiredTime` has passed) or it
    /// carried none: reply through the robot APIs instead (`org_group_send`, `batch_send_oto`).
    SessionExpired {
        /// When it expired, ms since the epoch (`None`: the message carried no session webhook).
        expired_at: Option<i64>,
    },
    /// The call was made and failed: a transport error, or DingTalk's errcode (310000 for a
    /// failed security check, 410100 / 130101 when throttled, …), classified by the client.
    Api(dingtalk::Error),
}

impl RobotWebhookError {
    /// The client's error, for a call that was made.
    pub fn api(&self) -> Option<&dingtalk::Error> {
        match self {
            RobotWebhookError::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for RobotWebhookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RobotWebhookError::InvalidWebhook { reason } => {
                write!(f, "not a custom robot webhook: {reason}")
            }
            RobotWebhookError::MissingKeyword { keywords } => write!(
                f,
                "the message contains none of the robot's keywords ({}); DingTalk would refuse it",
                keywords.join(", ")
            ),
            RobotWebhookError::TooLarge { bytes, limit } => write!(
                f,
                "the robot message is {bytes} bytes of JSON; DingTalk accepts at most {limit}"
            ),
            RobotWebhookError::RateLimited { retry_after } => write!(
                f,
                "the robot's message limit is reached; a slot frees within {} ms",
                retry_after.as_millis()
            ),
            RobotWebhookError::NotASessionWebhook { reason } => {
                write!(f, "not a session webhook: {reason}")
            }
            RobotWebhookError::SessionExpired {
                expired_at: Some(t),
            } => write!(f, "the session webhook expired at {t} (ms since the epoch)"),
            RobotWebhookError::SessionExpired { expired_at: None } => {
                f.write_str("the message carried no session webhook")
            }
            RobotWebhookError::Api(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RobotWebhookError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RobotWebhookError::Api(e) => Some(e),
            _ => None,
        }
    }
}

impl From<dingtalk::Error> for RobotWebhookError {
    fn from(e: dingtalk::Error) -> Self {
        RobotWebhookError::Api(e)
    }
}

/// One custom robot's webhook: its token, its optional signing secret and keywords, and its
/// message limiter.
///
/// ```no_run
/// use dingtalk::api::robot::{RobotWebhookMessage, RobotWebhookText};
/// use dingtalk_workflows::RobotWebhook;
/// # async fn run(client: dingtalk::Client) -> Result<(), dingtalk_workflows::RobotWebhookError> {
/// let robot = RobotWebhook::new(&client, "https://oapi.dingtalk.com/robot/send?access_token=6d2f…")?
///     .secret("SEC1a2b…")
///     .keywords(["部署"]);
/// robot.send(RobotWebhookMessage::Text(RobotWebhookText::new("部署完成"))).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RobotWebhook {
    client: Client,
    token: SecretString,
    secret: Option<SecretString>,
    keywords: Vec<String>,
    when_full: WhenFull,
    limiter: Arc<Limiter>,
}

impl fmt::Debug for RobotWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let window = self.limiter.lock();
        f.debug_struct("RobotWebhook")
            .field("token", &self.token)
            .field("signed", &self.secret.is_some())
            .field("keywords", &self.keywords)
            .field("messages", &window.capacity)
            .field("per", &window.length)
            .field("when_full", &self.when_full)
            .finish()
    }
}

impl RobotWebhook {
    /// A robot from its webhook URL (`https://oapi.dingtalk.com/robot/send?access_token=…`, as
    /// the group's robot settings show it) or the bare `access_token`. A URL must point at
    /// `/robot/send` on oapi.dingtalk.com (or on the client's own base URL, e.g. a test
    /// stand-in); its other params (a pasted `timestamp` or `sign`) are ignored.
    ///
    /// Sends go through `client`, which needs no app credentials for them. The robot starts
    /// unsigned, without keywords, at [`DEFAULT_MESSAGES_PER_MINUTE`] a minute, waiting when
    /// full.
    pub fn new(client: &Client, webhook: &str) -> Result<RobotWebhook, RobotWebhookError> {
        let token = webhook_token(client, webhook)?;
        Ok(RobotWebhook {
            client: client.clone(),
            token,
            secret: None,
            keywords: Vec::new(),
            when_full: WhenFull::default(),
            limiter: Arc::new(Limiter::new(
                DEFAULT_MESSAGES_PER_MINUTE,
                Duration::from_secs(60),
            )),
        })
    }

    /// Signs every message with the robot's secret (加签, the `SEC…` text of its security
    /// settings).
    pub fn secret(mut self, secret: impl Into<SecretString>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// The robot's keywords (自定义关键词): a message must contain at least one (in its text,
    /// title or button captions); one that does not is refused before sending. Empty keywords
    /// are dropped.
    pub fn keywords<I, S>(mut self, keywords: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.keywords = keywords
            .into_iter()
            .map(Into::into)
            .filter(|k| !k.is_empty())
            .collect();
        self
    }

    /// At most `messages` messages in any rolling `per` (default: 20 a minute, DingTalk's limit).
    /// This gives the robot a new limiter, no longer shared with earlier clones.
    pub fn rate_limit(mut self, messages: u32, per: Duration) -> Self {
        self.limiter = Arc::new(Limiter::new(messages, per));
        self
    }

    /// What to do when the window is full: wait (the default) or refuse.
    pub fn when_full(mut self, when_full: WhenFull) -> Self {
        self.when_full = when_full;
        self
    }

    /// Sends `message`.
    pub async fn send(&self, message: RobotWebhookMessage) -> Result<(), RobotWebhookError> {
        self.post(message, None).await
    }

    /// Sends `message`, @-ing the users in `at` (the text must also name them, `@<userid>` or
    /// `@<mobile>`).
    pub async fn send_with_at(
        &self,
        message: RobotWebhookMessage,
        at: RobotWebhookAt,
    ) -> Result<(), RobotWebhookError> {
        self.post(message, Some(at)).await
    }

    async fn post(
        &self,
        message: RobotWebhookMessage,
        at: Option<RobotWebhookAt>,
    ) -> Result<(), RobotWebhookError> {
        if !self.keywords.is_empty() {
            let texts = visible_texts(&message);
            if !self
                .keywords
                .iter()
                .any(|k| texts.iter().any(|t| t.contains(k.as_str())))
            {
                return Err(RobotWebhookError::MissingKeyword {
                    keywords: self.keywords.clone(),
                });
            }
        }
        let mut call = self
            .client
            .robot()
            .send_webhook(self.token.clone(), message);
        if let Some(at) = at {
            call = call.at(at);
        }
        check_size(call.request())?;
        let _slot = self.limiter.acquire(self.when_full).await?;
        // Signed once a slot is held: a wait must not age the timestamp.
        if let Some(secret) = &self.secret {
            let timestamp = dingtalk::store::now_ms();
            let sign = hmac_sha256_base64(
                secret.expose_secret(),
                &format!("{timestamp}\n{}", secret.expose_secret()),
            );
            call = call.timestamp(timestamp).sign(sign);
        }
        call.await?;
        Ok(())
    }
}

/// Replies into the chat of an incoming robot message through its session webhook
/// (`RobotInboundMessage::session_webhook`, `https://oapi.dingtalk.com/robot/sendBySession?session=…`).
///
/// The URL is not fetched: it must be a `/robot/sendBySession` URL on oapi.dingtalk.com (or on
/// the client's own base URL), and its `session` value goes to the generated `send_by_session`
/// call on the client's host. Any other URL is [`RobotWebhookError::NotASessionWebhook`] and
/// nothing is sent. A reply over [`MAX_BODY_BYTES`] is refused too.
pub async fn reply_by_session(
    client: &Client,
    session_webhook_url: &str,
    message: RobotWebhookMessage,
) -> Result<(), RobotWebhookError> {
    reply(client, session_webhook_url, message, None).await
}

/// [`reply_by_session`], @-ing the users in `at` (usually the sender, by `senderStaffId`).
pub async fn reply_by_session_with_at(
    client: &Client,
    session_webhook_url: &str,
    message: RobotWebhookMessage,
    at: RobotWebhookAt,
) -> Result<(), RobotWebhookError> {
    reply(client, session_webhook_url, message, Some(at)).await
}

/// Replies to `incoming` through its session webhook while it is valid: a message whose
/// `sessionWebhookExpiredTime` has passed (or that carried no session webhook) is
/// [`RobotWebhookError::SessionExpired`] and nothing is sent.
pub async fn reply_to(
    client: &Client,
    incoming: &RobotInboundMessage,
    message: RobotWebhookMessage,
) -> Result<(), RobotWebhookError> {
    let Some(url) = &incoming.session_webhook else {
        return Err(RobotWebhookError::SessionExpired { expired_at: None });
    };
    if let Some(expired_at) = incoming.session_webhook_expired_time {
        if dingtalk::store::now_ms() >= expired_at {
            return Err(RobotWebhookError::SessionExpired {
                expired_at: Some(expired_at),
            });
        }
    }
    reply(client, url.expose_secret(), message, None).await
}

async fn reply(
    client: &Client,
    url: &str,
    message: RobotWebhookMessage,
    at: Option<RobotWebhookAt>,
) -> Result<(), RobotWebhookError> {
    let session = session_value(client, url)?;
    let mut call = client.robot().send_by_session(session, message);
    if let Some(at) = at {
        call = call.at(at);
    }
    check_size(call.request())?;
    call.await?;
    Ok(())
}

/// Refuses a request whose JSON body exceeds [`MAX_BODY_BYTES`]. The body is the request
/// itself serialized, exactly as the client sends it (query params are not part of it).
fn check_size<R: serde::Serialize>(request: &R) -> Result<(), RobotWebhookError> {
    // A body that does not encode is the call's to report (as the client's encoding error).
    let Ok(bytes) = serde_json::to_vec(request).map(|b| b.len()) else {
        return Ok(());
    };
    if bytes > MAX_BODY_BYTES {
        return Err(RobotWebhookError::TooLarge {
            bytes,
            limit: MAX_BODY_BYTES,
        });
    }
    Ok(())
}

/// The texts of a message a reader sees (and DingTalk looks for keywords in): text, titles and
/// button captions, not URLs. A message type the spec does not know offers every string of it.
fn visible_texts(message: &RobotWebhookMessage) -> Vec<&str> {
    match message {
        RobotWebhookMessage::Text(t) => vec![t.content.as_str()],
        RobotWebhookMessage::Markdown(m) => vec![m.title.as_str(), m.text.as_str()],
        RobotWebhookMessage::Link(l) => vec![l.title.as_str(), l.text.as_str()],
        RobotWebhookMessage::ActionCard(c) => {
            let mut texts = vec![c.title.as_str(), c.text.as_str()];
            texts.extend(c.single_title.as_deref());
            texts.extend(c.btns.iter().map(|b| b.title.as_str()));
            texts
        }
        RobotWebhookMessage::FeedCard(f) => f.links.iter().map(|l| l.title.as_str()).collect(),
        RobotWebhookMessage::Unknown { raw, .. } => {
            fn strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
                match v {
                    serde_json::Value::String(s) => out.push(s),
                    serde_json::Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
                    serde_json::Value::Object(map) => map
                        .iter()
                        .filter(|(k, _)| k.as_str() != "msgtype")
                        .for_each(|(_, v)| strings(v, out)),
                    _ => {}
                }
            }
            let mut out = Vec::new();
            strings(raw, &mut out);
            out
        }
        // A variant added to the spec later: until it is listed here no text of it is known,
        // so a robot with keywords refuses it rather than guess.
        _ => Vec::new(),
    }
}

/// Whether `url` is on DingTalk's oapi host (HTTPS) or on the client's own base URL (same
/// scheme, host and port).
fn trusted_origin(client: &Client, url: &url::Url) -> bool {
    let dingtalk =
        url.scheme() == "https" && url.host_str() == Some(DINGTALK_HOST) && url.port().is_none();
    let own = url::Url::parse(client.base_url()).is_ok_and(|base| {
        base.scheme() == url.scheme()
            && base.host_str() == url.host_str()
            && base.port_or_known_default() == url.port_or_known_default()
    });
    (dingtalk || own) && url.username().is_empty() && url.password().is_none()
}

/// The one non-empty value of query param `name`, or `None`.
fn single_param(url: &url::Url, name: &str) -> Option<String> {
    let mut values = url.query_pairs().filter(|(k, _)| k == name).map(|(_, v)| v);
    match (values.next(), values.next()) {
        (Some(v), None) if !v.is_empty() => Some(v.into_owned()),
        _ => None,
    }
}

/// The robot token of a webhook URL or a bare token.
fn webhook_token(client: &Client, webhook: &str) -> Result<SecretString, RobotWebhookError> {
    let invalid = |reason| RobotWebhookError::InvalidWebhook { reason };
    let webhook = webhook.trim();
    if webhook.is_empty() {
        return Err(invalid("it is empty"));
    }
    if !webhook.contains("://") {
        // A bare token: what follows `access_token=` in the URL.
        let plain = webhook
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '?' | '&' | '=' | '/' | '#'));
        if !plain {
            return Err(invalid(
                "a bare token has no spaces, `/`, `?`, `&`, `=` or `#`",
            ));
        }
        return Ok(SecretString::from(webhook));
    }
    let url = url::Url::parse(webhook).map_err(|_| invalid("it is not a valid URL"))?;
    if !trusted_origin(client, &url) {
        return Err(invalid("the URL is not on https://oapi.dingtalk.com"));
    }
    if url.path() != SEND_PATH {
        return Err(invalid("the URL's path is not /robot/send"));
    }
    single_param(&url, "access_token")
        .map(SecretString::from)
        .ok_or_else(|| invalid("the URL has no single access_token"))
}

/// The `session` of a session webhook URL, if the URL is one.
fn session_value(client: &Client, url: &str) -> Result<SecretString, RobotWebhookError> {
    let not = |reason| RobotWebhookError::NotASessionWebhook { reason };
    let url = url::Url::parse(url.trim()).map_err(|_| not("it is not a valid URL"))?;
    if !trusted_origin(client, &url) {
        return Err(not("the URL is not on https://oapi.dingtalk.com"));
    }
    if url.path() != SESSION_PATH {
        return Err(not("the URL's path is not /robot/sendBySession"));
    }
    single_param(&url, "session")
        .map(SecretString::from)
        .ok_or_else(|| not("the URL has no single session"))
}

/// A rolling window of sends: at most `capacity` in any `length`. A send holds its slot from
/// its start until `length` after it completes, so however late the network delivers it,
/// DingTalk never sees more than `capacity` in a window.
struct Limiter {
    window: Mutex<Window>,
    freed: Notify,
}

struct Window {
    capacity: usize,
    length: Duration,
    in_flight: usize,
    completed: VecDeque<Instant>,
}

impl Limiter {
    fn new(capacity: u32, length: Duration) -> Self {
        Limiter {
            window: Mutex::new(Window {
                capacity: capacity.max(1) as usize,
                length,
                in_flight: 0,
                completed: VecDeque::new(),
            }),
            freed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A slot, when one is free; otherwise a wait (or a refusal) until one frees.
    async fn acquire(&self, when_full: WhenFull) -> Result<Slot<'_>, RobotWebhookError> {
        loop {
            let (wait, notified) = {
                let mut w = self.lock();
                let now = Instant::now();
                let length = w.length;
                while w
                    .completed
                    .front()
                    .is_some_and(|t| now.saturating_duration_since(*t) >= length)
                {
                    w.completed.pop_front();
                }
                if w.in_flight + w.completed.len() < w.capacity {
                    w.in_flight += 1;
                    return Ok(Slot { limiter: self });
                }
                // Full: the oldest completed send frees first; with every slot in flight, the
                // next completion starts the clock (at most a window after it).
                let wait = w
                    .completed
                    .front()
                    .map(|t| length.saturating_sub(now.saturating_duration_since(*t)));
                (wait, self.freed.notified())
            };
            match (when_full, wait) {
                (WhenFull::Refuse, wait) => {
                    return Err(RobotWebhookError::RateLimited {
                        retry_after: wait.unwrap_or(self.lock().length),
                    })
                }
                (WhenFull::Wait, Some(wait)) => tokio::time::sleep(wait).await,
                (WhenFull::Wait, None) => notified.await,
            }
        }
    }
}

/// A held slot; dropping it (the send answered, failed or was cancelled) starts its window.
struct Slot<'a> {
    limiter: &'a Limiter,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        {
            let mut w = self.limiter.lock();
            w.in_flight = w.in_flight.saturating_sub(1);
            w.completed.push_back(Instant::now());
        }
        self.limiter.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        match dingtalk::client().base_url("http://127.0.0.1:9").build() {
            Ok(c) => c,
            Err(e) => panic!("client: {e}"),
        }
    }

    #[test]
    fn tokens_come_from_urls_or_stand_alone() {
        let c = client();
        let t = |w: &str| webhook_token(&c, w).map(|s| s.expose_secret().to_string());
        assert_eq!(
            t("https://oapi.dingtalk.com/robot/send?access_token=abc123").ok(),
            Some("abc123".into())
        );
        assert_eq!(
            t(" https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=x ").ok(),
            Some("abc".into())
        );
        assert_eq!(t("abc123").ok(), Some("abc123".into()));
        assert_eq!(
            t("http://127.0.0.1:9/robot/send?access_token=local").ok(),
            Some("local".into())
        );
        for bad in [
            "",
            "a b",
            "abc?x",
            "https://evil.example/robot/send?access_token=abc",
            "http://oapi.dingtalk.com/robot/send?access_token=abc",
            "https://oapi.dingtalk.com/robot/sendBySession?access_token=abc",
            "https://oapi.dingtalk.com/robot/send",
            "https://oapi.dingtalk.com/robot/send?access_token=",
            "https://oapi.dingtalk.com/robot/send?access_token=a&access_token=b",
            "https://user:pw@oapi.dingtalk.com/robot/send?access_token=abc",
        ] {
            assert!(
                matches!(t(bad), Err(RobotWebhookError::InvalidWebhook { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn errors_never_show_the_url() {
        let c = client();
        let Err(e) = webhook_token(&c, "https://evil.example/robot/send?access_token=topsecret")
        else {
            panic!("refused")
        };
        assert!(!format!("{e} {e:?}").contains("topsecret"));
        let Err(e) = session_value(&c, "https://evil.example/x?session=topsecret") else {
            panic!("refused")
        };
        assert!(!format!("{e} {e:?}").contains("topsecret"));
    }
}
