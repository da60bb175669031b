//! Scenarios: silence re-prompts, the maximum duration, and the ending's grace period.

use std::time::Duration;

use super::script::*;
use crate::call::SessionConfig;

/// A reply of 200 ms of audio for `item`, from `at` ms, fully generated.
fn agent_replies(s: &mut Script, at: u64, item: &str, text: &str) {
    s.at(at)
        .engine(response_started("resp"))
        .engine(agent_audio(item, 200))
        .engine(agent_said(item, text));
    s.engine(agent_audio_done(item))
        .engine(response_done("resp"));
}

fn long_silence_allowed(mut config: SessionConfig) -> SessionConfig {
    config.silence.reprompt_after = Duration::from_secs(600);
    config.max_duration = Duration::from_secs(60);
    config
}

#[test]
fn silence_gets_a_reprompt_then_a_polite_hang_up() {
    let mut s = Script::started(caller_first());
    s.at(7_999);
    assert!(s.take().is_empty());
    s.at(8_000);
    assert_eq!(s.take(), [respond_saying("Are you still there?")]);
    agent_replies(&mut s, 8_100, "item_r1", "Are you still there?");
    s.at(8_200).twilio(mark("item_r1@100"));
    s.at(8_300).twilio(mark("item_r1@200"));
    s.take();

    s.at(16_300);
    assert_eq!(s.take(), [respond_saying("Are you still there?")]);
    s.at(16_400)
        .engine(response_started("resp"))
        .engine(response_done("resp"));

    s.at(24_400);
    assert_eq!(
        s.take(),
        [
            respond_saying("I'll let you go now. Feel free to call back any time. Goodbye!"),
            "publish Ending { reason: Silence }".to_owned(),
        ]
    );
    agent_replies(&mut s, 24_500, "item_g", "Goodbye!");
    s.take();
    s.at(24_600).twilio(mark("item_g@100"));
    assert!(s.take().is_empty(), "the goodbye is still playing");
    s.at(24_700).twilio(mark("item_g@200"));
    assert_eq!(
        s.take(),
        [
            "line Agent 24500-24700: Goodbye!",
            "hang_up",
            "finish Silence"
        ]
    );
}

#[test]
fn the_caller_speaking_resets_the_silence_clock() {
    let mut s = Script::started(caller_first());
    s.at(5_000).engine(speech_started("item_c1"));
    s.at(6_000).engine(speech_stopped("item_c1"));
    s.at(13_999);
    assert!(s.take().is_empty());
    s.at(14_000);
    assert_eq!(s.take(), [respond_saying("Are you still there?")]);
}

#[test]
fn max_duration_says_goodbye_then_hangs_up() {
    let mut s = Script::started(long_silence_allowed(caller_first()));
    s.at(60_000);
    let goodbye =
        "I'm sorry, we've reached the time limit for this call. Thank you for calling, goodbye!";
    assert_eq!(
        s.take(),
        [
            respond_saying(goodbye),
            "publish Ending { reason: MaxDuration }".to_owned()
        ]
    );
    agent_replies(&mut s, 60_100, "item_g", goodbye);
    s.take();
    s.at(60_200).twilio(mark("item_g@100"));
    assert!(s.take().is_empty(), "the goodbye is still playing");
    s.at(60_300).twilio(mark("item_g@200"));
    assert_eq!(
        s.take(),
        [
            format!("line Agent 60100-60300: {goodbye}"),
            "hang_up".into(),
            "finish MaxDuration".into()
        ]
    );
}

#[test]
fn max_duration_lets_the_agent_finish_its_sentence_first() {
    let mut s = Script::started(long_silence_allowed(caller_first()));
    s.at(59_900)
        .engine(response_started("resp_1"))
        .engine(agent_audio("item_a1", 200));
    s.take();
    s.at(60_000);
    assert_eq!(s.take(), ["publish Ending { reason: MaxDuration }"]);
    s.at(60_050)
        .engine(agent_audio_done("item_a1"))
        .engine(response_done("resp_1"));
    assert_eq!(
        s.take(),
        [respond_saying(
            "I'm sorry, we've reached the time limit for this call. Thank you for calling, goodbye!"
        )]
    );
}

#[test]
fn a_goodbye_the_engine_never_starts_is_given_up_after_five_seconds() {
    let mut s = Script::started(long_silence_allowed(caller_first()));
    s.at(60_000);
    s.take();
    s.at(64_999);
    assert!(s.take().is_empty());
    s.at(65_000);
    assert_eq!(
        s.take(),
        [
            "log the engine did not start the requested Goodbye response",
            "hang_up",
            "finish MaxDuration"
        ]
    );
}

#[test]
fn a_goodbye_whose_marks_never_come_back_hangs_up_after_the_grace_period() {
    let mut s = Script::started(long_silence_allowed(caller_first()));
    s.at(60_000);
    agent_replies(&mut s, 60_100, "item_g", "Goodbye!");
    s.take();
    s.at(74_999);
    assert!(s.take().is_empty());
    s.at(75_000);
    assert_eq!(
        s.take(),
        ["hang_up", "finish MaxDuration"],
        "no mark came back, so the caller heard nothing and no agent line is written"
    );
}

#[test]
fn the_next_deadline_is_the_earliest_timer() {
    let mut s = Script::started(caller_first());
    assert_eq!(
        s.session.next_deadline().map(|t| t.as_millis()),
        Some(8_000)
    );
    s.at(100).engine(speech_started("item_c1"));
    assert_eq!(
        s.session.next_deadline().map(|t| t.as_millis()),
        Some(15 * 60 * 1_000)
    );
}
