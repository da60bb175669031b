//! Knowledge documents and their embedded chunks.
//!
//! A document is written `pending`; [`replace_chunks`] swaps in its chunks and marks it
//! `ready` in one transaction, so a half-processed document is never searchable. Retrieval is
//! the SQL function `match_knowledge_chunks`, which scopes to the tenant (and agent) in SQL.
//! Every function takes the caller's `org_id` and filters on it.

use pgvector::Vector;
use sha2::{Digest, Sha256};
use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::rag::Chunk;

/// One passage returned by [`match_chunks`], best first.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MatchedChunk {
    /// The chunk's id (recorded in the call's audit trail).
    pub chunk_id: i64,
    /// The document the chunk belongs to.
    pub document_id: Uuid,
    /// That document's title.
    pub title: String,
    /// Headings the chunk sits under, outermost first.
    pub heading_path: Vec<String>,
    /// The chunk's text.
    pub content: String,
    /// Cosine similarity to the query (1 = same direction).
    pub score: f32,
}

/// Why chunks could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum ReplaceChunksError {
    /// A vector's length has no column (we store 384 and 1536).
    #[error("no embedding column for {got} dimensions (expected 384 or 1536)")]
    UnsupportedDimensions {
        /// The length we were given.
        got: usize,
    },
    /// The document does not exist in this organization.
    #[error("document {document_id} not found")]
    DocumentNotFound {
        /// The document we looked for.
        document_id: Uuid,
    },
    /// Any database error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Stores an uploaded document as `pending` (with the SHA-256 of its bytes); returns its id.
/// Pass a transaction to enqueue its ingestion job atomically with it.
pub async fn insert_document(
    executor: impl PgExecutor<'_>,
    org_id: Uuid,
    agent_id: Option<Uuid>,
    title: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<Uuid, sqlx::Error> {
    let sha256 = Sha256::digest(bytes).to_vec();
    let size = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
    sqlx::query_scalar(
        "insert into knowledge_documents \
             (org_id, agent_id, title, filename, content_type, size_bytes, sha256, original) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
    )
    .bind(org_id)
    .bind(agent_id)
    .bind(title)
    .bind(filename)
    .bind(content_type)
    .bind(size)
    .bind(sha256)
    .bind(bytes)
    .fetch_one(executor)
    .await
}

/// A document as the dashboard and the API list it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Document {
    /// Its id.
    pub id: Uuid,
    /// The agent it is scoped to; `None` for the whole organization.
    pub agent_id: Option<Uuid>,
    /// Its title.
    pub title: String,
    /// The uploaded file's name (empty for pasted text).
    pub filename: String,
    /// The media type it was read as.
    pub content_type: String,
    /// The original's size.
    pub size_bytes: i64,
    /// `pending`, `processing`, `ready` or `failed`.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Chunks stored (when ready).
    pub chunk_count: i32,
    /// Chunks embedded so far (progress while processing).
    pub chunks_embedded: i32,
    /// Chunks to embed (0 until extracted and chunked).
    pub chunks_total: i32,
    /// The model its chunks were embedded with.
    pub embedding_model: Option<String>,
    /// When it was uploaded.
    pub created_at: time::OffsetDateTime,
    /// When it last changed.
    pub updated_at: time::OffsetDateTime,
}

const DOCUMENT_COLUMNS: &str = "id, agent_id, title, filename, content_type, size_bytes, status, \
     error, chunk_count, chunks_embedded, chunks_total, embedding_model, created_at, updated_at";

/// The organization's documents, newest first.
pub async fn list_documents(pool: &PgPool, org_id: Uuid) -> Result<Vec<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {DOCUMENT_COLUMNS} from knowledge_documents where org_id = $1 \
          order by created_at desc, id"
    ))
    .bind(org_id)
    .fetch_all(pool)
    .await
}

/// One document of the organization.
pub async fn find_document(
    pool: &PgPool,
    org_id: Uuid,
    document_id: Uuid,
) -> Result<Option<Document>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {DOCUMENT_COLUMNS} from knowledge_documents where org_id = $1 and id = $2"
    ))
    .bind(org_id)
    .bind(document_id)
    .fetch_optional(pool)
    .await
}

/// The document with this file name in the same scope (the organization, or one agent), for
/// re-uploads to replace.
pub async fn find_by_filename(
    executor: impl PgExecutor<'_>,
    org_id: Uuid,
    agent_id: Option<Uuid>,
    filename: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "select id from knowledge_documents \
          where org_id = $1 and agent_id is not distinct from $2 and filename = $3 \
          order by created_at desc limit 1 for update",
    )
    .bind(org_id)
    .bind(agent_id)
    .bind(filename)
    .fetch_optional(executor)
    .await
}

/// Replaces a document's original with new bytes and sets it back to `pending`; its old chunks
/// stay searchable until the new ones replace them.
pub async fn replace_original(
    executor: impl PgExecutor<'_>,
    org_id: Uuid,
    document_id: Uuid,
    title: &str,
    content_type: &str,
    bytes: &[u8],
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update knowledge_documents \
            set title = $3, content_type = $4, size_bytes = $5, sha256 = $6, original = $7, \
                status = 'pending', error = null, chunks_embedded = 0, chunks_total = 0, \
                updated_at = now() \
          where id = $1 and org_id = $2",
    )
    .bind(document_id)
    .bind(org_id)
    .bind(title)
    .bind(content_type)
    .bind(i64::try_from(bytes.len()).unwrap_or(i64::MAX))
    .bind(Sha256::digest(bytes).to_vec())
    .bind(bytes)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a document back to `pending` (to re-process it); false when it is not this organization's.
pub async fn mark_pending(
    executor: impl PgExecutor<'_>,
    org_id: Uuid,
    document_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update knowledge_documents \
            set status = 'pending', error = null, chunks_embedded = 0, chunks_total = 0, \
                updated_at = now() \
          where id = $1 and org_id = $2",
    )
    .bind(document_id)
    .bind(org_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What ingestion reads: the original bytes and how to read them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Original {
    /// The uploaded file's name.
    pub filename: String,
    /// The media type it was uploaded as.
    pub content_type: String,
    /// The bytes.
    pub original: Vec<u8>,
    /// The agent it is scoped to.
    pub agent_id: Option<Uuid>,
}

/// The original of a document, if it still exists.
pub async fn load_original(
    pool: &PgPool,
    org_id: Uuid,
    document_id: Uuid,
) -> Result<Option<Original>, sqlx::Error> {
    sqlx::query_as(
        "select filename, content_type, original, agent_id from knowledge_documents \
          where id = $1 and org_id = $2",
    )
    .bind(document_id)
    .bind(org_id)
    .fetch_optional(pool)
    .await
}

/// Records ingestion progress: `processing`, `embedded` of `total` chunks done.
pub async fn set_progress(
    pool: &PgPool,
    org_id: Uuid,
    document_id: Uuid,
    embedded: usize,
    total: usize,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update knowledge_documents \
            set status = 'processing', chunks_embedded = $3, chunks_total = $4, updated_at = now() \
          where id = $1 and org_id = $2",
    )
    .bind(document_id)
    .bind(org_id)
    .bind(to_i32(embedded))
    .bind(to_i32(total))
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces a document's chunks and marks it `ready`, in one transaction.
///
/// Old chunks are deleted, every `(chunk, vector)` is inserted into the column matching the
/// vector's length, and the document gets `chunk_count` and `embedding_model`.
pub async fn replace_chunks(
    pool: &PgPool,
    org_id: Uuid,
    document_id: Uuid,
    embedding_model: &str,
    chunks: &[(Chunk, Vec<f32>)],
) -> Result<(), ReplaceChunksError> {
    if let Some((_, v)) = chunks.iter().find(|(_, v)| !matches!(v.len(), 384 | 1536)) {
        return Err(ReplaceChunksError::UnsupportedDimensions { got: v.len() });
    }
    let mut tx = pool.begin().await?;
    // Lock the document row so concurrent re-ingests of it serialize.
    let agent_id: Option<Option<Uuid>> = sqlx::query_scalar(
        "select agent_id from knowledge_documents where id = $1 and org_id = $2 for update",
    )
    .bind(document_id)
    .bind(org_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(agent_id) = agent_id else {
        return Err(ReplaceChunksError::DocumentNotFound { document_id });
    };
    sqlx::query("delete from knowledge_chunks where document_id = $1 and org_id = $2")
        .bind(document_id)
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    for (chunk, vector) in chunks {
        let column = if vector.len() == 384 {
            "embedding_384"
        } else {
            "embedding_1536"
        };
        sqlx::query(&format!(
            "insert into knowledge_chunks \
                 (org_id, document_id, agent_id, chunk_index, heading_path, content, token_count, \
                  source_start, source_end, embedding_model, {column}) \
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(org_id)
        .bind(document_id)
        .bind(agent_id)
        .bind(to_i32(chunk.index))
        .bind(&chunk.heading_path)
        .bind(&chunk.text)
        .bind(to_i32(chunk.token_count))
        .bind(to_i32(chunk.source_start))
        .bind(to_i32(chunk.source_end))
        .bind(embedding_model)
        .bind(Vector::from(vector.clone()))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "update knowledge_documents \
            set status = 'ready', error = null, chunk_count = $3, chunks_embedded = $3, \
                chunks_total = $3, embedding_model = $4, updated_at = now() \
          where id = $1 and org_id = $2",
    )
    .bind(document_id)
    .bind(org_id)
    .bind(to_i32(chunks.len()))
    .bind(embedding_model)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Marks a document `failed` with the reason; returns false when it is not in this organization.
pub async fn mark_failed(
    pool: &PgPool,
    org_id: Uuid,
    document_id: Uuid,
    error: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update knowledge_documents set status = 'failed', error = $3, updated_at = now() \
          where id = $1 and org_id = $2",
    )
    .bind(document_id)
    .bind(org_id)
    .bind(error)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a document (its chunks go by cascade); returns false when it is not in this organization.
pub async fn delete_document(
    pool: &PgPool,
    org_id: Uuid,
    document_id: Uuid,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from knowledge_documents where id = $1 and org_id = $2")
        .bind(document_id)
        .bind(org_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The `limit` chunks nearest `embedding` with similarity at least `threshold`, best first.
///
/// Only chunks of `ready` documents in `org_id`, org-wide or belonging to `agent_id`, embedded
/// by `embedding_model`.
pub async fn match_chunks(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Option<Uuid>,
    embedding: &[f32],
    embedding_model: &str,
    limit: u32,
    threshold: f32,
) -> Result<Vec<MatchedChunk>, sqlx::Error> {
    sqlx::query_as(
        "select chunk_id, document_id, document_title as title, heading_path, content, \
                similarity as score \
           from match_knowledge_chunks($1, $2, $3, $4, $5, $6)",
    )
    .bind(Vector::from(embedding.to_vec()))
    .bind(org_id)
    .bind(agent_id)
    .bind(i32::try_from(limit).unwrap_or(i32::MAX))
    .bind(threshold)
    .bind(embedding_model)
    .fetch_all(pool)
    .await
}

/// Chunk positions and counts fit in `integer` for any document we accept.
fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests;
