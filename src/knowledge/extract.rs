//! Text extraction: uploaded bytes in, plain text with Markdown headings out.
//!
//! Every extractor writes the structure it can see the way [`crate::rag::chunk`] reads it:
//! headings as ATX lines (`## Pizzas`), paragraphs separated by a blank line, list items as
//! `- ` lines, table rows as `cell | cell` lines. PDFs keep their page boundaries in
//! [`ExtractedText::pages`] so chunks can cite a page.
//!
//! Nothing here panics on hostile input: malformed files become [`ExtractError::Corrupt`], and
//! the PDF parser, which can panic, runs under `catch_unwind`. Extraction is CPU-bound and
//! synchronous; async callers run it in `tokio::task::spawn_blocking`.

mod docx;
mod html;
mod pdf;
mod plain;

use std::fmt;
use std::ops::Range;

/// A document format we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain text (`text/plain`, `.txt`).
    Text,
    /// Markdown (`text/markdown`, `.md`).
    Markdown,
    /// HTML (`text/html`, `.html`, `.htm`).
    Html,
    /// PDF with a text layer (`application/pdf`, `.pdf`); scanned pages need OCR, which we lack.
    Pdf,
    /// Word 2007+ (`.docx`).
    Docx,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Markdown,
        Format::Html,
        Format::Pdf,
        Format::Docx,
    ];

    /// The format's canonical MIME type.
    pub fn mime_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain",
            Format::Markdown => "text/markdown",
            Format::Html => "text/html",
            Format::Pdf => "application/pdf",
            Format::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
        }
    }

    /// Reads a MIME type (parameters ignored), a file extension (with or without the dot) or a
    /// file name, case-insensitively.
    pub fn sniff(content_type_or_extension: &str) -> Result<Format, ExtractError> {
        let got = content_type_or_extension.trim();
        let essence = got
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let from_mime = match essence.as_str() {
            "text/plain" => Some(Format::Text),
            "text/markdown" | "text/x-markdown" => Some(Format::Markdown),
            "text/html" | "application/xhtml+xml" => Some(Format::Html),
            "application/pdf" | "application/x-pdf" => Some(Format::Pdf),
            m if m == Format::Docx.mime_type() => Some(Format::Docx),
            _ => None,
        };
        let extension = essence.rsplit(['.', '/', '\\']).next().unwrap_or("");
        let from_extension = match extension {
            "txt" | "text" => Some(Format::Text),
            "md" | "markdown" | "mdown" | "mkd" => Some(Format::Markdown),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            "docx" => Some(Format::Docx),
            _ => None,
        };
        // A MIME type is only trusted whole ("text/plain"); an extension only after a dot or alone.
        let extension_ok = essence.contains('.') || !essence.contains('/');
        from_mime
            .or(from_extension.filter(|_| extension_ok))
            .ok_or_else(|| ExtractError::UnsupportedType {
                got: got.to_owned(),
            })
    }

    /// Like [`Format::sniff`], but a generic declaration (`application/octet-stream`, empty)
    /// falls back to the file's magic bytes.
    pub fn detect(content_type_or_extension: &str, bytes: &[u8]) -> Result<Format, ExtractError> {
        let declared = content_type_or_extension.trim().to_ascii_lowercase();
        let generic = declared.is_empty()
            || declared.starts_with("application/octet-stream")
            || declared.starts_with("binary/octet-stream");
        if !generic {
            return Format::sniff(content_type_or_extension);
        }
        let head = &bytes[..bytes.len().min(1024)];
        if head.windows(5).any(|w| w == b"%PDF-") {
            Ok(Format::Pdf)
        } else if bytes.starts_with(b"PK\x03\x04") {
            Ok(Format::Docx) // the only zip-based format we read; extraction checks the parts
        } else {
            Err(ExtractError::UnsupportedType {
                got: content_type_or_extension.trim().to_owned(),
            })
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Pdf => "pdf",
            Format::Docx => "docx",
        })
    }
}

/// The text of one document, ready for chunking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedText {
    /// The format the text was read from.
    pub format: Format,
    /// The text, with `\n` line ends, Markdown headings, and no blank-line runs longer than one.
    pub text: String,
    /// For paged formats (PDF), the byte range of each page in `text`, first page first; empty
    /// for the others.
    pub pages: Vec<Range<usize>>,
}

impl ExtractedText {
    /// The 1-based page holding byte `offset` of `text`, if the format has pages.
    pub fn page_at(&self, offset: usize) -> Option<usize> {
        // Pages are separated by a blank line; an offset there belongs to the page before.
        let after = self.pages.partition_point(|p| p.start <= offset);
        (after > 0).then_some(after)
    }
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    /// The content type or extension is not one we read.
    #[error("unsupported document type {got:?}: expected .txt, .md, .html, .pdf or .docx")]
    UnsupportedType {
        /// The content type or extension we were given.
        got: String,
    },
    /// The bytes are not a readable file of the declared format.
    #[error("the {format} file could not be read: {reason}")]
    Corrupt {
        /// The format we tried to read.
        format: Format,
        /// What went wrong, for the uploader.
        reason: String,
    },
    /// The file was read but holds no text (an image-only PDF, an empty file).
    #[error("the {format} file contains no text")]
    Empty {
        /// The format that was read.
        format: Format,
    },
}

/// The largest decompressed part we read from a DOCX, against zip bombs.
pub const MAX_PART_BYTES: u64 = 64 * 1024 * 1024;

/// Extracts the text of `bytes`, declared as `content_type_or_extension` (see [`Format::detect`]).
pub fn extract(
    bytes: &[u8],
    content_type_or_extension: &str,
) -> Result<ExtractedText, ExtractError> {
    let format = Format::detect(content_type_or_extension, bytes)?;
    extract_as(bytes, format)
}

/// Extracts the text of `bytes` read as `format`.
pub fn extract_as(bytes: &[u8], format: Format) -> Result<ExtractedText, ExtractError> {
    let (text, pages) = match format {
        Format::Text | Format::Markdown => (tidy(&plain::decode(bytes, format)?), Vec::new()),
        Format::Html => (
            tidy(&html::to_text(&plain::decode(bytes, format)?)),
            Vec::new(),
        ),
        Format::Docx => (tidy(&docx::to_text(bytes)?), Vec::new()),
        Format::Pdf => join_pages(pdf::page_texts(bytes)?.iter().map(|p| tidy(p))),
    };
    if text.is_empty() {
        return Err(ExtractError::Empty { format });
    }
    Ok(ExtractedText {
        format,
        text,
        pages,
    })
}

/// Joins tidied page texts with a blank line, remembering where each page sits.
fn join_pages(pages: impl Iterator<Item = String>) -> (String, Vec<Range<usize>>) {
    let mut text = String::new();
    let mut ranges = Vec::new();
    for page in pages {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let start = text.len();
        text.push_str(&page);
        ranges.push(start..text.len());
    }
    if text.trim().is_empty() {
        ranges.clear();
    }
    (text, ranges)
}

/// Normalises extracted text: `\n` line ends, no control characters, no trailing spaces, at
/// most one blank line in a row, no leading or trailing blank lines.
pub(crate) fn tidy(raw: &str) -> String {
    let unified = raw.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(unified.len());
    let mut blank_run = 0;
    for line in unified.split('\n') {
        let line: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .map(|c| if c == '\u{a0}' { ' ' } else { c })
            .collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank_run > 0 { "\n\n" } else { "\n" });
        }
        blank_run = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests;
