//! PDF to text, page by page, with `pdf-extract` (on `lopdf`).
//!
//! `pdf-extract` unwraps freely on malformed objects, so every call into it runs under
//! `catch_unwind`: a panic while loading is [`ExtractError::Corrupt`], and a panic on one page
//! loses that page only. Encrypted files are tried with the empty password, which opens the
//! common "no copying" PDFs. PDFs carry no heading structure, so none is invented here.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{Document, PlainTextOutput, output_doc_page};

use super::{ExtractError, Format};

/// The text of each page, first page first (a failed page is empty).
pub(super) fn page_texts(bytes: &[u8]) -> Result<Vec<String>, ExtractError> {
    let mut doc = guarded(|| Document::load_mem(bytes))
        .ok_or_else(|| corrupt("the PDF parser crashed on this file"))?
        .map_err(|e| corrupt(&format!("not a readable PDF: {e}")))?;
    if doc.is_encrypted() {
        guarded(|| doc.decrypt(""))
            .and_then(Result::ok)
            .ok_or_else(|| corrupt("the PDF is encrypted with a password"))?;
    }
    let numbers: Vec<u32> = doc.get_pages().into_keys().collect();
    if numbers.is_empty() {
        return Err(corrupt("the PDF has no pages"));
    }
    let mut pages = Vec::with_capacity(numbers.len());
    let mut failed = 0;
    for number in numbers {
        let mut text = String::new();
        let ok = guarded(|| {
            let mut output = PlainTextOutput::new(&mut text);
            output_doc_page(&doc, &mut output, number)
        });
        if !matches!(ok, Some(Ok(()))) {
            failed += 1;
            text.clear();
        }
        pages.push(reflow(&text));
    }
    if failed == pages.len() {
        return Err(corrupt("no page could be read"));
    }
    Ok(pages)
}

/// Runs `f`, turning a panic into `None`.
fn guarded<T>(f: impl FnOnce() -> T) -> Option<T> {
    catch_unwind(AssertUnwindSafe(f)).ok()
}

/// Rejoins lines `pdf-extract` wrote apart.
///
/// It ends every text line with a newline and puts a blank line between lines that are further
/// apart than usual. Lines are kept, and runs of blank lines become one paragraph break.
fn reflow(raw: &str) -> String {
    raw.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

fn corrupt(reason: &str) -> ExtractError {
    ExtractError::Corrupt {
        format: Format::Pdf,
        reason: reason.to_owned(),
    }
}
