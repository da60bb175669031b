//! `GET /twilio/stream/{token}`: the Twilio Media Streams WebSocket of one call.
//!
//! The upgrade is refused (403) unless the path token is valid and unexpired and the handshake's
//! `X-Twilio-Signature` matches the `wss://` public URL (no params); without `TWILIO_AUTH_TOKEN`
//! or `OPENAI_API_KEY` nothing is accepted (503). The token's CallSid selects the call row, whose
//! `org_id` scopes every later query. The socket then runs a [`CallBridge`] to OpenAI Realtime,
//! and an effects task stores transcript lines and the call's end.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{Sink, SinkExt, Stream, StreamExt};
use sqlx::PgPool;
use switchboard::bridge::{CallBridge, Effect, ToolResult};
use switchboard::call::{CallSession, Greeting, Role, SessionConfig};
use switchboard::engines::openai_realtime::OpenAiRealtimeConfig;
use switchboard::store::agents::{self, AgentVoiceSettings};
use switchboard::store::{calls, transcripts};
use switchboard::twilio::signature::{
    ForwardedHeaders, RequestValidator, SIGNATURE_HEADER, UrlKind, public_url,
};
use switchboard::twilio::stream_token;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::routes::twilio::{STREAM_PATH_PREFIX, header_str};
use switchboard::live::{LiveBus, LiveEvent, LiveMessage};

use crate::state::AppState;
use crate::tools::ToolRunner;

/// Text frames larger than this are logged and dropped (Twilio's are a few KiB).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

const DEFAULT_INSTRUCTIONS: &str = "You are a helpful, concise phone assistant.";
const DEFAULT_GREETING: &str = "Hello, how can I help you?";

/// `GET /twilio/stream/{token}`: checks the token and signature, then bridges the call.
pub async fn stream(
    State(state): State<AppState>,
    Path(token): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if state.calls.tracker.is_closed() {
        tracing::warn!("refusing media stream: the server is shutting down");
        return (StatusCode::SERVICE_UNAVAILABLE, "Shutting down").into_response();
    }
    let Some(auth_token) = state.config.twilio.auth_token.as_ref() else {
        tracing::error!("refusing media stream: TWILIO_AUTH_TOKEN is not set");
        return (StatusCode::SERVICE_UNAVAILABLE, "Twilio is not configured").into_response();
    };
    let Some(api_key) = state.config.openai.api_key.as_ref() else {
        tracing::error!("refusing media stream: OPENAI_API_KEY is not set");
        return (StatusCode::SERVICE_UNAVAILABLE, "OpenAI is not configured").into_response();
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secret = stream_token::derive_secret(auth_token.expose());
    let call_sid = match stream_token::verify(&secret, &token, now) {
        Ok(sid) => sid,
        Err(e) => {
            tracing::warn!(error = %e, "refusing media stream: bad token");
            return StatusCode::FORBIDDEN.into_response();
        }
    };
    let forwarded = ForwardedHeaders {
        forwarded_proto: header_str(&headers, "x-forwarded-proto"),
        forwarded_host: header_str(&headers, "x-forwarded-host"),
        host: header_str(&headers, header::HOST.as_str()),
    };
    let path = uri.path();
    debug_assert!(path.starts_with(STREAM_PATH_PREFIX));
    let base = Some(state.config.public_base_url.as_str());
    let url = match public_url(base, &forwarded, path, UrlKind::WebSocket) {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "refusing media stream: cannot rebuild its public URL");
            return StatusCode::FORBIDDEN.into_response();
        }
    };
    let signature = header_str(&headers, SIGNATURE_HEADER);
    if let Err(e) = RequestValidator::new(auth_token.expose()).verify_websocket(&url, signature) {
        tracing::warn!(error = %e, call_sid, "refusing media stream: bad signature");
        return StatusCode::FORBIDDEN.into_response();
    }

    let call = match calls::find_call_by_sid(&state.pool, &call_sid).await {
        Ok(Some(call)) => call,
        Ok(None) => {
            tracing::warn!(call_sid, "refusing media stream: unknown call");
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, call_sid, "cannot load the call");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let settings = match call.agent_id {
        Some(agent_id) => agents::find_voice_settings(&state.pool, call.org_id, agent_id).await,
        None => Ok(None),
    };
    let settings = match settings {
        Ok(Some(settings)) => settings,
        Ok(None) => {
            tracing::warn!(call_sid, "refusing media stream: the call has no agent");
            return StatusCode::NOT_FOUND.into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, call_sid, "cannot load the agent");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };

    let connector = OpenAiRealtimeConfig {
        base_url: state.config.openai.base_url.clone(),
        model: state.config.openai.realtime_model.clone(),
        api_key: api_key.expose().to_owned(),
    };
    let pool = state.pool.clone();
    let live = state.live.clone();
    let calls = state.calls.clone();
    let started = LiveEvent::CallStarted {
        call_id: call.id,
        agent_id: call.agent_id,
        direction: call.direction.clone(),
        from: call.from_number.clone(),
        to: call.to_number.clone(),
    };
    let (org_id, call_id) = (call.org_id, call.id);
    let rag = state.config.rag;
    let tools = ToolRunner {
        pool: state.pool.clone(),
        embedder: state.embedder.clone(),
        org_id,
        call_id,
        agent_id: call.agent_id,
        chunk_limit: settings
            .rag_chunk_limit
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(rag.chunk_limit),
        similarity_threshold: settings
            .rag_similarity_threshold
            .unwrap_or(rag.similarity_threshold),
    };
    tracing::info!(call_sid, %call_id, %org_id, "media stream connected");
    // Larger than `MAX_FRAME_BYTES` so an oversized frame is dropped, not fatal to the call.
    upgrade
        .max_message_size(4 * MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let shutdown = calls.shutdown.child_token();
            let call = run_call(
                socket,
                pool,
                live,
                started,
                tools,
                session_config(&settings),
                connector,
                shutdown,
            );
            calls.tracker.track_future(call).await;
        })
}

/// The session settings for `agent` (minimal: prompt, greeting, first speaker, voice).
pub fn session_config(agent: &AgentVoiceSettings) -> SessionConfig {
    let mut instructions = agent.system_prompt.trim().to_owned();
    if instructions.is_empty() {
        instructions = DEFAULT_INSTRUCTIONS.to_owned();
    }
    if !agent.inbound_prompt.trim().is_empty() {
        instructions.push_str("\n\n");
        instructions.push_str(agent.inbound_prompt.trim());
    }
    // Precomputed when the agent or its documents changed: nothing to wait for here.
    if !agent.knowledge_context.trim().is_empty() {
        instructions.push_str("\n\n");
        instructions.push_str(agent.knowledge_context.trim());
    }
    let mut config = SessionConfig::new(instructions);
    config.greeting = if agent.first_speaker == "caller" {
        Greeting::CallerFirst
    } else if agent.greeting.trim().is_empty() {
        Greeting::AgentFirst(DEFAULT_GREETING.to_owned())
    } else {
        Greeting::AgentFirst(agent.greeting.trim().to_owned())
    };
    if !agent.voice.is_empty() {
        config.voice = Some(agent.voice.clone());
    }
    config
}

#[allow(clippy::too_many_arguments)]
async fn run_call(
    socket: WebSocket,
    pool: PgPool,
    live: LiveBus,
    started: LiveEvent,
    tools: ToolRunner,
    config: SessionConfig,
    connector: OpenAiRealtimeConfig,
    shutdown: CancellationToken,
) {
    let (org_id, call_id) = (tools.org_id, tools.call_id);
    if let Err(e) = calls::mark_in_progress(&pool, org_id, call_id).await {
        tracing::error!(error = %e, %call_id, "cannot mark the call in progress");
    }
    live.publish(LiveMessage {
        org_id,
        event: started,
    })
    .await;
    let (sink, stream) = socket.split();
    let (effects_tx, effects_rx) = mpsc::unbounded_channel();
    let (tools_tx, tools_rx) = mpsc::channel(8);
    let bridge = CallBridge::new(
        CallSession::new(config),
        connector,
        effects_tx,
        tools_rx,
        shutdown,
    );
    let effects = tokio::spawn(handle_effects(pool, live, tools, effects_rx, tools_tx));
    let end = bridge.run(text_frames(stream), text_sink(sink)).await;
    tracing::info!(%call_id, ?end, "call bridge ended");
    if let Err(e) = effects.await {
        tracing::error!(error = %e, %call_id, "effects task failed");
    }
}

/// The socket's text frames; binary and oversized frames are logged and dropped.
fn text_frames(
    stream: impl Stream<Item = Result<Message, axum::Error>> + Send + 'static,
) -> impl Stream<Item = Result<String, axum::Error>> + Unpin {
    Box::pin(stream.filter_map(|message| async move {
        match message {
            Ok(Message::Text(text)) if text.len() > MAX_FRAME_BYTES => {
                tracing::warn!(
                    bytes = text.len(),
                    "dropping an oversized media stream frame"
                );
                None
            }
            Ok(Message::Text(text)) => Some(Ok(text.as_str().to_owned())),
            Ok(Message::Binary(bytes)) => {
                tracing::warn!(bytes = bytes.len(), "dropping a binary media stream frame");
                None
            }
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Close(_)) => None,
            Err(e) => Some(Err(e)),
        }
    }))
}

/// Sends each string as one text frame.
fn text_sink(
    sink: impl Sink<Message, Error = axum::Error> + Send + 'static,
) -> impl Sink<String, Error = axum::Error> + Unpin {
    Box::pin(
        sink.with(|text: String| async move { Ok::<_, axum::Error>(Message::Text(text.into())) }),
    )
}

/// Performs the bridge's effects until it finishes: transcript rows, the call's end, tool answers.
async fn handle_effects(
    pool: PgPool,
    live: LiveBus,
    runner: ToolRunner,
    mut effects: mpsc::UnboundedReceiver<Effect>,
    tools: mpsc::Sender<ToolResult>,
) {
    let (org_id, call_id) = (runner.org_id, runner.call_id);
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
                });
            }
            Effect::HangUp => {
                tracing::info!(%call_id, "hang-up requested (Twilio REST not wired yet)")
            }
            Effect::Transfer { to } => tracing::info!(
                %call_id,
                to = %crate::routes::twilio::mask_phone(&to),
                "transfer requested (Twilio REST not wired yet)"
            ),
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
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(first_speaker: &str, greeting: &str) -> AgentVoiceSettings {
        AgentVoiceSettings {
            system_prompt: "Be brief.".into(),
            inbound_prompt: "The caller phoned us.".into(),
            greeting: greeting.into(),
            first_speaker: first_speaker.into(),
            voice: "marin".into(),
            knowledge_context: String::new(),
            rag_chunk_limit: None,
            rag_similarity_threshold: None,
        }
    }

    #[test]
    fn the_session_config_follows_the_agent() {
        let config = session_config(&agent("agent", "Hi, Acme here."));
        assert_eq!(config.instructions, "Be brief.\n\nThe caller phoned us.");
        assert_eq!(
            config.greeting,
            Greeting::AgentFirst("Hi, Acme here.".into())
        );
        assert_eq!(config.voice.as_deref(), Some("marin"));
    }

    #[test]
    fn an_agent_without_greeting_or_prompt_gets_defaults() {
        let mut settings = agent("agent", " ");
        settings.system_prompt.clear();
        settings.inbound_prompt.clear();
        let config = session_config(&settings);
        assert_eq!(config.instructions, DEFAULT_INSTRUCTIONS);
        assert_eq!(
            config.greeting,
            Greeting::AgentFirst(DEFAULT_GREETING.into())
        );
    }

    #[test]
    fn the_start_context_follows_the_prompts() {
        let mut settings = agent("agent", "Hi");
        settings.knowledge_context = "# Reference material\n[Menu]\nPizza costs $12.".into();
        let config = session_config(&settings);
        assert_eq!(
            config.instructions,
            "Be brief.\n\nThe caller phoned us.\n\n# Reference material\n[Menu]\nPizza costs $12."
        );
    }

    #[test]
    fn a_caller_first_agent_waits() {
        let config = session_config(&agent("caller", "Hi"));
        assert_eq!(config.greeting, Greeting::CallerFirst);
    }
}
