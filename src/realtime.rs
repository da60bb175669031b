//! The OpenAI Realtime API, GA shape (`gpt-realtime`), as types: the client events we send, the
//! server events we read, the session object, and the adapter to the engine-neutral vocabulary.
//!
//! This is the only place Realtime JSON is spelled out. Everything here is pure: frames in, frames
//! out; no sockets, no tokio, no clock. The WebSocket that carries these frames belongs to the
//! engine layer ([`crate::engines`]).
//!
//! - [`client_event`] — [`RealtimeClientEvent`], with a copy-only fast path for `input_audio_buffer.append`.
//! - [`server_event`] — [`RealtimeServerEvent`], borrowing audio deltas, unknown types kept as a catch-all.
//! - [`session`]      — the `session` object of `session.update` (formats, VAD, transcription, tools).
//! - [`adapter`]      — [`RealtimeAdapter`]: Realtime events ⇄ [`crate::engines::EngineEvent`]/`EngineCommand`.
//!
//! # Why our own types and not `async-openai`'s
//!
//! `async-openai` 0.43 (feature `realtime`) has GA-shaped realtime types, but they do not fit this
//! core: its server event enum has no catch-all variant, so any event type it does not know (the
//! GA protocol keeps adding them, e.g. `input_audio_buffer.timeout_triggered`) fails to decode;
//! most fields are required (`event_id`, `response_id`, …), so a slightly different frame fails
//! too; audio deltas and appends are owned `String`s, so every 20 ms frame costs a copy; and the
//! `realtime` feature pulls `tokio-tungstenite` (and the crate `reqwest`) into what must stay a pure,
//! runtime-free module. Our types model only the fields we read, borrow the audio, decode unknown
//! types to [`RealtimeServerEvent::Unknown`], and cost two small files.

pub mod adapter;
pub mod client_event;
pub mod server_event;
pub mod session;

pub use adapter::{AdapterError, RealtimeAdapter};
pub use client_event::{RealtimeClientEvent, write_input_audio_append};
pub use server_event::{DecodeError, RealtimeServerEvent};
pub use session::RealtimeSession;
