//! [`CallAction`]: what the session asks its driver to do, in order. Pure data, no I/O: the
//! driver performs the sends, writes and hang-ups.

use serde::Serialize;

use super::outcome::CallRecord;
use super::transcript::TranscriptLine;
use crate::engines::{EngineCommand, ToolCall};
use crate::twilio::TwilioOutbound;

/// One thing the driver must do. Perform them in the order they come out of
/// [`super::CallSession::handle`]: a Twilio `clear` must reach the socket before later media.
#[derive(Debug, Clone, PartialEq)]
pub enum CallAction {
    /// Send on the Twilio socket (media, mark or clear).
    Twilio(TwilioOutbound<'static>),
    /// Send to the voice engine.
    Engine(EngineCommand),
    /// Store a finished transcript line (and publish it to live listeners).
    PersistLine(TranscriptLine),
    /// Publish a live-only event (deltas, barge-ins, status).
    Publish(LiveEvent),
    /// Run a tool and answer with [`super::CallInput::ToolResult`] carrying the same call id.
    RunTool(ToolCall),
    /// A tool the session answered itself (`end_call`, `transfer_call`, an unknown name):
    /// record it like every tool run, with what it did.
    RecordTool {
        /// The model's call.
        call: ToolCall,
        /// What came of it.
        output: String,
    },
    /// End the phone call (Twilio REST `Status=completed`).
    HangUp,
    /// The engine is gone for good: have Twilio say `line` in its own voice, then hang up
    /// (Twilio REST: new TwiML with `<Say>` and `<Hangup>`), which ends the stream.
    SayAndHangUp {
        /// What the caller hears.
        line: String,
    },
    /// Transfer the caller (Twilio REST: new TwiML with `<Dial>`), which ends the stream.
    Transfer {
        /// E.164 number or SIP URI.
        to: String,
    },
    /// Open a new engine connection and answer with [`super::CallInput::EngineReconnected`]
    /// (or [`super::CallInput::EngineLost`] if that fails).
    ReconnectEngine,
    /// The call is over: the final transcript and outcome. Always the last action.
    Finish(Box<CallRecord>),
    /// Something worth a log line; the session itself never logs.
    Log(Diagnostic),
}

/// Events for live listeners (the dashboard's SSE stream) that are not transcript lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// The media stream started.
    CallStarted {
        /// Twilio call SID.
        call_sid: String,
    },
    /// Partial caller transcript.
    CallerTranscriptDelta {
        /// New text.
        text: String,
    },
    /// Partial agent transcript.
    AgentTranscriptDelta {
        /// New text.
        text: String,
    },
    /// The caller interrupted the agent.
    BargeIn {
        /// How much of the interrupted agent item the caller heard, in ms.
        heard_ms: u64,
    },
    /// The model called a tool.
    ToolCalled {
        /// Tool name.
        name: String,
    },
    /// The engine connection dropped; reconnecting.
    EngineLost,
    /// The engine connection is back.
    EngineRestored,
    /// The call is winding down (goodbye or transfer line playing).
    Ending {
        /// Why.
        reason: super::EndReason,
    },
}

/// A note for the log: the session never does I/O, so it hands these to the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diagnostic {
    /// An input that made no sense in the current state and was ignored.
    Ignored {
        /// [`super::CallInput::kind`] of the input.
        input: &'static str,
        /// Why it was ignored.
        reason: String,
    },
    /// The engine reported an error.
    EngineError {
        /// Its code, if any.
        code: Option<String>,
        /// Its message.
        message: String,
    },
    /// Anything else worth knowing.
    Note(String),
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ignored { input, reason } => write!(f, "ignored {input}: {reason}"),
            Self::EngineError { code, message } => {
                write!(
                    f,
                    "engine error {}: {message}",
                    code.as_deref().unwrap_or("-")
                )
            }
            Self::Note(note) => f.write_str(note),
        }
    }
}
