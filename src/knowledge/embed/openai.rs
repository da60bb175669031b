//! [`OpenAiEmbedder`]: embeddings from OpenAI's HTTP API (or any compatible server) through
//! `async-openai`.
//!
//! Texts go out in batches of [`OpenAiEmbedderConfig::batch_size`], one request at a time so a
//! large document does not burst through the rate limit. Throttling and outages are retried by
//! `async-openai`'s built-in retry layer: at most 3 retries per request, waiting `Retry-After`
//! seconds when the server sends one and 100 ms doubling otherwise. That layer's waits are not
//! capped, so each batch also runs under [`OpenAiEmbedderConfig::max_elapsed`]; past it the batch
//! fails as retryable and the ingestion job falls back to its own back-off instead of hanging.

use std::time::Duration;

use async_openai::Client;
use async_openai::config::{Config, OpenAIConfig};
use async_openai::error::OpenAIError;
use async_openai::types::embeddings::{CreateEmbeddingRequest, EmbeddingInput, EncodingFormat};
use base64::Engine;

use super::{EmbedError, EmbedFuture, Embedder};

/// The default model.
pub const DEFAULT_MODEL: &str = "text-embedding-3-small";
/// The default (and `text-embedding-3-small`'s native) vector length.
pub const DEFAULT_DIMENSIONS: usize = 1536;
/// The most tokens one input to the `text-embedding-3` models may hold; longer inputs are
/// rejected with `400`, not truncated.
pub const MODEL_MAX_INPUT_TOKENS: usize = 8191;
/// What [`Embedder::max_input_tokens`] reports, and so the window chunks are sized for.
///
/// Not [`MODEL_MAX_INPUT_TOKENS`]: for phone answers, retrieval wants one chunk per topic, and
/// a vector of an 8k-token chunk blurs many topics together. Our chunker counts tokens with an
/// estimate rather than OpenAI's tokenizer, so a 512 window also keeps every chunk far from the
/// hard limit (`ChunkOptions::fitting` currently caps chunks at 400 tokens anyway).
pub const CHUNK_WINDOW_TOKENS: usize = 512;
/// The default number of texts per request: big enough for throughput, small enough that one
/// request stays well inside the API's 300k-tokens-per-request limit (64 × 512 = 32k).
pub const DEFAULT_BATCH_SIZE: usize = 64;
/// The API's limit on inputs per request.
pub const MAX_BATCH_SIZE: usize = 2048;
/// The default time budget for one batch, retries included.
pub const DEFAULT_MAX_ELAPSED: Duration = Duration::from_secs(60);

/// Where and how to reach the embeddings API.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenAiEmbedderConfig {
    /// The API base URL, e.g. `https://api.openai.com/v1` (or a fake's `http://127.0.0.1:PORT/v1`).
    pub base_url: String,
    /// The API key, sent as `Authorization: Bearer …`; never printed by `Debug`.
    pub api_key: String,
    /// The model, e.g. `text-embedding-3-small`.
    pub model: String,
    /// The vector length; sent as the `dimensions` parameter to `text-embedding-3` models.
    pub dimensions: usize,
    /// Texts per request (1 to [`MAX_BATCH_SIZE`]).
    pub batch_size: usize,
    /// The most time one batch may take, `async-openai`'s retries included.
    pub max_elapsed: Duration,
}

impl OpenAiEmbedderConfig {
    /// The defaults (`text-embedding-3-small`, 1536 dimensions, batches of 64, 60 s per batch)
    /// for a base URL and key.
    pub fn new(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: api_key.into(),
            model: DEFAULT_MODEL.into(),
            dimensions: DEFAULT_DIMENSIONS,
            batch_size: DEFAULT_BATCH_SIZE,
            max_elapsed: DEFAULT_MAX_ELAPSED,
        }
    }
}

impl std::fmt::Debug for OpenAiEmbedderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedderConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &"<redacted>")
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .field("batch_size", &self.batch_size)
            .field("max_elapsed", &self.max_elapsed)
            .finish()
    }
}

/// Why an [`OpenAiEmbedderConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOpenAiEmbedderConfig {
    /// The base URL is not an `http://` or `https://` URL.
    #[error("the embeddings base URL must start with http:// or https://, got {got:?}")]
    BaseUrl {
        /// The configured base URL.
        got: String,
    },
    /// No model was named.
    #[error("the embedding model name is empty")]
    EmptyModel,
    /// Vectors cannot be empty.
    #[error("embedding dimensions must be at least 1")]
    ZeroDimensions,
    /// The batch size is outside what the API accepts.
    #[error("the embedding batch size must be between 1 and {max}, got {got}")]
    BatchSize {
        /// The configured batch size.
        got: usize,
        /// The largest batch the API accepts.
        max: usize,
    },
}

/// An [`Embedder`] backed by OpenAI's embeddings endpoint.
pub struct OpenAiEmbedder {
    client: Client<OpenAIConfig>,
    model: String,
    dimensions: usize,
    batch_size: usize,
    max_elapsed: Duration,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("base_url", &self.client.config().api_base())
            .field("model", &self.model)
            .field("dimensions", &self.dimensions)
            .field("batch_size", &self.batch_size)
            .field("max_elapsed", &self.max_elapsed)
            .finish_non_exhaustive()
    }
}

impl OpenAiEmbedder {
    /// Checks `config` and builds the HTTP client (no request is sent).
    pub fn new(config: OpenAiEmbedderConfig) -> Result<Self, InvalidOpenAiEmbedderConfig> {
        let base_url = config.base_url.trim_end_matches('/');
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(InvalidOpenAiEmbedderConfig::BaseUrl {
                got: config.base_url,
            });
        }
        if config.model.trim().is_empty() {
            return Err(InvalidOpenAiEmbedderConfig::EmptyModel);
        }
        if config.dimensions == 0 {
            return Err(InvalidOpenAiEmbedderConfig::ZeroDimensions);
        }
        if !(1..=MAX_BATCH_SIZE).contains(&config.batch_size) {
            return Err(InvalidOpenAiEmbedderConfig::BatchSize {
                got: config.batch_size,
                max: MAX_BATCH_SIZE,
            });
        }
        // `OpenAIConfig::new` fills org and project ids from OPENAI_* environment variables;
        // blank them so only our typed configuration decides what is sent.
        let openai = OpenAIConfig::new()
            .with_api_base(base_url)
            .with_api_key(config.api_key)
            .with_org_id("")
            .with_project_id("");
        ensure_rustls_crypto_provider();
        Ok(Self {
            client: Client::with_config(openai),
            model: config.model,
            dimensions: config.dimensions,
            batch_size: config.batch_size,
            max_elapsed: config.max_elapsed,
        })
    }

    async fn embed_batch(&self, batch: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let request = CreateEmbeddingRequest {
            model: self.model.clone(),
            input: EmbeddingInput::StringArray(batch.to_vec()),
            // Base64 is what OpenAI's own SDKs request: a third of the bytes of a float list.
            encoding_format: Some(EncodingFormat::Base64),
            user: None,
            // Only the text-embedding-3 family accepts `dimensions`; others answer 400.
            dimensions: self
                .model
                .starts_with("text-embedding-3")
                .then(|| u32::try_from(self.dimensions).unwrap_or(u32::MAX)),
        };
        let embeddings = self.client.embeddings();
        let call = embeddings.create_base64(request);
        let response = match tokio::time::timeout(self.max_elapsed, call).await {
            Ok(response) => response.map_err(classify)?,
            Err(_) => {
                return Err(EmbedError::Unavailable {
                    reason: format!(
                        "no embeddings within {:?} (retries included)",
                        self.max_elapsed
                    ),
                });
            }
        };
        // The API documents `index` as the input's position; order by it rather than trusting
        // the list order.
        let mut slots: Vec<Option<Vec<f32>>> = vec![None; batch.len()];
        for item in response.data {
            let index = item.index as usize;
            let vector = decode_vector(&item.embedding.0)?;
            if vector.len() != self.dimensions {
                return Err(EmbedError::Model {
                    reason: format!(
                        "{} returned {} dimensions, expected {}",
                        self.model,
                        vector.len(),
                        self.dimensions
                    ),
                });
            }
            match slots.get_mut(index) {
                Some(slot @ None) => *slot = Some(normalized(vector)),
                _ => {
                    return Err(EmbedError::Model {
                        reason: format!("unexpected or repeated embedding index {index}"),
                    });
                }
            }
        }
        slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| {
                slot.ok_or_else(|| EmbedError::Model {
                    reason: format!("no embedding returned for input {i}"),
                })
            })
            .collect()
    }
}

impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.model
    }

    fn dimensions(&self) -> usize {
        self.dimensions
    }

    fn max_input_tokens(&self) -> usize {
        CHUNK_WINDOW_TOKENS
    }

    fn preferred_batch_size(&self) -> usize {
        self.batch_size
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            // The API rejects empty strings; say which one without a round trip.
            if let Some(i) = texts.iter().position(String::is_empty) {
                return Err(EmbedError::BadRequest {
                    reason: format!("input {i} is an empty string"),
                });
            }
            let mut vectors = Vec::with_capacity(texts.len());
            for batch in texts.chunks(self.batch_size) {
                vectors.extend(self.embed_batch(batch).await?);
            }
            Ok(vectors)
        })
    }
}

/// Installs `ring` as the process's rustls crypto provider unless one is installed already.
///
/// `async-openai` is built with `rustls-no-provider`, and reqwest then panics while building
/// any client (even for plain `http://`) when no process-wide provider is installed; only
/// `ring` is compiled into the workspace. Idempotent and cheap; call it before building an
/// `async_openai::Client`.
pub fn ensure_rustls_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another thread installing one is fine: some provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Decodes a base64 vector of little-endian `f32`s (without `async-openai`'s panicking `From`).
fn decode_vector(encoded: &str) -> Result<Vec<f32>, EmbedError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| EmbedError::Unavailable {
            reason: format!("the embedding response was not valid base64: {e}"),
        })?;
    if bytes.len() % 4 != 0 {
        return Err(EmbedError::Unavailable {
            reason: format!(
                "the embedding response held {} bytes, not whole f32s",
                bytes.len()
            ),
        });
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Rescales to unit length: OpenAI's vectors are already, but the trait promises it to callers.
fn normalized(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && (norm - 1.0).abs() > 1e-6 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// Maps an `async-openai` failure (after its retries) to what the caller should do next.
fn classify(error: OpenAIError) -> EmbedError {
    match error {
        OpenAIError::ApiError(response) => {
            let api = response.api_error;
            let reason = api.message.clone();
            match response.status_code.as_u16() {
                // Out of credit is also a 429, but waiting will not fix billing.
                429 if api.r#type.as_deref() == Some("insufficient_quota")
                    || api.code.as_deref() == Some("insufficient_quota") =>
                {
                    tracing::warn!(%reason, "OpenAI quota exhausted");
                    EmbedError::Unauthorized
                }
                // The retry layer consumed the `Retry-After` header; the message still says
                // "Please try again in 1.5s" on the real API.
                429 => EmbedError::RateLimited {
                    retry_after: retry_hint(&api.message),
                },
                401 | 403 => EmbedError::Unauthorized,
                408 | 500..=599 => EmbedError::Unavailable { reason },
                _ => EmbedError::BadRequest { reason },
            }
        }
        OpenAIError::Reqwest(e) => match e.status().map(|s| s.as_u16()) {
            Some(401 | 403) => EmbedError::Unauthorized,
            Some(429) => EmbedError::RateLimited { retry_after: None },
            Some(status @ 400..=499) if status != 408 => EmbedError::BadRequest {
                reason: e.to_string(),
            },
            // Connect failures, timeouts, broken bodies, 5xx.
            _ => EmbedError::Unavailable {
                reason: e.to_string(),
            },
        },
        // A 200 whose body is not the documented shape: a provider-side fault, possibly
        // transient (a proxy's error page), so let the job retry.
        OpenAIError::JSONDeserialize(e, _) => EmbedError::Unavailable {
            reason: format!("unreadable embeddings response: {e}"),
        },
        OpenAIError::InvalidArgument(reason) => EmbedError::BadRequest { reason },
        other => EmbedError::Unavailable {
            reason: other.to_string(),
        },
    }
}

/// The wait in an OpenAI rate-limit message ("… Please try again in 1.5s." / "in 20ms" /
/// "in 1m30s"), when it has one.
fn retry_hint(message: &str) -> Option<Duration> {
    let (_, rest) = message.split_once("try again in ")?;
    let token = rest.split_whitespace().next()?.trim_end_matches(['.', ',']);
    let mut total = Duration::ZERO;
    let mut rest = token;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let value: f64 = rest[..digits].parse().ok()?;
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let seconds = match &rest[digits..digits + unit_len] {
            "ms" => value / 1000.0,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            _ => return None,
        };
        total += Duration::try_from_secs_f64(seconds).ok()?;
        rest = &rest[digits + unit_len..];
    }
    (total > Duration::ZERO).then_some(total)
}

#[cfg(test)]
mod tests;
