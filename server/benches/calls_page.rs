//! Server-rendered `/calls` with 100,000 calls in one organization: the acceptance is
//! p95 < 30 ms.
//!
//! Seeds the calls (and transcripts on 30 % of them) with set-based SQL, starts the real server
//! on port 0 against a throw-away PostgreSQL, signs up over HTTP, then fetches five pages — the
//! first, one 200 pages back, a filtered one and transcript searches for a common and a rare
//! word — `ROUNDS` times each, one request at a time, timing each until its last byte.
//!
//! `cargo bench -p server --bench calls_page` (`ROUNDS=500` for more samples; `EXPLAIN=1` prints
//! the list query's plan for each case).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use server::config::Config;
use server::startup::Application;
use sqlx::PgPool;
use uuid::Uuid;

const CALLS: i64 = 100_000;
const EMAIL: &str = "bench@calls.example";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let (url, pool) = switchboard::testing::fresh_database().await;
    let (address, shutdown, server) = start_server(&url).await?;
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let signed_up = client
        .post(format!("{address}/api/signup"))
        .header("accept", "application/json")
        .form(&[
            ("org_name", "Bench Co"),
            ("name", "Bench"),
            ("email", EMAIL),
            ("password", "correct horse battery"),
        ])
        .send()
        .await?;
    anyhow::ensure!(signed_up.status().is_success(), "sign-up failed");

    let started = Instant::now();
    let (org, agents) = seed(&pool).await?;
    println!(
        "seeded {CALLS} calls with transcripts on 30 % in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The call 5,000 places down the list: "Older" clicked 200 times.
    let (micros, id): (i64, Uuid) = sqlx::query_as(
        "select (extract(epoch from started_at) * 1000000)::int8, id from calls \
          where org_id = $1 order by started_at desc, id desc offset 5000 limit 1",
    )
    .bind(org)
    .fetch_one(&pool)
    .await?;
    let cases = [
        ("first page", "/calls".to_owned(), "Older calls"),
        (
            "page 201 (keyset)",
            format!("/calls?before={micros}_{id}"),
            "Newer calls",
        ),
        (
            "filtered: agent + outbound + busy",
            format!("/calls?agent={}&direction=outbound&status=busy", agents[2]),
            "Older calls",
        ),
        (
            "search: common word",
            "/calls?q=refund".to_owned(),
            "Older calls",
        ),
        ("search: rare word", "/calls?q=lasagna".to_owned(), "calls"),
    ];
    println!("{rounds} sequential requests per case, after 20 to warm up; times to the last byte");
    println!(
        "{:<36} {:>8} {:>8} {:>8} {:>8}",
        "case", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for (name, path, expect) in &cases {
        let url = format!("{address}{path}");
        for _ in 0..20 {
            fetch(&client, &url, expect).await?;
        }
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            times.push(fetch(&client, &url, expect).await?);
        }
        times.sort();
        println!(
            "{name:<36} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            ms(percentile(&times, 50.0)),
            ms(percentile(&times, 95.0)),
            ms(percentile(&times, 99.0)),
            ms(*times.last().expect("rounds > 0")),
        );
    }
    if std::env::var_os("EXPLAIN").is_some() {
        explain(&pool, org, agents[2], micros, id).await?;
    }
    shutdown.cancel();
    server.await??;
    Ok(())
}

async fn start_server(
    database_url: &str,
) -> anyhow::Result<(
    String,
    tokio_util::sync::CancellationToken,
    tokio::task::JoinHandle<anyhow::Result<()>>,
)> {
    let vars: HashMap<&str, String> = HashMap::from([
        ("DATABASE_URL", database_url.to_owned()),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0".to_owned()),
        (
            "LEPTOS_SITE_ROOT",
            std::env::temp_dir()
                .join("switchboard-no-site")
                .display()
                .to_string(),
        ),
        (
            "EMBEDDING_MODEL_DIR",
            std::env::var("EMBEDDING_MODEL_DIR").unwrap_or_else(|_| {
                switchboard::testing::tools_dir()
                    .join("all-minilm-l6-v2")
                    .display()
                    .to_string()
            }),
        ),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned())?;
    let app = Application::build(config).await?;
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    Ok((address, shutdown, tokio::spawn(app.run_until_stopped())))
}

/// 5 agents and `CALLS` calls over the last ~100 days; 30 % of the calls have 8 transcript
/// lines. "refund" is in about a tenth of the lines (and so in every call with a transcript),
/// "lasagna" in 100 calls.
async fn seed(pool: &PgPool) -> anyhow::Result<(Uuid, Vec<Uuid>)> {
    let org: Uuid = sqlx::query_scalar("select org_id from users where email = $1")
        .bind(EMAIL)
        .fetch_one(pool)
        .await?;
    let mut agents = Vec::new();
    for name in ["Front desk", "Bookings", "Sales", "Support", "After hours"] {
        agents.push(switchboard::store::agents::insert_agent(pool, org, name).await?);
    }
    sqlx::query(
        "insert into calls (org_id, agent_id, call_sid, direction, status, from_number, to_number, \
                            started_at, answered_at, ended_at, duration_secs, cost_usd, summary) \
         select $1, ($2::uuid[])[1 + (g % 5)::int], 'CA' || lpad(g::text, 32, '0'), \
                case when g % 3 = 0 then 'outbound' else 'inbound' end, \
                (array['completed', 'completed', 'completed', 'completed', 'completed', \
                       'completed', 'no-answer', 'busy', 'failed', 'canceled'])[1 + (g % 10)::int], \
                '+1415' || lpad((g % 10000000)::text, 7, '0'), '+14155550199', \
                now() - make_interval(secs => g * 86.4), now() - make_interval(secs => g * 86.4 - 3), \
                now() - make_interval(secs => g * 86.4 - 3 - (g % 600)), g % 600, \
                round((g % 600) * 0.0009, 6), \
                case when g % 10 < 6 then 'The caller asked about ' || \
                    (array['opening hours', 'a booking', 'a refund', 'delivery times'])[1 + (g % 4)::int] || \
                    ' and the agent answered from the knowledge base.' end \
           from generate_series(1, $3::int8) g",
    )
    .bind(org)
    .bind(&agents)
    .bind(CALLS)
    .execute(pool)
    .await?;
    sqlx::query(
        "insert into call_transcript_lines (org_id, call_id, seq, role, text, start_ms, end_ms, \
                                            interrupted) \
         select c.org_id, c.id, s, case when s % 2 = 0 then 'agent' else 'caller' end, \
                case when s = 3 and c.n % 1000 = 1 then 'Do you have lasagna tonight?' \
                     else (array['Hello, thanks for calling, how can I help?', \
                                 'I would like to book a table for four on Friday.', \
                                 'Sure, what time would suit you?', \
                                 'Can I get a refund for my last order?', \
                                 'Of course, I have noted that down for you.', \
                                 'What are your opening hours on Sunday?', \
                                 'We open at nine and close at five.', \
                                 'Thank you, goodbye.'])[1 + ((s + c.n) % 8)::int] end, \
                s * 4000, s * 4000 + 3500, s % 5 = 4 \
           from (select id, org_id, row_number() over (order by started_at) as n from calls \
                  where org_id = $1) c, \
                generate_series(0, 7) s \
          where c.n % 10 < 3",
    )
    .bind(org)
    .execute(pool)
    .await?;
    // The lines' trigger rewrote 30,000 call rows (their `transcript_search`): vacuum as
    // autovacuum soon would, rather than measure dead rows and the GIN index's pending list, or
    // autovacuum's run in the middle of a case.
    sqlx::query("vacuum analyze calls").execute(pool).await?;
    sqlx::query("analyze call_transcript_lines")
        .execute(pool)
        .await?;
    Ok((org, agents))
}

async fn fetch(client: &reqwest::Client, url: &str, expect: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = client.get(url).send().await?;
    let status = response.status();
    let body = response.text().await?;
    let took = started.elapsed();
    anyhow::ensure!(status.is_success(), "{url}: HTTP {status}");
    anyhow::ensure!(body.contains(expect), "{url}: no {expect:?} in the page");
    Ok(took)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The plans of the list's shapes (and the searches' counts), as
/// `switchboard::store::call_history` builds them.
async fn explain(
    pool: &PgPool,
    org: Uuid,
    agent: Uuid,
    micros: i64,
    id: Uuid,
) -> anyhow::Result<()> {
    let select = "select c.id, a.name, c.direction, c.status, c.from_number, c.to_number, \
                  c.started_at, c.duration_secs, c.cost_usd::float8, left(c.summary, 160) \
                  from calls c left join agents a on a.id = c.agent_id and a.org_id = c.org_id \
                  where c.org_id = $1";
    let order = " order by c.started_at desc, c.id desc limit 26";
    let search = " and c.transcript_search @@ plainto_tsquery('simple', $2)";
    // Up to 1,000 hits (the rare word), the list is cut from the hits collected first.
    let hits = "with hits as materialized (select c.id from calls c where c.org_id = $1 \
                and c.transcript_search @@ plainto_tsquery('simple', $2)) ";
    let count = "select count(*) from (select 1 from calls c where c.org_id = $1 \
                 and c.transcript_search @@ plainto_tsquery('simple', $2) \
                 order by c.started_at desc, c.id desc limit 1001) capped";
    let cases = [
        ("first page", format!("{select}{order}"), None),
        (
            "page 201",
            format!(
                "{select} and (c.started_at, c.id) < (to_timestamp({micros}::float8 / 1e6), '{id}'::uuid){order}"
            ),
            None,
        ),
        (
            "filtered",
            format!(
                "{select} and c.agent_id = '{agent}' and c.direction = 'outbound' and c.status = 'busy'{order}"
            ),
            None,
        ),
        (
            "search refund",
            format!("{select}{search}{order}"),
            Some("refund"),
        ),
        ("count refund", count.to_owned(), Some("refund")),
        (
            "search lasagna",
            format!("{hits}{select} and c.id in (select id from hits){order}"),
            Some("lasagna"),
        ),
        ("count lasagna", count.to_owned(), Some("lasagna")),
    ];
    for (name, sql, word) in cases {
        let sql = format!("explain (analyze, buffers off) {sql}");
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(org);
        if let Some(word) = word {
            query = query.bind(word);
        }
        let plan = query.fetch_all(pool).await?;
        println!("\n== {name}\n{}", plan.join("\n"));
    }
    Ok(())
}
