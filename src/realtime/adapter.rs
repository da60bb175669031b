//! Maps the Realtime GA dialect to the engine-neutral vocabulary and back:
//! [`RealtimeServerEvent`] → [`EngineEvent`], [`EngineCommand`] → [`RealtimeClientEvent`]s.
//!
//! The adapter remembers one thing, the output audio format of the last session it configured, so
//! it knows how to decode `response.output_audio.delta`. It decides nothing (that is the call
//! session's job) and does no I/O.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::client_event::{ConversationItem, RealtimeClientEvent, ResponseParams};
use super::server_event::{Item, RealtimeServerEvent};
use super::session::{
    AudioConfig, AudioInput, AudioOutput, FunctionKind, FunctionTool, InputTranscription, Modality,
    RealtimeAudioFormat, RealtimeSession, RealtimeTurnDetection, SessionKind, ToolChoice,
    ToolChoiceMode,
};
use crate::engines::{
    AgentAudio, AudioFormat, CallerAudio, EngineCommand, EngineError, EngineEvent, EngineSession,
    HistoryTurn, ToolCall, TurnDetection, Usage,
};

/// A server event that could not be turned into an [`EngineEvent`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdapterError {
    /// The `delta` of an audio event was not valid base64.
    #[error("audio delta for item {item_id} is not valid base64")]
    BadAudio {
        /// The agent item the delta belonged to.
        item_id: String,
    },
}

/// Stateful translator between Realtime events and engine events for one engine session.
#[derive(Debug, Clone, Default)]
pub struct RealtimeAdapter {
    output: AudioFormat,
}

impl RealtimeAdapter {
    /// A new adapter; until a session is configured it assumes μ-law output.
    pub fn new() -> Self {
        Self::default()
    }

    /// Translates one server event. `Ok(None)` means the event needs no action by the call.
    pub fn engine_event(
        &self,
        event: RealtimeServerEvent<'_>,
    ) -> Result<Option<EngineEvent>, AdapterError> {
        use RealtimeServerEvent as S;
        let event = match event {
            S::InputAudioBufferSpeechStarted {
                audio_start_ms,
                item_id,
            } => EngineEvent::CallerSpeechStarted {
                item_id,
                audio_start_ms,
            },
            S::InputAudioBufferSpeechStopped {
                audio_end_ms,
                item_id,
            } => EngineEvent::CallerSpeechStopped {
                item_id,
                audio_end_ms,
            },
            S::InputAudioTranscriptionDelta { item_id, delta, .. } => {
                EngineEvent::CallerTranscriptDelta {
                    item_id,
                    text: delta,
                }
            }
            S::InputAudioTranscriptionCompleted {
                item_id,
                transcript,
                ..
            } => EngineEvent::CallerTranscriptFinal {
                item_id,
                text: transcript,
            },
            S::InputAudioTranscriptionFailed { item_id, error, .. } => {
                EngineEvent::CallerTranscriptFailed {
                    item_id,
                    message: error.message,
                }
            }
            S::ResponseCreated { response } => EngineEvent::ResponseStarted {
                response_id: response.id,
            },
            S::ResponseDone { response } => EngineEvent::ResponseDone {
                status: response.status(),
                usage: response.usage.as_ref().map(Usage::from),
                response_id: response.id,
            },
            S::ResponseOutputItemDone {
                item:
                    Item::FunctionCall {
                        call_id,
                        name,
                        arguments,
                        ..
                    },
                ..
            } => EngineEvent::ToolCallRequested(ToolCall {
                call_id,
                name,
                arguments,
            }),
            S::ResponseOutputAudioDelta { item_id, delta, .. } => {
                let Ok(bytes) = STANDARD.decode(delta.as_bytes()) else {
                    return Err(AdapterError::BadAudio { item_id });
                };
                let audio = match self.output {
                    AudioFormat::Mulaw8k => AgentAudio::Mulaw(bytes),
                    AudioFormat::Pcm24k => AgentAudio::Pcm24k(
                        bytes
                            .chunks_exact(2)
                            .map(|b| i16::from_le_bytes([b[0], b[1]]))
                            .collect(),
                    ),
                };
                EngineEvent::AgentAudio { item_id, audio }
            }
            S::ResponseOutputAudioDone { item_id, .. } => EngineEvent::AgentAudioDone { item_id },
            S::ResponseOutputAudioTranscriptDelta { item_id, delta, .. } => {
                EngineEvent::AgentTranscriptDelta {
                    item_id,
                    text: delta,
                }
            }
            S::ResponseOutputAudioTranscriptDone {
                item_id,
                transcript,
                ..
            } => EngineEvent::AgentTranscriptFinal {
                item_id,
                text: transcript,
            },
            S::ConversationItemTruncated {
                item_id,
                audio_end_ms,
                ..
            } => EngineEvent::ItemTruncated {
                item_id,
                audio_end_ms,
            },
            S::Error { error } => EngineEvent::Error(EngineError {
                code: error.code,
                message: error.message,
            }),
            S::SessionCreated { .. }
            | S::SessionUpdated { .. }
            | S::InputAudioBufferCommitted { .. }
            | S::ConversationItemAdded { .. }
            | S::ConversationItemDone { .. }
            | S::ResponseOutputItemAdded { .. }
            | S::ResponseOutputItemDone { .. }
            | S::ResponseFunctionCallArgumentsDelta { .. }
            | S::ResponseFunctionCallArgumentsDone { .. }
            | S::RateLimitsUpdated { .. }
            | S::Unknown => return Ok(None),
        };
        Ok(Some(event))
    }

    /// Translates one command into the client events that carry it, appended to `out`.
    pub fn client_events(
        &mut self,
        command: EngineCommand,
        out: &mut Vec<RealtimeClientEvent<'static>>,
    ) {
        use RealtimeClientEvent as C;
        match command {
            EngineCommand::Configure(session) => {
                self.output = session.audio;
                out.push(C::SessionUpdate {
                    session: Box::new(session_update(&session)),
                });
            }
            EngineCommand::AppendAudio(CallerAudio::MulawBase64(audio)) => {
                out.push(C::InputAudioBufferAppend {
                    audio: Cow::Owned(audio),
                });
            }
            EngineCommand::AppendAudio(CallerAudio::Pcm24k(samples)) => {
                let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
                out.push(C::InputAudioBufferAppend {
                    audio: Cow::Owned(STANDARD.encode(bytes)),
                });
            }
            EngineCommand::CreateResponse { instructions } => out.push(C::ResponseCreate {
                response: instructions.map(|instructions| ResponseParams {
                    instructions: Some(instructions),
                }),
            }),
            EngineCommand::CancelResponse => out.push(C::ResponseCancel { response_id: None }),
            EngineCommand::TruncateItem {
                item_id,
                audio_end_ms,
            } => {
                out.push(C::ConversationItemTruncate {
                    item_id,
                    content_index: 0,
                    audio_end_ms,
                });
            }
            EngineCommand::SendToolResult { call_id, output } => {
                out.push(C::ConversationItemCreate {
                    previous_item_id: None,
                    item: ConversationItem::FunctionCallOutput { call_id, output },
                })
            }
            EngineCommand::RestoreConversation { session, history } => {
                self.output = session.audio;
                out.push(C::SessionUpdate {
                    session: Box::new(session_update(&session)),
                });
                out.extend(history.into_iter().map(|turn| C::ConversationItemCreate {
                    previous_item_id: None,
                    item: match turn {
                        HistoryTurn::Caller(text) => ConversationItem::user_text(text),
                        HistoryTurn::Agent(text) => ConversationItem::assistant_text(text),
                    },
                }));
            }
        }
    }
}

/// The GA `session` object for an engine-neutral session set-up.
///
/// Turn detection always creates responses and interrupts them on caller speech: the call session
/// relies on the engine answering each turn, and handles the Twilio side of barge-in itself.
pub fn session_update(session: &EngineSession) -> RealtimeSession {
    let format = match session.audio {
        AudioFormat::Mulaw8k => RealtimeAudioFormat::Pcmu,
        AudioFormat::Pcm24k => RealtimeAudioFormat::Pcm { rate: 24_000 },
    };
    let turn_detection = match session.turn_detection {
        TurnDetection::ServerVad {
            threshold,
            prefix_padding_ms,
            silence_duration_ms,
        } => RealtimeTurnDetection::ServerVad {
            threshold: Some(threshold),
            prefix_padding_ms: Some(prefix_padding_ms),
            silence_duration_ms: Some(silence_duration_ms),
            create_response: Some(true),
            interrupt_response: Some(true),
        },
        TurnDetection::SemanticVad { eagerness } => RealtimeTurnDetection::SemanticVad {
            eagerness: Some(eagerness),
            create_response: Some(true),
            interrupt_response: Some(true),
        },
    };
    let tools: Vec<FunctionTool> = session
        .tools
        .iter()
        .map(|tool| FunctionTool {
            kind: FunctionKind::Function,
            name: tool.name.clone(),
            description: tool.description.clone(),
            parameters: tool.parameters.clone(),
        })
        .collect();
    RealtimeSession {
        kind: SessionKind::Realtime,
        model: None,
        output_modalities: Some(vec![Modality::Audio]),
        instructions: Some(session.instructions.clone()),
        audio: Some(AudioConfig {
            input: Some(AudioInput {
                format: Some(format),
                transcription: session.transcription.as_ref().map(|t| InputTranscription {
                    model: t.model.clone(),
                    language: t.language.clone(),
                    prompt: t.prompt.clone(),
                }),
                turn_detection: Some(turn_detection),
            }),
            output: Some(AudioOutput {
                format: Some(format),
                voice: session.voice.clone(),
            }),
        }),
        tool_choice: (!tools.is_empty()).then_some(ToolChoice::Mode(ToolChoiceMode::Auto)),
        tools: Some(tools),
    }
}

#[cfg(test)]
mod tests;
