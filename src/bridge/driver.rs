//! [`CallBridge::run`]: the `select!` loop of one call. Generic over the Twilio socket
//! (`Stream` of text frames + `Sink<String>`) and the engine ([`EngineConnector`]) so tests run it
//! against channels and a loopback fake. Every decision goes through `CallSession::handle`.

use std::future::Future;
use std::pin::Pin;

use futures::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::call::{
    CallAction, CallInput, CallRecord, CallSession, CallTime, InputSource, LiveEvent,
    TranscriptLine,
};
use crate::engines::{Engine, EngineCommand, EngineConnector, EngineIoError, EngineRead, ToolCall};
use crate::twilio::TwilioInbound;

/// Something the bridge hands to the rest of the server (store, live bus, tool runner, Twilio REST).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Store (and publish) a finished transcript line.
    PersistLine(TranscriptLine),
    /// Publish a live-only event.
    Publish(LiveEvent),
    /// Run a tool; answer on the bridge's tool-result channel with the same call id.
    RunTool(ToolCall),
    /// Record a tool the session answered itself (`end_call`, `transfer_call`, unknown names).
    RecordTool {
        /// The model's call.
        call: ToolCall,
        /// What came of it.
        output: String,
    },
    /// End the phone call.
    HangUp,
    /// Say `line` in Twilio's voice, then hang up (the engine is gone).
    SayAndHangUp {
        /// What the caller hears.
        line: String,
    },
    /// Transfer the caller.
    Transfer {
        /// E.164 number or SIP URI.
        to: String,
    },
    /// The call is over; always the last effect.
    Finish(Box<CallRecord>),
}

/// How long a transfer or apology waits for Twilio to take the call over before the stream is
/// closed anyway.
const HANDOFF_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// How long opening the engine connection may take before it counts as lost, so the session
/// retries or apologises as for any other loss. Without it, an engine that accepts the
/// connection and never answers the upgrade would leave the caller in silence until the
/// operating system gave up. OpenAI's handshake, TLS included, takes well under a second.
pub const ENGINE_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// A finished tool run, sent back to the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    /// The id from [`Effect::RunTool`].
    pub call_id: String,
    /// The tool's output; errors are outputs too.
    pub output: String,
}

/// How [`CallBridge::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BridgeEnd {
    /// The session emitted `Finish`.
    Finished,
    /// The session stopped without finishing (should not happen; logged).
    Aborted,
}

/// One call's I/O: the session, its sockets and its effect channels.
pub struct CallBridge<C: EngineConnector> {
    session: CallSession,
    connector: C,
    effects: mpsc::UnboundedSender<Effect>,
    tool_results: mpsc::Receiver<ToolResult>,
    shutdown: CancellationToken,
    /// A `ReconnectEngine` is in flight; its success is reported as `EngineReconnected`.
    reconnecting: bool,
    connect_timeout: std::time::Duration,
}

type Connecting<E> = Pin<Box<dyn Future<Output = Result<E, EngineIoError>> + Send>>;

enum EngineLink<E> {
    /// Opening; commands wait in `queue`.
    Connecting(Connecting<E>),
    Up(E),
    /// Lost and not being reopened (the session decides whether to reconnect).
    Down,
}

/// What woke the loop; taken out of `select!` so the handlers may borrow everything.
enum Wake<E, TE> {
    Shutdown,
    Twilio(Option<Result<String, TE>>),
    Engine(EngineRead),
    Connected(Result<E, EngineIoError>),
    Tool(Option<ToolResult>),
    Tick,
}

impl<C: EngineConnector> CallBridge<C> {
    /// A bridge for one call; the engine connection opens when [`run`](Self::run) starts.
    pub fn new(
        session: CallSession,
        connector: C,
        effects: mpsc::UnboundedSender<Effect>,
        tool_results: mpsc::Receiver<ToolResult>,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            session,
            connector,
            effects,
            tool_results,
            shutdown,
            reconnecting: false,
            connect_timeout: ENGINE_CONNECT_TIMEOUT,
        }
    }

    /// Gives each engine connection attempt `timeout` instead of [`ENGINE_CONNECT_TIMEOUT`].
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Runs the call until the session finishes; the engine socket is closed on the way out.
    pub async fn run<R, W, TE>(self, mut twilio_rx: R, mut twilio_tx: W) -> BridgeEnd
    where
        R: Stream<Item = Result<String, TE>> + Unpin,
        W: Sink<String> + Unpin,
        W::Error: std::fmt::Display,
        TE: std::fmt::Display,
    {
        // Disjoint fields, so the session's action iterator can stay borrowed while we perform.
        let Self {
            mut session,
            connector,
            effects,
            mut tool_results,
            shutdown,
            mut reconnecting,
            connect_timeout,
        } = self;
        let emit = |effect: Effect| {
            if effects.send(effect).is_err() {
                debug!("effects receiver gone");
            }
        };
        let epoch = Instant::now();
        let now = || CallTime::from_millis(epoch.elapsed().as_millis() as u64);
        let connect = || -> Connecting<C::Engine> {
            let opening = connector.connect();
            Box::pin(async move {
                tokio::time::timeout(connect_timeout, opening)
                    .await
                    .unwrap_or_else(|_| {
                        Err(EngineIoError(format!(
                            "no engine connection within {} ms",
                            connect_timeout.as_millis()
                        )))
                    })
            })
        };
        let mut link = EngineLink::Connecting(connect());
        let mut queue: Vec<EngineCommand> = Vec::new();
        let mut out = String::with_capacity(512);
        let mut twilio_open = true;
        // A transfer or apology handed the call to new TwiML through Twilio REST.
        let mut handed_off = false;
        let mut tools_open = true;
        // Tools run and not yet answered; the result channel is only polled while one is out,
        // as polling an empty channel on every media frame costs a waker registration each time.
        let mut tools_running = 0usize;
        // A failed engine write, reported to the session as a lost engine on the next turn.
        let mut lost_engine: Option<String> = None;
        // Both futures live across turns: a fresh `cancelled()` and a fresh `Sleep` on every
        // turn would register with the token and the timer wheel once per media frame.
        let cancelled = shutdown.cancelled();
        tokio::pin!(cancelled);
        let timer = tokio::time::sleep_until(epoch);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;

        loop {
            let deadline = session
                .next_deadline()
                .map(|t| epoch + std::time::Duration::from_millis(t.as_millis()));
            if deadline != armed {
                if let Some(at) = deadline {
                    timer.as_mut().reset(at);
                }
                armed = deadline;
            }
            let wake: Wake<C::Engine, TE> = if let Some(reason) = lost_engine.take() {
                Wake::Engine(EngineRead::Closed(reason))
            } else {
                tokio::select! {
                    biased;
                    _ = &mut cancelled => Wake::Shutdown,
                    msg = twilio_rx.next(), if twilio_open => Wake::Twilio(msg),
                    // One branch for the engine link: it is either opening or reading (both cancel-safe).
                    wake = async {
                        match &mut link {
                            EngineLink::Connecting(f) => Wake::Connected(f.as_mut().await),
                            EngineLink::Up(e) => Wake::Engine(e.next_event().await),
                            EngineLink::Down => std::future::pending().await,
                        }
                    } => wake,
                    tool = tool_results.recv(), if tools_open && tools_running > 0 => Wake::Tool(tool),
                    _ = &mut timer, if armed.is_some() => Wake::Tick,
                }
            };

            // The Twilio frame must outlive the borrowed `CallInput`.
            let frame;
            let input = match wake {
                Wake::Shutdown => CallInput::Shutdown,
                Wake::Twilio(Some(Ok(text))) => {
                    frame = text;
                    match TwilioInbound::parse(&frame) {
                        Ok(msg) => CallInput::Twilio(msg),
                        Err(e) => CallInput::Malformed {
                            source: InputSource::Twilio,
                            error: e.to_string(),
                        },
                    }
                }
                Wake::Twilio(Some(Err(e))) => {
                    warn!(error = %e, "twilio socket failed");
                    twilio_open = false;
                    CallInput::CallerHungUp
                }
                Wake::Twilio(None) => {
                    twilio_open = false;
                    CallInput::CallerHungUp
                }
                Wake::Engine(EngineRead::Event(event)) => CallInput::Engine(event),
                Wake::Engine(EngineRead::Malformed(error)) => CallInput::Malformed {
                    source: InputSource::Engine,
                    error,
                },
                Wake::Engine(EngineRead::Closed(reason)) => {
                    link = EngineLink::Down;
                    CallInput::EngineLost { reason }
                }
                Wake::Connected(Ok(mut engine)) => {
                    let mut failed = None;
                    for command in queue.drain(..) {
                        if let Err(e) = engine.send(command).await {
                            failed = Some(e);
                            break;
                        }
                    }
                    match failed {
                        Some(e) => {
                            engine.close().await;
                            link = EngineLink::Down;
                            CallInput::EngineLost { reason: e.0 }
                        }
                        None => {
                            link = EngineLink::Up(engine);
                            if reconnecting {
                                reconnecting = false;
                                CallInput::EngineReconnected
                            } else {
                                CallInput::Tick
                            }
                        }
                    }
                }
                Wake::Connected(Err(e)) => {
                    link = EngineLink::Down;
                    queue.clear();
                    CallInput::EngineLost { reason: e.0 }
                }
                Wake::Tool(Some(result)) => {
                    tools_running = tools_running.saturating_sub(1);
                    CallInput::ToolResult {
                        call_id: result.call_id,
                        output: result.output,
                    }
                }
                Wake::Tool(None) => {
                    tools_open = false;
                    continue;
                }
                Wake::Tick => CallInput::Tick,
            };

            let kind = input.kind();
            let started = std::time::Instant::now();
            // Twilio messages of one input (media and its mark) go out in one write.
            let mut twilio_queued = false;
            for action in session.handle(input, now()) {
                match action {
                    CallAction::Twilio(msg) => {
                        if !twilio_open {
                            continue;
                        }
                        msg.write_json(&mut out);
                        match twilio_tx.feed(out.clone()).await {
                            Ok(()) => twilio_queued = true,
                            Err(e) => debug!(error = %e, "twilio send failed"),
                        }
                    }
                    CallAction::Engine(command) => match &mut link {
                        EngineLink::Up(engine) => {
                            if let Err(e) = engine.send(command).await {
                                warn!(error = %e, "engine send failed");
                                engine.close().await;
                                link = EngineLink::Down;
                                lost_engine = Some(e.0);
                            }
                        }
                        EngineLink::Connecting(_) => queue.push(command),
                        EngineLink::Down => debug!("engine down; command dropped"),
                    },
                    CallAction::ReconnectEngine => {
                        if let EngineLink::Up(engine) = &mut link {
                            engine.close().await;
                        }
                        queue.clear();
                        reconnecting = true;
                        link = EngineLink::Connecting(connect());
                    }
                    CallAction::PersistLine(line) => emit(Effect::PersistLine(line)),
                    CallAction::Publish(event) => emit(Effect::Publish(event)),
                    CallAction::RunTool(call) => {
                        tools_running += 1;
                        emit(Effect::RunTool(call));
                    }
                    CallAction::RecordTool { call, output } => {
                        emit(Effect::RecordTool { call, output })
                    }
                    CallAction::HangUp => emit(Effect::HangUp),
                    CallAction::SayAndHangUp { line } => {
                        handed_off = true;
                        emit(Effect::SayAndHangUp { line });
                    }
                    CallAction::Transfer { to } => {
                        handed_off = true;
                        emit(Effect::Transfer { to });
                    }
                    CallAction::Finish(record) => emit(Effect::Finish(record)),
                    CallAction::Log(diagnostic) => info!(%diagnostic, "call session"),
                }
            }
            if twilio_queued && let Err(e) = twilio_tx.flush().await {
                debug!(error = %e, "twilio send failed");
            }
            let took = started.elapsed();
            if took > std::time::Duration::from_millis(20) {
                warn!(?took, input = kind, "slow call loop iteration");
            }
            if session.is_finished() {
                break;
            }
            if !twilio_open && matches!(link, EngineLink::Down) && session.next_deadline().is_none()
            {
                warn!("call stuck with both sockets closed and no deadline");
                break;
            }
        }

        if let EngineLink::Up(engine) = &mut link {
            engine.close().await;
        }
        drop(link);
        if handed_off && twilio_open {
            // Twilio runs what follows `<Connect>` (nothing: the call ends) as soon as this
            // socket closes, so closing before the REST update lands would drop the caller
            // instead of transferring them. The new TwiML ends the stream from Twilio's side.
            let drained = async { while let Some(Ok(_)) = twilio_rx.next().await {} };
            if tokio::time::timeout(HANDOFF_WAIT, drained).await.is_err() {
                warn!("Twilio kept the stream open after the hand-off; closing it");
            }
        }
        let _ = twilio_tx.close().await;
        if session.is_finished() {
            BridgeEnd::Finished
        } else {
            BridgeEnd::Aborted
        }
    }
}
