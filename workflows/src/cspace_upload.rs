//! DingPan (钉盘) upload of a file of any size as one call: a single upload up to the chunk
//! size, otherwise a transaction (open → chunks → commit) with progress reports.

use std::future::Future;

use dingtalk::api::cspace::CspaceApi;
use dingtalk::{Error, InvalidRequest, UploadFile};

/// DingPan's largest chunk, and largest single upload: 8 MB.
pub const MAX_CHUNK: usize = 8 * 1024 * 1024;
/// Every chunk but the last must be larger than this: 100 KB.
pub const MIN_CHUNK: usize = 100 * 1024;
/// The most chunks a transaction takes.
pub const MAX_CHUNKS: usize = 10_000;

/// Progress of an upload, reported after each chunk (once for a single upload).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes sent so far.
    pub sent: u64,
    /// Bytes in all.
    pub total: u64,
    /// Chunks sent so far.
    pub chunk: usize,
    /// Chunks in all (1 for a single upload).
    pub chunks: usize,
}

/// DingPan's upload of a file of any size, on [`CspaceApi`] (`client.cspace().upload_file(..)`).
pub trait CspaceUpload {
    /// Uploads `file` to DingPan for app `agent_id` and returns its `media_id`.
    ///
    /// Files up to `chunk_size` bytes go up in one `upload_single` call; larger ones through an
    /// upload transaction in chunks of `chunk_size` bytes (more than 100 KB, at most 8 MB,
    /// at most 10 000 chunks). `progress` is called after every chunk. Limits are checked
    /// before anything is sent. Chunks are not retried after a lost answer (DingTalk marks
    /// chunk uploads as not idempotent); on an error, upload the file again.
    fn upload_file(
        &self,
        agent_id: i64,
        file: UploadFile,
        chunk_size: usize,
        progress: impl FnMut(Progress) + Send,
    ) -> impl Future<Output = Result<String, Error>> + Send;
}

impl CspaceUpload for CspaceApi<'_> {
    async fn upload_file(
        &self,
        agent_id: i64,
        file: UploadFile,
        chunk_size: usize,
        mut progress: impl FnMut(Progress) + Send,
    ) -> Result<String, Error> {
        let total = file.bytes.len();
        let invalid = |source| Error::Invalid {
            endpoint: "cspace.upload_file".into(),
            source,
        };
        if chunk_size <= MIN_CHUNK || chunk_size > MAX_CHUNK {
            return Err(invalid(InvalidRequest::OutOfRange {
                field: "chunk_size",
                value: chunk_size as f64,
                min: Some((MIN_CHUNK + 1) as f64),
                max: Some(MAX_CHUNK as f64),
            }));
        }
        let chunks = total.div_ceil(chunk_size).max(1);
        if chunks > MAX_CHUNKS {
            return Err(invalid(InvalidRequest::TooLong {
                field: "file",
                len: chunks,
                max: MAX_CHUNKS as u64,
            }));
        }
        let size = total as i64;
        if chunks == 1 {
            let media_id = self.upload_single(agent_id, size, file).await?.media_id;
            progress(Progress {
                sent: total as u64,
                total: total as u64,
                chunk: 1,
                chunks: 1,
            });
            return Ok(media_id);
        }
        let upload_id = self
            .upload_transaction_open(agent_id, size, chunks as i64)
            .await?
            .upload_id;
        for (i, piece) in file.bytes.chunks(chunk_size).enumerate() {
            // `slice_ref` shares the file's buffer: no copy per chunk.
            let bytes = file.bytes.slice_ref(piece);
            let part = UploadFile {
                file_name: file.file_name.clone(),
                content_type: file.content_type.clone(),
                bytes,
            };
            self.upload_chunk(agent_id, upload_id.clone(), i as i64 + 1, part)
                .await?;
            let sent = (i * chunk_size + piece.len()) as u64;
            progress(Progress {
                sent,
                total: total as u64,
                chunk: i + 1,
                chunks,
            });
        }
        let commit = self
            .upload_transaction_commit(agent_id, size, chunks as i64, upload_id)
            .await?;
        Ok(commit.media_id)
    }
}
