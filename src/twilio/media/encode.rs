//! Encoding Media Streams messages: serde `Serialize` for both directions, and a hand-written
//! writer for outbound frames that appends to a reused `String`.
//!
//! The writer exists because outbound `media` frames are sent 50 times a second per call; it
//! produces exactly the bytes `serde_json::to_string` would (a test holds it to that), without the
//! serializer machinery or a fresh allocation.

use std::borrow::Cow;

use base64::Engine as _;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::wire::{DtmfWire, MarkWire, MediaWire, PayloadWire, StartWire, StopWire};
use super::{TwilioInbound, TwilioOutbound};

/// `sequenceNumber` as Twilio writes it: a decimal string.
struct AsString(u64);

impl Serialize for AsString {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl Serialize for TwilioInbound<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        // Twilio's order: event, sequenceNumber, then the payload, then streamSid.
        m.serialize_entry("event", self.event())?;
        if let Some(n) = self.sequence_number() {
            m.serialize_entry("sequenceNumber", &AsString(n))?;
        }
        fn b(s: &str) -> Cow<'_, str> {
            Cow::Borrowed(s)
        }
        match self {
            Self::Connected(c) => {
                m.serialize_entry("protocol", &c.protocol)?;
                m.serialize_entry("version", &c.version)?;
            }
            Self::Start(st) => m.serialize_entry(
                "start",
                &StartWire {
                    stream_sid: Some(b(&st.stream_sid)),
                    account_sid: b(&st.account_sid),
                    call_sid: b(&st.call_sid),
                    tracks: Cow::Borrowed(&st.tracks),
                    custom_parameters: Cow::Borrowed(&st.custom_parameters),
                    media_format: Cow::Borrowed(&st.media_format),
                },
            )?,
            Self::Media(md) => m.serialize_entry(
                "media",
                &MediaWire {
                    track: md.track,
                    chunk: md.chunk,
                    timestamp: md.timestamp_ms,
                    payload: b(&md.payload),
                },
            )?,
            Self::Mark(mk) => m.serialize_entry("mark", &MarkWire { name: b(&mk.name) })?,
            Self::Dtmf(d) => m.serialize_entry(
                "dtmf",
                &DtmfWire {
                    track: d.track,
                    digit: b(&d.digit),
                },
            )?,
            Self::Stop(st) => m.serialize_entry(
                "stop",
                &StopWire {
                    account_sid: b(&st.account_sid),
                    call_sid: b(&st.call_sid),
                },
            )?,
            Self::Unknown(_) => {}
        }
        if let Some(sid) = self.stream_sid() {
            m.serialize_entry("streamSid", sid)?;
        }
        m.end()
    }
}

impl Serialize for TwilioOutbound<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        match self {
            Self::Media {
                stream_sid,
                payload,
            } => {
                m.serialize_entry("event", "media")?;
                m.serialize_entry("streamSid", stream_sid)?;
                m.serialize_entry(
                    "media",
                    &PayloadWire {
                        payload: Cow::Borrowed(payload),
                    },
                )?;
            }
            Self::Mark { stream_sid, name } => {
                m.serialize_entry("event", "mark")?;
                m.serialize_entry("streamSid", stream_sid)?;
                m.serialize_entry(
                    "mark",
                    &MarkWire {
                        name: Cow::Borrowed(name),
                    },
                )?;
            }
            Self::Clear { stream_sid } => {
                m.serialize_entry("event", "clear")?;
                m.serialize_entry("streamSid", stream_sid)?;
            }
        }
        m.end()
    }
}

/// Appends `msg` as compact JSON, byte-identical to `serde_json::to_string(msg)`.
pub(super) fn write_outbound(msg: &TwilioOutbound<'_>, out: &mut String) {
    match msg {
        TwilioOutbound::Media {
            stream_sid,
            payload,
        } => {
            out.push_str(r#"{"event":"media","streamSid":"#);
            push_json_str(out, stream_sid);
            out.push_str(r#","media":{"payload":"#);
            push_json_str(out, payload);
            out.push_str("}}");
        }
        TwilioOutbound::Mark { stream_sid, name } => {
            out.push_str(r#"{"event":"mark","streamSid":"#);
            push_json_str(out, stream_sid);
            out.push_str(r#","mark":{"name":"#);
            push_json_str(out, name);
            out.push_str("}}");
        }
        TwilioOutbound::Clear { stream_sid } => {
            out.push_str(r#"{"event":"clear","streamSid":"#);
            push_json_str(out, stream_sid);
            out.push('}');
        }
    }
}

/// Room for the frame when nothing needs escaping (the normal case).
pub(super) fn outbound_len_hint(msg: &TwilioOutbound<'_>) -> usize {
    const FRAMING: usize = 64;
    FRAMING
        + match msg {
            TwilioOutbound::Media {
                stream_sid,
                payload,
            } => stream_sid.len() + payload.len(),
            TwilioOutbound::Mark { stream_sid, name } => stream_sid.len() + name.len(),
            TwilioOutbound::Clear { stream_sid } => stream_sid.len(),
        }
}

/// Appends a `media` frame, base64-encoding raw μ-law directly into `out`.
pub(super) fn write_media_mulaw(stream_sid: &str, mulaw: &[u8], out: &mut String) {
    out.push_str(r#"{"event":"media","streamSid":"#);
    push_json_str(out, stream_sid);
    out.push_str(r#","media":{"payload":""#);
    // Base64's alphabet needs no JSON escaping.
    base64::engine::general_purpose::STANDARD.encode_string(mulaw, out);
    out.push_str("\"}}");
}

/// Appends `s` as a JSON string literal, escaping as serde_json does (so outputs compare equal).
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    let mut clean_from = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        // Escapable bytes are ASCII, so `i` is always a char boundary.
        out.push_str(&s[clean_from..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
        clean_from = i + 1;
    }
    out.push_str(&s[clean_from..]);
    out.push('"');
}
