//! A whole call through the real server: Twilio's side played by the test (the media stream,
//! marks, caller speech) and the fakes of Twilio REST and OpenAI Realtime. The caller asks a
//! question the knowledge base answers through the tool, then says goodbye; the agent ends the
//! call and Twilio is told to hang up. Lines are stored and streamed to the dashboard live.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard::fakes::openai_realtime::{
    FakeRealtime, FakeScript, ScriptReply, ScriptTurn, tone,
};
use switchboard::fakes::twilio::{FakeTwilio, FakeTwilioOptions, SeedNumber};
use switchboard::store::agents::{insert_agent, insert_phone_number};
use switchboard::store::calls::insert_inbound_call;
use switchboard::twilio::TwilioInbound;
use switchboard::twilio::media::{MediaFormat, StreamStart, Track};
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

use crate::helpers::spawn_app_with;
use crate::stream::{
    ACCOUNT_SID, AUTH_TOKEN, BASE, STREAM_SID, open_media_stream, send, signature, token_for,
};

const NUMBER: &str = "+14155550199";
const CALLER: &str = "+14155550100";
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

/// Caller frame number `n` (20 ms each): speech (a loud tone) or silence, as Twilio sends it.
fn frame(n: u64, speaking: bool, phase: &mut f32) -> Value {
    use base64::Engine as _;
    let bytes = if speaking {
        tone(160, phase, 12_000.0)
    } else {
        vec![0xFF; 160]
    };
    json!({
        "event": "media", "sequenceNumber": (n + 2).to_string(), "streamSid": STREAM_SID,
        "media": {
            "track": "inbound", "chunk": (n + 1).to_string(), "timestamp": (n * 20).to_string(),
            "payload": base64::engine::general_purpose::STANDARD.encode(bytes),
        },
    })
}

#[tokio::test]
async fn a_caller_asks_gets_an_answer_from_the_knowledge_base_and_the_agent_hangs_up() {
    // Arrange: the fakes, the server, an agent with a document and a number.
    let realtime = FakeRealtime::start(script()).await.unwrap();
    let twilio = FakeTwilio::start(FakeTwilioOptions {
        account_sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
        numbers: vec![SeedNumber::new(NUMBER)],
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap();
    let app = spawn_app_with(&[
        ("PUBLIC_BASE_URL", BASE),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("TWILIO_API_BASE", &twilio.base_url()),
        ("OPENAI_BASE_URL", &realtime.base_url()),
        ("OPENAI_API_KEY", "sk-test"),
        ("EMBEDDINGS", "local"),
        ("RAG_SIMILARITY_THRESHOLD", "0.2"),
    ])
    .await;
    let (org, key) = app.org_with_key("Pizzeria").await;
    let agent = insert_agent(&app.pool, org, "Front desk").await.unwrap();
    insert_phone_number(&app.pool, org, NUMBER, Some(agent))
        .await
        .unwrap();
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
    let call_id = insert_inbound_call(&app.pool, org, agent, &call_sid, CALLER, NUMBER)
        .await
        .unwrap();
    let events = app
        .client
        .get(app.url("/events/calls"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let mut events = events.bytes_stream();

    // Act: Twilio connects the stream; the caller listens, speaks, listens, says goodbye.
    let token = token_for(&call_sid);
    let mut socket = open_media_stream(&app, &token, Some(signature(&token)))
        .await
        .expect("upgrade accepted");
    send(
        &mut socket,
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
    )
    .await;
    let start = TwilioInbound::Start(StreamStart {
        sequence_number: Some(1),
        stream_sid: STREAM_SID.into(),
        account_sid: ACCOUNT_SID.into(),
        call_sid: call_sid.clone(),
        tracks: vec![Track::Inbound],
        custom_parameters: BTreeMap::from([("call_id".into(), call_id.to_string())]),
        media_format: MediaFormat::mulaw_8k(),
    });
    socket.send(Message::text(start.to_json())).await.unwrap();

    // Caller speech: 2 s listening, 0.8 s question, then silence; at 7 s the goodbye.
    let speaking = |ms: u64| (2_000..2_800).contains(&ms) || (7_000..7_800).contains(&ms);
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let (mut elapsed, mut phase, mut sequence) = (0u64, 0f32, 100_000u64);
    let mut hung_up = false;
    while elapsed < 20_000 && !hung_up {
        tokio::select! {
            _ = ticker.tick() => {
                send(&mut socket, frame(elapsed / 20, speaking(elapsed), &mut phase)).await;
                elapsed += 20;
                hung_up = twilio.requests().iter().any(|r| r.param("Status") == Some("completed"));
            }
            incoming = socket.next() => {
                let Some(Ok(Message::Text(text))) = incoming else { break };
                let msg: Value = serde_json::from_str(text.as_str()).unwrap();
                if msg["event"] == "mark" {
                    // The phone played up to this mark.
                    sequence += 1;
                    send(&mut socket, json!({
                        "event": "mark", "sequenceNumber": sequence.to_string(),
                        "streamSid": STREAM_SID, "mark": {"name": msg["mark"]["name"]},
                    })).await;
                }
            }
        }
    }
    // The server may close the stream first; the REST hang-up follows it.
    let asked_to_hang_up = || {
        twilio.requests().iter().any(|r| {
            r.path.ends_with(&format!("/Calls/{call_sid}.json"))
                && r.param("Status") == Some("completed")
        })
    };
    for _ in 0..250 {
        if hung_up || asked_to_hang_up() {
            hung_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !hung_up {
        let lines: Vec<(String, String)> = sqlx::query_as(
            "select role, text from call_transcript_lines where call_id = $1 order by seq",
        )
        .bind(call_id)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        let reason: Option<String> =
            sqlx::query_scalar("select ended_reason from calls where id = $1")
                .bind(call_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        panic!(
            "Twilio was not told to hang up within 20 s; ended {reason:?} after {elapsed} ms; lines {lines:?}; twilio saw {:?}",
            twilio
                .requests()
                .iter()
                .map(|r| (r.path.clone(), r.form.clone()))
                .collect::<Vec<_>>()
        );
    }
    // Twilio ends the call: the stream stops and the socket closes (if the server has not
    // closed it already).
    let stop = json!({"event": "stop", "sequenceNumber": "999999", "streamSid": STREAM_SID,
                      "stop": {"accountSid": ACCOUNT_SID, "callSid": call_sid}});
    let _ = socket.send(Message::text(stop.to_string())).await;
    let _ = socket.close(None).await;

    // Assert: the transcript, the tool's audit row, the live events, the engine socket.
    let mut ended = None;
    for _ in 0..500 {
        ended =
            sqlx::query_scalar::<_, Option<String>>("select ended_reason from calls where id = $1")
                .bind(call_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if ended.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

    let mut log = realtime.log();
    for _ in 0..100 {
        if log.closed == log.opened {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        log = realtime.log();
    }
    assert_eq!(
        (log.opened, log.closed),
        (1, 1),
        "the engine socket was closed"
    );
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
    let realtime = FakeRealtime::start(FakeScript {
        turns: vec![ScriptTurn {
            caller: "When are you open?".into(),
            reply: ScriptReply::say("From eleven until half past nine.", 400),
        }],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let app = spawn_app_with(&[
        ("PUBLIC_BASE_URL", BASE),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("OPENAI_BASE_URL", &realtime.base_url()),
        ("OPENAI_API_KEY", "sk-test"),
        ("EMBEDDINGS", "local"),
    ])
    .await;
    let (org, _) = app.org_with_key("Bakery").await;
    let agent = insert_agent(&app.pool, org, "Front desk").await.unwrap();
    let call_sid = "CA0000000000000000000000000000drop";
    let call_id = insert_inbound_call(&app.pool, org, agent, call_sid, CALLER, NUMBER)
        .await
        .unwrap();
    let token = token_for(call_sid);
    let mut socket = open_media_stream(&app, &token, Some(signature(&token)))
        .await
        .expect("upgrade accepted");
    let start = TwilioInbound::Start(StreamStart {
        sequence_number: Some(1),
        stream_sid: STREAM_SID.into(),
        account_sid: ACCOUNT_SID.into(),
        call_sid: call_sid.into(),
        tracks: vec![Track::Inbound],
        custom_parameters: BTreeMap::new(),
        media_format: MediaFormat::mulaw_8k(),
    });
    socket.send(Message::text(start.to_json())).await.unwrap();

    // Ask at 2 s; the engine's connection drops at 5 s; ask again at 8 s; hang up at 16 s.
    let speaking = |ms: u64| (2_000..2_800).contains(&ms) || (8_000..8_800).contains(&ms);
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let (mut elapsed, mut phase, mut sequence) = (0u64, 0f32, 100_000u64);
    while elapsed < 16_000 {
        tokio::select! {
            _ = ticker.tick() => {
                send(&mut socket, frame(elapsed / 20, speaking(elapsed), &mut phase)).await;
                elapsed += 20;
                if elapsed == 5_000 {
                    realtime.drop_connections();
                }
            }
            incoming = socket.next() => {
                let Some(Ok(Message::Text(text))) = incoming else { panic!("the call ended early") };
                let msg: Value = serde_json::from_str(text.as_str()).unwrap();
                if msg["event"] == "mark" {
                    sequence += 1;
                    send(&mut socket, json!({
                        "event": "mark", "sequenceNumber": sequence.to_string(),
                        "streamSid": STREAM_SID, "mark": {"name": msg["mark"]["name"]},
                    })).await;
                }
            }
        }
    }
    send(
        &mut socket,
        json!({"event": "stop", "sequenceNumber": "999999", "streamSid": STREAM_SID,
               "stop": {"accountSid": ACCOUNT_SID, "callSid": call_sid}}),
    )
    .await;
    let _ = socket.close(None).await;

    let mut reason = None;
    for _ in 0..500 {
        reason =
            sqlx::query_scalar::<_, Option<String>>("select ended_reason from calls where id = $1")
                .bind(call_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if reason.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    app.stop().await;
}

#[tokio::test]
async fn the_caller_barges_in_and_the_agent_stops_where_it_was_heard() {
    use switchboard::fakes::twilio_caller::{CallerOptions, place_call};

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
    // No PUBLIC_BASE_URL: the webhook's own Host decides, so the stream is on loopback.
    let app = spawn_app_with(&[
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("OPENAI_BASE_URL", &realtime.base_url()),
        ("OPENAI_API_KEY", "sk-test"),
        ("EMBEDDINGS", "local"),
    ])
    .await;
    let (org, _) = app.org_with_key("Trattoria").await;
    let agent = insert_agent(&app.pool, org, "Host").await.unwrap();
    insert_phone_number(&app.pool, org, NUMBER, Some(agent))
        .await
        .unwrap();

    // Silence, the question at 2 s, silence while the answer starts, then the caller talks
    // over it at 4.5 s.
    let mut phase = 0f32;
    let mut audio = Vec::new();
    for n in 0..(8_000 / 20) {
        let ms = n * 20;
        let speaking = (2_000..2_800).contains(&ms) || (4_500..5_300).contains(&ms);
        audio.extend(if speaking {
            tone(160, &mut phase, 12_000.0)
        } else {
            vec![0xFF; 160]
        });
    }
    let call_sid = "CA00000000000000000000000000bargein";
    let report = place_call(&CallerOptions {
        base_url: app.address.clone(),
        auth_token: AUTH_TOKEN.into(),
        account_sid: ACCOUNT_SID.into(),
        call_sid: call_sid.into(),
        from: CALLER.into(),
        to: NUMBER.into(),
        audio,
        linger: Duration::from_secs(1),
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
