//! Unit tests for Media Streams decoding and encoding, using the message shapes from
//! twilio.com/docs/voice/media-streams/websocket-messages.

use std::borrow::Cow;

use super::*;

/// 20 ms of μ-law silence-ish (0x7e), 160 bytes: 216 base64 characters, as Twilio sends.
fn payload() -> String {
    base64::engine::general_purpose::STANDARD.encode([0x7e; 160])
}

fn media_frame() -> String {
    let payload = payload();
    format!(
        r#"{{"event":"media","sequenceNumber":"3","media":{{"track":"inbound","chunk":"1","timestamp":"5","payload":"{payload}"}},"streamSid":"MZ18ad3ab5a668481ce02b83e7395059f0"}}"#
    )
}

#[track_caller]
fn parse_ok(text: &str) -> TwilioInbound<'_> {
    TwilioInbound::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn connected_is_decoded() {
    let msg = parse_ok(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#);
    assert_eq!(
        msg,
        TwilioInbound::Connected(Connected {
            protocol: "Call".into(),
            version: "1.0.0".into()
        })
    );
    assert_eq!(msg.stream_sid(), None);
}

#[test]
fn start_is_decoded_with_parameters_and_format() {
    let text = r#"{
      "event": "start",
      "sequenceNumber": "1",
      "start": {
        "accountSid": "AC00000000000000000000000000000000",
        "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0",
        "callSid": "CA00000000000000000000000000000000",
        "tracks": ["inbound", "outbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"tenant_id": "org_1", "token": "a&b<c>"}
      },
      "streamSid": "MZ18ad3ab5a668481ce02b83e7395059f0"
    }"#;
    let TwilioInbound::Start(start) = parse_ok(text) else {
        panic!("not a start")
    };
    assert_eq!(start.sequence_number, Some(1));
    assert_eq!(start.stream_sid, "MZ18ad3ab5a668481ce02b83e7395059f0");
    assert_eq!(start.account_sid, "AC00000000000000000000000000000000");
    assert_eq!(start.call_sid, "CA00000000000000000000000000000000");
    assert_eq!(start.tracks, [Track::Inbound, Track::Outbound]);
    assert_eq!(start.custom_parameters["tenant_id"], "org_1");
    assert_eq!(start.custom_parameters["token"], "a&b<c>");
    assert!(start.media_format.is_mulaw_8k_mono());
}

#[test]
fn start_takes_the_top_level_stream_sid_when_the_inner_one_is_missing() {
    let text = r#"{"event":"start","start":{"accountSid":"AC1","callSid":"CA1",
        "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":"8000","channels":"1"}},"streamSid":"MZ1"}"#;
    let TwilioInbound::Start(start) = parse_ok(text) else {
        panic!("not a start")
    };
    assert_eq!(start.stream_sid, "MZ1");
    assert_eq!(start.media_format, MediaFormat::mulaw_8k());
    assert!(start.tracks.is_empty() && start.custom_parameters.is_empty());
}

#[test]
fn media_borrows_payload_and_stream_sid_from_the_frame() {
    let text = media_frame();
    let TwilioInbound::Media(m) = parse_ok(&text) else {
        panic!("not media")
    };
    assert!(matches!(m.payload, Cow::Borrowed(_)), "payload was copied");
    assert!(
        matches!(m.stream_sid, Cow::Borrowed(_)),
        "stream SID was copied"
    );
    assert_eq!(m.payload.len(), 216);
    assert_eq!(
        (m.sequence_number, m.chunk, m.timestamp_ms, m.track),
        (Some(3), 1, 5, Track::Inbound)
    );
}

#[test]
fn media_numbers_are_accepted_as_json_numbers_too() {
    let text = r#"{"event":"media","sequenceNumber":3,"media":{"chunk":1,"timestamp":5,"payload":"AA=="},"streamSid":"MZ1"}"#;
    let TwilioInbound::Media(m) = parse_ok(text) else {
        panic!("not media")
    };
    assert_eq!(
        (m.sequence_number, m.chunk, m.timestamp_ms),
        (Some(3), 1, 5)
    );
    assert_eq!(m.track, Track::Inbound, "track defaults to inbound");
}

#[test]
fn escaped_payload_is_unescaped_into_an_owned_copy() {
    let text = r#"{"event":"media","media":{"chunk":"1","timestamp":"5","payload":"ab\/cd=="},"streamSid":"MZ1"}"#;
    let TwilioInbound::Media(m) = parse_ok(text) else {
        panic!("not media")
    };
    assert_eq!(m.payload, "ab/cd==");
    assert!(matches!(m.payload, Cow::Owned(_)));
}

#[test]
fn media_payload_decodes_to_mulaw_bytes() {
    let text = media_frame();
    let TwilioInbound::Media(m) = parse_ok(&text) else {
        panic!("not media")
    };
    let mut audio = Vec::new();
    m.decode_audio_into(&mut audio).expect("valid base64");
    assert_eq!(audio, [0x7e; 160]);
}

#[test]
fn invalid_base64_payload_is_a_typed_error() {
    let m = MediaChunk {
        sequence_number: None,
        stream_sid: "MZ1".into(),
        track: Track::Inbound,
        chunk: 1,
        timestamp_ms: 0,
        payload: "not base64!".into(),
    };
    assert!(matches!(
        m.decode_audio_into(&mut Vec::new()),
        Err(DecodeError::Payload(_))
    ));
}

#[test]
fn mark_dtmf_and_stop_are_decoded() {
    let mark = parse_ok(
        r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"my label"}}"#,
    );
    assert_eq!(
        mark,
        TwilioInbound::Mark(MarkEcho {
            sequence_number: Some(4),
            stream_sid: "MZ1".into(),
            name: "my label".into()
        })
    );
    let dtmf = parse_ok(
        r#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}"#,
    );
    assert_eq!(
        dtmf,
        TwilioInbound::Dtmf(DtmfDigit {
            sequence_number: Some(5),
            stream_sid: "MZ1".into(),
            track: Track::Inbound,
            digit: "1".into()
        })
    );
    let stop = parse_ok(
        r#"{"event":"stop","sequenceNumber":"5","streamSid":"MZ1","stop":{"accountSid":"AC1","callSid":"CA1"}}"#,
    );
    assert_eq!(
        stop,
        TwilioInbound::Stop(StreamStop {
            sequence_number: Some(5),
            stream_sid: "MZ1".into(),
            account_sid: "AC1".into(),
            call_sid: "CA1".into()
        })
    );
}

#[test]
fn unknown_event_is_kept_not_rejected() {
    let msg = parse_ok(
        r#"{"event":"brand-new","sequenceNumber":"9","streamSid":"MZ1","brandNew":{"x":[1,2]}}"#,
    );
    assert_eq!(
        msg,
        TwilioInbound::Unknown(UnknownEvent {
            event: "brand-new".into(),
            sequence_number: Some(9),
            stream_sid: Some("MZ1".into())
        })
    );
    assert_eq!(msg.event(), "brand-new");
}

#[test]
fn unknown_event_ignores_known_payload_keys_of_another_shape() {
    // Before and after `event`: both paths (stashed and skipped) must tolerate it.
    for text in [
        r#"{"event":"other","media":42,"start":[]}"#,
        r#"{"media":42,"start":[],"event":"other"}"#,
    ] {
        assert!(
            matches!(parse_ok(text), TwilioInbound::Unknown(_)),
            "{text}"
        );
    }
}

#[test]
fn event_may_come_after_its_payload() {
    let text = r#"{"streamSid":"MZ1","media":{"chunk":"2","timestamp":"20","payload":"AA=="},"event":"media"}"#;
    let TwilioInbound::Media(m) = parse_ok(text) else {
        panic!("not media")
    };
    assert_eq!(
        (m.chunk, m.timestamp_ms, m.payload.as_ref()),
        (2, 20, "AA==")
    );
}

#[test]
fn unknown_top_level_and_nested_fields_are_ignored() {
    let text = r#"{"event":"mark","future":{"a":[null,true]},"streamSid":"MZ1","mark":{"name":"m","extra":1}}"#;
    assert!(matches!(parse_ok(text), TwilioInbound::Mark(m) if m.name == "m"));
}

#[test]
fn unknown_track_is_not_a_decode_failure() {
    let text = r#"{"event":"media","media":{"track":"sideways","chunk":"1","timestamp":"1","payload":""},"streamSid":"MZ1"}"#;
    assert!(matches!(parse_ok(text), TwilioInbound::Media(m) if m.track == Track::Unknown));
}

#[test]
fn bad_frames_give_typed_errors() {
    type Expect = fn(&DecodeError) -> bool;
    let cases: [(&str, Expect); 9] = [
        ("", |e| matches!(e, DecodeError::Truncated { .. })),
        (r#"{"event":"media","#, |e| {
            matches!(e, DecodeError::Truncated { .. })
        }),
        ("nope", |e| matches!(e, DecodeError::Syntax { line: 1, .. })),
        ("[1,2]", |e| matches!(e, DecodeError::Shape { .. })),
        (
            r#"{"streamSid":"MZ1"}"#,
            |e| matches!(e, DecodeError::Shape { reason } if reason.contains("event")),
        ),
        (
            r#"{"event":"media","streamSid":"MZ1"}"#,
            |e| matches!(e, DecodeError::Shape { reason } if reason.contains("media")),
        ),
        (
            r#"{"event":"media","media":{"chunk":"1","timestamp":"1","payload":""}}"#,
            |e| matches!(e, DecodeError::Shape { reason } if reason.contains("streamSid")),
        ),
        (
            r#"{"event":"connected","event":"stop"}"#,
            |e| matches!(e, DecodeError::Shape { reason } if reason.contains("duplicate")),
        ),
        (
            r#"{"event":"media","media":{"chunk":"-1","timestamp":"1","payload":""},"streamSid":"MZ1"}"#,
            |e| matches!(e, DecodeError::Shape { .. }),
        ),
    ];
    for (text, expected) in cases {
        let err = TwilioInbound::parse(text).expect_err(text);
        assert!(expected(&err), "{text}: {err:?}");
    }
}

#[test]
fn inbound_encodes_in_twilio_wire_form() {
    let text = media_frame();
    let msg = parse_ok(&text);
    assert_eq!(
        msg.to_json(),
        text,
        "encoding reproduces Twilio's own frame byte for byte"
    );
    let dtmf = TwilioInbound::Dtmf(DtmfDigit {
        sequence_number: Some(5),
        stream_sid: "MZ1".into(),
        track: Track::Inbound,
        digit: "#".into(),
    });
    assert_eq!(
        dtmf.to_json(),
        r##"{"event":"dtmf","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"#"},"streamSid":"MZ1"}"##
    );
}

#[test]
fn into_owned_keeps_the_message() {
    let text = media_frame();
    let borrowed = parse_ok(&text);
    let owned: TwilioInbound<'static> = borrowed.clone().into_owned();
    drop(text);
    assert_eq!(owned.event(), "media");
    assert_eq!(owned.sequence_number(), Some(3));
}

#[test]
fn outbound_frames_match_twilio_docs() {
    let sid = "MZ18ad3ab5a668481ce02b83e7395059f0";
    let cases = [
        (
            TwilioOutbound::media(sid, "AA=="),
            format!(r#"{{"event":"media","streamSid":"{sid}","media":{{"payload":"AA=="}}}}"#),
        ),
        (
            TwilioOutbound::mark(sid, "my label"),
            format!(r#"{{"event":"mark","streamSid":"{sid}","mark":{{"name":"my label"}}}}"#),
        ),
        (
            TwilioOutbound::clear(sid),
            format!(r#"{{"event":"clear","streamSid":"{sid}"}}"#),
        ),
    ];
    let mut buf = String::from("stale bytes from the previous frame");
    for (msg, expected) in cases {
        msg.write_json(&mut buf);
        assert_eq!(buf, expected);
        assert_eq!(msg.to_json(), expected);
        assert_eq!(
            serde_json::to_string(&msg).unwrap(),
            expected,
            "serde and the fast writer agree"
        );
        assert_eq!(TwilioOutbound::parse(&buf).unwrap(), msg);
    }
}

#[test]
fn outbound_writer_escapes_like_serde_json() {
    let nasty = "q\"b\\s/n\nr\rt\tb\u{8}f\u{c}nul\u{0}us\u{1f}del\u{7f}é😀";
    for msg in [
        TwilioOutbound::media(nasty, nasty),
        TwilioOutbound::mark(nasty, nasty),
        TwilioOutbound::clear(nasty),
    ] {
        let fast = msg.to_json();
        assert_eq!(fast, serde_json::to_string(&msg).unwrap());
        assert_eq!(TwilioOutbound::parse(&fast).unwrap(), msg);
    }
}

#[test]
fn media_from_raw_mulaw_equals_media_from_base64() {
    let mulaw = [0xffu8, 0x7f, 0x00, 0x80, 0x7e];
    let mut direct = String::new();
    TwilioOutbound::write_media_mulaw("MZ1", &mulaw, &mut direct);
    let b64 = base64::engine::general_purpose::STANDARD.encode(mulaw);
    assert_eq!(direct, TwilioOutbound::media("MZ1", b64).to_json());
}

#[test]
fn outbound_unknown_event_is_an_error() {
    assert!(matches!(
        TwilioOutbound::parse(r#"{"event":"play","streamSid":"MZ1"}"#),
        Err(DecodeError::Shape { .. })
    ));
}
