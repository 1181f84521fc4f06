//! A push as it arrives over HTTP, opened into a typed event.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{CallbackCrypto, CryptoError};

/// A typed callback event: generated from the spec's event union (`union: {event: true}`), so
/// that the runtime decodes and answers pushes without knowing any event type.
pub trait CallbackEvent: DeserializeOwned + Send + 'static {
    /// The key that names the event type in the pushed object. Stream mode sends the type in
    /// a frame header instead, and the Stream client adds it under this key.
    const TAG_KEY: &'static str = "EventType";

    /// The event type on the wire (`EventType`).
    fn tag(&self) -> &str;

    /// The text to encrypt into the answer: `success`, or what the event asks to have echoed
    /// (the `Random` of an ISV suite's URL check).
    fn reply_text(&self) -> &str {
        "success"
    }
}

/// A push of a known event type whose fields did not decode (a field of an unexpected shape),
/// as a generated event union's `Malformed` variant keeps it: acknowledged, not lost.
///
/// `Debug` shows the tag, the field names and the error with the values it quotes masked: a
/// push can carry secrets (a suite ticket, an auth code).
#[derive(Clone, PartialEq)]
pub struct MalformedEvent {
    /// The event type on the wire.
    pub tag: String,
    /// The object as received.
    pub raw: serde_json::Value,
    /// Why its fields did not decode (it may quote a value of the push).
    pub error: String,
}

impl std::fmt::Debug for MalformedEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<&str> = self
            .raw
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        f.debug_struct("MalformedEvent")
            .field("tag", &self.tag)
            .field("fields", &fields)
            .field("error", &mask_quoted(&self.error))
            .finish()
    }
}

/// `text` with what it quotes (`"…"` and `` `…` ``, as serde's messages quote values) masked.
pub(crate) fn mask_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || c == '`' {
                    open = Some(c);
                }
            }
        }
    }
    if open.is_some() {
        out.push('…');
    }
    out
}

/// The query string of a push. DingTalk has used two spellings for the signature and the
/// timestamp; either is accepted, and a query with both takes `msg_signature` and `timestamp`.
#[derive(Clone, Debug)]
pub struct PushQuery {
    /// `signature` (older senders) or `msg_signature`.
    pub signature: String,
    /// `timestamp` or `timeStamp`, milliseconds since the epoch.
    pub timestamp: String,
    /// Random string chosen by DingTalk.
    pub nonce: String,
}

impl<'de> Deserialize<'de> for PushQuery {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut params = std::collections::HashMap::<String, String>::deserialize(d)?;
        let mut take = |names: &[&'static str]| {
            names
                .iter()
                .find_map(|n| params.remove(*n))
                .ok_or_else(|| D::Error::custom(format_args!("missing query param `{}`", names[0])))
        };
        Ok(PushQuery {
            signature: take(&["msg_signature", "signature"])?,
            timestamp: take(&["timestamp", "timeStamp"])?,
            nonce: take(&["nonce"])?,
        })
    }
}

#[derive(Deserialize)]
struct PushBody {
    encrypt: String,
}

/// Why a push could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The body is not `{"encrypt": "..."}`.
    #[error("the push body is not {{\"encrypt\": \"...\"}}: {0}")]
    Body(String),
    /// Signature, timestamp, or decryption failed: the push is not from DingTalk, or is stale.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The decrypted message is not an event object.
    #[error("the decrypted message is not an event: {0}")]
    Event(String),
}

/// Parses a decrypted message into an event. A generated event union keeps event types the spec
/// does not know as `Unknown` with the raw JSON, so only a message that is not a JSON object
/// fails.
pub fn parse_event<E: CallbackEvent>(message: &str) -> Result<E, PushError> {
    serde_json::from_str(message).map_err(|e| PushError::Event(e.to_string()))
}

impl CallbackCrypto {
    /// Verifies, decrypts and parses one push: its query params and raw body.
    pub fn open<E: CallbackEvent>(&self, query: &PushQuery, body: &[u8]) -> Result<E, PushError> {
        let body: PushBody =
            serde_json::from_slice(body).map_err(|e| PushError::Body(e.to_string()))?;
        let message = self.verify_and_decrypt(
            &query.signature,
            &query.timestamp,
            &query.nonce,
            &body.encrypt,
        )?;
        parse_event(&message)
    }

    /// The text DingTalk expects back for `event`, encrypted (see
    /// [`CallbackEvent::reply_text`]).
    pub fn reply_for<E: CallbackEvent>(
        &self,
        event: &E,
    ) -> Result<super::EncryptedReply, CryptoError> {
        self.reply_now(event.reply_text())
    }

    /// `text` encrypted into a reply stamped now, with a fresh nonce.
    pub(crate) fn reply_now(&self, text: &str) -> Result<super::EncryptedReply, CryptoError> {
        let timestamp = super::now_ms().to_string();
        let nonce: String = super::random_prefix()
            .iter()
            .map(|b| char::from(*b))
            .take(8)
            .collect();
        self.encrypt_reply(text, &timestamp, &nonce)
    }
}
