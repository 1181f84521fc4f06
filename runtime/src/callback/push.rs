//! A push as it arrives over HTTP, opened into a typed event.

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{CallbackCrypto, CryptoError};

/// A typed callback event: generated from the spec's event union (`union: {event: true}`), so
/// that the runtime decodes and answers pushes without knowing any event type.
pub trait CallbackEvent: DeserializeOwned + Send + 'static {
    /// The event type on the wire (`EventType`).
    fn tag(&self) -> &str;

    /// The text to encrypt into the answer: `success`, or what the event asks to have echoed
    /// (the `Random` of an ISV suite's URL check).
    fn reply_text(&self) -> &str {
        "success"
    }
}

/// The query string of a push. DingTalk has used two spellings for the signature and the
/// timestamp; both are accepted.
#[derive(Clone, Debug, Deserialize)]
pub struct PushQuery {
    /// `signature` (older senders) or `msg_signature`.
    #[serde(alias = "msg_signature")]
    pub signature: String,
    /// `timestamp` or `timeStamp`, milliseconds since the epoch.
    #[serde(alias = "timeStamp")]
    pub timestamp: String,
    /// Random string chosen by DingTalk.
    pub nonce: String,
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
        let text = event.reply_text();
        let timestamp = super::now_ms().to_string();
        let nonce: String = super::random_prefix()
            .iter()
            .map(|b| char::from(*b))
            .take(8)
            .collect();
        self.encrypt_reply(text, &timestamp, &nonce)
    }
}
