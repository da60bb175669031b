//! The knowledge base's I/O half: reading uploaded documents into text, and embedding text.
//!
//! Pure chunking lives in [`crate::rag`]; this module owns what touches bytes, files and
//! models. The document job (later) strings them together: [`extract`] → [`crate::rag::chunk`]
//! → [`embed`] in batches → the store.
//!
//! - [`extract`] — txt, md, html, pdf and docx to text with Markdown headings.
//! - [`embed`] — the [`Embedder`] trait, its retry-aware error, and the in-process
//!   all-MiniLM-L6-v2 model.
//! - [`retrieve`] — ingesting text (chunk → embed → store) and searching it.
//! - [`ingest`] — accepting uploads and the durable job that makes them searchable.
//! - [`context`] — each agent's precomputed start context.
//! - [`tool`] — the `query_knowledge_base` tool's answer.

pub mod context;
pub mod embed;
pub mod extract;
pub mod ingest;
pub mod retrieve;
pub mod tool;

pub use embed::{EmbedError, Embedder};
pub use extract::{ExtractError, ExtractedText, Format, extract};
