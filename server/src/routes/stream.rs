//! `GET /twilio/stream/{token}`: the Twilio Media Streams WebSocket of one call.
//!
//! The upgrade is refused (403) unless the path token is valid and unexpired and the handshake's
//! `X-Twilio-Signature` matches the `wss://` public URL (no params); without `TWILIO_AUTH_TOKEN`
//! or `OPENAI_API_KEY` nothing is accepted (503). The token's CallSid selects the call row, whose
//! `org_id` scopes every later query, and claims it: a call has one stream, so a second socket
//! for it (a replayed URL) or one for an ended call is refused (409). The socket then runs a
//! [`CallBridge`] to OpenAI Realtime, and an effects task stores transcript lines and the call's
//! end.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{Sink, SinkExt, Stream, StreamExt};
use std::time::Duration;
use switchboard::bridge::CallBridge;
use switchboard::business_tools::{BusinessTool, parse_tools};

use switchboard::call::config::TransferTarget;
use switchboard::call::{CallSession, Greeting, SessionConfig};
use switchboard::engines::openai_realtime::OpenAiRealtimeConfig;
use switchboard::engines::{AudioFormat, Eagerness, TurnDetection};
use switchboard::store::agents::{self, AgentVoiceSettings};
use switchboard::store::calls::{self, StreamClaim};
use switchboard::twilio::signature::{
    ForwardedHeaders, RequestValidator, SIGNATURE_HEADER, UrlKind, public_url,
};
use switchboard::twilio::stream_token;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::routes::twilio::{STREAM_PATH_PREFIX, header_str};
use switchboard::live::LiveEvent;

use crate::effects::{CallServices, handle_effects};
use crate::state::AppState;
use crate::tools::ToolRunner;

/// Text frames larger than this are logged and dropped (Twilio's are a few KiB).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The most the socket reads of one message. The WebSocket reader cannot skip a message it will
/// not hold (the rest of the stream would be lost with it), so anything up to here is read whole
/// and then dropped as oversized; only a message past it ends the stream, and with it the call.
const MAX_READ_BYTES: usize = 1024 * 1024;

/// The socket's read buffer. Twilio's frames are a few hundred bytes, and tungstenite zeroes
/// the buffer's free space before every read: its 128 KiB default was a quarter of the call
/// path's CPU (measured with `perf` under `cargo bench --bench call_load`).
const READ_BUFFER_BYTES: usize = 4 * 1024;

const DEFAULT_INSTRUCTIONS: &str = "You are a helpful, concise phone assistant.";
const DEFAULT_GREETING: &str = "Hello, how can I help you?";
const TRANSFER_LINE: &str = "Let me put you through to a colleague. One moment, please.";

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
    let base = state.config.public_base_url.as_deref();
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

    let call = match calls::claim_stream(&state.pool, &call_sid).await {
        Ok(StreamClaim::Claimed(call)) => call,
        Ok(StreamClaim::Taken) => {
            tracing::warn!(
                call_sid,
                "refusing media stream: the call's stream was opened before or the call ended"
            );
            return StatusCode::CONFLICT.into_response();
        }
        Ok(StreamClaim::Unknown) => {
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

    let kind = if call.direction == "outbound" {
        let context = calls::find_context(&state.pool, call.org_id, call.id)
            .await
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, call_sid, "cannot load the call's context");
                None
            });
        CallKind::Outbound { context }
    } else {
        CallKind::Inbound
    };
    let connector = OpenAiRealtimeConfig {
        base_url: state.config.openai.base_url.clone(),
        model: state.config.openai.realtime_model.clone(),
        api_key: api_key.expose().to_owned(),
    };
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
        business: std::sync::Arc::new(business_tools(&settings)),
        http: state.http.clone(),
    };
    let services = CallServices {
        pool: state.pool.clone(),
        live: state.live.clone(),
        jobs: state.jobs.clone(),
        twilio: state.twilio.clone(),
        call_sid: call_sid.clone(),
        tools,
    };
    tracing::info!(call_sid, %call_id, %org_id, "media stream connected");
    upgrade
        .max_message_size(MAX_READ_BYTES)
        .max_frame_size(MAX_READ_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| async move {
            let shutdown = calls.shutdown.child_token();
            // Everything the call logs, the bridge's and its effects' alike, names the call.
            let span = tracing::info_span!("call", %call_id, call_sid = %services.call_sid);
            let call = run_call(
                socket,
                services,
                started,
                session_config(&settings, &kind),
                connector,
                shutdown,
            );
            calls.tracker.track_future(call.instrument(span)).await;
        })
}

/// The agent's business tools; a broken declaration is logged and offers none rather than
/// failing the call (the dashboard refuses broken declarations when they are saved).
pub fn business_tools(agent: &AgentVoiceSettings) -> Vec<BusinessTool> {
    parse_tools(&agent.tools).unwrap_or_else(|e| {
        tracing::error!(error = %e, "ignoring the agent's business tools");
        Vec::new()
    })
}

/// Which way a call goes, and for outbound calls the context the API caller gave.
#[derive(Debug, Clone, PartialEq)]
pub enum CallKind {
    /// Someone called the agent's number.
    Inbound,
    /// We called someone (`POST /api/v1/calls`).
    Outbound {
        /// The request's `context`, if any.
        context: Option<serde_json::Value>,
    },
}

/// The session settings for `agent` (minimal: prompt, greeting, first speaker, voice).
pub fn session_config(agent: &AgentVoiceSettings, call: &CallKind) -> SessionConfig {
    let mut instructions = agent.system_prompt.trim().to_owned();
    if instructions.is_empty() {
        instructions = DEFAULT_INSTRUCTIONS.to_owned();
    }
    let direction_prompt = match call {
        CallKind::Inbound => agent.inbound_prompt.trim(),
        CallKind::Outbound { .. } => agent.outbound_prompt.trim(),
    };
    if !direction_prompt.is_empty() {
        instructions.push_str("\n\n");
        instructions.push_str(direction_prompt);
    }
    // What the API caller told us about this outbound call (whom we call and why).
    if let CallKind::Outbound {
        context: Some(context),
    } = call
    {
        let context = match context {
            serde_json::Value::String(text) => text.trim().to_owned(),
            other => other.to_string(),
        };
        if !context.is_empty() {
            instructions.push_str("\n\n# About this call\n");
            instructions.push_str(&context);
        }
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
    config.tools.custom = business_tools(agent)
        .iter()
        .map(BusinessTool::spec)
        .collect();
    if agent.audio_format == "pcm16" {
        config.audio = AudioFormat::Pcm24k;
    }
    if agent.vad_mode == "semantic_vad" {
        config.turn_detection = TurnDetection::SemanticVad {
            eagerness: Eagerness::default(),
        };
    }
    if let Some(transcription) = &mut config.transcription
        && !agent.language.trim().is_empty()
    {
        transcription.language = Some(agent.language.trim().to_owned());
    }
    let secs = |n: i32| Duration::from_secs(u64::try_from(n).unwrap_or(0));
    config.max_duration = secs(agent.max_duration_secs);
    config.silence.reprompt_after = secs(agent.silence_reprompt_secs);
    config.silence.max_reprompts = u32::try_from(agent.silence_max_reprompts).unwrap_or(0);
    // The agent's switches: a built-in that is off is neither offered nor run if called.
    config.tools.end_call = agent.end_call;
    config.tools.knowledge_base = agent.knowledge_search;
    config.tools.transfer = agent.transfer_number.clone().map(|to| TransferTarget {
        to,
        line: TRANSFER_LINE.to_owned(),
    });
    config
}

async fn run_call(
    socket: WebSocket,
    services: CallServices,
    started: LiveEvent,
    config: SessionConfig,
    connector: OpenAiRealtimeConfig,
    shutdown: CancellationToken,
) {
    let call_id = services.tools.call_id;
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
    // The effects task announces the call, so the bridge (and the engine connection, on the path
    // to the greeting) starts without waiting for the database.
    let effects =
        tokio::spawn(handle_effects(services, started, effects_rx, tools_tx).in_current_span());
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

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard::call::config::{END_CALL, QUERY_KNOWLEDGE_BASE, TRANSFER_CALL};

    fn agent(first_speaker: &str, greeting: &str) -> AgentVoiceSettings {
        AgentVoiceSettings {
            system_prompt: "Be brief.".into(),
            inbound_prompt: "The caller phoned us.".into(),
            outbound_prompt: "You are calling to confirm an order.".into(),
            greeting: greeting.into(),
            first_speaker: first_speaker.into(),
            voice: "marin".into(),
            knowledge_context: String::new(),
            rag_chunk_limit: None,
            rag_similarity_threshold: None,
            transfer_number: None,
            tools: serde_json::json!([]),
            audio_format: "pcmu".into(),
            vad_mode: "server_vad".into(),
            language: "en".into(),
            max_duration_secs: 600,
            silence_reprompt_secs: 8,
            silence_max_reprompts: 2,
            end_call: true,
            knowledge_search: true,
        }
    }

    #[test]
    fn only_the_built_in_tools_the_agent_switched_on_are_offered() {
        let names = |settings: &AgentVoiceSettings| -> Vec<String> {
            session_config(settings, &CallKind::Inbound)
                .tool_specs()
                .into_iter()
                .map(|t| t.name)
                .collect()
        };
        let mut settings = agent("agent", "Hi");
        assert_eq!(names(&settings), [END_CALL, QUERY_KNOWLEDGE_BASE]);
        settings.knowledge_search = false;
        assert_eq!(names(&settings), [END_CALL]);
        settings.end_call = false;
        settings.transfer_number = Some("+14155550123".into());
        assert_eq!(names(&settings), [TRANSFER_CALL]);
        let config = session_config(&settings, &CallKind::Inbound);
        assert!(!config.offers_tool(QUERY_KNOWLEDGE_BASE) && !config.offers_tool(END_CALL));
    }

    #[test]
    fn the_session_config_follows_the_agent() {
        let config = session_config(&agent("agent", "Hi, Acme here."), &CallKind::Inbound);
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
        let config = session_config(&settings, &CallKind::Inbound);
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
        let config = session_config(&settings, &CallKind::Inbound);
        assert_eq!(
            config.instructions,
            "Be brief.\n\nThe caller phoned us.\n\n# Reference material\n[Menu]\nPizza costs $12."
        );
    }

    #[test]
    fn an_outbound_call_uses_the_outbound_prompt_and_its_context() {
        let context = serde_json::json!({"customer": "Ann", "order": 1042});
        let config = session_config(
            &agent("agent", "Hi"),
            &CallKind::Outbound {
                context: Some(context),
            },
        );
        assert_eq!(
            config.instructions,
            "Be brief.\n\nYou are calling to confirm an order.\n\n# About this call\n{\"customer\":\"Ann\",\"order\":1042}"
        );
        let plain = session_config(
            &agent("agent", "Hi"),
            &CallKind::Outbound {
                context: Some("Ann ordered a margherita.".into()),
            },
        );
        assert!(
            plain
                .instructions
                .ends_with("# About this call\nAnn ordered a margherita.")
        );
    }

    #[test]
    fn the_agents_audio_turn_taking_language_and_limits_are_used() {
        let defaults = session_config(&agent("agent", "Hi"), &CallKind::Inbound);
        assert_eq!(defaults.audio, AudioFormat::Mulaw8k);
        assert!(matches!(
            defaults.turn_detection,
            TurnDetection::ServerVad { .. }
        ));

        let mut settings = agent("agent", "Hi");
        settings.audio_format = "pcm16".into();
        settings.vad_mode = "semantic_vad".into();
        settings.language = "de".into();
        settings.max_duration_secs = 120;
        settings.silence_reprompt_secs = 5;
        settings.silence_max_reprompts = 0;
        let config = session_config(&settings, &CallKind::Inbound);
        assert_eq!(config.audio, AudioFormat::Pcm24k);
        assert!(matches!(
            config.turn_detection,
            TurnDetection::SemanticVad { .. }
        ));
        assert_eq!(
            config
                .transcription
                .as_ref()
                .and_then(|t| t.language.as_deref()),
            Some("de")
        );
        assert_eq!(config.max_duration, Duration::from_secs(120));
        assert_eq!(config.silence.reprompt_after, Duration::from_secs(5));
        assert_eq!(config.silence.max_reprompts, 0);
    }

    #[test]
    fn a_caller_first_agent_waits() {
        let config = session_config(&agent("caller", "Hi"), &CallKind::Inbound);
        assert_eq!(config.greeting, Greeting::CallerFirst);
    }
}
