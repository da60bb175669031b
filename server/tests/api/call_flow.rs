//! Whole calls through the real server: Twilio's side played by the caller fake
//! (`fakes::twilio_caller`: the signed webhook, the media stream, marks, `clear`, caller speech)
//! and the fakes of Twilio REST and OpenAI Realtime. The caller asks a
//! question the knowledge base answers through the tool, then says goodbye; the agent ends the
//! call and Twilio is told to hang up. Lines are stored and streamed to the dashboard live.
//! A transfer is steered from Twilio's side by the test itself (`Phone`), which holds the marks
//! of the agent's last line to show the hand-off waits for them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard::fakes::openai_realtime::{
    FakeRealtime, FakeScript, ScriptReply, ScriptTurn, tone,
};
use switchboard::fakes::twilio::{FakeTwilio, FakeTwilioOptions, SeedNumber};
use switchboard::fakes::twilio_caller::{CallerOptions, place_call};
use switchboard::store::agents::{insert_agent, insert_phone_number};
use switchboard::store::calls::insert_inbound_call;
use switchboard::twilio::signature::{RequestValidator, SIGNATURE_HEADER};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::{MediaStream, TestApp, spawn_app_with};
use crate::stream::{ACCOUNT_SID, AUTH_TOKEN};

const NUMBER: &str = "+14155550199";
const CALLER: &str = "+14155550100";
const WAIT: Duration = Duration::from_secs(10);
const FAQ: &str = "# Delivery\n\nWe deliver within 5 km of the shop. Orders over 30 euros ship free.\n\n\
# Opening hours\n\nWe are open every day from eleven in the morning until half past nine at night.";

fn script() -> FakeScript {
    FakeScript {
        turns: vec![
            ScriptTurn {
                caller: "Do you deliver to my area?".into(),
                reply: ScriptReply::CallTool {
                    name: "query_knowledge_base".into(),
                    arguments: r#"{"query":"Do you deliver?"}"#.into(),
                    then: "Yes, we deliver within five kilometres.".into(),
                    then_audio_ms: 400,
                },
            },
            ScriptTurn {
                caller: "Great, thanks, goodbye.".into(),
                reply: ScriptReply::CallTool {
                    name: "end_call".into(),
                    arguments: r#"{"reason":"caller said goodbye"}"#.into(),
                    then: "Goodbye!".into(),
                    then_audio_ms: 300,
                },
            },
        ],
        ..FakeScript::default()
    }
}

/// The caller asks when the shop is open, and the agent tells them.
fn opening_hours() -> FakeScript {
    FakeScript {
        turns: vec![ScriptTurn {
            caller: "When are you open?".into(),
            reply: ScriptReply::say("From eleven until half past nine.", 400),
        }],
        ..FakeScript::default()
    }
}

/// `total_ms` of caller audio (8 kHz μ-law): speech (a loud tone) during `spans`, else silence.
fn speech(spans: &[std::ops::Range<u64>], total_ms: u64) -> Vec<u8> {
    let mut phase = 0f32;
    (0..total_ms / 20)
        .flat_map(|frame| {
            if spans.iter().any(|span| span.contains(&(frame * 20))) {
                tone(160, &mut phase, 12_000.0)
            } else {
                vec![0xFF; 160]
            }
        })
        .collect()
}

/// The call with `call_sid` and its ended reason, once the bridge has stored it (`None` if it
/// has not within 10 s).
async fn finalised_call(app: &TestApp, call_sid: &str) -> (Uuid, Option<String>) {
    for _ in 0..500 {
        let (id, reason): (Uuid, Option<String>) =
            sqlx::query_as("select id, ended_reason from calls where call_sid = $1")
                .bind(call_sid)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if reason.is_some() {
            return (id, reason);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let id = sqlx::query_scalar("select id from calls where call_sid = $1")
        .bind(call_sid)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    (id, None)
}

/// A server with an organization whose agent answers `NUMBER`.
struct Line {
    app: TestApp,
    agent: Uuid,
    /// The organization's API key.
    key: String,
}

/// A server wired to the Realtime fake (and to the Twilio fake, when given) plus `extra`
/// settings, with an organization whose agent answers `NUMBER`.
async fn open_line(
    realtime: &FakeRealtime,
    twilio: Option<&FakeTwilio>,
    extra: &[(&str, &str)],
) -> Line {
    let realtime_url = realtime.base_url();
    let twilio_url = twilio.map(FakeTwilio::base_url);
    // No PUBLIC_BASE_URL: the webhook's own Host decides, so the stream is on loopback.
    let mut env = vec![
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("OPENAI_BASE_URL", realtime_url.as_str()),
        ("OPENAI_API_KEY", "sk-test"),
        ("EMBEDDINGS", "local"),
    ];
    if let Some(twilio_url) = &twilio_url {
        env.extend([
            ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
            ("TWILIO_API_BASE", twilio_url.as_str()),
        ]);
    }
    env.extend_from_slice(extra);
    let app = spawn_app_with(&env).await;
    let (org, key) = app.org_with_key("Bakery").await;
    let agent = insert_agent(&app.pool, org, "Front desk").await.unwrap();
    insert_phone_number(&app.pool, org, NUMBER, Some(agent))
        .await
        .unwrap();
    Line { app, agent, key }
}

/// A Twilio account (the fake) that owns `NUMBER`.
async fn twilio_with_number() -> FakeTwilio {
    FakeTwilio::start(FakeTwilioOptions {
        account_sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
        numbers: vec![SeedNumber::new(NUMBER)],
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap()
}

/// Waits until every engine socket that opened has been closed, and fails the test if one
/// is still open after 10 s.
async fn assert_engine_sockets_closed(realtime: &FakeRealtime) {
    let closed = realtime
        .wait_until(WAIT, |log| log.opened > 0 && log.closed == log.opened)
        .await;
    let log = realtime.log();
    assert!(
        closed,
        "every engine socket that opened was closed: opened {}, closed {}",
        log.opened, log.closed
    );
}

/// The caller fake's options for a call to `NUMBER` on `app` (audio to be filled in).
fn caller(app: &TestApp, call_sid: &str) -> CallerOptions {
    CallerOptions {
        base_url: app.address.clone(),
        auth_token: AUTH_TOKEN.into(),
        account_sid: ACCOUNT_SID.into(),
        call_sid: call_sid.into(),
        from: CALLER.into(),
        to: NUMBER.into(),
        audio: Vec::new(),
        linger: Duration::ZERO,
    }
}

#[tokio::test]
async fn a_caller_asks_gets_an_answer_from_the_knowledge_base_and_the_agent_hangs_up() {
    // Arrange: the fakes, the server, an agent with a document and a number.
    let realtime = FakeRealtime::start(script()).await.unwrap();
    let twilio = twilio_with_number().await;
    let Line { app, key, .. } = open_line(
        &realtime,
        Some(&twilio),
        &[("RAG_SIMILARITY_THRESHOLD", "0.2")],
    )
    .await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(FAQ.as_bytes().to_vec()).file_name("faq.md"),
    );
    let uploaded = app
        .client
        .post(app.url("/api/v1/knowledge"))
        .bearer_auth(&key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), reqwest::StatusCode::ACCEPTED);
    for _ in 0..1500 {
        let ready: bool = sqlx::query_scalar(
            "select coalesce(bool_and(status = 'ready'), false) from knowledge_documents",
        )
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let call_sid = twilio.start_inbound_call(CALLER, NUMBER);
    let events = app
        .client
        .get(app.url("/events/calls"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let mut events = events.bytes_stream();

    // Act: the caller listens, asks at 2 s, says goodbye at 7 s; the agent ends the call.
    let report = place_call(&CallerOptions {
        audio: speech(&[2_000..2_800, 7_000..7_800], 20_000),
        ..caller(&app, &call_sid)
    })
    .await
    .expect("the call connects");
    assert!(
        report.closed_by_server,
        "the agent ended the call: {report:?}"
    );
    // The REST hang-up follows the stream's end.
    let asked_to_hang_up = || {
        twilio.requests().iter().any(|r| {
            r.path.ends_with(&format!("/Calls/{call_sid}.json"))
                && r.param("Status") == Some("completed")
        })
    };
    let mut hung_up = false;
    for _ in 0..250 {
        hung_up = asked_to_hang_up();
        if hung_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        hung_up,
        "Twilio was told to hang up: {:?}",
        twilio.requests()
    );
    // Assert: the transcript, the tool's audit row, the live events, the engine socket.
    let (call_id, ended) = finalised_call(&app, &call_sid).await;
    assert!(ended.is_some(), "the call was finalised");
    let lines: Vec<(String, String)> = sqlx::query_as(
        "select role, text from call_transcript_lines where call_id = $1 order by seq",
    )
    .bind(call_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let said = |role: &str, text: &str| lines.iter().any(|(r, t)| r == role && t.contains(text));
    assert!(said("caller", "Do you deliver to my area?"), "{lines:?}");
    assert!(
        said("agent", "we deliver within five kilometres"),
        "{lines:?}"
    );
    assert!(said("agent", "Goodbye!"), "{lines:?}");

    let (name, status, chunk_ids, result): (String, String, Vec<i64>, Value) = sqlx::query_as(
        "select name, status, chunk_ids, result from call_tool_invocations \
          where call_id = $1 and name = 'query_knowledge_base'",
    )
    .bind(call_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (name.as_str(), status.as_str()),
        ("query_knowledge_base", "ok")
    );
    assert!(!chunk_ids.is_empty());
    assert!(
        result["output"]
            .as_str()
            .unwrap()
            .contains("We deliver within 5 km"),
        "{result}"
    );
    // The model received that output.
    let outputs = realtime.log().of_type("conversation.item.create").len();
    assert!(outputs >= 1);
    // end_call, answered by the call session itself, is recorded too.
    let ended_by: Vec<(String, String, Value)> = sqlx::query_as(
        "select name, status, arguments from call_tool_invocations \
          where call_id = $1 and name = 'end_call'",
    )
    .bind(call_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        ended_by,
        vec![(
            "end_call".into(),
            "ok".into(),
            json!({"reason": "caller said goodbye"})
        )]
    );

    let mut seen = String::new();
    while !seen.contains("event: call.ended") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("live events")
            .expect("open stream")
            .unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(seen.contains("event: call.started"), "{seen}");
    assert!(
        seen.contains("event: call.line") && seen.contains("Do you deliver to my area?"),
        "{seen}"
    );

    assert_engine_sockets_closed(&realtime).await;
    assert_eq!(realtime.log().opened, 1);
    let _: Uuid = call_id;
    app.stop().await;
}

#[tokio::test]
async fn a_business_tool_refuses_invalid_arguments_to_the_model_and_records_every_call() {
    use server::tools::ToolRunner;
    use switchboard::business_tools::parse_tools;
    use switchboard::engines::ToolCall;

    let app = spawn_app_with(&[]).await;
    let (org, _) = app.org_with_key("Pizza").await;
    let agent = insert_agent(&app.pool, org, "Orders").await.unwrap();
    let call_id = insert_inbound_call(&app.pool, org, agent, "CA-tools", CALLER, NUMBER)
        .await
        .unwrap();
    let tools = parse_tools(&json!([{
        "name": "take_order",
        "description": "Record a confirmed pizza order.",
        "parameters": {
            "type": "object",
            "properties": {"pizza": {"type": "string", "enum": ["margherita", "marinara"]}},
            "required": ["pizza"]
        }
    }]))
    .unwrap();
    let runner = ToolRunner {
        pool: app.pool.clone(),
        embedder: std::sync::Arc::new(
            switchboard::knowledge::embed::LazyLocalEmbedder::new(
                switchboard::testing::tools_dir().join("all-minilm-l6-v2"),
            )
            .unwrap(),
        ),
        org_id: org,
        call_id,
        agent_id: Some(agent),
        chunk_limit: 5,
        similarity_threshold: 0.7,
        business: std::sync::Arc::new(tools),
        http: reqwest::Client::new(),
    };
    let call = |id: &str, arguments: &str| ToolCall {
        call_id: id.into(),
        name: "take_order".into(),
        arguments: arguments.into(),
    };

    let refused = runner.run(&call("fc_1", r#"{"pizza":"hawaiian"}"#)).await;
    assert!(
        refused.contains("Invalid arguments for take_order") && refused.contains("/pizza"),
        "{refused}"
    );
    let accepted = runner.run(&call("fc_2", r#"{"pizza":"marinara"}"#)).await;
    assert_eq!(accepted, r#"{"status":"recorded"}"#);
    let unknown = runner
        .run(&ToolCall {
            call_id: "fc_3".into(),
            name: "book_flight".into(),
            arguments: "{}".into(),
        })
        .await;
    assert!(unknown.contains("not available"), "{unknown}");

    let rows: Vec<(String, String, Value)> = sqlx::query_as(
        "select tool_call_id, status, arguments from call_tool_invocations where call_id = $1 order by id",
    )
    .bind(call_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("fc_1".into(), "error".into(), json!({"pizza": "hawaiian"})),
            ("fc_2".into(), "ok".into(), json!({"pizza": "marinara"})),
            ("fc_3".into(), "error".into(), json!({})),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn the_engine_drops_mid_call_and_the_call_carries_on_without_losing_lines() {
    let realtime = FakeRealtime::start(opening_hours()).await.unwrap();
    let Line { app, .. } = open_line(&realtime, None, &[]).await;
    let call_sid = "CA0000000000000000000000000000drop";

    // Ask at 2 s; the engine's connection drops at 5 s; ask again at 8 s; hang up at 16 s.
    let options = CallerOptions {
        audio: speech(&[2_000..2_800, 8_000..8_800], 16_000),
        ..caller(&app, call_sid)
    };
    let call = place_call(&options);
    let network_failure = async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        realtime.drop_connections();
    };
    let (report, ()) = tokio::join!(call, network_failure);
    assert!(
        !report.expect("the call connects").closed_by_server,
        "the caller hung up"
    );
    let (call_id, reason) = finalised_call(&app, call_sid).await;
    assert_eq!(reason.as_deref(), Some("caller_hang_up"));
    let lines: Vec<(i32, String, String)> = sqlx::query_as(
        "select seq, role, text from call_transcript_lines where call_id = $1 order by seq",
    )
    .bind(call_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let asked = lines
        .iter()
        .filter(|(_, r, t)| r == "caller" && t == "When are you open?")
        .count();
    let answered = lines
        .iter()
        .filter(|(_, r, t)| r == "agent" && t == "From eleven until half past nine.")
        .count();
    assert_eq!(
        (asked, answered),
        (2, 2),
        "both turns, before and after the drop: {lines:?}"
    );
    let seqs: Vec<i32> = lines.iter().map(|l| l.0).collect();
    assert_eq!(
        seqs,
        (0..lines.len() as i32).collect::<Vec<_>>(),
        "no line lost or doubled"
    );

    // A second connection was opened and given the instructions and the conversation so far.
    let log = realtime.log();
    assert_eq!(log.opened, 2, "reconnected once");
    assert_eq!(log.of_type("session.update").len(), 2);
    let restored = log
        .of_type("conversation.item.create")
        .iter()
        .any(|e| e.to_string().contains("From eleven until half past nine."));
    assert!(restored, "the heard conversation was restored");
    assert_engine_sockets_closed(&realtime).await;
    app.stop().await;
}

#[tokio::test]
async fn the_caller_barges_in_and_the_agent_stops_where_it_was_heard() {
    let realtime = FakeRealtime::start(FakeScript {
        turns: vec![ScriptTurn {
            caller: "Tell me about your menu.".into(),
            reply: ScriptReply::say(
                "We have twelve pizzas, five salads, three pastas and a long list of desserts.",
                4_000,
            ),
        }],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let Line { app, .. } = open_line(&realtime, None, &[]).await;

    // The question at 2 s; the caller talks over the answer at 4.5 s.
    let call_sid = "CA00000000000000000000000000bargein";
    let report = place_call(&CallerOptions {
        audio: speech(&[2_000..2_800, 4_500..5_300], 8_000),
        linger: Duration::from_secs(1),
        ..caller(&app, call_sid)
    })
    .await
    .expect("the call connects");

    assert!(
        report.clears >= 1,
        "Twilio was told to clear the agent's audio: {report:?}"
    );
    let log = realtime.log();
    assert!(
        !log.of_type("response.cancel").is_empty(),
        "the response was cancelled"
    );
    let truncates = log.of_type("conversation.item.truncate");
    let truncate = truncates.first().expect("the agent's item was truncated");
    let item = truncate["item_id"].as_str().unwrap();
    let heard = truncate["audio_end_ms"].as_u64().unwrap();
    let generated = log.generated_ms(item);
    assert!(
        heard > 0 && heard <= generated,
        "cut at {heard} ms of {generated} ms generated"
    );
    assert!(heard < 4_000, "the caller did not hear all of it");

    let mut lines: Vec<(String, String, bool)> = Vec::new();
    for _ in 0..250 {
        lines = sqlx::query_as(
            "select l.role, l.text, l.interrupted from call_transcript_lines l \
               join calls c on c.id = l.call_id where c.call_sid = $1 order by l.seq",
        )
        .bind(call_sid)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        if lines.iter().any(|l| l.2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cut = lines
        .iter()
        .find(|(role, _, interrupted)| role == "agent" && *interrupted)
        .unwrap_or_else(|| panic!("an interrupted agent line: {lines:?}"));
    assert!(
        cut.1.len()
            < "We have twelve pizzas, five salads, three pastas and a long list of desserts.".len(),
        "the stored line is what the caller heard: {cut:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_engine_that_stays_down_gets_an_apology_in_twilios_voice_and_the_call_ends() {
    let realtime = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let twilio = twilio_with_number().await;
    let Line { app, .. } = open_line(&realtime, Some(&twilio), &[]).await;
    let call_sid = twilio.start_inbound_call(CALLER, NUMBER);

    // The greeting plays; at 1.5 s OpenAI goes down and stays down.
    let options = CallerOptions {
        audio: speech(&[], 5_000),
        ..caller(&app, &call_sid)
    };
    let outage = async {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        realtime.go_down();
    };
    let (report, ()) = tokio::join!(place_call(&options), outage);
    report.expect("the call connects");

    let (_, reason) = finalised_call(&app, &call_sid).await;
    assert_eq!(reason.as_deref(), Some("engine_failed"));
    let redirect = twilio
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path.ends_with(&format!("/Calls/{call_sid}.json")))
        .expect("the call was updated through Twilio REST");
    let twiml = redirect.param("Twiml").expect("with new TwiML");
    assert!(
        twiml.contains("<Say>Sorry, we are having technical difficulties")
            && twiml.ends_with("<Hangup/></Response>"),
        "Twilio apologises, then hangs up: {twiml}"
    );
    assert_eq!(realtime.log().opened, 1, "every reconnect was refused");
    assert_engine_sockets_closed(&realtime).await;
    app.stop().await;
}

#[tokio::test]
async fn transcript_lines_are_stored_while_the_call_is_still_live() {
    // Arrange
    let realtime = FakeRealtime::start(opening_hours()).await.unwrap();
    let Line { app, .. } = open_line(&realtime, None, &[]).await;
    let call_sid = "CA0000000000000000000000000000live";
    let options = CallerOptions {
        audio: speech(std::slice::from_ref(&(2_000..2_800)), 10_000),
        ..caller(&app, call_sid)
    };

    // Act: the caller listens, asks at 2 s and stays on until 10 s; meanwhile the table is read
    // the way a dashboard reloading the live call would, in one statement with the call row.
    let call = tokio::spawn(async move { place_call(&options).await });
    let until = tokio::time::Instant::now() + WAIT;
    let (lines, caller_connected) = loop {
        let lines: Vec<(String, String)> = sqlx::query_as(
            "select l.role, l.text from call_transcript_lines l join calls c on c.id = l.call_id \
              where c.call_sid = $1 and c.ended_at is null order by l.seq",
        )
        .bind(call_sid)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let caller_connected = !call.is_finished();
        let caller_line = lines.iter().any(|(role, _)| role == "caller");
        if caller_line || !caller_connected || tokio::time::Instant::now() > until {
            break (lines, caller_connected);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // Assert: the greeting and the question were there before the call ended.
    let said = |role: &str, text: &str| lines.iter().any(|(r, t)| r == role && t.contains(text));
    assert!(said("agent", "Hello, how can I help you?"), "{lines:?}");
    assert!(said("caller", "When are you open?"), "{lines:?}");
    assert!(
        caller_connected,
        "the caller was still on the line when the lines were read"
    );
    let report = call.await.unwrap().expect("the call connects");
    assert!(!report.closed_by_server, "the caller hung up: {report:?}");
    let (_, reason) = finalised_call(&app, call_sid).await;
    assert_eq!(reason.as_deref(), Some("caller_hang_up"));
    assert_engine_sockets_closed(&realtime).await;
    assert_eq!(realtime.log().opened, 1);
    app.stop().await;
}

/// Twilio's first move on an inbound call: it posts our voice webhook, signed. Returns the TwiML.
async fn ring(app: &TestApp, call_sid: &str) -> String {
    let voice_url = app.url("/twilio/voice");
    let params = [
        ("AccountSid", ACCOUNT_SID),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", CALLER),
        ("To", NUMBER),
    ];
    let signature = RequestValidator::new(AUTH_TOKEN).compute(&voice_url, &params);
    let response = app
        .client
        .post(&voice_url)
        .header(SIGNATURE_HEADER, signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    response.text().await.unwrap()
}

/// What the [`Phone`] was sent and did.
#[derive(Debug, Clone, Default)]
struct PhoneLog {
    /// Marks waiting on the phone (held: their audio has not played yet).
    marks_held: usize,
    /// The server closed the stream.
    closed_by_server: bool,
}

/// Twilio's side of a call, steered by the test: agent audio plays at once and each mark is
/// echoed when it arrives, unless marks are held (audio still playing); caller audio is sent as
/// given; dropping `audio` ends the stream as Twilio does when the call leaves it.
struct Phone {
    hold: watch::Sender<bool>,
    audio: Option<mpsc::UnboundedSender<Vec<u8>>>,
    log: Arc<Mutex<PhoneLog>>,
    task: JoinHandle<()>,
}

impl Phone {
    fn answer(stream: MediaStream) -> Self {
        let (hold, held) = watch::channel(false);
        let (audio, frames) = mpsc::unbounded_channel();
        let log = Arc::new(Mutex::new(PhoneLog::default()));
        let task = tokio::spawn(run_phone(stream, held, frames, log.clone()));
        Self {
            hold,
            audio: Some(audio),
            log,
            task,
        }
    }

    fn log(&self) -> PhoneLog {
        self.log.lock().unwrap().clone()
    }

    /// Holds marks (true) or echoes the held ones and every later one (false).
    fn hold_marks(&self, hold: bool) {
        self.hold.send_replace(hold);
    }

    /// Sends `audio` (8 kHz μ-law) as 20 ms frames in real time.
    async fn say(&self, audio: &[u8]) {
        let sender = self.audio.as_ref().expect("the stream is open");
        let mut pace = tokio::time::interval(Duration::from_millis(20));
        for frame in audio.chunks(160) {
            pace.tick().await;
            sender
                .send(frame.to_vec())
                .expect("the phone is on the line");
        }
    }

    /// Ends the stream as Twilio does once the call has left it (`stop`, then close).
    fn end_stream(&mut self) {
        self.audio = None;
    }
}

async fn run_phone(
    mut stream: MediaStream,
    mut hold: watch::Receiver<bool>,
    mut audio: mpsc::UnboundedReceiver<Vec<u8>>,
    log: Arc<Mutex<PhoneLog>>,
) {
    let mut held: Vec<String> = Vec::new();
    loop {
        tokio::select! {
            incoming = stream.socket.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => break,
                };
                let msg: Value = serde_json::from_str(text.as_str()).expect("JSON from the server");
                if msg["event"] == "mark" {
                    let name = msg["mark"]["name"].as_str().unwrap_or_default().to_owned();
                    if *hold.borrow() {
                        held.push(name);
                        log.lock().unwrap().marks_held += 1;
                    } else {
                        stream.echo_mark(&name).await;
                    }
                }
            }
            Ok(()) = hold.changed() => {
                if !*hold.borrow_and_update() {
                    for name in std::mem::take(&mut held) {
                        stream.echo_mark(&name).await;
                        log.lock().unwrap().marks_held -= 1;
                    }
                }
            }
            frame = audio.recv() => match frame {
                Some(frame) => stream.send_media(&frame).await,
                None => {
                    stream.stop().await;
                    // Until the server closes its side too.
                    while let Some(Ok(_)) = stream.socket.next().await {}
                    break;
                }
            },
        }
    }
    log.lock().unwrap().closed_by_server = true;
}

/// The REST updates of `call_sid` that gave it new TwiML.
fn redirects(twilio: &FakeTwilio, call_sid: &str) -> Vec<String> {
    twilio
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with(&format!("/Calls/{call_sid}.json")))
        .filter_map(|r| r.param("Twiml").map(str::to_owned))
        .collect()
}

/// The stored transcript of `call_sid` so far: `(role, text)` in order.
async fn stored_lines(app: &TestApp, call_sid: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "select l.role, l.text from call_transcript_lines l join calls c on c.id = l.call_id \
          where c.call_sid = $1 order by l.seq",
    )
    .bind(call_sid)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_agent_transfers_the_caller_once_its_line_has_played_and_twilio_dials_the_number() {
    // Arrange: an agent with a transfer number; the caller will ask for a person.
    const TRANSFER_TO: &str = "+14155550123";
    const LINE_MS: u64 = 600;
    let realtime = FakeRealtime::start(FakeScript {
        instructed_audio_ms: LINE_MS,
        turns: vec![ScriptTurn {
            caller: "Can I talk to a person, please?".into(),
            reply: ScriptReply::CallTool {
                name: "transfer_call".into(),
                arguments: r#"{"reason":"the caller asked for a person"}"#.into(),
                then: "Not said: the transfer line is.".into(),
                then_audio_ms: 300,
            },
        }],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let twilio = twilio_with_number().await;
    let Line { app, agent, .. } = open_line(&realtime, Some(&twilio), &[]).await;
    sqlx::query("update agents set transfer_number = $2 where id = $1")
        .bind(agent)
        .bind(TRANSFER_TO)
        .execute(&app.pool)
        .await
        .unwrap();
    let call_sid = twilio.start_inbound_call(CALLER, NUMBER);
    let twiml = ring(&app, &call_sid).await;
    let stream = app
        .connect_media_stream(&twiml, AUTH_TOKEN, ACCOUNT_SID, &call_sid)
        .await;
    let mut phone = Phone::answer(stream);
    let until = tokio::time::Instant::now() + WAIT;
    while !stored_lines(&app, &call_sid)
        .await
        .iter()
        .any(|(role, _)| role == "agent")
    {
        assert!(
            tokio::time::Instant::now() < until,
            "the greeting never played"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Act: the phone is still playing whatever comes next (its marks wait) when the caller asks
    // for a person; the agent's transfer line is generated and sent in full.
    phone.hold_marks(true);
    phone
        .say(&speech(std::slice::from_ref(&(0..600)), 1_400))
        .await;
    let line_generated = realtime
        .wait_until(WAIT, |log| {
            let mut items: Vec<&str> = log
                .generated_bytes
                .iter()
                .map(|(item, _)| item.as_str())
                .collect();
            items.dedup();
            items.len() == 2 && log.generated_ms(items[1]) == LINE_MS
        })
        .await;
    assert!(
        line_generated,
        "the greeting and the transfer line: {:?}",
        realtime.log().generated_bytes
    );
    let until = tokio::time::Instant::now() + WAIT;
    while phone.log().marks_held == 0 {
        assert!(
            tokio::time::Instant::now() < until,
            "no mark after the line"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A transfer that did not wait for the marks would be requested within this time.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before_played = redirects(&twilio, &call_sid);
    phone.hold_marks(false);
    // Well within the session's 15 s ending grace, which would transfer without the marks.
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    let after_played = loop {
        let sent = redirects(&twilio, &call_sid);
        if !sent.is_empty() || tokio::time::Instant::now() > until {
            break sent;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    // Assert: Twilio dialled the number once the line had played, and not before.
    assert_eq!(
        before_played,
        Vec::<String>::new(),
        "nothing before the line played"
    );
    let [dial] = after_played.as_slice() else {
        panic!("one redirect after the line played: {after_played:?}");
    };
    assert!(
        dial.contains(&format!("<Dial>{TRANSFER_TO}</Dial>")),
        "Twilio dials the transfer number: {dial}"
    );
    let lines = stored_lines(&app, &call_sid).await;
    assert!(
        lines
            .iter()
            .any(|(role, text)| role == "agent" && text.contains("put you through")),
        "the transfer line was heard: {lines:?}"
    );
    let (call_id, reason) = finalised_call(&app, &call_sid).await;
    assert_eq!(reason.as_deref(), Some("transferred"));
    let invocations: Vec<(String, String, Value)> = sqlx::query_as(
        "select name, status, arguments from call_tool_invocations where call_id = $1",
    )
    .bind(call_id)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        invocations,
        vec![(
            "transfer_call".into(),
            "ok".into(),
            json!({"reason": "the caller asked for a person"})
        )]
    );
    assert_engine_sockets_closed(&realtime).await;
    assert_eq!(realtime.log().opened, 1);
    // The call is over for the server, but the stream is Twilio's to end: closing it before
    // the new TwiML took over would drop the caller. Twilio ends it; the server follows at
    // once, well before its own 10 s hand-off wait.
    assert!(
        !phone.log().closed_by_server,
        "the stream stayed open for Twilio to take the call over"
    );
    phone.end_stream();
    tokio::time::timeout(Duration::from_secs(3), &mut phone.task)
        .await
        .expect("the server closed the stream once Twilio ended it")
        .unwrap();
    app.stop().await;
}
