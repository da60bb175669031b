//! What a live call's bridge asks of the rest of the server, performed in order: transcript
//! lines stored then published, tool runs, hang-up and transfer through Twilio's REST API, and
//! the call's end (stored, published, summary enqueued).

use std::time::Duration;

use sqlx::PgPool;
use switchboard::bridge::{Effect, ToolResult};
use switchboard::call::{LiveEvent as CallEvent, Role};
use switchboard::jobs::JobQueue;
use switchboard::live::{LiveBus, LiveEvent, LiveMessage};
use switchboard::store::{calls, transcripts};
use switchboard::summaries::enqueue_summary;
use switchboard::twilio::twiml::{self, Dial};
use switchboard::twilio_rest::{MaskedPhone, TwilioRest};
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::tools::ToolRunner;

/// The handles one call's effects need.
pub struct CallServices {
    /// The database.
    pub pool: PgPool,
    /// Where lines and the call's start and end are published.
    pub live: LiveBus,
    /// Wakes the job workers (the summary).
    pub jobs: JobQueue,
    /// Twilio's REST API, when configured.
    pub twilio: Option<TwilioRest>,
    /// The call's CallSid.
    pub call_sid: String,
    /// Runs tools; also names the call and its organization.
    pub tools: ToolRunner,
}

/// Announces the call with `started`, then performs the bridge's effects until it finishes:
/// transcript rows, the call's end, tool answers.
pub async fn handle_effects(
    services: CallServices,
    started: LiveEvent,
    mut effects: mpsc::UnboundedReceiver<Effect>,
    tools: mpsc::Sender<ToolResult>,
) {
    let CallServices {
        pool,
        live,
        jobs,
        twilio,
        call_sid,
        tools: runner,
    } = services;
    let (org_id, call_id) = (runner.org_id, runner.call_id);
    live.publish(LiveMessage {
        org_id,
        event: started,
    })
    .await;
    let mut seq: i32 = 0;
    while let Some(effect) = effects.recv().await {
        match effect {
            Effect::PersistLine(line) => {
                let role = match line.role {
                    Role::Caller => "caller",
                    Role::Agent => "agent",
                    Role::Tool => "tool",
                    Role::System => "system",
                };
                let ms = |v: u64| i32::try_from(v).unwrap_or(i32::MAX);
                let end_ms = ms(line.end_ms).max(ms(line.start_ms));
                let stored = transcripts::insert_line(
                    &pool,
                    org_id,
                    call_id,
                    seq,
                    role,
                    &line.text,
                    ms(line.start_ms),
                    end_ms,
                    line.interrupted,
                )
                .await;
                match stored {
                    // Stored first, then shown: a dashboard that reloads sees the same lines.
                    Ok(()) => {
                        let event = LiveEvent::CallLine {
                            call_id,
                            seq,
                            role: role.to_owned(),
                            text: line.text,
                            start_ms: ms(line.start_ms),
                            end_ms,
                            interrupted: line.interrupted,
                        };
                        live.publish(LiveMessage { org_id, event }).await;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, %call_id, seq, "cannot store a transcript line")
                    }
                }
                seq += 1;
            }
            Effect::Publish(CallEvent::CallStarted { call_sid: named }) if named != call_sid => {
                // The signed handshake bound the URL's token to our CallSid, so hang-up and
                // transfer keep using that one; a `start` naming another call is worth a look.
                tracing::warn!(
                    start_call_sid = %named,
                    "the stream's start names another CallSid than its URL; controlling the URL's call"
                );
            }
            Effect::Publish(_) => {}
            Effect::RunTool(call) => {
                // Off this loop, so transcript lines keep being stored while a tool runs.
                let (runner, tools) = (runner.clone(), tools.clone());
                tokio::spawn(async move {
                    let output = runner.run(&call).await;
                    let result = ToolResult {
                        call_id: call.call_id,
                        output,
                    };
                    if tools.send(result).await.is_err() {
                        tracing::debug!(call_id = %runner.call_id, "bridge gone before the tool result");
                    }
                }.in_current_span());
            }
            Effect::RecordTool { call, output } => runner.record(&call, &output).await,
            Effect::HangUp => {
                // The goodbye has played; Twilio ends the call and its stream closes.
                let (twilio, call_sid) = (twilio.clone(), call_sid.clone());
                tokio::spawn(
                    async move { hang_up(twilio.as_ref(), &call_sid).await }.in_current_span(),
                );
            }
            Effect::SayAndHangUp { line } => {
                let (twilio, call_sid) = (twilio.clone(), call_sid.clone());
                tokio::spawn(
                    async move { say_and_hang_up(twilio.as_ref(), &call_sid, &line).await }
                        .in_current_span(),
                );
            }
            Effect::Transfer { to } => {
                let (twilio, call_sid) = (twilio.clone(), call_sid.clone());
                tokio::spawn(
                    async move { transfer(twilio.as_ref(), &call_sid, &to).await }
                        .in_current_span(),
                );
            }
            Effect::Finish(record) => {
                let reason = serde_json::to_value(&record.outcome.reason)
                    .ok()
                    .and_then(|v| v["kind"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "unknown".to_owned());
                let secs = i32::try_from(record.outcome.duration_ms / 1000).unwrap_or(i32::MAX);
                if let Err(e) = calls::finish_call(&pool, org_id, call_id, &reason, secs).await {
                    tracing::error!(error = %e, %call_id, "cannot mark the call finished");
                }
                let event = LiveEvent::CallEnded {
                    call_id,
                    reason,
                    duration_secs: secs,
                };
                live.publish(LiveMessage { org_id, event }).await;
                // Every line is stored by now (effects arrive in order): summarise at once.
                if let Err(e) = enqueue_summary(&pool, &jobs, org_id, call_id, Duration::ZERO).await
                {
                    tracing::error!(error = %e, %call_id, "cannot enqueue the call's summary");
                }
                break;
            }
        }
    }
}

/// Ends the call through Twilio (`Status=completed`). A call that already ended is fine.
async fn hang_up(twilio: Option<&TwilioRest>, call_sid: &str) {
    let Some(twilio) = twilio else {
        tracing::warn!(call_sid, "cannot hang up: Twilio REST is not configured");
        return;
    };
    match twilio.hang_up(call_sid).await {
        Ok(_) => tracing::info!(call_sid, "hung up"),
        Err(e) if e.is_call_gone() => tracing::info!(call_sid, "the call had already ended"),
        Err(e) => tracing::error!(error = %e, call_sid, "hang-up failed"),
    }
}

/// The engine is gone: Twilio says `line` in its own voice and hangs up. Without Twilio REST
/// the stream is closed instead, which leaves the caller with silence until Twilio ends it.
async fn say_and_hang_up(twilio: Option<&TwilioRest>, call_sid: &str, line: &str) {
    let Some(twilio) = twilio else {
        tracing::warn!(call_sid, "cannot apologise: Twilio REST is not configured");
        return;
    };
    let twiml = twiml::Response::new().say(line).hangup().to_xml();
    match twilio.redirect_with_twiml(call_sid, &twiml).await {
        Ok(_) => tracing::info!(call_sid, "apologised and hung up"),
        Err(e) if e.is_call_gone() => tracing::info!(call_sid, "the call had already ended"),
        Err(e) => tracing::error!(error = %e, call_sid, "apology failed"),
    }
}

/// Redirects the call to `<Dial>` the transfer number; the media stream ends with it.
async fn transfer(twilio: Option<&TwilioRest>, call_sid: &str, to: &str) {
    let Some(twilio) = twilio else {
        tracing::warn!(call_sid, "cannot transfer: Twilio REST is not configured");
        return;
    };
    let twiml = twiml::Response::new().dial(Dial::new(to)).to_xml();
    match twilio.redirect_with_twiml(call_sid, &twiml).await {
        Ok(_) => tracing::info!(call_sid, to = %MaskedPhone(to), "transferred"),
        Err(e) => tracing::error!(error = %e, call_sid, to = %MaskedPhone(to), "transfer failed"),
    }
}
