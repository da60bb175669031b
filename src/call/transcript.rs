//! Transcript lines and the rule that an interrupted agent line keeps only what the caller heard.
//! Pure data and string slicing, no I/O.

use serde::Serialize;

/// Who a transcript line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person on the phone (text from the engine's transcriber, which may differ from what
    /// the model understood).
    Caller,
    /// The AI agent (what the caller heard).
    Agent,
    /// A tool call and its result.
    Tool,
    /// Call events (engine reconnects, transfers).
    System,
}

/// One line of a call transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranscriptLine {
    /// Who.
    pub role: Role,
    /// What.
    pub text: String,
    /// Start, in ms since the call started.
    pub start_ms: u64,
    /// End, in ms since the call started.
    pub end_ms: u64,
    /// The caller cut this agent line short; `text` holds only the part they heard.
    pub interrupted: bool,
}

/// The part of `text` a listener heard after `heard_ms` of `total_ms` of its audio, cut back to a
/// word boundary. Speech time is taken as proportional to characters, so this is an estimate.
pub fn heard_prefix(text: &str, heard_ms: u64, total_ms: u64) -> &str {
    if total_ms == 0 || heard_ms == 0 {
        return "";
    }
    if heard_ms >= total_ms {
        return text.trim_end();
    }
    let chars = text.chars().count() as u64;
    let keep = usize::try_from(chars * heard_ms / total_ms).unwrap_or(usize::MAX);
    let Some((cut, next)) = text.char_indices().nth(keep) else {
        return text.trim_end();
    };
    // A cut just before whitespace ends a whole word; otherwise drop the partial word.
    let end = if next.is_whitespace() {
        cut
    } else {
        text[..cut].rfind(char::is_whitespace).unwrap_or(0)
    };
    text[..end].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_heard_keeps_nothing_and_everything_heard_keeps_all() {
        assert_eq!(heard_prefix("Hello there.", 0, 1000), "");
        assert_eq!(heard_prefix("Hello there.", 1000, 1000), "Hello there.");
        assert_eq!(heard_prefix("Hello there.", 1500, 1000), "Hello there.");
        assert_eq!(heard_prefix("Hello there.", 10, 0), "");
    }

    #[test]
    fn a_cut_inside_a_word_drops_that_word() {
        // 31 chars, half → 15 → "Hello there, ho" → back to the last whole word.
        assert_eq!(
            heard_prefix("Hello there, how are you today?", 500, 1000),
            "Hello there,"
        );
    }

    #[test]
    fn a_cut_at_a_word_end_keeps_that_word() {
        // "Hello there" is 11 of 22 chars.
        assert_eq!(
            heard_prefix("Hello there again now.", 500, 1000),
            "Hello there"
        );
    }

    #[test]
    fn a_cut_inside_the_first_word_keeps_nothing() {
        assert_eq!(heard_prefix("Wonderful news today", 100, 1000), "");
    }

    #[test]
    fn multibyte_text_is_cut_on_char_boundaries() {
        assert_eq!(
            heard_prefix("Grüß dich, schön dich zu hören", 500, 1000),
            "Grüß dich,"
        );
    }
}
