//! `POST /api/v1/calls`: an outbound call is validated, placed through Twilio's REST API (the
//! fake), and connected to its agent when Twilio calls our voice webhook back; its media stream
//! runs the agent's outbound prompt with the request's context (the OpenAI Realtime fake).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use switchboard::fakes::openai_realtime::{FakeRealtime, FakeScript};
use switchboard::fakes::twilio::{CreatedCall, FakeTwilio, FakeTwilioOptions, SeedNumber};
use switchboard::store::agents::{insert_agent, insert_phone_number};
use switchboard::twilio::signature::{RequestValidator, SIGNATURE_HEADER};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};

const BASE: &str = "https://voice.example.com";
const OUR_NUMBER: &str = "+14155550199";
const CALLEE: &str = "+14155550123";
const WAIT: Duration = Duration::from_secs(10);

async fn place(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/calls"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// An organization with a key and an agent on `OUR_NUMBER`: `(key, agent_id)`.
async fn agent_with_number(app: &TestApp) -> (String, Uuid) {
    let (org, key) = app.org_with_key("Outbound Co").await;
    let agent = insert_agent(&app.pool, org, "Reminders").await.unwrap();
    insert_phone_number(&app.pool, org, OUR_NUMBER, Some(agent))
        .await
        .unwrap();
    (key, agent)
}

/// A Twilio account (the fake) that owns `OUR_NUMBER`.
async fn twilio_with_our_number() -> FakeTwilio {
    FakeTwilio::start(FakeTwilioOptions {
        numbers: vec![SeedNumber::new(OUR_NUMBER)],
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap()
}

/// The server with a public URL and `twilio`'s account, so it can place calls; plus `extra`.
async fn spawn_placing_calls(twilio: &FakeTwilio, extra: &[(&str, &str)]) -> TestApp {
    let twilio_url = twilio.base_url();
    let mut env = vec![
        ("PUBLIC_BASE_URL", BASE),
        ("TWILIO_ACCOUNT_SID", twilio.account_sid()),
        ("TWILIO_AUTH_TOKEN", twilio.auth_token()),
        ("TWILIO_API_BASE", twilio_url.as_str()),
    ];
    env.extend_from_slice(extra);
    spawn_app_with(&env).await
}

#[tokio::test]
async fn an_outbound_call_is_placed_and_connected_to_its_agent() {
    let twilio = twilio_with_our_number().await;
    let app = spawn_placing_calls(&twilio, &[]).await;
    let (key, agent) = agent_with_number(&app).await;
    let (_, other_key) = app.org_with_key("Someone Else").await;

    // Refusals first: nothing reaches Twilio.
    let (status, body) = place(&app, &key, json!({"agent_id": agent, "to": "555-0123"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"].as_str().unwrap().contains("E.164"), "{body}");
    let (status, _) = place(&app, &other_key, json!({"agent_id": agent, "to": CALLEE})).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another organization's agent"
    );
    let (status, body) = place(&app, &key, json!({"to": CALLEE})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let wrong_key = format!("{}x", &key[..key.len() - 1]);
    let (status, _) = place(&app, &wrong_key, json!({"agent_id": agent, "to": CALLEE})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a wrong key");
    let keyless = app
        .client
        .post(app.url("/api/v1/calls"))
        .json(&json!({"agent_id": agent, "to": CALLEE}))
        .send()
        .await
        .unwrap();
    assert_eq!(keyless.status(), StatusCode::UNAUTHORIZED, "no key");
    assert!(twilio.requests().is_empty());

    let context = json!({"customer": "Ann", "reason": "confirm Friday's delivery"});
    let (status, body) = place(
        &app,
        &key,
        json!({"agent_id": agent, "to": CALLEE, "context": context}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let call_id: Uuid = body["call_id"].as_str().unwrap().parse().unwrap();
    let call_sid = body["call_sid"].as_str().unwrap().to_owned();
    assert!(call_sid.starts_with("CA") && call_sid.len() == 34);

    let created = twilio.last_request().unwrap();
    assert!(created.path.ends_with("/Calls.json"), "{}", created.path);
    assert_eq!(created.param("To"), Some(CALLEE));
    assert_eq!(created.param("From"), Some(OUR_NUMBER));
    let voice_url = format!("{BASE}/twilio/voice?call_id={call_id}");
    assert_eq!(created.param("Url"), Some(voice_url.as_str()));
    assert_eq!(
        created.param("StatusCallback"),
        Some(format!("{BASE}/twilio/status").as_str())
    );

    let row: (String, String, String, Option<Value>) =
        sqlx::query_as("select call_sid, direction, status, context from calls where id = $1")
            .bind(call_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (row.0.as_str(), row.1.as_str(), row.2.as_str()),
        (call_sid.as_str(), "outbound", "queued")
    );
    assert_eq!(row.3, Some(context));

    // The callee answers: Twilio fetches our voice URL, signed like every webhook.
    let params = vec![
        ("AccountSid", twilio.account_sid().to_owned()),
        ("CallSid", call_sid.clone()),
        ("CallStatus", "in-progress".to_owned()),
        ("Direction", "outbound-api".to_owned()),
        ("From", OUR_NUMBER.to_owned()),
        ("To", CALLEE.to_owned()),
    ];
    let signature = RequestValidator::new(twilio.auth_token()).compute(&voice_url, &params);
    let response = app
        .client
        .post(app.url(&format!("/twilio/voice?call_id={call_id}")))
        .header(SIGNATURE_HEADER, signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let twiml = response.text().await.unwrap();
    assert!(
        twiml.contains("<Connect><Stream url=\"wss://voice.example.com/twilio/stream/"),
        "{twiml}"
    );
    assert!(twiml.contains(&call_id.to_string()), "{twiml}");
    let calls: i64 = sqlx::query_scalar("select count(*) from calls")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(calls, 1, "the answer did not create a second call");
    app.stop().await;
}

/// Twilio's next move once `created` is answered: it posts our voice URL, signed like every
/// webhook; returns the TwiML we answered.
async fn answer(app: &TestApp, twilio: &FakeTwilio, created: &CreatedCall) -> String {
    let voice_url = created.url.as_deref().expect("the call has a voice URL");
    let params = created.voice_webhook_params();
    let signature = RequestValidator::new(twilio.auth_token()).compute(voice_url, &params);
    let path = voice_url
        .strip_prefix(BASE)
        .expect("a URL under PUBLIC_BASE_URL");
    let response = app
        .client
        .post(app.url(path))
        .header(SIGNATURE_HEADER, signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn an_answered_outbound_call_gives_the_engine_the_outbound_prompt_and_the_calls_context() {
    // Arrange: the fakes, the server, an agent with a prompt for each direction.
    let twilio = twilio_with_our_number().await;
    let realtime = FakeRealtime::start(FakeScript::default()).await.unwrap();
    let realtime_url = realtime.base_url();
    let app = spawn_placing_calls(
        &twilio,
        &[
            ("OPENAI_BASE_URL", &realtime_url),
            ("OPENAI_API_KEY", "sk-test"),
        ],
    )
    .await;
    let (key, agent) = agent_with_number(&app).await;
    let (inbound_prompt, outbound_prompt) = (
        "Someone phoned the shop: find out what they need.",
        "You are calling a customer to confirm their delivery.",
    );
    sqlx::query("update agents set inbound_prompt = $2, outbound_prompt = $3 where id = $1")
        .bind(agent)
        .bind(inbound_prompt)
        .bind(outbound_prompt)
        .execute(&app.pool)
        .await
        .unwrap();
    let mut dialled = twilio
        .take_created_calls()
        .expect("the created-calls channel");
    let context = json!({"customer": "Ann", "reason": "confirm Friday's delivery"});
    let (status, body) = place(
        &app,
        &key,
        json!({"agent_id": agent, "to": CALLEE, "context": context}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Act: the callee answers; Twilio fetches our TwiML and opens the stream it names.
    let created = tokio::time::timeout(WAIT, dialled.recv())
        .await
        .expect("Twilio was asked to dial")
        .expect("a created call");
    let twiml = answer(&app, &twilio, &created).await;
    let mut stream = app
        .connect_media_stream(
            &twiml,
            twilio.auth_token(),
            twilio.account_sid(),
            &created.sid,
        )
        .await;
    let configured = realtime
        .wait_until(WAIT, |log| !log.of_type("session.update").is_empty())
        .await;

    // Assert: the engine was told this call's direction and purpose, not the inbound script.
    assert!(configured, "no session.update reached the engine");
    let log = realtime.log();
    let update = log.of_type("session.update")[0];
    let instructions = update["session"]["instructions"]
        .as_str()
        .unwrap_or_else(|| panic!("no instructions in {update}"));
    assert!(instructions.contains(outbound_prompt), "{instructions}");
    assert!(!instructions.contains(inbound_prompt), "{instructions}");
    let (_, about) = instructions
        .split_once("# About this call\n")
        .unwrap_or_else(|| panic!("no context section in {instructions}"));
    let about = about.split("\n\n").next().unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<Value>(about).ok(),
        Some(context),
        "the request's context, as given: {instructions}"
    );
    stream.stop().await;
    let engine_closed = realtime
        .wait_until(WAIT, |log| log.opened == 1 && log.closed == 1)
        .await;
    let log = realtime.log();
    assert!(
        engine_closed,
        "the callee's hang-up closed the engine socket: opened {}, closed {}",
        log.opened, log.closed
    );
    app.stop().await;
}

#[tokio::test]
async fn without_twilio_or_a_number_a_call_is_refused_clearly() {
    let app = spawn_app_with(&[("PUBLIC_BASE_URL", BASE)]).await;
    let (org, key) = app.org_with_key("No Number").await;
    let agent = insert_agent(&app.pool, org, "Lonely").await.unwrap();
    let (status, body) = place(&app, &key, json!({"agent_id": agent, "to": CALLEE})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("Assign a phone number"),
        "{body}"
    );
    insert_phone_number(&app.pool, org, OUR_NUMBER, Some(agent))
        .await
        .unwrap();
    let (status, body) = place(&app, &key, json!({"agent_id": agent, "to": CALLEE})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("TWILIO_ACCOUNT_SID"),
        "{body}"
    );
    let calls: i64 = sqlx::query_scalar("select count(*) from calls")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(calls, 0);
    app.stop().await;
}

#[tokio::test]
async fn without_a_public_url_an_outbound_call_is_refused_before_anything_is_stored() {
    let twilio = FakeTwilio::start(FakeTwilioOptions {
        numbers: vec![SeedNumber::new(OUR_NUMBER)],
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap();
    let app = spawn_app_with(&[
        ("TWILIO_ACCOUNT_SID", twilio.account_sid()),
        ("TWILIO_AUTH_TOKEN", twilio.auth_token()),
        ("TWILIO_API_BASE", &twilio.base_url()),
    ])
    .await;
    let (key, agent) = agent_with_number(&app).await;
    let (status, body) = place(&app, &key, json!({"agent_id": agent, "to": CALLEE})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        body["error"].as_str().unwrap().contains("PUBLIC_BASE_URL"),
        "{body}"
    );
    assert!(twilio.requests().is_empty());
    let calls: i64 = sqlx::query_scalar("select count(*) from calls")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(calls, 0);
    app.stop().await;
}
