//! Word (.docx) to text: the body's paragraphs, with Word's heading styles as Markdown headings,
//! list paragraphs as `- ` lines and table rows as `cell | cell` lines.
//!
//! A .docx is a zip of XML parts; we read only `word/document.xml` and `word/styles.xml` with
//! `zip` and `quick-xml`, which is far smaller than a full Word model. Styles are recognised by
//! their built-in names ("heading 1", "Title", "List Bullet"), which Word keeps in English
//! even when it shows translated names, and by outline levels. Elements are matched by local
//! name, so any namespace prefix works, and DrawingML text (shapes, text boxes) is kept.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::ZipArchive;

use super::{ExtractError, Format, MAX_PART_BYTES};

/// What a paragraph style makes of a paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A heading at this Markdown level (the document title is 1, "heading 1" is 2).
    Heading(usize),
    /// A list item.
    List,
}

/// The text of a .docx file.
pub(super) fn to_text(bytes: &[u8]) -> Result<String, ExtractError> {
    let mut zip = ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| corrupt(format!("not a zip archive: {e}")))?;
    let document = read_part(&mut zip, "word/document.xml")?
        .ok_or_else(|| corrupt("no word/document.xml: not a Word document".into()))?;
    // Styles only refine the output, so a broken styles part is ignored rather than fatal.
    let styles = read_part(&mut zip, "word/styles.xml")
        .ok()
        .flatten()
        .and_then(|xml| parse_styles(&xml).ok())
        .unwrap_or_default();
    render(&document, &styles).map_err(|e| corrupt(format!("malformed document.xml: {e}")))
}

fn read_part(
    zip: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
) -> Result<Option<String>, ExtractError> {
    let part = match zip.by_name(name) {
        Ok(part) => part,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(corrupt(format!("cannot open {name}: {e}"))),
    };
    let mut buf = Vec::new();
    part.take(MAX_PART_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| corrupt(format!("cannot read {name}: {e}")))?;
    if buf.len() as u64 > MAX_PART_BYTES {
        return Err(corrupt(format!(
            "{name} is larger than {MAX_PART_BYTES} bytes"
        )));
    }
    String::from_utf8(buf)
        .map(Some)
        .map_err(|_| corrupt(format!("{name} is not UTF-8")))
}

/// Maps paragraph style ids to what they mean.
fn parse_styles(xml: &str) -> Result<HashMap<String, Kind>, quick_xml::Error> {
    let mut reader = Reader::from_str(xml);
    let mut styles = HashMap::new();
    let mut current: Option<(String, Option<Kind>)> = None;
    loop {
        match reader.read_event()? {
            Event::Start(e) if e.local_name().as_ref() == "style" => {
                current = (attr(&e, "type").as_deref() == Some("paragraph"))
                    .then(|| (attr(&e, "styleId").unwrap_or_default(), None));
            }
            Event::Start(e) | Event::Empty(e) => {
                let Some((_, kind)) = current.as_mut() else {
                    continue;
                };
                let local = e.local_name();
                let val = attr(&e, "val").unwrap_or_default();
                match local.as_ref() {
                    "name" => *kind = kind.or(kind_from_name(&val)),
                    "outlineLvl" => {
                        if let Ok(level) = val.parse::<usize>() {
                            *kind = kind.or(Some(Kind::Heading((level + 2).min(6))));
                        }
                    }
                    "numPr" => *kind = kind.or(Some(Kind::List)),
                    _ => {}
                }
            }
            Event::End(e) if e.local_name().as_ref() == "style" => {
                if let Some((id, Some(kind))) = current.take() {
                    styles.insert(id, kind);
                }
            }
            Event::Eof => return Ok(styles),
            _ => {}
        }
    }
}

/// "Title" → 1, "heading 2" → 3, "List Bullet" → list.
fn kind_from_name(name: &str) -> Option<Kind> {
    let name = name.trim().to_ascii_lowercase();
    if name == "title" {
        return Some(Kind::Heading(1));
    }
    if let Some(n) = name.strip_prefix("heading").map(str::trim) {
        return n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=9).contains(n))
            .map(|n| Kind::Heading((n + 1).min(6)));
    }
    name.starts_with("list").then_some(Kind::List)
}

/// A paragraph being read.
#[derive(Default)]
struct Paragraph {
    text: String,
    kind: Option<Kind>,
}

/// A table being read: finished rows, and the cells of the current row.
#[derive(Default)]
struct Table {
    rows: Vec<String>,
    cells: Vec<String>,
    cell: String,
}

fn render(xml: &str, styles: &HashMap<String, Kind>) -> Result<String, quick_xml::Error> {
    let mut reader = Reader::from_str(xml);
    let mut out = String::new();
    let mut paragraphs: Vec<Paragraph> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    let (mut runs, mut in_text, mut skip) = (0usize, false, 0usize);
    loop {
        let event = reader.read_event()?;
        if skip > 0 {
            match event {
                Event::Start(_) => skip += 1,
                Event::End(_) => skip -= 1,
                Event::Eof => break,
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(e) => match e.local_name().as_ref() {
                // mc:Fallback repeats what mc:Choice already holds, for older readers.
                "Fallback" => skip = 1,
                "p" => paragraphs.push(Paragraph::default()),
                "r" => runs += 1,
                "t" => in_text = true,
                "tbl" => tables.push(Table::default()),
                "tc" => {
                    if let Some(t) = tables.last_mut() {
                        t.cell.clear();
                    }
                }
                _ => paragraph_property(&e, styles, paragraphs.last_mut()),
            },
            Event::Empty(e) => match e.local_name().as_ref() {
                "tab" if runs > 0 => push_text(&mut paragraphs, "\t"),
                "br" | "cr" if runs > 0 => push_text(&mut paragraphs, "\n"),
                "noBreakHyphen" if runs > 0 => push_text(&mut paragraphs, "-"),
                _ => paragraph_property(&e, styles, paragraphs.last_mut()),
            },
            Event::Text(t) if in_text => push_text(&mut paragraphs, &t.xml10_content()),
            Event::CData(t) if in_text => push_text(&mut paragraphs, &t.xml10_content()),
            Event::GeneralRef(r) if in_text => {
                let c = match r.resolve_char_ref()? {
                    Some(c) => c,
                    None => match r.xml10_content().as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => continue,
                    },
                };
                push_text(&mut paragraphs, c.encode_utf8(&mut [0; 4]));
            }
            Event::End(e) => match e.local_name().as_ref() {
                "t" => in_text = false,
                "r" => runs = runs.saturating_sub(1),
                "p" => {
                    if let Some(p) = paragraphs.pop() {
                        finish_paragraph(p, &mut tables, &mut out);
                    }
                }
                "tc" => {
                    if let Some(t) = tables.last_mut() {
                        let cell = std::mem::take(&mut t.cell);
                        t.cells.push(cell);
                    }
                }
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        let row = std::mem::take(&mut t.cells).join(" | ");
                        if !row.replace('|', "").trim().is_empty() {
                            t.rows.push(row);
                        }
                    }
                }
                "tbl" => {
                    if let Some(t) = tables.pop() {
                        match tables.last_mut() {
                            // A nested table flattens into its outer cell.
                            Some(outer) => append(&mut outer.cell, &t.rows.join(" / "), " "),
                            None => append(&mut out, &t.rows.join("\n"), "\n\n"),
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// Applies a paragraph property element (`w:pStyle`, `w:outlineLvl`, `w:numPr`).
fn paragraph_property(
    e: &BytesStart<'_>,
    styles: &HashMap<String, Kind>,
    p: Option<&mut Paragraph>,
) {
    let Some(p) = p else { return };
    match e.local_name().as_ref() {
        "pStyle" => {
            let id = attr(e, "val").unwrap_or_default();
            p.kind = styles
                .get(&id)
                .copied()
                .or_else(|| kind_from_style_id(&id))
                .or(p.kind);
        }
        "outlineLvl" => {
            if let Some(level) = attr(e, "val").and_then(|v| v.parse::<usize>().ok()) {
                p.kind = Some(Kind::Heading((level + 2).min(6)));
            }
        }
        "numPr" if p.kind.is_none() => p.kind = Some(Kind::List),
        _ => {}
    }
}

/// Without a styles part, guess from ids such as "Heading1" and "Title".
fn kind_from_style_id(id: &str) -> Option<Kind> {
    let spaced: String = id
        .chars()
        .flat_map(|c| {
            if c.is_ascii_digit() {
                vec![' ', c]
            } else {
                vec![c]
            }
        })
        .collect();
    kind_from_name(&spaced)
}

fn finish_paragraph(p: Paragraph, tables: &mut [Table], out: &mut String) {
    let text = p.text.trim();
    if text.is_empty() {
        return;
    }
    if let Some(t) = tables.last_mut() {
        append(&mut t.cell, text, " ");
        return;
    }
    let block = match p.kind {
        Some(Kind::Heading(level)) => {
            format!(
                "{} {}",
                "#".repeat(level),
                text.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        }
        Some(Kind::List) => format!("- {text}"),
        None => text.to_owned(),
    };
    append(out, &block, "\n\n");
}

fn push_text(paragraphs: &mut [Paragraph], s: &str) {
    if let Some(p) = paragraphs.last_mut() {
        p.text.push_str(s);
    }
}

fn append(buf: &mut String, s: &str, sep: &str) {
    if s.is_empty() {
        return;
    }
    if !buf.is_empty() {
        buf.push_str(sep);
    }
    buf.push_str(s);
}

/// The unescaped value of the attribute with this local name.
fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn corrupt(reason: String) -> ExtractError {
    ExtractError::Corrupt {
        format: Format::Docx,
        reason,
    }
}
