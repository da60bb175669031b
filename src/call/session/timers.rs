//! Timers and response requests in the call session: greeting, filler, silence re-prompts,
//! the maximum duration, and the goodbye-then-hang-up ending. No clock: deadlines are computed
//! from the `now` values handed in, and nothing here does I/O.

use std::time::Duration;

use super::{CallSession, Ending, Phase};
use crate::call::action::{CallAction, LiveEvent};
use crate::call::config::say_exactly;
use crate::call::outcome::EndReason;
use crate::call::time::CallTime;
use crate::engines::EngineCommand;

/// A requested response that has not started after this long is given up on.
const RESPONSE_START_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a response was asked for; decides priority and what its end means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Purpose {
    /// Started by the engine itself (turn detection).
    Engine,
    /// "One moment…" while a tool runs.
    Filler,
    /// The opening line.
    Greeting,
    /// "Are you still there?"
    Reprompt,
    /// The answer after tool results.
    ToolFollowUp,
    /// After an engine reconnect.
    Apology,
    /// The last line before hang-up or transfer.
    Goodbye,
}

/// At most one response runs; requests made meanwhile wait (highest purpose wins).
#[derive(Debug, Default)]
pub(super) struct Responses {
    /// The response in progress, by purpose.
    pub(super) active: Option<Purpose>,
    /// Sent `CreateResponse`, not yet started.
    requested: Option<(Purpose, Option<String>)>,
    /// When `requested` was sent.
    requested_at: CallTime,
    /// Waiting for the active response to end.
    wanted: Option<(Purpose, Option<String>)>,
    /// The active response produced audio.
    pub(super) current_has_audio: bool,
}

impl Responses {
    fn busy(&self) -> bool {
        self.active.is_some() || self.requested.is_some()
    }

    fn idle(&self) -> bool {
        !self.busy() && self.wanted.is_none()
    }

    pub(super) fn reset(&mut self) {
        *self = Self::default();
    }

    /// The engine refused our `CreateResponse` because one was running: ask again later.
    pub(super) fn requeue_rejected(&mut self) {
        if let Some(request) = self.requested.take() {
            self.want(request);
        }
    }

    fn want(&mut self, request: (Purpose, Option<String>)) {
        if self
            .wanted
            .as_ref()
            .is_none_or(|wanted| wanted.0 <= request.0)
        {
            self.wanted = Some(request);
        }
    }

    /// The caller spoke: a pending filler or re-prompt would now be out of place.
    pub(super) fn drop_optional_wants(&mut self) {
        if matches!(self.wanted, Some((Purpose::Filler | Purpose::Reprompt, _))) {
            self.wanted = None;
        }
    }
}

impl CallSession {
    /// Asks the engine to respond now, or as soon as the running response ends.
    pub(super) fn request_response(&mut self, purpose: Purpose, instructions: Option<String>) {
        if self.response.busy() || !self.engine_up {
            return self.response.want((purpose, instructions));
        }
        self.actions
            .push_back(CallAction::Engine(EngineCommand::CreateResponse {
                instructions: instructions.clone(),
            }));
        self.response.requested = Some((purpose, instructions));
        self.response.requested_at = self.now;
    }

    pub(super) fn on_response_started(&mut self) {
        let purpose = self
            .response
            .requested
            .take()
            .map_or(Purpose::Engine, |(purpose, _)| purpose);
        self.response.active = Some(purpose);
        self.response.current_has_audio = false;
        if self.ending_said_goodbye() {
            // The engine answered something after the goodbye (e.g. the caller spoke): stop it.
            self.actions
                .push_back(CallAction::Engine(EngineCommand::CancelResponse));
        }
    }

    pub(super) fn on_response_done(&mut self) {
        let finished = self.response.active.take();
        if finished == Some(Purpose::Goodbye)
            && let Phase::Ending(ending) = &mut self.phase
        {
            ending.goodbye_done = true;
        }
        if !self.response.busy()
            && self.engine_up
            && let Some((purpose, instructions)) = self.response.wanted.take()
        {
            self.request_response(purpose, instructions);
        }
    }

    /// True once the ending's last line is generated: anything the engine says now is dropped.
    pub(super) fn ending_said_goodbye(&self) -> bool {
        matches!(&self.phase, Phase::Ending(ending) if ending.goodbye_done)
    }

    /// Starts winding down. With a `line`, the agent says it first; without, the agent's current
    /// speech is the goodbye (`end_call` after speaking). Hang-up or transfer follows once the
    /// last line has played, or after the grace period.
    pub(super) fn begin_ending(
        &mut self,
        reason: EndReason,
        line: Option<&str>,
        transfer_to: Option<String>,
        now: CallTime,
    ) {
        if self.phase != Phase::Live {
            return;
        }
        let mut ending = Ending {
            reason: reason.clone(),
            since: now,
            transfer_to,
            goodbye_done: false,
        };
        match line {
            Some(_) if !self.engine_up => ending.goodbye_done = true,
            Some(line) => self.request_response(Purpose::Goodbye, Some(say_exactly(line))),
            None if self.response.active.is_some() => self.response.active = Some(Purpose::Goodbye),
            None => ending.goodbye_done = true,
        }
        self.phase = Phase::Ending(ending);
        self.actions
            .push_back(CallAction::Publish(LiveEvent::Ending { reason }));
    }

    /// Hangs up (or transfers) once the goodbye was generated, nothing else is pending, and
    /// Twilio has echoed the marks of all of it — or when the grace period is over.
    pub(super) fn maybe_complete_ending(&mut self, now: CallTime) {
        let Phase::Ending(ending) = &self.phase else {
            return;
        };
        let drained = ending.goodbye_done && self.response.idle() && !self.playback.is_speaking();
        if !drained && now < ending.since + self.config.ending_grace {
            return;
        }
        let (reason, transfer_to) = (ending.reason.clone(), ending.transfer_to.clone());
        self.actions.push_back(match transfer_to {
            Some(to) => CallAction::Transfer { to },
            None => CallAction::HangUp,
        });
        self.finish(reason, now);
    }

    fn mutually_silent(&self) -> bool {
        self.phase == Phase::Live
            && self.engine_up
            && !self.caller_speaking
            && self.response.idle()
            && self.tools.is_empty()
            && !self.playback.is_speaking()
    }

    /// [max duration, ending grace, silence, tool filler, response start watchdog, engine
    /// reconnect].
    pub(super) fn deadlines(&self) -> [Option<CallTime>; 6] {
        let max_duration =
            (self.phase == Phase::Live).then(|| self.started_at + self.config.max_duration);
        let grace = match &self.phase {
            Phase::Ending(ending) => Some(ending.since + self.config.ending_grace),
            _ => None,
        };
        let silence = self
            .mutually_silent()
            .then(|| self.last_activity + self.config.silence.reprompt_after);
        let filler = (self.phase == Phase::Live && !self.filler_done)
            .then(|| self.tools.iter().map(|tool| tool.requested_at).min())
            .flatten()
            .map(|first| first + self.config.tool_filler_after);
        let watchdog = self
            .response
            .requested
            .as_ref()
            .map(|_| self.response.requested_at + RESPONSE_START_TIMEOUT);
        [
            max_duration,
            grace,
            silence,
            filler,
            watchdog,
            self.reconnect_at,
        ]
    }

    pub(super) fn fire_timers(&mut self, now: CallTime) {
        let [max_duration, _, silence, filler, watchdog, reconnect] = self.deadlines();
        if reconnect.is_some_and(|at| now >= at) {
            self.reconnect_at = None;
            self.actions.push_back(CallAction::ReconnectEngine);
        }
        if watchdog.is_some_and(|at| now >= at)
            && let Some((purpose, _)) = self.response.requested.take()
        {
            // Never started: do not wait on it forever (a goodbye that will not come is done).
            self.note(format!(
                "the engine did not start the requested {purpose:?} response"
            ));
            if let (Purpose::Goodbye, Phase::Ending(ending)) = (purpose, &mut self.phase) {
                ending.goodbye_done = true;
            }
        }
        if max_duration.is_some_and(|at| now >= at) {
            let line = self.config.max_duration_line.clone();
            return self.begin_ending(EndReason::MaxDuration, Some(&line), None, now);
        }
        if filler.is_some_and(|at| now >= at) {
            self.filler_done = true;
            // Say it only into silence; if the agent is audible, the caller is not waiting in silence.
            if !self.response.busy() && !self.playback.is_speaking() {
                let filler = say_exactly(&self.config.filler_line);
                self.request_response(Purpose::Filler, Some(filler));
            }
        }
        if silence.is_some_and(|at| now >= at) {
            if self.reprompts_in_a_row < self.config.silence.max_reprompts {
                self.reprompts_in_a_row += 1;
                self.stats.reprompts += 1;
                self.touch(now);
                let line = say_exactly(&self.config.silence.reprompt_line);
                self.request_response(Purpose::Reprompt, Some(line));
            } else {
                let line = self.config.silence.goodbye_line.clone();
                self.begin_ending(EndReason::Silence, Some(&line), None, now);
            }
        }
    }
}
