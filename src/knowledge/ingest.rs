//! Documents in: accepting an upload, and the durable job that makes it searchable.
//!
//! [`accept_upload`] checks size and type, stores the original (or replaces the one with the
//! same file name in the same scope) and enqueues [`INGEST_JOB`] in the same transaction, so an
//! accepted document is never forgotten. The job ([`IngestHandler`]) extracts, chunks, embeds in
//! batches (publishing progress) and swaps the chunks in with one transaction; it is idempotent,
//! so a worker killed mid-document leaves the job to be reclaimed and redone, never duplicated.
//! When a document becomes ready or goes away, the agents that see it get [`CONTEXT_JOB`].

use std::sync::Arc;

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::embed::Embedder;
use super::extract::{ExtractError, Format, extract_as};
use super::retrieve::{RetrieveError, embed_chunks};
use crate::jobs::{JobError, JobFuture, JobHandler, JobQueue};
use crate::live::{LiveBus, LiveEvent, LiveMessage};
use crate::rag::{ChunkOptions, chunk};
use crate::store::jobs::{self, Job};
use crate::store::knowledge as store;

/// The job kind that ingests one document: payload `{"document_id": …}`.
pub const INGEST_JOB: &str = "knowledge.ingest";
/// The job kind that recomputes agents' start context: payload `{"agent_id": …}` or `{}` for
/// every agent of the organization.
pub const CONTEXT_JOB: &str = "knowledge.context";

/// The default upload limit (`KNOWLEDGE_MAX_UPLOAD_MB`).
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;

/// One uploaded document.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// The uploader's organization.
    pub org_id: Uuid,
    /// Scope the document to this agent; `None` makes it organization-wide.
    pub agent_id: Option<Uuid>,
    /// The title to show; the file name (without extension) when `None`.
    pub title: Option<&'a str>,
    /// The file's name as uploaded (empty for pasted text).
    pub filename: &'a str,
    /// The declared media type (may be generic).
    pub content_type: &'a str,
    /// The file.
    pub bytes: &'a [u8],
}

/// An accepted upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The document (new, or the replaced one).
    pub document_id: Uuid,
    /// Whether it replaced an earlier upload of the same file name in the same scope.
    pub replaced: bool,
    /// How it will be read.
    pub format: Format,
}

/// Why an upload was refused. The messages are for the person uploading.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Over the size limit.
    #[error(
        "\"{filename}\" is {size} — larger than the {limit} upload limit. Split it into smaller files."
    )]
    TooLarge {
        /// The file's name.
        filename: String,
        /// Its size, for people.
        size: String,
        /// The limit, for people.
        limit: String,
    },
    /// Not a type we read, or not what its name says.
    #[error(
        "\"{filename}\" is not a file we can read: upload .txt, .md, .html, .pdf or .docx files.{detail}"
    )]
    Unsupported {
        /// The file's name.
        filename: String,
        /// More about what is wrong, starting with a space, or empty.
        detail: String,
    },
    /// No bytes.
    #[error("\"{filename}\" is empty.")]
    Empty {
        /// The file's name.
        filename: String,
    },
    /// The agent to scope it to is not in this organization.
    #[error("That agent does not exist.")]
    UnknownAgent,
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Checks an upload's size and type without storing anything; returns how it will be read and
/// its title. [`accept_upload`] checks again; call this first to refuse a batch of files whole.
pub fn check_upload(
    upload: &Upload<'_>,
    max_bytes: usize,
) -> Result<(Format, String), UploadError> {
    let filename = upload.filename.trim();
    let shown = if filename.is_empty() {
        "The pasted text"
    } else {
        filename
    };
    if upload.bytes.len() > max_bytes {
        return Err(UploadError::TooLarge {
            filename: shown.to_owned(),
            size: human_bytes(upload.bytes.len()),
            limit: human_bytes(max_bytes),
        });
    }
    if upload.bytes.is_empty() {
        return Err(UploadError::Empty {
            filename: shown.to_owned(),
        });
    }
    let format = upload_format(filename, upload.content_type, upload.bytes).map_err(|detail| {
        UploadError::Unsupported {
            filename: shown.to_owned(),
            detail,
        }
    })?;
    let title = match upload.title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(title) => title.to_owned(),
        None if filename.is_empty() => "Pasted text".to_owned(),
        None => filename
            .rsplit_once('.')
            .map_or(filename, |(stem, _)| stem)
            .to_owned(),
    };
    Ok((format, title))
}

/// Checks an upload and stores it with its ingestion job, in one transaction.
pub async fn accept_upload(
    pool: &PgPool,
    queue: &JobQueue,
    upload: Upload<'_>,
    max_bytes: usize,
) -> Result<Accepted, UploadError> {
    let (format, title) = check_upload(&upload, max_bytes)?;
    let filename = upload.filename.trim();
    let mut tx = pool.begin().await?;
    if let Some(agent_id) = upload.agent_id {
        let exists: bool = sqlx::query_scalar(
            "select exists (select 1 from agents where id = $1 and org_id = $2)",
        )
        .bind(agent_id)
        .bind(upload.org_id)
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Err(UploadError::UnknownAgent);
        }
    }
    let existing = if filename.is_empty() {
        None
    } else {
        store::find_by_filename(&mut *tx, upload.org_id, upload.agent_id, filename).await?
    };
    let (document_id, replaced) = match existing {
        Some(id) => {
            store::replace_original(
                &mut *tx,
                upload.org_id,
                id,
                &title,
                format.mime_type(),
                upload.bytes,
            )
            .await?;
            (id, true)
        }
        None => {
            let id = store::insert_document(
                &mut *tx,
                upload.org_id,
                upload.agent_id,
                &title,
                filename,
                format.mime_type(),
                upload.bytes,
            )
            .await?;
            (id, false)
        }
    };
    jobs::enqueue(
        &mut *tx,
        Some(upload.org_id),
        INGEST_JOB,
        &json!({ "document_id": document_id }),
    )
    .await?;
    tx.commit().await?;
    queue.wake();
    Ok(Accepted {
        document_id,
        replaced,
        format,
    })
}

/// Sets a document back to `pending` and enqueues its ingestion; false when it is not this
/// organization's.
pub async fn reprocess(
    pool: &PgPool,
    queue: &JobQueue,
    org_id: Uuid,
    document_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !store::mark_pending(&mut *tx, org_id, document_id).await? {
        return Ok(false);
    }
    jobs::enqueue(
        &mut *tx,
        Some(org_id),
        INGEST_JOB,
        &json!({ "document_id": document_id }),
    )
    .await?;
    tx.commit().await?;
    queue.wake();
    Ok(true)
}

/// Deletes a document and its chunks, and refreshes the start context of the agents that saw
/// it; false when it is not this organization's.
pub async fn delete(
    pool: &PgPool,
    queue: &JobQueue,
    org_id: Uuid,
    document_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let agent_id: Option<Option<Uuid>> = sqlx::query_scalar(
        "delete from knowledge_documents where id = $1 and org_id = $2 returning agent_id",
    )
    .bind(document_id)
    .bind(org_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(agent_id) = agent_id else {
        return Ok(false);
    };
    enqueue_context(&mut tx, org_id, agent_id).await?;
    tx.commit().await?;
    queue.wake();
    Ok(true)
}

async fn enqueue_context(
    tx: &mut sqlx::PgConnection,
    org_id: Uuid,
    agent_id: Option<Uuid>,
) -> Result<(), sqlx::Error> {
    let payload = match agent_id {
        Some(agent_id) => json!({ "agent_id": agent_id }),
        None => json!({}),
    };
    jobs::enqueue(&mut *tx, Some(org_id), CONTEXT_JOB, &payload)
        .await
        .map(drop)
}

/// The format to read an upload as: by its file name, else its declared type, else its magic
/// bytes; binary formats must really be what they claim. The error is a detail for people.
fn upload_format(filename: &str, content_type: &str, bytes: &[u8]) -> Result<Format, String> {
    let format = Format::sniff(filename)
        .or_else(|_| Format::detect(content_type, bytes))
        .map_err(|_| String::new())?;
    let head = &bytes[..bytes.len().min(8192)];
    match format {
        Format::Pdf if !head.windows(5).any(|w| w == b"%PDF-") => {
            Err(" Its name says PDF, but it is not one.".into())
        }
        Format::Docx if !bytes.starts_with(b"PK\x03\x04") => Err(
            " Its name says Word document, but it is not one (only .docx, not the older .doc)."
                .into(),
        ),
        Format::Text | Format::Markdown | Format::Html if head.contains(&0) => {
            Err(" It looks like a binary file, not text.".into())
        }
        _ => Ok(format),
    }
}

/// `20 MiB`, `1.5 MiB`, `900 KiB`, `12 bytes`.
pub fn human_bytes(bytes: usize) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        let mib = b / (KIB * KIB);
        if mib.fract() < 0.05 {
            format!("{mib:.0} MiB")
        } else {
            format!("{mib:.1} MiB")
        }
    } else if b >= KIB {
        format!("{:.0} KiB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Runs [`INGEST_JOB`]: extract → chunk → embed in batches (progress on the bus) → store.
pub struct IngestHandler {
    pool: PgPool,
    embedder: Arc<dyn Embedder>,
    bus: LiveBus,
    queue: JobQueue,
}

impl IngestHandler {
    /// A handler embedding with `embedder` and reporting progress on `bus`.
    pub fn new(pool: PgPool, embedder: Arc<dyn Embedder>, bus: LiveBus, queue: JobQueue) -> Self {
        Self {
            pool,
            embedder,
            bus,
            queue,
        }
    }

    async fn progress(
        &self,
        org_id: Uuid,
        document_id: Uuid,
        status: &str,
        done: usize,
        total: usize,
        error: Option<String>,
    ) {
        let event = LiveEvent::DocumentProgress {
            document_id,
            status: status.to_owned(),
            chunks_embedded: i32::try_from(done).unwrap_or(i32::MAX),
            chunks_total: i32::try_from(total).unwrap_or(i32::MAX),
            error,
        };
        self.bus.publish(LiveMessage { org_id, event }).await;
    }

    async fn embedded(&self, org_id: Uuid, document_id: Uuid, done: usize, total: usize) {
        if let Err(e) = store::set_progress(&self.pool, org_id, document_id, done, total).await {
            tracing::warn!(error = %e, %document_id, "cannot record ingestion progress");
        }
        self.progress(org_id, document_id, "processing", done, total, None)
            .await;
    }

    async fn fail(&self, org_id: Uuid, document_id: Uuid, message: String) -> JobError {
        if let Err(e) = store::mark_failed(&self.pool, org_id, document_id, &message).await {
            tracing::error!(error = %e, %document_id, "cannot mark the document failed");
        }
        self.progress(org_id, document_id, "failed", 0, 0, Some(message.clone()))
            .await;
        JobError::Fail { message }
    }

    async fn ingest(&self, job: &Job) -> Result<(), JobError> {
        let (org_id, document_id) = job_target(job)?;
        let database = |e: sqlx::Error| JobError::Retry {
            message: format!("database error: {e}"),
            after: None,
        };
        let Some(original) = store::load_original(&self.pool, org_id, document_id)
            .await
            .map_err(database)?
        else {
            tracing::info!(%document_id, "the document was deleted before it was ingested");
            return Ok(());
        };
        store::set_progress(&self.pool, org_id, document_id, 0, 0)
            .await
            .map_err(database)?;
        self.progress(org_id, document_id, "processing", 0, 0, None)
            .await;

        let agent_id = original.agent_id;
        let extracted = tokio::task::spawn_blocking(move || {
            let format = Format::sniff(&original.content_type)
                .or_else(|_| Format::detect(&original.filename, &original.original))?;
            extract_as(&original.original, format)
        })
        .await
        .map_err(|e| JobError::Retry {
            message: format!("extraction panicked: {e}"),
            after: None,
        })?;
        let text = match extracted {
            Ok(extracted) => extracted.text,
            Err(e) => return Err(self.fail(org_id, document_id, extract_message(&e)).await),
        };
        let chunks = chunk(
            &text,
            &ChunkOptions::fitting(self.embedder.max_input_tokens()),
        );
        let total = chunks.len();
        store::set_progress(&self.pool, org_id, document_id, 0, total)
            .await
            .map_err(database)?;
        self.progress(org_id, document_id, "processing", 0, total, None)
            .await;

        let embedded = embed_chunks(self.embedder.as_ref(), &chunks, |done| {
            self.embedded(org_id, document_id, done, total)
        })
        .await;
        let vectors = match embedded {
            Ok(vectors) => vectors,
            Err(RetrieveError::Embed(e)) if e.is_retryable() && job.attempts < job.max_attempts => {
                return Err(JobError::Retry {
                    message: e.to_string(),
                    after: e.retry_after(),
                });
            }
            Err(e) => {
                let message = format!("Embedding failed: {e}");
                return Err(self.fail(org_id, document_id, message).await);
            }
        };
        let rows: Vec<_> = chunks.into_iter().zip(vectors).collect();
        match store::replace_chunks(
            &self.pool,
            org_id,
            document_id,
            self.embedder.model_id(),
            &rows,
        )
        .await
        {
            Ok(()) => {}
            Err(store::ReplaceChunksError::DocumentNotFound { .. }) => return Ok(()),
            Err(e) => {
                return Err(JobError::Retry {
                    message: e.to_string(),
                    after: None,
                });
            }
        }
        self.progress(org_id, document_id, "ready", total, total, None)
            .await;
        let mut tx = self.pool.begin().await.map_err(database)?;
        enqueue_context(&mut tx, org_id, agent_id)
            .await
            .map_err(database)?;
        tx.commit().await.map_err(database)?;
        self.queue.wake();
        tracing::info!(%document_id, chunks = total, "document ready");
        Ok(())
    }
}

impl JobHandler for IngestHandler {
    fn kind(&self) -> &'static str {
        INGEST_JOB
    }

    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(self.ingest(job))
    }
}

/// The organization and document a job is for; a malformed job cannot succeed by retrying.
fn job_target(job: &Job) -> Result<(Uuid, Uuid), JobError> {
    let document_id = job.payload["document_id"]
        .as_str()
        .and_then(|s| s.parse().ok());
    match (job.org_id, document_id) {
        (Some(org_id), Some(document_id)) => Ok((org_id, document_id)),
        _ => Err(JobError::Fail {
            message: format!("malformed ingestion job payload: {}", job.payload),
        }),
    }
}

/// What the uploader sees when a document cannot be read.
fn extract_message(error: &ExtractError) -> String {
    match error {
        ExtractError::Empty { format: Format::Pdf } => {
            "No text found in this PDF. Scanned pages are images; export the PDF with a text layer (OCR) and upload it again.".into()
        }
        ExtractError::Empty { .. } => "No text found in this document.".into(),
        other => {
            let mut message = other.to_string();
            if let Some(first) = message.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            message.push('.');
            message
        }
    }
}

#[cfg(test)]
mod tests;
