//! Media Streams WebSocket messages, both directions, as typed enums.
//!
//! [`TwilioInbound`] is what Twilio sends (`connected`, `start`, `media`, `mark`, `dtmf`, `stop`);
//! [`TwilioOutbound`] is what we send back on a bidirectional `<Connect><Stream>` (`media`, `mark`,
//! `clear`). Wire shapes follow twilio.com/docs/voice/media-streams/websocket-messages.
//!
//! Hot path: Twilio sends a `media` frame every 20 ms per call, and with OpenAI `audio/pcmu` its
//! base64 payload is forwarded unchanged. So [`TwilioInbound::parse`] borrows the payload and the
//! stream SID from the frame (no allocation, no base64 decode), and [`TwilioOutbound::write_json`]
//! writes into a caller-owned, reused `String`. Rare messages (`start`, `mark`, `stop`, …) own
//! their strings so the call session can keep them without lifetimes.
//!
//! Decoding never panics and never fails on an event name it does not know: that becomes
//! [`TwilioInbound::Unknown`], which the session logs and ignores. No I/O here.

mod decode;
mod encode;
mod outbound;
mod payload;
mod wire;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub use outbound::TwilioOutbound;

/// A message Twilio sends on a Media Streams WebSocket, decoded from one JSON text frame.
///
/// Serialize/`to_json` produce Twilio's own wire form (numbers as strings where Twilio uses
/// strings), which is what the Twilio fake sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TwilioInbound<'a> {
    /// `connected`: the first frame on the socket; names the protocol.
    Connected(Connected),
    /// `start`: stream metadata, sent once right after `connected`.
    Start(StreamStart),
    /// `media`: one chunk (normally 20 ms) of base64 μ-law from one track.
    Media(MediaChunk<'a>),
    /// `mark`: audio we queued before our mark of this name has played, or was dropped by `clear`.
    Mark(MarkEcho),
    /// `dtmf`: the caller pressed a key (bidirectional streams only).
    Dtmf(DtmfDigit),
    /// `stop`: the stream ended (caller hung up, or the call moved on to other TwiML).
    Stop(StreamStop),
    /// Any other `event`: kept so a new Twilio message type is logged and ignored, not fatal.
    Unknown(UnknownEvent),
}

/// The `connected` message: `{"event":"connected","protocol":"Call","version":"1.0.0"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Connected {
    /// `protocol`, `"Call"` today; empty if Twilio left it out.
    pub protocol: String,
    /// `version`, the protocol's semantic version; empty if Twilio left it out.
    pub version: String,
}

/// The `start` message: who the stream belongs to and what audio follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStart {
    /// `sequenceNumber` (1 for `start`); `None` if absent.
    pub sequence_number: Option<u64>,
    /// `start.streamSid` (else the top-level one): the id every outbound message names.
    pub stream_sid: String,
    /// `start.accountSid`, the Twilio account that owns the call.
    pub account_sid: String,
    /// `start.callSid`, used for REST call control (transfer, hang-up).
    pub call_sid: String,
    /// `start.tracks`: which tracks `media` messages will carry.
    pub tracks: Vec<Track>,
    /// `start.customParameters`: the `<Parameter name value>` pairs from our TwiML.
    pub custom_parameters: BTreeMap<String, String>,
    /// `start.mediaFormat`: always μ-law 8 kHz mono today, checked rather than assumed.
    pub media_format: MediaFormat,
}

/// `start.mediaFormat`: the encoding of every `media` payload on this stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaFormat {
    /// `encoding`, e.g. `audio/x-mulaw`.
    pub encoding: String,
    /// `sampleRate` in Hz (8000 for μ-law); accepted as a JSON number or a decimal string.
    #[serde(rename = "sampleRate", deserialize_with = "wire::lenient")]
    pub sample_rate_hz: u32,
    /// `channels` (1); accepted as a JSON number or a decimal string.
    #[serde(deserialize_with = "wire::lenient")]
    pub channels: u16,
}

impl MediaFormat {
    /// Twilio's only format today: `audio/x-mulaw`, 8000 Hz, mono.
    pub fn mulaw_8k() -> Self {
        Self {
            encoding: "audio/x-mulaw".to_owned(),
            sample_rate_hz: 8000,
            channels: 1,
        }
    }

    /// True when payloads are 8 kHz mono μ-law, the format OpenAI's `audio/pcmu` takes as is.
    pub fn is_mulaw_8k_mono(&self) -> bool {
        self.encoding == "audio/x-mulaw" && self.sample_rate_hz == 8000 && self.channels == 1
    }
}

/// Which side of the call a `media` or `dtmf` message belongs to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Track {
    /// The caller's audio (`inbound`; DTMF spells it `inbound_track`).
    #[default]
    #[serde(rename = "inbound", alias = "inbound_track")]
    Inbound,
    /// Audio played to the caller (`outbound`/`outbound_track`), only on forked both-track streams.
    #[serde(rename = "outbound", alias = "outbound_track")]
    Outbound,
    /// A track name this code does not know; decoding goes on rather than failing the frame.
    #[serde(rename = "unknown", other)]
    Unknown,
}

/// The `media` message: one chunk of base64 μ-law, borrowed from the frame when possible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaChunk<'a> {
    /// `sequenceNumber`, counting every message on the socket; `None` if absent.
    pub sequence_number: Option<u64>,
    /// Top-level `streamSid`.
    pub stream_sid: Cow<'a, str>,
    /// `media.track`; `inbound` when absent (the only track a `<Connect><Stream>` carries).
    pub track: Track,
    /// `media.chunk`: 1-based chunk counter per track.
    pub chunk: u64,
    /// `media.timestamp`: milliseconds since the stream started (Twilio's playback clock).
    pub timestamp_ms: u64,
    /// `media.payload`: base64 raw μ-law (no header), forwarded to engines without decoding.
    pub payload: Cow<'a, str>,
}

impl MediaChunk<'_> {
    /// Checks that the payload is base64 without decoding it: passthrough forwards the text as
    /// is, and must not pass a corrupt frame on to the engine.
    pub fn check_payload(&self) -> Result<(), DecodeError> {
        payload::check_base64(self.payload.as_bytes()).map_err(DecodeError::Payload)
    }

    /// Decodes the base64 payload, appending the μ-law bytes to `out` (reuse it across frames).
    pub fn decode_audio_into(&self, out: &mut Vec<u8>) -> Result<(), DecodeError> {
        base64::engine::general_purpose::STANDARD
            .decode_vec(self.payload.as_bytes(), out)
            .map_err(DecodeError::Payload)
    }

    /// Copies any borrowed text so the chunk can outlive the frame it was decoded from.
    pub fn into_owned(self) -> MediaChunk<'static> {
        MediaChunk {
            sequence_number: self.sequence_number,
            stream_sid: Cow::Owned(self.stream_sid.into_owned()),
            track: self.track,
            chunk: self.chunk,
            timestamp_ms: self.timestamp_ms,
            payload: Cow::Owned(self.payload.into_owned()),
        }
    }
}

/// The `mark` message: Twilio has played (or cleared) everything we sent before mark `name`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarkEcho {
    /// `sequenceNumber`; `None` if absent.
    pub sequence_number: Option<u64>,
    /// Top-level `streamSid`.
    pub stream_sid: String,
    /// `mark.name`, as we sent it in [`TwilioOutbound::Mark`].
    pub name: String,
}

/// The `dtmf` message: one key press detected on the caller's audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DtmfDigit {
    /// `sequenceNumber`; `None` if absent.
    pub sequence_number: Option<u64>,
    /// Top-level `streamSid`.
    pub stream_sid: String,
    /// `dtmf.track` (`inbound_track` on the wire); `inbound` when absent.
    pub track: Track,
    /// `dtmf.digit`: `0`–`9`, `*` or `#`, kept as text so an odd value is not a decode failure.
    pub digit: String,
}

/// The `stop` message: the stream is over; no more messages follow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStop {
    /// `sequenceNumber`; `None` if absent.
    pub sequence_number: Option<u64>,
    /// Top-level `streamSid`.
    pub stream_sid: String,
    /// `stop.accountSid`.
    pub account_sid: String,
    /// `stop.callSid`.
    pub call_sid: String,
}

/// A message whose `event` this code does not know; only the envelope is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEvent {
    /// The `event` value as sent.
    pub event: String,
    /// `sequenceNumber`, if present.
    pub sequence_number: Option<u64>,
    /// Top-level `streamSid`, if present.
    pub stream_sid: Option<String>,
}

impl<'a> TwilioInbound<'a> {
    /// Decodes one WebSocket text frame, borrowing the media payload from `text`; never panics.
    pub fn parse(text: &'a str) -> Result<Self, DecodeError> {
        serde_json::from_str(text).map_err(DecodeError::from_json)
    }

    /// The wire `event` name (`"media"`, `"start"`, …, or the unknown name as sent).
    pub fn event(&self) -> &str {
        match self {
            Self::Connected(_) => "connected",
            Self::Start(_) => "start",
            Self::Media(_) => "media",
            Self::Mark(_) => "mark",
            Self::Dtmf(_) => "dtmf",
            Self::Stop(_) => "stop",
            Self::Unknown(u) => &u.event,
        }
    }

    /// The stream SID the message names, if it names one (`connected` does not).
    pub fn stream_sid(&self) -> Option<&str> {
        match self {
            Self::Connected(_) => None,
            Self::Start(s) => Some(&s.stream_sid),
            Self::Media(m) => Some(&m.stream_sid),
            Self::Mark(m) => Some(&m.stream_sid),
            Self::Dtmf(d) => Some(&d.stream_sid),
            Self::Stop(s) => Some(&s.stream_sid),
            Self::Unknown(u) => u.stream_sid.as_deref(),
        }
    }

    /// The message's `sequenceNumber`, if it has one.
    pub fn sequence_number(&self) -> Option<u64> {
        match self {
            Self::Connected(_) => None,
            Self::Start(s) => s.sequence_number,
            Self::Media(m) => m.sequence_number,
            Self::Mark(m) => m.sequence_number,
            Self::Dtmf(d) => d.sequence_number,
            Self::Stop(s) => s.sequence_number,
            Self::Unknown(u) => u.sequence_number,
        }
    }

    /// Copies any borrowed text so the message can be queued past the frame's lifetime.
    pub fn into_owned(self) -> TwilioInbound<'static> {
        match self {
            Self::Media(m) => TwilioInbound::Media(m.into_owned()),
            Self::Connected(c) => TwilioInbound::Connected(c),
            Self::Start(s) => TwilioInbound::Start(s),
            Self::Mark(m) => TwilioInbound::Mark(m),
            Self::Dtmf(d) => TwilioInbound::Dtmf(d),
            Self::Stop(s) => TwilioInbound::Stop(s),
            Self::Unknown(u) => TwilioInbound::Unknown(u),
        }
    }

    /// Encodes in Twilio's wire form (used by the Twilio fake and tests, not the hot path).
    pub fn to_json(&self) -> String {
        // Serializing our own types into a String cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why a text frame could not be decoded; the session logs it and drops the frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The frame is not JSON.
    #[error("frame is not valid JSON at line {line}, column {column}")]
    Syntax {
        /// 1-based line of the first bad character.
        line: usize,
        /// 1-based column of the first bad character.
        column: usize,
    },
    /// The frame stops in the middle of a JSON value.
    #[error("frame ends in the middle of JSON at line {line}, column {column}")]
    Truncated {
        /// 1-based line where input ran out.
        line: usize,
        /// 1-based column where input ran out.
        column: usize,
    },
    /// Valid JSON, but not a message of this direction (missing `event`, wrong field types, …).
    #[error("frame is not a Media Streams message: {reason}")]
    Shape {
        /// serde's description, naming the field and position.
        reason: String,
    },
    /// A `media` payload that is not valid base64.
    #[error("media payload is not valid base64: {0}")]
    Payload(#[source] base64::DecodeError),
}

impl DecodeError {
    fn from_json(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let (line, column) = (err.line(), err.column());
        match err.classify() {
            Category::Eof => Self::Truncated { line, column },
            Category::Syntax | Category::Io => Self::Syntax { line, column },
            Category::Data => Self::Shape {
                reason: err.to_string(),
            },
        }
    }
}
