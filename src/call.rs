//! One phone call, as a sans-I/O state machine: [`CallSession`] takes [`CallInput`]s (Twilio
//! messages, engine events, tool results, ticks) with the current [`CallTime`] and returns
//! [`CallAction`]s (send to Twilio or the engine, persist a line, publish, run a tool, hang up,
//! transfer, finish). No tokio, no clock, no I/O: the bridge driver performs the actions.
//!
//! - [`session`]    — [`CallSession`] and its invariant (engine events, tools and timers in `session/`).
//! - [`input`]      — [`CallInput`].
//! - [`action`]     — [`CallAction`], [`LiveEvent`], [`Diagnostic`].
//! - [`config`]     — [`SessionConfig`] and the built-in tools.
//! - `convert`      — μ-law 8 kHz ⇄ PCM16 24 kHz at the edge, when passthrough is off (crate-private).
//! - `playback`     — 20 ms framing, Twilio marks and the heard clock (crate-private).
//! - [`transcript`] — [`TranscriptLine`] and heard-text trimming.
//! - [`outcome`]    — [`CallOutcome`], [`EndReason`], [`CallRecord`].
//! - [`time`]       — [`CallTime`].

pub mod action;
pub mod config;
mod convert;
pub mod input;
pub mod outcome;
pub(crate) mod playback;
pub mod session;
pub mod time;
pub mod transcript;

#[cfg(test)]
mod tests;

pub use action::{CallAction, Diagnostic, LiveEvent};
pub use config::{Greeting, SessionConfig, SilencePolicy, ToolsConfig, TransferTarget};
pub use input::{CallInput, InputSource};
pub use outcome::{CallOutcome, CallRecord, EndReason};
pub use session::CallSession;
pub use time::CallTime;
pub use transcript::{Role, TranscriptLine};
