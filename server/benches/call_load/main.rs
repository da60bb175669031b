//! The call path under load: N concurrent calls through the real `switchboard` binary over
//! loopback, with Rust callers playing Twilio and a Rust fake engine playing OpenAI Realtime,
//! both in this process (see `caller.rs`, `engine.rs`).
//!
//! Every call talks both ways at once for its whole life: the caller sends a 20 ms μ-law frame
//! every 20 ms, the engine streams the agent's voice the same way, and the server bridges both
//! (μ-law passthrough, marks echoed). Each frame carries its send time, so the receiving side
//! measures the time through the server (two loopback hops included). For each N the server is
//! a fresh process; its CPU time and RSS come from `/proc`.
//!
//! With `--traffic caller` the agent listens: the engine hears the caller start speaking and
//! answers any response with no audio, so only the caller's line is streamed, which every call
//! carries from start to end.
//!
//! ```text
//! cargo bench -p server --bench call_load                    # 10, 100, 200, 500, 1000 calls
//! cargo bench -p server --bench call_load -- --calls 200 --window 30 --traffic caller
//! ```
//!
//! Before the load, sequential calls time the two start-up paths: the voice webhook's answer
//! (POST → TwiML) and the stream's start → `session.update` at the engine.

mod caller;
mod engine;
#[path = "../support/proc.rs"]
mod proc;
mod stamp;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;
use switchboard::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions};
use switchboard::fakes::twilio::{
    FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio, FakeTwilioOptions,
};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use caller::{CallerReport, Line};
use engine::EngineTotals;

/// The agent's number.
const NUMBER: &str = "+14155550100";
/// A frame delivered later than this has missed its 20 ms slot.
const LATE_US: u32 = 20_000;
/// New calls per second while ramping up (each is a webhook, a socket and an engine socket).
const RAMP_PER_SEC: u64 = 100;

struct Options {
    calls: Vec<usize>,
    window: Duration,
    sequential: usize,
    /// The agent speaks the whole call (full duplex); otherwise only the caller does.
    agent_talks: bool,
}

fn options() -> Options {
    let mut options = Options {
        calls: vec![10, 100, 200, 500, 1000],
        window: Duration::from_secs(20),
        sequential: 200,
        agent_talks: true,
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        match pair[0].as_str() {
            "--calls" => {
                options.calls = pair[1].split(',').filter_map(|n| n.parse().ok()).collect();
            }
            "--window" => options.window = Duration::from_secs(pair[1].parse().unwrap_or(20)),
            "--sequential" => options.sequential = pair[1].parse().unwrap_or(200),
            "--traffic" => options.agent_talks = pair[1] != "caller",
            _ => {}
        }
    }
    options
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options();
    stamp::now_us(); // start the clock
    let (database_url, pool) = switchboard::testing::fresh_database().await;
    let (org, agent) = switchboard::testing::seed_org_with_agent(&pool, "Load").await;
    switchboard::store::agents::insert_phone_number(&pool, org, NUMBER, Some(agent)).await?;
    // Long enough for any run; a bench call must not be cut by the agent's limit.
    sqlx::query("update agents set max_duration_secs = 14400, ai_disclosure = false where id = $1")
        .bind(agent)
        .execute(&pool)
        .await?;
    let twilio = FakeTwilio::start(FakeTwilioOptions::default()).await?;
    let engine_listener = TcpListener::bind("127.0.0.1:0").await?;
    let engine_url = format!("http://{}/v1", engine_listener.local_addr()?);
    let totals = Arc::new(EngineTotals::default());
    let (updates_tx, mut updates) = mpsc::unbounded_channel();
    // The summary jobs' chat completions, answered as OpenAI would (see `engine`).
    let http_api = FakeOpenAi::start(FakeOpenAiOptions::default()).await?;
    engine::serve(
        engine_listener,
        http_api.addr(),
        totals.clone(),
        updates_tx,
        options.agent_talks,
    );
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let server = |port: u16| Server::start(port, &database_url, &engine_url, &twilio.base_url());

    println!(
        "call_load: μ-law passthrough, {}",
        if options.agent_talks {
            "full-duplex 20 ms frames, marks echoed"
        } else {
            "the caller's 20 ms frames only (the agent is silent)"
        }
    );
    println!(
        "machine: {} cores\n",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // Start-up paths, one call at a time on a quiet server.
    {
        let port = free_port()?;
        let mut server = server(port)?;
        server.wait_ready(&http).await?;
        let line = line(port, &http);
        let mut webhook = Vec::new();
        let mut start_to_update = Vec::new();
        let mut open_to_update = Vec::new();
        for n in 0..options.sequential {
            while updates.try_recv().is_ok() {}
            let (streaming, stop) = (CancellationToken::new(), CancellationToken::new());
            let task = tokio::spawn({
                let (line, streaming, stop) = (line.clone(), streaming.clone(), stop.clone());
                async move { caller::call(&line, call_sid(0, n), streaming, stop).await }
            });
            let update_at = tokio::time::timeout(Duration::from_secs(5), updates.recv())
                .await
                .context("no session.update within 5 s")?
                .context("engine gone")?;
            streaming.cancelled().await;
            stop.cancel();
            let report = task.await??;
            webhook.push(report.webhook_us);
            start_to_update.push(update_at.saturating_sub(report.start_sent_at));
            open_to_update.push(update_at.saturating_sub(report.opened_at));
        }
        server.stop();
        println!("start-up, {} sequential calls (µs):", options.sequential);
        println!(
            "  voice webhook POST → TwiML      {}",
            percentiles(&mut webhook)
        );
        println!(
            "  stream open → session.update    {}",
            percentiles(&mut open_to_update)
        );
        println!(
            "  Twilio start → session.update   {}  (0: it went out before start)",
            percentiles(&mut start_to_update)
        );
        println!();
    }

    println!(
        "{:>6} {:>21} {:>21} {:>14} {:>6} {:>10} {:>13} {:>13} {:>9}",
        "calls",
        "caller→engine p50/p99",
        "engine→caller p50/p99",
        "CPU s/call-min",
        "kernel",
        "RSS/call",
        "late in/out",
        "lost in/out",
        "bench CPU"
    );
    for (run, &n) in options.calls.iter().enumerate() {
        let port = free_port()?;
        let mut server = server(port)?;
        server.wait_ready(&http).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss_idle = server.rss_kib();
        totals.latencies.lock().expect("unpoisoned").clear();
        totals.frames_out.store(0, Ordering::Relaxed);
        let line = line(port, &http);
        let stop = CancellationToken::new();
        let mut started = Vec::with_capacity(n);
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let streaming = CancellationToken::new();
            started.push(streaming.clone());
            let (line, stop) = (line.clone(), stop.clone());
            let sid = call_sid(run + 1, i);
            tasks.push(tokio::spawn(async move {
                caller::call(&line, sid, streaming, stop).await
            }));
            tokio::time::sleep(Duration::from_micros(1_000_000 / RAMP_PER_SEC)).await;
        }
        for streaming in &started {
            streaming.cancelled().await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await; // every call settled
        let (cpu0, bench0) = (server.cpu(), proc::own_cpu_secs());
        let t0 = std::time::Instant::now();
        tokio::time::sleep(options.window).await;
        let (cpu1, bench1) = (server.cpu(), proc::own_cpu_secs());
        let cpu = cpu1.since(cpu0);
        let elapsed = t0.elapsed().as_secs_f64();
        let rss = server.rss_kib();
        stop.cancel();
        let mut reports: Vec<CallerReport> = Vec::with_capacity(n);
        let mut failed = 0;
        for task in tasks {
            match task.await? {
                Ok(report) => reports.push(report),
                Err(e) => {
                    failed += 1;
                    if failed == 1 {
                        eprintln!("a call failed: {e:#}");
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await; // engine connections close
        server.stop();

        let mut to_caller: Vec<u32> = reports
            .iter()
            .flat_map(|r| r.latencies.iter().copied())
            .collect();
        let mut to_engine = std::mem::take(&mut *totals.latencies.lock().expect("unpoisoned"));
        let sent_in: u64 = reports.iter().map(|r| r.frames_sent).sum();
        let sent_out = totals.frames_out.load(Ordering::Relaxed);
        let lost_in = sent_in.saturating_sub(to_engine.len() as u64);
        let lost_out = sent_out.saturating_sub(to_caller.len() as u64);
        let late_in = to_engine.iter().filter(|&&l| l > LATE_US).count();
        let late_out = to_caller.iter().filter(|&&l| l > LATE_US).count();
        let cpu_per_call_minute = cpu.total() / (n as f64 * elapsed / 60.0);
        let rss_per_call = rss.saturating_sub(rss_idle) as f64 / n as f64;
        println!(
            "{n:>6} {:>21} {:>21} {:>14.4} {:>5.0}% {:>7.0} KiB {:>13} {:>13} {:>8.0}%{}",
            format!(
                "{}/{} µs",
                pct(&mut to_engine, 50.0),
                pct(&mut to_engine, 99.0)
            ),
            if to_caller.is_empty() {
                "-".to_owned()
            } else {
                format!(
                    "{}/{} µs",
                    pct(&mut to_caller, 50.0),
                    pct(&mut to_caller, 99.0)
                )
            },
            cpu_per_call_minute,
            100.0 * cpu.system / cpu.total(),
            rss_per_call,
            format!("{late_in}/{late_out}"),
            format!("{lost_in}/{lost_out}"),
            100.0 * (bench1 - bench0) / elapsed,
            if failed > 0 {
                format!("  ({failed} calls failed)")
            } else {
                String::new()
            },
        );
    }
    let (calls, summarised): (i64, i64) =
        sqlx::query_as("select count(*), count(summary) from calls")
            .fetch_one(&pool)
            .await?;
    println!(
        "\nlate: a frame delivered more than 20 ms after it was sent; lost: sent and never delivered."
    );
    println!("{summarised} of {calls} calls were summarised before their server stopped.");
    println!(
        "server CPU is the switchboard process alone (PostgreSQL apart), kernel its share spent in the kernel; bench CPU is the callers and engine."
    );
    Ok(())
}

fn line(port: u16, http: &reqwest::Client) -> Line {
    Line {
        base_url: format!("http://127.0.0.1:{port}"),
        auth_token: FAKE_AUTH_TOKEN.to_owned(),
        account_sid: FAKE_ACCOUNT_SID.to_owned(),
        to: NUMBER.to_owned(),
        http: http.clone(),
    }
}

/// A CallSid unique to this run and call: `CA` + 32 hex digits.
fn call_sid(run: usize, call: usize) -> String {
    format!("CA{:08x}{:08x}{:016x}", std::process::id(), run, call)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The switchboard binary, serving on `port`.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(
        port: u16,
        database_url: &str,
        engine_url: &str,
        twilio_url: &str,
    ) -> anyhow::Result<Self> {
        let child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("PUBLIC_BASE_URL", format!("http://127.0.0.1:{port}"))
            .env("OPENAI_API_KEY", "sk-load-bench")
            .env("OPENAI_BASE_URL", engine_url)
            .env("EMBEDDINGS", "local")
            .env(
                "EMBEDDING_MODEL_DIR",
                switchboard::testing::tools_dir().join("all-minilm-l6-v2"),
            )
            .env("TWILIO_ACCOUNT_SID", FAKE_ACCOUNT_SID)
            .env("TWILIO_AUTH_TOKEN", FAKE_AUTH_TOKEN)
            .env("TWILIO_API_BASE", twilio_url)
            .env("LOG_LEVEL", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the switchboard binary")?;
        Ok(Self { child, port })
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let url = format!("http://127.0.0.1:{}/readyz", self.port);
        for _ in 0..600 {
            if http
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server exited: {status}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("the server was not ready within 30 s")
    }

    fn cpu(&self) -> proc::CpuTimes {
        proc::cpu_times(self.child.id())
    }

    fn rss_kib(&self) -> u64 {
        proc::rss_kib(self.child.id())
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pct(sorted_or_not: &mut [u32], p: f64) -> u32 {
    if sorted_or_not.is_empty() {
        return 0;
    }
    sorted_or_not.sort_unstable();
    let i = ((p / 100.0) * (sorted_or_not.len() - 1) as f64).round() as usize;
    sorted_or_not[i]
}

fn percentiles(values: &mut [u64]) -> String {
    values.sort_unstable();
    let at = |p: f64| {
        values
            .get(((p / 100.0) * (values.len().max(1) - 1) as f64).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    format!(
        "p50 {:>6}  p99 {:>6}  max {:>6}",
        at(50.0),
        at(99.0),
        at(100.0)
    )
}
