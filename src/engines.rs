//! The neutral vocabulary every voice engine speaks to a call.
//!
//! A call talks to its engine (OpenAI Realtime today, a cascaded STT → LLM → TTS chain later)
//! only through these types: [`EngineEvent`]s come out of an engine, [`EngineCommand`]s go in.
//! Wire dialects stay in their own modules; [`crate::realtime::adapter`] maps the Realtime GA
//! protocol to and from this set. The types here do no I/O; the [`Engine`] trait is what the
//! bridge drives, and engines that own sockets (`openai_realtime`) only translate, never decide
//! (deciding is [`crate::call`]'s job).

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

pub mod openai_realtime;

/// An open engine connection, as the bridge driver uses it (one owner, one call).
pub trait Engine: Send {
    /// Sends one command (it may become several wire messages).
    fn send(&mut self, command: EngineCommand) -> BoxFuture<'_, Result<(), EngineIoError>>;
    /// The next event for the call; cancel-safe, so it can sit in a `select!` branch.
    fn next_event(&mut self) -> BoxFuture<'_, EngineRead>;
    /// Closes the connection (idempotent, best effort).
    fn close(&mut self) -> BoxFuture<'_, ()>;
}

/// Opens engine connections: once per call, and again after a loss.
pub trait EngineConnector: Send + Sync + 'static {
    /// The connection type.
    type Engine: Engine + 'static;
    /// Opens a fresh connection.
    fn connect(&self) -> BoxFuture<'static, Result<Self::Engine, EngineIoError>>;
}

/// What reading from an engine connection gave.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineRead {
    /// An event for the call.
    Event(EngineEvent),
    /// A frame that could not be decoded (logged and ignored by the call).
    Malformed(String),
    /// The connection is gone, with the reason.
    Closed(String),
}

/// An engine connection failed to open or to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EngineIoError(pub String);

/// Something an engine tells the call.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The engine's voice activity detector heard the caller start speaking.
    CallerSpeechStarted {
        /// The engine's id of the caller item this speech will become.
        item_id: String,
        /// Position in the engine's input audio stream, in ms since the engine session began.
        audio_start_ms: u64,
    },
    /// The caller stopped speaking (end of a turn as the engine sees it).
    CallerSpeechStopped {
        /// The engine's id of the caller item.
        item_id: String,
        /// Position in the engine's input audio stream, in ms since the engine session began.
        audio_end_ms: u64,
    },
    /// A partial transcription of the caller's speech.
    CallerTranscriptDelta {
        /// The caller item being transcribed.
        item_id: String,
        /// The new text, to append to earlier deltas.
        text: String,
    },
    /// The full transcription of one caller turn.
    CallerTranscriptFinal {
        /// The caller item that was transcribed.
        item_id: String,
        /// The whole transcript of the turn.
        text: String,
    },
    /// Transcription of a caller turn failed; the turn itself may still be answered.
    CallerTranscriptFailed {
        /// The caller item that could not be transcribed.
        item_id: String,
        /// What the engine said went wrong.
        message: String,
    },
    /// The engine began generating a response.
    ResponseStarted {
        /// The engine's id of the response.
        response_id: String,
    },
    /// A chunk of agent speech, already decoded from the wire.
    AgentAudio {
        /// The agent item this audio belongs to.
        item_id: String,
        /// The samples.
        audio: AgentAudio,
    },
    /// The engine finished generating audio for an agent item (also sent when cut short).
    AgentAudioDone {
        /// The agent item.
        item_id: String,
    },
    /// A partial transcript of agent speech.
    AgentTranscriptDelta {
        /// The agent item.
        item_id: String,
        /// The new text, to append to earlier deltas.
        text: String,
    },
    /// The complete transcript of what the engine generated for an agent item.
    AgentTranscriptFinal {
        /// The agent item.
        item_id: String,
        /// The whole generated text (not necessarily what the caller heard).
        text: String,
    },
    /// The model wants a tool run.
    ToolCallRequested(ToolCall),
    /// A response finished, was cancelled, or failed.
    ResponseDone {
        /// The engine's id of the response.
        response_id: String,
        /// How it ended.
        status: ResponseStatus,
        /// Tokens billed for it, when the engine reports them.
        usage: Option<Usage>,
    },
    /// The engine acknowledged a [`EngineCommand::TruncateItem`].
    ItemTruncated {
        /// The truncated agent item.
        item_id: String,
        /// Where the engine now ends the item's audio.
        audio_end_ms: u64,
    },
    /// The engine reported an error; the engine connection itself is still up.
    Error(EngineError),
}

/// Agent audio as the engine produced it.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentAudio {
    /// G.711 μ-law bytes at 8 kHz, ready for Twilio once cut into frames.
    Mulaw(Vec<u8>),
    /// 16-bit PCM samples at 24 kHz, mono.
    Pcm24k(Vec<i16>),
}

impl AgentAudio {
    /// Duration of the chunk in microseconds (rounded down for PCM).
    pub fn duration_us(&self) -> u64 {
        match self {
            // 8 samples per ms → 125 µs per byte.
            Self::Mulaw(bytes) => bytes.len() as u64 * 125,
            // 24 samples per ms.
            Self::Pcm24k(samples) => samples.len() as u64 * 1000 / 24,
        }
    }
}

/// Caller audio on its way to an engine.
#[derive(Debug, Clone, PartialEq)]
pub enum CallerAudio {
    /// The base64 μ-law payload exactly as Twilio sent it (passthrough: never decoded).
    MulawBase64(String),
    /// 16-bit PCM samples at 24 kHz, mono.
    Pcm24k(Vec<i16>),
}

/// Something the call asks its engine to do.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineCommand {
    /// Set up (or change) the engine session: prompt, voice, audio formats, tools, turn detection.
    Configure(EngineSession),
    /// Feed caller audio into the engine's input buffer.
    AppendAudio(CallerAudio),
    /// Ask the model to respond now, optionally with instructions for this response only.
    CreateResponse {
        /// Per-response instructions (a greeting, a filler or a goodbye line).
        instructions: Option<String>,
    },
    /// Stop the response in progress.
    CancelResponse,
    /// Cut an agent item's audio (and its transcript in the model's context) at `audio_end_ms`.
    TruncateItem {
        /// The agent item.
        item_id: String,
        /// How much of the item the caller heard; never more than was generated, never zero.
        audio_end_ms: u64,
    },
    /// Hand a tool's output back to the model (a response is requested separately).
    SendToolResult {
        /// The id of the call being answered.
        call_id: String,
        /// The tool's output, usually JSON.
        output: String,
    },
    /// Start over in a fresh engine session: configure it, then replay the heard conversation.
    RestoreConversation {
        /// The session set-up, including the agent's instructions.
        session: EngineSession,
        /// What was said so far, oldest first, as the caller heard it.
        history: Vec<HistoryTurn>,
    },
}

/// Engine-neutral session set-up.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSession {
    /// The agent's system prompt.
    pub instructions: String,
    /// The voice name, if the agent chose one.
    pub voice: Option<String>,
    /// Audio format in both directions.
    pub audio: AudioFormat,
    /// Transcribe the caller's speech with this model, if set.
    pub transcription: Option<Transcription>,
    /// How the engine decides that the caller finished a turn.
    pub turn_detection: TurnDetection,
    /// Tools the model may call.
    pub tools: Vec<ToolSpec>,
}

/// Audio format on the engine link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AudioFormat {
    /// G.711 μ-law at 8 kHz: Twilio's own format, passed through untouched.
    #[default]
    Mulaw8k,
    /// 16-bit PCM at 24 kHz, converted at the edge with the codec and resampler.
    Pcm24k,
}

/// Caller speech transcription settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcription {
    /// Transcription model name, e.g. `gpt-4o-transcribe`.
    pub model: String,
    /// ISO-639-1 language hint.
    pub language: Option<String>,
    /// Vocabulary or style hint for the transcriber.
    pub prompt: Option<String>,
}

/// Turn detection settings.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnDetection {
    /// Energy-based detection.
    ServerVad {
        /// Activation threshold, 0.0 to 1.0.
        threshold: f32,
        /// Audio kept before detected speech, in ms.
        prefix_padding_ms: u32,
        /// Silence that ends a turn, in ms.
        silence_duration_ms: u32,
    },
    /// Model-based end-of-turn detection.
    SemanticVad {
        /// How quickly the model may take the turn.
        eagerness: Eagerness,
    },
}

impl Default for TurnDetection {
    fn default() -> Self {
        Self::ServerVad {
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
        }
    }
}

/// Semantic VAD eagerness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Eagerness {
    /// Wait longer for the caller to go on.
    Low,
    /// Middle ground.
    Medium,
    /// Take the turn quickly.
    High,
    /// Let the engine choose (equivalent to medium).
    #[default]
    Auto,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// Function name.
    pub name: String,
    /// When and how to use it, for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// A tool invocation requested by the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// Id to answer with.
    pub call_id: String,
    /// Function name.
    pub name: String,
    /// Arguments as a JSON string, exactly as the model produced them (may be invalid JSON).
    pub arguments: String,
}

/// One turn of conversation history, as replayed into a new engine session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryTurn {
    /// Something the caller said.
    Caller(String),
    /// Something the agent said (and the caller heard).
    Agent(String),
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    /// Finished normally.
    Completed,
    /// Cancelled (by us or by the engine's own barge-in handling).
    Cancelled,
    /// Stopped early, e.g. at the output-token limit.
    Incomplete,
    /// Failed on the engine's side.
    Failed,
    /// A status this build does not know.
    Other,
}

/// Tokens billed for a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// All tokens.
    pub total_tokens: u64,
    /// Input tokens (text + audio, cached included).
    pub input_tokens: u64,
    /// Output tokens (text + audio).
    pub output_tokens: u64,
    /// Input text tokens.
    pub input_text_tokens: u64,
    /// Input audio tokens.
    pub input_audio_tokens: u64,
    /// Input tokens served from the cache.
    pub input_cached_tokens: u64,
    /// Output text tokens.
    pub output_text_tokens: u64,
    /// Output audio tokens.
    pub output_audio_tokens: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Self) {
        self.total_tokens += o.total_tokens;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.input_text_tokens += o.input_text_tokens;
        self.input_audio_tokens += o.input_audio_tokens;
        self.input_cached_tokens += o.input_cached_tokens;
        self.output_text_tokens += o.output_text_tokens;
        self.output_audio_tokens += o.output_audio_tokens;
    }
}

/// An error the engine reported without dropping the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineError {
    /// Machine-readable code, when the engine gives one.
    pub code: Option<String>,
    /// Human-readable message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_audio_duration_is_exact_for_both_formats() {
        assert_eq!(AgentAudio::Mulaw(vec![0xFF; 160]).duration_us(), 20_000);
        assert_eq!(AgentAudio::Pcm24k(vec![0; 480]).duration_us(), 20_000);
    }

    #[test]
    fn usage_adds_field_by_field() {
        let mut total = Usage {
            total_tokens: 3,
            input_audio_tokens: 1,
            ..Usage::default()
        };
        total += Usage {
            total_tokens: 4,
            output_audio_tokens: 2,
            ..Usage::default()
        };
        assert_eq!(total.total_tokens, 7);
        assert_eq!(total.input_audio_tokens, 1);
        assert_eq!(total.output_audio_tokens, 2);
    }
}
