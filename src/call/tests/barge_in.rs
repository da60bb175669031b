//! Scenarios: the caller speaks over the agent.

use super::script::*;
use crate::engines::EngineEvent;

/// A started call with one second of agent audio for `item_a1` sent at 1 000 ms.
fn agent_speaking_for_a_second() -> Script {
    let mut s = Script::started(caller_first());
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(agent_audio("item_a1", 1_000));
    let mut expected = Vec::new();
    for ms in (100..=1_000).step_by(100) {
        expected.push("media×5".to_owned());
        expected.push(format!("mark item_a1@{ms}"));
    }
    assert_eq!(s.take(), expected);
    s
}

#[test]
fn barge_in_while_audio_is_queued_clears_cancels_and_truncates_at_the_heard_ms() {
    let mut s = agent_speaking_for_a_second();
    s.at(1_200).twilio(mark("item_a1@200"));
    s.at(1_400).twilio(mark("item_a1@400"));
    assert!(s.take().is_empty());
    s.at(1_500).engine(speech_started("item_c2"));
    assert_eq!(
        s.take(),
        [
            "clear",
            "engine cancel",
            "engine truncate item_a1@400",
            "publish BargeIn { heard_ms: 400 }"
        ]
    );
}

#[test]
fn marks_flushed_by_clear_do_not_move_the_heard_clock() {
    let mut s = agent_speaking_for_a_second();
    s.at(1_200).twilio(mark("item_a1@200"));
    s.at(1_300).engine(speech_started("item_c2"));
    s.take();
    s.at(1_310)
        .twilio(mark("item_a1@400"))
        .twilio(mark("item_a1@1000"));
    assert!(
        s.take().is_empty(),
        "stale marks are expected after a clear"
    );
}

#[test]
fn truncation_is_clamped_to_the_audio_generated() {
    let mut s = Script::started(caller_first());
    s.at(1_000).engine(response_started("resp_1"));
    // 100 bytes = 12.5 ms; its frame is padded to 20 ms when the next item starts.
    s.engine(agent_bytes("item_a1", 100))
        .engine(agent_audio("item_a2", 400));
    assert_eq!(
        s.take(),
        [
            "media×1",
            "mark item_a1@20",
            "media×5",
            "mark item_a2@100",
            "media×5",
            "mark item_a2@200",
            "media×5",
            "mark item_a2@300",
            "media×5",
            "mark item_a2@400"
        ]
    );
    s.at(1_020).twilio(mark("item_a1@20"));
    s.at(1_030).engine(speech_started("item_c2"));
    assert_eq!(
        s.take(),
        [
            "clear",
            "engine cancel",
            "engine truncate item_a1@12",
            "publish BargeIn { heard_ms: 12 }"
        ]
    );
}

#[test]
fn barge_in_before_any_audio_played_clears_and_cancels_without_truncating() {
    let mut s = Script::started(caller_first());
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(agent_audio("item_a1", 400));
    s.take();
    s.at(1_050).engine(speech_started("item_c2"));
    assert_eq!(
        s.take(),
        ["clear", "engine cancel", "publish BargeIn { heard_ms: 0 }"]
    );
}

#[test]
fn barge_in_after_the_response_finished_does_not_cancel_it() {
    let mut s = Script::started(caller_first());
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(agent_audio("item_a1", 400));
    s.engine(agent_audio_done("item_a1"))
        .engine(response_done("resp_1"));
    s.at(1_200).twilio(mark("item_a1@200"));
    s.take();
    s.at(1_250).engine(speech_started("item_c2"));
    assert_eq!(
        s.take(),
        [
            "clear",
            "engine truncate item_a1@200",
            "publish BargeIn { heard_ms: 200 }"
        ]
    );
}

#[test]
fn the_interrupted_agent_line_keeps_only_what_the_caller_heard() {
    let mut s = agent_speaking_for_a_second();
    s.engine(agent_said(
        "item_a1",
        "Our opening hours are nine to five, Monday to Friday.",
    ));
    s.at(1_200).twilio(mark("item_a1@200"));
    s.at(1_400).twilio(mark("item_a1@400"));
    s.at(1_500).engine(speech_started("item_c2"));
    assert_eq!(
        s.take(),
        [
            "clear",
            "engine cancel",
            "engine truncate item_a1@400",
            "publish BargeIn { heard_ms: 400 }",
            "line Agent 1000-1500 interrupted: Our opening hours are",
        ]
    );
}

#[test]
fn late_audio_and_text_for_an_interrupted_item_are_dropped() {
    let mut s = agent_speaking_for_a_second();
    s.at(1_100).engine(speech_started("item_c2"));
    s.take();
    s.engine(agent_audio("item_a1", 200))
        .engine(EngineEvent::AgentTranscriptDelta {
            item_id: "item_a1".into(),
            text: "more".into(),
        });
    assert!(s.take().is_empty());
}

#[test]
fn caller_speech_while_the_agent_is_silent_is_not_a_barge_in() {
    let mut s = Script::started(caller_first());
    s.at(500).engine(speech_started("item_c1"));
    assert!(s.take().is_empty());
}
