//! `POST /twilio/voice`: signature checks, routing a called number to its agent, and the TwiML.

use reqwest::StatusCode;
use switchboard::store::accounts::insert_org_with_owner;
use switchboard::store::agents::{insert_agent, insert_phone_number, set_agent_status};
use switchboard::twilio::signature::{RequestValidator, SIGNATURE_HEADER};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app_with};

const AUTH_TOKEN: &str = "12345678901234567890123456789012";
const BASE: &str = "https://voice.example.com";
const NUMBER: &str = "+14155550199";
const CALLER: &str = "+14155550100";
const CALL_SID: &str = "CA0123456789abcdef0123456789abcdef";

async fn spawn() -> TestApp {
    spawn_app_with(&[("PUBLIC_BASE_URL", BASE), ("TWILIO_AUTH_TOKEN", AUTH_TOKEN)]).await
}

fn form(call_sid: &str, to: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "AccountSid",
            "AC0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("CallSid", call_sid.to_owned()),
        ("CallStatus", "ringing".to_owned()),
        ("Direction", "inbound".to_owned()),
        ("From", CALLER.to_owned()),
        ("To", to.to_owned()),
    ]
}

/// Posts `params` to the webhook with `signature` (none when `None`).
async fn post_voice(
    app: &TestApp,
    params: &[(&'static str, String)],
    signature: Option<String>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url("/twilio/voice")).form(params);
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    request.send().await.expect("POST /twilio/voice")
}

fn sign(params: &[(&'static str, String)]) -> String {
    RequestValidator::new(AUTH_TOKEN).compute(&format!("{BASE}/twilio/voice"), params)
}

/// An org with an agent on `NUMBER`; returns `(org_id, agent_id)`.
async fn assigned_number(app: &TestApp) -> (Uuid, Uuid) {
    let (org, _) = insert_org_with_owner(&app.pool, "Acme", "Ann", "ann@example.com", "x")
        .await
        .unwrap();
    let agent = insert_agent(&app.pool, org, "Front desk").await.unwrap();
    insert_phone_number(&app.pool, org, NUMBER, Some(agent))
        .await
        .unwrap();
    (org, agent)
}

async fn call_rows(app: &TestApp) -> Vec<(Uuid, Uuid, String, String)> {
    sqlx::query_as("select id, org_id, status, direction from calls")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

async fn twiml(response: reqwest::Response) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn twilio_signed_call_to_an_assigned_number_connects_a_stream() {
    let app = spawn().await;
    let (org, agent) = assigned_number(&app).await;
    let params = form(CALL_SID, NUMBER);

    let body = twiml(post_voice(&app, &params, Some(sign(&params))).await).await;

    let rows = call_rows(&app).await;
    assert_eq!(rows.len(), 1);
    let (call_id, call_org, status, direction) = &rows[0];
    assert_eq!(
        (*call_org, status.as_str(), direction.as_str()),
        (org, "ringing", "inbound")
    );
    let (call_sid, call_agent, from, to): (String, Option<Uuid>, String, String) =
        sqlx::query_as("select call_sid, agent_id, from_number, to_number from calls")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (call_sid.as_str(), call_agent, from.as_str(), to.as_str()),
        (CALL_SID, Some(agent), CALLER, NUMBER)
    );
    assert!(body.contains("<Connect>"), "{body}");
    assert!(
        body.contains(r#"<Stream url="wss://voice.example.com/twilio/stream/"#),
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"<Parameter name="call_id" value="{call_id}"/>"#)),
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"<Parameter name="agent_id" value="{agent}"/>"#)),
        "{body}"
    );
    // ai_disclosure defaults to on: the caller hears it before the stream starts.
    let say = body.find("<Say").expect("disclosure");
    assert!(say < body.find("<Connect>").unwrap(), "{body}");
    assert!(body.contains("AI"), "{body}");

    // The token in the URL authorizes this call.
    let start = body.find("/twilio/stream/").unwrap() + "/twilio/stream/".len();
    let token: String = body[start..].chars().take_while(|c| *c != '"').collect();
    assert!(
        !token.contains(['?', '&', '/']),
        "stream URL has no query string: {token}"
    );
    let secret = switchboard::twilio::stream_token::derive_secret(AUTH_TOKEN);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(
        switchboard::twilio::stream_token::verify(&secret, &token, now).as_deref(),
        Ok(CALL_SID)
    );
    app.stop().await;
}

#[tokio::test]
async fn twilio_unsigned_webhook_is_refused_and_creates_nothing() {
    let app = spawn().await;
    assigned_number(&app).await;
    let params = form(CALL_SID, NUMBER);

    let response = post_voice(&app, &params, None).await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(call_rows(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn twilio_wrong_signature_is_refused() {
    let app = spawn().await;
    assigned_number(&app).await;
    let params = form(CALL_SID, NUMBER);
    let forged = RequestValidator::new("not-the-auth-token")
        .compute(&format!("{BASE}/twilio/voice"), &params);
    // Signed for other parameters: a tampered body.
    let tampered = sign(&form(CALL_SID, "+14155550111"));

    assert_eq!(
        post_voice(&app, &params, Some(forged)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post_voice(&app, &params, Some(tampered)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(call_rows(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn twilio_call_to_an_unknown_number_hangs_up_politely() {
    let app = spawn().await;
    assigned_number(&app).await;
    let params = form(CALL_SID, "+14155550111");

    let body = twiml(post_voice(&app, &params, Some(sign(&params))).await).await;

    assert!(body.contains("<Say>Sorry"), "{body}");
    assert!(body.contains("<Hangup/>"), "{body}");
    assert!(!body.contains("<Connect>"), "{body}");
    assert!(call_rows(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn twilio_call_to_a_paused_agent_hangs_up_politely() {
    let app = spawn().await;
    let (org, agent) = assigned_number(&app).await;
    assert!(
        set_agent_status(&app.pool, org, agent, "paused")
            .await
            .unwrap()
    );
    let params = form(CALL_SID, NUMBER);

    let body = twiml(post_voice(&app, &params, Some(sign(&params))).await).await;

    assert!(body.contains("<Say>Sorry"), "{body}");
    assert!(body.contains("<Hangup/>"), "{body}");
    assert!(!body.contains("<Connect>"), "{body}");
    assert!(call_rows(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn twilio_retried_webhook_records_the_call_once() {
    let app = spawn().await;
    assigned_number(&app).await;
    let params = form(CALL_SID, NUMBER);

    let first = twiml(post_voice(&app, &params, Some(sign(&params))).await).await;
    let second = twiml(post_voice(&app, &params, Some(sign(&params))).await).await;

    let rows = call_rows(&app).await;
    assert_eq!(rows.len(), 1);
    let call_param = format!(r#"<Parameter name="call_id" value="{}"/>"#, rows[0].0);
    assert!(first.contains(&call_param) && second.contains(&call_param));
    app.stop().await;
}

#[tokio::test]
async fn twilio_webhook_without_auth_token_is_unavailable() {
    let app = spawn_app_with(&[("PUBLIC_BASE_URL", BASE)]).await;
    assigned_number(&app).await;
    let params = form(CALL_SID, NUMBER);

    let response = post_voice(&app, &params, Some(sign(&params))).await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(call_rows(&app).await.is_empty());
    app.stop().await;
}

/// Posts a call-status callback, signed for `/twilio/status` unless `signed` is false.
async fn post_status(app: &TestApp, params: &[(&'static str, String)], signed: bool) -> StatusCode {
    let mut request = app.client.post(app.url("/twilio/status")).form(params);
    if signed {
        let signature =
            RequestValidator::new(AUTH_TOKEN).compute(&format!("{BASE}/twilio/status"), params);
        request = request.header(SIGNATURE_HEADER, signature);
    }
    request.send().await.expect("POST /twilio/status").status()
}

#[tokio::test]
async fn twilio_status_callbacks_record_the_end_and_the_call_gets_its_summary() {
    use serde_json::json;
    use switchboard::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions};
    use switchboard::store::{calls, transcripts};

    let openai = FakeOpenAi::start(FakeOpenAiOptions {
        api_key: Some("sk-test".into()),
        chat_json: Some(json!({
            "summary": "Asked about opening hours; told nine to five.",
            "outcome": {"resolved": true, "follow_up": null}
        })),
        ..FakeOpenAiOptions::default()
    })
    .await
    .unwrap();
    let app = spawn_app_with(&[
        ("PUBLIC_BASE_URL", BASE),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &openai.base_url()),
    ])
    .await;
    let (org, agent) = assigned_number(&app).await;
    let call = calls::insert_inbound_call(&app.pool, org, agent, CALL_SID, CALLER, NUMBER)
        .await
        .unwrap();
    transcripts::insert_line(
        &app.pool,
        org,
        call,
        0,
        "caller",
        "When are you open?",
        0,
        900,
        false,
    )
    .await
    .unwrap();
    transcripts::insert_line(
        &app.pool,
        org,
        call,
        1,
        "agent",
        "Nine to five.",
        1000,
        1900,
        false,
    )
    .await
    .unwrap();
    let status = |status: &str, duration: Option<&str>| {
        let mut params = form(CALL_SID, NUMBER);
        params.retain(|(k, _)| *k != "CallStatus");
        params.push(("CallStatus", status.to_owned()));
        if let Some(d) = duration {
            params.push(("CallDuration", d.to_owned()));
        }
        params
    };

    // Unsigned: refused, nothing changes.
    assert_eq!(
        post_status(&app, &status("completed", Some("42")), false).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(call_rows(&app).await[0].2, "ringing");
    // Malformed: refused.
    assert_eq!(
        post_status(&app, &status("exploded", None), true).await,
        StatusCode::BAD_REQUEST
    );

    assert_eq!(
        post_status(&app, &status("in-progress", None), true).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        post_status(&app, &status("completed", Some("42")), true).await,
        StatusCode::NO_CONTENT
    );
    // Twilio retries callbacks: a repeat changes nothing and enqueues nothing new.
    assert_eq!(
        post_status(&app, &status("completed", Some("42")), true).await,
        StatusCode::NO_CONTENT
    );

    let mut row: (
        String,
        Option<i32>,
        Option<String>,
        Option<serde_json::Value>,
    ) = (String::new(), None, None, None);
    for _ in 0..600 {
        row = sqlx::query_as(
            "select status, duration_secs, summary, outcome from calls where id = $1",
        )
        .bind(call)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        if row.2.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!((row.0.as_str(), row.1), ("completed", Some(42)));
    assert_eq!(
        row.2.as_deref(),
        Some("Asked about opening hours; told nine to five.")
    );
    assert_eq!(row.3, Some(json!({"resolved": true, "follow_up": null})));
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs where kind = 'call.summary'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 1);
    let chats = openai.requests_to("/v1/chat/completions");
    assert_eq!(chats.len(), 1);
    assert!(
        chats[0].messages()[1]
            .1
            .contains("Caller: When are you open?\nAgent: Nine to five.")
    );
    app.stop().await;
}

#[tokio::test]
async fn twilio_behind_a_proxy_without_public_base_url_is_verified_against_the_forwarded_url() {
    let app = spawn_app_with(&[("TWILIO_AUTH_TOKEN", AUTH_TOKEN)]).await;
    assigned_number(&app).await;
    let params = form(CALL_SID, NUMBER);
    // The proxy terminates TLS for calls.proxy.example and forwards to us over plain HTTP.
    let public = "https://calls.proxy.example/twilio/voice";
    let signature = RequestValidator::new(AUTH_TOKEN).compute(public, &params);
    let post = |signature: String| {
        app.client
            .post(app.url("/twilio/voice"))
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-host", "calls.proxy.example")
            .header(SIGNATURE_HEADER, signature)
            .form(&params)
            .send()
    };
    let body = twiml(post(signature).await.unwrap()).await;
    assert!(
        body.contains("<Stream url=\"wss://calls.proxy.example/twilio/stream/"),
        "the stream URL follows the proxy: {body}"
    );
    // Signed for our internal address instead: refused.
    let internal = RequestValidator::new(AUTH_TOKEN).compute(&app.url("/twilio/voice"), &params);
    assert_eq!(
        post(internal).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}

#[tokio::test]
async fn twilio_a_recorded_agent_starts_twilios_recording_tells_the_caller_and_stores_the_file() {
    let app = spawn().await;
    let (_, agent) = assigned_number(&app).await;
    sqlx::query("update agents set record_calls = true, ai_disclosure = false where id = $1")
        .bind(agent)
        .execute(&app.pool)
        .await
        .unwrap();
    let params = form(CALL_SID, NUMBER);

    let body = twiml(post_voice(&app, &params, Some(sign(&params))).await).await;

    // Recording starts first, so the notice is on it; then the notice; then the stream.
    let (start, say, connect) = (
        body.find("<Start><Recording").expect("recording"),
        body.find("<Say>This call is recorded.</Say>")
            .expect("notice"),
        body.find("<Connect>").expect("stream"),
    );
    assert!(start < say && say < connect, "{body}");
    assert!(
        body.contains(r#"recordingStatusCallback="https://voice.example.com/twilio/recording""#),
        "{body}"
    );
    assert!(!body.contains("AI assistant"), "disclosure off: {body}");

    // Twilio reports the finished recording on the signed callback.
    let url = "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef";
    let callback = vec![
        (
            "AccountSid",
            "AC0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("CallSid", CALL_SID.to_owned()),
        (
            "RecordingSid",
            "RE0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("RecordingUrl", url.to_owned()),
        ("RecordingStatus", "completed".to_owned()),
        ("RecordingDuration", "42".to_owned()),
        ("RecordingChannels", "2".to_owned()),
    ];
    let post = |signature: Option<String>| {
        let mut request = app
            .client
            .post(app.url("/twilio/recording"))
            .form(&callback);
        if let Some(signature) = signature {
            request = request.header(SIGNATURE_HEADER, signature);
        }
        request.send()
    };
    let stored = || async {
        sqlx::query_scalar::<_, Option<String>>(
            "select recording_url from calls where call_sid = $1",
        )
        .bind(CALL_SID)
        .fetch_one(&app.pool)
        .await
        .unwrap()
    };
    let unsigned = post(None).await.unwrap();
    assert_eq!(unsigned.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored().await, None, "an unsigned callback changes nothing");
    let signature =
        RequestValidator::new(AUTH_TOKEN).compute(&format!("{BASE}/twilio/recording"), &callback);
    let signed = post(Some(signature)).await.unwrap();
    assert_eq!(signed.status(), StatusCode::NO_CONTENT);
    assert_eq!(stored().await.as_deref(), Some(url));
    app.stop().await;
}

#[tokio::test]
async fn twilio_an_agent_that_discloses_and_records_says_both_in_one_sentence() {
    let app = spawn().await;
    let (_, agent) = assigned_number(&app).await;
    sqlx::query("update agents set record_calls = true where id = $1")
        .bind(agent)
        .execute(&app.pool)
        .await
        .unwrap();
    let params = form(CALL_SID, NUMBER);
    let body = twiml(post_voice(&app, &params, Some(sign(&params))).await).await;
    assert_eq!(body.matches("<Say>").count(), 1, "{body}");
    assert!(
        body.contains("answered by an AI assistant. This call is recorded.</Say>"),
        "{body}"
    );
    app.stop().await;
}
