//! Tool calls in the call session: built-ins (`end_call`, `transfer_call`) are decided here,
//! everything else (the knowledge base included) runs outside as [`CallAction::RunTool`] and comes
//! back as a tool result. No I/O.

use super::{CallSession, Phase, Purpose};
use crate::call::action::{CallAction, LiveEvent};
use crate::call::config::{END_CALL, TRANSFER_CALL};
use crate::call::outcome::EndReason;
use crate::call::time::CallTime;
use crate::call::transcript::Role;
use crate::engines::{EngineCommand, ToolCall};

/// Tool output kept in a transcript line; the engine gets all of it.
const MAX_TOOL_LINE_CHARS: usize = 500;

/// A tool call sent out and not yet answered.
#[derive(Debug, Clone)]
pub(super) struct PendingTool {
    pub(super) call: ToolCall,
    pub(super) requested_at: CallTime,
}

impl CallSession {
    pub(super) fn on_tool_call(&mut self, call: ToolCall, now: CallTime) {
        self.stats.tool_calls += 1;
        self.actions
            .push_back(CallAction::Publish(LiveEvent::ToolCalled {
                name: call.name.clone(),
            }));
        if self.phase != Phase::Live {
            return self.ignore(
                "engine",
                format!("tool call {} while the call is ending", call.name),
            );
        }
        if !self.config.offers_tool(&call.name) {
            let output =
                serde_json::json!({ "error": format!("there is no tool named {}", call.name) })
                    .to_string();
            self.actions.push_back(CallAction::RecordTool {
                call: call.clone(),
                output: output.clone(),
            });
            self.send_tool_result(call.call_id, output);
            return self.request_response(Purpose::ToolFollowUp, None);
        }
        match call.name.as_str() {
            END_CALL => {
                self.persist_line(Role::Tool, tool_text(&call, "ending the call"), now, now);
                self.actions.push_back(CallAction::RecordTool {
                    call: call.clone(),
                    output: r#"{"status":"ending the call"}"#.into(),
                });
                // Speech already on its way is the goodbye; otherwise ask for one.
                let line = self.config.goodbye_line.clone();
                let spoke = self.response.current_has_audio || self.playback.is_speaking();
                self.begin_ending(
                    EndReason::AgentHangUp,
                    (!spoke).then_some(line.as_str()),
                    None,
                    now,
                );
            }
            TRANSFER_CALL => {
                let Some(target) = self.config.tools.transfer.clone() else {
                    return;
                };
                self.persist_line(
                    Role::Tool,
                    tool_text(&call, &format!("transferring to {}", target.to)),
                    now,
                    now,
                );
                self.actions.push_back(CallAction::RecordTool {
                    call: call.clone(),
                    output: r#"{"status":"transferring"}"#.into(),
                });
                self.send_tool_result(call.call_id, r#"{"status":"transferring"}"#.into());
                let reason = EndReason::Transferred {
                    to: target.to.clone(),
                };
                self.begin_ending(reason, Some(&target.line), Some(target.to), now);
            }
            _ => {
                if self.tools.is_empty() {
                    self.filler_done = false;
                }
                self.tools.push(PendingTool {
                    call: call.clone(),
                    requested_at: now,
                });
                self.actions.push_back(CallAction::RunTool(call));
            }
        }
    }

    pub(super) fn on_tool_result(&mut self, call_id: String, output: String, now: CallTime) {
        let Some(index) = self
            .tools
            .iter()
            .position(|tool| tool.call.call_id == call_id)
        else {
            return self.ignore("tool_result", format!("no pending tool call {call_id}"));
        };
        let tool = self.tools.remove(index);
        if self.phase != Phase::Live {
            return self.ignore(
                "tool_result",
                format!("result of {call_id} while the call is ending"),
            );
        }
        let line = tool_text(&tool.call, &output);
        self.send_tool_result(call_id, output);
        if self.tools.is_empty() {
            self.request_response(Purpose::ToolFollowUp, None);
        }
        self.persist_line(Role::Tool, line, tool.requested_at, now);
        self.touch(now);
    }

    fn send_tool_result(&mut self, call_id: String, output: String) {
        self.actions
            .push_back(CallAction::Engine(EngineCommand::SendToolResult {
                call_id,
                output,
            }));
    }
}

/// `name(arguments) → output`, the output shortened for the transcript.
fn tool_text(call: &ToolCall, output: &str) -> String {
    let mut shown: String = output.chars().take(MAX_TOOL_LINE_CHARS).collect();
    if shown.len() < output.len() {
        shown.push('…');
    }
    format!("{}({}) → {shown}", call.name, call.arguments)
}
