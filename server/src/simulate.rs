//! `switchboard simulate`: try an agent without a phone. A whole call runs through this
//! server's real webhook, media stream and bridge, with the test suite's Twilio caller playing
//! the phone (the caller's WAV in, the agent's audio out, marks and barge-in as Twilio does).
//!
//! Twilio is always the in-process fake here (a simulated call must never reach the real
//! account). The engine is whatever is configured: the real OpenAI Realtime API with
//! `OPENAI_API_KEY`, otherwise the offline fakes: the Realtime fake greets and answers "I see.",
//! and the HTTP fake writes the call's summary and outcome, so the whole after-call path runs.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use switchboard::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions};
use switchboard::fakes::openai_realtime::{FakeRealtime, FakeScript};
use switchboard::fakes::twilio::{FakeTwilio, FakeTwilioOptions};
use switchboard::fakes::twilio_caller::{CallerOptions, place_call, read_wav, write_wav};
use uuid::Uuid;

use crate::config::{Config, Secret};
use crate::startup::Application;

/// The caller's number on simulated calls (Twilio's own test number).
const SIMULATED_CALLER: &str = "+15005550006";

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The agent's id or name.
    pub agent: String,
    /// The caller's audio.
    pub wav: PathBuf,
    /// Where to write the agent's audio.
    pub out: Option<PathBuf>,
    /// How long to stay on the line after the caller's audio ends.
    pub linger: Duration,
}

/// Runs the call and prints its transcript and timings.
pub async fn simulate(mut config: Config, simulation: Simulation) -> anyhow::Result<()> {
    let audio = read_wav(&simulation.wav).map_err(anyhow::Error::msg)?;

    // This process serves the call on a free loopback port, reachable as its public URL.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    config.addr = SocketAddr::from(([127, 0, 0, 1], port));
    config.public_base_url = Some(format!("http://127.0.0.1:{port}"));
    let twilio = FakeTwilio::start(FakeTwilioOptions::default()).await?;
    config.twilio.account_sid = Some(twilio.account_sid().to_owned());
    config.twilio.auth_token = Some(Secret::new(twilio.auth_token()));
    config.twilio.api_base = twilio.base_url();
    let _offline_openai = if config.openai.api_key.is_none() {
        let realtime = FakeRealtime::start(FakeScript::default()).await?;
        let http = FakeOpenAi::start(FakeOpenAiOptions::default()).await?;
        http.relay_realtime(&realtime);
        println!("no OPENAI_API_KEY: the agent speaks through the offline fake engine");
        config.openai.base_url = http.base_url();
        config.openai.api_key = Some(Secret::new("sk-offline-simulation"));
        Some((realtime, http))
    } else {
        println!("engine: OpenAI Realtime ({})", config.openai.realtime_model);
        None
    };

    let app = Application::build(config)
        .await
        .context("start-up failed")?;
    let pool = app.pool();
    let stop = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());

    let found: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(
        "select a.id, a.name, (select p.e164 from phone_numbers p where p.agent_id = a.id \
                                order by p.created_at limit 1) \
           from agents a where a.id::text = $1 or lower(a.name) = lower($1)",
    )
    .bind(simulation.agent.trim())
    .fetch_all(&pool)
    .await?;
    let (agent_id, name, number) = match found.as_slice() {
        [one] => one.clone(),
        [] => bail!("no agent with the id or name {:?}", simulation.agent),
        many => bail!(
            "several agents are named {:?}; pass one of their ids: {}",
            simulation.agent,
            many.iter()
                .map(|a| a.0.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let Some(number) = number else {
        bail!("agent {name:?} has no phone number; assign one first (calls arrive on a number)");
    };
    println!("calling {name} ({agent_id}) on {number}");

    // The fake knows the call, so the agent's hang-up or transfer lands on it.
    let call_sid = twilio.start_inbound_call(SIMULATED_CALLER, &number);
    let report = place_call(&CallerOptions {
        base_url: format!("http://127.0.0.1:{port}"),
        auth_token: twilio.auth_token().to_owned(),
        account_sid: twilio.account_sid().to_owned(),
        call_sid: call_sid.clone(),
        from: SIMULATED_CALLER.to_owned(),
        to: number,
        audio,
        linger: simulation.linger,
    })
    .await?;

    // The bridge stores the call's end right after the stream closes.
    let mut ended = None;
    for _ in 0..100 {
        ended = sqlx::query_scalar::<_, Option<String>>(
            "select ended_reason from calls where call_sid = $1",
        )
        .bind(&call_sid)
        .fetch_optional(&pool)
        .await?
        .flatten();
        if ended.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let lines: Vec<(String, String, i32, bool)> = sqlx::query_as(
        "select l.role, l.text, l.start_ms, l.interrupted from call_transcript_lines l \
           join calls c on c.id = l.call_id where c.call_sid = $1 order by l.seq",
    )
    .bind(&call_sid)
    .fetch_all(&pool)
    .await?;
    println!();
    for (role, text, start_ms, interrupted) in &lines {
        let cut = if *interrupted { " [interrupted]" } else { "" };
        println!(
            "[{:>3}.{:03}s] {role:>6}: {text}{cut}",
            start_ms / 1000,
            start_ms % 1000
        );
    }
    println!();
    match report.first_audio_after {
        Some(after) => println!(
            "first agent audio {} ms after the stream started",
            after.as_millis()
        ),
        None => println!("the agent never spoke"),
    }
    println!(
        "agent audio {:.1} s, {} barge-in(s), {} mark(s) echoed, ended: {}",
        report.agent_audio.len() as f64 / 8_000.0,
        report.clears,
        report.marks,
        ended.as_deref().unwrap_or("not recorded"),
    );
    if let Some(out) = &simulation.out {
        write_wav(out, &report.agent_audio).map_err(anyhow::Error::msg)?;
        println!("agent audio written to {}", out.display());
    }
    // The summary job runs as soon as the call ends; wait a little for it.
    let mut summary = None;
    for _ in 0..100 {
        summary = sqlx::query_as::<_, (Option<String>, Option<serde_json::Value>)>(
            "select summary, outcome from calls where call_sid = $1",
        )
        .bind(&call_sid)
        .fetch_optional(&pool)
        .await?
        .filter(|(summary, _)| summary.is_some());
        if summary.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    match summary {
        Some((Some(summary), outcome)) => {
            println!("summary: {summary}");
            if let Some(outcome) = outcome.filter(|o| !o.is_null()) {
                println!("outcome: {outcome}");
            }
        }
        _ => println!("no summary yet (the summary job retries in the background)"),
    }
    stop.cancel();
    server.await??;
    Ok(())
}
