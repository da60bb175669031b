//! Scenarios: the engine connection is lost, restored, or lost for good.

use super::script::*;
use crate::call::CallInput;

/// A started call with one heard exchange: caller "Hi." (1–2 s), agent "Hello!" (2.1–2.3 s).
fn one_exchange(config: crate::call::SessionConfig) -> Script {
    let mut s = Script::started(config);
    s.at(1_000).engine(speech_started("item_c1"));
    s.at(2_000)
        .engine(speech_stopped("item_c1"))
        .engine(caller_said("item_c1", "Hi."));
    s.at(2_100)
        .engine(response_started("resp_1"))
        .engine(agent_audio("item_a1", 200));
    s.engine(agent_said("item_a1", "Hello!"))
        .engine(agent_audio_done("item_a1"))
        .engine(response_done("resp_1"));
    s.at(2_200).twilio(mark("item_a1@100"));
    s.at(2_300).twilio(mark("item_a1@200"));
    s.take();
    s
}

fn lost(reason: &str) -> CallInput<'static> {
    CallInput::EngineLost {
        reason: reason.into(),
    }
}

#[test]
fn a_lost_engine_is_reconnected_restored_with_the_heard_transcript_and_apologised_for() {
    let mut s = one_exchange(caller_first());
    s.at(3_000).input(lost("socket closed"));
    assert_eq!(
        s.take(),
        [
            "reconnect_engine",
            "publish EngineLost",
            "log engine lost: socket closed"
        ]
    );
    s.at(3_020).twilio(media("AAAA"));
    assert!(
        s.take().is_empty(),
        "caller audio is dropped while there is no engine"
    );
    s.at(3_500).input(CallInput::EngineReconnected);
    assert_eq!(
        s.take(),
        [
            "engine restore [caller: Hi. | agent: Hello!]".to_owned(),
            "publish EngineRestored".to_owned(),
            "line System 3500-3500: Voice engine connection lost and restored.".to_owned(),
            respond_saying(
                "Sorry, I lost the connection for a moment. Could you repeat the last thing you said?"
            ),
        ]
    );
    s.at(3_520).twilio(media("AAAA"));
    assert_eq!(s.take(), ["engine append AAAA"]);
}

#[test]
fn a_tool_call_in_flight_is_abandoned_when_the_engine_is_lost() {
    let mut s = one_exchange(caller_first());
    s.at(2_400)
        .engine(response_started("resp_2"))
        .engine(tool_call("call_1", "query_knowledge_base", "{}"));
    s.take();
    s.at(2_500).input(lost("reset"));
    assert_eq!(
        s.take()[3],
        "log tool call call_1 (query_knowledge_base) abandoned: the engine was lost"
    );
    s.at(2_600).tool_result("call_1", "{}");
    assert_eq!(
        s.take(),
        ["log ignored tool_result: no pending tool call call_1"]
    );
}

#[test]
fn an_engine_lost_too_often_ends_the_call() {
    let mut config = caller_first();
    config.max_engine_reconnects = 1;
    let mut s = one_exchange(config);
    s.at(3_000).input(lost("first"));
    s.at(3_500).input(CallInput::EngineReconnected);
    s.take();
    s.at(4_000).input(lost("second"));
    assert_eq!(
        s.take(),
        [
            "log engine lost again (second); giving up",
            "say_and_hang_up Sorry, we are having technical difficulties and cannot continue this call. Please call back in a few minutes. Goodbye.",
            "finish EngineFailed"
        ]
    );
}

#[test]
fn an_engine_that_fails_again_is_retried_after_a_back_off_then_given_up_with_an_apology() {
    let mut s = one_exchange(caller_first()); // three reconnects allowed
    s.at(3_000).input(lost("socket closed"));
    assert_eq!(
        s.take()[0],
        "reconnect_engine",
        "the first attempt is immediate"
    );
    s.at(3_010).input(lost("connection refused"));
    assert_eq!(
        s.take(),
        ["publish EngineLost", "log engine lost: connection refused"],
        "no attempt straight into the outage"
    );
    s.at(3_259);
    assert!(s.take().is_empty());
    s.at(3_260);
    assert_eq!(s.take(), ["reconnect_engine"], "after 250 ms");
    s.at(3_270).input(lost("connection refused"));
    s.take();
    s.at(3_769);
    assert!(s.take().is_empty());
    s.at(3_770);
    assert_eq!(s.take(), ["reconnect_engine"], "after 500 ms");
    s.at(3_780).input(lost("connection refused"));
    let actions = s.take();
    assert_eq!(
        actions[0],
        "log engine lost again (connection refused); giving up"
    );
    assert!(
        actions[1].starts_with("say_and_hang_up Sorry, we are having technical difficulties"),
        "Twilio apologises in its own voice: {actions:?}"
    );
    assert_eq!(
        actions.last().map(String::as_str),
        Some("finish EngineFailed")
    );
}
