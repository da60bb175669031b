//! Scenarios: tool calls, the filler line, and the built-in `end_call` and `transfer_call`.

use super::script::*;
use crate::call::TransferTarget;

const KB_CALLED: &str = r#"publish ToolCalled { name: "query_knowledge_base" }"#;
const KB_RUN: &str = r#"run_tool query_knowledge_base call_1 {"query":"hours"}"#;

/// A started call where the model asked the knowledge base at 1 000 ms; its response ended at 1 010.
fn knowledge_base_asked() -> Script {
    let mut s = Script::started(caller_first());
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(tool_call(
            "call_1",
            "query_knowledge_base",
            r#"{"query":"hours"}"#,
        ));
    assert_eq!(s.take(), [KB_CALLED, KB_RUN]);
    s.at(1_010).engine(response_done("resp_1"));
    assert!(s.take().is_empty());
    s
}

#[test]
fn a_fast_tool_result_goes_to_the_engine_followed_by_a_response() {
    let mut s = knowledge_base_asked();
    s.at(1_300).tool_result("call_1", r#"{"hours":"9-5"}"#);
    assert_eq!(
        s.take(),
        [
            r#"engine tool_result call_1 {"hours":"9-5"}"#,
            "engine respond",
            r#"line Tool 1000-1300: query_knowledge_base({"query":"hours"}) → {"hours":"9-5"}"#,
        ]
    );
}

#[test]
fn a_slow_tool_gets_exactly_one_filler_line() {
    let mut s = knowledge_base_asked();
    s.at(2_499);
    assert!(s.take().is_empty());
    s.at(2_500);
    assert_eq!(s.take(), [respond_saying("One moment while I check that.")]);
    s.at(2_550)
        .engine(response_started("resp_2"))
        .engine(agent_audio("item_f", 200));
    s.engine(agent_audio_done("item_f"))
        .engine(response_done("resp_2"));
    s.at(2_750).twilio(mark("item_f@200"));
    s.take();
    s.at(5_000).tool_result("call_1", "{}");
    assert_eq!(
        s.take(),
        [
            "engine tool_result call_1 {}",
            "engine respond",
            r#"line Tool 1000-5000: query_knowledge_base({"query":"hours"}) → {}"#,
        ]
    );
}

#[test]
fn a_tool_result_during_the_filler_waits_for_the_filler_to_finish() {
    let mut s = knowledge_base_asked();
    s.at(2_500).engine(response_started("resp_2"));
    s.take();
    s.at(2_600).tool_result("call_1", "{}");
    assert_eq!(s.take()[0], "engine tool_result call_1 {}");
    s.at(2_700).engine(response_done("resp_2"));
    assert_eq!(s.take(), ["engine respond"]);
}

#[test]
fn end_call_waits_for_the_last_mark_before_hanging_up() {
    let mut s = Script::started(caller_first());
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(agent_audio("item_a1", 400));
    s.engine(agent_said("item_a1", "Goodbye!"));
    s.take();
    s.engine(tool_call("call_e", "end_call", "{}"));
    assert_eq!(
        s.take(),
        [
            r#"publish ToolCalled { name: "end_call" }"#,
            "line Tool 1000-1000: end_call({}) → ending the call",
            r#"record_tool end_call call_e → {"status":"ending the call"}"#,
            "publish Ending { reason: AgentHangUp }",
        ]
    );
    s.at(1_050)
        .engine(agent_audio_done("item_a1"))
        .engine(response_done("resp_1"));
    for (at, name) in [
        (1_100, "item_a1@100"),
        (1_200, "item_a1@200"),
        (1_300, "item_a1@300"),
    ] {
        s.at(at).twilio(mark(name));
        assert!(s.take().is_empty(), "the goodbye is still playing at {at}");
    }
    s.at(1_400).twilio(mark("item_a1@400"));
    assert_eq!(
        s.take(),
        [
            "line Agent 1000-1400: Goodbye!",
            "hang_up",
            "finish AgentHangUp"
        ]
    );
}

#[test]
fn end_call_without_a_spoken_goodbye_asks_for_one_first() {
    let mut s = Script::started(caller_first());
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(tool_call("call_e", "end_call", "{}"));
    s.take();
    s.at(1_010).engine(response_done("resp_1"));
    assert_eq!(
        s.take(),
        [respond_saying("Thank you for calling. Goodbye!")]
    );
    s.at(1_100)
        .engine(response_started("resp_2"))
        .engine(agent_audio("item_a2", 200));
    s.engine(agent_said("item_a2", "Thank you for calling. Goodbye!"));
    s.engine(agent_audio_done("item_a2"))
        .engine(response_done("resp_2"));
    s.take();
    s.at(1_200).twilio(mark("item_a2@100"));
    assert!(s.take().is_empty(), "the goodbye is still playing");
    s.at(1_300).twilio(mark("item_a2@200"));
    assert_eq!(
        s.take(),
        [
            "line Agent 1100-1300: Thank you for calling. Goodbye!",
            "hang_up",
            "finish AgentHangUp"
        ]
    );
}

#[test]
fn transfer_call_says_the_line_then_transfers_once_it_played() {
    let mut config = caller_first();
    config.tools.transfer = Some(TransferTarget {
        to: "+15550100".into(),
        line: "Let me connect you with a colleague.".into(),
    });
    let mut s = Script::started(config);
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(tool_call("call_t", "transfer_call", "{}"));
    assert_eq!(
        s.take(),
        [
            r#"publish ToolCalled { name: "transfer_call" }"#,
            "line Tool 1000-1000: transfer_call({}) → transferring to +15550100",
            r#"record_tool transfer_call call_t → {"status":"transferring"}"#,
            r#"engine tool_result call_t {"status":"transferring"}"#,
            r#"publish Ending { reason: Transferred { to: "+15550100" } }"#,
        ]
    );
    s.at(1_010).engine(response_done("resp_1"));
    assert_eq!(
        s.take(),
        [respond_saying("Let me connect you with a colleague.")]
    );
    s.at(1_100)
        .engine(response_started("resp_2"))
        .engine(agent_audio("item_a2", 200));
    s.engine(agent_said(
        "item_a2",
        "Let me connect you with a colleague.",
    ));
    s.engine(agent_audio_done("item_a2"))
        .engine(response_done("resp_2"));
    s.take();
    s.at(1_200).twilio(mark("item_a2@100"));
    assert!(s.take().is_empty(), "the transfer line is still playing");
    s.at(1_300).twilio(mark("item_a2@200"));
    assert_eq!(
        s.take(),
        [
            "line Agent 1100-1300: Let me connect you with a colleague.",
            "transfer +15550100",
            r#"finish Transferred { to: "+15550100" }"#,
        ]
    );
}

#[test]
fn an_unknown_tool_gets_an_error_result_and_the_model_answers_again() {
    let mut s = Script::started(caller_first());
    s.at(1_000)
        .engine(response_started("resp_1"))
        .engine(tool_call("call_x", "book_table", "{}"));
    assert_eq!(
        s.take(),
        [
            r#"publish ToolCalled { name: "book_table" }"#,
            r#"record_tool book_table call_x → {"error":"there is no tool named book_table"}"#,
            r#"engine tool_result call_x {"error":"there is no tool named book_table"}"#,
        ]
    );
    s.at(1_010).engine(response_done("resp_1"));
    assert_eq!(s.take(), ["engine respond"]);
}

#[test]
fn a_result_for_an_unknown_call_id_is_ignored() {
    let mut s = Script::started(caller_first());
    s.at(1_000).tool_result("call_nope", "{}");
    assert_eq!(
        s.take(),
        ["log ignored tool_result: no pending tool call call_nope"]
    );
}
