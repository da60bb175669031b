//! Calls in progress as the live page shows them, and the call events of `GET /events/calls`
//! as the browser reads them.

use serde::{Deserialize, Serialize};

/// A call in progress with its transcript so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCallView {
    /// The call's id.
    pub id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The caller's number.
    pub from: String,
    /// The number called.
    pub to: String,
    /// The agent's name, when known.
    pub agent_name: Option<String>,
    /// When it was answered (RFC 3339).
    pub started_at: String,
    /// The same instant in ms since the Unix epoch, for the running clock.
    pub started_at_ms: i64,
    /// Its lines so far, by `seq`.
    pub lines: Vec<LiveLineView>,
}

/// One transcript line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveLineView {
    /// Position in the call (unique per call).
    pub seq: i32,
    /// `caller`, `agent`, `tool` or `system`.
    pub role: String,
    /// What was said.
    pub text: String,
    /// When the line started, ms from the call's start.
    pub start_ms: i32,
    /// The caller cut the agent off.
    pub interrupted: bool,
}

/// A call event from `/events/calls`: the SSE event's `data`, tagged by `type` as the server's
/// live bus serializes it (`switchboard::live::LiveEvent`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CallEvent {
    /// A call's media stream started.
    CallStarted {
        /// The call.
        call_id: String,
        /// Its agent.
        agent_id: Option<String>,
        /// `inbound` or `outbound`.
        direction: String,
        /// The caller's number.
        from: String,
        /// The number called.
        to: String,
    },
    /// A transcript line was stored.
    CallLine {
        /// The call.
        call_id: String,
        /// The line's position in the call.
        seq: i32,
        /// `caller`, `agent`, `tool` or `system`.
        role: String,
        /// What was said.
        text: String,
        /// When the line started, ms from the call's start.
        start_ms: i32,
        /// When it ended.
        end_ms: i32,
        /// The caller cut the agent off.
        interrupted: bool,
    },
    /// A call ended.
    CallEnded {
        /// The call.
        call_id: String,
        /// Why (`caller_hang_up`, `agent_hang_up`, `transferred`, …).
        reason: String,
        /// How long it lasted.
        duration_secs: i32,
    },
}

/// Why a call ended, for people.
pub fn ended_reason_label(reason: &str) -> &'static str {
    match reason {
        "agent_hang_up" => "The agent ended the call",
        "caller_hang_up" => "The caller hung up",
        "transferred" => "Transferred to a person",
        "max_duration" => "Reached the maximum duration",
        "silence" => "Nobody spoke",
        "engine_failed" => "The voice engine failed",
        "shutdown" => "The server shut down",
        _ => "Call ended",
    }
}
