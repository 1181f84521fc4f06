//! The frames of the Stream protocol: what DingTalk sends over the socket and the ACK that
//! answers each one.
//!
//! A frame is a WebSocket text message `{"specVersion", "type", "headers", "data"}` whose `data`
//! is itself JSON *text*. Headers DingTalk adds later are kept in [`FrameHeaders::other`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What kind of frame arrived (`type`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// Connection control: `ping`, `disconnect`, and on older servers `CONNECTED`,
    /// `REGISTERED`, `KEEPALIVE`.
    System,
    /// An event push (事件推送).
    Event,
    /// A callback that expects an answer: a robot message, a card interaction.
    Callback,
    /// A type this client does not know, kept as sent.
    Other(String),
}

impl FrameKind {
    fn parse(text: &str) -> FrameKind {
        match text {
            "SYSTEM" => FrameKind::System,
            "EVENT" => FrameKind::Event,
            "CALLBACK" => FrameKind::Callback,
            other => FrameKind::Other(other.to_owned()),
        }
    }

    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            FrameKind::System => "SYSTEM",
            FrameKind::Event => "EVENT",
            FrameKind::Callback => "CALLBACK",
            FrameKind::Other(s) => s,
        }
    }
}

/// The headers of a frame. The ones the protocol names are fields; any other is kept in
/// [`other`](Self::other) as sent.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct FrameHeaders {
    /// `topic`: `ping` / `disconnect` (SYSTEM), `*` (EVENT), or the callback's path, e.g.
    /// `/v1.0/im/bot/messages/get`.
    pub topic: String,
    /// `messageId`: echoed in the ACK; redeliveries of one message carry the same id.
    pub message_id: String,
    /// `contentType`, normally `application/json`.
    pub content_type: Option<String>,
    /// `time`: when DingTalk sent the frame, ms since the epoch.
    pub time: Option<i64>,
    /// `eventType` (EVENT): the event's type, e.g. `chat_update_title`.
    pub event_type: Option<String>,
    /// `eventId` (EVENT): the event's own id (one event may be delivered as several messages).
    pub event_id: Option<String>,
    /// `eventCorpId` (EVENT): the organisation the event is about.
    pub event_corp_id: Option<String>,
    /// `eventBornTime` (EVENT): when the event happened, ms since the epoch.
    pub event_born_time: Option<i64>,
    /// `eventUnifiedAppId` (EVENT): the app's unified id.
    pub event_unified_app_id: Option<String>,
    /// `appId` (CALLBACK).
    pub app_id: Option<String>,
    /// `connectionId` (CALLBACK): the connection DingTalk delivered it on.
    pub connection_id: Option<String>,
    /// Every other header, as sent.
    pub other: BTreeMap<String, Value>,
}

impl FrameHeaders {
    fn from_map(map: serde_json::Map<String, Value>) -> FrameHeaders {
        let mut h = FrameHeaders::default();
        for (name, value) in map {
            match name.as_str() {
                "topic" => h.topic = text(&value),
                "messageId" => h.message_id = text(&value),
                "contentType" => h.content_type = Some(text(&value)),
                "time" => h.time = millis(&value),
                "eventType" => h.event_type = Some(text(&value)),
                "eventId" => h.event_id = Some(text(&value)),
                "eventCorpId" => h.event_corp_id = Some(text(&value)),
                "eventBornTime" => h.event_born_time = millis(&value),
                "eventUnifiedAppId" => h.event_unified_app_id = Some(text(&value)),
                "appId" => h.app_id = Some(text(&value)),
                "connectionId" => h.connection_id = Some(text(&value)),
                _ => {
                    h.other.insert(name, value);
                }
            }
        }
        h
    }
}

/// A header value as text: strings as they are, anything else in its JSON form.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A millisecond timestamp sent as a string of digits or as a number.
fn millis(value: &Value) -> Option<i64> {
    match value {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// One frame as it arrived.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Frame {
    /// `specVersion`, `1.0` today.
    pub spec_version: Option<String>,
    /// `type`.
    pub kind: FrameKind,
    /// `headers`.
    pub headers: FrameHeaders,
    /// `data`: the JSON text the frame carries, as sent.
    pub data: String,
}

/// Why a text message from the server is not a frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a Stream frame: {0}")]
pub struct FrameError(String);

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "specVersion", default)]
    spec_version: Option<String>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    headers: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    data: Option<Value>,
}

impl Frame {
    /// Parses a text message. Only text that is not a JSON object, or an object without a
    /// `type`, fails; a `data` that is not a string is kept in its JSON form.
    pub fn parse(text: &str) -> Result<Frame, FrameError> {
        let raw: RawFrame = serde_json::from_str(text).map_err(|e| FrameError(e.to_string()))?;
        let kind = raw.kind.ok_or_else(|| FrameError("no `type`".to_owned()))?;
        let data = match raw.data {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s,
            Some(other) => other.to_string(),
        };
        Ok(Frame {
            spec_version: raw.spec_version,
            kind: FrameKind::parse(&kind),
            headers: FrameHeaders::from_map(raw.headers.unwrap_or_default()),
            data,
        })
    }

    /// `data` parsed as JSON (an empty `data` is `null`).
    pub fn data_json(&self) -> Result<Value, serde_json::Error> {
        if self.data.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&self.data)
    }
}

/// The status an event's ACK reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventStatus {
    /// Handled: DingTalk will not send it again (it still may: handle idempotently).
    Success,
    /// Not handled now: DingTalk redelivers it later.
    Later,
}

impl EventStatus {
    fn as_str(self) -> &'static str {
        match self {
            EventStatus::Success => "SUCCESS",
            EventStatus::Later => "LATER",
        }
    }
}

/// The answer to one frame, sent on the connection the frame came on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    /// 200 when handled; 404 when nothing handles the topic; 500 when handling failed.
    pub code: u16,
    /// `messageId` (echoed) and `contentType`.
    pub headers: AckHeaders,
    /// A short human-readable word.
    pub message: String,
    /// JSON text: `{"status", "message"}` for events, `{"response"}` for callbacks, the ping's
    /// own data for a ping.
    pub data: String,
}

/// The headers of an [`Ack`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AckHeaders {
    /// The frame's `messageId`.
    #[serde(rename = "messageId")]
    pub message_id: String,
    /// Always `application/json`.
    #[serde(rename = "contentType")]
    pub content_type: String,
}

impl Ack {
    fn new(code: u16, message_id: &str, message: &str, data: String) -> Ack {
        Ack {
            code,
            headers: AckHeaders {
                message_id: message_id.to_owned(),
                content_type: "application/json".to_owned(),
            },
            message: message.to_owned(),
            data,
        }
    }

    /// An event's ACK.
    pub fn event(message_id: &str, status: EventStatus, message: &str) -> Ack {
        let data = serde_json::json!({"status": status.as_str(), "message": message}).to_string();
        Ack::new(200, message_id, "OK", data)
    }

    /// A callback's ACK carrying `response` (a card callback's reply; `null` when there is
    /// none).
    pub fn callback(message_id: &str, response: &Value) -> Ack {
        let data = serde_json::json!({ "response": response }).to_string();
        Ack::new(200, message_id, "OK", data)
    }

    /// A callback that could not be handled: code 500 (or 404 when nothing handles its topic).
    pub fn callback_failed(message_id: &str, code: u16, message: &str) -> Ack {
        let data = serde_json::json!({ "response": Value::Null }).to_string();
        Ack::new(code, message_id, message, data)
    }

    /// A SYSTEM frame's ACK: its own data echoed (a ping's `opaque`).
    pub fn echo(frame: &Frame) -> Ack {
        Ack::new(200, &frame.headers.message_id, "OK", frame.data.clone())
    }

    /// The ACK as the text message to send.
    pub fn to_text(&self) -> String {
        // An Ack holds only strings and a number: serializing it cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Whether this ACK settles the message for good (an event's `SUCCESS`, a callback's 200),
    /// so that a redelivery may be answered with it.
    pub fn is_final(&self) -> bool {
        if self.code != 200 {
            return false;
        }
        !matches!(
            serde_json::from_str::<Value>(&self.data),
            Ok(Value::Object(ref o)) if o.get("status").and_then(Value::as_str) == Some("LATER")
        )
    }
}
