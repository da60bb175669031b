//! Twilio's wire dialects, as types: Media Streams WebSocket messages, the TwiML we answer calls
//! with, and the `X-Twilio-Signature` webhook check.
//!
//! This is the only place Twilio JSON or XML is spelled out; the rest of the crate sees
//! [`TwilioInbound`], [`TwilioOutbound`] and [`twiml::Response`]. Everything here is pure: no
//! I/O, no tokio, no clock. Sockets and HTTP live in `server/` and the bridge, which hand us
//! strings.
//!
//! - [`media`]     — Media Streams messages both ways: borrowing decode, buffer-reusing encode.
//! - [`twiml`]     — a typed TwiML builder that always emits well-formed, escaped XML.
//! - [`signature`] — compute and verify `X-Twilio-Signature`, and rebuild the URL Twilio signed.
//! - [`stream_token`] — short-lived HMAC tokens in the Media Streams URL path.
//! - [`paths`]     — the webhook paths Twilio is pointed at.

pub mod media;
pub mod paths;
pub mod signature;
pub mod stream_token;
pub mod twiml;

pub use media::{DecodeError, TwilioInbound, TwilioOutbound};
