//! Finding sentence, line and word boundaries inside a paragraph.
//!
//! These are the places the chunker may cut a paragraph that is too long for one chunk,
//! in order of preference. All functions work on byte ranges into the caller's text and only
//! return ranges that start and end on character boundaries, trimmed of surrounding whitespace.

use std::ops::Range;

/// Abbreviations whose trailing period does not end a sentence (compared lower-case).
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "sr", "jr", "vs", "etc", "e.g", "i.e", "no", "nos",
    "fig", "approx", "inc", "ltd", "co", "corp", "mt", "ave", "dept", "est", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "p", "pp", "vol", "ch",
];

/// Splits `text[range]` into sentences.
///
/// A sentence ends after `.`, `!`, `?` or `…` (plus any closing quotes or brackets) followed by
/// whitespace and a word that does not start in lower case, unless the period closes a known
/// abbreviation or a single-letter initial. CJK full stops end a sentence without a following
/// space. A line that starts a list item (`- `, `* `, `+ `, `1. `, `1) `) also starts a sentence.
pub(crate) fn sentences(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let slice = &text[range.clone()];
    let mut cuts = vec![0];
    let mut chars = slice.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' {
            let rest = slice[i + 1..].trim_start_matches([' ', '\t']);
            if starts_list_item(rest) {
                cuts.push(i + 1);
            }
            continue;
        }
        let cjk = matches!(c, '。' | '！' | '？');
        if !cjk && !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        // Swallow repeated terminators and closing punctuation: `?!`, `."`, `.)`.
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = chars.peek() {
            if matches!(
                d,
                '.' | '!' | '?' | '…' | '"' | '\'' | '”' | '’' | ')' | ']' | '」' | '』'
            ) {
                end = j + d.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let after = &slice[end..];
        if cjk {
            cuts.push(end);
            continue;
        }
        if !after.starts_with(char::is_whitespace) {
            continue; // "3.5", "e.g.," and URLs are not ends
        }
        let next_word = after.trim_start();
        if next_word.starts_with(char::is_lowercase) {
            continue;
        }
        if c == '.' && end == i + 1 && is_abbreviation(&slice[..i]) {
            continue;
        }
        cuts.push(end);
    }
    cuts.push(slice.len());
    ranges_between(slice, range.start, &cuts)
}

/// Splits `text[range]` at line breaks.
pub(crate) fn lines(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let slice = &text[range.clone()];
    let mut cuts = vec![0];
    cuts.extend(slice.match_indices('\n').map(|(i, _)| i + 1));
    cuts.push(slice.len());
    ranges_between(slice, range.start, &cuts)
}

/// Splits `text[range]` into whitespace-separated words.
pub(crate) fn words(text: &str, range: Range<usize>) -> Vec<Range<usize>> {
    let slice = &text[range.clone()];
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in slice.char_indices() {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                out.push(range.start + s..range.start + i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(range.start + s..range.end);
    }
    out
}

/// Turns cut positions (relative to `slice`) into trimmed, non-empty absolute ranges.
fn ranges_between(slice: &str, offset: usize, cuts: &[usize]) -> Vec<Range<usize>> {
    cuts.windows(2)
        .filter_map(|w| {
            let part = &slice[w[0]..w[1]];
            let trimmed = part.trim();
            if trimmed.is_empty() {
                return None;
            }
            let lead = part.len() - part.trim_start().len();
            let start = offset + w[0] + lead;
            Some(start..start + trimmed.len())
        })
        .collect()
}

fn starts_list_item(line: &str) -> bool {
    if let Some(rest) = line.strip_prefix(['-', '*', '+', '•']) {
        return rest.starts_with(' ');
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && digits < 4 && {
        let rest = &line[digits..];
        (rest.starts_with(". ") || rest.starts_with(") ")) && rest.len() > 2
    }
}

/// Whether the word just before a period (the end of `before`) is an abbreviation or initial.
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        // "1. Preheat" at the start of a line numbers a list item; "in 1999. Then" ends a sentence.
        let line_before = before[..before.len() - word.len()].trim_end_matches([' ', '\t']);
        return line_before.is_empty() || line_before.ends_with('\n');
    }
    let mut letters = word.chars();
    if let (Some(first), None) = (letters.next(), letters.next()) {
        return first.is_uppercase(); // an initial: "J. R. R. Tolkien"
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(f: fn(&str, Range<usize>) -> Vec<Range<usize>>, text: &str) -> Vec<&str> {
        f(text, 0..text.len())
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn sentences_end_at_terminal_punctuation() {
        let text = "We open at nine. Do you deliver? Yes! Call us.";
        assert_eq!(
            split(sentences, text),
            ["We open at nine.", "Do you deliver?", "Yes!", "Call us."]
        );
    }

    #[test]
    fn abbreviations_initials_and_decimals_do_not_end_sentences() {
        let text = "Dr. Smith met J. R. Jones at 3.5 p.m. on Main St. today. Then e.g. pizza.";
        assert_eq!(
            split(sentences, text),
            [
                "Dr. Smith met J. R. Jones at 3.5 p.m. on Main St. today.",
                "Then e.g. pizza."
            ]
        );
    }

    #[test]
    fn closing_quotes_stay_with_their_sentence() {
        let text = "He said \"stop.\" She left (quietly.) The end.";
        assert_eq!(
            split(sentences, text),
            ["He said \"stop.\"", "She left (quietly.)", "The end."]
        );
    }

    #[test]
    fn list_items_start_new_sentences() {
        let text = "Toppings:\n- basil\n- mozzarella\n2. extra cheese";
        assert_eq!(
            split(sentences, text),
            ["Toppings:", "- basil", "- mozzarella", "2. extra cheese"]
        );
    }

    #[test]
    fn numbered_list_markers_are_not_sentence_ends() {
        let text = "1. Preheat the oven.\n2. Bake it in 1999. Then eat.";
        assert_eq!(
            split(sentences, text),
            ["1. Preheat the oven.", "2. Bake it in 1999.", "Then eat."]
        );
    }

    #[test]
    fn cjk_full_stops_end_sentences_without_spaces() {
        let text = "東京に行きます。大阪も好きです。";
        assert_eq!(
            split(sentences, text),
            ["東京に行きます。", "大阪も好きです。"]
        );
    }

    #[test]
    fn a_paragraph_without_punctuation_is_one_sentence() {
        assert_eq!(split(sentences, "  just words here  "), ["just words here"]);
        assert!(split(sentences, "   ").is_empty());
    }

    #[test]
    fn lines_and_words_are_trimmed_and_non_empty() {
        assert_eq!(split(lines, "a | b\n\n c | d \n"), ["a | b", "c | d"]);
        assert_eq!(split(words, " naïve  café\tok "), ["naïve", "café", "ok"]);
    }

    #[test]
    fn ranges_are_absolute_when_the_range_starts_late() {
        let text = "Skip this. Keep this. And this.";
        let got = sentences(text, 11..text.len());
        assert_eq!(
            got.iter().map(|r| &text[r.clone()]).collect::<Vec<_>>(),
            ["Keep this.", "And this."]
        );
    }
}
