//! Counting tokens: the [`TokenCounter`] seam and a cheap, deterministic estimate.
//!
//! The chunker needs a token count to size chunks. The exact count depends on the embedding
//! model's tokenizer, which lives on the I/O side (`knowledge::embed::local`), so the chunker
//! takes any [`TokenCounter`]; [`TokenEstimate`] is the default when no tokenizer is at hand.

/// Counts the tokens a piece of text costs.
///
/// The chunker sizes a chunk by summing the counts of its sentences, so a counter must be
/// subadditive over whitespace: `count(a + " " + b) <= count(a) + count(b)`. Then no chunk
/// exceeds its budget. WordPiece tokenizers (counted without special tokens) are exactly additive
/// over whitespace, and [`TokenEstimate`] rounds each piece up, so both qualify.
pub trait TokenCounter {
    /// The number of tokens `text` costs, without any special tokens a model adds.
    fn count(&self, text: &str) -> usize;
}

impl<F: Fn(&str) -> usize> TokenCounter for F {
    fn count(&self, text: &str) -> usize {
        self(text)
    }
}

/// A tokenizer-free estimate of BERT-style (WordPiece) token counts.
///
/// Such tokenizers split text at whitespace and around every punctuation mark or symbol, then
/// break rarer words into a few pieces. So the estimate charges one token per punctuation or
/// symbol character, 1.2 per run of letters and digits (one more per 20 characters of a very
/// long run, and half a token per character when letters and digits mix, as in commit hashes,
/// which the tokenizer splits every two or three characters), and one per CJK, kana or hangul
/// character (those scripts are written without spaces and split per character). Against the
/// all-MiniLM-L6-v2 tokenizer it lands within about 11% on the English fixtures (prose, Markdown
/// with code, a restaurant's HTML and DOCX), leaning high. It undercounts other Latin-script
/// languages (by a third on German), which that English model splits finely: size chunks for it
/// with the model's own counter (`knowledge::embed::LocalModel` implements [`TokenCounter`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenEstimate;

impl TokenCounter for TokenEstimate {
    fn count(&self, text: &str) -> usize {
        // Work in tenths of a token so the sum stays exact and deterministic.
        let mut tenths = 0usize;
        let mut run = 0usize;
        let (mut letters, mut digits) = (false, false);
        for c in text.chars().chain(std::iter::once(' ')) {
            if c.is_alphanumeric() && !is_unspaced_script(c) {
                run += 1;
                letters |= !c.is_numeric();
                digits |= c.is_numeric();
                continue;
            }
            if run > 0 {
                tenths += if letters && digits {
                    // Letters mixed with digits (hashes, ids, `E0004`) split every two or so.
                    12.max(5 * run)
                } else {
                    // Runs of 20+ characters (base64, long numbers) pay one more token per 20.
                    12 + 10 * (run / 20)
                };
                run = 0;
                (letters, digits) = (false, false);
            }
            if !c.is_whitespace() {
                tenths += 10;
            }
        }
        tenths.div_ceil(10)
    }
}

/// Scripts written without spaces between words, which tokenizers split per character.
pub(crate) fn is_unspaced_script(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'     // hiragana, katakana
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'   // hangul syllables
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}' // CJK extensions B–F, compatibility supplement
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_text_cost_nothing() {
        assert_eq!(TokenEstimate.count(""), 0);
        assert_eq!(TokenEstimate.count(" \n\t "), 0);
    }

    #[test]
    fn words_cost_one_point_two_tokens() {
        assert_eq!(TokenEstimate.count("one"), 2); // 1.2 rounds up
        assert_eq!(
            TokenEstimate.count("the cat sat on the mat today ok ok ok"),
            12
        );
    }

    #[test]
    fn punctuation_and_symbols_cost_a_token_each() {
        assert_eq!(TokenEstimate.count("11:30"), 4); // 1.2 + 1 + 1.2 = 3.4
        assert_eq!(TokenEstimate.count("12 €."), 4); // 1.2 + 1 + 1 = 3.2, rounded up
    }

    #[test]
    fn very_long_runs_cost_more() {
        assert_eq!(TokenEstimate.count(&"a".repeat(19)), 2);
        assert_eq!(TokenEstimate.count(&"a".repeat(45)), 4); // 1.2 + 2
    }

    #[test]
    fn letters_mixed_with_digits_cost_half_a_token_a_character() {
        assert_eq!(TokenEstimate.count("u32"), 2); // 1.5 rounds up
        assert_eq!(
            TokenEstimate.count("4d91de4e48198da2e33413efdcd9cd2cc0c46688"),
            20
        );
        assert_eq!(TokenEstimate.count("2024"), 2); // digits alone: a word
    }

    #[test]
    fn urls_cost_more_than_words() {
        let short = TokenEstimate.count("pizza");
        let long = TokenEstimate.count("https://example.com/menu/pizzas/margherita");
        assert!(long > 5 * short, "{long} vs {short}");
    }

    #[test]
    fn cjk_characters_cost_one_token_each() {
        assert_eq!(TokenEstimate.count("東京都"), 3);
        assert_eq!(TokenEstimate.count("東京 pizza"), 4); // 2 + 1.2 rounded up
    }

    #[test]
    fn the_estimate_is_subadditive_and_nearly_additive() {
        let a = "Preheat the oven to 450 degrees.";
        let b = "Stretch the dough by hand.";
        let sum = TokenEstimate.count(a) + TokenEstimate.count(b);
        let joined = TokenEstimate.count(&format!("{a} {b}"));
        assert!(joined <= sum && sum - joined <= 1, "{joined} vs {sum}");
    }

    #[test]
    fn closures_count_tokens_too() {
        let chars = |text: &str| text.chars().count();
        assert_eq!(TokenCounter::count(&chars, "abc"), 3);
    }
}
