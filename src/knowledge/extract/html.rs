//! HTML to text: the visible prose of a page, with its headings kept as Markdown lines.
//!
//! html5ever (through `scraper`) parses the page as a browser would, so broken markup is
//! repaired rather than rejected. The walk is iterative, so deeply nested markup cannot
//! overflow the stack. Scripts, styles, navigation, forms' option lists and hidden elements
//! are dropped; entities come out decoded.

use scraper::{Html, Node};

/// Elements whose content is never prose for a caller.
const SKIPPED: &[&str] = &[
    "head", "script", "style", "noscript", "template", "nav", "svg", "math", "iframe", "object",
    "embed", "canvas", "select", "datalist", "audio", "video", "map",
];

/// Elements that start and end a paragraph.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "center",
    "details",
    "dialog",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "header",
    "hgroup",
    "hr",
    "html",
    "legend",
    "main",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "ul",
];

/// The text of an HTML document (see the module docs for what is kept).
pub(super) fn to_text(source: &str) -> String {
    let document = Html::parse_document(source);
    let root = document.tree.root();
    let mut out = Writer::default();
    let mut node = root;
    loop {
        if out.open(node.value()) {
            if let Some(child) = node.first_child() {
                node = child;
                continue;
            }
            out.close(node.value());
        }
        // Move to the next sibling, closing each ancestor we climb out of (all were opened
        // with their children walked, so all need closing).
        loop {
            if node == root {
                return out.text;
            }
            if let Some(next) = node.next_sibling() {
                node = next;
                break;
            }
            let Some(parent) = node.parent() else {
                return out.text;
            };
            node = parent;
            out.close(node.value());
        }
    }
}

/// What must separate the next text from what is already written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Gap {
    #[default]
    None,
    Space,
    Line,
    Paragraph,
}

#[derive(Default)]
struct Writer {
    text: String,
    gap: Gap,
    /// Open `<pre>` elements: whitespace inside them is kept.
    pre: usize,
    /// Open headings: their text stays on one line.
    heading: usize,
    /// Cells written in the current table row.
    cells: usize,
}

impl Writer {
    /// Handles an opening tag (or a text node); returns whether to walk into its children.
    fn open(&mut self, node: &Node) -> bool {
        match node {
            Node::Text(t) => {
                self.write_text(t);
                false
            }
            Node::Element(e) => {
                let name = e.name();
                let hidden = e.attr("hidden").is_some()
                    || e.attr("aria-hidden") == Some("true")
                    || e.attr("type") == Some("hidden");
                if hidden || SKIPPED.contains(&name) {
                    return false;
                }
                match name {
                    "br" => self.want(if self.heading > 0 {
                        Gap::Space
                    } else {
                        Gap::Line
                    }),
                    "li" => {
                        self.want(Gap::Line);
                        self.write_raw("- ");
                    }
                    "tr" => {
                        self.want(Gap::Line);
                        self.cells = 0;
                    }
                    "td" | "th" => {
                        if self.cells > 0 {
                            self.write_raw(" | ");
                        }
                        self.cells += 1;
                    }
                    "pre" => {
                        self.want(Gap::Paragraph);
                        self.pre += 1;
                    }
                    _ => {
                        if let Some(level) = heading_level(name) {
                            self.want(Gap::Paragraph);
                            self.write_raw(&"#".repeat(level));
                            self.write_raw(" ");
                            self.heading += 1;
                        } else if BLOCKS.contains(&name) {
                            self.want(Gap::Paragraph);
                        }
                    }
                }
                true
            }
            Node::Document | Node::Fragment => true,
            _ => false, // comments, doctype, processing instructions
        }
    }

    /// Handles a closing tag.
    fn close(&mut self, node: &Node) {
        let Node::Element(e) = node else { return };
        let name = e.name();
        if name == "pre" {
            self.pre = self.pre.saturating_sub(1);
        }
        if heading_level(name).is_some() {
            self.heading = self.heading.saturating_sub(1);
            self.want(Gap::Paragraph);
        } else if name == "pre" || BLOCKS.contains(&name) {
            self.want(Gap::Paragraph);
        } else if matches!(name, "li" | "tr") {
            self.want(Gap::Line);
        }
    }

    fn want(&mut self, gap: Gap) {
        self.gap = self.gap.max(gap);
    }

    fn write_text(&mut self, text: &str) {
        if self.pre > 0 {
            self.write_raw(text);
            return;
        }
        if text.starts_with(char::is_whitespace) {
            self.want(Gap::Space);
        }
        for (i, word) in text.split_whitespace().enumerate() {
            if i > 0 {
                self.want(Gap::Space);
            }
            self.write_raw(word);
        }
        if text.ends_with(char::is_whitespace) {
            self.want(Gap::Space);
        }
    }

    /// Writes `s` after the pending gap (gaps at the very start, or doubled, are dropped).
    fn write_raw(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if !self.text.is_empty() {
            let sep = match self.gap {
                Gap::None => "",
                Gap::Space if self.text.ends_with(char::is_whitespace) => "",
                Gap::Space => " ",
                Gap::Line => "\n",
                Gap::Paragraph => "\n\n",
            };
            self.text.push_str(sep);
        }
        self.gap = Gap::None;
        self.text.push_str(s);
    }
}

fn heading_level(name: &str) -> Option<usize> {
    match name.as_bytes() {
        [b'h', d @ b'1'..=b'6'] => Some(usize::from(d - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_become_markdown_and_scripts_vanish() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body>\
            <nav><a href=/>Home</a></nav><h1>Menu</h1><script>alert(1)</script>\
            <h2>Pizzas &amp; more</h2><p>Margherita,\n   12&nbsp;€.</p></body></html>";
        assert_eq!(
            to_text(html),
            "# Menu\n\n## Pizzas & more\n\nMargherita, 12 €."
        );
    }

    #[test]
    fn lists_tables_and_line_breaks_keep_their_shape() {
        let html = "<ul><li>Basil</li><li>Oil <b>and</b> salt</li></ul>\
            <table><tr><th>Pizza</th><th>Price</th></tr><tr><td>Diavola</td><td>14</td></tr></table>\
            <p>Line one<br>line two</p>";
        assert_eq!(
            to_text(html),
            "- Basil\n- Oil and salt\n\nPizza | Price\nDiavola | 14\n\nLine one\nline two"
        );
    }

    #[test]
    fn preformatted_text_keeps_its_whitespace() {
        assert_eq!(
            to_text("<p>a</p><pre>x  = 1\n  y</pre><p>b</p>"),
            "a\n\nx  = 1\n  y\n\nb"
        );
    }

    #[test]
    fn hidden_elements_are_dropped() {
        assert_eq!(
            to_text("<p hidden>no</p><p aria-hidden=true>no</p><p>yes</p>"),
            "yes"
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let html = format!("{}deep{}", "<div>".repeat(10_000), "</div>".repeat(10_000));
        assert_eq!(to_text(&html), "deep");
    }
}
