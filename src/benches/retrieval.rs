//! Retrieval at scale: latency (p50/p95/p99) and recall@10 of `match_knowledge_chunks`, called
//! through `store::knowledge::match_chunks`, with 1,000,000 chunks of 384 dimensions spread over
//! 10 organizations of 100,000 each, so every query searches one organization of 100,000 among
//! 1,000,000. The sweep sets the function's own `hnsw.ef_search` (`alter function … set`), and
//! puts the migrated value back at the end.
//!
//! Recall@10 compares each result with the exact answer: the same function on a connection with
//! `enable_indexscan = off`, which leaves the planner a scan of the organization's rows and an
//! exact sort (HNSW has no bitmap scan).
//!
//! # The synthetic vectors
//!
//! Embedding a million real texts is out of reach here, and uniform random vectors are the worst
//! case for any ANN index (no neighbourhood structure at all), so the corpus is a hierarchical
//! Gaussian mixture shaped like sentence embeddings. Each vector is
//! `normalise(0.45·org + 0.50·topic + 0.39·document + 0.63·noise)`, where
//! - `org` is the organization's direction: half its business domain (3 domains shared by the
//!   10 organizations, say dental clinics, restaurants, law firms), half its own;
//! - `topic` is one of the organization's 800 own topics, or, for 20% of chunks, one of 200
//!   topics every organization shares ("opening hours", "refunds"), which is what puts other
//!   tenants' chunks among a query's nearest neighbours and makes the tenant filter matter;
//! - `document` gives chunks of one document (50 chunks each, 2,000 documents per organization)
//!   something in common beyond their topics;
//! - `noise` is Gaussian with variance falling as 1/(i+1) along the coordinates (about 26
//!   effective dimensions, like the decaying spectrum of real embeddings), unit norm on average.
//!
//! The unit directions are independent random vectors, so the expected cosines are: same
//! document and topic ≈ 0.6, same topic ≈ 0.45, same organization ≈ 0.2, another organization
//! of the same domain on a shared topic ≈ 0.35, unrelated ≈ 0 (the run prints measured values).
//! Queries are fresh draws from the same distribution (a random document of the organization, a
//! topic, new noise), never copies of stored chunks. Everything is seeded, so runs are repeatable.
//!
//! # Persistence
//!
//! Loading (binary `COPY`) and building the HNSW index take most of the first run, so the cluster
//! lives in `BENCH_PG_DIR` (default `<target>/bench-pg/retrieval`) and is reused while the
//! generator is unchanged; exact answers are cached there too. The index is dropped before the
//! load and rebuilt from its migrated definition afterwards. The cluster runs with
//! `shared_buffers = 4GB` (the index is about 2 GB) and `wal_level = minimal` (the load and the
//! build skip the WAL); `BENCH_RELOAD=1` forces a fresh load.
//!
//! Run: `cargo bench -p switchboard --bench retrieval`
//! (`BENCH_QUERIES`, default 1000 timed queries per setting; `BENCH_EF`, default `40,64,100,128,200,400`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgPool};
use switchboard::knowledge::embed::local::MODEL_ID;
use switchboard::postgres::{EmbeddedOptions, EmbeddedPostgres, PgBinaries};
use switchboard::store;
use switchboard::testing::tools_dir;
use uuid::Uuid;

const DIM: usize = 384;
const ORGS: usize = 10;
const CHUNKS_PER_ORG: usize = 100_000;
const CHUNKS_PER_DOC: usize = 50;
const DOCS_PER_ORG: usize = CHUNKS_PER_ORG / CHUNKS_PER_DOC;
const DOMAINS: usize = 3;
const TOPICS_PER_ORG: usize = 800;
const SHARED_TOPICS: usize = 200;
const SHARED_TOPIC_SHARE: f64 = 0.2;
const W_ORG: f32 = 0.447;
const W_TOPIC: f32 = 0.5;
const W_DOC: f32 = 0.387;
const W_NOISE: f32 = 0.632;
/// Bytes of filler text per chunk (real chunks of ≤224 tokens run to about 900 bytes).
const CONTENT_BYTES: usize = 600;
const SEED: u64 = 0x5EED_2026_1121;
/// Changes whenever the generated data would; a stored cluster with another value is reloaded.
const GENERATOR: &str = "hgm-v1: 10x100000x384, 3 domains, 800+200 topics (20% shared), 50/doc, \
                         w=.447/.5/.387/.632, noise 1/(i+1), seed 5EED20261121";

const DATABASE: &str = "bench_retrieval";
const LIMIT: u32 = 10;
const RECALL_QUERIES: usize = 300;
const WARMUP_QUERIES: usize = 300;
const SIGNATURE: &str = "match_knowledge_chunks(vector, uuid, uuid, integer, real, text)";

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let queries_per_setting = env_usize("BENCH_QUERIES", 1000);
    let ef_values: Vec<u32> = std::env::var("BENCH_EF")
        .unwrap_or_else(|_| "40,64,100,128,200,400".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .context("BENCH_EF must be a comma-separated list of integers")?;
    let data_dir = std::env::var_os("BENCH_PG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("bench-pg/retrieval"));

    println!("retrieval bench: cluster in {}", data_dir.display());
    let cluster = start_tuned_cluster(data_dir).await?;
    let result = bench(&cluster, queries_per_setting, &ef_values).await;
    cluster.stop().await?;
    result
}

async fn bench(
    cluster: &EmbeddedPostgres,
    queries_per_setting: usize,
    ef_values: &[u32],
) -> anyhow::Result<()> {
    let admin = cluster.url();
    let mut conn = sqlx::PgConnection::connect(&admin).await?;
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
            .bind(DATABASE)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        conn.execute(format!("create database {DATABASE}").as_str())
            .await?;
    }
    conn.close().await?;
    let url = cluster.database_url(DATABASE);
    let pool = store::connect(&url, 2).await?;
    store::migrate(&pool).await?;

    let corpus = Corpus::generate();
    let loaded = meta(&pool, "generator").await?.as_deref() == Some(GENERATOR)
        && meta(&pool, "complete").await?.as_deref() == Some("true")
        && std::env::var_os("BENCH_RELOAD").is_none();
    if loaded {
        println!("reusing the loaded cluster (BENCH_RELOAD=1 reloads)");
    } else {
        load(&pool, &corpus).await?;
    }

    let exact_pool = PgPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("set enable_indexscan = off").await?;
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    let queries: Vec<Query> = (0..queries_per_setting.max(RECALL_QUERIES))
        .map(|i| corpus.query(i))
        .collect();
    let exact_ms = ensure_truth(&pool, &exact_pool, &queries[..RECALL_QUERIES]).await?;
    let truth = load_truth(&pool).await?;
    let check = corpus.check(&truth, &queries);

    print_settings(&pool, queries_per_setting).await?;
    println!("generator check (mean cosine over sampled pairs): {check}");
    println!(
        "exact search (enable_indexscan = off), {} queries: p50 {:.1} ms, p95 {:.1} ms",
        exact_ms.2, exact_ms.0, exact_ms.1
    );

    let original = function_ef_search(&pool).await?;
    let rows = sweep(
        &pool,
        &corpus,
        &queries,
        &truth,
        ef_values,
        queries_per_setting,
    )
    .await;
    set_function_ef_search(&pool, original).await?;
    let rows = rows?;

    println!();
    println!(
        "match_chunks latency and recall@{LIMIT}: one organization of {CHUNKS_PER_ORG} among {} chunks, \
         {queries_per_setting} sequential queries per setting (recall over the first {RECALL_QUERIES})",
        ORGS * CHUNKS_PER_ORG
    );
    println!(
        "{:>9} | {:>7} | {:>7} | {:>7} | {:>7} | {:>9} | {:>11}",
        "ef_search", "p50 ms", "p95 ms", "p99 ms", "mean ms", "recall@10", "rows/query"
    );
    println!("{}", "-".repeat(78));
    for row in &rows {
        let marker = if Some(row.ef_search) == original {
            "  (migrated setting)"
        } else {
            ""
        };
        println!(
            "{:>9} | {:>7.2} | {:>7.2} | {:>7.2} | {:>7.2} | {:>9.4} | {:>11.2}{marker}",
            row.ef_search, row.p50, row.p95, row.p99, row.mean, row.recall, row.rows_per_query
        );
    }
    Ok(())
}

/// One setting's measurements.
struct SweepRow {
    ef_search: u32,
    p50: f64,
    p95: f64,
    p99: f64,
    mean: f64,
    recall: f64,
    rows_per_query: f64,
}

async fn sweep(
    pool: &PgPool,
    corpus: &Corpus,
    queries: &[Query],
    truth: &[Vec<i64>],
    ef_values: &[u32],
    per_setting: usize,
) -> anyhow::Result<Vec<SweepRow>> {
    // Warm the index and the heap pages the filter reads (the cluster may have just started).
    let warmup = Instant::now();
    set_function_ef_search(pool, Some(400)).await?;
    for i in 0..WARMUP_QUERIES {
        // Another stream than the timed queries.
        match_once(pool, &corpus.query(1_000_000 + i)).await?;
    }
    println!(
        "warm-up: {WARMUP_QUERIES} queries in {:.1} s",
        warmup.elapsed().as_secs_f64()
    );

    let mut rows = Vec::new();
    for &ef in ef_values {
        set_function_ef_search(pool, Some(ef)).await?;
        let mut latencies = Vec::with_capacity(per_setting);
        let mut hits = 0usize;
        let mut expected = 0usize;
        let mut returned = 0usize;
        for (i, q) in queries.iter().take(per_setting).enumerate() {
            let started = Instant::now();
            let ids = match_once(pool, q).await?;
            latencies.push(started.elapsed());
            returned += ids.len();
            if let Some(exact) = truth.get(i) {
                let exact: HashSet<i64> = exact.iter().copied().collect();
                hits += ids.iter().filter(|id| exact.contains(id)).count();
                expected += exact.len();
            }
        }
        let (p50, p95, p99, mean) = percentiles(&mut latencies);
        rows.push(SweepRow {
            ef_search: ef,
            p50,
            p95,
            p99,
            mean,
            recall: hits as f64 / expected.max(1) as f64,
            rows_per_query: returned as f64 / per_setting.max(1) as f64,
        });
        eprintln!("ef_search {ef}: p95 {p95:.2} ms");
    }
    Ok(rows)
}

/// The chunk ids `match_chunks` returns for `q`, best first (no similarity threshold).
async fn match_once(pool: &PgPool, q: &Query) -> anyhow::Result<Vec<i64>> {
    let hits =
        store::knowledge::match_chunks(pool, org_id(q.org), None, &q.vector, MODEL_ID, LIMIT, -1.0)
            .await?;
    Ok(hits.into_iter().map(|h| h.chunk_id).collect())
}

/// p50, p95, p99 and mean in milliseconds (nearest-rank percentiles).
fn percentiles(latencies: &mut [Duration]) -> (f64, f64, f64, f64) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |p: f64| {
        let rank = ((p * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len());
        ms(latencies[rank - 1])
    };
    let mean = latencies.iter().map(|&d| ms(d)).sum::<f64>() / latencies.len() as f64;
    (at(0.50), at(0.95), at(0.99), mean)
}

/// The `hnsw.ef_search` the function sets for itself, if any.
async fn function_ef_search(pool: &PgPool) -> anyhow::Result<Option<u32>> {
    let config: Option<Vec<String>> = sqlx::query_scalar(&format!(
        "select proconfig from pg_proc where oid = '{SIGNATURE}'::regprocedure"
    ))
    .fetch_one(pool)
    .await?;
    Ok(config
        .unwrap_or_default()
        .iter()
        .find_map(|s| s.strip_prefix("hnsw.ef_search=")?.parse().ok()))
}

async fn set_function_ef_search(pool: &PgPool, ef: Option<u32>) -> anyhow::Result<()> {
    let sql = match ef {
        Some(ef) => format!("alter function {SIGNATURE} set hnsw.ef_search = {ef}"),
        None => format!("alter function {SIGNATURE} reset hnsw.ef_search"),
    };
    pool.execute(sql.as_str()).await?;
    Ok(())
}

async fn print_settings(pool: &PgPool, per_setting: usize) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let version: String = sqlx::query_scalar("show server_version")
        .fetch_one(pool)
        .await?;
    let vector: String =
        sqlx::query_scalar("select extversion from pg_extension where extname = 'vector'")
            .fetch_one(pool)
            .await?;
    let shared_buffers: String = sqlx::query_scalar("show shared_buffers")
        .fetch_one(pool)
        .await?;
    let indexdef: String =
        sqlx::query_scalar("select pg_get_indexdef('knowledge_chunks_384_hnsw'::regclass)")
            .fetch_one(pool)
            .await?;
    let sizes: (i64, i64) = sqlx::query_as(
        "select pg_total_relation_size('knowledge_chunks') - pg_indexes_size('knowledge_chunks'), \
                pg_relation_size('knowledge_chunks_384_hnsw')",
    )
    .fetch_one(pool)
    .await?;
    let gib = |b: i64| b as f64 / (1u64 << 30) as f64;
    println!();
    println!("machine: {cores} cores ({cpu})");
    println!(
        "database: PostgreSQL {version}, pgvector {vector}, shared_buffers {shared_buffers}; \
         table {:.2} GiB, HNSW index {:.2} GiB",
        gib(sizes.0),
        gib(sizes.1)
    );
    println!("index: {indexdef}");
    println!(
        "data: {ORGS} organizations x {CHUNKS_PER_ORG} chunks ({DOCS_PER_ORG} ready documents of \
         {CHUNKS_PER_DOC} each), {DIM} dims, all org-wide (agent_id null), model {MODEL_ID}"
    );
    println!(
        "query: limit {LIMIT}, no threshold, agent none, {per_setting} per setting, one client, \
         organizations in turn"
    );
    for key in ["load_secs", "vacuum_secs", "index_secs", "loaded_at"] {
        if let Some(v) = meta(pool, key).await? {
            println!("  {key}: {v}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The cluster and the load

/// The target directory this bench binary was built into (`<target>/release/deps/retrieval-…`).
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Starts the persistent cluster, applying the bench's server settings (restarting once) if needed.
async fn start_tuned_cluster(data_dir: PathBuf) -> anyhow::Result<EmbeddedPostgres> {
    let options = EmbeddedOptions {
        binaries: PgBinaries::locate(&tools_dir())?,
        data_dir,
        ephemeral: false,
        port: None,
    };
    let cluster = EmbeddedPostgres::start(options.clone()).await?;
    let mut conn = sqlx::PgConnection::connect(&cluster.url()).await?;
    let current: (String, String) =
        sqlx::query_as("select current_setting('shared_buffers'), current_setting('wal_level')")
            .fetch_one(&mut conn)
            .await?;
    if current == ("4GB".to_owned(), "minimal".to_owned()) {
        conn.close().await?;
        return Ok(cluster);
    }
    for setting in [
        "shared_buffers = '4GB'",
        "wal_level = minimal",
        "max_wal_senders = 0",
        "max_wal_size = '4GB'",
        "checkpoint_timeout = '30min'",
    ] {
        conn.execute(format!("alter system set {setting}").as_str())
            .await?;
    }
    conn.close().await?;
    cluster.stop().await?;
    Ok(EmbeddedPostgres::start(options).await?)
}

async fn meta(pool: &PgPool, key: &str) -> anyhow::Result<Option<String>> {
    pool.execute(
        "create table if not exists bench_meta (key text primary key, value text not null)",
    )
    .await?;
    Ok(
        sqlx::query_scalar("select value from bench_meta where key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?,
    )
}

async fn set_meta(pool: &PgPool, key: &str, value: &str) -> anyhow::Result<()> {
    sqlx::query(
        "insert into bench_meta (key, value) values ($1, $2) \
         on conflict (key) do update set value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(pool)
    .await?;
    Ok(())
}

fn org_id(org: usize) -> Uuid {
    Uuid::from_u128(0x0b0b_0000_0000_4000_8000_0000_0000_0000 | org as u128)
}

fn document_id(org: usize, doc: usize) -> Uuid {
    Uuid::from_u128(0xd0c0_0000_0000_4000_8000_0000_0000_0000 | (org * DOCS_PER_ORG + doc) as u128)
}

/// Empties the bench tables and loads organizations, ready documents and every chunk, then
/// rebuilds the HNSW index from its migrated definition.
async fn load(pool: &PgPool, corpus: &Corpus) -> anyhow::Result<()> {
    println!(
        "loading {} chunks (first run, or the generator changed)…",
        ORGS * CHUNKS_PER_ORG
    );
    pool.execute("delete from bench_meta where key <> 'indexdef'")
        .await?;
    pool.execute("create table if not exists bench_truth (query int primary key, chunk_ids bigint[] not null)")
        .await?;
    pool.execute("truncate bench_truth").await?;
    // The migrated index definition (an index created by a later migration wins), rebuilt below.
    let indexdef: Option<String> = sqlx::query_scalar(
        "select pg_get_indexdef(indexrelid) from pg_index \
          where indexrelid = to_regclass('knowledge_chunks_384_hnsw')",
    )
    .fetch_optional(pool)
    .await?;
    let indexdef = match indexdef {
        Some(def) => {
            set_meta(pool, "indexdef", &def).await?;
            def
        }
        // A load interrupted after dropping the index: the definition was saved first.
        None => meta(pool, "indexdef")
            .await?
            .context("knowledge_chunks_384_hnsw is missing and no saved definition")?,
    };
    pool.execute("drop index if exists knowledge_chunks_384_hnsw")
        .await?;

    let started = Instant::now();
    let mut tx = pool.begin().await?;
    // Truncating in the load's transaction lets wal_level = minimal skip the WAL for the COPY.
    tx.execute(
        "truncate knowledge_chunks, knowledge_documents, organizations restart identity cascade",
    )
    .await?;
    let orgs: Vec<Uuid> = (0..ORGS).map(org_id).collect();
    let names: Vec<String> = (0..ORGS).map(|o| format!("Bench org {o}")).collect();
    sqlx::query(
        "insert into organizations (id, name) select * from unnest($1::uuid[], $2::text[])",
    )
    .bind(&orgs)
    .bind(&names)
    .execute(&mut *tx)
    .await?;
    let (doc_ids, doc_orgs): (Vec<Uuid>, Vec<Uuid>) = (0..ORGS)
        .flat_map(|o| (0..DOCS_PER_ORG).map(move |d| (document_id(o, d), org_id(o))))
        .unzip();
    sqlx::query(
        "insert into knowledge_documents \
             (id, org_id, title, filename, content_type, size_bytes, sha256, original, status, \
              chunk_count, chunks_embedded, chunks_total, embedding_model) \
         select id, org, 'Document ' || n, 'doc' || n || '.txt', 'text/plain', 0, '\\x'::bytea, \
                '\\x'::bytea, 'ready', $3, $3, $3, $4 \
           from unnest($1::uuid[], $2::uuid[]) with ordinality as t(id, org, n)",
    )
    .bind(&doc_ids)
    .bind(&doc_orgs)
    .bind(CHUNKS_PER_DOC as i32)
    .bind(MODEL_ID)
    .execute(&mut *tx)
    .await?;

    // Rows are generated on another thread while PostgreSQL parses the previous buffer.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let generator = {
        let corpus = corpus.clone();
        std::thread::spawn(move || corpus.copy_buffers(&sender))
    };
    let mut copy = tx
        .copy_in_raw(
            "copy knowledge_chunks (org_id, document_id, chunk_index, content, token_count, \
             source_start, source_end, embedding_model, embedding_384) from stdin (format binary)",
        )
        .await?;
    let mut sent = 0usize;
    while let Some(buffer) = receiver.recv().await {
        copy.send(buffer).await?;
        sent += 1;
        if sent.is_multiple_of(50) {
            eprintln!(
                "  … {} rows after {:.0} s",
                sent * ROWS_PER_BUFFER,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if generator.join().is_err() {
        bail!("the row generator panicked");
    }
    let rows = copy.finish().await?;
    tx.commit().await?;
    let load_secs = started.elapsed().as_secs_f64();
    println!("loaded {rows} rows in {load_secs:.1} s");

    let started = Instant::now();
    pool.execute("vacuum (analyze) knowledge_chunks, knowledge_documents, organizations")
        .await?;
    let vacuum_secs = started.elapsed().as_secs_f64();
    println!("vacuum analyze in {vacuum_secs:.1} s");

    let started = Instant::now();
    let mut conn = pool.acquire().await?;
    conn.execute("set maintenance_work_mem = '4GB'").await?;
    conn.execute("set max_parallel_maintenance_workers = 1")
        .await?;
    conn.execute(indexdef.as_str()).await?;
    conn.execute("reset maintenance_work_mem").await?;
    conn.execute("reset max_parallel_maintenance_workers")
        .await?;
    drop(conn);
    let index_secs = started.elapsed().as_secs_f64();
    println!("HNSW index built in {index_secs:.1} s: {indexdef}");
    pool.execute("checkpoint").await?;

    for (key, value) in [
        (
            "load_secs",
            format!("{load_secs:.1} s (binary COPY, {rows} rows, FK checks on)"),
        ),
        ("vacuum_secs", format!("{vacuum_secs:.1} s")),
        (
            "index_secs",
            format!(
                "{index_secs:.1} s (maintenance_work_mem 4GB, max_parallel_maintenance_workers 1)"
            ),
        ),
        ("loaded_at", time::OffsetDateTime::now_utc().to_string()),
        ("generator", GENERATOR.to_owned()),
        ("complete", "true".to_owned()),
    ] {
        set_meta(pool, key, &value).await?;
    }
    Ok(())
}

/// Computes and stores exact answers for `queries` that have none yet; returns the p50, p95 and
/// count of the exact searches run now (or of a short sample when all were cached).
async fn ensure_truth(
    pool: &PgPool,
    exact_pool: &PgPool,
    queries: &[Query],
) -> anyhow::Result<(f64, f64, usize)> {
    pool.execute("create table if not exists bench_truth (query int primary key, chunk_ids bigint[] not null)")
        .await?;
    let have: Vec<i32> = sqlx::query_scalar("select query from bench_truth")
        .fetch_all(pool)
        .await?;
    let have: HashSet<usize> = have.into_iter().map(|q| q as usize).collect();
    let missing: Vec<usize> = (0..queries.len()).filter(|i| !have.contains(i)).collect();
    if !missing.is_empty() {
        println!("computing {} exact answers…", missing.len());
    }
    let mut latencies = Vec::new();
    for &i in &missing {
        let started = Instant::now();
        let ids = match_once(exact_pool, &queries[i]).await?;
        latencies.push(started.elapsed());
        sqlx::query("insert into bench_truth (query, chunk_ids) values ($1, $2)")
            .bind(i as i32)
            .bind(&ids)
            .execute(pool)
            .await?;
    }
    // A small sample keeps the exact-search figure on every run.
    if latencies.len() < 20 {
        for q in queries.iter().take(20) {
            let started = Instant::now();
            match_once(exact_pool, q).await?;
            latencies.push(started.elapsed());
        }
    }
    let (p50, p95, _, _) = percentiles(&mut latencies);
    Ok((p50, p95, latencies.len()))
}

async fn load_truth(pool: &PgPool) -> anyhow::Result<Vec<Vec<i64>>> {
    let rows: Vec<(i32, Vec<i64>)> =
        sqlx::query_as("select query, chunk_ids from bench_truth where query < $1 order by query")
            .bind(RECALL_QUERIES as i32)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(_, ids)| ids).collect())
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// The generator (see the module docs)

const ROWS_PER_BUFFER: usize = 2_000;

/// The mixture's fixed directions; chunks and queries are drawn from it.
#[derive(Clone)]
struct Corpus {
    orgs: Vec<Vec<f32>>,
    /// `org * TOPICS_PER_ORG + topic`.
    org_topics: Vec<Vec<f32>>,
    shared_topics: Vec<Vec<f32>>,
    /// `org * DOCS_PER_ORG + doc`.
    docs: Vec<Vec<f32>>,
    /// Per-coordinate standard deviation of the noise.
    noise_scale: Vec<f32>,
}

/// A query: its organization and its vector.
struct Query {
    org: usize,
    vector: Vec<f32>,
}

/// The organization and document of chunk `index` (global, in load order).
fn chunk_place(index: usize) -> (usize, usize) {
    (
        index / CHUNKS_PER_ORG,
        index % CHUNKS_PER_ORG / CHUNKS_PER_DOC,
    )
}

impl Corpus {
    fn generate() -> Self {
        let mut rng = Rng::new(SEED);
        let domains: Vec<Vec<f32>> = (0..DOMAINS).map(|_| rng.unit()).collect();
        let orgs = (0..ORGS)
            .map(|o| {
                let own = rng.unit();
                normalised(domains[o % DOMAINS].iter().zip(&own).map(|(d, s)| d + s))
            })
            .collect();
        let org_topics = (0..ORGS * TOPICS_PER_ORG).map(|_| rng.unit()).collect();
        let shared_topics = (0..SHARED_TOPICS).map(|_| rng.unit()).collect();
        let docs = (0..ORGS * DOCS_PER_ORG).map(|_| rng.unit()).collect();
        let harmonic: f32 = (0..DIM).map(|i| 1.0 / (i + 1) as f32).sum();
        let noise_scale = (0..DIM)
            .map(|i| (1.0 / ((i + 1) as f32 * harmonic)).sqrt())
            .collect();
        Self {
            orgs,
            org_topics,
            shared_topics,
            docs,
            noise_scale,
        }
    }

    /// One draw from the organization's mixture: a topic (own, or one of the shared), then
    /// [`Corpus::draw_topic`].
    fn draw(&self, org: usize, doc: usize, rng: &mut Rng) -> Vec<f32> {
        let topic = if rng.uniform() < SHARED_TOPIC_SHARE {
            TOPICS_PER_ORG + rng.below(SHARED_TOPICS)
        } else {
            rng.below(TOPICS_PER_ORG)
        };
        self.draw_topic(org, doc, topic, rng)
    }

    /// A unit vector of `org`'s document `doc` on `topic` (below [`TOPICS_PER_ORG`]: the
    /// organization's own; from there on: shared), with fresh noise.
    fn draw_topic(&self, org: usize, doc: usize, topic: usize, rng: &mut Rng) -> Vec<f32> {
        let topic_vector = match topic.checked_sub(TOPICS_PER_ORG) {
            Some(shared) => &self.shared_topics[shared],
            None => &self.org_topics[org * TOPICS_PER_ORG + topic],
        };
        let org_vector = &self.orgs[org];
        let doc_vector = &self.docs[org * DOCS_PER_ORG + doc];
        normalised((0..DIM).map(|i| {
            W_ORG * org_vector[i]
                + W_TOPIC * topic_vector[i]
                + W_DOC * doc_vector[i]
                + W_NOISE * self.noise_scale[i] * rng.gaussian()
        }))
    }

    /// Chunk `index` (global, in load order) of the stored corpus.
    fn chunk(&self, index: usize) -> Vec<f32> {
        let (org, doc) = chunk_place(index);
        self.draw(org, doc, &mut Rng::new(SEED ^ ((index as u64 + 1) << 20)))
    }

    /// Query `i`: organizations in turn, a random document of it, fresh noise.
    fn query(&self, i: usize) -> Query {
        let mut rng = Rng::new(!SEED ^ ((i as u64 + 1) << 24));
        let org = i % ORGS;
        let doc = rng.below(DOCS_PER_ORG);
        Query {
            org,
            vector: self.draw(org, doc, &mut rng),
        }
    }

    /// Sends every chunk as binary COPY rows, in buffers of [`ROWS_PER_BUFFER`].
    fn copy_buffers(&self, sender: &tokio::sync::mpsc::Sender<Vec<u8>>) {
        let mut buffer = Vec::with_capacity(ROWS_PER_BUFFER * 2_400);
        buffer.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buffer.extend_from_slice(&0i32.to_be_bytes()); // flags
        buffer.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        let mut content = String::with_capacity(CONTENT_BYTES + 16);
        for index in 0..ORGS * CHUNKS_PER_ORG {
            let vector = self.chunk(index);
            let (org, doc) = chunk_place(index);
            let chunk_index = (index % CHUNKS_PER_DOC) as i32;
            filler(&mut content, index);
            buffer.extend_from_slice(&9i16.to_be_bytes());
            field(&mut buffer, org_id(org).as_bytes());
            field(&mut buffer, document_id(org, doc).as_bytes());
            field(&mut buffer, &chunk_index.to_be_bytes());
            field(&mut buffer, content.as_bytes());
            field(&mut buffer, &((content.len() / 4) as i32).to_be_bytes());
            field(&mut buffer, &0i32.to_be_bytes());
            field(&mut buffer, &(content.len() as i32).to_be_bytes());
            field(&mut buffer, MODEL_ID.as_bytes());
            // pgvector's binary form: dimensions (int16), unused (int16), float4s.
            buffer.extend_from_slice(&((4 + 4 * DIM) as i32).to_be_bytes());
            buffer.extend_from_slice(&(DIM as i16).to_be_bytes());
            buffer.extend_from_slice(&0i16.to_be_bytes());
            for x in &vector {
                buffer.extend_from_slice(&x.to_be_bytes());
            }
            if (index + 1).is_multiple_of(ROWS_PER_BUFFER) {
                let full =
                    std::mem::replace(&mut buffer, Vec::with_capacity(ROWS_PER_BUFFER * 2_400));
                if sender.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        buffer.extend_from_slice(&(-1i16).to_be_bytes());
        let _ = sender.blocking_send(buffer);
    }

    /// Mean cosines by relation over sampled pairs, and the queries' exact neighbours.
    fn check(&self, truth: &[Vec<i64>], queries: &[Query]) -> String {
        let mut rng = Rng::new(SEED ^ 0xC0FFEE);
        let labels = [
            "same doc+topic",
            "same topic, other doc",
            "same org, other topic",
            "same-domain org, shared topic",
            "other domain",
        ];
        let mut sums = [(0.0f64, 0usize); 5];
        for _ in 0..2_000 {
            let org = rng.below(ORGS);
            let doc = rng.below(DOCS_PER_ORG);
            let own = rng.below(TOPICS_PER_ORG);
            let shared = TOPICS_PER_ORG + rng.below(SHARED_TOPICS);
            let other_doc = (doc + 1 + rng.below(DOCS_PER_ORG - 1)) % DOCS_PER_ORG;
            let a = self.draw_topic(org, doc, own, &mut rng);
            let a_shared = self.draw_topic(org, doc, shared, &mut rng);
            let pairs = [
                self.draw_topic(org, doc, own, &mut rng),
                self.draw_topic(org, other_doc, own, &mut rng),
                self.draw_topic(org, other_doc, (own + 1) % TOPICS_PER_ORG, &mut rng),
            ];
            for (sum, b) in sums.iter_mut().zip(&pairs) {
                add(sum, dot(&a, b));
            }
            // The organization three along (or back) shares the domain; one along does not,
            // except from the last organization, so go two along there.
            let same_domain = if org + DOMAINS < ORGS {
                org + DOMAINS
            } else {
                org - DOMAINS
            };
            let b = self.draw_topic(same_domain, rng.below(DOCS_PER_ORG), shared, &mut rng);
            add(&mut sums[3], dot(&a_shared, &b));
            let mut other = (org + 1) % ORGS;
            if other % DOMAINS == org % DOMAINS {
                other = (org + 2) % ORGS;
            }
            let b = self.draw_topic(other, rng.below(DOCS_PER_ORG), own, &mut rng);
            add(&mut sums[4], dot(&a, &b));
        }
        let mut parts: Vec<String> = labels
            .iter()
            .zip(sums)
            .map(|(label, (sum, n))| format!("{label} {:.2}", sum / n.max(1) as f64))
            .collect();
        // Chunk ids follow generation order from 1 (the load restarts the identity).
        let (mut first, mut tenth, mut n) = (0.0, 0.0, 0usize);
        for (q, ids) in queries.iter().zip(truth) {
            if let (Some(&a), Some(&b)) = (ids.first(), ids.last()) {
                first += dot(&q.vector, &self.chunk(a as usize - 1));
                tenth += dot(&q.vector, &self.chunk(b as usize - 1));
                n += 1;
            }
        }
        if n > 0 {
            parts.push(format!(
                "query to exact 1st/10th neighbour {:.2}/{:.2}",
                first / n as f64,
                tenth / n as f64
            ));
        }
        parts.join(", ")
    }
}

fn add(acc: &mut (f64, usize), x: f64) {
    acc.0 += x;
    acc.1 += 1;
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum()
}

/// One binary COPY field: length, then bytes.
fn field(buffer: &mut Vec<u8>, bytes: &[u8]) {
    buffer.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    buffer.extend_from_slice(bytes);
}

/// About [`CONTENT_BYTES`] of words, different for every chunk.
fn filler(out: &mut String, index: usize) {
    const WORDS: [&str; 32] = [
        "appointment",
        "the",
        "insurance",
        "of",
        "hours",
        "we",
        "open",
        "patients",
        "and",
        "cleaning",
        "price",
        "to",
        "menu",
        "delivery",
        "a",
        "refund",
        "policy",
        "contact",
        "is",
        "weekend",
        "booking",
        "service",
        "for",
        "our",
        "team",
        "visit",
        "in",
        "call",
        "parking",
        "payment",
        "with",
        "order",
    ];
    out.clear();
    let mut rng = Rng::new(index as u64);
    while out.len() < CONTENT_BYTES {
        out.push_str(WORDS[rng.below(WORDS.len())]);
        out.push(' ');
    }
    out.push('.');
}

fn normalised(values: impl Iterator<Item = f32>) -> Vec<f32> {
    let mut v: Vec<f32> = values.collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    for x in &mut v {
        *x /= norm;
    }
    v
}

/// SplitMix64 with Box–Muller: small, seedable and stable across dependency versions.
struct Rng {
    state: u64,
    spare: Option<f32>,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Self {
            state: seed,
            spare: None,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Standard normal.
    fn gaussian(&mut self) -> f32 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1], so the log is finite
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (s, c) = (std::f64::consts::TAU * u2).sin_cos();
        self.spare = Some((r * s) as f32);
        (r * c) as f32
    }

    /// A uniformly random direction.
    fn unit(&mut self) -> Vec<f32> {
        normalised(
            (0..DIM)
                .map(|_| self.gaussian())
                .collect::<Vec<_>>()
                .into_iter(),
        )
    }
}
