//! The DingTalk callback cipher: key derivation, framing, padding, AES-256-CBC and the SHA-1 signature.
//!
//! Every function here is pure (no clock, no randomness) so that each step can be tested on its own;
//! [`super::CallbackCrypto`] supplies the random prefix and the current time.

use aes::Aes256;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::Engine as _;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::CryptoError;

/// Length of the configured `EncodingAESKey`, in characters.
pub(crate) const ENCODING_AES_KEY_LEN: usize = 43;
/// Length of the AES-256 key, in bytes.
pub(crate) const AES_KEY_LEN: usize = 32;
/// AES block size; the ciphertext must be a whole number of these.
pub(crate) const AES_BLOCK_LEN: usize = 16;
/// Block size of DingTalk's PKCS#7-style padding (pad values 1..=32).
pub(crate) const PAD_BLOCK_LEN: usize = 32;
/// Length of the random prefix at the start of the plaintext.
pub(crate) const PREFIX_LEN: usize = 16;
/// Random prefix plus the 4-byte big-endian message length.
const HEADER_LEN: usize = PREFIX_LEN + 4;

/// The AES-256 key bytes.
pub(crate) type AesKey = [u8; AES_KEY_LEN];

/// Base64 decoder for the `EncodingAESKey`: standard alphabet, but tolerant of non-zero trailing bits, which
/// DingTalk's own keys have (the official sample key ends in `j`).
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Derives the AES key: `Base64Decode(encoding_aes_key + "=")`, which must give exactly 32 bytes.
///
/// Errors never echo the key or any of its characters.
pub(crate) fn decode_aes_key(encoding_aes_key: &str) -> Result<AesKey, CryptoError> {
    if encoding_aes_key.len() != ENCODING_AES_KEY_LEN {
        return Err(CryptoError::InvalidAesKeyLength {
            len: encoding_aes_key.len(),
        });
    }
    let mut padded = String::with_capacity(ENCODING_AES_KEY_LEN + 1);
    padded.push_str(encoding_aes_key);
    padded.push('=');
    let bytes = KEY_ENGINE
        .decode(padded.as_bytes())
        .map_err(|_| CryptoError::InvalidAesKey)?;
    AesKey::try_from(bytes.as_slice()).map_err(|_| CryptoError::InvalidAesKeyLength {
        len: encoding_aes_key.len(),
    })
}

/// The CBC initialisation vector: the first 16 bytes of the key.
pub(crate) fn iv(key: &AesKey) -> [u8; AES_BLOCK_LEN] {
    let mut iv = [0u8; AES_BLOCK_LEN];
    iv.copy_from_slice(&key[..AES_BLOCK_LEN]);
    iv
}

/// `sha1_hex(concat(sort([token, timestamp, nonce, encrypt])))`, lowercase hex, plain byte-wise sort.
pub(crate) fn signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    let mut parts = [token, timestamp, nonce, encrypt];
    parts.sort_unstable();
    let mut hasher = Sha1::new();
    for part in parts {
        hasher.update(part.as_bytes());
    }
    to_hex(&hasher.finalize())
}

/// Compares a received signature with the expected one in constant time (for equal lengths).
pub(crate) fn signature_matches(expected: &str, received: &str) -> bool {
    expected.as_bytes().ct_eq(received.as_bytes()).into()
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Builds the padded plaintext: `prefix ‖ u32_be(len(msg)) ‖ msg ‖ owner_key ‖ padding`, padded to a multiple of 32 bytes.
pub(crate) fn frame(
    prefix: &[u8; PREFIX_LEN],
    msg: &[u8],
    owner_key: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let msg_len = u32::try_from(msg.len()).map_err(|_| CryptoError::MessageTooLong)?;
    let unpadded = HEADER_LEN
        .checked_add(msg.len())
        .and_then(|n| n.checked_add(owner_key.len()))
        .ok_or(CryptoError::MessageTooLong)?;
    let pad = PAD_BLOCK_LEN - unpadded % PAD_BLOCK_LEN; // 1..=32
    let total = unpadded
        .checked_add(pad)
        .ok_or(CryptoError::MessageTooLong)?;
    let mut buf = Vec::with_capacity(total);
    buf.extend_from_slice(prefix);
    buf.extend_from_slice(&msg_len.to_be_bytes());
    buf.extend_from_slice(msg);
    buf.extend_from_slice(owner_key);
    // `pad` is in 1..=32, so it fits in a byte.
    buf.resize(total, pad as u8);
    Ok(buf)
}

/// Strips the PKCS#7-style padding; accepts pad values 1..=32 (so 16-byte padders are accepted too).
pub(crate) fn unpad(buf: &[u8]) -> Result<&[u8], CryptoError> {
    let Some(&last) = buf.last() else {
        return Err(CryptoError::InvalidPadding);
    };
    let pad = usize::from(last);
    if pad == 0 || pad > PAD_BLOCK_LEN || pad > buf.len() {
        return Err(CryptoError::InvalidPadding);
    }
    let (body, padding) = buf.split_at(buf.len() - pad);
    if padding.iter().any(|&b| b != last) {
        return Err(CryptoError::InvalidPadding);
    }
    Ok(body)
}

/// Splits an unpadded plaintext into `(msg, owner_key)`. The length field is checked against the bytes actually
/// present before it is used, so a forged length never drives an allocation.
pub(crate) fn unframe(plain: &[u8]) -> Result<(&[u8], &[u8]), CryptoError> {
    let available = plain.len().saturating_sub(HEADER_LEN);
    let Some(len_bytes) = plain.get(PREFIX_LEN..HEADER_LEN) else {
        return Err(CryptoError::LengthOutOfBounds {
            declared: 0,
            available,
        });
    };
    let mut be = [0u8; 4];
    be.copy_from_slice(len_bytes);
    let declared = u32::from_be_bytes(be);
    let rest = &plain[HEADER_LEN..];
    match usize::try_from(declared) {
        Ok(n) if n <= rest.len() => Ok(rest.split_at(n)),
        _ => Err(CryptoError::LengthOutOfBounds {
            declared,
            available,
        }),
    }
}

/// AES-256-CBC encryption without built-in padding; `plain` must already be padded by [`frame`].
pub(crate) fn aes_encrypt(key: &AesKey, mut plain: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
    let len = plain.len();
    let iv = iv(key);
    cbc::Encryptor::<Aes256>::new(key.into(), &iv.into())
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .map_err(|_| CryptoError::EncryptionFailed)?;
    Ok(plain)
}

/// AES-256-CBC decryption without built-in padding; the input must be a non-empty whole number of 16-byte blocks.
pub(crate) fn aes_decrypt(key: &AesKey, mut cipher: Vec<u8>) -> Result<Vec<u8>, CryptoError> {
    let len = cipher.len();
    if len == 0 || len % AES_BLOCK_LEN != 0 {
        return Err(CryptoError::InvalidCiphertextLength { len });
    }
    let iv = iv(key);
    cbc::Decryptor::<Aes256>::new(key.into(), &iv.into())
        .decrypt_padded_mut::<NoPadding>(&mut cipher)
        .map_err(|_| CryptoError::InvalidCiphertextLength { len })?;
    Ok(cipher)
}

/// Encrypts `msg` for `owner_key` with the given random prefix and returns the Base64 `encrypt` field.
pub(crate) fn encrypt(
    key: &AesKey,
    owner_key: &str,
    msg: &str,
    prefix: &[u8; PREFIX_LEN],
) -> Result<String, CryptoError> {
    let plain = frame(prefix, msg.as_bytes(), owner_key.as_bytes())?;
    let cipher = aes_encrypt(key, plain)?;
    Ok(STANDARD.encode(cipher))
}

/// Decrypts a Base64 `encrypt` field and checks the trailing owner key; returns the message.
pub(crate) fn decrypt(key: &AesKey, owner_key: &str, encrypt: &str) -> Result<String, CryptoError> {
    let cipher = STANDARD
        .decode(encrypt.as_bytes())
        .map_err(|_| CryptoError::InvalidBase64)?;
    let plain = aes_decrypt(key, cipher)?;
    let body = unpad(&plain)?;
    let (msg, owner) = unframe(body)?;
    if owner != owner_key.as_bytes() {
        return Err(CryptoError::OwnerKeyMismatch);
    }
    String::from_utf8(msg.to_vec()).map_err(|_| CryptoError::InvalidUtf8)
}

/// Parses a callback timestamp: a non-empty string of ASCII digits, in milliseconds since the Unix epoch.
pub(crate) fn parse_timestamp(timestamp: &str) -> Result<i64, CryptoError> {
    if timestamp.is_empty() || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CryptoError::InvalidTimestamp);
    }
    timestamp
        .parse::<i64>()
        .map_err(|_| CryptoError::InvalidTimestamp)
}

/// Checks `|now_ms - timestamp_ms| <= window_ms`.
pub(crate) fn check_window(
    timestamp_ms: i64,
    now_ms: i64,
    window_ms: u64,
) -> Result<(), CryptoError> {
    let skew_ms = now_ms.abs_diff(timestamp_ms);
    if skew_ms > window_ms {
        return Err(CryptoError::StaleTimestamp {
            timestamp_ms,
            now_ms,
        });
    }
    Ok(())
}
