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
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SecretString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <String as crate::wire::Wire>::wire(d).map(SecretString::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let s = SecretString::from("s3cr3t-value");
        assert!(!format!("{s:?}").contains("s3cr3t"));
        assert!(!format!("{s}").contains("s3cr3t"));
        assert!(!format!("{:?}", Some(&s)).contains("s3cr3t"));
        assert_eq!(s.expose_secret(), "s3cr3t-value");
    }
}
