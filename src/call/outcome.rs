//! How a call ended, with its counts and durations: [`CallOutcome`], and the [`CallRecord`] handed
//! over in [`super::CallAction::Finish`]. Pure data, no I/O.

use serde::Serialize;

use super::transcript::TranscriptLine;
use crate::engines::Usage;

/// Why a call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndReason {
    /// The agent called `end_call`.
    AgentHangUp,
    /// The caller hung up (Twilio `stop` or the socket closed).
    CallerHangUp,
    /// The caller was transferred.
    Transferred {
        /// Where to.
        to: String,
    },
    /// The configured maximum duration was reached.
    MaxDuration,
    /// Nobody spoke through every re-prompt.
    Silence,
    /// The engine could not be reconnected.
    EngineFailed,
    /// The server shut down.
    Shutdown,
}

/// The structured outcome of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallOutcome {
    /// How it ended.
    pub reason: EndReason,
    /// From the Twilio `start` to the end, in ms (0 if the stream never started).
    pub duration_ms: u64,
    /// Caller turns transcribed.
    pub caller_turns: u32,
    /// Agent turns the caller heard (fully or partly).
    pub agent_turns: u32,
    /// Times the caller barged in.
    pub interruptions: u32,
    /// Tool calls requested by the model (built-ins included).
    pub tool_calls: u32,
    /// Silence re-prompts said.
    pub reprompts: u32,
    /// Engine reconnections.
    pub engine_reconnects: u32,
    /// Agent audio the caller heard, in ms (from Twilio marks).
    pub agent_heard_ms: u64,
    /// Tokens over all responses.
    pub usage: Usage,
}

/// Everything the session knows at the end of a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallRecord {
    /// Transcript lines, ordered by start offset.
    pub transcript: Vec<TranscriptLine>,
    /// The outcome.
    pub outcome: CallOutcome,
}
