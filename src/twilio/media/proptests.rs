//! Property tests: decoding never panics on any input, and encode ∘ decode is the identity
//! for every message we can construct.

use std::borrow::Cow;
use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::Value;

use super::*;

const KNOWN_EVENTS: [&str; 6] = ["connected", "start", "media", "mark", "dtmf", "stop"];

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[a-zA-Z0-9+/=_-]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(field_name(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Mostly the field names the decoder looks for, so generated objects reach its deep paths.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "event", "sequenceNumber", "streamSid", "protocol", "version", "start", "media", "mark",
            "dtmf", "stop", "payload", "chunk", "timestamp", "track", "name", "digit", "accountSid",
            "callSid", "tracks", "customParameters", "mediaFormat", "encoding", "sampleRate",
            "channels",
        ])
        .prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Objects shaped like a message: an `event` (usually a known one) plus random fields.
fn message_like() -> impl Strategy<Value = Value> {
    let known = prop::sample::select(KNOWN_EVENTS.to_vec()).prop_map(str::to_owned);
    let event = prop_oneof![4 => known, 1 => any::<String>()];
    (
        event,
        prop::collection::btree_map(field_name(), json_value(), 0..6),
    )
        .prop_map(|(event, mut fields)| {
            fields.insert("event".to_owned(), Value::String(event));
            Value::Object(fields.into_iter().collect())
        })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[A-Za-z0-9+/=]{0,40}", 1 => any::<String>()]
}

fn seq() -> impl Strategy<Value = Option<u64>> {
    proptest::option::of(any::<u64>())
}

fn track() -> impl Strategy<Value = Track> {
    prop::sample::select(vec![Track::Inbound, Track::Outbound, Track::Unknown])
}

fn inbound() -> impl Strategy<Value = TwilioInbound<'static>> {
    let connected = (text(), text())
        .prop_map(|(protocol, version)| TwilioInbound::Connected(Connected { protocol, version }));
    let start = (
        seq(),
        (text(), text(), text()),
        prop::collection::vec(track(), 0..3),
        prop::collection::btree_map(any::<String>(), any::<String>(), 0..4),
        (text(), any::<u32>(), any::<u16>()),
    )
        .prop_map(
            |(
                sequence_number,
                (stream_sid, account_sid, call_sid),
                tracks,
                custom_parameters,
                (encoding, rate, channels),
            )| {
                TwilioInbound::Start(StreamStart {
                    sequence_number,
                    stream_sid,
                    account_sid,
                    call_sid,
                    tracks,
                    custom_parameters: BTreeMap::from_iter(custom_parameters),
                    media_format: MediaFormat {
                        encoding,
                        sample_rate_hz: rate,
                        channels,
                    },
                })
            },
        );
    let media = (seq(), text(), track(), any::<u64>(), any::<u64>(), text()).prop_map(
        |(sequence_number, sid, track, chunk, timestamp_ms, payload)| {
            TwilioInbound::Media(MediaChunk {
                sequence_number,
                stream_sid: Cow::Owned(sid),
                track,
                chunk,
                timestamp_ms,
                payload: Cow::Owned(payload),
            })
        },
    );
    let mark = (seq(), text(), text()).prop_map(|(sequence_number, stream_sid, name)| {
        TwilioInbound::Mark(MarkEcho {
            sequence_number,
            stream_sid,
            name,
        })
    });
    let dtmf =
        (seq(), text(), track(), text()).prop_map(|(sequence_number, stream_sid, track, digit)| {
            TwilioInbound::Dtmf(DtmfDigit {
                sequence_number,
                stream_sid,
                track,
                digit,
            })
        });
    let stop = (seq(), text(), text(), text()).prop_map(
        |(sequence_number, stream_sid, account_sid, call_sid)| {
            TwilioInbound::Stop(StreamStop {
                sequence_number,
                stream_sid,
                account_sid,
                call_sid,
            })
        },
    );
    let unknown = (
        any::<String>().prop_filter("known event", |e| !KNOWN_EVENTS.contains(&e.as_str())),
        seq(),
        proptest::option::of(text()),
    )
        .prop_map(|(event, sequence_number, stream_sid)| {
            TwilioInbound::Unknown(UnknownEvent {
                event,
                sequence_number,
                stream_sid,
            })
        });
    prop_oneof![connected, start, media, mark, dtmf, stop, unknown]
}

fn outbound() -> impl Strategy<Value = TwilioOutbound<'static>> {
    prop_oneof![
        (text(), text()).prop_map(|(s, p)| TwilioOutbound::media(s, p)),
        (text(), text()).prop_map(|(s, n)| TwilioOutbound::mark(s, n)),
        text().prop_map(TwilioOutbound::clear),
    ]
}

proptest! {
    #[test]
    fn decoding_any_string_never_panics(s in any::<String>()) {
        let _ = TwilioInbound::parse(&s);
        let _ = TwilioOutbound::parse(&s);
    }

    #[test]
    fn decoding_any_json_value_never_panics(v in prop_oneof![json_value(), message_like()]) {
        let text = v.to_string();
        let _ = TwilioInbound::parse(&text);
        let _ = TwilioOutbound::parse(&text);
    }

    #[test]
    fn decoding_a_cut_or_corrupted_frame_never_panics(
        msg in inbound(),
        cut in any::<prop::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let text = msg.to_json();
        let at = cut.index(text.len() + 1);
        if let Some(prefix) = text.get(..at) {
            let _ = TwilioInbound::parse(prefix);
        }
        let mut bytes = text.into_bytes();
        if let Some(b) = bytes.get_mut(at) {
            *b = byte;
        }
        if let Ok(corrupted) = String::from_utf8(bytes) {
            let _ = TwilioInbound::parse(&corrupted);
        }
    }

    #[test]
    fn inbound_encode_then_decode_is_identity(msg in inbound()) {
        let text = msg.to_json();
        let decoded = TwilioInbound::parse(&text).map_err(|e| e.to_string());
        prop_assert_eq!(decoded, Ok(msg), "{}", text);
    }

    #[test]
    fn outbound_encode_then_decode_is_identity(msg in outbound()) {
        let mut buf = String::new();
        msg.write_json(&mut buf);
        prop_assert_eq!(&buf, &serde_json::to_string(&msg).unwrap());
        prop_assert_eq!(TwilioOutbound::parse(&buf).map_err(|e| e.to_string()), Ok(msg));
    }
}
