//! Files going up (multipart uploads) and coming down (downloads).

use std::fmt;
use std::path::Path;

use bytes::Bytes;

/// A file to upload: its name, its content type and its bytes. Cloning shares the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct UploadFile {
    /// File name sent with the part (DingTalk uses its extension).
    pub file_name: String,
    /// Content type of the part; `application/octet-stream` when `None`.
    pub content_type: Option<String>,
    /// The content.
    pub bytes: Bytes,
}

impl UploadFile {
    /// A file from bytes in memory.
    pub fn from_bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        UploadFile {
            file_name: file_name.into(),
            content_type: None,
            bytes: bytes.into(),
        }
    }

    /// Reads a file from disk; its name becomes the part's file name.
    pub async fn from_path(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref();
        let bytes = tokio::fs::read(path).await?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".into());
        Ok(UploadFile::from_bytes(name, bytes))
    }

    /// Sets the content type of the part.
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The multipart part for this file.
    pub(crate) fn part(&self) -> Result<reqwest::multipart::Part, String> {
        let part = reqwest::multipart::Part::stream_with_length(
            reqwest::Body::from(self.bytes.clone()),
            self.bytes.len() as u64,
        )
        .file_name(self.file_name.clone());
        match &self.content_type {
            Some(ct) => part
                .mime_str(ct)
                .map_err(|_| format!("`{ct}` is not a content type")),
            None => Ok(part),
        }
    }
}

impl fmt::Debug for UploadFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadFile")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// A downloaded file.
#[derive(Clone, PartialEq, Eq)]
pub struct Download {
    /// The content.
    pub bytes: Bytes,
    /// The `Content-Type` DingTalk sent.
    pub content_type: Option<String>,
    /// The file name from `Content-Disposition`, when DingTalk sent one.
    pub file_name: Option<String>,
}

impl fmt::Debug for Download {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("file_name", &self.file_name)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// The `filename` of a `Content-Disposition` header.
pub(crate) fn disposition_file_name(header: &str) -> Option<String> {
    header.split(';').map(str::trim).find_map(|p| {
        let value = p.strip_prefix("filename=")?;
        Some(value.trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_from_content_disposition() {
        assert_eq!(
            disposition_file_name(r#"attachment; filename="a b.png""#).as_deref(),
            Some("a b.png")
        );
        assert_eq!(disposition_file_name("inline").as_deref(), None);
    }

    #[test]
    fn debug_shows_sizes_not_contents() {
        let f = UploadFile::from_bytes("x.txt", b"secret contents".to_vec());
        assert!(!format!("{f:?}").contains("secret"));
    }
}
