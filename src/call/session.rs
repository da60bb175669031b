//! [`CallSession`]: the sans-I/O state machine of one phone call.
//!
//! It owns every decision of a call — forwarding audio, playback tracking, barge-in, tools,
//! timers, engine recovery, the transcript and the outcome — and none of the I/O: inputs come in
//! through [`CallSession::handle`] with the current [`CallTime`], actions come out in order.
//! Engine events are handled in `session/engine.rs`, tools in `session/tools.rs`, timers and
//! response requests in `session/timers.rs`.

mod engine;
mod timers;
mod tools;

use std::collections::VecDeque;

use super::action::{CallAction, Diagnostic, LiveEvent};
use super::config::SessionConfig;
use super::convert::PcmEdge;
use super::input::{CallInput, InputSource};
use super::outcome::{CallOutcome, CallRecord, EndReason};
use super::playback::{MarkEcho, Playback};
use super::time::CallTime;
use super::transcript::{Role, TranscriptLine};
use crate::engines::{AudioFormat, CallerAudio, EngineCommand, EngineSession, Usage};
use crate::twilio::TwilioInbound;
use crate::twilio::media::{MediaChunk, StreamStart, Track};

pub(crate) use timers::Purpose;

/// The state machine of one call.
///
/// # Invariant for callers
///
/// Call [`handle`](Self::handle) for every input, with a `now` that never goes backwards, and
/// perform **all** returned actions, in order, before the next call (dropping the iterator early
/// discards the rest). Wake the session with [`CallInput::Tick`] no later than
/// [`next_deadline`](Self::next_deadline) (re-read it after every `handle`). Engine commands
/// issued while the engine connection is being (re)opened must be queued, not dropped. Once
/// [`CallAction::Finish`] has come out, [`is_finished`](Self::is_finished) is true and further
/// inputs are ignored.
#[derive(Debug)]
pub struct CallSession {
    config: SessionConfig,
    engine_session: EngineSession,
    phase: Phase,
    stream_sid: String,
    started_at: CallTime,
    /// The `now` of the input being handled.
    now: CallTime,
    actions: VecDeque<CallAction>,
    playback: Playback,
    /// Codec and resamplers, built on first use when audio is not μ-law end to end.
    pcm: Option<Box<PcmEdge>>,
    lines: Vec<TranscriptLine>,
    /// Recent caller turns (engine item id, speech start, speech stop), for line offsets.
    caller_turns: VecDeque<(String, CallTime, Option<CallTime>)>,
    engine_up: bool,
    engine_losses_in_a_row: u32,
    /// A reconnect waiting out its back-off (the engine failed again right after a loss).
    reconnect_at: Option<CallTime>,
    response: timers::Responses,
    tools: Vec<tools::PendingTool>,
    filler_done: bool,
    caller_speaking: bool,
    last_activity: CallTime,
    reprompts_in_a_row: u32,
    stats: Stats,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    AwaitingStart,
    Live,
    Ending(Ending),
    Finished,
}

/// The call is winding down: a goodbye or transfer line plays, then the line closes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ending {
    reason: EndReason,
    since: CallTime,
    transfer_to: Option<String>,
    /// The last thing the agent will say has been generated (or nothing more will be said).
    goodbye_done: bool,
}

#[derive(Debug, Default, Clone)]
struct Stats {
    caller_turns: u32,
    agent_turns: u32,
    interruptions: u32,
    tool_calls: u32,
    reprompts: u32,
    engine_reconnects: u32,
    agent_heard_ms: u64,
    usage: Usage,
}

const MAX_CALLER_TURNS: usize = 8;

impl CallSession {
    /// A session waiting for the Twilio `start` message.
    pub fn new(config: SessionConfig) -> Self {
        Self {
            engine_session: config.engine_session(),
            config,
            phase: Phase::AwaitingStart,
            stream_sid: String::new(),
            started_at: CallTime::ZERO,
            now: CallTime::ZERO,
            actions: VecDeque::with_capacity(32),
            playback: Playback::default(),
            pcm: None,
            lines: Vec::new(),
            caller_turns: VecDeque::new(),
            engine_up: true,
            engine_losses_in_a_row: 0,
            reconnect_at: None,
            response: timers::Responses::default(),
            tools: Vec::new(),
            filler_done: false,
            caller_speaking: false,
            last_activity: CallTime::ZERO,
            reprompts_in_a_row: 0,
            stats: Stats::default(),
        }
    }

    /// Feeds one input at `now` and returns the actions to perform, in order (see the invariant).
    pub fn handle(
        &mut self,
        input: CallInput<'_>,
        now: CallTime,
    ) -> impl Iterator<Item = CallAction> + '_ {
        self.now = self.now.max(now);
        self.dispatch(input, now);
        if !self.is_finished() {
            self.write_agent_lines(now, false);
            self.fire_timers(now);
            self.maybe_complete_ending(now);
        }
        self.actions.drain(..)
    }

    /// When the session next needs a [`CallInput::Tick`], if ever.
    pub fn next_deadline(&self) -> Option<CallTime> {
        if self.is_finished() {
            return None;
        }
        self.deadlines().into_iter().flatten().min()
    }

    /// True once [`CallAction::Finish`] has been emitted.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The Twilio stream SID, once `start` has arrived.
    pub fn stream_sid(&self) -> Option<&str> {
        (!self.stream_sid.is_empty()).then_some(self.stream_sid.as_str())
    }

    fn dispatch(&mut self, input: CallInput<'_>, now: CallTime) {
        let kind = input.kind();
        if self.is_finished() {
            if !matches!(input, CallInput::Tick) {
                self.ignore(kind, "the call has finished");
            }
            return;
        }
        match input {
            CallInput::Twilio(TwilioInbound::Media(media)) => self.on_media(media),
            CallInput::Twilio(TwilioInbound::Mark(mark)) => {
                match self.playback.on_mark(&mark.name, now) {
                    MarkEcho::Heard => self.touch(now),
                    MarkEcho::Stale => {}
                    MarkEcho::Unknown => self.ignore(
                        kind,
                        format!("no agent audio was sent with mark {:?}", mark.name),
                    ),
                }
            }
            CallInput::Twilio(TwilioInbound::Start(start)) => self.on_start(start, now),
            CallInput::Twilio(TwilioInbound::Stop(_)) | CallInput::CallerHungUp => {
                self.on_caller_gone(now)
            }
            CallInput::Twilio(TwilioInbound::Connected(_)) => {}
            CallInput::Twilio(TwilioInbound::Dtmf(dtmf)) => {
                self.note(format!(
                    "caller pressed {} (DTMF is not acted on)",
                    dtmf.digit
                ));
            }
            CallInput::Twilio(TwilioInbound::Unknown(unknown)) => {
                self.ignore(kind, format!("unknown Twilio event {:?}", unknown.event));
            }
            CallInput::Malformed { source, error } => {
                let input = match source {
                    InputSource::Twilio => "twilio.malformed",
                    InputSource::Engine => "engine.malformed",
                };
                self.ignore(input, error);
            }
            CallInput::Engine(event) => self.on_engine_event(event, now),
            CallInput::ToolResult { call_id, output } => self.on_tool_result(call_id, output, now),
            CallInput::EngineLost { reason } => self.on_engine_lost(reason, now),
            CallInput::EngineReconnected => self.on_engine_reconnected(now),
            CallInput::Tick => {}
            CallInput::Shutdown => {
                self.actions.push_back(CallAction::HangUp);
                self.finish(EndReason::Shutdown, now);
            }
        }
    }

    fn on_start(&mut self, start: StreamStart, now: CallTime) {
        if self.phase != Phase::AwaitingStart {
            return self.ignore("twilio.start", "the stream has already started");
        }
        if !start.media_format.is_mulaw_8k_mono() {
            self.note(format!(
                "unexpected Twilio media format {:?}; treating it as 8 kHz μ-law",
                start.media_format
            ));
        }
        self.stream_sid = start.stream_sid;
        self.started_at = now;
        self.last_activity = now;
        self.phase = Phase::Live;
        self.actions
            .push_back(CallAction::Engine(EngineCommand::Configure(
                self.engine_session.clone(),
            )));
        self.actions
            .push_back(CallAction::Publish(LiveEvent::CallStarted {
                call_sid: start.call_sid,
            }));
        if let super::Greeting::AgentFirst(line) = &self.config.greeting {
            let instructions = super::config::say_exactly(line);
            self.request_response(Purpose::Greeting, Some(instructions));
        }
    }

    /// Caller audio: forwarded to the engine as is (μ-law passthrough). The hot path.
    fn on_media(&mut self, media: MediaChunk<'_>) {
        if !matches!(self.phase, Phase::Live | Phase::Ending(_)) {
            return self.ignore("twilio.media", "media before the stream started");
        }
        if media.track != Track::Inbound || !self.engine_up {
            return;
        }
        if media.stream_sid != self.stream_sid {
            return self.ignore(
                "twilio.media",
                format!("media for another stream {:?}", media.stream_sid),
            );
        }
        let audio = match self.config.audio {
            AudioFormat::Mulaw8k => match media.check_payload() {
                Ok(()) => CallerAudio::MulawBase64(media.payload.into_owned()),
                Err(error) => return self.ignore("twilio.media", error.to_string()),
            },
            AudioFormat::Pcm24k => match self
                .pcm
                .get_or_insert_with(Default::default)
                .caller_audio(&media)
            {
                Ok(samples) => CallerAudio::Pcm24k(samples),
                Err(error) => return self.ignore("twilio.media", error.to_string()),
            },
        };
        self.actions
            .push_back(CallAction::Engine(EngineCommand::AppendAudio(audio)));
    }

    fn on_caller_gone(&mut self, now: CallTime) {
        let reason = match &self.phase {
            Phase::Ending(ending) => ending.reason.clone(),
            _ => EndReason::CallerHangUp,
        };
        self.finish(reason, now);
    }

    /// Persists agent lines whose audio finished playing (or was cut); `force` at call end.
    fn write_agent_lines(&mut self, now: CallTime, force: bool) {
        for (line, heard_ms) in self.playback.take_lines(self.started_at, now, force) {
            self.stats.agent_turns += 1;
            self.stats.agent_heard_ms += heard_ms;
            self.persist(line);
        }
    }

    fn persist(&mut self, line: TranscriptLine) {
        self.lines.push(line.clone());
        self.actions.push_back(CallAction::PersistLine(line));
    }

    fn persist_line(&mut self, role: Role, text: String, start: CallTime, end: CallTime) {
        let line = TranscriptLine {
            role,
            text,
            start_ms: start.millis_since(self.started_at),
            end_ms: end.millis_since(self.started_at),
            interrupted: false,
        };
        self.persist(line);
    }

    /// Ends the call: writes what the caller heard, then emits the record. Idempotent.
    fn finish(&mut self, reason: EndReason, now: CallTime) {
        if self.is_finished() {
            return;
        }
        self.write_agent_lines(now, true);
        let mut transcript = self.lines.clone();
        transcript.sort_by_key(|line| line.start_ms);
        let stats = &self.stats;
        let outcome = CallOutcome {
            reason,
            duration_ms: if self.phase == Phase::AwaitingStart {
                0
            } else {
                now.millis_since(self.started_at)
            },
            caller_turns: stats.caller_turns,
            agent_turns: stats.agent_turns,
            interruptions: stats.interruptions,
            tool_calls: stats.tool_calls,
            reprompts: stats.reprompts,
            engine_reconnects: stats.engine_reconnects,
            agent_heard_ms: stats.agent_heard_ms,
            usage: stats.usage,
        };
        self.phase = Phase::Finished;
        self.actions
            .push_back(CallAction::Finish(Box::new(CallRecord {
                transcript,
                outcome,
            })));
    }

    fn touch(&mut self, now: CallTime) {
        self.last_activity = self.last_activity.max(now);
    }

    fn ignore(&mut self, input: &'static str, reason: impl Into<String>) {
        self.actions.push_back(CallAction::Log(Diagnostic::Ignored {
            input,
            reason: reason.into(),
        }));
    }

    fn note(&mut self, note: impl Into<String>) {
        self.actions
            .push_back(CallAction::Log(Diagnostic::Note(note.into())));
    }
}
