use super::*;
use crate::rag::{ChunkOptions, chunk};

const HTML: &[u8] = include_bytes!("../testdata/pizzeria.html");
const MARKDOWN: &[u8] = include_bytes!("../testdata/pizzeria-faq.md");
const CP1252: &[u8] = include_bytes!("../testdata/opening-hours-cp1252.txt");
const PDF: &[u8] = include_bytes!("../testdata/constitution.pdf");
const DOCX: &[u8] = include_bytes!("../testdata/pizzeria-handbook.docx");

fn headings(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with('#')).collect()
}

#[test]
fn content_types_extensions_and_file_names_are_recognised() {
    let cases = [
        ("text/plain; charset=utf-8", Format::Text),
        ("TEXT/MARKDOWN", Format::Markdown),
        ("text/html", Format::Html),
        ("application/pdf", Format::Pdf),
        (Format::Docx.mime_type(), Format::Docx),
        ("txt", Format::Text),
        (".md", Format::Markdown),
        ("htm", Format::Html),
        ("Menu 2026.PDF", Format::Pdf),
        ("handbook.docx", Format::Docx),
    ];
    for (declared, format) in cases {
        assert_eq!(Format::sniff(declared), Ok(format), "{declared}");
    }
}

#[test]
fn other_types_are_unsupported_with_what_we_got() {
    for declared in [
        "image/png",
        "application/msword",
        ".doc",
        "xlsx",
        "",
        "text/pdf",
        "application/txt",
    ] {
        assert_eq!(
            Format::sniff(declared),
            Err(ExtractError::UnsupportedType {
                got: declared.to_owned()
            }),
            "{declared}"
        );
    }
}

#[test]
fn generic_content_types_fall_back_to_magic_bytes() {
    assert_eq!(
        Format::detect("application/octet-stream", PDF),
        Ok(Format::Pdf)
    );
    assert_eq!(Format::detect("", DOCX), Ok(Format::Docx));
    assert!(matches!(
        Format::detect("application/octet-stream", b"hello"),
        Err(ExtractError::UnsupportedType { .. })
    ));
}

#[test]
fn html_keeps_headings_lists_and_tables_and_drops_scripts_navigation_and_hidden_text() {
    let doc = extract(HTML, "text/html").unwrap();
    assert_eq!(
        headings(&doc.text),
        [
            "# Luigi’s Pizzeria",
            "## Opening hours",
            "## Menu",
            "### Pizzas",
            "### Allergens"
        ]
    );
    assert!(
        doc.text
            .contains("Tuesday to Sunday, 11:30–22:00.\nClosed on Mondays and on 25 December.")
    );
    assert!(doc.text.contains("- Diavola — spicy salami & chili oil"));
    assert!(
        doc.text
            .contains("Pizza | Small | Large\nMargherita | 9 € | 12 €")
    );
    assert!(
        doc.text.contains("Call us on 555-0100 · 12 Main Street"),
        "footers hold contact details"
    );
    for gone in [
        "dataLayer",
        "font-family",
        "Home",
        "Internal note",
        "enable JavaScript",
        "Menu & Hours",
    ] {
        assert!(
            !doc.text.contains(gone),
            "{gone:?} leaked into {}",
            doc.text
        );
    }
    assert!(doc.pages.is_empty());
}

#[test]
fn markdown_is_passed_through_and_chunks_by_heading() {
    let doc = extract(MARKDOWN, "md").unwrap();
    assert_eq!(
        doc.text,
        String::from_utf8(MARKDOWN.to_vec()).unwrap().trim_end()
    );
    let chunks = chunk(&doc.text, &ChunkOptions::default());
    assert_eq!(chunks.len(), 3);
    assert_eq!(
        chunks[1].heading_path,
        ["Frequently asked questions", "Ordering", "Do you deliver?"]
    );
}

#[test]
fn legacy_text_is_decoded_and_line_ends_unified() {
    let doc = extract(CP1252, "text/plain").unwrap();
    assert_eq!(
        doc.text,
        "Opening hours\n\nCafé open 8:00 – 18:00, espresso 2 €.\nClosed on Mondays."
    );
}

#[test]
fn pdf_text_comes_out_page_by_page() {
    let doc = extract(PDF, "application/pdf").unwrap();
    assert_eq!(doc.pages.len(), 3);
    let page = |n: usize| &doc.text[doc.pages[n - 1].clone()];
    assert!(page(1).contains("We the People of the United States"));
    assert!(page(2).contains("The Senate of the United States shall be composed of two Senators"));
    assert!(page(3).contains("Each House shall be the Judge of the Elections"));
    let offset = doc
        .text
        .find("Senate shall have the sole Power to try all Impeachments")
        .unwrap();
    assert_eq!(doc.page_at(offset), Some(2));
    assert_eq!(doc.page_at(0), Some(1));
    assert_eq!(doc.page_at(doc.text.len() - 1), Some(3));
}

#[test]
fn docx_headings_lists_and_tables_keep_their_structure() {
    let doc = extract(DOCX, "docx").unwrap();
    assert_eq!(
        headings(&doc.text),
        [
            "# Luigi’s Pizzeria — Staff Handbook",
            "## Opening hours",
            "## Menu",
            "### Pizzas",
            "### Desserts",
            "## Delivery"
        ]
    );
    assert!(doc.text.contains("- Diavola: spicy salami & chili oil"));
    assert!(
        doc.text
            .contains("Pizza | Price\nMargherita | 12 €\nDiavola | 14 €")
    );
    assert!(doc.text.contains("Crème brûlée and tiramisù, both made in house.\nAsk for the gluten-free option.\tIt costs 1 € extra."));
    let chunks = chunk(&doc.text, &ChunkOptions::default());
    let desserts = chunks.iter().find(|c| c.text.contains("tiramisù")).unwrap();
    assert_eq!(
        desserts.heading_path,
        ["Luigi’s Pizzeria — Staff Handbook", "Menu", "Desserts"]
    );
}

#[test]
fn empty_documents_are_reported_as_empty() {
    assert_eq!(
        extract(b"  \n\n", "txt"),
        Err(ExtractError::Empty {
            format: Format::Text
        })
    );
    assert_eq!(
        extract(b"<html><script>x()</script></html>", "html"),
        Err(ExtractError::Empty {
            format: Format::Html
        })
    );
}

/// Bytes no parser should make sense of, including truncated real files.
fn garbage() -> Vec<Vec<u8>> {
    let mut noise = Vec::with_capacity(4096);
    let mut x: u32 = 0x9E37_79B9;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.push(x as u8);
    }
    vec![
        Vec::new(),
        noise.clone(),
        [b"%PDF-1.7\n".as_slice(), &noise].concat(),
        [b"PK\x03\x04".as_slice(), &noise].concat(),
        PDF[..PDF.len() / 2].to_vec(),
        PDF[PDF.len() / 3..].to_vec(),
        DOCX[..DOCX.len() / 2].to_vec(),
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF".to_vec(),
    ]
}

#[test]
fn garbage_never_panics_any_extractor() {
    for format in Format::ALL {
        for (i, bytes) in garbage().iter().enumerate() {
            let result = extract_as(bytes, format);
            if let Ok(doc) = &result {
                // Only the lenient text-like formats may find "text" in noise.
                assert!(
                    matches!(format, Format::Html) || !doc.text.is_empty(),
                    "{format} garbage #{i} gave {doc:?}"
                );
            }
            if matches!(format, Format::Pdf | Format::Docx) {
                assert!(
                    matches!(
                        result,
                        Err(ExtractError::Corrupt { .. } | ExtractError::Empty { .. })
                    ),
                    "{format} garbage #{i} gave {result:?}"
                );
            }
        }
    }
}

#[test]
fn errors_read_well() {
    let err = extract(b"", "image/png").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported document type \"image/png\": expected .txt, .md, .html, .pdf or .docx"
    );
    let err = extract(b"not a zip", "docx").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the docx file could not be read: not a zip archive"),
        "{err}"
    );
}

#[test]
fn tidy_normalises_line_ends_blank_runs_and_control_characters() {
    assert_eq!(
        tidy("\r\n\n a \t\r\nb\x07\u{a0}c\n\n\n\nd\n\n"),
        " a\nb c\n\nd"
    );
}
