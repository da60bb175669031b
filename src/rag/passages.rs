//! Retrieved passages as the model reads them: an agent's start context and the
//! `query_knowledge_base` tool's output, each within a budget.
//!
//! Both are plain text with a source line per passage, so the model can say where an answer
//! came from ("according to the returns policy…"). Passages arrive best first; the budget is
//! filled in that order and a passage that does not fit is left out whole (a cut passage reads
//! as a different claim), except the first, which is cut rather than returning nothing.

use super::tokens::{TokenCounter, TokenEstimate};

/// One retrieved passage.
#[derive(Debug, Clone, PartialEq)]
pub struct Passage<'a> {
    /// The document's title.
    pub title: &'a str,
    /// The headings the passage sits under, outermost first.
    pub heading_path: &'a [String],
    /// The passage's text.
    pub content: &'a str,
}

impl Passage<'_> {
    /// `Returns policy › Refunds › Timing`: where the passage comes from.
    pub fn source(&self) -> String {
        let mut source = self.title.trim().to_owned();
        for heading in self.heading_path {
            let heading = heading.trim();
            if !heading.is_empty() && heading != source {
                source.push_str(" › ");
                source.push_str(heading);
            }
        }
        source
    }

    fn render(&self) -> String {
        format!("[{}]\n{}\n", self.source(), self.content.trim())
    }
}

/// The passages rendered one after another, best first, within `budget_tokens` (estimated).
/// Returns the text and how many passages it holds (all of the first passage counts as one).
pub fn render_within(passages: &[Passage<'_>], budget_tokens: usize) -> (String, usize) {
    let counter = TokenEstimate;
    let mut out = String::new();
    let mut used = 0;
    let mut included = 0;
    for passage in passages {
        let block = passage.render();
        let cost = counter.count(&block) + 1;
        if used + cost <= budget_tokens {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&block);
            used += cost;
            included += 1;
        } else if included == 0 {
            out = cut_to_tokens(&block, budget_tokens);
            included = 1;
            break;
        }
    }
    (out, included)
}

/// The start of `text` within about `budget_tokens`, cut at a word boundary, marked with `…`.
fn cut_to_tokens(text: &str, budget_tokens: usize) -> String {
    let counter = TokenEstimate;
    let mut end = text.len();
    // Shrink by words until it fits; estimates are monotonic in length, so this terminates.
    while end > 0 && counter.count(&text[..end]) + 1 > budget_tokens {
        end = text[..end]
            .trim_end()
            .rfind(char::is_whitespace)
            .unwrap_or(0);
    }
    let mut cut = text[..end].trim_end().to_owned();
    cut.push('…');
    cut
}

/// The tool output of `query_knowledge_base`: the passages, or a sentence saying none matched
/// (so the model says it does not know instead of guessing).
pub fn tool_output(query: &str, passages: &[Passage<'_>], budget_tokens: usize) -> String {
    if passages.is_empty() {
        return format!(
            "No passage in the knowledge base matches \"{}\". Say you do not know rather than guessing, and offer to help another way.",
            query.trim()
        );
    }
    let (text, _) = render_within(passages, budget_tokens);
    format!(
        "Passages from the knowledge base, best match first. Answer only from them and mention the source when it helps.\n\n{text}"
    )
}

/// An agent's start context: what it knows before the caller says anything.
pub fn start_context(passages: &[Passage<'_>], budget_tokens: usize) -> String {
    if passages.is_empty() {
        return String::new();
    }
    let (text, _) = render_within(passages, budget_tokens);
    format!(
        "# Reference material\nExcerpts from the business's documents. Prefer them over general knowledge; for anything not covered, use the query_knowledge_base tool.\n\n{text}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passage<'a>(title: &'a str, path: &'a [String], content: &'a str) -> Passage<'a> {
        Passage {
            title,
            heading_path: path,
            content,
        }
    }

    #[test]
    fn a_source_names_the_document_and_its_headings() {
        let path = vec!["Returns".to_owned(), " Refunds ".to_owned(), String::new()];
        assert_eq!(
            passage("Store policy", &path, "x").source(),
            "Store policy › Returns › Refunds"
        );
        let same = vec!["Store policy".to_owned()];
        assert_eq!(passage("Store policy", &same, "x").source(), "Store policy");
    }

    #[test]
    fn passages_fill_the_budget_best_first_and_whole() {
        let long = "word ".repeat(300);
        let path: Vec<String> = Vec::new();
        let passages = [
            passage("A", &path, "Opening hours are nine to five."),
            passage("B", &path, &long),
            passage("C", &path, "Parking is free after six."),
        ];
        let (text, n) = render_within(&passages, 60);
        assert_eq!(n, 2, "{text}");
        assert!(text.contains("[A]\nOpening hours"));
        assert!(
            !text.contains("[B]"),
            "B does not fit and is left out whole"
        );
        assert!(text.contains("[C]\nParking"));
        assert!(text.find("[A]") < text.find("[C]"));
    }

    #[test]
    fn a_first_passage_too_long_for_the_budget_is_cut() {
        let long = "word ".repeat(500);
        let path: Vec<String> = Vec::new();
        let (text, n) = render_within(&[passage("A", &path, &long)], 50);
        assert_eq!(n, 1);
        assert!(text.ends_with('…'));
        assert!(
            TokenEstimate.count(&text) <= 50,
            "{}",
            TokenEstimate.count(&text)
        );
        assert!(text.starts_with("[A]\nword word"));
    }

    #[test]
    fn tool_output_says_when_nothing_matched() {
        let none = tool_output(" parking? ", &[], 500);
        assert!(none.contains("\"parking?\"") && none.contains("do not know"));
        let path = vec!["Hours".to_owned()];
        let some = tool_output("hours", &[passage("FAQ", &path, "Nine to five.")], 500);
        assert!(some.contains("[FAQ › Hours]\nNine to five."));
    }

    #[test]
    fn an_agent_without_documents_starts_with_no_context() {
        assert_eq!(start_context(&[], 500), "");
        let path: Vec<String> = Vec::new();
        let context = start_context(&[passage("Menu", &path, "Pizza costs $12.")], 500);
        assert!(context.starts_with("# Reference material"));
        assert!(context.contains("[Menu]\nPizza costs $12."));
    }
}
