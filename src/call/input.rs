//! [`CallInput`]: everything that can happen to a call, as the driver hands it to the session.
//! Pure data, no I/O.

use crate::engines::EngineEvent;
use crate::twilio::TwilioInbound;

/// One thing that happened to a call.
///
/// The lifetime lets a Twilio `media` frame borrow its payload from the socket's text frame.
#[derive(Debug, Clone, PartialEq)]
pub enum CallInput<'a> {
    /// A decoded Media Streams message.
    Twilio(TwilioInbound<'a>),
    /// A frame from either socket that could not be decoded; logged and ignored.
    Malformed {
        /// Which socket it came from.
        source: InputSource,
        /// The decoder's message.
        error: String,
    },
    /// A neutral event from the voice engine.
    Engine(EngineEvent),
    /// A tool run by the driver (or the knowledge base) finished.
    ToolResult {
        /// The id from [`super::CallAction::RunTool`].
        call_id: String,
        /// The tool's output, usually JSON; errors are outputs too.
        output: String,
    },
    /// The engine connection dropped (or a reconnect attempt failed).
    EngineLost {
        /// What the driver saw.
        reason: String,
    },
    /// A new engine connection is up, after [`super::CallAction::ReconnectEngine`].
    EngineReconnected,
    /// A deadline from [`super::CallSession::next_deadline`] passed (or any wake-up).
    Tick,
    /// The Twilio socket closed without a `stop`.
    CallerHungUp,
    /// The server is shutting down; end the call now.
    Shutdown,
}

/// Where a malformed frame came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputSource {
    /// The Twilio Media Streams socket.
    Twilio,
    /// The engine socket.
    Engine,
}

impl CallInput<'_> {
    /// A short name for logs ("twilio.media", "engine", "tick", …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Twilio(TwilioInbound::Connected(_)) => "twilio.connected",
            Self::Twilio(TwilioInbound::Start(_)) => "twilio.start",
            Self::Twilio(TwilioInbound::Media(_)) => "twilio.media",
            Self::Twilio(TwilioInbound::Mark(_)) => "twilio.mark",
            Self::Twilio(TwilioInbound::Dtmf(_)) => "twilio.dtmf",
            Self::Twilio(TwilioInbound::Stop(_)) => "twilio.stop",
            Self::Twilio(TwilioInbound::Unknown(_)) => "twilio.unknown",
            Self::Malformed { .. } => "malformed",
            Self::Engine(_) => "engine",
            Self::ToolResult { .. } => "tool_result",
            Self::EngineLost { .. } => "engine_lost",
            Self::EngineReconnected => "engine_reconnected",
            Self::Tick => "tick",
            Self::CallerHungUp => "caller_hung_up",
            Self::Shutdown => "shutdown",
        }
    }
}
