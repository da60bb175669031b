//! all-MiniLM-L6-v2 run in-process on the CPU with candle: 384-dimensional sentence vectors,
//! no network and no Python.
//!
//! The pipeline matches sentence-transformers' for this model: WordPiece tokens truncated at
//! 256 (the tokenizer.json ships 128; we override it), a 6-layer BERT, mean pooling over real
//! tokens only (the attention mask excludes padding), then L2 normalisation. Padding therefore
//! never changes a vector, which is what lets us batch texts of different lengths.
//!
//! [`LocalModel`] is the synchronous, CPU-bound core. [`LocalEmbedder`] wraps it for async
//! callers: it runs one batch at a time on tokio's blocking pool (the matrix kernels already use
//! every core, so running batches side by side would only thrash), and waiting callers queue on
//! a semaphore rather than holding blocking threads.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};
use tokio::sync::Semaphore;

use super::{EmbedError, EmbedFuture, Embedder};
use crate::rag::TokenCounter;

/// The model's name as stored beside each vector.
pub const MODEL_ID: &str = "all-MiniLM-L6-v2";
/// The length of every vector.
pub const DIMENSIONS: usize = 384;
/// Tokens per input the model reads, special tokens included (sentence-transformers' value).
pub const MAX_INPUT_TOKENS: usize = 256;
/// Default texts per forward pass. Small batches win: a batch is padded to its longest text, and
/// on two cores 8 chunks of ~170 tokens embed at 18 chunks/s against 13.6 at 32 (release build,
/// `throughput` test).
pub const BATCH_SIZE: usize = 8;
/// The files a model directory must hold.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Why the model could not be loaded (a deployment problem, never a per-request one).
#[derive(Debug, thiserror::Error)]
pub enum LoadModelError {
    /// A required file is not in the model directory.
    #[error("model file {} is missing: fetch all-MiniLM-L6-v2 into that directory", path.display())]
    MissingFile {
        /// The file we looked for.
        path: PathBuf,
    },
    /// A file exists but could not be read or parsed.
    #[error("model file {} is unreadable: {reason}", path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// all-MiniLM-L6-v2, loaded and ready; embedding blocks the calling thread.
pub struct LocalModel {
    model: BertModel,
    /// Truncates at [`MAX_INPUT_TOKENS`] and pads to the longest text of a batch.
    tokenizer: Tokenizer,
    /// The same vocabulary without truncation or padding, for counting.
    counter: Tokenizer,
    device: Device,
    batch_size: usize,
}

impl LocalModel {
    /// Loads the model from a directory holding [`MODEL_FILES`] (reads about 90 MB).
    pub fn load(dir: &Path) -> Result<Self, LoadModelError> {
        let [config_path, tokenizer_path, weights_path] = MODEL_FILES.map(|f| dir.join(f));
        for path in [&config_path, &tokenizer_path, &weights_path] {
            if !path.is_file() {
                return Err(LoadModelError::MissingFile { path: path.clone() });
            }
        }
        let bad = |path: &Path, reason: String| LoadModelError::BadFile {
            path: path.to_owned(),
            reason,
        };

        let config_json =
            std::fs::read_to_string(&config_path).map_err(|e| bad(&config_path, e.to_string()))?;
        let config: Config =
            serde_json::from_str(&config_json).map_err(|e| bad(&config_path, e.to_string()))?;

        let mut counter = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| bad(&tokenizer_path, e.to_string()))?;
        counter.with_padding(None);
        counter
            .with_truncation(None)
            .map_err(|e| bad(&tokenizer_path, e.to_string()))?;
        let mut tokenizer = counter.clone();
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id: config.pad_token_id as u32,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_INPUT_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| bad(&tokenizer_path, e.to_string()))?;

        // Read into memory rather than mmap: mmap needs `unsafe`, which this crate forbids.
        let weights =
            std::fs::read(&weights_path).map_err(|e| bad(&weights_path, e.to_string()))?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(weights, DTYPE, &device)
            .map_err(|e| bad(&weights_path, e.to_string()))?;
        let model = BertModel::load(vb, &config).map_err(|e| bad(&weights_path, e.to_string()))?;
        if config.hidden_size != DIMENSIONS {
            return Err(bad(
                &config_path,
                format!(
                    "hidden_size is {}, expected {DIMENSIONS}",
                    config.hidden_size
                ),
            ));
        }
        Ok(Self {
            model,
            tokenizer,
            counter,
            device,
            batch_size: BATCH_SIZE,
        })
    }

    /// Sets how many texts go through the model per forward pass (at least 1).
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Texts per forward pass ([`BATCH_SIZE`] unless changed).
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Embeds `texts` into unit vectors, in input order. CPU-bound: call from a blocking thread.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>, EmbedError> {
        // Batch texts of similar length together so little work is spent on padding.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].as_ref().len());
        let mut out = vec![Vec::new(); texts.len()];
        for batch in order.chunks(self.batch_size) {
            let inputs: Vec<&str> = batch.iter().map(|&i| texts[i].as_ref()).collect();
            for (&i, vector) in batch.iter().zip(self.embed_batch(&inputs)?) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    /// Token count of `text` as the model sees it, without `[CLS]`/`[SEP]` and without truncation.
    pub fn count_tokens(&self, text: &str) -> usize {
        self.counter
            .encode(text, false)
            .map(|e| e.len())
            .unwrap_or(0)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let model_error = |e: &dyn std::fmt::Display| EmbedError::Model {
            reason: e.to_string(),
        };
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| model_error(&e))?;
        let rows = encodings.len();
        let width = encodings.first().map_or(0, |e| e.len());
        let ids: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_ids().to_vec())
            .collect();
        let mask: Vec<u32> = encodings
            .iter()
            .flat_map(|e| e.get_attention_mask().to_vec())
            .collect();

        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let ids = Tensor::from_vec(ids, (rows, width), &self.device)?;
            let mask = Tensor::from_vec(mask, (rows, width), &self.device)?;
            let hidden = self.model.forward(&ids, &ids.zeros_like()?, Some(&mask))?; // (B, L, 384)
            let weights = mask.to_dtype(DType::F32)?.unsqueeze(2)?; // (B, L, 1)
            // Mean over real tokens only; every row has at least [CLS] and [SEP], so no 0/0.
            let mean = hidden
                .broadcast_mul(&weights)?
                .sum(1)?
                .broadcast_div(&weights.sum(1)?)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        };
        run().map_err(|e| model_error(&e))
    }
}

impl TokenCounter for LocalModel {
    fn count(&self, text: &str) -> usize {
        self.count_tokens(text)
    }
}

/// [`LocalModel`] behind the async [`Embedder`] trait.
#[derive(Clone)]
pub struct LocalEmbedder {
    model: Arc<LocalModel>,
    /// One batch at a time; see the module docs.
    running: Arc<Semaphore>,
}

impl LocalEmbedder {
    /// Wraps a loaded model.
    pub fn new(model: LocalModel) -> Self {
        Self {
            model: Arc::new(model),
            running: Arc::new(Semaphore::new(1)),
        }
    }

    /// Loads the model from `dir` on the blocking pool.
    pub async fn load(dir: PathBuf) -> Result<Self, LoadModelError> {
        let path = dir.clone();
        tokio::task::spawn_blocking(move || LocalModel::load(&dir))
            .await
            .map_err(|e| LoadModelError::BadFile {
                path,
                reason: format!("loading stopped: {e}"),
            })?
            .map(Self::new)
    }

    /// The model, for counting tokens (it implements [`TokenCounter`]).
    pub fn model(&self) -> &Arc<LocalModel> {
        &self.model
    }
}

impl Embedder for LocalEmbedder {
    fn model_id(&self) -> &str {
        MODEL_ID
    }

    fn dimensions(&self) -> usize {
        DIMENSIONS
    }

    fn max_input_tokens(&self) -> usize {
        MAX_INPUT_TOKENS
    }

    fn preferred_batch_size(&self) -> usize {
        self.model.batch_size()
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            if texts.is_empty() {
                return Ok(Vec::new());
            }
            let turn = Arc::clone(&self.running)
                .acquire_owned()
                .await
                .map_err(|e| EmbedError::Model {
                    reason: e.to_string(),
                })?;
            let model = Arc::clone(&self.model);
            let texts = texts.to_vec();
            // The permit moves into the task, so a caller that gives up waiting does not let a
            // second batch start while this one still runs.
            tokio::task::spawn_blocking(move || {
                let _turn = turn;
                model.embed(&texts)
            })
            .await
            .map_err(|e| EmbedError::Model {
                reason: format!("embedding task failed: {e}"),
            })?
        })
    }
}

/// [`LocalEmbedder`] loaded on first use, so a server that never embeds (or a test that does
/// not) never reads the 90 MB model. [`LazyLocalEmbedder::new`] checks the files are there, so
/// a missing model is still reported at start-up.
pub struct LazyLocalEmbedder {
    dir: PathBuf,
    loaded: tokio::sync::OnceCell<LocalEmbedder>,
}

impl LazyLocalEmbedder {
    /// An embedder that will load the model in `dir`, which must hold [`MODEL_FILES`].
    pub fn new(dir: PathBuf) -> Result<Self, LoadModelError> {
        for file in MODEL_FILES {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(LoadModelError::MissingFile { path });
            }
        }
        Ok(Self {
            dir,
            loaded: tokio::sync::OnceCell::new(),
        })
    }

    async fn model(&self) -> Result<&LocalEmbedder, EmbedError> {
        self.loaded
            .get_or_try_init(|| LocalEmbedder::load(self.dir.clone()))
            .await
            .map_err(|e| EmbedError::Model {
                reason: e.to_string(),
            })
    }
}

impl Embedder for LazyLocalEmbedder {
    fn model_id(&self) -> &str {
        MODEL_ID
    }

    fn dimensions(&self) -> usize {
        DIMENSIONS
    }

    fn max_input_tokens(&self) -> usize {
        MAX_INPUT_TOKENS
    }

    fn preferred_batch_size(&self) -> usize {
        self.loaded
            .get()
            .map_or(BATCH_SIZE, |m| m.preferred_batch_size())
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move { self.model().await?.embed(texts).await })
    }
}

#[cfg(test)]
mod tests;
