//! Bridge tests: the real driver against in-memory Twilio channels and the OpenAI Realtime fake
//! over a real loopback WebSocket, in real time (the fake paces audio like the real service).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures::StreamExt;
use futures::channel::mpsc as fmpsc;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{BridgeEnd, CallBridge, ENGINE_CONNECT_TIMEOUT, Effect, ToolResult};
use crate::call::{CallSession, EndReason, LiveEvent, Role, SessionConfig};
use crate::engines::ToolSpec;
use crate::engines::openai_realtime::OpenAiRealtimeConfig;
use crate::fakes::openai_realtime::{FakeRealtime, FakeScript, ScriptReply, ScriptTurn, tone};
use crate::twilio::TwilioInbound;
use crate::twilio::media::{MediaChunk, MediaFormat, StreamStart, Track};

const STREAM: &str = "MZ0001";
const WAIT: Duration = Duration::from_secs(10);

/// One call under test: the fake engine, a scripted phone on the Twilio side, the effects.
struct TestCall {
    fake: FakeRealtime,
    to_bridge: fmpsc::UnboundedSender<Result<String, Infallible>>,
    /// Everything the bridge sent to Twilio, as JSON.
    sent_to_twilio: Arc<Mutex<Vec<Value>>>,
    phone: JoinHandle<()>,
    effects: mpsc::UnboundedReceiver<Effect>,
    seen_effects: Vec<Effect>,
    bridge: JoinHandle<BridgeEnd>,
    tools: mpsc::Sender<ToolResult>,
    shutdown: CancellationToken,
    chunk: u64,
}

fn config() -> SessionConfig {
    let mut config = SessionConfig::new("You are a test agent.");
    config.greeting = crate::call::Greeting::AgentFirst("Hello there.".into());
    config
}

async fn spawn_call(script: FakeScript) -> TestCall {
    spawn_call_with(script, config()).await
}

async fn spawn_call_with(script: FakeScript, config: SessionConfig) -> TestCall {
    let fake = FakeRealtime::start(script).await.expect("fake starts");
    spawn_call_on(fake, config, ENGINE_CONNECT_TIMEOUT)
}

/// A call whose engine is `fake`, as it is now (up, down or stalled).
fn spawn_call_on(fake: FakeRealtime, config: SessionConfig, connect_timeout: Duration) -> TestCall {
    let connector = OpenAiRealtimeConfig {
        base_url: fake.base_url(),
        model: "gpt-realtime".into(),
        api_key: "sk-test".into(),
    };
    let (to_bridge, twilio_rx) = fmpsc::unbounded::<Result<String, Infallible>>();
    let (twilio_tx, mut from_bridge) = fmpsc::unbounded::<String>();
    let (effects_tx, effects) = mpsc::unbounded_channel();
    let (tools_tx, tools_rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let bridge = CallBridge::new(
        CallSession::new(config),
        connector,
        effects_tx,
        tools_rx,
        shutdown.clone(),
    )
    .with_connect_timeout(connect_timeout);
    let bridge = tokio::spawn(bridge.run(twilio_rx, twilio_tx));

    // The phone: records what the bridge sends and echoes every mark at once (as if played).
    let sent_to_twilio = Arc::new(Mutex::new(Vec::new()));
    let (record, echo) = (sent_to_twilio.clone(), to_bridge.clone());
    let phone = tokio::spawn(async move {
        while let Some(text) = from_bridge.next().await {
            let Ok(msg) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if msg["event"] == "mark" {
                let name = msg["mark"]["name"].as_str().unwrap_or_default();
                let echoed = serde_json::json!({
                    "event": "mark", "streamSid": STREAM, "sequenceNumber": "9", "mark": {"name": name},
                });
                let _ = echo.unbounded_send(Ok(echoed.to_string()));
            }
            record.lock().expect("lock").push(msg);
        }
    });

    let start = TwilioInbound::Start(StreamStart {
        sequence_number: Some(1),
        stream_sid: STREAM.into(),
        account_sid: "AC0001".into(),
        call_sid: "CA0001".into(),
        tracks: vec![Track::Inbound],
        custom_parameters: BTreeMap::new(),
        media_format: MediaFormat::mulaw_8k(),
    });
    to_bridge
        .unbounded_send(Ok(start.to_json()))
        .expect("bridge listens");
    TestCall {
        fake,
        to_bridge,
        sent_to_twilio,
        phone,
        effects,
        seen_effects: Vec::new(),
        bridge,
        tools: tools_tx,
        shutdown,
        chunk: 0,
    }
}

impl TestCall {
    fn twilio(&self) -> Vec<Value> {
        self.sent_to_twilio.lock().expect("lock").clone()
    }

    async fn wait_for_twilio(&self, done: impl Fn(&[Value]) -> bool) -> bool {
        let until = tokio::time::Instant::now() + WAIT;
        while tokio::time::Instant::now() < until {
            if done(&self.twilio()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        false
    }

    async fn wait_for_effect(&mut self, done: impl Fn(&Effect) -> bool) -> Option<Effect> {
        if let Some(e) = self.seen_effects.iter().find(|e| done(e)) {
            return Some(e.clone());
        }
        let until = tokio::time::Instant::now() + WAIT;
        while let Ok(Some(effect)) = tokio::time::timeout_at(until, self.effects.recv()).await {
            self.seen_effects.push(effect.clone());
            if done(&effect) {
                return Some(effect);
            }
        }
        None
    }

    /// Sends `ms` of caller audio in 20 ms media frames at real-time pace.
    async fn speak(&mut self, ms: u64, loud: bool) {
        let mut phase = 0.0;
        let mut pace = tokio::time::interval(Duration::from_millis(20));
        for _ in 0..ms / 20 {
            pace.tick().await;
            let audio = if loud {
                tone(160, &mut phase, 8_000.0)
            } else {
                vec![0xFF; 160]
            };
            self.chunk += 1;
            let payload = STANDARD.encode(audio);
            let media = TwilioInbound::Media(MediaChunk {
                sequence_number: Some(self.chunk + 1),
                stream_sid: Cow::Borrowed(STREAM),
                track: Track::Inbound,
                chunk: self.chunk,
                timestamp_ms: self.chunk * 20,
                payload: Cow::Owned(payload),
            });
            let _ = self.to_bridge.unbounded_send(Ok(media.to_json()));
        }
    }
}

fn is_caller_line(effect: &Effect, text: &str) -> bool {
    matches!(effect, Effect::PersistLine(line) if line.role == Role::Caller && line.text == text)
}

fn is_agent_line(effect: &Effect, text: &str) -> bool {
    matches!(effect, Effect::PersistLine(line) if line.role == Role::Agent && line.text.contains(text))
}

#[tokio::test]
async fn the_greeting_reaches_twilio_as_20_ms_media_frames_followed_by_marks() {
    let call = spawn_call(FakeScript::default()).await;

    assert!(
        call.wait_for_twilio(|sent| sent.iter().filter(|m| m["event"] == "mark").count() >= 2)
            .await
    );

    let sent = call.twilio();
    assert_eq!(sent[0]["event"], "media", "audio comes before its mark");
    for media in sent.iter().filter(|m| m["event"] == "media") {
        assert_eq!(media["streamSid"], STREAM);
        let audio = STANDARD
            .decode(media["media"]["payload"].as_str().unwrap_or_default())
            .expect("base64");
        assert_eq!(audio.len(), 160, "every frame is 20 ms of μ-law");
    }
    let log = call.fake.log();
    assert_eq!(
        log.received[0]["type"], "session.update",
        "the queued configure goes first"
    );
    assert_eq!(log.authorizations, [Some("Bearer sk-test".to_owned())]);
    assert_eq!(log.paths, ["/v1/realtime?model=gpt-realtime"]);
}

#[tokio::test]
async fn a_caller_utterance_is_persisted_as_a_line_and_answered() {
    let script = FakeScript {
        instructed_audio_ms: 200,
        turns: vec![ScriptTurn {
            caller: "What are your hours?".into(),
            reply: ScriptReply::say("Nine to five.", 200),
        }],
        ..FakeScript::default()
    };
    let mut call = spawn_call(script).await;
    assert!(
        call.wait_for_effect(|e| is_agent_line(e, "Hello there."))
            .await
            .is_some(),
        "greeting played"
    );

    call.speak(300, true).await;
    call.speak(600, false).await;

    assert!(
        call.wait_for_effect(|e| is_caller_line(e, "What are your hours?"))
            .await
            .is_some()
    );
    assert!(
        call.wait_for_effect(|e| is_agent_line(e, "Nine to five."))
            .await
            .is_some()
    );
    assert!(
        !call
            .fake
            .log()
            .of_type("input_audio_buffer.append")
            .is_empty()
    );
}

#[tokio::test]
async fn barge_in_clears_twilio_cancels_the_response_and_truncates_within_the_generated_audio() {
    let script = FakeScript {
        instructed_audio_ms: 5_000,
        ..FakeScript::default()
    };
    let mut call = spawn_call(script).await;
    assert!(
        call.wait_for_twilio(|sent| sent.iter().filter(|m| m["event"] == "media").count() >= 10)
            .await
    );

    call.speak(200, true).await;

    assert!(
        call.wait_for_twilio(|sent| sent.iter().any(|m| m["event"] == "clear"))
            .await,
        "twilio cleared"
    );
    let fake = &call.fake;
    assert!(
        fake.wait_until(WAIT, |log| !log.of_type("response.cancel").is_empty()
            && !log.of_type("conversation.item.truncate").is_empty())
            .await
    );
    let log = fake.log();
    let truncate = log.of_type("conversation.item.truncate")[0].clone();
    let item_id = truncate["item_id"].as_str().unwrap_or_default();
    let audio_end_ms = truncate["audio_end_ms"].as_u64().unwrap_or_default();
    assert!(audio_end_ms > 0);
    assert!(
        audio_end_ms <= log.generated_ms(item_id),
        "{audio_end_ms} ms > generated {} ms",
        log.generated_ms(item_id)
    );
}

#[tokio::test]
async fn the_twilio_socket_closing_abruptly_finishes_the_call_and_closes_the_engine_socket() {
    let mut call = spawn_call(FakeScript::default()).await;
    assert!(call.fake.wait_until(WAIT, |log| log.opened == 1).await);
    assert!(call.wait_for_twilio(|sent| !sent.is_empty()).await);

    call.phone.abort();
    call.to_bridge.close_channel();

    let end = tokio::time::timeout(WAIT, &mut call.bridge)
        .await
        .expect("bridge ends")
        .expect("no panic");
    assert_eq!(end, BridgeEnd::Finished);
    assert!(
        call.wait_for_effect(|e| matches!(e, Effect::Finish(_)))
            .await
            .is_some()
    );
    assert!(
        call.fake.wait_until(WAIT, |log| log.closed == 1).await,
        "engine socket closed"
    );
}

#[tokio::test]
async fn a_scripted_tool_call_runs_as_an_effect_and_its_result_gets_a_spoken_follow_up() {
    let script = FakeScript {
        instructed_audio_ms: 200,
        turns: vec![ScriptTurn {
            caller: "Where is my order?".into(),
            reply: ScriptReply::CallTool {
                name: "check_order".into(),
                arguments: r#"{"order":"42"}"#.into(),
                then: "It ships tomorrow.".into(),
                then_audio_ms: 200,
            },
        }],
        ..FakeScript::default()
    };
    let mut config = config();
    config.tools.custom.push(ToolSpec {
        name: "check_order".into(),
        description: "Look up an order.".into(),
        parameters: serde_json::json!({"type": "object", "properties": {"order": {"type": "string"}}}),
    });
    let mut call = spawn_call_with(script, config).await;
    assert!(
        call.wait_for_effect(|e| is_agent_line(e, "Hello there."))
            .await
            .is_some()
    );

    call.speak(300, true).await;
    call.speak(600, false).await;
    let Some(Effect::RunTool(tool)) = call
        .wait_for_effect(|e| matches!(e, Effect::RunTool(_)))
        .await
    else {
        panic!("no RunTool effect");
    };
    assert_eq!(
        (tool.name.as_str(), tool.arguments.as_str()),
        ("check_order", r#"{"order":"42"}"#)
    );
    call.tools
        .send(ToolResult {
            call_id: tool.call_id.clone(),
            output: r#"{"ships":"tomorrow"}"#.into(),
        })
        .await
        .expect("bridge takes results");

    assert!(
        call.wait_for_effect(|e| is_agent_line(e, "It ships tomorrow."))
            .await
            .is_some()
    );
    let log = call.fake.log();
    let outputs = log.of_type("conversation.item.create");
    assert!(
        outputs
            .iter()
            .any(|e| e["item"]["type"] == "function_call_output"
                && e["item"]["call_id"] == tool.call_id.as_str())
    );
}

#[tokio::test]
async fn a_dropped_engine_connection_is_reopened_and_the_session_restored() {
    let script = FakeScript {
        instructed_audio_ms: 200,
        ..FakeScript::default()
    };
    let mut call = spawn_call(script).await;
    assert!(
        call.wait_for_effect(|e| is_agent_line(e, "Hello there."))
            .await
            .is_some()
    );

    call.fake.drop_connections();

    assert!(
        call.wait_for_effect(|e| matches!(e, Effect::Publish(LiveEvent::EngineRestored)))
            .await
            .is_some()
    );
    assert!(
        call.fake
            .wait_until(WAIT, |log| log.opened == 2
                && log.of_type("session.update").len() == 2)
            .await
    );
    assert_eq!(
        call.fake.log().closed,
        1,
        "only the dropped connection is closed"
    );
}

#[tokio::test]
async fn server_shutdown_hangs_up_finishes_and_closes_the_engine_socket() {
    let mut call = spawn_call(FakeScript::default()).await;
    assert!(call.fake.wait_until(WAIT, |log| log.opened == 1).await);

    call.shutdown.cancel();

    let end = tokio::time::timeout(WAIT, &mut call.bridge)
        .await
        .expect("bridge ends")
        .expect("no panic");
    assert_eq!(end, BridgeEnd::Finished);
    assert!(
        call.wait_for_effect(|e| matches!(e, Effect::HangUp))
            .await
            .is_some()
    );
    assert!(
        call.wait_for_effect(|e| matches!(e, Effect::Finish(_)))
            .await
            .is_some()
    );
    assert!(
        call.fake.wait_until(WAIT, |log| log.closed == 1).await,
        "engine socket closed"
    );
}

#[tokio::test]
async fn the_maximum_duration_hangs_up_finishes_and_closes_the_engine_socket() {
    let mut config = config();
    config.max_duration = Duration::from_secs(1);

    let mut call = spawn_call_with(FakeScript::default(), config).await;

    let end = tokio::time::timeout(WAIT, &mut call.bridge)
        .await
        .expect("bridge ends")
        .expect("no panic");
    assert_eq!(end, BridgeEnd::Finished);
    let Some(Effect::Finish(record)) = call
        .wait_for_effect(|e| matches!(e, Effect::Finish(_)))
        .await
    else {
        panic!("the call did not finish: {:?}", call.seen_effects);
    };
    assert_eq!(record.outcome.reason, EndReason::MaxDuration);
    assert!(
        record.outcome.duration_ms >= 1_000,
        "ended by the limit, after {} ms",
        record.outcome.duration_ms
    );
    assert!(
        call.wait_for_effect(|e| matches!(e, Effect::HangUp))
            .await
            .is_some(),
        "Twilio is told to hang up: {:?}",
        call.seen_effects
    );
    let closed = call
        .fake
        .wait_until(WAIT, |log| log.opened == 1 && log.closed == log.opened)
        .await;
    let log = call.fake.log();
    assert!(
        closed,
        "engine socket closed: opened {}, closed {}",
        log.opened, log.closed
    );
}

#[tokio::test]
async fn a_malformed_twilio_frame_is_dropped_and_the_call_goes_on() {
    let call = spawn_call(FakeScript::default()).await;

    call.to_bridge
        .unbounded_send(Ok("{not json".into()))
        .expect("bridge listens");

    assert!(
        call.wait_for_twilio(|sent| sent.iter().any(|m| m["event"] == "mark"))
            .await
    );
    assert!(!call.bridge.is_finished());
}

#[tokio::test]
async fn an_engine_that_never_answers_is_given_up_on_and_the_caller_gets_an_apology() {
    // Arrange: the engine accepts connections and never answers the WebSocket handshake.
    let fake = FakeRealtime::start(FakeScript::default())
        .await
        .expect("fake starts");
    fake.stall();
    let timeout = Duration::from_millis(100);

    // Act
    let mut call = spawn_call_on(fake, config(), timeout);

    // Assert: every attempt times out, then the session gives up as for a refused connection.
    let apology = call
        .wait_for_effect(|e| matches!(e, Effect::SayAndHangUp { .. }))
        .await;
    assert!(apology.is_some(), "no apology in {:?}", call.seen_effects);
    let finish = call
        .wait_for_effect(|e| matches!(e, Effect::Finish(_)))
        .await;
    let Some(Effect::Finish(record)) = finish else {
        panic!("the call did not finish: {:?}", call.seen_effects);
    };
    assert_eq!(record.outcome.reason, EndReason::EngineFailed);
    let attempts = 1 + config().max_engine_reconnects as usize;
    assert!(
        call.fake
            .wait_until(WAIT, |log| log.stalled == attempts
                && log.stalled_abandoned == attempts)
            .await,
        "each of the {attempts} attempts was abandoned: {:?}",
        call.fake.log()
    );
    assert_eq!(call.fake.log().opened, 0);
}
