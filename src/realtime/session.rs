//! The Realtime GA session object: what `session.update` sends and `session.created|updated`
//! echo back. Only the fields Switchboard sets are modelled; unknown fields are ignored on decode.
//! Pure data, no I/O.

use serde::{Deserialize, Serialize};

/// The `session` object of a `session.update` (GA shape: `type: "realtime"` is required).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RealtimeSession {
    /// Always `"realtime"` (transcription-only sessions are not used).
    #[serde(rename = "type")]
    pub kind: SessionKind,
    /// Model name, e.g. `gpt-realtime`; usually chosen in the connect URL instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// `["audio"]` for a phone call (audio output always carries a transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_modalities: Option<Vec<Modality>>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Audio formats, transcription, turn detection and voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioConfig>,
    /// Function tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<FunctionTool>>,
    /// How the model chooses tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
}

/// The session type tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SessionKind {
    /// A speech-to-speech session.
    #[default]
    #[serde(rename = "realtime")]
    Realtime,
    /// A transcription-only session (decoded for completeness, never sent by us).
    #[serde(rename = "transcription")]
    Transcription,
}

/// An output modality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    /// Spoken output (with a transcript).
    Audio,
    /// Text output only.
    Text,
}

/// `session.audio`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AudioConfig {
    /// Caller side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<AudioInput>,
    /// Agent side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<AudioOutput>,
}

/// `session.audio.input`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AudioInput {
    /// Format of the audio we append.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RealtimeAudioFormat>,
    /// Caller transcription model; transcription events only flow when this is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcription: Option<InputTranscription>,
    /// End-of-turn detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_detection: Option<RealtimeTurnDetection>,
}

/// `session.audio.output`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct AudioOutput {
    /// Format of the audio the model sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RealtimeAudioFormat>,
    /// Voice name (alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
}

/// A GA audio format object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RealtimeAudioFormat {
    /// 16-bit PCM; the only rate the API accepts is 24 000 Hz.
    #[serde(rename = "audio/pcm")]
    Pcm {
        /// Sample rate in Hz.
        rate: u32,
    },
    /// G.711 μ-law at 8 kHz.
    #[serde(rename = "audio/pcmu")]
    Pcmu,
    /// G.711 A-law at 8 kHz.
    #[serde(rename = "audio/pcma")]
    Pcma,
}

/// `session.audio.input.transcription`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTranscription {
    /// `whisper-1`, `gpt-4o-transcribe`, `gpt-4o-mini-transcribe`, ….
    pub model: String,
    /// ISO-639-1 language hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Vocabulary or style hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
}

/// `session.audio.input.turn_detection`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RealtimeTurnDetection {
    /// Energy-based VAD.
    #[serde(rename = "server_vad")]
    ServerVad {
        /// Activation threshold, 0.0 to 1.0 (server default 0.5).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<f32>,
        /// Audio kept before detected speech, ms (server default 300).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix_padding_ms: Option<u32>,
        /// Silence that ends a turn, ms (server default 500).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        silence_duration_ms: Option<u32>,
        /// Respond automatically when a turn ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        create_response: Option<bool>,
        /// Cancel the response in progress when the caller starts speaking.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interrupt_response: Option<bool>,
    },
    /// Model-based end-of-turn detection.
    #[serde(rename = "semantic_vad")]
    SemanticVad {
        /// `low`, `medium`, `high` or `auto`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eagerness: Option<crate::engines::Eagerness>,
        /// Respond automatically when a turn ends.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        create_response: Option<bool>,
        /// Cancel the response in progress when the caller starts speaking.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        interrupt_response: Option<bool>,
    },
}

/// A function tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionTool {
    /// Always `"function"`.
    #[serde(rename = "type")]
    pub kind: FunctionKind,
    /// Function name.
    pub name: String,
    /// When and how to call it.
    #[serde(default)]
    pub description: String,
    /// JSON Schema of the arguments.
    #[serde(default)]
    pub parameters: serde_json::Value,
}

/// The `"function"` tag of a tool or tool choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum FunctionKind {
    /// A function.
    #[default]
    #[serde(rename = "function")]
    Function,
}

/// `tool_choice`: a mode string, or one forced function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolChoice {
    /// `"auto"`, `"none"` or `"required"`.
    Mode(ToolChoiceMode),
    /// `{"type":"function","name":…}`.
    Function {
        /// Always `"function"`.
        #[serde(rename = "type")]
        kind: FunctionKind,
        /// The function to call.
        name: String,
    },
}

/// The string forms of `tool_choice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolChoiceMode {
    /// The model decides.
    Auto,
    /// No tools.
    None,
    /// Some tool must be called.
    Required,
}
