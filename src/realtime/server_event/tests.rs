//! Decoding tests for [`super::RealtimeServerEvent`]: GA samples, leniency, and a property test
//! that no JSON input can make the decoder panic.

use super::*;
use crate::engines::{ResponseStatus, Usage};
use proptest::prelude::*;

fn decode(text: &str) -> RealtimeServerEvent<'_> {
    RealtimeServerEvent::decode(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn audio_delta_borrows_its_payload_from_the_frame() {
    let text = r#"{"type":"response.output_audio.delta","event_id":"event_1","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"f39/fw=="}"#;
    match decode(text) {
        RealtimeServerEvent::ResponseOutputAudioDelta { item_id, delta, .. } => {
            assert_eq!(item_id, "item_1");
            assert!(matches!(delta, Cow::Borrowed("f39/fw==")));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn speech_started_carries_its_offset_and_item() {
    let text = r#"{"type":"input_audio_buffer.speech_started","event_id":"e","audio_start_ms":1000,"item_id":"item_2"}"#;
    assert_eq!(
        decode(text),
        RealtimeServerEvent::InputAudioBufferSpeechStarted {
            audio_start_ms: 1000,
            item_id: "item_2".into()
        }
    );
}

#[test]
fn response_done_reads_status_and_usage_details() {
    let text = r#"{"type":"response.done","event_id":"e","response":{"object":"realtime.response","id":"resp_1","status":"cancelled","status_details":{"type":"cancelled","reason":"turn_detected"},"output":[],"usage":{"total_tokens":300,"input_tokens":200,"output_tokens":100,"input_token_details":{"text_tokens":50,"audio_tokens":150,"image_tokens":0,"cached_tokens":64,"cached_tokens_details":{"text_tokens":64,"audio_tokens":0}},"output_token_details":{"text_tokens":20,"audio_tokens":80}}}}"#;
    let RealtimeServerEvent::ResponseDone { response } = decode(text) else {
        panic!()
    };
    assert_eq!(response.status(), ResponseStatus::Cancelled);
    let usage = Usage::from(response.usage.as_ref().unwrap());
    assert_eq!(
        usage,
        Usage {
            total_tokens: 300,
            input_tokens: 200,
            output_tokens: 100,
            input_text_tokens: 50,
            input_audio_tokens: 150,
            input_cached_tokens: 64,
            output_text_tokens: 20,
            output_audio_tokens: 80,
        }
    );
}

#[test]
fn function_call_item_done_carries_name_call_id_and_arguments() {
    let text = r#"{"type":"response.output_item.done","event_id":"e","response_id":"resp_1","output_index":1,"item":{"id":"item_3","type":"function_call","status":"completed","name":"end_call","call_id":"call_9","arguments":"{\"reason\":\"done\"}","object":"realtime.item"}}"#;
    let RealtimeServerEvent::ResponseOutputItemDone { item, .. } = decode(text) else {
        panic!()
    };
    assert_eq!(
        item,
        Item::FunctionCall {
            id: "item_3".into(),
            call_id: "call_9".into(),
            name: "end_call".into(),
            arguments: r#"{"reason":"done"}"#.into(),
            status: Some("completed".into()),
        }
    );
}

#[test]
fn message_items_and_unknown_item_types_decode() {
    let text = r#"{"type":"conversation.item.added","event_id":"e","previous_item_id":null,"item":{"id":"item_4","type":"message","role":"user","content":[{"type":"input_audio","transcript":null}]}}"#;
    assert!(matches!(
        decode(text),
        RealtimeServerEvent::ConversationItemAdded {
            item: Item::Message { .. },
            ..
        }
    ));
    let text = r#"{"type":"conversation.item.done","item":{"id":"x","type":"mcp_call","server_label":"s"}}"#;
    assert!(matches!(
        decode(text),
        RealtimeServerEvent::ConversationItemDone {
            item: Item::Other,
            ..
        }
    ));
}

#[test]
fn transcripts_truncation_errors_and_rate_limits_decode() {
    let samples = [
        r#"{"type":"conversation.item.input_audio_transcription.completed","item_id":"i","content_index":0,"transcript":"Hello.","usage":{"type":"duration","seconds":2}}"#,
        r#"{"type":"conversation.item.input_audio_transcription.delta","item_id":"i","delta":"Hel"}"#,
        r#"{"type":"conversation.item.input_audio_transcription.failed","item_id":"i","error":{"type":"transcription_error","code":"audio_unintelligible","message":"no"}}"#,
        r#"{"type":"response.output_audio_transcript.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"Hi"}"#,
        r#"{"type":"response.output_audio_transcript.done","response_id":"r","item_id":"i","transcript":"Hi there"}"#,
        r#"{"type":"response.output_audio.done","response_id":"r","item_id":"i"}"#,
        r#"{"type":"response.function_call_arguments.delta","item_id":"i","call_id":"c","delta":"{"}"#,
        r#"{"type":"response.function_call_arguments.done","item_id":"i","call_id":"c","name":"f","arguments":"{}"}"#,
        r#"{"type":"conversation.item.truncated","item_id":"i","content_index":0,"audio_end_ms":1500}"#,
        r#"{"type":"rate_limits.updated","rate_limits":[{"name":"requests","limit":1000,"remaining":999,"reset_seconds":60.5}]}"#,
        r#"{"type":"error","event_id":"e","error":{"type":"invalid_request_error","code":"response_cancel_not_active","message":"Cancellation failed: no active response found","param":null,"event_id":"ev_1"}}"#,
        r#"{"type":"session.created","event_id":"e","session":{"type":"realtime","object":"realtime.session","id":"sess_1","model":"gpt-realtime","audio":{}}}"#,
        r#"{"type":"session.updated","session":{"id":"sess_1"}}"#,
        r#"{"type":"input_audio_buffer.speech_stopped","audio_end_ms":2000,"item_id":"i"}"#,
        r#"{"type":"input_audio_buffer.committed","item_id":"i","previous_item_id":"h"}"#,
        r#"{"type":"response.created","response":{"id":"r","status":"in_progress","output":[]}}"#,
        r#"{"type":"response.output_item.added","response_id":"r","item":{"id":"i","type":"message","role":"assistant","status":"in_progress","content":[]}}"#,
    ];
    for text in samples {
        assert!(
            !matches!(decode(text), RealtimeServerEvent::Unknown),
            "{text}"
        );
    }
}

#[test]
fn unknown_event_types_become_the_catch_all() {
    let text =
        r#"{"type":"input_audio_buffer.timeout_triggered","audio_start_ms":1,"item_id":"x"}"#;
    assert_eq!(decode(text), RealtimeServerEvent::Unknown);
    assert_eq!(
        peek_event_type(text).as_deref(),
        Some("input_audio_buffer.timeout_triggered")
    );
    // Beta spellings are unknown in the GA protocol, not errors.
    assert_eq!(
        decode(r#"{"type":"response.audio.delta","delta":"AA=="}"#),
        RealtimeServerEvent::Unknown
    );
}

#[test]
fn malformed_known_events_are_errors_not_panics() {
    for text in [
        r#"{"type":"response.output_audio.delta","item_id":"i"}"#,
        r#"{"type":"input_audio_buffer.speech_started","audio_start_ms":-5,"item_id":"i"}"#,
        r#"{"no_type":true}"#,
        r#"[1,2,3]"#,
        "not json",
        "",
    ] {
        assert!(RealtimeServerEvent::decode(text).is_err(), "{text}");
    }
}

const KNOWN_TYPES: &[&str] = &[
    "error",
    "session.created",
    "session.updated",
    "input_audio_buffer.speech_started",
    "input_audio_buffer.speech_stopped",
    "input_audio_buffer.committed",
    "conversation.item.added",
    "conversation.item.done",
    "conversation.item.input_audio_transcription.delta",
    "conversation.item.input_audio_transcription.completed",
    "conversation.item.input_audio_transcription.failed",
    "response.created",
    "response.done",
    "response.output_item.added",
    "response.output_item.done",
    "response.output_audio.delta",
    "response.output_audio.done",
    "response.output_audio_transcript.delta",
    "response.output_audio_transcript.done",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "conversation.item.truncated",
    "rate_limits.updated",
];

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let field = prop::sample::select(vec![
        "type",
        "item_id",
        "delta",
        "audio_start_ms",
        "audio_end_ms",
        "response",
        "item",
        "error",
        "usage",
        "status",
        "call_id",
        "name",
        "arguments",
        "transcript",
        "session",
        "id",
        "role",
    ]);
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(
            |f| serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        ),
        ".{0,12}".prop_map(serde_json::Value::from),
        prop::sample::select(KNOWN_TYPES).prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::vec((field.clone(), inner), 0..8).prop_map(|kv| {
                serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// An object whose `type` is a known event name and whose other fields are arbitrary.
fn arb_event_like() -> impl Strategy<Value = serde_json::Value> {
    (
        prop::sample::select(KNOWN_TYPES),
        prop::collection::vec(arb_json(), 0..4),
    )
        .prop_map(|(kind, values)| {
            let names = [
                "item_id",
                "delta",
                "response",
                "item",
                "error",
                "audio_end_ms",
                "transcript",
            ];
            let mut map = serde_json::Map::new();
            map.insert("type".into(), kind.into());
            for (name, value) in names.iter().zip(values) {
                map.insert((*name).into(), value);
            }
            serde_json::Value::Object(map)
        })
}

proptest! {
    #[test]
    fn decoding_arbitrary_json_never_panics(value in prop_oneof![arb_json(), arb_event_like()]) {
        let text = value.to_string();
        let _ = RealtimeServerEvent::decode(&text);
        let _ = peek_event_type(&text);
    }

    #[test]
    fn decoding_arbitrary_text_never_panics(text in ".{0,64}") {
        let _ = RealtimeServerEvent::decode(&text);
    }
}
