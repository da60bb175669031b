//! `GET /twilio/stream/{token}`: the Media Streams WebSocket, bridged to the OpenAI Realtime fake.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use switchboard::fakes::openai_realtime::{FakeRealtime, FakeScript};
use switchboard::store::accounts::insert_org_with_owner;
use switchboard::store::agents::{insert_agent, insert_phone_number};
use switchboard::store::calls::insert_inbound_call;
use switchboard::store::transcripts::list_lines;
use switchboard::twilio::TwilioInbound;
use switchboard::twilio::media::{MediaFormat, StreamStart, Track};
use switchboard::twilio::signature::{RequestValidator, SIGNATURE_HEADER};
use switchboard::twilio::stream_token;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};

pub(crate) const AUTH_TOKEN: &str = "12345678901234567890123456789012";
const BASE: &str = "https://voice.example.com";
const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";
pub(crate) const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const STREAM_SID: &str = "MZ0123456789abcdef0123456789abcdef";
const WAIT: Duration = Duration::from_secs(10);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn spawn(fake: &FakeRealtime) -> TestApp {
    spawn_draining(fake, "30").await
}

async fn spawn_draining(fake: &FakeRealtime, drain_secs: &str) -> TestApp {
    let base_url = fake.base_url();
    spawn_app_with(&[
        ("PUBLIC_BASE_URL", BASE),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("OPENAI_BASE_URL", &base_url),
        ("OPENAI_API_KEY", "sk-test"),
        ("SHUTDOWN_DRAIN_SECS", drain_secs),
    ])
    .await
}

/// An org with an agent and a ringing inbound call; returns `(org_id, call_id)`.
async fn ringing_call(app: &TestApp) -> (Uuid, Uuid) {
    let (org, _) = insert_org_with_owner(&app.pool, "Acme", "Ann", "ann@example.com", "x")
        .await
        .unwrap();
    let agent = insert_agent(&app.pool, org, "Front desk").await.unwrap();
    insert_phone_number(&app.pool, org, "+14155550199", Some(agent))
        .await
        .unwrap();
    let call = insert_inbound_call(
        &app.pool,
        org,
        agent,
        CALL_SID,
        "+14155550100",
        "+14155550199",
    )
    .await
    .unwrap();
    (org, call)
}

fn token() -> String {
    token_for(CALL_SID)
}

/// A stream token for `call_sid`, as our voice webhook issues it.
fn token_for(call_sid: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    stream_token::issue(
        &stream_token::derive_secret(AUTH_TOKEN),
        call_sid,
        now.as_secs(),
    )
}

/// The handshake signature Twilio sends for the stream URL of `token`.
fn signature(token: &str) -> String {
    let url = format!("wss://voice.example.com/twilio/stream/{token}");
    RequestValidator::new(AUTH_TOKEN).compute::<&str, &str>(&url, &[])
}

/// Opens the stream socket for `token`, signed with `signature` (none when `None`).
async fn open_media_stream(
    app: &TestApp,
    token: &str,
    signature: Option<String>,
) -> Result<Socket, tungstenite::Error> {
    let signature = signature.map(|s| (SIGNATURE_HEADER, s));
    open_media_stream_with(app, token, signature.as_slice()).await
}

/// Opens the stream socket for `token` with these extra request headers.
async fn open_media_stream_with(
    app: &TestApp,
    token: &str,
    headers: &[(&'static str, String)],
) -> Result<Socket, tungstenite::Error> {
    let url = format!(
        "{}/twilio/stream/{token}",
        app.address.replacen("http://", "ws://", 1)
    );
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

#[track_caller]
fn assert_refused(result: Result<Socket, tungstenite::Error>, status: u16) {
    match result {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status().as_u16(), status),
        Err(e) => panic!("expected HTTP {status}, got {e}"),
        Ok(_) => panic!("expected HTTP {status}, got a WebSocket"),
    }
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::text(message.to_string()))
        .await
        .expect("send to the server");
}

/// Base64 of "BEFORE", "AFTER" and something that is not base64: caller audio a test can find.
const EARLY_AUDIO: &str = "QkVGT1JF";
const GOOD_AUDIO: &str = "QUZURVI=";
const BAD_AUDIO: &str = "QUZ*RVI=";

/// Twilio's `start` for our stream, naming `call_sid`, with the `call_id` parameter the TwiML
/// passes when given.
fn start_frame(call_sid: &str, call_id: Option<Uuid>) -> Message {
    let custom_parameters = call_id
        .map(|id| BTreeMap::from([("call_id".into(), id.to_string())]))
        .unwrap_or_default();
    let start = TwilioInbound::Start(StreamStart {
        sequence_number: Some(1),
        stream_sid: STREAM_SID.into(),
        account_sid: ACCOUNT_SID.into(),
        call_sid: call_sid.into(),
        tracks: vec![Track::Inbound],
        custom_parameters,
        media_format: MediaFormat::mulaw_8k(),
    });
    Message::text(start.to_json())
}

/// Waits for the server's first frame on a started stream: the call is live.
async fn assert_live(socket: &mut Socket) {
    let first = tokio::time::timeout(WAIT, socket.next()).await;
    assert!(
        matches!(first, Ok(Some(Ok(Message::Text(_))))),
        "the call is live: {first:?}"
    );
}

fn media(payload: &str) -> Value {
    json!({
        "event": "media", "sequenceNumber": "3", "streamSid": STREAM_SID,
        "media": {"track": "inbound", "chunk": "1", "timestamp": "20", "payload": payload},
    })
}

#[tokio::test]
async fn a_signed_stream_plays_the_greeting_stores_its_transcript_and_finishes_the_call() {
    // Arrange
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn(&fake).await;
    let (org, call_id) = ringing_call(&app).await;
    let token = token();
    let mut socket = open_media_stream(&app, &token, Some(signature(&token)))
        .await
        .expect("upgrade accepted");

    // Act: the phone connects, then plays the agent's audio and echoes its marks. Along the way
    // it sends every kind of bad frame; each is dropped and the call goes on.
    send(
        &mut socket,
        json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}),
    )
    .await;
    socket.send(Message::binary(vec![0u8; 16])).await.unwrap();
    // Over the 64 KiB a frame may have, and over the 256 KiB that once ended the stream.
    socket
        .send(Message::text("x".repeat(300 * 1024)))
        .await
        .unwrap();
    socket.send(Message::text("{not json")).await.unwrap();
    send(&mut socket, media(EARLY_AUDIO)).await;
    socket
        .send(start_frame(CALL_SID, Some(call_id)))
        .await
        .unwrap();
    let (mut media_frames, mut marks) = (0, 0);
    let until = tokio::time::Instant::now() + WAIT;
    loop {
        let quiet = tokio::time::sleep(Duration::from_millis(1500));
        let frame = tokio::select! {
            frame = socket.next() => frame,
            () = quiet => {
                if media_frames > 0 && marks > 0 {
                    break;
                }
                assert!(tokio::time::Instant::now() < until, "no greeting audio");
                continue;
            }
        };
        let Some(Ok(Message::Text(text))) = frame else {
            panic!("socket ended early: {frame:?}");
        };
        let msg: Value = serde_json::from_str(text.as_str()).unwrap();
        match msg["event"].as_str() {
            Some("media") => {
                assert_eq!(msg["streamSid"], STREAM_SID);
                media_frames += 1;
                if media_frames == 1 {
                    // The engine is up: caller audio now reaches it, unless it is corrupt.
                    send(&mut socket, media(BAD_AUDIO)).await;
                    send(&mut socket, media(GOOD_AUDIO)).await;
                }
            }
            Some("mark") => {
                marks += 1;
                let echo = json!({
                    "event": "mark", "sequenceNumber": (marks + 1).to_string(),
                    "streamSid": STREAM_SID, "mark": {"name": msg["mark"]["name"]},
                });
                send(&mut socket, echo).await;
            }
            _ => {}
        }
    }
    send(
        &mut socket,
        json!({
            "event": "stop", "sequenceNumber": "99", "streamSid": STREAM_SID,
            "stop": {"accountSid": ACCOUNT_SID, "callSid": CALL_SID},
        }),
    )
    .await;

    // Assert
    let until = tokio::time::Instant::now() + WAIT;
    let lines = loop {
        let lines = list_lines(&app.pool, org, call_id).await.unwrap();
        if lines.iter().any(|l| l.role == "agent") || tokio::time::Instant::now() > until {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let agent_line = lines.iter().find(|l| l.role == "agent");
    assert!(agent_line.is_some(), "no agent line in {lines:?}");
    assert!(!agent_line.unwrap().text.is_empty());
    let stored_org: Uuid =
        sqlx::query_scalar("select distinct org_id from call_transcript_lines where call_id = $1")
            .bind(call_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored_org, org);
    let until = tokio::time::Instant::now() + WAIT;
    let status = loop {
        let (status, reason): (String, Option<String>) =
            sqlx::query_as("select status, ended_reason from calls where id = $1")
                .bind(call_id)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        if reason.is_some() || tokio::time::Instant::now() > until {
            break (status, reason);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.0, "completed");
    assert_eq!(status.1.as_deref(), Some("caller_hang_up"));
    // Only the good caller audio reached the engine, and the engine socket was closed.
    let log = fake.log();
    let appended: Vec<&str> = log
        .of_type("input_audio_buffer.append")
        .iter()
        .filter_map(|event| event["audio"].as_str())
        .collect();
    assert_eq!(appended, [GOOD_AUDIO]);
    assert!(
        fake.wait_until(WAIT, |log| log.opened == 1 && log.closed == 1)
            .await,
        "engine socket left open: {:?}",
        fake.log()
    );
    // Each dropped frame was logged, naming the call.
    let call = format!("call_id={call_id}");
    for dropped in [
        "dropping a binary media stream frame",
        "dropping an oversized media stream frame",
        "frame is not valid JSON",
        "media before the stream started",
        "media payload is not valid base64",
    ] {
        assert_eq!(
            crate::helpers::logged_lines_with(&[&call, dropped]).len(),
            1,
            "one log line with {call} and {dropped:?}"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn a_calls_stream_opens_once_and_never_after_the_call_ended() {
    // Arrange
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn(&fake).await;
    let (_org, call_id) = ringing_call(&app).await;
    let token = token();
    let first = open_media_stream(&app, &token, Some(signature(&token)))
        .await
        .expect("the first upgrade is accepted");

    // Act: the same signed URL again, as a replay would send it.
    let replayed = open_media_stream(&app, &token, Some(signature(&token))).await;

    // Assert
    assert_refused(replayed, 409);
    drop(first);
    let until = tokio::time::Instant::now() + WAIT;
    while sqlx::query_scalar::<_, Option<String>>("select ended_reason from calls where id = $1")
        .bind(call_id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
        .is_none()
    {
        assert!(tokio::time::Instant::now() < until, "the call never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after_the_end = open_media_stream(&app, &token, Some(signature(&token))).await;
    assert_refused(after_the_end, 409);
    assert_eq!(
        fake.log().opened,
        1,
        "only the first stream reached the engine"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bad_stream_token_is_refused() {
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn(&fake).await;
    ringing_call(&app).await;
    let forged = format!("{}x", token());

    let result = open_media_stream(&app, &forged, Some(signature(&forged))).await;

    assert_refused(result, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_stream_without_a_signature_is_refused() {
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn(&fake).await;
    ringing_call(&app).await;

    let result = open_media_stream(&app, &token(), None).await;

    assert_refused(result, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_stream_signed_for_another_url_is_refused() {
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn(&fake).await;
    ringing_call(&app).await;
    let token = token();
    let https_signature = RequestValidator::new(AUTH_TOKEN)
        .compute::<&str, &str>(&format!("{BASE}/twilio/stream/{token}"), &[]);

    let result = open_media_stream(&app, &token, Some(https_signature)).await;

    assert_refused(result, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_stream_behind_a_proxy_is_verified_against_the_forwarded_wss_url() {
    // Arrange: no PUBLIC_BASE_URL; a proxy terminates TLS for calls.proxy.example.
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let base_url = fake.base_url();
    let app = spawn_app_with(&[
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("OPENAI_BASE_URL", &base_url),
        ("OPENAI_API_KEY", "sk-test"),
    ])
    .await;
    ringing_call(&app).await;
    let token = token();
    let forwarded = |signed_url: String| {
        vec![
            ("x-forwarded-proto", "https".to_owned()),
            ("x-forwarded-host", "calls.proxy.example".to_owned()),
            (
                SIGNATURE_HEADER,
                RequestValidator::new(AUTH_TOKEN).compute::<&str, &str>(&signed_url, &[]),
            ),
        ]
    };
    let internal = format!(
        "{}/twilio/stream/{token}",
        app.address.replacen("http://", "ws://", 1)
    );

    // Act
    let signed_for_internal = open_media_stream_with(&app, &token, &forwarded(internal)).await;
    let public = format!("wss://calls.proxy.example/twilio/stream/{token}");
    let signed_for_public = open_media_stream_with(&app, &token, &forwarded(public)).await;

    // Assert: Twilio signs the URL it dialled, wss:// at the proxy's host.
    assert_refused(signed_for_internal, 403);
    assert!(
        signed_for_public.is_ok(),
        "the forwarded wss:// URL is the signed one: {:?}",
        signed_for_public.err()
    );
    app.stop().await;
}

#[tokio::test]
async fn shutdown_lets_a_live_call_run_for_the_drain_time_then_ends_it() {
    // Arrange: a live call that nobody hangs up.
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn_draining(&fake, "1").await;
    let (_, call_id) = ringing_call(&app).await;
    let token = token();
    let mut socket = open_media_stream(&app, &token, Some(signature(&token)))
        .await
        .expect("upgrade accepted");
    socket.send(start_frame(CALL_SID, None)).await.unwrap();
    assert_live(&mut socket).await;
    let pool = app.pool.clone();

    // Act: SIGTERM, as far as the server can tell.
    let started = tokio::time::Instant::now();
    app.stop().await;

    // Assert: it waited for the drain time, then ended the call and recorded why.
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the call had its drain time"
    );
    let (status, reason): (String, Option<String>) =
        sqlx::query_as("select status, ended_reason from calls where id = $1")
            .bind(call_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "completed");
    assert_eq!(reason.as_deref(), Some("shutdown"));
    // Its start named the URL's own call: nothing to report.
    let call = format!("call_id={call_id}");
    assert!(crate::helpers::logged_lines_with(&[&call, "names another CallSid"]).is_empty());
}

#[tokio::test]
async fn a_start_naming_another_call_sid_is_logged_and_the_call_goes_on() {
    // Arrange: a signed stream URL for the ringing call.
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn(&fake).await;
    let (_, call_id) = ringing_call(&app).await;
    let token = token();
    let mut socket = open_media_stream(&app, &token, Some(signature(&token)))
        .await
        .expect("upgrade accepted");
    let other = "CAffffffffffffffffffffffffffffffff";

    // Act: its `start` names another call.
    socket.send(start_frame(other, None)).await.unwrap();

    // Assert: the call is live all the same, and one warning names both the call and the stranger.
    assert_live(&mut socket).await;
    let call = format!("call_id={call_id}");
    let until = tokio::time::Instant::now() + WAIT;
    let logged = loop {
        let lines = crate::helpers::logged_lines_with(&[&call, "names another CallSid", other]);
        if !lines.is_empty() || tokio::time::Instant::now() > until {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(logged.len(), 1, "{logged:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_agent_with_knowledge_search_off_is_not_offered_query_knowledge_base() {
    // Arrange: the Agents page switched knowledge search off.
    let fake = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let app = spawn(&fake).await;
    let (_, call_id) = ringing_call(&app).await;
    sqlx::query(
        "update agents set engine_settings = \
           '{\"builtin_tools\": {\"end_call\": true, \"query_knowledge_base\": false}}' \
         where id = (select agent_id from calls where id = $1)",
    )
    .bind(call_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let token = token();
    let mut socket = open_media_stream(&app, &token, Some(signature(&token)))
        .await
        .expect("upgrade accepted");

    // Act: the call starts, so the bridge configures the Realtime session.
    socket
        .send(start_frame(CALL_SID, Some(call_id)))
        .await
        .unwrap();
    let configured = fake
        .wait_until(WAIT, |log| !log.of_type("session.update").is_empty())
        .await;

    // Assert
    assert!(configured, "no session.update reached the fake");
    let log = fake.log();
    let update = log.of_type("session.update")[0];
    let tools: Vec<&str> = update["session"]["tools"]
        .as_array()
        .expect("tools listed")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(tools, ["end_call"], "{update}");
    send(
        &mut socket,
        json!({
            "event": "stop", "sequenceNumber": "2", "streamSid": STREAM_SID,
            "stop": {"accountSid": ACCOUNT_SID, "callSid": CALL_SID},
        }),
    )
    .await;
    app.stop().await;
}
