//! Ingesting extracted text into the knowledge base and searching it.
//!
//! Glue between [`crate::rag::chunk`], an [`Embedder`] and [`crate::store::knowledge`]: no SQL
//! here, and no tenant scoping in Rust — the store and its SQL function do that.

use sqlx::PgPool;
use uuid::Uuid;

use super::embed::{EmbedError, Embedder};
use crate::rag::{Chunk, ChunkOptions, chunk};
use crate::store::knowledge::{self as store, MatchedChunk, ReplaceChunksError};

/// Why ingesting or searching failed.
#[derive(Debug, thiserror::Error)]
pub enum RetrieveError {
    /// The embedder failed; [`EmbedError::is_retryable`] says whether to try again.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The embedder returned a different number of vectors than texts it was given.
    #[error("the embedder returned {got} vectors for {expected} texts")]
    VectorCount {
        /// Texts sent.
        expected: usize,
        /// Vectors received.
        got: usize,
    },
    /// The chunks could not be stored.
    #[error(transparent)]
    Store(#[from] ReplaceChunksError),
    /// The search query failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Chunks `text` to fit `embedder`, embeds the chunks in batches, and replaces the document's
/// chunks with them (marking it `ready`); returns the number of chunks.
pub async fn ingest_text(
    pool: &PgPool,
    embedder: &dyn Embedder,
    org_id: Uuid,
    document_id: Uuid,
    text: &str,
) -> Result<usize, RetrieveError> {
    let chunks = chunk(text, &ChunkOptions::fitting(embedder.max_input_tokens()));
    let vectors = embed_chunks(embedder, &chunks, |_| async {}).await?;
    let rows: Vec<_> = chunks.into_iter().zip(vectors).collect();
    store::replace_chunks(pool, org_id, document_id, embedder.model_id(), &rows).await?;
    Ok(rows.len())
}

/// Embeds `chunks` in the embedder's preferred batches, in order, calling `after_batch` with
/// the number embedded so far after each batch (ingestion reports progress with it).
pub async fn embed_chunks<F, Fut>(
    embedder: &dyn Embedder,
    chunks: &[Chunk],
    mut after_batch: F,
) -> Result<Vec<Vec<f32>>, RetrieveError>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = ()>,
{
    let texts: Vec<String> = chunks.iter().map(|c| c.embedding_text()).collect();
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(embedder.preferred_batch_size().max(1)) {
        let embedded = embedder.embed(batch).await?;
        if embedded.len() != batch.len() {
            return Err(RetrieveError::VectorCount {
                expected: batch.len(),
                got: embedded.len(),
            });
        }
        vectors.extend(embedded);
        after_batch(vectors.len()).await;
    }
    Ok(vectors)
}

/// The passages most similar to `query` that `agent_id` (or, with `None`, only org-wide
/// documents) may see in `org_id`: at most `limit`, each scoring at least `threshold`.
pub async fn search(
    pool: &PgPool,
    embedder: &dyn Embedder,
    org_id: Uuid,
    agent_id: Option<Uuid>,
    query: &str,
    limit: u32,
    threshold: f32,
) -> Result<Vec<MatchedChunk>, RetrieveError> {
    let vectors = embedder.embed(&[query.to_owned()]).await?;
    let [vector] = <[Vec<f32>; 1]>::try_from(vectors).map_err(|v| RetrieveError::VectorCount {
        expected: 1,
        got: v.len(),
    })?;
    let hits = store::match_chunks(
        pool,
        org_id,
        agent_id,
        &vector,
        embedder.model_id(),
        limit,
        threshold,
    )
    .await?;
    Ok(hits)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod eval;
