//! The call bridge: one tokio task per call that drives a [`crate::call::CallSession`] between
//! the Twilio Media Streams socket and a voice engine (STYLE §4.5). It performs the session's
//! actions and decides nothing itself; storage, the live bus, tools and Twilio REST calls are
//! handed out as [`Effect`]s so this module has no database or HTTP code.

mod driver;
#[cfg(test)]
mod tests;

pub use driver::{BridgeEnd, CallBridge, ENGINE_CONNECT_TIMEOUT, Effect, ToolResult};
