//! A push as it arrives over HTTP, opened into a typed [`Event`].

use serde::Deserialize;

use super::{CallbackCrypto, CryptoError};
use crate::api::callback::Event;

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

/// Parses a decrypted message into an [`Event`]. Event types the spec does not know become
/// `Event::Unknown` with the raw JSON, so only a message that is not a JSON object fails.
pub fn parse_event(message: &str) -> Result<Event, PushError> {
    serde_json::from_str(message).map_err(|e| PushError::Event(e.to_string()))
}

impl CallbackCrypto {
    /// Verifies, decrypts and parses one push: its query params and raw body.
    pub fn open(&self, query: &PushQuery, body: &[u8]) -> Result<Event, PushError> {
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

    /// The text DingTalk expects back for `event`, encrypted: the event's `Random` for the ISV
    /// suite-URL checks, `success` for everything else.
    pub fn reply_for(&self, event: &Event) -> Result<super::EncryptedReply, CryptoError> {
        let text = match event {
            Event::CheckCreateSuiteUrl(e) | Event::CheckUpdateSuiteUrl(e) => {
                e.random.clone().unwrap_or_default()
            }
            _ => "success".to_string(),
        };
        let timestamp = super::now_ms().to_string();
        let nonce: String = super::random_prefix()
            .iter()
            .map(|b| char::from(*b))
            .take(8)
            .collect();
        self.encrypt_reply(&text, &timestamp, &nonce)
    }
}
