//! The request signatures DingTalk checks besides the callback cipher: the JSAPI `dd.config`
//! signature and the HMAC-SHA256 signatures of the signed-query calls (personal login
//! `getuserinfo_bycode`, and the ISV form of `service/get_corp_token`).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The hash of the JSAPI signature. DingTalk's older docs and every SDK use SHA-1; the current
/// docs show SHA-256. Which one the server accepts today is not confirmed, so it is selectable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsapiHash {
    /// SHA-1, lowercase hex (the long-standing form).
    #[default]
    Sha1,
    /// SHA-256, lowercase hex (the current docs' sample code).
    Sha256,
}

/// The `dd.config` signature: the hash of
/// `jsapi_ticket=<ticket>&noncestr=<nonce>&timestamp=<ts>&url=<url>` as lowercase hex.
///
/// `url` is the page URL without its `#fragment`; the values are used as they are, without
/// URL-encoding. `timestamp` is whatever the page passes to `dd.config`.
pub fn jsapi_signature(
    ticket: &str,
    nonce: &str,
    timestamp: &str,
    url: &str,
    hash: JsapiHash,
) -> String {
    let url = url.split('#').next().unwrap_or(url);
    let text = format!("jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}");
    match hash {
        JsapiHash::Sha1 => hex(&Sha1::digest(text.as_bytes())),
        JsapiHash::Sha256 => hex(&Sha256::digest(text.as_bytes())),
    }
}

/// Base64 of HMAC-SHA256(`secret`, `message`): the signature of the signed-query calls.
/// For personal login `message` is the millisecond timestamp; for the ISV form it is
/// `timestamp + "\n" + suiteTicket`.
pub fn hmac_sha256_base64(secret: &str, message: &str) -> String {
    // Only MACs with a fixed key size reject a key; HMAC takes keys of any length.
    #[allow(clippy::expect_used)]
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The query form of a Base64 signature: `+`, `/` and `=` percent-encoded, once.
pub fn query_encode(signature: &str) -> String {
    signature
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICKET: &str =
        "zHoQdGJuH0ZDebwo7sLqLzHGUueLmkWCC4RycYgkuvDu3eoROgN5qhwnQLgfzwEXtuR9SDzh6BdhyVngzAjrxV";

    #[test]
    fn jsapi_vector_sha1_and_sha256() {
        let url = "http://10.62.53.138:3000/jsapi";
        assert_eq!(
            jsapi_signature(TICKET, "abcdefgh", "1437027269927", url, JsapiHash::Sha1),
            "810e6657e9f411e6491b3e97dfaf7660e89eb874"
        );
        assert_eq!(
            jsapi_signature(TICKET, "abcdefgh", "1437027269927", url, JsapiHash::Sha256),
            "f83d09ae579893dd206f49752d49c64ed5b1d495a2d769e9f63ba4d1909f90ed"
        );
        // The fragment is not part of the signed URL.
        assert_eq!(
            jsapi_signature(
                TICKET,
                "abcdefgh",
                "1437027269927",
                &format!("{url}#/home"),
                JsapiHash::Sha1
            ),
            "810e6657e9f411e6491b3e97dfaf7660e89eb874"
        );
    }

    #[test]
    fn isv_hmac_vector() {
        let sig = hmac_sha256_base64("secret", "1636725918388\nticket");
        assert_eq!(sig, "LOZmXJzlQYpIu5emP6/1OF4hE3qlMzY/6y4FbDjXPbU=");
        assert_eq!(
            query_encode(&sig),
            "LOZmXJzlQYpIu5emP6%2F1OF4hE3qlMzY%2F6y4FbDjXPbU%3D"
        );
    }

    #[test]
    fn personal_login_hmac_vector() {
        let sig = hmac_sha256_base64("testappSecret", "1546084445901");
        assert_eq!(sig, "HCbG3xNE3vzhO+u7qCUL1jS5hsu2n5r2cFhnTrtyDAE=");
        assert_eq!(
            query_encode(&sig),
            "HCbG3xNE3vzhO%2Bu7qCUL1jS5hsu2n5r2cFhnTrtyDAE%3D"
        );
    }
}
