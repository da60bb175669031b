//! [`TwilioOutbound`]: the messages we send to Twilio, with constructors and the buffer-reusing
//! encoder entry points (the byte-level writer lives in `encode`).

use std::borrow::Cow;

use super::{DecodeError, encode};

/// A message we send to Twilio on a bidirectional stream.
///
/// Build with [`TwilioOutbound::media`], [`TwilioOutbound::mark`], [`TwilioOutbound::clear`];
/// encode with [`TwilioOutbound::write_json`] into a reused buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TwilioOutbound<'a> {
    /// `media`: base64 raw μ-law 8 kHz mono to play to the caller, queued after earlier media.
    Media {
        /// The stream's SID from `start`.
        stream_sid: Cow<'a, str>,
        /// Base64 μ-law, no header.
        payload: Cow<'a, str>,
    },
    /// `mark`: ask Twilio to echo `name` once everything queued before it has played.
    Mark {
        /// The stream's SID from `start`.
        stream_sid: Cow<'a, str>,
        /// Our label; comes back in [`TwilioInbound::Mark`](super::TwilioInbound::Mark).
        name: Cow<'a, str>,
    },
    /// `clear`: drop all queued audio at once (barge-in); pending marks are echoed back.
    Clear {
        /// The stream's SID from `start`.
        stream_sid: Cow<'a, str>,
    },
}

impl<'a> TwilioOutbound<'a> {
    /// A `media` message carrying base64 μ-law `payload`.
    pub fn media(stream_sid: impl Into<Cow<'a, str>>, payload: impl Into<Cow<'a, str>>) -> Self {
        Self::Media {
            stream_sid: stream_sid.into(),
            payload: payload.into(),
        }
    }

    /// A `mark` message named `name`.
    pub fn mark(stream_sid: impl Into<Cow<'a, str>>, name: impl Into<Cow<'a, str>>) -> Self {
        Self::Mark {
            stream_sid: stream_sid.into(),
            name: name.into(),
        }
    }

    /// A `clear` message.
    pub fn clear(stream_sid: impl Into<Cow<'a, str>>) -> Self {
        Self::Clear {
            stream_sid: stream_sid.into(),
        }
    }

    /// Decodes a message sent to Twilio (for the Twilio fake); unknown events are errors here.
    pub fn parse(text: &'a str) -> Result<Self, DecodeError> {
        serde_json::from_str(text).map_err(DecodeError::from_json)
    }

    /// Writes the JSON text frame into `out`, cleared first (the crate's `write_json` convention);
    /// no allocation once `out` has grown to frame size.
    pub fn write_json(&self, out: &mut String) {
        out.clear();
        encode::write_outbound(self, out);
    }

    /// Writes a `media` frame for raw μ-law bytes into `out` (cleared first), base64-encoding
    /// straight into the buffer.
    pub fn write_media_mulaw(stream_sid: &str, mulaw: &[u8], out: &mut String) {
        out.clear();
        encode::write_media_mulaw(stream_sid, mulaw, out);
    }

    /// The JSON text frame as a new `String`.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(encode::outbound_len_hint(self));
        self.write_json(&mut out);
        out
    }

    /// Copies any borrowed text so the message can outlive its sources.
    pub fn into_owned(self) -> TwilioOutbound<'static> {
        let own = |c: Cow<'a, str>| Cow::Owned(c.into_owned());
        match self {
            Self::Media {
                stream_sid,
                payload,
            } => TwilioOutbound::Media {
                stream_sid: own(stream_sid),
                payload: own(payload),
            },
            Self::Mark { stream_sid, name } => TwilioOutbound::Mark {
                stream_sid: own(stream_sid),
                name: own(name),
            },
            Self::Clear { stream_sid } => TwilioOutbound::Clear {
                stream_sid: own(stream_sid),
            },
        }
    }
}
