//! Test vectors from callback.md §10 and one test per rejected input.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::crypto;
use super::{CallbackCrypto, CryptoError, EncryptedReply, DEFAULT_REPLAY_WINDOW};

const TOKEN: &str = "123456";
const AES_KEY: &str = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij";
const AES_KEY_HEX: &str = "e20e63eb8aa5ca5df3bdeb6ac73e638a871daf9f3a7e7db3be3a5af3396cde28";
const IV_HEX: &str = "e20e63eb8aa5ca5df3bdeb6ac73e638a";
const OWNER: &str = "suite4xxxxxxxxxxxxxxx";
const TS: &str = "1445827045067";
const TS_MS: i64 = 1_445_827_045_067;
const NONCE: &str = "nEXhMP4r";

const V1_SIGNATURE: &str = "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0";
const V1_ENCRYPT: &str = "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==";
const V1_MSG: &str = r#"{"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"}"#;
const V1_PREFIX: &[u8; 16] = b"hU3bEfGZZewzhG5a";

const FIXED_PREFIX: [u8; 16] = *b"1234567890123456";
const V1B_ENCRYPT: &str = "5DJFWzjRNOQk+5GSZxW+VrFMDWCIidPjEjg3//gm5x556BedVi62rDj1F9uXU97a4jw1R4FACUv9RCpoDobNqxhxRB2YtW901k4KHbP1/wpFJ3xdLG0n0A8U1VhENg80zKJd+YROR0YMGum4WYuoXJ6J98vt0ihYeIFoapNddLML5MyNAGM9saSpkouDMSvD+iU14i7V8ix1ia1Tb9ogog==";
const V1B_SIGNATURE: &str = "bcf6dcefa4ce2dbaf7b0666c7264d46fd9aad4bd";
const V1C_ENCRYPT: &str =
    "5DJFWzjRNOQk+5GSZxW+VpU/+Yf0KeplvXZ8LNdyQj5iN6tX2KSwwhy5oymzMpsFAiG4RS3L0/vY7TX4ZwLTFA==";
const V1C_SIGNATURE: &str = "73813ea128535f7945c17f81069c6b8045361375";

fn sample() -> CallbackCrypto {
    CallbackCrypto::new(TOKEN, AES_KEY, OWNER).expect("sample key is valid")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_ms() -> i64 {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after epoch")
        .as_millis();
    i64::try_from(ms).expect("fits")
}

/// Encrypts an already padded plaintext buffer as-is, signs it with TS / NONCE and verifies it at TS.
fn verify_raw(c: &CallbackCrypto, padded_plain: Vec<u8>) -> Result<String, CryptoError> {
    let cipher = crypto::aes_encrypt(&c.key, padded_plain).expect("aligned buffer");
    verify_encrypt_field(c, &STANDARD.encode(cipher))
}

/// Signs an arbitrary `encrypt` field with TS / NONCE and verifies it at TS.
fn verify_encrypt_field(c: &CallbackCrypto, encrypt: &str) -> Result<String, CryptoError> {
    let sig = c.signature(TS, NONCE, encrypt);
    c.verify_and_decrypt_at(&sig, TS, NONCE, encrypt, TS_MS)
}

/// prefix ‖ u32_be(declared) ‖ body, then `pad` bytes of `pad_byte`.
fn raw_plain(declared: u32, body: &[u8], pad: usize, pad_byte: u8) -> Vec<u8> {
    let mut buf = Vec::new();
    buf.extend_from_slice(&FIXED_PREFIX);
    buf.extend_from_slice(&declared.to_be_bytes());
    buf.extend_from_slice(body);
    buf.resize(buf.len() + pad, pad_byte);
    buf
}

// ---- §10 vectors -------------------------------------------------------------------------------------------

#[test]
fn vector1_key_and_iv_derivation() {
    let key = crypto::decode_aes_key(AES_KEY).expect("valid");
    assert_eq!(hex(&key), AES_KEY_HEX);
    assert_eq!(hex(&crypto::iv(&key)), IV_HEX);
}

#[test]
fn vector1_signature() {
    assert_eq!(sample().signature(TS, NONCE, V1_ENCRYPT), V1_SIGNATURE);
    // The sort order the vector documents: token, timestamp, encrypt, nonce.
    let mut parts = [TOKEN, TS, NONCE, V1_ENCRYPT];
    parts.sort_unstable();
    assert_eq!(parts, [TOKEN, TS, V1_ENCRYPT, NONCE]);
}

#[test]
fn vector1_verify_and_decrypt() {
    let msg = sample()
        .verify_and_decrypt_at(V1_SIGNATURE, TS, NONCE, V1_ENCRYPT, TS_MS)
        .expect("vector 1 verifies");
    assert_eq!(msg, V1_MSG);
}

#[test]
fn vector1_plaintext_layout() {
    let c = sample();
    let cipher = STANDARD.decode(V1_ENCRYPT).expect("base64");
    let plain = crypto::aes_decrypt(&c.key, cipher).expect("aligned");
    assert_eq!(plain.len(), 160);
    assert_eq!(&plain[..16], V1_PREFIX);
    assert_eq!(&plain[16..20], &[0, 0, 0, 0x61]);
    assert_eq!(&plain[20..117], V1_MSG.as_bytes());
    assert_eq!(&plain[117..138], OWNER.as_bytes());
    assert_eq!(&plain[138..], &[0x16; 22]);
}

#[test]
fn vector1_reencrypt_with_recovered_prefix() {
    let encrypt = sample()
        .encrypt_with_prefix(V1_MSG, *V1_PREFIX)
        .expect("encrypts");
    assert_eq!(encrypt, V1_ENCRYPT);
}

#[test]
fn vector1b_deterministic_encryption() {
    let c = sample();
    let encrypt = c
        .encrypt_with_prefix(V1_MSG, FIXED_PREFIX)
        .expect("encrypts");
    assert_eq!(encrypt, V1B_ENCRYPT);
    assert_eq!(c.signature(TS, NONCE, &encrypt), V1B_SIGNATURE);
    let reply = c
        .reply_with_prefix(V1_MSG, TS, NONCE, FIXED_PREFIX)
        .expect("reply");
    assert_eq!(reply.encrypt, V1B_ENCRYPT);
    assert_eq!(reply.msg_signature, V1B_SIGNATURE);
}

#[test]
fn vector1c_success_reply() {
    let c = sample();
    let reply = c
        .reply_with_prefix("success", TS, NONCE, FIXED_PREFIX)
        .expect("reply");
    assert_eq!(
        reply,
        EncryptedReply {
            msg_signature: V1C_SIGNATURE.to_owned(),
            time_stamp: TS.to_owned(),
            nonce: NONCE.to_owned(),
            encrypt: V1C_ENCRYPT.to_owned(),
        }
    );
    let back = c
        .verify_and_decrypt_at(V1C_SIGNATURE, TS, NONCE, V1C_ENCRYPT, TS_MS)
        .expect("round trip");
    assert_eq!(back, "success");
}

#[test]
fn success_reply_is_signed_and_decrypts() {
    let c = sample();
    let now = now_ms().to_string();
    let reply = c.success_reply(&now, "abcdefgh").expect("reply");
    assert_eq!(reply.time_stamp, now);
    assert_eq!(reply.nonce, "abcdefgh");
    let back = c
        .verify_and_decrypt(&reply.msg_signature, &now, "abcdefgh", &reply.encrypt)
        .expect("verifies");
    assert_eq!(back, "success");
}

#[test]
fn reply_serializes_with_dingtalk_keys() {
    let reply = sample()
        .reply_with_prefix("success", TS, NONCE, FIXED_PREFIX)
        .expect("reply");
    let json = serde_json::to_value(&reply).expect("serializes");
    assert_eq!(
        json,
        serde_json::json!({
            "msg_signature": V1C_SIGNATURE,
            "timeStamp": TS,
            "nonce": NONCE,
            "encrypt": V1C_ENCRYPT,
        })
    );
    let parsed: EncryptedReply = serde_json::from_value(json).expect("deserializes");
    assert_eq!(parsed, reply);
}

// ---- round trips ------------------------------------------------------------------------------------------

#[test]
fn round_trip_encrypt_then_verify_and_decrypt() {
    let c = sample();
    let text = r#"{"EventType":"user_add_org","UserId":["张三"]}"#;
    let encrypt = c.encrypt(text).expect("encrypts");
    let now = now_ms().to_string();
    let sig = c.signature(&now, NONCE, &encrypt);
    assert_eq!(
        c.verify_and_decrypt(&sig, &now, NONCE, &encrypt).as_deref(),
        Ok(text)
    );
}

#[test]
fn round_trip_lengths_around_block_boundaries() {
    let c = sample();
    for len in 0..=100 {
        let text = "x".repeat(len);
        let encrypt = c.encrypt(&text).expect("encrypts");
        assert_eq!(
            verify_encrypt_field(&c, &encrypt).as_deref(),
            Ok(text.as_str())
        );
    }
}

#[test]
fn random_prefix_is_alphanumeric_and_fresh() {
    let c = sample();
    let a = c.encrypt("success").expect("encrypts");
    let b = c.encrypt("success").expect("encrypts");
    assert_ne!(a, b);
    let plain = crypto::aes_decrypt(&c.key, STANDARD.decode(&a).expect("base64")).expect("aligned");
    assert!(plain[..16].iter().all(u8::is_ascii_alphanumeric));
}

#[test]
fn padding_is_to_32_byte_blocks() {
    let prefix = FIXED_PREFIX;
    // 20 header + 0 msg + 12 owner = 32 → a full block of 32 padding bytes.
    let framed = crypto::frame(&prefix, b"", b"abcdefghijkl").expect("frames");
    assert_eq!(framed.len(), 64);
    assert_eq!(&framed[32..], &[32u8; 32]);
    // 20 + 1 + 0 = 21 → 11 bytes of 11.
    let framed = crypto::frame(&prefix, b"a", b"").expect("frames");
    assert_eq!(framed.len(), 32);
    assert_eq!(&framed[21..], &[11u8; 11]);
}

#[test]
fn sixteen_byte_padding_is_accepted() {
    // Some SDKs pad to 16; the decoder accepts any consistent pad value in 1..=32.
    let c = sample();
    let mut body = b"hi".to_vec();
    body.extend_from_slice(OWNER.as_bytes()); // 20 + 2 + 21 = 43 → 48 with 5 bytes of 5
    assert_eq!(
        verify_raw(&c, raw_plain(2, &body, 5, 5)).as_deref(),
        Ok("hi")
    );
}

// ---- rejected inputs --------------------------------------------------------------------------------------

#[test]
fn rejects_wrong_signature() {
    let c = sample();
    let mut wrong = V1_SIGNATURE.to_owned();
    wrong.replace_range(0..1, "6");
    for sig in [
        wrong.as_str(),
        "",
        "5A65CEEEF9AAB2D149439F82DC191DD6C5CBE2C0",
        &V1_SIGNATURE[..39],
    ] {
        assert_eq!(
            c.verify_and_decrypt_at(sig, TS, NONCE, V1_ENCRYPT, TS_MS),
            Err(CryptoError::SignatureMismatch)
        );
    }
    // A different token gives a different signature.
    let other = CallbackCrypto::new("654321", AES_KEY, OWNER).expect("valid");
    assert_eq!(
        other.verify_and_decrypt_at(V1_SIGNATURE, TS, NONCE, V1_ENCRYPT, TS_MS),
        Err(CryptoError::SignatureMismatch)
    );
}

#[test]
fn rejects_bad_base64() {
    let c = sample();
    for encrypt in ["not base64!", "AAAA=AAA", "AAA"] {
        assert_eq!(
            verify_encrypt_field(&c, encrypt),
            Err(CryptoError::InvalidBase64)
        );
    }
}

#[test]
fn rejects_wrong_key_length() {
    for key in [
        "",
        &AES_KEY[..42],
        &format!("{AES_KEY}a"),
        &format!("{AES_KEY}="),
    ] {
        assert_eq!(
            CallbackCrypto::new(TOKEN, key, OWNER).map(|_| ()),
            Err(CryptoError::InvalidAesKeyLength { len: key.len() })
        );
    }
}

#[test]
fn rejects_key_that_is_not_base64() {
    let key = format!("{}*", &AES_KEY[..42]);
    assert_eq!(
        CallbackCrypto::new(TOKEN, &key, OWNER).map(|_| ()),
        Err(CryptoError::InvalidAesKey)
    );
}

#[test]
fn rejects_ciphertext_not_whole_blocks() {
    let c = sample();
    let fifteen = STANDARD.encode([0u8; 15]);
    assert_eq!(
        verify_encrypt_field(&c, &fifteen),
        Err(CryptoError::InvalidCiphertextLength { len: 15 })
    );
    let seventeen = STANDARD.encode([0u8; 17]);
    assert_eq!(
        verify_encrypt_field(&c, &seventeen),
        Err(CryptoError::InvalidCiphertextLength { len: 17 })
    );
}

#[test]
fn rejects_empty_ciphertext() {
    assert_eq!(
        verify_encrypt_field(&sample(), ""),
        Err(CryptoError::InvalidCiphertextLength { len: 0 })
    );
}

#[test]
fn rejects_pad_byte_zero() {
    let plain = raw_plain(0, &[], 12, 0);
    assert_eq!(
        verify_raw(&sample(), plain),
        Err(CryptoError::InvalidPadding)
    );
}

#[test]
fn rejects_pad_byte_above_32() {
    let plain = raw_plain(0, &[0; 12], 32, 33);
    assert_eq!(
        verify_raw(&sample(), plain),
        Err(CryptoError::InvalidPadding)
    );
}

#[test]
fn rejects_inconsistent_padding() {
    let mut plain = raw_plain(0, &[], 12, 12);
    plain[25] = 11;
    assert_eq!(
        verify_raw(&sample(), plain),
        Err(CryptoError::InvalidPadding)
    );
}

#[test]
fn rejects_length_field_past_end() {
    let c = sample();
    // A huge declared length must be rejected without allocating anything of that size.
    let plain = raw_plain(u32::MAX, &[b'a'; 8], 4, 4);
    assert_eq!(
        verify_raw(&c, plain),
        Err(CryptoError::LengthOutOfBounds {
            declared: u32::MAX,
            available: 8
        })
    );
    let plain = raw_plain(9, &[b'a'; 8], 4, 4);
    assert_eq!(
        verify_raw(&c, plain),
        Err(CryptoError::LengthOutOfBounds {
            declared: 9,
            available: 8
        })
    );
}

#[test]
fn rejects_plaintext_shorter_than_header() {
    // One block that is nothing but padding: no prefix, no length field.
    let plain = vec![32u8; 32];
    assert_eq!(
        verify_raw(&sample(), plain),
        Err(CryptoError::LengthOutOfBounds {
            declared: 0,
            available: 0
        })
    );
}

#[test]
fn rejects_owner_key_mismatch() {
    let other = CallbackCrypto::new(TOKEN, AES_KEY, "dingcorp0000").expect("valid");
    assert_eq!(
        other.verify_and_decrypt_at(V1_SIGNATURE, TS, NONCE, V1_ENCRYPT, TS_MS),
        Err(CryptoError::OwnerKeyMismatch)
    );
}

#[test]
fn rejects_non_utf8_plaintext() {
    let mut body = vec![0xff, 0xfe];
    body.extend_from_slice(OWNER.as_bytes()); // 20 + 2 + 21 = 43 → 64 with 21 bytes of 21
    let plain = raw_plain(2, &body, 21, 21);
    assert_eq!(verify_raw(&sample(), plain), Err(CryptoError::InvalidUtf8));
}

#[test]
fn rejects_stale_timestamp() {
    let c = sample();
    let window = i64::try_from(DEFAULT_REPLAY_WINDOW.as_millis()).expect("fits");
    let check = |now| c.verify_and_decrypt_at(V1_SIGNATURE, TS, NONCE, V1_ENCRYPT, now);
    assert_eq!(check(TS_MS + window).as_deref(), Ok(V1_MSG));
    assert_eq!(check(TS_MS - window).as_deref(), Ok(V1_MSG));
    assert_eq!(
        check(TS_MS + window + 1),
        Err(CryptoError::StaleTimestamp {
            timestamp_ms: TS_MS,
            now_ms: TS_MS + window + 1
        })
    );
    assert!(matches!(
        check(TS_MS - window - 1),
        Err(CryptoError::StaleTimestamp { .. })
    ));
    // Against the real clock, the 2015 vector is far too old.
    assert!(matches!(
        c.verify_and_decrypt(V1_SIGNATURE, TS, NONCE, V1_ENCRYPT),
        Err(CryptoError::StaleTimestamp { .. })
    ));
}

#[test]
fn custom_replay_window() {
    let c = sample().with_replay_window(Duration::from_secs(1));
    assert_eq!(c.replay_window(), Duration::from_secs(1));
    let check = |now| c.verify_and_decrypt_at(V1_SIGNATURE, TS, NONCE, V1_ENCRYPT, now);
    assert_eq!(check(TS_MS + 1_000).as_deref(), Ok(V1_MSG));
    assert!(matches!(
        check(TS_MS + 1_001),
        Err(CryptoError::StaleTimestamp { .. })
    ));
    let wide = sample().with_replay_window(Duration::MAX);
    assert_eq!(
        wide.verify_and_decrypt(V1_SIGNATURE, TS, NONCE, V1_ENCRYPT)
            .as_deref(),
        Ok(V1_MSG)
    );
}

#[test]
fn rejects_non_numeric_timestamp() {
    let c = sample();
    for ts in [
        "",
        "abc",
        "1445827045067.5",
        "-1445827045067",
        "+1445827045067",
        " 1445827045067",
        "99999999999999999999",
    ] {
        let sig = c.signature(ts, NONCE, V1_ENCRYPT);
        assert_eq!(
            c.verify_and_decrypt_at(&sig, ts, NONCE, V1_ENCRYPT, TS_MS),
            Err(CryptoError::InvalidTimestamp),
            "timestamp {ts:?}"
        );
    }
}

#[test]
fn reply_rejects_empty_timestamp_or_nonce() {
    let c = sample();
    assert_eq!(
        c.success_reply("", NONCE),
        Err(CryptoError::InvalidTimestamp)
    );
    assert_eq!(c.success_reply(TS, ""), Err(CryptoError::InvalidNonce));
}

// ---- secrets and error metadata ---------------------------------------------------------------------------

#[test]
fn debug_redacts_token_and_key() {
    let token = "s3cr3tTok3n";
    let c = CallbackCrypto::new(token, AES_KEY, OWNER).expect("valid");
    let debug = format!("{c:?}");
    let pretty = format!("{c:#?}");
    for out in [&debug, &pretty] {
        assert!(!out.contains(token), "{out}");
        assert!(!out.contains(AES_KEY), "{out}");
        assert!(!out.contains(AES_KEY_HEX), "{out}");
        assert!(!out.contains(&format!("{:?}", c.key)), "{out}");
        assert!(!out.contains(&c.key[0].to_string()), "{out}");
        assert!(out.contains(OWNER), "{out}");
        assert!(out.contains("<redacted>"), "{out}");
    }
}

#[test]
fn errors_do_not_contain_secrets() {
    let bad_key = format!("{}*", &AES_KEY[..42]);
    let errors = [
        CallbackCrypto::new(TOKEN, &bad_key, OWNER).map(|_| ()),
        CallbackCrypto::new(TOKEN, &AES_KEY[..40], OWNER).map(|_| ()),
        sample()
            .verify_and_decrypt_at("x", TS, NONCE, V1_ENCRYPT, TS_MS)
            .map(|_| ()),
    ];
    for err in errors {
        let err = err.expect_err("fails");
        for out in [err.to_string(), format!("{err:?}")] {
            assert!(!out.contains(&AES_KEY[..40]), "{out}");
            assert!(!out.contains(TOKEN), "{out}");
        }
    }
}

#[test]
fn error_codes_follow_the_official_table() {
    let cases = [
        (CryptoError::InvalidTimestamp, Some(900_002)),
        (CryptoError::InvalidNonce, Some(900_003)),
        (CryptoError::InvalidAesKeyLength { len: 1 }, Some(900_004)),
        (CryptoError::InvalidAesKey, Some(900_004)),
        (CryptoError::SignatureMismatch, Some(900_005)),
        (CryptoError::MessageTooLong, Some(900_007)),
        (CryptoError::EncryptionFailed, Some(900_007)),
        (CryptoError::InvalidBase64, Some(900_008)),
        (
            CryptoError::InvalidCiphertextLength { len: 1 },
            Some(900_008),
        ),
        (CryptoError::InvalidPadding, Some(900_008)),
        (
            CryptoError::LengthOutOfBounds {
                declared: 1,
                available: 0,
            },
            Some(900_009),
        ),
        (CryptoError::OwnerKeyMismatch, Some(900_010)),
        (CryptoError::InvalidUtf8, None),
        (
            CryptoError::StaleTimestamp {
                timestamp_ms: 0,
                now_ms: 0,
            },
            None,
        ),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code, "{err:?}");
        assert!(!err.as_str().is_empty());
    }
}
