//! A minimal XML writer: the one place TwiML text and attribute values are escaped.
//!
//! Escaping rules, chosen so any Rust string survives a round trip through a conforming parser:
//! - `&` `<` `>` everywhere, plus `"` `'` in attributes (values are always double-quoted);
//! - tab, newline and carriage return in attributes as character references, because parsers
//!   normalise literal ones to spaces; carriage return in text too, because parsers fold `\r\n`;
//! - characters XML 1.0 forbids even as references (most C0 controls, U+FFFE, U+FFFF) are
//!   dropped: there is no way to transmit them, and a parse error would fail the whole call.

/// Builds one document; element names and attribute names are our own constants, never input.
pub(super) struct Writer {
    out: String,
}

/// `(name, value)`; `None` values are left out.
type Attrs<'a> = [(&'static str, Option<&'a str>)];

impl Writer {
    pub(super) fn new() -> Self {
        Self {
            out: String::with_capacity(256),
        }
    }

    pub(super) fn declaration(&mut self) {
        self.out
            .push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    }

    /// `<name attrs>`.
    pub(super) fn open(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.start(name, attrs);
        self.out.push('>');
    }

    /// `</name>`.
    pub(super) fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name attrs/>`.
    pub(super) fn empty(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.start(name, attrs);
        self.out.push_str("/>");
    }

    /// `<name attrs>text</name>`.
    pub(super) fn element(&mut self, name: &str, attrs: &Attrs<'_>, text: &str) {
        self.open(name, attrs);
        escape_into(&mut self.out, text, Context::Text);
        self.close(name);
    }

    pub(super) fn finish(self) -> String {
        self.out
    }

    fn start(&mut self, name: &str, attrs: &Attrs<'_>) {
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attrs {
            if let Some(value) = value {
                self.out.push(' ');
                self.out.push_str(key);
                self.out.push_str("=\"");
                escape_into(&mut self.out, value, Context::Attribute);
                self.out.push('"');
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Text,
    Attribute,
}

fn escape_into(out: &mut String, s: &str, context: Context) {
    let attr = context == Context::Attribute;
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
}

/// XML 1.0 `Char` production (surrogates cannot occur in a Rust `char`).
pub(super) fn is_xml_char(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..
    )
}
