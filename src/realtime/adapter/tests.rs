//! Tests for [`super::RealtimeAdapter`], including the snapshot of the `session.update` we send.

use super::*;
use crate::engines::{Eagerness, ResponseStatus, ToolSpec, Transcription};
use serde_json::json;

fn phone_session(audio: AudioFormat) -> EngineSession {
    EngineSession {
        instructions: "You are the front desk of Acme Dental. Be brief.".into(),
        voice: Some("marin".into()),
        audio,
        transcription: Some(Transcription {
            model: "gpt-4o-mini-transcribe".into(),
            language: Some("en".into()),
            prompt: None,
        }),
        turn_detection: TurnDetection::default(),
        tools: vec![ToolSpec {
            name: "end_call".into(),
            description: "Hang up after saying goodbye.".into(),
            parameters: json!({"type":"object","properties":{"reason":{"type":"string"}},"required":[]}),
        }],
    }
}

fn events_for(adapter: &mut RealtimeAdapter, command: EngineCommand) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    adapter.client_events(command, &mut out);
    out.iter()
        .map(|event| {
            let mut text = String::new();
            event.write_json(&mut text);
            serde_json::from_str(&text).unwrap()
        })
        .collect()
}

#[test]
fn session_update_for_a_mulaw_phone_call() {
    let mut adapter = RealtimeAdapter::new();
    let events = events_for(
        &mut adapter,
        EngineCommand::Configure(phone_session(AudioFormat::Mulaw8k)),
    );
    insta::assert_json_snapshot!(events[0]);
}

#[test]
fn session_update_for_pcm_uses_24k_and_semantic_vad_eagerness() {
    let mut adapter = RealtimeAdapter::new();
    let mut session = phone_session(AudioFormat::Pcm24k);
    session.turn_detection = TurnDetection::SemanticVad {
        eagerness: Eagerness::Low,
    };
    session.tools.clear();
    let events = events_for(&mut adapter, EngineCommand::Configure(session));
    let audio = &events[0]["session"]["audio"];
    assert_eq!(
        audio["input"]["format"],
        json!({"type":"audio/pcm","rate":24000})
    );
    assert_eq!(
        audio["output"]["format"],
        json!({"type":"audio/pcm","rate":24000})
    );
    assert_eq!(audio["input"]["turn_detection"]["type"], "semantic_vad");
    assert_eq!(audio["input"]["turn_detection"]["eagerness"], "low");
    assert!(events[0]["session"].get("tool_choice").is_none());
}

#[test]
fn passthrough_audio_is_appended_verbatim() {
    let mut adapter = RealtimeAdapter::new();
    let events = events_for(
        &mut adapter,
        EngineCommand::AppendAudio(CallerAudio::MulawBase64("//79/A==".into())),
    );
    assert_eq!(
        events,
        vec![json!({"type":"input_audio_buffer.append","audio":"//79/A=="})]
    );
}

#[test]
fn pcm_caller_audio_is_sent_little_endian() {
    let mut adapter = RealtimeAdapter::new();
    let events = events_for(
        &mut adapter,
        EngineCommand::AppendAudio(CallerAudio::Pcm24k(vec![1, -1])),
    );
    assert_eq!(events[0]["audio"], STANDARD.encode([1, 0, 0xFF, 0xFF]));
}

#[test]
fn tool_results_truncation_and_restore_become_items() {
    let mut adapter = RealtimeAdapter::new();
    let result = events_for(
        &mut adapter,
        EngineCommand::SendToolResult {
            call_id: "call_1".into(),
            output: r#"{"ok":true}"#.into(),
        },
    );
    assert_eq!(result[0]["item"]["type"], "function_call_output");
    let truncate = events_for(
        &mut adapter,
        EngineCommand::TruncateItem {
            item_id: "item_1".into(),
            audio_end_ms: 640,
        },
    );
    assert_eq!(
        truncate,
        vec![
            json!({"type":"conversation.item.truncate","item_id":"item_1","content_index":0,"audio_end_ms":640})
        ]
    );
    let restore = events_for(
        &mut adapter,
        EngineCommand::RestoreConversation {
            session: phone_session(AudioFormat::Mulaw8k),
            history: vec![
                HistoryTurn::Agent("Hello!".into()),
                HistoryTurn::Caller("Hi, a question.".into()),
            ],
        },
    );
    let types: Vec<_> = restore
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "session.update",
            "conversation.item.create",
            "conversation.item.create"
        ]
    );
    assert_eq!(
        restore[2]["item"]["content"][0],
        json!({"type":"input_text","text":"Hi, a question."})
    );
}

#[test]
fn audio_deltas_decode_by_the_configured_format() {
    let mut adapter = RealtimeAdapter::new();
    let text = r#"{"type":"response.output_audio.delta","item_id":"i","delta":"AQD//w=="}"#;
    let event = RealtimeServerEvent::decode(text).unwrap();
    assert_eq!(
        adapter.engine_event(event.clone()).unwrap(),
        Some(EngineEvent::AgentAudio {
            item_id: "i".into(),
            audio: AgentAudio::Mulaw(vec![1, 0, 0xFF, 0xFF])
        })
    );
    events_for(
        &mut adapter,
        EngineCommand::Configure(phone_session(AudioFormat::Pcm24k)),
    );
    assert_eq!(
        adapter.engine_event(event).unwrap(),
        Some(EngineEvent::AgentAudio {
            item_id: "i".into(),
            audio: AgentAudio::Pcm24k(vec![1, -1])
        })
    );
}

#[test]
fn bad_base64_is_an_adapter_error() {
    let adapter = RealtimeAdapter::new();
    let event = RealtimeServerEvent::decode(
        r#"{"type":"response.output_audio.delta","item_id":"i","delta":"@@"}"#,
    )
    .unwrap();
    assert_eq!(
        adapter.engine_event(event),
        Err(AdapterError::BadAudio {
            item_id: "i".into()
        })
    );
}

#[test]
fn function_calls_and_response_done_map_to_engine_events() {
    let adapter = RealtimeAdapter::new();
    let call = RealtimeServerEvent::decode(
        r#"{"type":"response.output_item.done","item":{"type":"function_call","id":"x","call_id":"c","name":"end_call","arguments":"{}"}}"#,
    )
    .unwrap();
    assert_eq!(
        adapter.engine_event(call).unwrap(),
        Some(EngineEvent::ToolCallRequested(ToolCall {
            call_id: "c".into(),
            name: "end_call".into(),
            arguments: "{}".into()
        }))
    );
    let done = RealtimeServerEvent::decode(
        r#"{"type":"response.done","response":{"id":"r","status":"completed"}}"#,
    )
    .unwrap();
    assert_eq!(
        adapter.engine_event(done).unwrap(),
        Some(EngineEvent::ResponseDone {
            response_id: "r".into(),
            status: ResponseStatus::Completed,
            usage: None
        })
    );
    assert_eq!(
        adapter.engine_event(RealtimeServerEvent::Unknown).unwrap(),
        None
    );
}

#[test]
fn session_update_for_the_default_call_configuration() {
    let config =
        crate::call::SessionConfig::new("You are the front desk of Acme Dental. Be brief.");
    let mut adapter = RealtimeAdapter::new();
    let events = events_for(
        &mut adapter,
        EngineCommand::Configure(config.engine_session()),
    );
    insta::assert_json_snapshot!(events[0]);
}
