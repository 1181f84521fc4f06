//! Secrets that cannot leak through formatting: `Debug` and `Display` print a placeholder, and
//! the value is read only through an explicit `expose_secret()`.

use std::fmt;
use std::sync::Arc;

/// A secret string: an app secret, an access token, an AES key, a ticket.
///
/// Cloning is cheap (the text is shared). Serializing sends the real value, because requests
/// need it on the wire; formatting never shows it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SecretString(Arc<str>);

impl SecretString {
    /// Wraps a secret.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        SecretString(value.into())
    }

    /// The secret itself. Keep the result out of logs and error messages.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(s.into())
    }
}

impl From<&str> for SecretString {
    fn from(s: &str) -> Self {
        SecretString(s.into())
    }
}

impl serde::Serialize for SecretString {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Sent somewhere: an error page may quote it back.
        note(self);
        s.serialize_str(&self.0)
    }
}

/// The secrets of the call running in this task: its client's (looked up only when an error
/// quotes a body), and every secret it sent.
struct Masks {
    client: crate::Client,
    noted: std::cell::RefCell<Vec<SecretString>>,
}

impl Masks {
    fn all(&self) -> Vec<SecretString> {
        let mut all = self.client.known_secrets();
        if let Ok(noted) = self.noted.try_borrow() {
            all.extend(noted.iter().cloned());
        }
        all
    }
}

tokio::task_local! {
    static MASKS: Masks;
}

/// Secrets shorter than this are not masked: they are no secret, and masking them would
/// garble every snippet.
const MIN_MASKED: usize = 4;

/// Runs `fut` with the secrets `client` holds masked in every error snippet it makes, and with
/// every secret it sends (a [`SecretString`] serialized into a body or written into a query)
/// masked too.
pub(crate) async fn masking<F: std::future::Future>(client: crate::Client, fut: F) -> F::Output {
    let masks = Masks {
        client,
        noted: std::cell::RefCell::new(Vec::new()),
    };
    MASKS.scope(masks, fut).await
}

/// Adds `secret` to the masks of the call running in this task, if any.
pub(crate) fn note(secret: &SecretString) {
    if secret.0.len() < MIN_MASKED {
        return;
    }
    let _ = MASKS.try_with(|m| {
        if let Ok(mut m) = m.noted.try_borrow_mut() {
            if !m.contains(secret) {
                m.push(secret.clone());
            }
        }
    });
}

/// `text` with every secret of the running call and `extra` masked, also in their URL-encoded
/// forms (an error page quoting the request line).
pub(crate) fn mask(text: &str, extra: Option<&SecretString>) -> String {
    let secrets = MASKS.try_with(Masks::all).unwrap_or_default();
    mask_with(text, secrets, extra)
}

fn mask_with(text: &str, mut secrets: Vec<SecretString>, extra: Option<&SecretString>) -> String {
    secrets.extend(extra.cloned());
    let mut out = text.to_string();
    // Longest first, so a secret that contains another is masked whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
    for secret in &secrets {
        let raw = secret.expose_secret();
        if raw.len() < MIN_MASKED {
            continue;
        }
        let form: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        let percent = form.replace('+', "%20");
        for form in [raw, &form, &percent] {
            if out.contains(form) {
                out = out.replace(form, "<redacted>");
            }
        }
    }
    out
}

/// The start of `bytes` for an error message, at most `max_chars` characters: the secrets are
/// masked before the text is cut, so one that straddles the cut leaks no prefix either.
pub(crate) fn snippet(bytes: &[u8], extra: Option<&SecretString>, max_chars: usize) -> String {
    let secrets = MASKS.try_with(Masks::all).unwrap_or_default();
    let longest = secrets
        .iter()
        .chain(extra)
        .map(|s| s.0.len())
        .max()
        .unwrap_or(0);
    // Enough of the body that any secret reaching into the first `max_chars` characters lies
    // wholly inside it, even URL-encoded (3 bytes a byte).
    let window = max_chars.saturating_add(longest.saturating_mul(3));
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(window.saturating_mul(4))]);
    let head: String = text.chars().take(window).collect();
    let masked = mask_with(&head, secrets, extra);
    let mut s: String = masked.chars().take(max_chars).collect();
    let cut = masked.chars().count() > max_chars || bytes.len() > head.len();
    if cut {
        s.push('…');
    }
    if s.is_empty() {
        s.push_str("<empty body>");
    }
    s
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as crate::wire::Wire>::wire(d).map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn snippets_mask_every_noted_secret_before_cutting() {
        let client = crate::ClientBuilder::new(crate::grant::NO_TOKEN_ENDPOINTS)
            .app_key("key", "app-secret+/=")
            .build()
            .map_err(|e| e.to_string());
        let Ok(client) = client else {
            panic!("{client:?}")
        };
        masking(client, async {
            note(&SecretString::from("tmp-auth-code-1"));
            note(&SecretString::from("abc")); // too short to be a secret
            let body = format!(
                "GET /gettoken?appsecret=app-secret%2B%2F%3D&code=tmp-auth-code-1 {}tok-0123456789",
                "x".repeat(120)
            );
            let cut = body.find("tok-").unwrap_or(0) + 4;
            let s = snippet(
                body.as_bytes(),
                Some(&SecretString::from("tok-0123456789")),
                cut,
            );
            assert!(!s.contains("app-secret"), "{s}");
            assert!(!s.contains("tmp-auth"), "{s}");
            assert!(!s.contains("tok-"), "no prefix of a secret cut in two: {s}");
            assert!(s.contains("appsecret=<redacted>&code=<redacted>"), "{s}");
            assert_eq!(mask("abc", None), "abc");
        })
        .await;
        // Outside a call only `extra` is known.
        assert_eq!(
            snippet(
                b"tok-0123456789",
                Some(&SecretString::from("tok-0123456789")),
                200
            ),
            "<redacted>"
        );
        assert_eq!(snippet(b"", None, 200), "<empty body>");
    }

    #[test]
    fn formatting_never_shows_the_value() {
        let s = SecretString::from("s3cr3t-value");
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(!format!("{s}").contains("s3cr3t"));
        assert!(!format!("{:?}", Some(&s)).contains("s3cr3t"));
        assert_eq!(s.expose_secret(), "s3cr3t-value");
    }
}
