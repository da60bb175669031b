//! A fake OpenAI Realtime (GA) server on `127.0.0.1:0`, for bridge tests and `simulate`.
//!
//! It speaks the wire protocol over a real WebSocket, runs a crude energy VAD over the caller's
//! μ-law, answers caller turns from a [`FakeScript`], streams tone audio at real-time pace, honours
//! `response.cancel` and `conversation.item.truncate`, and records every client event it receives
//! (see [`FakeRealtime::log`]). The protocol logic is the sync `Connection`; the task around it
//! only moves frames.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use crate::audio::mulaw;

mod connection;

use connection::Connection;

/// How the fake treats new connections: [`FakeRealtime::go_down`], [`FakeRealtime::stall`].
const UP: u8 = 0;
const DOWN: u8 = 1;
const STALLED: u8 = 2;

/// What the fake says and does, turn by turn.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeScript {
    /// Caller turns, in order; turns past the end get [`FakeScript::fallback`].
    pub turns: Vec<ScriptTurn>,
    /// The answer to an unscripted turn or a bare `response.create`.
    pub fallback: ScriptReply,
    /// Audio length of a reply to `response.create` with instructions (the text is the instructions).
    pub instructed_audio_ms: u64,
    /// Audio per `response.output_audio.delta`, also the pacing interval (20–100 ms).
    pub delta_ms: u64,
    /// RMS level (fraction of full scale) above which caller audio counts as speech.
    pub speech_threshold: f32,
    /// Speech must last this long before `speech_started`.
    pub speech_min_ms: u64,
    /// Silence that ends a caller turn.
    pub silence_ms: u64,
}

impl Default for FakeScript {
    fn default() -> Self {
        Self {
            turns: Vec::new(),
            fallback: ScriptReply::say("I see.", 400),
            instructed_audio_ms: 400,
            delta_ms: 40,
            speech_threshold: 0.05,
            speech_min_ms: 60,
            silence_ms: 500,
        }
    }
}

/// One caller turn and the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptTurn {
    /// The transcript reported for the caller's speech.
    pub caller: String,
    /// What the fake answers.
    pub reply: ScriptReply,
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptReply {
    /// Speak `text` with `audio_ms` of tone.
    Say {
        /// The transcript of the reply.
        text: String,
        /// Length of its audio.
        audio_ms: u64,
    },
    /// Call a tool; the next bare `response.create` (after the output) speaks `then`.
    CallTool {
        /// Function name.
        name: String,
        /// Arguments JSON string.
        arguments: String,
        /// The follow-up text.
        then: String,
        /// The follow-up's audio length.
        then_audio_ms: u64,
    },
}

impl ScriptReply {
    /// A spoken reply.
    pub fn say(text: impl Into<String>, audio_ms: u64) -> Self {
        Self::Say {
            text: text.into(),
            audio_ms,
        }
    }
}

/// Everything the fake saw, for assertions.
#[derive(Debug, Clone, Default)]
pub struct FakeLog {
    /// Every client event, in arrival order.
    pub received: Vec<Value>,
    /// `Authorization` header of each connection.
    pub authorizations: Vec<Option<String>>,
    /// Request paths (with query) of each connection.
    pub paths: Vec<String>,
    /// Connections opened.
    pub opened: usize,
    /// Connections whose socket has closed.
    pub closed: usize,
    /// Audio bytes generated per agent item (to check truncation bounds).
    pub generated_bytes: Vec<(String, usize)>,
    /// Connections accepted while [stalled](FakeRealtime::stall), and of those, the ones the
    /// client gave up on (closed before any answer).
    pub stalled: usize,
    /// See `stalled`.
    pub stalled_abandoned: usize,
}

impl FakeLog {
    /// Received events of one type.
    pub fn of_type(&self, kind: &str) -> Vec<&Value> {
        self.received.iter().filter(|v| v["type"] == kind).collect()
    }

    /// Milliseconds of audio generated for an item.
    pub fn generated_ms(&self, item_id: &str) -> u64 {
        self.generated_bytes
            .iter()
            .filter(|(id, _)| id == item_id)
            .map(|(_, n)| *n as u64 / 8)
            .sum()
    }
}

/// A running fake server; the listener task is aborted on drop.
#[derive(Debug)]
pub struct FakeRealtime {
    addr: std::net::SocketAddr,
    log: Arc<Mutex<FakeLog>>,
    kick: tokio::sync::watch::Sender<u64>,
    /// Set by [`FakeRealtime::go_down`] and [`FakeRealtime::stall`]: how new connections fare.
    mode: Arc<AtomicU8>,
    task: JoinHandle<()>,
}

impl Drop for FakeRealtime {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRealtime {
    /// Binds `127.0.0.1:0` and serves `script` to every connection.
    pub async fn start(script: FakeScript) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(FakeLog::default()));
        let (kick, kicked) = tokio::sync::watch::channel(0);
        let mode = Arc::new(AtomicU8::new(UP));
        let task = tokio::spawn(serve(listener, script, log.clone(), kicked, mode.clone()));
        Ok(Self {
            addr,
            log,
            kick,
            mode,
            task,
        })
    }

    /// Drops every open connection without a close frame, as a network failure would.
    pub fn drop_connections(&self) {
        self.kick.send_modify(|n| *n += 1);
    }

    /// An outage: drops every open connection and refuses new ones (the TCP connection is
    /// accepted and closed at once, so the WebSocket handshake fails).
    pub fn go_down(&self) {
        self.mode.store(DOWN, Ordering::SeqCst);
        self.drop_connections();
    }

    /// A hang: drops every open connection, then accepts new ones and never answers their
    /// WebSocket handshake, as an overloaded service or a black-holed route would.
    pub fn stall(&self) {
        self.mode.store(STALLED, Ordering::SeqCst);
        self.drop_connections();
    }

    /// The base URL to configure as the OpenAI base (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// A snapshot of what the fake saw.
    pub fn log(&self) -> FakeLog {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits (real time, polling) until `done(log)` holds; false after `timeout`.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&FakeLog) -> bool) -> bool {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            if done(&self.log()) {
                return true;
            }
            if tokio::time::Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

async fn serve(
    listener: TcpListener,
    script: FakeScript,
    log: Arc<Mutex<FakeLog>>,
    kicked: tokio::sync::watch::Receiver<u64>,
    mode: Arc<AtomicU8>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        match mode.load(Ordering::SeqCst) {
            DOWN => continue, // dropped: closed at once
            STALLED => {
                with_log(&log, |l| l.stalled += 1);
                tokio::spawn(hold_unanswered(stream, log.clone()));
                continue;
            }
            _ => {}
        }
        let mut kicked = kicked.clone();
        kicked.mark_unchanged();
        tokio::spawn(run_connection(stream, script.clone(), log.clone(), kicked));
    }
}

/// Reads and ignores whatever the client sends until it closes the connection.
async fn hold_unanswered(mut stream: tokio::net::TcpStream, log: Arc<Mutex<FakeLog>>) {
    let mut sink = [0u8; 1024];
    while let Ok(n) = tokio::io::AsyncReadExt::read(&mut stream, &mut sink).await {
        if n == 0 {
            break;
        }
    }
    with_log(&log, |l| l.stalled_abandoned += 1);
}

fn with_log(log: &Mutex<FakeLog>, f: impl FnOnce(&mut FakeLog)) {
    if let Ok(mut log) = log.lock() {
        f(&mut log);
    }
}

async fn run_connection(
    stream: tokio::net::TcpStream,
    script: FakeScript,
    log: Arc<Mutex<FakeLog>>,
    mut kicked: tokio::sync::watch::Receiver<u64>,
) {
    let header_log = log.clone();
    // The handshake callback's error type is tungstenite's, not ours.
    #[allow(clippy::result_large_err)]
    let callback = move |req: &Request, resp: Response| {
        let auth = req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let path = req.uri().to_string();
        with_log(&header_log, |l| {
            l.authorizations.push(auth);
            l.paths.push(path);
        });
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    with_log(&log, |l| l.opened += 1);
    let mut conn = Connection::new(script);
    let mut out = vec![
        json!({"type": "session.created", "session": {"id": "sess_fake", "model": "gpt-realtime"}}),
    ];
    let mut pace =
        tokio::time::interval(Duration::from_millis(conn.script.delta_ms.clamp(20, 100)));
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    'conn: loop {
        for event in out.drain(..) {
            if ws.send(Message::text(event.to_string())).await.is_err() {
                break 'conn;
            }
        }
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let Ok(event) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                    with_log(&log, |l| l.received.push(event.clone()));
                    conn.on_client_event(&event, &mut out);
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break 'conn,
                Some(Ok(_)) => {}
            },
            _ = pace.tick(), if conn.is_streaming() => conn.on_pace(&mut out),
            // Kicked, or the fake itself is gone: drop the socket without a close frame.
            _ = kicked.changed() => break 'conn,
        }
        for (item, bytes) in conn.generated.drain(..) {
            with_log(&log, |l| l.generated_bytes.push((item, bytes)));
        }
    }
    with_log(&log, |l| l.closed += 1);
}

/// `len` bytes of a 440 Hz μ-law tone at `amplitude` (of 32767), continuing from `phase`.
pub fn tone(len: usize, phase: &mut f32, amplitude: f32) -> Vec<u8> {
    let step = 2.0 * std::f32::consts::PI * 440.0 / 8_000.0;
    (0..len)
        .map(|_| {
            *phase = (*phase + step) % (2.0 * std::f32::consts::PI);
            mulaw::encode((phase.sin() * amplitude) as i16)
        })
        .collect()
}
