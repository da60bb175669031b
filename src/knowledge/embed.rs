//! Embedding text: the [`Embedder`] trait every embedding backend implements, and its error.
//!
//! Backends: [`local`] runs all-MiniLM-L6-v2 in-process so the product works offline; an
//! OpenAI-compatible HTTP backend (`text-embedding-3-small`, 1536 dimensions) plugs into the
//! same trait. The trait is object-safe (`Arc<dyn Embedder>` lives in the app state) and
//! async: CPU-bound backends do their work on the blocking pool, so no caller ever stalls the
//! runtime.

pub mod local;
pub mod openai;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

pub use local::{LazyLocalEmbedder, LoadModelError, LocalEmbedder, LocalModel};
pub use openai::{InvalidOpenAiEmbedderConfig, OpenAiEmbedder, OpenAiEmbedderConfig};

/// The future [`Embedder::embed`] returns: one vector per input text, in input order.
pub type EmbedFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, EmbedError>> + Send + 'a>>;

/// Something that turns texts into vectors.
pub trait Embedder: Send + Sync {
    /// The model's name as stored beside each vector (`"all-MiniLM-L6-v2"`).
    fn model_id(&self) -> &str;

    /// The length of every vector this embedder returns.
    fn dimensions(&self) -> usize;

    /// The most tokens of one input the model reads; longer inputs are truncated, so size
    /// chunks with `rag::ChunkOptions::fitting(max_input_tokens)`.
    fn max_input_tokens(&self) -> usize;

    /// How many texts to send per [`Embedder::embed`] call for good throughput.
    fn preferred_batch_size(&self) -> usize;

    /// Embeds `texts`, returning one unit-length (for cosine search) vector per text, in order.
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;
}

/// Why embedding failed, classified by what the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    /// The provider throttled us; retry after the given delay (or a backoff of our own).
    #[error("the embedding provider is rate limiting us")]
    RateLimited {
        /// How long the provider asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The provider could not be reached, timed out or failed on its side; retry later.
    #[error("the embedding provider is unavailable: {reason}")]
    Unavailable {
        /// What went wrong.
        reason: String,
    },
    /// The provider rejected this input (too long, empty, malformed); retrying will not help.
    #[error("the embedding request was rejected: {reason}")]
    BadRequest {
        /// The provider's explanation.
        reason: String,
    },
    /// The provider refused our credentials; fix the configuration, do not retry.
    #[error("the embedding provider refused our credentials")]
    Unauthorized,
    /// The local model failed while computing (a bug or a broken model file); do not retry.
    #[error("the embedding model failed: {reason}")]
    Model {
        /// What the model runtime reported.
        reason: String,
    },
}

impl EmbedError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            EmbedError::RateLimited { .. } | EmbedError::Unavailable { .. }
        )
    }

    /// How long to wait before retrying, when the provider said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            EmbedError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// The cosine similarity of two vectors (1 = same direction); 0 when either is all zeros.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    let denominator = norm(a) * norm(b);
    if denominator == 0.0 {
        0.0
    } else {
        dot / denominator
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_throttling_and_outages_are_retryable() {
        let wait = Some(Duration::from_secs(2));
        assert!(EmbedError::RateLimited { retry_after: wait }.is_retryable());
        assert_eq!(
            EmbedError::RateLimited { retry_after: wait }.retry_after(),
            wait
        );
        assert!(
            EmbedError::Unavailable {
                reason: "timeout".into()
            }
            .is_retryable()
        );
        assert!(
            !EmbedError::BadRequest {
                reason: "too long".into()
            }
            .is_retryable()
        );
        assert!(!EmbedError::Unauthorized.is_retryable());
        assert!(
            !EmbedError::Model {
                reason: "shape".into()
            }
            .is_retryable()
        );
    }

    #[test]
    fn cosine_similarity_of_simple_vectors() {
        assert!((cosine_similarity(&[1.0, 0.0], &[2.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine_similarity(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
    }

    #[test]
    fn the_trait_is_object_safe() {
        fn takes(_: Option<std::sync::Arc<dyn Embedder>>) {}
        takes(None);
    }
}
