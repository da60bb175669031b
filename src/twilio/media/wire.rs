//! The nested JSON objects of Media Streams messages as private serde shapes, plus the
//! readers for Twilio's loose typing (numbers sent as strings).
//!
//! Public types are flat (`MediaChunk { stream_sid, payload, .. }`); these mirror the wire's
//! nesting (`{"streamSid":..,"media":{"payload":..}}`) and are converted at the edge. `Cow`
//! fields let one shape serve both directions: borrowed when encoding, owned (or borrowed, for
//! the payload) when decoding.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::{MediaFormat, Track};

/// Reads an unsigned integer sent either as a JSON number or as a decimal string.
///
/// Twilio documents `sequenceNumber`, `chunk` and `timestamp` as strings (`"42"`) but other
/// producers (and our own fakes, historically) send numbers; accepting both costs nothing.
pub(super) fn lenient<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let n = d.deserialize_any(LenientVisitor)?;
    T::try_from(n)
        .map_err(|_| de::Error::invalid_value(de::Unexpected::Unsigned(n), &"a smaller integer"))
}

/// Writes an integer the way Twilio does, as a decimal string.
pub(super) fn as_string<S: Serializer>(n: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(n)
}

/// A DTMF track is spelled `inbound_track`, unlike `media.track` (`inbound`).
pub(super) fn track_suffixed<S: Serializer>(t: &Track, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match t {
        Track::Inbound => "inbound_track",
        Track::Outbound => "outbound_track",
        Track::Unknown => "unknown",
    })
}

/// An integer read with [`lenient`], for use with `next_value`.
pub(super) struct LenientU64(pub(super) u64);

impl<'de> Deserialize<'de> for LenientU64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient(d).map(Self)
    }
}

struct LenientVisitor;

impl Visitor<'_> for LenientVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an unsigned integer, as a number or a decimal string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        v.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// A string that stays borrowed from the input whenever the input allows (no escapes).
pub(super) struct CowStr<'a>(pub(super) Cow<'a, str>);

impl<'de> Deserialize<'de> for CowStr<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CowStr<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `start` object of a `start` message.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StartWire<'a> {
    // Twilio sends it both here and at the top level; either is enough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) stream_sid: Option<Cow<'a, str>>,
    pub(super) account_sid: Cow<'a, str>,
    pub(super) call_sid: Cow<'a, str>,
    #[serde(default)]
    pub(super) tracks: Cow<'a, [Track]>,
    #[serde(default)]
    pub(super) custom_parameters: Cow<'a, BTreeMap<String, String>>,
    pub(super) media_format: Cow<'a, MediaFormat>,
}

/// `media` object of a `media` message: the hot path, so the payload borrows.
#[derive(Serialize, Deserialize)]
pub(super) struct MediaWire<'a> {
    #[serde(default)]
    pub(super) track: Track,
    #[serde(deserialize_with = "lenient", serialize_with = "as_string")]
    pub(super) chunk: u64,
    #[serde(deserialize_with = "lenient", serialize_with = "as_string")]
    pub(super) timestamp: u64,
    #[serde(borrow)]
    pub(super) payload: Cow<'a, str>,
}

/// `mark` object of a `mark` message (either direction).
#[derive(Serialize, Deserialize)]
pub(super) struct MarkWire<'a> {
    #[serde(borrow)]
    pub(super) name: Cow<'a, str>,
}

/// `dtmf` object of a `dtmf` message.
#[derive(Serialize, Deserialize)]
pub(super) struct DtmfWire<'a> {
    #[serde(default, serialize_with = "track_suffixed")]
    pub(super) track: Track,
    pub(super) digit: Cow<'a, str>,
}

/// `stop` object of a `stop` message.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StopWire<'a> {
    pub(super) account_sid: Cow<'a, str>,
    pub(super) call_sid: Cow<'a, str>,
}

/// `media` object of an outbound `media` message.
#[derive(Serialize, Deserialize)]
pub(super) struct PayloadWire<'a> {
    #[serde(borrow)]
    pub(super) payload: Cow<'a, str>,
}

/// Outbound messages as Twilio reads them; only decoded by the Twilio fake, so the
/// buffering that `tag = "event"` implies is fine here.
#[derive(Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub(super) enum OutboundWire<'a> {
    Media {
        #[serde(rename = "streamSid", borrow)]
        stream_sid: Cow<'a, str>,
        #[serde(borrow)]
        media: PayloadWire<'a>,
    },
    Mark {
        #[serde(rename = "streamSid", borrow)]
        stream_sid: Cow<'a, str>,
        #[serde(borrow)]
        mark: MarkWire<'a>,
    },
    Clear {
        #[serde(rename = "streamSid", borrow)]
        stream_sid: Cow<'a, str>,
    },
}
