//! Scenarios: the opening, caller audio passthrough, a plain question and answer, and the record
//! a call leaves behind.

use super::script::*;
use crate::call::{CallAction, EndReason, Role, SessionConfig};

#[test]
fn the_agent_greets_first_when_configured_to() {
    let mut s = Script::new(SessionConfig::new("Be brief."));
    s.at(0).twilio(start());
    assert_eq!(
        s.take(),
        [
            "engine configure".to_owned(),
            r#"publish CallStarted { call_sid: "CA0001" }"#.to_owned(),
            respond_saying("Hello! How can I help you today?"),
        ]
    );
}

#[test]
fn the_agent_waits_when_the_caller_speaks_first() {
    let mut s = Script::new(caller_first());
    s.at(0).twilio(start());
    assert_eq!(
        s.take(),
        [
            "engine configure",
            r#"publish CallStarted { call_sid: "CA0001" }"#
        ]
    );
}

#[test]
fn caller_audio_is_forwarded_as_the_same_base64() {
    let mut s = Script::started(caller_first());
    s.at(20).twilio(media("//7+/w=="));
    assert_eq!(s.take(), ["engine append //7+/w=="]);
}

#[test]
fn a_question_is_answered_and_both_lines_are_written_when_heard() {
    let mut s = Script::started(caller_first());
    s.at(1_000).engine(speech_started("item_c1"));
    s.at(2_000).engine(speech_stopped("item_c1"));
    s.at(2_100).engine(response_started("resp_1"));
    assert!(s.take().is_empty());

    s.at(2_150).engine(agent_audio("item_a1", 100));
    assert_eq!(s.take(), ["media×5", "mark item_a1@100"]);

    s.at(2_200)
        .engine(caller_said("item_c1", "What are your hours?"));
    assert_eq!(s.take(), ["line Caller 1000-2000: What are your hours?"]);

    s.at(2_250).engine(agent_said("item_a1", "Nine to five."));
    s.at(2_260).engine(agent_audio_done("item_a1"));
    s.at(2_270).engine(response_done("resp_1"));
    assert!(
        s.take().is_empty(),
        "the agent line waits until the caller has heard it"
    );

    s.at(2_300).twilio(mark("item_a1@100"));
    assert_eq!(s.take(), ["line Agent 2150-2300: Nine to five."]);
}

#[test]
fn a_delta_tail_is_carried_to_the_next_delta_and_padded_at_the_end() {
    let mut s = Script::started(caller_first());
    s.at(100).engine(response_started("resp_1"));
    s.engine(agent_bytes("item_a1", 250));
    assert_eq!(s.take(), ["media×1"]);
    s.engine(agent_bytes("item_a1", 100));
    assert_eq!(s.take(), ["media×1"]);
    s.engine(agent_audio_done("item_a1"));
    assert_eq!(s.take(), ["media×1", "mark item_a1@60"]);
}

#[test]
fn the_caller_hanging_up_finishes_with_the_transcript_and_outcome() {
    let mut s = Script::started(caller_first());
    s.at(1_000).engine(speech_started("item_c1"));
    s.at(2_000)
        .engine(speech_stopped("item_c1"))
        .engine(caller_said("item_c1", "Hi."));
    s.at(2_100)
        .engine(response_started("resp_1"))
        .engine(agent_audio("item_a1", 200));
    s.engine(agent_said("item_a1", "Hello there, how can I help?"));
    s.at(2_300).twilio(mark("item_a1@200"));
    s.take();
    s.at(4_000).twilio(stop());
    let actions = s.take_actions();
    let [
        CallAction::PersistLine(last_line),
        CallAction::Finish(record),
    ] = actions.as_slice()
    else {
        panic!("{actions:?}")
    };
    assert_eq!(
        last_line.text, "Hello there, how can I help?",
        "unfinished agent lines are written at the end"
    );
    assert_eq!(record.outcome.reason, EndReason::CallerHangUp);
    assert_eq!(record.outcome.duration_ms, 4_000);
    assert_eq!(
        (record.outcome.caller_turns, record.outcome.agent_turns),
        (1, 1)
    );
    assert_eq!(record.outcome.agent_heard_ms, 200);
    let lines: Vec<_> = record
        .transcript
        .iter()
        .map(|l| (l.role, l.text.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (Role::Caller, "Hi."),
            (Role::Agent, "Hello there, how can I help?")
        ]
    );
    assert!(s.session.is_finished());
}

#[test]
fn pcm_mode_converts_through_the_codec_and_resampler_at_the_edge() {
    let mut config = caller_first();
    config.audio = crate::engines::AudioFormat::Pcm24k;
    let mut s = Script::started(config);
    let twenty_ms_of_silence =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0xFF; 160]);
    s.at(20).twilio(media(&twenty_ms_of_silence));
    assert_eq!(s.take(), ["engine append pcm×480"]);
    s.at(100).engine(response_started("resp_1"));
    s.engine(crate::engines::EngineEvent::AgentAudio {
        item_id: "item_a1".into(),
        audio: crate::engines::AgentAudio::Pcm24k(vec![0; 480]),
    });
    assert_eq!(s.take(), ["media×1"]);
    s.engine(agent_audio_done("item_a1"));
    assert_eq!(
        s.take(),
        ["media×1", "mark item_a1@40"],
        "the resampler's tail is flushed, padded"
    );
}
