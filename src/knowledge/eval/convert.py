#!/usr/bin/env python3
"""Converts chapters of "The Rust Programming Language" (mdBook HTML) into the Markdown corpus
of the retrieval evaluation.

Only the page's <main> element is read, so the sidebar, menu bar, search box and navigation
buttons never reach the output. Headings become ATX lines, paragraphs are unwrapped onto one
line, lists become "- " / "1. " lines, tables "cell | cell" rows, code blocks fenced blocks (with
mdBook's hidden "boring" lines dropped, as the rendered book hides them), and figure captions
plain paragraphs. Links keep their text, emphasis is dropped, inline code keeps its backticks,
images are skipped.

Standard library only. Usage (from the workspace root):

    python3 src/knowledge/eval/convert.py \
        ~/.rustup/toolchains/nightly-x86_64-unknown-linux-gnu/share/doc/rust/html/book \
        src/knowledge/eval/corpus

Prints each page's word count (all words, and prose words outside code blocks) and the totals.
"""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

# The chapters of the corpus, in book order: every page of each.
CHAPTERS = ["ch03", "ch04", "ch06", "ch08", "ch09", "ch10", "ch13", "ch16"]

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Elements whose end finishes the block of text being collected.
BLOCKS = {"p", "li", "dt", "dd", "figcaption", "blockquote", "tr", "div", "section", "figure"}


class Converter(HTMLParser):
    """Collects Markdown blocks from the HTML of one <main> element."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks = []  # finished Markdown blocks
        self.inline = []  # text of the block being collected
        self.lists = []  # open lists: ["ul"] or ["ol", next number]
        self.item_prefix = None  # marker for the first block of the current list item
        self.quote = 0  # blockquote depth
        self.heading = None  # level of the open heading
        self.code = None  # lines of an open <pre> block
        self.code_lang = ""
        self.boring = 0  # depth inside <span class="boring"> (hidden lines)
        self.skip = 0  # depth inside elements we drop
        self.inline_code = 0
        self.cells = None  # cells of the open table row

    # -- helpers -------------------------------------------------------------------------

    def indent(self):
        return "  " * max(len(self.lists) - 1, 0)

    def emit(self, text):
        if not text:
            return
        if self.item_prefix is not None:
            text = self.indent() + self.item_prefix + text
            self.item_prefix = None
        elif self.lists:
            text = self.indent() + "  " + text
        if self.quote:
            text = "\n".join("> " + line for line in text.split("\n"))
        self.blocks.append(text)

    def flush(self):
        text = re.sub(r"\s+", " ", "".join(self.inline)).strip()
        self.inline = []
        if self.cells is not None:
            if text:
                self.cells.append(text)
            return
        self.emit(text)

    # -- parser callbacks ----------------------------------------------------------------

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if self.skip:
            if tag not in ("img", "br", "hr", "input", "meta", "link"):
                self.skip += 1
            return
        if self.code is not None:
            if tag == "span" and "boring" in classes:
                self.boring += 1
            elif tag == "span" and self.boring:
                self.boring += 1
            return
        if tag in ("script", "style", "button", "nav", "svg", "noscript"):
            self.skip = 1
        elif tag in HEADINGS:
            self.flush()
            self.heading = HEADINGS[tag]
        elif tag == "pre":
            self.flush()
            self.code = []
            self.code_lang = ""
        elif tag == "code":
            self.inline_code += 1
            self.inline.append("`")
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists.append(["ul"] if tag == "ul" else ["ol", int(attrs.get("start") or 1)])
        elif tag == "li":
            self.flush()
            if self.lists and self.lists[-1][0] == "ol":
                self.item_prefix = f"{self.lists[-1][1]}. "
                self.lists[-1][1] += 1
            else:
                self.item_prefix = "- "
        elif tag == "blockquote":
            self.flush()
            self.quote += 1
        elif tag == "tr":
            self.flush()
            self.cells = []
        elif tag in ("td", "th"):
            self.flush()
        elif tag == "br":
            self.inline.append(" ")
        elif tag in BLOCKS:
            self.flush()

    def handle_startendtag(self, tag, attrs):
        if tag == "br" and not self.skip and self.code is None:
            self.inline.append(" ")

    def handle_endtag(self, tag):
        if self.skip:
            self.skip -= 1
            return
        if self.code is not None:
            if tag == "span" and self.boring:
                self.boring -= 1
            elif tag == "pre":
                body = "".join(self.code).strip("\n")
                lines = [line.rstrip() for line in body.split("\n")]
                self.code = None
                self.emit("```" + self.code_lang + "\n" + "\n".join(lines) + "\n```")
            return
        if tag in HEADINGS:
            title = re.sub(r"\s+", " ", "".join(self.inline)).strip()
            self.inline = []
            if title:
                self.blocks.append("#" * (self.heading or 2) + " " + title)
            self.heading = None
        elif tag == "code":
            self.inline_code -= 1
            self.inline.append("`")
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "blockquote":
            self.flush()
            self.quote -= 1
        elif tag in ("td", "th"):
            self.flush()
        elif tag == "tr":
            self.flush()
            cells, self.cells = self.cells, None
            if cells:
                self.emit(" | ".join(cells))
        elif tag in BLOCKS:
            self.flush()

    def handle_data(self, data):
        if self.skip:
            return
        if self.code is not None:
            if not self.boring:
                self.code.append(data)
            return
        self.inline.append(data)

    def markdown(self):
        self.flush()
        return "\n\n".join(self.blocks) + "\n"


def code_lang_of(main_html):
    """Yields the fence language of every <pre><code> in order ("rust", "console", ...)."""
    for m in re.finditer(r'<pre[^>]*>\s*<code([^>]*)>', main_html):
        cls = re.search(r'class="([^"]*)"', m.group(1))
        lang = ""
        if cls:
            for c in cls.group(1).split():
                if c.startswith("language-"):
                    lang = c[len("language-"):]
        yield lang


class LangConverter(Converter):
    """A converter that labels each fenced block with its language."""

    def __init__(self, langs):
        super().__init__()
        self.langs = iter(langs)

    def handle_starttag(self, tag, attrs):
        opening_pre = tag == "pre" and not self.skip and self.code is None
        super().handle_starttag(tag, attrs)
        if opening_pre:
            self.code_lang = next(self.langs, "")


def convert(page_html):
    main = re.search(r"<main>(.*)</main>", page_html, re.S)
    if not main:
        raise ValueError("no <main> element")
    body = re.sub(r"<!--.*?-->", "", main.group(1), flags=re.S)
    conv = LangConverter(list(code_lang_of(body)))
    conv.feed(body)
    conv.close()
    return conv.markdown()


def words(text):
    """(all words, prose words outside fenced code blocks)."""
    prose = re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)
    return len(text.split()), len(prose.split())


def pages(book):
    """The book's pages in table-of-contents order (the directory also holds redirect stubs
    left behind by renumbered chapters, which the table of contents does not list)."""
    toc = next(book.glob("toc*.js")).read_text(encoding="utf-8")
    seen = []
    for name in re.findall(r'href="([^"#]+\.html)"', toc):
        if name not in seen:
            seen.append(name)
    return [book / name for name in seen]


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    book, out = Path(argv[1]).expanduser(), Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    total_all = total_prose = 0
    for page in pages(book):
        if page.name.split("-")[0] in CHAPTERS:
            md = convert(page.read_text(encoding="utf-8"))
            target = out / (page.stem + ".md")
            target.write_text(md, encoding="utf-8")
            n_all, n_prose = words(md)
            total_all += n_all
            total_prose += n_prose
            print(f"{target.name}\t{n_all}\t{n_prose}")
    print(f"TOTAL\t{total_all}\t{total_prose}")


if __name__ == "__main__":
    main(sys.argv)
