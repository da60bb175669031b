//! Ingestion with the local model: (a) embedding throughput in chunks per second for chunks the
//! way ingestion cuts them (`rag::chunk` with `ChunkOptions::fitting(256)`) from real prose, at
//! the embedder's preferred batch size; (b) a generated 100-page text PDF (Helvetica, about 450
//! words of real prose per page) through extract → chunk → embed → store, each stage timed, and
//! then once more end to end through `knowledge::retrieve::ingest_text` as a check.
//!
//! The prose is "The Rust Programming Language" as the toolchain ships it (HTML, read with our
//! extractor); `BENCH_BOOK_DIR` points elsewhere. The database is a fresh PostgreSQL + pgvector
//! cluster with durable settings (fsync on, unlike the test clusters), deleted afterwards.
//!
//! Run: `cargo bench -p switchboard --bench ingestion`
//! (`EMBEDDING_MODEL_DIR` as for the model's tests; `BENCH_EMBED_CHUNKS`, default 256.)

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use sqlx::{Connection, Executor};
use switchboard::knowledge::embed::local::LocalEmbedder;
use switchboard::knowledge::retrieve::ingest_text;
use switchboard::knowledge::{Embedder, extract};
use switchboard::postgres::{EmbeddedOptions, EmbeddedPostgres, PgBinaries};
use switchboard::rag::{Chunk, ChunkOptions, chunk};
use switchboard::store;
use switchboard::testing::{seed_org, tools_dir};

const PAGES: usize = 100;
const WORDS_PER_PAGE: usize = 450;
/// Characters per line: Helvetica 10 pt averages about 5 pt a character, on 492 pt of line.
const LINE_CHARS: usize = 92;

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let book = book_dir();
    let chapters = read_book(&book)?;
    let model_dir = std::env::var_os("EMBEDDING_MODEL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".tools/all-minilm-l6-v2"));
    let started = Instant::now();
    let embedder = LocalEmbedder::load(model_dir.clone())
        .await
        .with_context(|| format!("load all-MiniLM-L6-v2 from {}", model_dir.display()))?;
    let load_secs = started.elapsed().as_secs_f64();

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("ingestion bench");
    println!(
        "machine: {cores} cores ({}), candle on the CPU",
        cpu_model()
    );
    println!(
        "model: {} ({} dims, {} input tokens), batch size {}, loaded in {load_secs:.1} s",
        embedder.model_id(),
        embedder.dimensions(),
        embedder.max_input_tokens(),
        embedder.preferred_batch_size()
    );
    println!(
        "text: {} chapters of The Rust Programming Language from {}",
        chapters.len(),
        book.display()
    );

    let throughput = embedding_throughput(&embedder, &chapters).await?;
    let pdf = pdf_ingestion(&embedder, &chapters).await?;

    println!();
    println!("(a) local embedding throughput");
    println!("{:<34} | {:>12}", "measure", "value");
    println!("{}", "-".repeat(49));
    for (label, value) in &throughput {
        println!("{label:<34} | {value:>12}");
    }
    println!();
    println!("(b) {PAGES}-page PDF ingestion, local model");
    println!("{:<34} | {:>9} | {:>6}", "stage", "seconds", "share");
    println!("{}", "-".repeat(55));
    let total: f64 = pdf.stages.iter().map(|(_, d)| d.as_secs_f64()).sum();
    for (label, d) in &pdf.stages {
        println!(
            "{label:<34} | {:>9.3} | {:>5.1}%",
            d.as_secs_f64(),
            100.0 * d.as_secs_f64() / total
        );
    }
    println!("{:<34} | {total:>9.3} |", "total");
    println!("{:<34} | {:>9.2} |", "pages/s", PAGES as f64 / total);
    for line in &pdf.notes {
        println!("{line}");
    }
    Ok(())
}

/// Chunks from across the book, embedded in batches of the embedder's preferred size.
async fn embedding_throughput(
    embedder: &LocalEmbedder,
    chapters: &[String],
) -> anyhow::Result<Vec<(String, String)>> {
    let wanted = std::env::var("BENCH_EMBED_CHUNKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256usize)
        .max(1);
    let options = ChunkOptions::fitting(embedder.max_input_tokens());
    let all: Vec<String> = chapters
        .iter()
        .flat_map(|text| chunk(text, &options))
        .map(|c| c.embedding_text())
        .collect();
    if all.is_empty() {
        bail!("the book produced no chunks");
    }
    // Every k-th chunk, so the sample spans the whole book.
    let step = (all.len() / wanted).max(1);
    let texts: Vec<String> = all.iter().step_by(step).take(wanted).cloned().collect();
    let model = embedder.model();
    let tokens: Vec<usize> = texts.iter().map(|t| model.count_tokens(t)).collect();
    let total_tokens: usize = tokens.iter().map(|&t| t.min(254)).sum();
    let batch = embedder.preferred_batch_size();

    embedder.embed(&texts[..batch.min(texts.len())]).await?; // warm-up
    let started = Instant::now();
    for b in texts.chunks(batch) {
        embedder.embed(b).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = texts.len();
    Ok(vec![
        ("chunks embedded".into(), format!("{n} of {}", all.len())),
        (
            "tokens per chunk (mean / max)".into(),
            format!(
                "{:.0} / {}",
                tokens.iter().sum::<usize>() as f64 / n as f64,
                tokens.iter().max().copied().unwrap_or(0)
            ),
        ),
        ("batch size".into(), batch.to_string()),
        ("time".into(), format!("{secs:.2} s")),
        ("chunks/s".into(), format!("{:.1}", n as f64 / secs)),
        (
            "tokens/s".into(),
            format!("{:.0}", total_tokens as f64 / secs),
        ),
        (
            "ms per batch".into(),
            format!("{:.0}", 1000.0 * secs / n.div_ceil(batch) as f64),
        ),
    ])
}

/// Stage timings and remarks for the PDF run.
struct PdfRun {
    stages: Vec<(String, Duration)>,
    notes: Vec<String>,
}

async fn pdf_ingestion(embedder: &LocalEmbedder, chapters: &[String]) -> anyhow::Result<PdfRun> {
    let started = Instant::now();
    let (pdf, words) = book_pdf(chapters)?;
    let generated = started.elapsed();

    let dir = tempfile::Builder::new()
        .prefix("switchboard-bench-ingestion-")
        .tempdir()?;
    let cluster = EmbeddedPostgres::start(EmbeddedOptions {
        binaries: PgBinaries::locate(&tools_dir())?,
        data_dir: dir.path().join("pg"),
        ephemeral: false,
        port: None,
    })
    .await?;
    let result = pdf_stages(&cluster, embedder, &pdf).await;
    cluster.stop().await?;
    drop(dir);
    let mut run = result?;
    run.notes.insert(
        0,
        format!(
            "pdf: {PAGES} pages, {words} words, {} KiB, Helvetica (Type1), generated with lopdf in {:.2} s",
            pdf.len() / 1024,
            generated.as_secs_f64()
        ),
    );
    Ok(run)
}

async fn pdf_stages(
    cluster: &EmbeddedPostgres,
    embedder: &LocalEmbedder,
    pdf: &[u8],
) -> anyhow::Result<PdfRun> {
    let mut admin = sqlx::PgConnection::connect(&cluster.url()).await?;
    admin.execute("create database bench_ingestion").await?;
    admin.close().await?;
    let pool = store::connect(&cluster.database_url("bench_ingestion"), 5).await?;
    store::migrate(&pool).await?;
    let org_id = seed_org(&pool, "Bench").await;
    let mut stages = Vec::new();
    let mut timed = |label: &str, started: Instant| {
        stages.push((label.to_owned(), started.elapsed()));
    };

    let started = Instant::now();
    let document_id = store::knowledge::insert_document(
        &pool,
        org_id,
        None,
        "The Rust Programming Language",
        "rust-book.pdf",
        "application/pdf",
        pdf,
    )
    .await?;
    timed("upload (insert_document)", started);

    let started = Instant::now();
    let extracted = extract(pdf, "application/pdf")?;
    timed("extract (pdf-extract)", started);

    let started = Instant::now();
    let chunks: Vec<Chunk> = chunk(
        &extracted.text,
        &ChunkOptions::fitting(embedder.max_input_tokens()),
    );
    timed("chunk (rag::chunk, fitting(256))", started);

    let started = Instant::now();
    let texts: Vec<String> = chunks.iter().map(Chunk::embedding_text).collect();
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(embedder.preferred_batch_size().max(1)) {
        vectors.extend(embedder.embed(batch).await?);
    }
    let n = chunks.len();
    timed(&format!("embed ({n} chunks)"), started);

    let started = Instant::now();
    let rows: Vec<(Chunk, Vec<f32>)> = chunks.into_iter().zip(vectors).collect();
    store::knowledge::replace_chunks(&pool, org_id, document_id, embedder.model_id(), &rows)
        .await?;
    timed("store (replace_chunks)", started);

    // The same work end to end through the production entry point, as a check on the sum.
    let check_id = store::knowledge::insert_document(
        &pool,
        org_id,
        None,
        "The Rust Programming Language (again)",
        "rust-book.pdf",
        "application/pdf",
        pdf,
    )
    .await?;
    let started = Instant::now();
    let text = extract(pdf, "application/pdf")?.text;
    let stored = ingest_text(&pool, embedder, org_id, check_id, &text).await?;
    let end_to_end = started.elapsed().as_secs_f64();
    let status: String = sqlx::query_scalar("select status from knowledge_documents where id = $1")
        .bind(check_id)
        .fetch_one(&pool)
        .await?;
    pool.close().await;

    let extracted_pages = extracted.pages.len();
    Ok(PdfRun {
        stages,
        notes: vec![
            format!(
                "extracted: {extracted_pages} pages, {} KiB of text, {n} chunks",
                extracted.text.len() / 1024
            ),
            format!(
                "check, extract + ingest_text end to end: {end_to_end:.2} s \
                 ({stored} chunks stored, document {status})"
            ),
            "database: fresh PostgreSQL 16 + pgvector cluster, fsync on, default settings".into(),
        ],
    })
}

// ---------------------------------------------------------------------------------------------
// The text

fn book_dir() -> PathBuf {
    std::env::var_os("BENCH_BOOK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home =
                std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
            home.join(
                ".rustup/toolchains/nightly-x86_64-unknown-linux-gnu/share/doc/rust/html/book",
            )
        })
}

/// Every chapter page (`ch*.html`), in order, as our HTML extractor reads it.
fn read_book(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| {
            format!(
                "read the Rust book at {} (set BENCH_BOOK_DIR)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("ch") && n.ends_with(".html"))
        })
        .collect();
    files.sort();
    let mut chapters = Vec::with_capacity(files.len());
    for file in files {
        let bytes = std::fs::read(&file)?;
        chapters.push(extract(&bytes, "text/html")?.text);
    }
    if chapters.is_empty() {
        bail!("no ch*.html in {}", dir.display());
    }
    Ok(chapters)
}

/// The book's prose paragraphs (no headings, code or lists), as WinAnsi-safe ASCII.
fn prose(chapters: &[String]) -> Vec<String> {
    chapters
        .iter()
        .flat_map(|c| c.split("\n\n"))
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| {
            let words = p.split(' ').count();
            words >= 25
                && !p.starts_with('#')
                && !p.starts_with("- ")
                && !p.contains(['{', '}', ';', '|', '`'])
                && p.ends_with(['.', ':', '!', '?'])
        })
        .map(|p| {
            p.chars()
                .map(|c| match c {
                    '\u{2018}' | '\u{2019}' => '\'',
                    '\u{201c}' | '\u{201d}' => '"',
                    '\u{2013}' | '\u{2014}' => '-',
                    c if c.is_ascii() => c,
                    _ => '?',
                })
                .collect()
        })
        .collect()
}

/// A [`PAGES`]-page PDF of the book's prose, about [`WORDS_PER_PAGE`] words a page, and its words.
fn book_pdf(chapters: &[String]) -> anyhow::Result<(Vec<u8>, usize)> {
    let paragraphs = prose(chapters);
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut source = paragraphs.iter().cycle();
    let mut kids = Vec::with_capacity(PAGES);
    let mut total_words = 0;
    for page in 0..PAGES {
        // Whole paragraphs until the page holds about WORDS_PER_PAGE words.
        let mut lines: Vec<Option<String>> = Vec::new(); // None = paragraph break
        let mut words = 0;
        while words < WORDS_PER_PAGE {
            let paragraph = source.next().context("no prose paragraphs in the book")?;
            let budget = WORDS_PER_PAGE + 40 - words;
            let kept: Vec<&str> = paragraph.split(' ').take(budget).collect();
            words += kept.len();
            lines.extend(wrap(&kept).into_iter().map(Some));
            lines.push(None);
        }
        total_words += words;
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 10.into()]),
            Operation::new("Td", vec![60.into(), 750.into()]),
        ];
        for line in lines {
            match line {
                Some(text) => {
                    ops.push(Operation::new("Tj", vec![Object::string_literal(text)]));
                    ops.push(Operation::new("Td", vec![0.into(), (-12).into()]));
                }
                None => ops.push(Operation::new("Td", vec![0.into(), (-8).into()])),
            }
        }
        ops.push(Operation::new("ET", vec![]));
        // A page number at the foot, as real documents have.
        ops.extend([
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 9.into()]),
            Operation::new("Td", vec![300.into(), 30.into()]),
            Operation::new("Tj", vec![Object::string_literal((page + 1).to_string())]),
            Operation::new("ET", vec![]),
        ]);
        let content = Content { operations: ops }.encode()?;
        let content_id = doc.add_object(Stream::new(dictionary! {}, content));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        kids.push(page_id.into());
    }
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => PAGES as i64,
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    doc.compress();
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes)?;
    Ok((bytes, total_words))
}

/// Greedy word wrap at [`LINE_CHARS`].
fn wrap(words: &[&str]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in words {
        if !line.is_empty() && line.len() + 1 + word.len() > LINE_CHARS {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
