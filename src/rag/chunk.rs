//! Structure-aware chunking: extracted text in, retrieval-sized [`Chunk`]s out.
//!
//! The text is read into sections by heading ([`super::outline`]); a chunk never spans two
//! sections, so every chunk has one heading path. Inside a section, paragraphs are packed whole
//! while they fit; a section that is too long is cut at a paragraph boundary when the chunk is at
//! least half full, otherwise between sentences, and only a sentence longer than a whole chunk is
//! cut between lines and then between words (never inside a word). Chunks of a long section are
//! balanced in size, and each one after the first repeats the end of the one before (whole
//! sentences when they fit the overlap budget, else the last few words).
//!
//! Invariants, checked by the tests: chunks are non-empty; `text` is exactly
//! `source[source_start..source_end]` and is trimmed; `token_count` is the counter's count of
//! `text` and stays within [`ChunkOptions::max_tokens`] unless a single word is longer than that.

use std::ops::Range;

use super::outline::{Section, sections};
use super::sentence;
use super::tokens::{TokenCounter, TokenEstimate};

/// One retrievable piece of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Position of the chunk in the document, from 0.
    pub index: usize,
    /// Titles of the headings the chunk sits under, outermost first (`["Menu", "Pizzas"]`).
    pub heading_path: Vec<String>,
    /// The chunk's text, an exact slice of the extracted text.
    pub text: String,
    /// Tokens in `text`, as counted by the counter the chunker was given.
    pub token_count: usize,
    /// Byte offset of the chunk's first byte in the extracted text.
    pub source_start: usize,
    /// Byte offset just past the chunk's last byte in the extracted text.
    pub source_end: usize,
}

impl Chunk {
    /// The text to embed: the heading path on its own line, then the chunk's text.
    ///
    /// Headings carry meaning the body leaves implicit ("Pizzas" above "Margherita, 12"), so
    /// embedding them improves retrieval; [`ChunkOptions::fitting`] reserves room for them.
    pub fn embedding_text(&self) -> String {
        if self.heading_path.is_empty() {
            return self.text.clone();
        }
        format!("{}\n\n{}", self.heading_path.join(" > "), self.text)
    }
}

/// How large chunks may be and how much consecutive chunks overlap, in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkOptions {
    max_tokens: usize,
    overlap_tokens: usize,
}

/// Why a [`ChunkOptions`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidChunkOptions {
    /// Chunks this small hold no useful context.
    #[error("max_tokens must be at least {min}, got {got}")]
    MaxTooSmall {
        /// The requested maximum.
        got: usize,
        /// The smallest maximum accepted.
        min: usize,
    },
    /// The overlap must leave each chunk at least half new text.
    #[error("overlap_tokens ({overlap}) must be at most half of max_tokens ({max})")]
    OverlapTooLarge {
        /// The requested overlap.
        overlap: usize,
        /// The requested maximum.
        max: usize,
    },
}

impl ChunkOptions {
    /// The default chunk ceiling, sized for models with long inputs such as `text-embedding-3-small`.
    pub const DEFAULT_MAX_TOKENS: usize = 400;
    /// The default overlap between consecutive chunks of one section.
    pub const DEFAULT_OVERLAP_TOKENS: usize = 50;
    /// The smallest `max_tokens` accepted.
    pub const MIN_MAX_TOKENS: usize = 16;
    /// Tokens [`ChunkOptions::fitting`] leaves for the heading path and the model's special tokens.
    pub const EMBEDDING_RESERVE_TOKENS: usize = 32;

    /// Options with a chunk ceiling and an overlap (at most half the ceiling).
    pub fn new(max_tokens: usize, overlap_tokens: usize) -> Result<Self, InvalidChunkOptions> {
        if max_tokens < Self::MIN_MAX_TOKENS {
            return Err(InvalidChunkOptions::MaxTooSmall {
                got: max_tokens,
                min: Self::MIN_MAX_TOKENS,
            });
        }
        if overlap_tokens > max_tokens / 2 {
            return Err(InvalidChunkOptions::OverlapTooLarge {
                overlap: overlap_tokens,
                max: max_tokens,
            });
        }
        Ok(Self {
            max_tokens,
            overlap_tokens,
        })
    }

    /// The default options, shrunk so [`Chunk::embedding_text`] fits a model reading at most
    /// `window_tokens` tokens (all-MiniLM-L6-v2 reads 256: chunks of at most 201, overlap 40).
    ///
    /// After [`Self::EMBEDDING_RESERVE_TOKENS`], a tenth of the window is left for the error of
    /// [`TokenEstimate`], which undercounts code: sized by it to the full 224, 3 of the 810
    /// chunks of the Rust-book evaluation (compiler output, backtraces) ran past 256 real tokens
    /// and lost their ends. Sizing with the model's own counter (`chunk_with`) needs no margin.
    pub fn fitting(window_tokens: usize) -> Self {
        let max = (window_tokens.saturating_sub(Self::EMBEDDING_RESERVE_TOKENS) * 9 / 10)
            .clamp(Self::MIN_MAX_TOKENS, Self::DEFAULT_MAX_TOKENS);
        Self {
            max_tokens: max,
            overlap_tokens: Self::DEFAULT_OVERLAP_TOKENS.min(max / 5),
        }
    }

    /// The most tokens a chunk may hold.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// How many tokens of a chunk's end the next chunk of the same section repeats.
    pub fn overlap_tokens(&self) -> usize {
        self.overlap_tokens
    }
}

impl Default for ChunkOptions {
    fn default() -> Self {
        Self {
            max_tokens: Self::DEFAULT_MAX_TOKENS,
            overlap_tokens: Self::DEFAULT_OVERLAP_TOKENS,
        }
    }
}

/// Chunks `text`, counting tokens with the [`TokenEstimate`].
pub fn chunk(text: &str, options: &ChunkOptions) -> Vec<Chunk> {
    chunk_with(text, options, &TokenEstimate)
}

/// Chunks `text`, counting tokens with `counter` (for example the embedding model's tokenizer).
pub fn chunk_with<C: TokenCounter + ?Sized>(
    text: &str,
    options: &ChunkOptions,
    counter: &C,
) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for section in sections(text) {
        let pieces = pieces(text, &section, options.max_tokens, counter);
        for range in pack(text, &pieces, options, counter) {
            let body = &text[range.clone()];
            chunks.push(Chunk {
                index: chunks.len(),
                heading_path: section.heading_path.clone(),
                text: body.to_owned(),
                token_count: counter.count(body),
                source_start: range.start,
                source_end: range.end,
            });
        }
    }
    chunks
}

/// A unit the packer never cuts: a sentence, or part of one too long for a chunk.
#[derive(Debug, Clone)]
struct Piece {
    range: Range<usize>,
    tokens: usize,
    /// Index of the paragraph (within the section) the piece comes from.
    paragraph: usize,
}

fn pieces<C: TokenCounter + ?Sized>(
    text: &str,
    section: &Section,
    max: usize,
    counter: &C,
) -> Vec<Piece> {
    let mut out = Vec::new();
    for (paragraph, range) in section.paragraphs.iter().enumerate() {
        for s in sentence::sentences(text, range.clone()) {
            let tokens = counter.count(&text[s.clone()]);
            if tokens <= max {
                out.push(Piece {
                    range: s,
                    tokens,
                    paragraph,
                });
                continue;
            }
            for line in sentence::lines(text, s) {
                let tokens = counter.count(&text[line.clone()]);
                if tokens <= max {
                    out.push(Piece {
                        range: line,
                        tokens,
                        paragraph,
                    });
                } else {
                    out.extend(
                        word_windows(text, line, max, counter).map(|(range, tokens)| Piece {
                            range,
                            tokens,
                            paragraph,
                        }),
                    );
                }
            }
        }
    }
    out
}

/// Consecutive runs of whole words, each within `max` tokens (a longer single word stands alone).
fn word_windows<'a, C: TokenCounter + ?Sized>(
    text: &'a str,
    range: Range<usize>,
    max: usize,
    counter: &'a C,
) -> impl Iterator<Item = (Range<usize>, usize)> + 'a {
    let mut words = sentence::words(text, range).into_iter().peekable();
    std::iter::from_fn(move || {
        let first = words.next()?;
        let (start, mut end) = (first.start, first.end);
        let mut tokens = counter.count(&text[first]);
        while let Some(next) = words.peek() {
            let mut candidate = tokens + counter.count(&text[next.clone()]);
            if candidate > max {
                // Per-word sums overcharge (each word rounds up); recount exactly before giving up.
                candidate = counter.count(&text[start..next.end]);
                if candidate > max {
                    break;
                }
            }
            tokens = candidate;
            end = next.end;
            words.next();
        }
        Some((start..end, tokens))
    })
}

/// Groups a section's pieces into chunk ranges.
fn pack<C: TokenCounter + ?Sized>(
    text: &str,
    pieces: &[Piece],
    options: &ChunkOptions,
    counter: &C,
) -> Vec<Range<usize>> {
    let Some(last) = pieces.last() else {
        return Vec::new();
    };
    let total: usize = pieces.iter().map(|p| p.tokens).sum();
    let (max, overlap) = (options.max_tokens, options.overlap_tokens);
    if total <= max {
        let whole = pieces[0].range.start..last.range.end;
        return vec![whole];
    }
    // Aim for equal chunks rather than full ones followed by a scrap; the slack absorbs the
    // sentence that would otherwise spill into an extra chunk.
    let count = total.div_ceil(max - overlap);
    let soft = (total.div_ceil(count) + overlap + max / 20).min(max);

    let mut paragraph_tokens = vec![0; last.paragraph + 1];
    for p in pieces {
        paragraph_tokens[p.paragraph] += p.tokens;
    }

    let mut out = Vec::new();
    let mut current: Vec<Piece> = Vec::new();
    let mut current_tokens = 0;
    for (k, piece) in pieces.iter().enumerate() {
        let starts_paragraph = k == 0 || pieces[k - 1].paragraph != piece.paragraph;
        let full = current_tokens + piece.tokens > soft;
        let paragraph_break = starts_paragraph
            && current_tokens >= soft / 2
            && current_tokens + paragraph_tokens[piece.paragraph] > soft;
        // `current` is never only carried-over overlap here: a piece is pushed right after.
        if !current.is_empty() && (full || paragraph_break) {
            out.push(span(&current));
            let budget = overlap.min(max.saturating_sub(piece.tokens));
            current = overlap_tail(text, &current, budget, counter);
            current_tokens = current.iter().map(|p| p.tokens).sum();
        }
        current_tokens += piece.tokens;
        current.push(piece.clone());
    }
    out.push(span(&current));
    out
}

fn span(pieces: &[Piece]) -> Range<usize> {
    pieces[0].range.start..pieces[pieces.len() - 1].range.end
}

/// The end of a finished chunk to repeat at the start of the next: the longest run of whole
/// trailing pieces within `budget` (never the whole chunk), else the last words of its last piece.
fn overlap_tail<C: TokenCounter + ?Sized>(
    text: &str,
    chunk: &[Piece],
    budget: usize,
    counter: &C,
) -> Vec<Piece> {
    let mut taken = 0;
    let mut tokens = 0;
    for p in chunk.iter().skip(1).rev() {
        if tokens + p.tokens > budget {
            break;
        }
        tokens += p.tokens;
        taken += 1;
    }
    if taken > 0 {
        return chunk[chunk.len() - taken..].to_vec();
    }
    let last = &chunk[chunk.len() - 1];
    let words = sentence::words(text, last.range.clone());
    // Count each candidate tail whole: summing per-word counts would overcharge rounding
    // estimates (a word alone rounds up) and shrink the overlap for nothing.
    let mut best = None;
    for first in (1..words.len()).rev() {
        let range = words[first].start..last.range.end;
        let tokens = counter.count(&text[range.clone()]);
        if tokens > budget {
            break;
        }
        best = Some(Piece {
            range,
            tokens,
            paragraph: last.paragraph,
        });
    }
    best.into_iter().collect()
}

#[cfg(test)]
mod tests;
