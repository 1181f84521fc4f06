//! Verifying, decrypting and answering DingTalk HTTP callback pushes (服务端加密、解密).
//!
//! DingTalk POSTs `{"encrypt": "<base64>"}` to the registered URL with the query parameters `signature` (newer
//! senders: `msg_signature`), `timestamp` and `nonce`. The receiver checks the SHA-1 signature, decrypts the
//! AES-256-CBC payload, and must answer within about 1.5 s with an [`EncryptedReply`] of the text `success`.
//!
//! ```no_run
//! use dingtalk_runtime::callback::CallbackCrypto;
//!
//! # fn handle(signature: &str, timestamp: &str, nonce: &str, encrypt: &str) -> Result<String, Box<dyn std::error::Error>> {
//! let crypto = CallbackCrypto::new("my-token", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "dingcorpid")?;
//! let event_json = crypto.verify_and_decrypt(signature, timestamp, nonce, encrypt)?;
//! // ... handle `event_json` ...
//! let reply = crypto.success_reply(timestamp, nonce)?;
//! Ok(serde_json::to_string(&reply)?)
//! # }
//! ```
//!
//! The algorithm (see `crypto.rs`): key = `Base64Decode(EncodingAESKey + "=")`, IV = first 16 key bytes;
//! plaintext = 16 random bytes ‖ u32 big-endian message length ‖ message ‖ owner key, PKCS#7-padded to 32-byte
//! blocks; signature = lowercase SHA-1 hex of the sorted, concatenated `token`, `timestamp`, `nonce`, `encrypt`.

mod crypto;
mod push;
#[cfg(feature = "receiver")]
pub mod receiver;
mod replay;
#[cfg(test)]
mod tests;

#[cfg(feature = "stream")]
pub(crate) use push::mask_quoted;
pub use push::{parse_event, CallbackEvent, MalformedEvent, PushError, PushQuery};
pub use replay::ReplayGuard;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::{Deserialize, Serialize};

use self::crypto::{AesKey, PREFIX_LEN};

/// The replay window used unless [`CallbackCrypto::with_replay_window`] sets another one.
pub const DEFAULT_REPLAY_WINDOW: Duration = Duration::from_secs(5 * 60);

/// Errors from the callback cipher. None of them carries the token, the AES key or the plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The `EncodingAESKey` is not 43 characters long (`len` is its length in bytes).
    #[error("EncodingAESKey must be 43 characters, got {len}")]
    InvalidAesKeyLength {
        /// Length of the supplied key, in bytes.
        len: usize,
    },
    /// The `EncodingAESKey` has the right length but is not valid Base64.
    #[error("EncodingAESKey is not valid Base64")]
    InvalidAesKey,
    /// The timestamp is empty, not all ASCII digits, or does not fit in an `i64`.
    #[error("timestamp is not a number of milliseconds")]
    InvalidTimestamp,
    /// The nonce of a reply is empty.
    #[error("nonce is empty")]
    InvalidNonce,
    /// The timestamp lies outside the replay window around the current time.
    #[error("timestamp {timestamp_ms} ms is outside the replay window around {now_ms} ms")]
    StaleTimestamp {
        /// The request's timestamp, in ms since the Unix epoch.
        timestamp_ms: i64,
        /// The time it was checked against, in ms since the Unix epoch.
        now_ms: i64,
    },
    /// The received signature does not match the one computed from the request.
    #[error("signature mismatch")]
    SignatureMismatch,
    /// The message is longer than the 4-byte length field can describe.
    #[error("message too long to encrypt")]
    MessageTooLong,
    /// The cipher refused to encrypt the framed plaintext.
    #[error("encryption failed")]
    EncryptionFailed,
    /// The `encrypt` field is not valid standard Base64.
    #[error("encrypt field is not valid Base64")]
    InvalidBase64,
    /// The ciphertext is empty or not a whole number of 16-byte AES blocks.
    #[error("ciphertext length {len} is not a positive multiple of 16")]
    InvalidCiphertextLength {
        /// Length of the decoded ciphertext, in bytes.
        len: usize,
    },
    /// The decrypted padding is malformed (pad byte 0, above 32, longer than the data, or inconsistent bytes).
    #[error("invalid padding in decrypted data")]
    InvalidPadding,
    /// The plaintext is shorter than its header, or its length field points past the end of the data.
    #[error("message length {declared} exceeds the {available} bytes available")]
    LengthOutOfBounds {
        /// The length the plaintext claims for its message (0 if the header itself is truncated).
        declared: u32,
        /// The bytes actually present after the 20-byte header.
        available: usize,
    },
    /// The owner key (corpId / suiteKey / appKey) at the end of the plaintext is not the expected one.
    #[error("owner key in the message does not match")]
    OwnerKeyMismatch,
    /// The decrypted message is not valid UTF-8.
    #[error("decrypted message is not valid UTF-8")]
    InvalidUtf8,
}

impl CryptoError {
    /// The numeric code DingTalk's official crypto libraries use for this error (900002…900010), if they have one.
    ///
    /// A signature mismatch maps to 900005 as documented, although the Java libraries throw 900006 for it.
    /// [`CryptoError::StaleTimestamp`] and [`CryptoError::InvalidUtf8`] have no official counterpart.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::InvalidTimestamp => Some(900_002),
            Self::InvalidNonce => Some(900_003),
            Self::InvalidAesKeyLength { .. } | Self::InvalidAesKey => Some(900_004),
            Self::SignatureMismatch => Some(900_005),
            Self::MessageTooLong | Self::EncryptionFailed => Some(900_007),
            Self::InvalidBase64 | Self::InvalidCiphertextLength { .. } | Self::InvalidPadding => {
                Some(900_008)
            }
            Self::LengthOutOfBounds { .. } => Some(900_009),
            Self::OwnerKeyMismatch => Some(900_010),
            Self::StaleTimestamp { .. } | Self::InvalidUtf8 => None,
        }
    }

    /// A stable snake_case name for the error, for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidAesKeyLength { .. } => "invalid_aes_key_length",
            Self::InvalidAesKey => "invalid_aes_key",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::InvalidNonce => "invalid_nonce",
            Self::StaleTimestamp { .. } => "stale_timestamp",
            Self::SignatureMismatch => "signature_mismatch",
            Self::MessageTooLong => "message_too_long",
            Self::EncryptionFailed => "encryption_failed",
            Self::InvalidBase64 => "invalid_base64",
            Self::InvalidCiphertextLength { .. } => "invalid_ciphertext_length",
            Self::InvalidPadding => "invalid_padding",
            Self::LengthOutOfBounds { .. } => "length_out_of_bounds",
            Self::OwnerKeyMismatch => "owner_key_mismatch",
            Self::InvalidUtf8 => "invalid_utf8",
        }
    }
}

/// The JSON body that answers a callback push: `{"msg_signature", "timeStamp", "nonce", "encrypt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedReply {
    /// SHA-1 signature over the reply's own timestamp, nonce and `encrypt`.
    pub msg_signature: String,
    /// The reply's timestamp, as chosen by the replier (serialized as `timeStamp`).
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// The reply's nonce, as chosen by the replier.
    pub nonce: String,
    /// Base64 ciphertext of the reply text.
    pub encrypt: String,
}

/// The callback cipher for one registration: token, AES key and owner key (corpId, suiteKey or appKey).
///
/// `Debug` prints the owner key only; the token and the AES key show as `<redacted>`.
#[derive(Clone)]
pub struct CallbackCrypto {
    token: String,
    key: AesKey,
    owner_key: String,
    replay_window: Duration,
}

impl fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("token", &"<redacted>")
            .field("aes_key", &"<redacted>")
            .field("owner_key", &self.owner_key)
            .field("replay_window", &self.replay_window)
            .finish()
    }
}

impl CallbackCrypto {
    /// Creates the cipher from the callback `token`, the 43-character `EncodingAESKey` and the owner key
    /// (corpId for corp apps, suiteKey for ISV apps, appKey for the event-subscription page).
    pub fn new(token: &str, encoding_aes_key: &str, owner_key: &str) -> Result<Self, CryptoError> {
        Ok(Self {
            token: token.to_owned(),
            key: crypto::decode_aes_key(encoding_aes_key)?,
            owner_key: owner_key.to_owned(),
            replay_window: DEFAULT_REPLAY_WINDOW,
        })
    }

    /// Sets how far a push's timestamp may lie from the current time (default [`DEFAULT_REPLAY_WINDOW`]).
    pub fn with_replay_window(mut self, window: Duration) -> Self {
        self.replay_window = window;
        self
    }

    /// The owner key the decrypted messages must end with.
    pub fn owner_key(&self) -> &str {
        &self.owner_key
    }

    /// The current replay window.
    pub fn replay_window(&self) -> Duration {
        self.replay_window
    }

    /// Lowercase SHA-1 hex over `token`, `timestamp`, `nonce` and `encrypt`, sorted and concatenated.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        crypto::signature(&self.token, timestamp, nonce, encrypt)
    }

    /// Verifies a push against the system clock and returns the decrypted message (usually JSON).
    ///
    /// Checks, in order: the signature (constant-time), the timestamp (ms since the epoch, within the replay
    /// window), then decrypts and checks the owner key.
    pub fn verify_and_decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<String, CryptoError> {
        self.verify_and_decrypt_at(msg_signature, timestamp, nonce, encrypt, now_ms())
    }

    /// Like [`CallbackCrypto::verify_and_decrypt`], with an explicit current time in ms since the epoch.
    pub fn verify_and_decrypt_at(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
        now_ms: i64,
    ) -> Result<String, CryptoError> {
        let expected = self.signature(timestamp, nonce, encrypt);
        if !crypto::signature_matches(&expected, msg_signature) {
            return Err(CryptoError::SignatureMismatch);
        }
        let timestamp_ms = crypto::parse_timestamp(timestamp)?;
        let window_ms = u64::try_from(self.replay_window.as_millis()).unwrap_or(u64::MAX);
        crypto::check_window(timestamp_ms, now_ms, window_ms)?;
        crypto::decrypt(&self.key, &self.owner_key, encrypt)
    }

    /// Encrypts `text` with a fresh random 16-character alphanumeric prefix; returns the Base64 ciphertext.
    pub fn encrypt(&self, text: &str) -> Result<String, CryptoError> {
        self.encrypt_with_prefix(text, random_prefix())
    }

    /// Encrypts `text` with a caller-chosen prefix; deterministic, for test vectors.
    pub fn encrypt_with_prefix(&self, text: &str, prefix: [u8; 16]) -> Result<String, CryptoError> {
        crypto::encrypt(&self.key, &self.owner_key, text, &prefix)
    }

    /// Builds a signed, encrypted reply carrying `text` with the given timestamp and nonce.
    pub fn encrypt_reply(
        &self,
        text: &str,
        timestamp: &str,
        nonce: &str,
    ) -> Result<EncryptedReply, CryptoError> {
        self.reply_with_prefix(text, timestamp, nonce, random_prefix())
    }

    /// Builds the reply DingTalk expects after handling a push: the encrypted text `success`.
    pub fn success_reply(
        &self,
        timestamp: &str,
        nonce: &str,
    ) -> Result<EncryptedReply, CryptoError> {
        self.encrypt_reply("success", timestamp, nonce)
    }

    fn reply_with_prefix(
        &self,
        text: &str,
        timestamp: &str,
        nonce: &str,
        prefix: [u8; PREFIX_LEN],
    ) -> Result<EncryptedReply, CryptoError> {
        if timestamp.is_empty() {
            return Err(CryptoError::InvalidTimestamp);
        }
        if nonce.is_empty() {
            return Err(CryptoError::InvalidNonce);
        }
        let encrypt = self.encrypt_with_prefix(text, prefix)?;
        Ok(EncryptedReply {
            msg_signature: self.signature(timestamp, nonce, &encrypt),
            time_stamp: timestamp.to_owned(),
            nonce: nonce.to_owned(),
            encrypt,
        })
    }
}

fn random_prefix() -> [u8; PREFIX_LEN] {
    let mut rng = rand::thread_rng();
    let mut prefix = [0u8; PREFIX_LEN];
    for b in &mut prefix {
        *b = rng.sample(Alphanumeric);
    }
    prefix
}

/// Milliseconds since the Unix epoch (0 if the clock is before the epoch).
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
