//! The upload → job → ready path against a real PostgreSQL + pgvector and the local model.

use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::jobs::{Worker, WorkerTiming};
use crate::knowledge::embed::EmbedFuture;
use crate::knowledge::extract::extract;
use crate::knowledge::tool::query_knowledge_base;
use crate::testing::{fresh_database, local_embedder, seed_org, seed_org_with_agent};

const MARKDOWN: &[u8] = include_bytes!("../testdata/pizzeria-faq.md");
const HTML: &[u8] = include_bytes!("../testdata/pizzeria.html");
const TEXT: &[u8] = include_bytes!("../testdata/opening-hours-cp1252.txt");
const PDF: &[u8] = include_bytes!("../testdata/constitution.pdf");
const DOCX: &[u8] = include_bytes!("../testdata/pizzeria-handbook.docx");

fn timing() -> WorkerTiming {
    WorkerTiming {
        poll: Duration::from_millis(20),
        heartbeat: Duration::from_millis(50),
        stale_after: Duration::from_secs(60),
    }
}

/// A worker running both knowledge jobs with `embedder`; stops when the token is cancelled.
fn start_worker(
    pool: &PgPool,
    embedder: Arc<dyn Embedder>,
    bus: &LiveBus,
    queue: &JobQueue,
    name: &str,
    timing: WorkerTiming,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let handlers: Vec<Arc<dyn JobHandler>> = vec![
        Arc::new(IngestHandler::new(
            pool.clone(),
            embedder.clone(),
            bus.clone(),
            queue.clone(),
        )),
        Arc::new(super::super::context::ContextHandler::new(
            pool.clone(),
            embedder,
        )),
    ];
    let cancel = CancellationToken::new();
    let worker = Worker::new(pool.clone(), name, handlers, queue.clone(), timing);
    (cancel.clone(), tokio::spawn(worker.run(cancel)))
}

fn upload<'a>(org_id: Uuid, filename: &'a str, bytes: &'a [u8]) -> Upload<'a> {
    Upload {
        org_id,
        agent_id: None,
        title: None,
        filename,
        content_type: "application/octet-stream",
        bytes,
    }
}

async fn wait_until_settled(pool: &PgPool, org_id: Uuid, id: Uuid) -> store::Document {
    for _ in 0..3000 {
        let doc = store::find_document(pool, org_id, id)
            .await
            .unwrap()
            .unwrap();
        if doc.status == "ready" || doc.status == "failed" {
            return doc;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("document {id} never settled");
}

async fn chunk_rows(pool: &PgPool, id: Uuid) -> (i64, i64) {
    sqlx::query_as(
        "select count(*), count(distinct chunk_index) from knowledge_chunks where document_id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The chunk count the pipeline should store for a fixture.
fn expected_chunks(filename: &str, bytes: &[u8]) -> usize {
    let text = extract(bytes, filename).unwrap().text;
    chunk(&text, &ChunkOptions::fitting(256)).len()
}

#[tokio::test]
async fn every_supported_format_becomes_ready_with_its_chunks() {
    let (_, pool) = fresh_database().await;
    let org = seed_org(&pool, "Formats").await;
    let (bus, queue) = (LiveBus::local(), JobQueue::new());
    let (stop, worker) = start_worker(&pool, local_embedder().await, &bus, &queue, "w", timing());
    let fixtures = [
        ("pizzeria-faq.md", MARKDOWN),
        ("pizzeria.html", HTML),
        ("opening-hours.txt", TEXT),
        ("constitution.pdf", PDF),
        ("pizzeria-handbook.docx", DOCX),
    ];
    for (filename, bytes) in fixtures {
        let accepted = accept_upload(&pool, &queue, upload(org, filename, bytes), 1 << 20)
            .await
            .unwrap();
        let doc = wait_until_settled(&pool, org, accepted.document_id).await;
        let expected = expected_chunks(filename, bytes);
        assert_eq!(doc.status, "ready", "{filename}: {:?}", doc.error);
        assert!(expected > 0);
        assert_eq!(
            (
                doc.chunk_count as usize,
                doc.chunks_embedded,
                doc.chunks_total
            ),
            (expected, doc.chunk_count, doc.chunk_count),
            "{filename}"
        );
        let (rows, distinct) = chunk_rows(&pool, accepted.document_id).await;
        assert_eq!(
            (rows, distinct),
            (expected as i64, expected as i64),
            "{filename}"
        );
        assert_eq!(doc.content_type, accepted.format.mime_type());
        assert_eq!(doc.embedding_model.as_deref(), Some("all-MiniLM-L6-v2"));
    }
    stop.cancel();
    worker.await.unwrap();
}

#[tokio::test]
async fn oversized_and_unsupported_uploads_store_nothing() {
    let (_, pool) = fresh_database().await;
    let org = seed_org(&pool, "Refused").await;
    let queue = JobQueue::new();
    let big = vec![b'a'; 2048];
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "notes.txt",
            &big,
            "2 KiB — larger than the 1 KiB upload limit",
        ),
        ("setup.exe", b"MZ\x90\x00", "not a file we can read"),
        ("report.pdf", b"just text pretending", "Its name says PDF"),
        ("letter.doc", b"\xd0\xcf\x11\xe0", "not a file we can read"),
        ("empty.md", b"", "is empty"),
    ];
    for (filename, bytes, message) in cases {
        let error = accept_upload(&pool, &queue, upload(org, filename, bytes), 1024)
            .await
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains(message), "{filename}: {text}");
        assert!(text.contains(filename), "names the file: {text}");
    }
    let (documents, jobs): (i64, i64) = sqlx::query_as(
        "select (select count(*) from knowledge_documents), (select count(*) from jobs)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((documents, jobs), (0, 0));

    let foreign_agent = seed_org_with_agent(&pool, "Other").await.1;
    let mut scoped = upload(org, "faq.md", MARKDOWN);
    scoped.agent_id = Some(foreign_agent);
    assert!(matches!(
        accept_upload(&pool, &queue, scoped, 1 << 20).await,
        Err(UploadError::UnknownAgent)
    ));
}

/// Embeds with the local model, but holds every batch after the first until a permit arrives.
struct Stalling {
    inner: Arc<dyn Embedder>,
    batches: std::sync::atomic::AtomicUsize,
    gate: Arc<Semaphore>,
}

impl Embedder for Stalling {
    fn model_id(&self) -> &str {
        self.inner.model_id()
    }
    fn dimensions(&self) -> usize {
        self.inner.dimensions()
    }
    fn max_input_tokens(&self) -> usize {
        self.inner.max_input_tokens()
    }
    fn preferred_batch_size(&self) -> usize {
        2
    }
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            let n = self
                .batches
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n >= 1 {
                let _permit = self.gate.acquire().await.expect("open gate");
            }
            self.inner.embed(texts).await
        })
    }
}

#[tokio::test]
async fn a_worker_killed_mid_document_leaves_it_to_another_without_duplicates() {
    let (_, pool) = fresh_database().await;
    let org = seed_org(&pool, "Crash").await;
    let (bus, queue) = (LiveBus::local(), JobQueue::new());
    let stalling = Arc::new(Stalling {
        inner: local_embedder().await,
        batches: Default::default(),
        gate: Arc::new(Semaphore::new(0)),
    });
    let (_, doomed) = start_worker(&pool, stalling.clone(), &bus, &queue, "doomed", timing());
    let accepted = accept_upload(&pool, &queue, upload(org, "constitution.pdf", PDF), 1 << 20)
        .await
        .unwrap();
    // Wait until the first batch is embedded and the second is stuck.
    loop {
        let doc = store::find_document(&pool, org, accepted.document_id)
            .await
            .unwrap()
            .unwrap();
        if doc.chunks_embedded >= 2 {
            assert_eq!(doc.status, "processing");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    doomed.abort(); // the process dies: no release, no completion
    let _ = doomed.await;
    assert_eq!(
        chunk_rows(&pool, accepted.document_id).await.0,
        0,
        "nothing half-stored"
    );

    // Another worker notices the stale lock and does the whole document again.
    stalling.gate.add_permits(1000);
    let quick = WorkerTiming {
        stale_after: Duration::from_millis(300),
        ..timing()
    };
    let (stop, rescuer) = start_worker(&pool, stalling.clone(), &bus, &queue, "rescuer", quick);
    let doc = wait_until_settled(&pool, org, accepted.document_id).await;
    assert_eq!(doc.status, "ready", "{:?}", doc.error);
    let expected = expected_chunks("constitution.pdf", PDF) as i64;
    assert_eq!(
        chunk_rows(&pool, accepted.document_id).await,
        (expected, expected)
    );
    let attempts: i32 = sqlx::query_scalar("select attempts from jobs where kind = $1")
        .bind(INGEST_JOB)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(attempts, 2);
    stop.cancel();
    rescuer.await.unwrap();
}

#[tokio::test]
async fn progress_is_published_and_reupload_replaces_and_delete_removes() {
    let (_, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Lifecycle").await;
    let (bus, queue) = (LiveBus::local(), JobQueue::new());
    let mut events = bus.subscribe();
    let (stop, worker) = start_worker(&pool, local_embedder().await, &bus, &queue, "w", timing());

    let first = accept_upload(&pool, &queue, upload(org, "faq.md", MARKDOWN), 1 << 20)
        .await
        .unwrap();
    assert!(!first.replaced);
    wait_until_settled(&pool, org, first.document_id).await;
    let mut seen = Vec::new();
    // The last event may be published just after the document is marked ready: wait for it.
    while let Ok(Ok(message)) =
        tokio::time::timeout(std::time::Duration::from_millis(500), events.recv()).await
    {
        assert_eq!(message.org_id, org);
        if let LiveEvent::DocumentProgress {
            status,
            chunks_embedded,
            chunks_total,
            ..
        } = message.event
        {
            seen.push((status, chunks_embedded, chunks_total));
        }
    }
    let total = expected_chunks("faq.md", MARKDOWN) as i32;
    assert_eq!(seen.first().map(|s| s.0.as_str()), Some("processing"));
    assert!(
        seen.contains(&("processing".into(), total, total)),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&("ready".into(), total, total)));

    // The same file name again replaces the document instead of adding a second one.
    let again = accept_upload(
        &pool,
        &queue,
        upload(
            org,
            "faq.md",
            b"# Parking\n\nParking is free behind the shop after six.",
        ),
        1 << 20,
    )
    .await
    .unwrap();
    assert_eq!(
        (again.document_id, again.replaced),
        (first.document_id, true)
    );
    wait_until_settled(&pool, org, first.document_id).await;
    assert_eq!(store::list_documents(&pool, org).await.unwrap().len(), 1);
    let answer = query_knowledge_base(
        &pool,
        local_embedder().await.as_ref(),
        org,
        Some(agent),
        "Where can I park my car?",
        5,
        0.3,
    )
    .await
    .unwrap();
    assert!(
        answer.output.contains("Parking is free"),
        "{}",
        answer.output
    );
    assert!(!answer.output.contains("Marinara"), "old chunks are gone");

    // The agent's start context is computed from what it can see.
    let mut context = String::new();
    for _ in 0..500 {
        context = sqlx::query_scalar("select knowledge_context from agents where id = $1")
            .bind(agent)
            .fetch_one(&pool)
            .await
            .unwrap();
        if context.contains("Parking") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        context.contains("Parking is free behind the shop"),
        "{context}"
    );

    assert!(delete(&pool, &queue, org, first.document_id).await.unwrap());
    assert_eq!(chunk_rows(&pool, first.document_id).await.0, 0);
    assert!(!delete(&pool, &queue, org, first.document_id).await.unwrap());
    stop.cancel();
    worker.await.unwrap();
}

#[tokio::test]
async fn the_tool_never_crosses_organizations_and_records_what_it_quoted() {
    let (_, pool) = fresh_database().await;
    let (org_a, agent_a) = seed_org_with_agent(&pool, "Alpha").await;
    let (org_b, agent_b) = seed_org_with_agent(&pool, "Beta").await;
    let (bus, queue) = (LiveBus::local(), JobQueue::new());
    let (stop, worker) = start_worker(&pool, local_embedder().await, &bus, &queue, "w", timing());
    let accepted = accept_upload(&pool, &queue, upload(org_a, "faq.md", MARKDOWN), 1 << 20)
        .await
        .unwrap();
    wait_until_settled(&pool, org_a, accepted.document_id).await;
    let embedder = local_embedder().await;
    let question = "Is there a vegan pizza?";

    let a = query_knowledge_base(
        &pool,
        embedder.as_ref(),
        org_a,
        Some(agent_a),
        question,
        5,
        0.0,
    )
    .await
    .unwrap();
    assert!(!a.chunk_ids.is_empty());
    let owners: Vec<Uuid> =
        sqlx::query_scalar("select org_id from knowledge_chunks where id = any($1)")
            .bind(&a.chunk_ids)
            .fetch_all(&pool)
            .await
            .unwrap();
    assert!(owners.iter().all(|o| *o == org_a));

    // Even with no threshold at all, org B sees nothing of A's.
    let b = query_knowledge_base(
        &pool,
        embedder.as_ref(),
        org_b,
        Some(agent_b),
        question,
        5,
        0.0,
    )
    .await
    .unwrap();
    assert!(b.chunk_ids.is_empty());
    assert!(b.output.contains("No passage"), "{}", b.output);
    stop.cancel();
    worker.await.unwrap();
}

#[test]
fn sizes_read_like_people_write_them() {
    assert_eq!(human_bytes(20 * 1024 * 1024), "20 MiB");
    assert_eq!(human_bytes(1536 * 1024), "1.5 MiB");
    assert_eq!(human_bytes(2048), "2 KiB");
    assert_eq!(human_bytes(12), "12 bytes");
}
