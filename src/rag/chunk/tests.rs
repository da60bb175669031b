use proptest::prelude::*;

use super::*;

const CONSTITUTION: &str = include_str!("../testdata/us-constitution-article-1.txt");
const RUST_BOOK: &str = include_str!("../testdata/rust-book-data-types.md");

fn options(max: usize, overlap: usize) -> ChunkOptions {
    ChunkOptions::new(max, overlap).unwrap()
}

/// Checks every promise the module makes about its output.
#[track_caller]
fn assert_invariants(
    source: &str,
    chunks: &[Chunk],
    opts: &ChunkOptions,
    counter: &dyn TokenCounter,
) {
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.index, i);
        assert!(!c.text.trim().is_empty(), "chunk {i} is empty");
        assert_eq!(
            c.text,
            &source[c.source_start..c.source_end],
            "chunk {i} is not its source slice"
        );
        assert_eq!(c.text, c.text.trim(), "chunk {i} is not trimmed");
        assert_eq!(
            c.token_count,
            counter.count(&c.text),
            "chunk {i} miscounted"
        );
        let single_word = c.text.split_whitespace().count() == 1;
        assert!(
            c.token_count <= opts.max_tokens() || single_word,
            "chunk {i} has {} tokens",
            c.token_count
        );
        let before = source[..c.source_start].chars().next_back();
        let after = source[c.source_end..].chars().next();
        assert!(
            before.is_none_or(|b| b.is_whitespace()) || ends_at_cjk_stop(&source[..c.source_start]),
            "chunk {i} starts inside a word: {:?}",
            c.text.chars().take(30).collect::<String>()
        );
        assert!(
            after.is_none_or(char::is_whitespace) || ends_at_cjk_stop(&c.text),
            "chunk {i} ends inside a word"
        );
    }
}

/// Whether `text` ends with a CJK full stop (and any closing punctuation), where a sentence
/// may end without a space after it.
fn ends_at_cjk_stop(text: &str) -> bool {
    let closing = |c: char| ".!?…\"'”’)]」』".contains(c);
    text.trim_end_matches(closing).ends_with(['。', '！', '？'])
        || text.ends_with(['。', '！', '？'])
}

/// Checks that every non-space character of the source outside heading lines is in some chunk.
#[track_caller]
fn assert_covers_body(source: &str, chunks: &[Chunk]) {
    let mut offset = 0;
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !(trimmed.starts_with("# ") || trimmed.starts_with("##")) {
            for (i, ch) in line.char_indices().filter(|(_, ch)| !ch.is_whitespace()) {
                let at = offset + i;
                assert!(
                    chunks
                        .iter()
                        .any(|c| c.source_start <= at && at < c.source_end),
                    "{ch:?} at byte {at} is in no chunk"
                );
            }
        }
        offset += line.len();
    }
}

fn sentences_of(n: usize, words_each: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "Sentence {i} {}.",
                vec!["word"; words_each.saturating_sub(2)].join(" ")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn empty_and_blank_input_give_no_chunks() {
    assert!(chunk("", &ChunkOptions::default()).is_empty());
    assert!(chunk(" \n\n\t \n", &ChunkOptions::default()).is_empty());
}

#[test]
fn headings_with_no_body_give_no_chunks() {
    assert!(
        chunk(
            "# Menu\n## Pizzas\n\n### Drinks\n",
            &ChunkOptions::default()
        )
        .is_empty()
    );
}

#[test]
fn a_short_document_is_one_chunk_with_its_heading_path() {
    let text = "# Menu\n\n## Pizzas\n\nMargherita: tomato, mozzarella, basil. 12 dollars.\n";
    let chunks = chunk(text, &ChunkOptions::default());
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].heading_path, ["Menu", "Pizzas"]);
    assert_eq!(
        chunks[0].text,
        "Margherita: tomato, mozzarella, basil. 12 dollars."
    );
    assert_eq!(
        chunks[0].embedding_text(),
        "Menu > Pizzas\n\nMargherita: tomato, mozzarella, basil. 12 dollars."
    );
}

#[test]
fn the_constitution_splits_into_balanced_overlapping_chunks() {
    let opts = ChunkOptions::default();
    let chunks = chunk(CONSTITUTION, &opts);
    assert_invariants(CONSTITUTION, &chunks, &opts, &TokenEstimate);
    assert_covers_body(CONSTITUTION, &chunks);
    assert!(chunks.len() >= 8, "{} chunks", chunks.len());
    assert!(
        chunks.iter().all(|c| c.heading_path.is_empty()),
        "a plain text file has no headings"
    );
    for pair in chunks.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            b.source_start < a.source_end,
            "chunk {} does not overlap chunk {}",
            b.index,
            a.index
        );
        let repeated = &CONSTITUTION[b.source_start..a.source_end];
        assert!(
            TokenEstimate.count(repeated) <= opts.overlap_tokens(),
            "overlap too long: {repeated:?}"
        );
    }
    let smallest = chunks.iter().map(|c| c.token_count).min().unwrap();
    assert!(
        smallest >= opts.max_tokens() / 4,
        "a scrap chunk of {smallest} tokens"
    );
}

#[test]
fn the_constitution_fits_a_small_model_window() {
    let opts = ChunkOptions::fitting(256);
    let chunks = chunk(CONSTITUTION, &opts);
    assert_invariants(CONSTITUTION, &chunks, &opts, &TokenEstimate);
    assert_covers_body(CONSTITUTION, &chunks);
    // Abbreviation-like "Section. 2." lines must not be cut from the clause they introduce.
    assert!(chunks.iter().all(|c| !c.text.ends_with("Section.")));
}

#[test]
fn markdown_headings_become_paths_and_code_fences_stay_code() {
    let opts = ChunkOptions::default();
    let chunks = chunk(RUST_BOOK, &opts);
    assert_invariants(RUST_BOOK, &chunks, &opts, &TokenEstimate);
    assert_covers_body(RUST_BOOK, &chunks);

    let integer = chunks
        .iter()
        .find(|c| c.text.starts_with("An *integer* is a number"))
        .unwrap();
    assert_eq!(
        integer.heading_path,
        ["Data Types", "Scalar Types", "Integer Types"]
    );
    let arrays = chunks
        .iter()
        .find(|c| c.text.starts_with("Another way to bind a name"))
        .unwrap();
    assert_eq!(arrays.heading_path, ["Data Types", "Arrays"]);

    // The `// addition` … `// modulo` example is one fenced block and stays whole.
    let numeric = chunks
        .iter()
        .find(|c| c.text.contains("// addition"))
        .unwrap();
    assert_eq!(
        numeric.heading_path,
        ["Data Types", "Scalar Types", "Numeric Operations"]
    );
    assert!(numeric.text.contains("let remainder = 43 % 5;\n}\n```"));
    assert!(
        chunks
            .iter()
            .all(|c| c.heading_path.iter().all(|h| !h.contains("fn main")))
    );
}

#[test]
fn paragraphs_are_kept_whole_when_they_fit() {
    let paragraph = |name: &str| format!("{name} {}", sentences_of(10, 11));
    let text = [paragraph("Alpha."), paragraph("Beta."), paragraph("Gamma.")].join("\n\n");
    let opts = options(400, 50);
    let chunks = chunk(&text, &opts);
    assert_invariants(&text, &chunks, &opts, &TokenEstimate);
    assert_eq!(chunks.len(), 3, "{chunks:#?}");
    assert!(
        chunks[0].text.starts_with("Alpha.")
            && chunks[0]
                .text
                .ends_with("Sentence 9 word word word word word word word word word.")
    );
    assert!(chunks[1].text.ends_with(&paragraph("Beta.")));
    assert!(chunks[2].text.ends_with(&paragraph("Gamma.")));
}

#[test]
fn one_huge_paragraph_is_cut_between_sentences() {
    let text = sentences_of(300, 12);
    let opts = options(200, 40);
    let chunks = chunk(&text, &opts);
    assert_invariants(&text, &chunks, &opts, &TokenEstimate);
    assert_covers_body(&text, &chunks);
    assert!(chunks.len() >= 20);
    for c in &chunks {
        assert!(
            c.text.starts_with("Sentence "),
            "chunk {} starts mid-sentence",
            c.index
        );
        assert!(c.text.ends_with('.'), "chunk {} ends mid-sentence", c.index);
    }
}

#[test]
fn a_sentence_longer_than_a_chunk_is_cut_between_words() {
    let text = vec!["pepperoni"; 1000].join(" ");
    let opts = options(100, 20);
    let chunks = chunk(&text, &opts);
    assert_invariants(&text, &chunks, &opts, &TokenEstimate);
    assert_covers_body(&text, &chunks);
    assert!(chunks.len() >= 13);
}

#[test]
fn a_word_longer_than_a_chunk_stands_alone() {
    let long = "x".repeat(500);
    let text = format!("Short start. {long} short end.");
    let opts = options(20, 4);
    let chunks = chunk(&text, &opts);
    assert_invariants(&text, &chunks, &opts, &TokenEstimate);
    assert!(chunks.iter().any(|c| c.text == long));
}

#[test]
fn unicode_text_is_cut_on_character_boundaries() {
    let text = format!(
        "# Carta 🍕\n\n{}\n\n## 東京\n\n{}",
        "Crème brûlée für 5 €. Señor Müller isst gern Pizza. ".repeat(40),
        "東京の店は毎日十時から営業しています。予約は電話でどうぞ。".repeat(30),
    );
    let opts = options(60, 10);
    let chunks = chunk(&text, &opts);
    assert_invariants(&text, &chunks, &opts, &TokenEstimate);
    assert_covers_body(&text, &chunks);
    assert!(chunks.iter().any(|c| c.heading_path == ["Carta 🍕"]));
    assert!(
        chunks
            .iter()
            .any(|c| c.heading_path == ["Carta 🍕", "東京"])
    );
}

#[test]
fn a_custom_counter_sizes_the_chunks() {
    // Subadditive, as the chunker requires: spaces are free and each piece rounds up.
    let by_chars = |t: &str| t.chars().filter(|c| !c.is_whitespace()).count().div_ceil(4);
    let opts = options(64, 8);
    let chunks = chunk_with(CONSTITUTION, &opts, &by_chars);
    assert_invariants(CONSTITUTION, &chunks, &opts, &by_chars);
    assert!(chunks.iter().all(|c| c.token_count == by_chars(&c.text)));
}

#[test]
fn options_are_validated() {
    assert_eq!(
        ChunkOptions::new(8, 0),
        Err(InvalidChunkOptions::MaxTooSmall { got: 8, min: 16 })
    );
    assert_eq!(
        ChunkOptions::new(100, 60),
        Err(InvalidChunkOptions::OverlapTooLarge {
            overlap: 60,
            max: 100
        })
    );
    let small = ChunkOptions::fitting(256);
    assert_eq!((small.max_tokens(), small.overlap_tokens()), (201, 40));
    assert_eq!(ChunkOptions::fitting(8191), ChunkOptions::default());
    assert_eq!(
        ChunkOptions::fitting(0).max_tokens(),
        ChunkOptions::MIN_MAX_TOKENS
    );
}

proptest! {
    #[test]
    fn any_text_chunks_without_panicking_and_keeps_the_invariants(
        text in "([#]{0,3}[ ]?[a-zé東。.!?\\-]{0,12}[ \n]{0,3}){0,120}",
        max in 16usize..80,
    ) {
        let opts = options(max, max / 5);
        let chunks = chunk(&text, &opts);
        assert_invariants(&text, &chunks, &opts, &TokenEstimate);
    }
}
