//! Decoding Media Streams JSON into [`TwilioInbound`] in a single pass.
//!
//! Why not `#[serde(tag = "event")]`: serde buffers every internally-tagged message into an
//! intermediate tree first, allocating per field, and that tree makes unknown events with odd
//! payloads fail. Here the envelope is read key by key: once `event` is known, the matching
//! payload is decoded straight into its typed shape (borrowing the media payload) and every other
//! key is skipped unparsed. Only payloads that arrive *before* `event` (Twilio puts `event`
//! first, so in practice never) are held as a `serde_json::Value` until the event is known.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::wire::{
    CowStr, DtmfWire, LenientU64, MarkWire, MediaWire, OutboundWire, StartWire, StopWire,
};
use super::{
    Connected, DtmfDigit, MarkEcho, MediaChunk, StreamStart, StreamStop, TwilioInbound,
    TwilioOutbound, UnknownEvent,
};

/// The message kinds that carry a nested object named after the event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Start,
    Media,
    Mark,
    Dtmf,
    Stop,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Media => "media",
            Self::Mark => "mark",
            Self::Dtmf => "dtmf",
            Self::Stop => "stop",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "start" => Self::Start,
            "media" => Self::Media,
            "mark" => Self::Mark,
            "dtmf" => Self::Dtmf,
            "stop" => Self::Stop,
            _ => return None,
        })
    }
}

/// A top-level key, recognised without allocating.
enum Key {
    Event,
    SequenceNumber,
    StreamSid,
    Protocol,
    Version,
    Payload(Kind),
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "event" => Key::Event,
                    "sequenceNumber" => Key::SequenceNumber,
                    "streamSid" => Key::StreamSid,
                    "protocol" => Key::Protocol,
                    "version" => Key::Version,
                    other => Kind::from_name(other).map_or(Key::Other, Key::Payload),
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The `event` value; only an unknown name is copied.
enum Event {
    Connected,
    Payload(Kind),
    Other(String),
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Event;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Event, E> {
                Ok(match v {
                    "connected" => Event::Connected,
                    other => Kind::from_name(other)
                        .map_or_else(|| Event::Other(other.to_owned()), Event::Payload),
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// The decoded nested object of whichever kind the event names.
enum Payload<'a> {
    Start(StartWire<'static>),
    Media(MediaWire<'a>),
    Mark(MarkWire<'static>),
    Dtmf(DtmfWire<'static>),
    Stop(StopWire<'static>),
}

impl<'de> Payload<'de> {
    fn next_value<A: MapAccess<'de>>(kind: Kind, map: &mut A) -> Result<Self, A::Error> {
        Ok(match kind {
            Kind::Start => Self::Start(map.next_value()?),
            Kind::Media => Self::Media(map.next_value()?),
            // `MarkWire` borrows when it can; these are rare, so own them at once.
            Kind::Mark => Self::Mark(owned_mark(map.next_value()?)),
            Kind::Dtmf => Self::Dtmf(map.next_value()?),
            Kind::Stop => Self::Stop(map.next_value()?),
        })
    }

    fn from_value(kind: Kind, v: serde_json::Value) -> Result<Self, serde_json::Error> {
        Ok(match kind {
            Kind::Start => Self::Start(StartWire::deserialize(v)?),
            Kind::Media => Self::Media(MediaWire::deserialize(v)?),
            Kind::Mark => Self::Mark(owned_mark(MarkWire::deserialize(v)?)),
            Kind::Dtmf => Self::Dtmf(DtmfWire::deserialize(v)?),
            Kind::Stop => Self::Stop(StopWire::deserialize(v)?),
        })
    }
}

fn owned_mark(m: MarkWire<'_>) -> MarkWire<'static> {
    MarkWire {
        name: Cow::Owned(m.name.into_owned()),
    }
}

impl<'de> Deserialize<'de> for TwilioInbound<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(InboundVisitor)
    }
}

struct InboundVisitor;

impl<'de> Visitor<'de> for InboundVisitor {
    type Value = TwilioInbound<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Media Streams message: a JSON object with an `event`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut env = Envelope::default();
        let mut payload: Option<Payload<'de>> = None;
        // Payload objects seen before `event`; empty (never allocated) for Twilio's own ordering.
        let mut early: Vec<(Kind, serde_json::Value)> = Vec::new();
        let mut event: Option<Event> = None;

        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Event => {
                    if event.is_some() {
                        return Err(de::Error::duplicate_field("event"));
                    }
                    event = Some(map.next_value()?);
                }
                Key::SequenceNumber => {
                    set_once(&mut env.sequence_number, "sequenceNumber", || {
                        map.next_value::<LenientU64>().map(|n| n.0)
                    })?
                }
                Key::StreamSid => set_once(&mut env.stream_sid, "streamSid", || {
                    map.next_value::<CowStr<'de>>().map(|s| s.0)
                })?,
                Key::Protocol => set_once(&mut env.protocol, "protocol", || map.next_value())?,
                Key::Version => set_once(&mut env.version, "version", || map.next_value())?,
                Key::Payload(kind) => match &event {
                    Some(Event::Payload(wanted)) if *wanted == kind => {
                        set_once(&mut payload, kind.name(), || {
                            Payload::next_value(kind, &mut map)
                        })?
                    }
                    Some(_) => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    None => early.push((kind, map.next_value()?)),
                },
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }

        let event = event.ok_or_else(|| de::Error::missing_field("event"))?;
        if let Event::Payload(wanted) = event {
            for (kind, value) in early {
                if kind == wanted {
                    let decoded = Payload::from_value(kind, value).map_err(de::Error::custom)?;
                    set_once(&mut payload, kind.name(), || Ok::<_, A::Error>(decoded))?;
                }
            }
        }
        env.into_message(event, payload)
    }
}

/// Top-level fields shared by every message.
#[derive(Default)]
struct Envelope<'a> {
    sequence_number: Option<u64>,
    stream_sid: Option<Cow<'a, str>>,
    protocol: Option<String>,
    version: Option<String>,
}

impl<'a> Envelope<'a> {
    fn into_message<E: de::Error>(
        self,
        event: Event,
        payload: Option<Payload<'a>>,
    ) -> Result<TwilioInbound<'a>, E> {
        let kind = match event {
            Event::Connected => {
                return Ok(TwilioInbound::Connected(Connected {
                    protocol: self.protocol.unwrap_or_default(),
                    version: self.version.unwrap_or_default(),
                }));
            }
            Event::Other(event) => {
                return Ok(TwilioInbound::Unknown(UnknownEvent {
                    event,
                    sequence_number: self.sequence_number,
                    stream_sid: self.stream_sid.map(Cow::into_owned),
                }));
            }
            Event::Payload(kind) => kind,
        };
        let sequence_number = self.sequence_number;
        let payload = payload.ok_or_else(|| E::missing_field(kind.name()))?;
        let sid = |sid: Option<Cow<'a, str>>| sid.ok_or_else(|| E::missing_field("streamSid"));
        Ok(match payload {
            // `start` repeats the SID inside its object; accept either copy.
            Payload::Start(start) => TwilioInbound::Start(StreamStart {
                sequence_number,
                stream_sid: sid(start.stream_sid.or(self.stream_sid))?.into_owned(),
                account_sid: start.account_sid.into_owned(),
                call_sid: start.call_sid.into_owned(),
                tracks: start.tracks.into_owned(),
                custom_parameters: start.custom_parameters.into_owned(),
                media_format: start.media_format.into_owned(),
            }),
            Payload::Media(m) => TwilioInbound::Media(MediaChunk {
                sequence_number,
                stream_sid: sid(self.stream_sid)?,
                track: m.track,
                chunk: m.chunk,
                timestamp_ms: m.timestamp,
                payload: m.payload,
            }),
            Payload::Mark(m) => TwilioInbound::Mark(MarkEcho {
                sequence_number,
                stream_sid: sid(self.stream_sid)?.into_owned(),
                name: m.name.into_owned(),
            }),
            Payload::Dtmf(d) => TwilioInbound::Dtmf(DtmfDigit {
                sequence_number,
                stream_sid: sid(self.stream_sid)?.into_owned(),
                track: d.track,
                digit: d.digit.into_owned(),
            }),
            Payload::Stop(s) => TwilioInbound::Stop(StreamStop {
                sequence_number,
                stream_sid: sid(self.stream_sid)?.into_owned(),
                account_sid: s.account_sid.into_owned(),
                call_sid: s.call_sid.into_owned(),
            }),
        })
    }
}

/// Fills `slot` from `read`, rejecting a second occurrence of the same key.
fn set_once<T, E: de::Error>(
    slot: &mut Option<T>,
    field: &'static str,
    read: impl FnOnce() -> Result<T, E>,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(field));
    }
    *slot = Some(read()?);
    Ok(())
}

impl<'de> Deserialize<'de> for TwilioOutbound<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match OutboundWire::deserialize(d)? {
            OutboundWire::Media { stream_sid, media } => Self::Media {
                stream_sid,
                payload: media.payload,
            },
            OutboundWire::Mark { stream_sid, mark } => Self::Mark {
                stream_sid,
                name: mark.name,
            },
            OutboundWire::Clear { stream_sid } => Self::Clear { stream_sid },
        })
    }
}
