//! `Script`: `at(ms).twilio(..).engine(..)` over a [`CallSession`], plus input builders and a
//! compact rendering of actions ("media×5", "mark item_a@100", "clear", "engine cancel", …).

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::call::config::say_exactly;
use crate::call::{CallAction, CallInput, CallSession, CallTime, Greeting, SessionConfig};
use crate::engines::{
    AgentAudio, CallerAudio, EngineCommand, EngineEvent, HistoryTurn, ResponseStatus, ToolCall,
};
use crate::twilio::TwilioInbound;
use crate::twilio::media::{MarkEcho, MediaChunk, MediaFormat, StreamStart, StreamStop, Track};

pub(super) const STREAM: &str = "MZ0001";

/// A session plus a clock: each step feeds one input at the current time and records the actions.
pub(super) struct Script {
    pub(super) session: CallSession,
    now: u64,
    actions: Vec<CallAction>,
}

impl Script {
    pub(super) fn new(config: SessionConfig) -> Self {
        Self {
            session: CallSession::new(config),
            now: 0,
            actions: Vec::new(),
        }
    }

    /// A session whose stream started at 0 ms, with the start's actions already taken.
    pub(super) fn started(config: SessionConfig) -> Self {
        let mut script = Self::new(config);
        script.at(0).twilio(start());
        script.take();
        script
    }

    /// Moves the clock to `ms`, ticking at every deadline passed on the way, as a driver would.
    pub(super) fn at(&mut self, ms: u64) -> &mut Self {
        assert!(ms >= self.now, "time goes forward: {ms} < {}", self.now);
        for _ in 0..100 {
            match self.session.next_deadline() {
                Some(deadline) if deadline.as_millis() <= ms => {
                    self.now = self.now.max(deadline.as_millis());
                    self.input(CallInput::Tick);
                }
                _ => {
                    self.now = ms;
                    return self;
                }
            }
        }
        panic!("deadline loop: the session keeps asking for ticks before {ms}");
    }

    pub(super) fn input(&mut self, input: CallInput<'_>) -> &mut Self {
        let now = CallTime::from_millis(self.now);
        self.actions.extend(self.session.handle(input, now));
        self
    }

    pub(super) fn twilio(&mut self, message: TwilioInbound<'_>) -> &mut Self {
        self.input(CallInput::Twilio(message))
    }

    pub(super) fn engine(&mut self, event: EngineEvent) -> &mut Self {
        self.input(CallInput::Engine(event))
    }

    pub(super) fn tool_result(&mut self, call_id: &str, output: &str) -> &mut Self {
        self.input(CallInput::ToolResult {
            call_id: call_id.into(),
            output: output.into(),
        })
    }

    /// The actions since the last take, rendered (runs of media frames collapsed to "media×N").
    pub(super) fn take(&mut self) -> Vec<String> {
        let mut rendered: Vec<String> = Vec::new();
        let mut media_run = 0;
        for action in std::mem::take(&mut self.actions) {
            if matches!(
                action,
                CallAction::Twilio(crate::twilio::TwilioOutbound::Media { .. })
            ) {
                media_run += 1;
                continue;
            }
            if media_run > 0 {
                rendered.push(format!("media×{media_run}"));
                media_run = 0;
            }
            rendered.push(render(&action));
        }
        if media_run > 0 {
            rendered.push(format!("media×{media_run}"));
        }
        rendered
    }

    /// The raw actions since the last take.
    pub(super) fn take_actions(&mut self) -> Vec<CallAction> {
        std::mem::take(&mut self.actions)
    }
}

/// The default configuration with the caller speaking first (no greeting in the way).
pub(super) fn caller_first() -> SessionConfig {
    let mut config = SessionConfig::new("You are the front desk of Acme Dental.");
    config.greeting = Greeting::CallerFirst;
    config
}

/// "engine respond: <instructions that make the agent say `line`>".
pub(super) fn respond_saying(line: &str) -> String {
    format!("engine respond: {}", say_exactly(line))
}

fn render(action: &CallAction) -> String {
    use crate::twilio::TwilioOutbound as Out;
    match action {
        CallAction::Twilio(Out::Media { .. }) => "media×1".into(),
        CallAction::Twilio(Out::Mark { name, .. }) => format!("mark {name}"),
        CallAction::Twilio(Out::Clear { .. }) => "clear".into(),
        CallAction::Engine(command) => format!("engine {}", render_command(command)),
        CallAction::PersistLine(line) => format!(
            "line {:?} {}-{}{}: {}",
            line.role,
            line.start_ms,
            line.end_ms,
            if line.interrupted { " interrupted" } else { "" },
            line.text
        ),
        CallAction::Publish(event) => format!("publish {event:?}"),
        CallAction::RunTool(call) => {
            format!("run_tool {} {} {}", call.name, call.call_id, call.arguments)
        }
        CallAction::RecordTool { call, output } => {
            format!("record_tool {} {} → {output}", call.name, call.call_id)
        }
        CallAction::HangUp => "hang_up".into(),
        CallAction::SayAndHangUp { line } => format!("say_and_hang_up {line}"),
        CallAction::Transfer { to } => format!("transfer {to}"),
        CallAction::ReconnectEngine => "reconnect_engine".into(),
        CallAction::Finish(record) => format!("finish {:?}", record.outcome.reason),
        CallAction::Log(diagnostic) => format!("log {diagnostic}"),
    }
}

fn render_command(command: &EngineCommand) -> String {
    match command {
        EngineCommand::Configure(_) => "configure".into(),
        EngineCommand::AppendAudio(CallerAudio::MulawBase64(audio)) => format!("append {audio}"),
        EngineCommand::AppendAudio(CallerAudio::Pcm24k(samples)) => {
            format!("append pcm×{}", samples.len())
        }
        EngineCommand::CreateResponse { instructions: None } => "respond".into(),
        EngineCommand::CreateResponse {
            instructions: Some(text),
        } => format!("respond: {text}"),
        EngineCommand::CancelResponse => "cancel".into(),
        EngineCommand::TruncateItem {
            item_id,
            audio_end_ms,
        } => format!("truncate {item_id}@{audio_end_ms}"),
        EngineCommand::SendToolResult { call_id, output } => {
            format!("tool_result {call_id} {output}")
        }
        EngineCommand::RestoreConversation { history, .. } => {
            let turns: Vec<String> = history
                .iter()
                .map(|turn| match turn {
                    HistoryTurn::Caller(text) => format!("caller: {text}"),
                    HistoryTurn::Agent(text) => format!("agent: {text}"),
                })
                .collect();
            format!("restore [{}]", turns.join(" | "))
        }
    }
}

// ---- Twilio inputs ----

pub(super) fn start() -> TwilioInbound<'static> {
    TwilioInbound::Start(StreamStart {
        sequence_number: Some(1),
        stream_sid: STREAM.into(),
        account_sid: "AC0001".into(),
        call_sid: "CA0001".into(),
        tracks: vec![Track::Inbound],
        custom_parameters: BTreeMap::new(),
        media_format: MediaFormat::mulaw_8k(),
    })
}

pub(super) fn media(payload: &str) -> TwilioInbound<'_> {
    TwilioInbound::Media(MediaChunk {
        sequence_number: Some(2),
        stream_sid: Cow::Borrowed(STREAM),
        track: Track::Inbound,
        chunk: 1,
        timestamp_ms: 20,
        payload: Cow::Borrowed(payload),
    })
}

pub(super) fn mark(name: &str) -> TwilioInbound<'static> {
    TwilioInbound::Mark(MarkEcho {
        sequence_number: None,
        stream_sid: STREAM.into(),
        name: name.into(),
    })
}

pub(super) fn stop() -> TwilioInbound<'static> {
    TwilioInbound::Stop(StreamStop {
        sequence_number: None,
        stream_sid: STREAM.into(),
        account_sid: "AC0001".into(),
        call_sid: "CA0001".into(),
    })
}

// ---- engine inputs ----

pub(super) fn speech_started(item: &str) -> EngineEvent {
    EngineEvent::CallerSpeechStarted {
        item_id: item.into(),
        audio_start_ms: 0,
    }
}

pub(super) fn speech_stopped(item: &str) -> EngineEvent {
    EngineEvent::CallerSpeechStopped {
        item_id: item.into(),
        audio_end_ms: 0,
    }
}

pub(super) fn caller_said(item: &str, text: &str) -> EngineEvent {
    EngineEvent::CallerTranscriptFinal {
        item_id: item.into(),
        text: text.into(),
    }
}

pub(super) fn response_started(id: &str) -> EngineEvent {
    EngineEvent::ResponseStarted {
        response_id: id.into(),
    }
}

pub(super) fn response_done(id: &str) -> EngineEvent {
    EngineEvent::ResponseDone {
        response_id: id.into(),
        status: ResponseStatus::Completed,
        usage: None,
    }
}

/// `ms` milliseconds of μ-law agent audio for `item`.
pub(super) fn agent_audio(item: &str, ms: usize) -> EngineEvent {
    agent_bytes(item, ms * 8)
}

/// `len` bytes of μ-law agent audio for `item`.
pub(super) fn agent_bytes(item: &str, len: usize) -> EngineEvent {
    EngineEvent::AgentAudio {
        item_id: item.into(),
        audio: AgentAudio::Mulaw(vec![0x55; len]),
    }
}

pub(super) fn agent_audio_done(item: &str) -> EngineEvent {
    EngineEvent::AgentAudioDone {
        item_id: item.into(),
    }
}

pub(super) fn agent_said(item: &str, text: &str) -> EngineEvent {
    EngineEvent::AgentTranscriptFinal {
        item_id: item.into(),
        text: text.into(),
    }
}

pub(super) fn tool_call(call_id: &str, name: &str, arguments: &str) -> EngineEvent {
    EngineEvent::ToolCallRequested(ToolCall {
        call_id: call_id.into(),
        name: name.into(),
        arguments: arguments.into(),
    })
}
