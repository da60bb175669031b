//! Scenarios: garbage and out-of-order input is logged and ignored, never fatal; plus a property
//! test that no sequence of inputs makes the session panic or run past its finish.

use proptest::prelude::*;

use super::script::*;
use crate::call::{CallInput, InputSource};
use crate::engines::EngineEvent;
use crate::twilio::TwilioInbound;
use crate::twilio::media::UnknownEvent;

#[test]
fn media_and_engine_events_before_the_start_are_ignored() {
    let mut s = Script::new(caller_first());
    s.at(0)
        .twilio(media("AAAA"))
        .engine(speech_started("item_c1"));
    assert_eq!(
        s.take(),
        [
            "log ignored twilio.media: media before the stream started",
            "log ignored engine: engine event before the stream started",
        ]
    );
}

#[test]
fn a_second_start_is_ignored() {
    let mut s = Script::started(caller_first());
    s.at(10).twilio(start());
    assert_eq!(
        s.take(),
        ["log ignored twilio.start: the stream has already started"]
    );
}

#[test]
fn marks_with_unknown_names_are_logged_and_ignored() {
    let mut s = Script::started(caller_first());
    s.at(10)
        .twilio(mark("item_zz@100"))
        .twilio(mark("no-at-sign"));
    assert_eq!(
        s.take(),
        [
            r#"log ignored twilio.mark: no agent audio was sent with mark "item_zz@100""#,
            r#"log ignored twilio.mark: no agent audio was sent with mark "no-at-sign""#,
        ]
    );
}

#[test]
fn a_second_stop_is_ignored() {
    let mut s = Script::started(caller_first());
    s.at(1_000).twilio(stop());
    assert_eq!(s.take(), ["finish CallerHangUp"]);
    s.at(1_001)
        .twilio(stop())
        .input(CallInput::CallerHungUp)
        .input(CallInput::Tick);
    assert_eq!(
        s.take(),
        [
            "log ignored twilio.stop: the call has finished",
            "log ignored caller_hung_up: the call has finished"
        ]
    );
}

#[test]
fn malformed_frames_and_unknown_events_are_logged_and_ignored() {
    let mut s = Script::started(caller_first());
    let error = TwilioInbound::parse("{not json").unwrap_err().to_string();
    s.at(10).input(CallInput::Malformed {
        source: InputSource::Twilio,
        error: error.clone(),
    });
    s.input(CallInput::Malformed {
        source: InputSource::Engine,
        error: "bad Realtime server event".into(),
    });
    s.twilio(TwilioInbound::Unknown(UnknownEvent {
        event: "mystery".into(),
        sequence_number: None,
        stream_sid: None,
    }));
    assert_eq!(
        s.take(),
        [
            format!("log ignored twilio.malformed: {error}"),
            "log ignored engine.malformed: bad Realtime server event".into(),
            r#"log ignored twilio.unknown: unknown Twilio event "mystery""#.into(),
        ]
    );
}

#[test]
fn engine_events_for_unknown_items_are_logged_and_ignored() {
    let mut s = Script::started(caller_first());
    s.at(10).engine(agent_audio_done("item_q"));
    s.engine(EngineEvent::ItemTruncated {
        item_id: "item_q".into(),
        audio_end_ms: 5,
    });
    s.engine(speech_stopped("item_never_started"));
    assert_eq!(
        s.take(),
        ["log ignored engine: audio done for unknown item item_q"]
    );
}

#[test]
fn media_for_another_stream_is_ignored() {
    let mut s = Script::started(caller_first());
    let TwilioInbound::Media(mut chunk) = media("AAAA") else {
        unreachable!()
    };
    chunk.stream_sid = "MZ-other".into();
    s.at(20).twilio(TwilioInbound::Media(chunk));
    assert_eq!(
        s.take(),
        [r#"log ignored twilio.media: media for another stream "MZ-other""#]
    );
}

#[test]
fn media_whose_payload_is_not_base64_is_dropped_and_the_next_frame_goes_through() {
    let mut s = Script::started(caller_first());
    s.at(20)
        .twilio(media("//7+/w=*"))
        .twilio(media("//7+/w="))
        .twilio(media("//7+/w=="));
    assert_eq!(
        s.take(),
        [
            "log ignored twilio.media: media payload is not valid base64: Invalid symbol 61, offset 6.",
            "log ignored twilio.media: media payload is not valid base64: Invalid input length: 7",
            "engine append //7+/w==",
        ]
    );
}

#[test]
fn shutdown_hangs_up_and_finishes() {
    let mut s = Script::started(caller_first());
    s.at(500).input(CallInput::Shutdown);
    assert_eq!(s.take(), ["hang_up", "finish Shutdown"]);
}

/// One input from a small vocabulary, in any order.
fn arb_step() -> impl Strategy<Value = (u64, u8, u8)> {
    (0u64..3_000, 0u8..22, 0u8..3)
}

fn input_for(kind: u8, item: u8) -> CallInput<'static> {
    let item = ["item_a", "item_b", "item_c"][item as usize];
    let name = format!("{item}@{}", u32::from(kind) * 20);
    match kind {
        0 => CallInput::Twilio(start()),
        1 => CallInput::Twilio(media("AAAA")),
        2 => CallInput::Twilio(mark(&name)),
        3 => CallInput::Twilio(stop()),
        4 => CallInput::Engine(speech_started(item)),
        5 => CallInput::Engine(speech_stopped(item)),
        6 => CallInput::Engine(response_started("r")),
        7 => CallInput::Engine(agent_bytes(item, 1 + usize::from(kind) * 37)),
        8 => CallInput::Engine(agent_audio_done(item)),
        9 => CallInput::Engine(agent_said(item, "Some words here.")),
        10 => CallInput::Engine(response_done("r")),
        11 => CallInput::Engine(tool_call(item, "query_knowledge_base", "{}")),
        12 => CallInput::Engine(tool_call(item, "end_call", "{}")),
        13 => CallInput::ToolResult {
            call_id: item.into(),
            output: "{}".into(),
        },
        14 => CallInput::EngineLost { reason: "x".into() },
        15 => CallInput::EngineReconnected,
        16 => CallInput::Engine(caller_said(item, "Hello?")),
        17 => CallInput::Twilio(mark(&format!("{item}@200"))),
        18 => CallInput::Malformed {
            source: InputSource::Engine,
            error: "?".into(),
        },
        19 => CallInput::Engine(agent_audio(item, 200)),
        20 => CallInput::CallerHungUp,
        _ => CallInput::Tick,
    }
}

proptest! {
    #[test]
    fn no_input_sequence_panics_and_nothing_follows_the_finish(steps in prop::collection::vec(arb_step(), 0..120)) {
        let mut s = Script::new(caller_first());
        s.at(0).twilio(start());
        let mut now = 0;
        for (gap, kind, item) in steps {
            now += gap;
            s.at(now).input(input_for(kind, item));
        }
        let actions = s.take_actions();
        let finishes = actions.iter().filter(|a| matches!(a, crate::call::CallAction::Finish(_))).count();
        prop_assert!(finishes <= 1);
        if let Some(finish) = actions.iter().position(|a| matches!(a, crate::call::CallAction::Finish(_))) {
            prop_assert!(actions[finish + 1..].iter().all(|a| matches!(a, crate::call::CallAction::Log(_))));
        }
    }
}
