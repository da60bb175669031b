//! The objects nested in server events (errors, sessions, responses with usage, items, rate
//! limits), reduced to the fields Switchboard reads. Pure data, no I/O.

use serde::{Deserialize, Serialize};

use crate::engines::{ResponseStatus, Usage};

/// The error object of `error` and `…transcription.failed` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ApiError {
    /// Error class, e.g. `invalid_request_error`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Machine-readable code.
    #[serde(default)]
    pub code: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
    /// The offending parameter.
    #[serde(default)]
    pub param: Option<String>,
    /// The client event that caused it.
    #[serde(default)]
    pub event_id: Option<String>,
}

/// The part of a session object we read back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SessionInfo {
    /// Session id.
    #[serde(default)]
    pub id: Option<String>,
    /// Model name.
    #[serde(default)]
    pub model: Option<String>,
}

/// The part of a response object we read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResponseInfo {
    /// Response id.
    #[serde(default)]
    pub id: String,
    /// `in_progress`, `completed`, `cancelled`, `incomplete` or `failed`.
    #[serde(default)]
    pub status: Option<String>,
    /// Token usage (on `response.done`).
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

impl ResponseInfo {
    /// The status as the engine-neutral enum.
    pub fn status(&self) -> ResponseStatus {
        match self.status.as_deref() {
            Some("completed") => ResponseStatus::Completed,
            Some("cancelled") => ResponseStatus::Cancelled,
            Some("incomplete") => ResponseStatus::Incomplete,
            Some("failed") => ResponseStatus::Failed,
            _ => ResponseStatus::Other,
        }
    }
}

/// `response.usage` as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct WireUsage {
    /// All tokens.
    #[serde(default)]
    pub total_tokens: u64,
    /// Input tokens.
    #[serde(default)]
    pub input_tokens: u64,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: u64,
    /// Input breakdown.
    #[serde(default)]
    pub input_token_details: Option<InputTokenDetails>,
    /// Output breakdown.
    #[serde(default)]
    pub output_token_details: Option<OutputTokenDetails>,
}

/// `usage.input_token_details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct InputTokenDetails {
    /// Text tokens.
    #[serde(default)]
    pub text_tokens: u64,
    /// Audio tokens.
    #[serde(default)]
    pub audio_tokens: u64,
    /// Cached tokens (a subset of the input tokens).
    #[serde(default)]
    pub cached_tokens: u64,
}

/// `usage.output_token_details`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OutputTokenDetails {
    /// Text tokens.
    #[serde(default)]
    pub text_tokens: u64,
    /// Audio tokens.
    #[serde(default)]
    pub audio_tokens: u64,
}

impl From<&WireUsage> for Usage {
    fn from(u: &WireUsage) -> Self {
        let input = u.input_token_details.clone().unwrap_or_default();
        let output = u.output_token_details.clone().unwrap_or_default();
        Usage {
            total_tokens: u.total_tokens,
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            input_text_tokens: input.text_tokens,
            input_audio_tokens: input.audio_tokens,
            input_cached_tokens: input.cached_tokens,
            output_text_tokens: output.text_tokens,
            output_audio_tokens: output.audio_tokens,
        }
    }
}

/// A conversation item as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Item {
    /// A message.
    #[serde(rename = "message")]
    Message {
        /// Item id.
        #[serde(default)]
        id: String,
        /// `user`, `assistant` or `system`.
        #[serde(default)]
        role: String,
        /// `in_progress`, `completed` or `incomplete`.
        #[serde(default)]
        status: Option<String>,
    },
    /// A function call by the model.
    #[serde(rename = "function_call")]
    FunctionCall {
        /// Item id.
        #[serde(default)]
        id: String,
        /// Id to answer with.
        call_id: String,
        /// Function name.
        name: String,
        /// Arguments JSON string.
        #[serde(default)]
        arguments: String,
        /// Item status.
        #[serde(default)]
        status: Option<String>,
    },
    /// A function call's output.
    #[serde(rename = "function_call_output")]
    FunctionCallOutput {
        /// Item id.
        #[serde(default)]
        id: String,
        /// The call answered.
        #[serde(default)]
        call_id: String,
    },
    /// Any other item type (MCP calls, …).
    #[serde(other)]
    Other,
}

/// One entry of `rate_limits.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RateLimit {
    /// `requests` or `tokens`.
    #[serde(default)]
    pub name: String,
    /// The limit.
    #[serde(default)]
    pub limit: u64,
    /// What is left.
    #[serde(default)]
    pub remaining: u64,
    /// Seconds until reset.
    #[serde(default)]
    pub reset_seconds: f64,
}
