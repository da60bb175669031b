//! Server events: what the OpenAI Realtime API (GA shape) sends that Switchboard uses.
//!
//! [`RealtimeServerEvent`] has one variant per event type, wire names in `#[serde(rename)]`; any
//! other type decodes to [`RealtimeServerEvent::Unknown`] instead of failing, so a new event from
//! the server never ends a call. Fields we do not read are skipped, fields we can live without are
//! `#[serde(default)]`. The base64 audio `delta` borrows from the frame text (no copy) when the
//! string has no JSON escapes. Decoding is pure: text in, value out.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

mod objects;

pub use objects::{
    ApiError, InputTokenDetails, Item, OutputTokenDetails, RateLimit, ResponseInfo, SessionInfo,
    WireUsage,
};

/// An event received on the Realtime WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RealtimeServerEvent<'a> {
    /// A client or server error; the session usually stays open.
    #[serde(rename = "error")]
    Error {
        /// Details.
        error: ApiError,
    },
    /// The session exists (first event after connecting).
    #[serde(rename = "session.created")]
    SessionCreated {
        /// The session as the server sees it.
        session: SessionInfo,
    },
    /// A `session.update` was applied.
    #[serde(rename = "session.updated")]
    SessionUpdated {
        /// The session as the server sees it.
        session: SessionInfo,
    },
    /// VAD heard the caller start speaking.
    #[serde(rename = "input_audio_buffer.speech_started")]
    InputAudioBufferSpeechStarted {
        /// Ms into the input audio where speech began (includes prefix padding).
        audio_start_ms: u64,
        /// The user item the speech will become.
        item_id: String,
    },
    /// VAD heard the caller stop speaking.
    #[serde(rename = "input_audio_buffer.speech_stopped")]
    InputAudioBufferSpeechStopped {
        /// Ms into the input audio where speech ended.
        audio_end_ms: u64,
        /// The user item.
        item_id: String,
    },
    /// The input buffer became a user item.
    #[serde(rename = "input_audio_buffer.committed")]
    InputAudioBufferCommitted {
        /// The new user item.
        item_id: String,
        /// The item before it.
        #[serde(default)]
        previous_item_id: Option<String>,
    },
    /// An item was added to the conversation.
    #[serde(rename = "conversation.item.added")]
    ConversationItemAdded {
        /// The item.
        item: Item,
        /// The item before it.
        #[serde(default)]
        previous_item_id: Option<String>,
    },
    /// An item is complete.
    #[serde(rename = "conversation.item.done")]
    ConversationItemDone {
        /// The item.
        item: Item,
        /// The item before it.
        #[serde(default)]
        previous_item_id: Option<String>,
    },
    /// Partial caller transcription.
    #[serde(rename = "conversation.item.input_audio_transcription.delta")]
    InputAudioTranscriptionDelta {
        /// The user item.
        item_id: String,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
        /// New text.
        delta: String,
    },
    /// Caller transcription of a whole turn.
    #[serde(rename = "conversation.item.input_audio_transcription.completed")]
    InputAudioTranscriptionCompleted {
        /// The user item.
        item_id: String,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
        /// The full transcript.
        transcript: String,
    },
    /// Caller transcription failed.
    #[serde(rename = "conversation.item.input_audio_transcription.failed")]
    InputAudioTranscriptionFailed {
        /// The user item.
        item_id: String,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
        /// Why.
        error: ApiError,
    },
    /// A response started.
    #[serde(rename = "response.created")]
    ResponseCreated {
        /// The response (status `in_progress`).
        response: ResponseInfo,
    },
    /// A response ended (completed, cancelled, incomplete or failed).
    #[serde(rename = "response.done")]
    ResponseDone {
        /// The response, with usage.
        response: ResponseInfo,
    },
    /// A response added an output item.
    #[serde(rename = "response.output_item.added")]
    ResponseOutputItemAdded {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// Index of the item in the response output.
        #[serde(default)]
        output_index: u32,
        /// The item.
        item: Item,
    },
    /// An output item is complete; for `function_call` items this carries the whole call.
    #[serde(rename = "response.output_item.done")]
    ResponseOutputItemDone {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// Index of the item in the response output.
        #[serde(default)]
        output_index: u32,
        /// The item.
        item: Item,
    },
    /// A chunk of agent audio.
    #[serde(rename = "response.output_audio.delta")]
    ResponseOutputAudioDelta {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// The assistant item.
        item_id: String,
        /// Index of the item in the response output.
        #[serde(default)]
        output_index: u32,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
        /// Base64 audio in the session's output format.
        #[serde(borrow)]
        delta: Cow<'a, str>,
    },
    /// Audio for an item is complete (also sent when cut short).
    #[serde(rename = "response.output_audio.done")]
    ResponseOutputAudioDone {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// The assistant item.
        item_id: String,
        /// Index of the item in the response output.
        #[serde(default)]
        output_index: u32,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
    },
    /// Partial transcript of agent audio.
    #[serde(rename = "response.output_audio_transcript.delta")]
    ResponseOutputAudioTranscriptDelta {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// The assistant item.
        item_id: String,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
        /// New text.
        delta: String,
    },
    /// Full transcript of an agent audio item.
    #[serde(rename = "response.output_audio_transcript.done")]
    ResponseOutputAudioTranscriptDone {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// The assistant item.
        item_id: String,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
        /// The whole transcript.
        transcript: String,
    },
    /// Partial function call arguments.
    #[serde(rename = "response.function_call_arguments.delta")]
    ResponseFunctionCallArgumentsDelta {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// The function call item.
        item_id: String,
        /// The call id.
        #[serde(default)]
        call_id: String,
        /// New argument text.
        delta: String,
    },
    /// Complete function call arguments.
    #[serde(rename = "response.function_call_arguments.done")]
    ResponseFunctionCallArgumentsDone {
        /// The response.
        #[serde(default)]
        response_id: String,
        /// The function call item.
        item_id: String,
        /// The call id.
        #[serde(default)]
        call_id: String,
        /// The function name (GA adds it here).
        #[serde(default)]
        name: Option<String>,
        /// The full arguments JSON string.
        arguments: String,
    },
    /// An assistant item was truncated (answer to `conversation.item.truncate`).
    #[serde(rename = "conversation.item.truncated")]
    ConversationItemTruncated {
        /// The assistant item.
        item_id: String,
        /// Content part index.
        #[serde(default)]
        content_index: u32,
        /// Where the audio now ends.
        audio_end_ms: u64,
    },
    /// Current rate limits.
    #[serde(rename = "rate_limits.updated")]
    RateLimitsUpdated {
        /// One entry per limit.
        #[serde(default)]
        rate_limits: Vec<RateLimit>,
    },
    /// Any event type this build does not model.
    #[serde(other)]
    Unknown,
}

/// Why a frame could not be decoded into a [`RealtimeServerEvent`].
#[derive(Debug, thiserror::Error)]
#[error("bad Realtime server event: {0}")]
pub struct DecodeError(#[from] serde_json::Error);

impl<'a> RealtimeServerEvent<'a> {
    /// Decodes one WebSocket text frame; unknown types give [`Self::Unknown`], malformed known
    /// ones an error. Never panics.
    pub fn decode(text: &'a str) -> Result<Self, DecodeError> {
        Ok(serde_json::from_str(text)?)
    }
}

/// The `type` of a server event frame, for logging frames that did not decode or are unknown.
pub fn peek_event_type(text: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<Probe>(text).ok().map(|p| p.kind)
}

#[cfg(test)]
mod tests;
