//! Engine events in the call session: agent audio into playback, transcripts into lines,
//! barge-in, response bookkeeping, and losing and restoring the engine. No I/O.

use super::{CallSession, Phase, Purpose};
use crate::call::action::{CallAction, Diagnostic, LiveEvent};
use crate::call::outcome::EndReason;
use crate::call::time::CallTime;
use crate::call::transcript::Role;
use crate::engines::{AgentAudio, EngineCommand, EngineEvent, HistoryTurn, ResponseStatus};
use crate::twilio::TwilioOutbound;

/// The wait before reconnecting an engine that failed again right after a reconnect; doubles
/// with each further failure.
const RECONNECT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(250);

/// The engine error code for a `response.create` sent while another response is active.
const ACTIVE_RESPONSE: &str = "conversation_already_has_active_response";

impl CallSession {
    pub(super) fn on_engine_event(&mut self, event: EngineEvent, now: CallTime) {
        if self.phase == Phase::AwaitingStart {
            return self.ignore("engine", "engine event before the stream started");
        }
        match event {
            EngineEvent::CallerSpeechStarted { item_id, .. } => {
                self.caller_speaking = true;
                self.reprompts_in_a_row = 0;
                self.touch(now);
                if self.caller_turns.len() == super::MAX_CALLER_TURNS {
                    self.caller_turns.pop_front();
                }
                self.caller_turns.push_back((item_id, now, None));
                if self.playback.is_speaking() {
                    self.barge_in(now);
                }
            }
            EngineEvent::CallerSpeechStopped { item_id, .. } => {
                self.caller_speaking = false;
                self.touch(now);
                if let Some(turn) = self
                    .caller_turns
                    .iter_mut()
                    .rev()
                    .find(|turn| turn.0 == item_id)
                {
                    turn.2 = Some(now);
                }
            }
            EngineEvent::CallerTranscriptDelta { text, .. } => {
                self.actions
                    .push_back(CallAction::Publish(LiveEvent::CallerTranscriptDelta {
                        text,
                    }));
            }
            EngineEvent::CallerTranscriptFinal { item_id, text } => {
                let text = text.trim();
                if text.is_empty() {
                    return;
                }
                let turn = self
                    .caller_turns
                    .iter()
                    .rev()
                    .find(|turn| turn.0 == item_id);
                let (start, end) = turn.map_or((now, now), |turn| (turn.1, turn.2.unwrap_or(now)));
                self.stats.caller_turns += 1;
                self.persist_line(Role::Caller, text.to_owned(), start, end);
            }
            EngineEvent::CallerTranscriptFailed { item_id, message } => {
                self.note(format!(
                    "caller transcription failed for {item_id}: {message}"
                ));
            }
            EngineEvent::ResponseStarted { .. } => self.on_response_started(),
            EngineEvent::AgentAudio { item_id, audio } => self.on_agent_audio(&item_id, audio, now),
            EngineEvent::AgentAudioDone { item_id } => {
                if let Some(edge) = self
                    .pcm
                    .as_mut()
                    .filter(|_| !self.playback.is_closed(&item_id))
                {
                    let tail = edge.agent_tail();
                    self.playback.push_mulaw(
                        &item_id,
                        tail,
                        0,
                        &self.stream_sid,
                        now,
                        &mut self.actions,
                    );
                }
                if !self
                    .playback
                    .finish_item(&item_id, &self.stream_sid, &mut self.actions)
                {
                    self.ignore("engine", format!("audio done for unknown item {item_id}"));
                }
            }
            EngineEvent::AgentTranscriptDelta { item_id, text } => {
                if self.playback.add_text(&item_id, &text, now) {
                    self.actions
                        .push_back(CallAction::Publish(LiveEvent::AgentTranscriptDelta {
                            text,
                        }));
                }
            }
            EngineEvent::AgentTranscriptFinal { item_id, text } => {
                self.playback.set_final_text(&item_id, text, now);
            }
            EngineEvent::ToolCallRequested(call) => self.on_tool_call(call, now),
            EngineEvent::ResponseDone { status, usage, .. } => {
                self.playback
                    .finish_all(&self.stream_sid, &mut self.actions);
                if let Some(usage) = usage {
                    self.stats.usage += usage;
                }
                if status == ResponseStatus::Completed {
                    self.engine_losses_in_a_row = 0;
                }
                self.on_response_done();
                self.touch(now);
            }
            EngineEvent::ItemTruncated { .. } => {}
            EngineEvent::Error(error) => {
                if error.code.as_deref() == Some(ACTIVE_RESPONSE) {
                    self.response.requeue_rejected();
                }
                self.actions
                    .push_back(CallAction::Log(Diagnostic::EngineError {
                        code: error.code,
                        message: error.message,
                    }));
            }
        }
    }

    fn on_agent_audio(&mut self, item_id: &str, audio: AgentAudio, now: CallTime) {
        if self.ending_said_goodbye() {
            return; // The call is closing; nothing more is played.
        }
        if self.playback.is_closed(item_id) {
            return; // Late audio of an interrupted item: dropped, never converted.
        }
        let generated_us = audio.duration_us();
        let mulaw = match &audio {
            AgentAudio::Mulaw(bytes) => bytes.as_slice(),
            AgentAudio::Pcm24k(samples) => self
                .pcm
                .get_or_insert_with(Default::default)
                .agent_audio(samples),
        };
        if self.playback.push_mulaw(
            item_id,
            mulaw,
            generated_us,
            &self.stream_sid,
            now,
            &mut self.actions,
        ) {
            self.response.current_has_audio = true;
            self.touch(now);
        }
    }

    /// The caller spoke over the agent: control beats data. Clear Twilio's buffer, stop the
    /// response, and cut each agent item to what was heard (never past what was generated, and
    /// not at all if nothing played: both are engine errors).
    fn barge_in(&mut self, now: CallTime) {
        self.actions
            .push_back(CallAction::Twilio(TwilioOutbound::clear(
                self.stream_sid.clone(),
            )));
        if self.response.active.is_some() {
            self.actions
                .push_back(CallAction::Engine(EngineCommand::CancelResponse));
        }
        if let Some(edge) = self.pcm.as_mut() {
            edge.reset_agent();
        }
        let mut heard_total = 0;
        for cut in self.playback.interrupt(now) {
            heard_total += cut.heard_ms;
            if cut.heard_ms > 0 {
                self.actions
                    .push_back(CallAction::Engine(EngineCommand::TruncateItem {
                        item_id: cut.item_id,
                        audio_end_ms: cut.heard_ms,
                    }));
            }
        }
        self.response.drop_optional_wants();
        self.stats.interruptions += 1;
        self.actions
            .push_back(CallAction::Publish(LiveEvent::BargeIn {
                heard_ms: heard_total,
            }));
    }

    pub(super) fn on_engine_lost(&mut self, reason: String, now: CallTime) {
        self.engine_up = false;
        self.caller_speaking = false;
        self.engine_losses_in_a_row += 1;
        self.response.reset();
        self.playback
            .finish_all(&self.stream_sid, &mut self.actions);
        if let Phase::Ending(ending) = &mut self.phase {
            ending.goodbye_done = true; // Nobody left to say it; close once playback drains.
        }
        if self.engine_losses_in_a_row > self.config.max_engine_reconnects {
            self.note(format!("engine lost again ({reason}); giving up"));
            let line = self.config.failure_line.clone();
            self.actions.push_back(CallAction::SayAndHangUp { line });
            return self.finish(EndReason::EngineFailed, now);
        }
        // The first attempt is immediate; an engine that fails again gets a moment, so a
        // short outage is ridden out (250 ms, 500 ms, … within the allowed attempts).
        match self.engine_losses_in_a_row {
            1 => self.actions.push_back(CallAction::ReconnectEngine),
            n => self.reconnect_at = Some(now + RECONNECT_BACKOFF * (1 << (n - 2).min(4))),
        }
        self.actions
            .push_back(CallAction::Publish(LiveEvent::EngineLost));
        self.note(format!("engine lost: {reason}"));
        for tool in std::mem::take(&mut self.tools) {
            self.note(format!(
                "tool call {} ({}) abandoned: the engine was lost",
                tool.call.call_id, tool.call.name
            ));
        }
    }

    /// A fresh engine session: configure it, replay what the caller heard, and apologise.
    pub(super) fn on_engine_reconnected(&mut self, now: CallTime) {
        if self.engine_up {
            return self.ignore("engine_reconnected", "the engine was not lost");
        }
        self.engine_up = true;
        if self.phase == Phase::AwaitingStart {
            return; // The stream's start configures the engine.
        }
        self.stats.engine_reconnects += 1;
        let mut heard: Vec<_> = self
            .lines
            .iter()
            .filter(|l| matches!(l.role, Role::Caller | Role::Agent))
            .collect();
        heard.sort_by_key(|line| line.start_ms);
        let history = heard
            .into_iter()
            .map(|line| match line.role {
                Role::Caller => HistoryTurn::Caller(line.text.clone()),
                _ => HistoryTurn::Agent(line.text.clone()),
            })
            .collect();
        let session = self.engine_session.clone();
        self.actions
            .push_back(CallAction::Engine(EngineCommand::RestoreConversation {
                session,
                history,
            }));
        self.actions
            .push_back(CallAction::Publish(LiveEvent::EngineRestored));
        self.persist_line(
            Role::System,
            "Voice engine connection lost and restored.".into(),
            now,
            now,
        );
        if self.phase == Phase::Live {
            let apology = crate::call::config::say_exactly(&self.config.apology_line);
            self.request_response(Purpose::Apology, Some(apology));
        }
        self.touch(now);
    }
}
