//! The outline of extracted text: sections, each a heading path and the paragraphs under it.
//!
//! The extractors in `knowledge::extract` write every heading they recognise (HTML `<h1>`,
//! Word `Heading 1` styles) as a Markdown ATX line, so this one reader serves every format.
//! It understands ATX headings (`## Pizzas`), setext headings (a line underlined with `===` or
//! `---`), blank-line separated paragraphs, and fenced code blocks, whose `#` lines are code.

use std::ops::Range;

/// A run of paragraphs under one heading path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    /// Titles of the enclosing headings, outermost first.
    pub(crate) heading_path: Vec<String>,
    /// Byte ranges of the paragraphs, trimmed, in order; never empty ranges.
    pub(crate) paragraphs: Vec<Range<usize>>,
}

/// Reads `text` into sections; headings with no body produce no section.
pub(crate) fn sections(text: &str) -> Vec<Section> {
    let mut reader = Reader::default();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        reader.line(text, offset, line);
        offset += line.len();
    }
    reader.end_paragraph();
    reader.end_section();
    reader.sections
}

#[derive(Default)]
struct Reader {
    sections: Vec<Section>,
    /// Open headings as (level, title), outermost first.
    headings: Vec<(usize, String)>,
    paragraphs: Vec<Range<usize>>,
    /// The paragraph being read: its byte range so far and how many lines it has.
    open: Option<(Range<usize>, usize)>,
    /// The fence that opened the code block we are in (its marker character and length).
    fence: Option<(char, usize)>,
}

impl Reader {
    fn line(&mut self, text: &str, offset: usize, line: &str) {
        let content = line.trim_end();
        let indent = content.len() - content.trim_start().len();
        let start = offset + indent;
        let trimmed = content.trim_start();

        if let Some((marker, len)) = self.fence {
            // Everything up to the closing fence belongs to the code paragraph, blank lines too.
            self.extend(start, offset + content.len());
            if fence_of(trimmed).is_some_and(|(m, l)| m == marker && l >= len) {
                self.fence = None;
                self.end_paragraph();
            }
            return;
        }
        if trimmed.is_empty() {
            self.end_paragraph();
            return;
        }
        if indent <= 3 {
            if let Some(fence) = fence_of(trimmed) {
                self.end_paragraph();
                self.fence = Some(fence);
                self.extend(start, offset + content.len());
                return;
            }
            if let Some((level, title)) = atx_heading(trimmed) {
                self.end_paragraph();
                self.heading(level, title);
                return;
            }
            if let Some(level) = setext_level(trimmed) {
                match self.open.take() {
                    Some((para, 1)) => {
                        let title = text[para].trim().to_owned();
                        self.heading(level, title);
                    }
                    // A rule after a longer paragraph (or alone) is a thematic break.
                    other => {
                        self.open = other;
                        self.end_paragraph();
                    }
                }
                return;
            }
        }
        self.extend(start, offset + content.len());
    }

    fn extend(&mut self, start: usize, end: usize) {
        match &mut self.open {
            Some((range, lines)) => {
                if end > start {
                    range.end = end; // blank lines inside a code fence do not move the end
                }
                *lines += 1;
            }
            None if end > start => self.open = Some((start..end, 1)),
            None => {}
        }
    }

    fn end_paragraph(&mut self) {
        if let Some((range, _)) = self.open.take()
            && !range.is_empty()
        {
            self.paragraphs.push(range);
        }
    }

    fn heading(&mut self, level: usize, title: String) {
        self.end_section();
        if title.is_empty() {
            return; // a bare "#" separates, but names nothing
        }
        while self.headings.last().is_some_and(|(l, _)| *l >= level) {
            self.headings.pop();
        }
        self.headings.push((level, title));
    }

    fn end_section(&mut self) {
        if !self.paragraphs.is_empty() {
            self.sections.push(Section {
                heading_path: self.headings.iter().map(|(_, t)| t.clone()).collect(),
                paragraphs: std::mem::take(&mut self.paragraphs),
            });
        }
    }
}

/// `## Title ##` → (2, "Title"); needs a space (or nothing) after the hashes.
fn atx_heading(line: &str) -> Option<(usize, String)> {
    let level = line.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &line[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None; // "#hashtag" is text
    }
    let title = rest.trim().trim_end_matches('#').trim_end();
    Some((level, title.to_owned()))
}

/// A line of only `=` (level 1) or only `-` (level 2), at least three long.
fn setext_level(line: &str) -> Option<usize> {
    let underline = |c: char| line.len() >= 3 && line.chars().all(|x| x == c);
    if underline('=') {
        Some(1)
    } else if underline('-') {
        Some(2)
    } else {
        None
    }
}

/// "```rust" → ('`', 3); "~~~~" → ('~', 4).
fn fence_of(line: &str) -> Option<(char, usize)> {
    let marker = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = line.chars().take_while(|c| *c == marker).count();
    (len >= 3).then_some((marker, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline(text: &str) -> Vec<(Vec<String>, Vec<&str>)> {
        sections(text)
            .into_iter()
            .map(|s| {
                (
                    s.heading_path,
                    s.paragraphs.into_iter().map(|r| &text[r]).collect(),
                )
            })
            .collect()
    }

    fn path(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn headings_nest_into_paths() {
        let text = "# Menu\n\n## Pizzas\n\nMargherita.\n\nMarinara.\n\n## Drinks\nCola.\n\n# Hours\nNine to five.\n";
        assert_eq!(
            outline(text),
            [
                (path(&["Menu", "Pizzas"]), vec!["Margherita.", "Marinara."]),
                (path(&["Menu", "Drinks"]), vec!["Cola."]),
                (path(&["Hours"]), vec!["Nine to five."]),
            ]
        );
    }

    #[test]
    fn text_before_the_first_heading_has_an_empty_path() {
        assert_eq!(
            outline("Intro line\nwraps.\n# A\nBody"),
            [
                (vec![], vec!["Intro line\nwraps."]),
                (path(&["A"]), vec!["Body"]),
            ]
        );
    }

    #[test]
    fn headings_without_a_body_produce_no_section() {
        assert_eq!(outline("# Empty\n## Also empty\n\n\n"), []);
        assert_eq!(
            outline("# A\n## B\nText"),
            [(path(&["A", "B"]), vec!["Text"])]
        );
    }

    #[test]
    fn setext_headings_and_thematic_breaks() {
        let text = "Title\n=====\nBody one.\n\nline one\nline two\n---\nSub\n---\nBody two.";
        assert_eq!(
            outline(text),
            [
                (path(&["Title"]), vec!["Body one.", "line one\nline two"]),
                (path(&["Title", "Sub"]), vec!["Body two."]),
            ]
        );
    }

    #[test]
    fn hashes_in_code_fences_and_hashtags_are_not_headings() {
        let text = "# Code\n```sh\n# comment\n\necho hi\n```\n#hashtag here";
        assert_eq!(
            outline(text),
            [(
                path(&["Code"]),
                vec!["```sh\n# comment\n\necho hi\n```", "#hashtag here"]
            )]
        );
    }

    #[test]
    fn closing_hashes_and_crlf_are_trimmed() {
        assert_eq!(
            outline("## Café ##\r\nCrème brûlée.\r\n"),
            [(path(&["Café"]), vec!["Crème brûlée."])]
        );
    }
}
