//! Knowledge documents and their embedded chunks.
//!
//! A document is written `pending`; [`replace_chunks`] swaps in its chunks and marks it
//! `ready` in one transaction, so a half-processed document is never searchable. Retrieval is
//! the SQL function `match_knowledge_chunks`, which scopes to the tenant (and agent) in SQL.
//! Every function takes the caller's `org_id` and filters on it.

use pgvector::Vector;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
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
pub async fn insert_document(
    pool: &PgPool,
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
    .fetch_one(pool)
    .await
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
