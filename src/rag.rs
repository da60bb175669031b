//! Retrieval-augmented generation, the pure half: turning extracted text into chunks.
//!
//! This module does no I/O: no files, no network, no clock, no runtime. Text arrives already
//! extracted (by [`crate::knowledge`]), and token counts come through the [`TokenCounter`] seam so
//! the embedding model's tokenizer can be plugged in from the I/O side.
//!
//! - [`chunk`] — structure-aware chunking with heading paths, source offsets and overlap.
//! - [`passages`] — retrieved passages rendered within a budget: start context and tool output.
//! - [`tokens`] — the [`TokenCounter`] trait and the tokenizer-free [`TokenEstimate`].

pub mod chunk;
mod outline;
pub mod passages;
mod sentence;
pub mod tokens;

pub use chunk::{Chunk, ChunkOptions, InvalidChunkOptions, chunk, chunk_with};
pub use passages::Passage;
pub use tokens::{TokenCounter, TokenEstimate};
