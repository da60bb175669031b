//! The client against the Twilio fake, over real HTTP on loopback.

use std::time::Duration;

use super::*;
use crate::fakes::twilio::{FakeTwilio, FakeTwilioOptions, SeedNumber};

const OUR_NUMBER: &str = "+14155550100";
const CALLER: &str = "+14155551234";

async fn fake_with(options: FakeTwilioOptions) -> FakeTwilio {
    FakeTwilio::start(options)
        .await
        .expect("fake Twilio starts")
}

async fn fake() -> FakeTwilio {
    fake_with(FakeTwilioOptions {
        numbers: vec![SeedNumber::new(OUR_NUMBER).named("Front desk")],
        ..FakeTwilioOptions::default()
    })
    .await
}

fn client_for(fake: &FakeTwilio) -> TwilioRest {
    let config =
        TwilioRestConfig::new(fake.account_sid(), fake.auth_token()).with_api_base(fake.base_url());
    TwilioRest::new(config).expect("valid config")
}

fn outbound_call() -> CreateCall {
    CreateCall {
        to: CALLER.into(),
        from: OUR_NUMBER.into(),
        url: "https://sb.example/twilio/voice".into(),
        status_callback: "https://sb.example/twilio/status".into(),
        status_callback_events: vec![
            CallProgressEvent::Initiated,
            CallProgressEvent::Ringing,
            CallProgressEvent::Answered,
            CallProgressEvent::Completed,
        ],
        machine_detection: Some(MachineDetection::Enable),
    }
}

#[tokio::test]
async fn hang_up_posts_status_completed_and_ends_the_call() {
    let fake = fake().await;
    let sid = fake.start_inbound_call(CALLER, OUR_NUMBER);

    let call = client_for(&fake).hang_up(&sid).await.unwrap();

    assert_eq!(call.sid, sid);
    assert_eq!(call.status, CallStatus::Completed);
    let request = fake.last_request().unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.path,
        format!(
            "/2010-04-01/Accounts/{}/Calls/{sid}.json",
            fake.account_sid()
        )
    );
    assert_eq!(
        request.form,
        [("Status".to_owned(), "completed".to_owned())]
    );
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(request.auth_user.as_deref(), Some(fake.account_sid()));
    assert_eq!(fake.call(&sid).unwrap().status, "completed");
}

#[tokio::test]
async fn redirect_sends_the_twiml_to_the_live_call() {
    let fake = fake().await;
    let sid = fake.start_inbound_call(CALLER, OUR_NUMBER);
    let twiml =
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial>+14155550199</Dial></Response>"#;

    let call = client_for(&fake)
        .redirect_with_twiml(&sid, twiml)
        .await
        .unwrap();

    assert_eq!(call.status, CallStatus::InProgress);
    assert_eq!(fake.last_request().unwrap().param("Twiml"), Some(twiml));
    assert_eq!(fake.call(&sid).unwrap().twiml, [twiml]);
}

#[tokio::test]
async fn create_call_returns_the_new_sid_and_announces_the_call() {
    let fake = fake().await;
    let mut created = fake.take_created_calls().unwrap();

    let call = client_for(&fake)
        .create_call(&outbound_call())
        .await
        .unwrap();

    assert!(
        call.sid.starts_with("CA") && call.sid.len() == 34,
        "{}",
        call.sid
    );
    assert_eq!(call.status, CallStatus::Queued);
    assert_eq!((call.to.as_str(), call.from.as_str()), (CALLER, OUR_NUMBER));
    assert_eq!(call.direction, "outbound-api");

    let request = fake.last_request().unwrap();
    assert_eq!(
        request.path,
        format!("/2010-04-01/Accounts/{}/Calls.json", fake.account_sid())
    );
    assert_eq!(request.param("To"), Some(CALLER));
    assert_eq!(request.param("From"), Some(OUR_NUMBER));
    assert_eq!(
        request.param("Url"),
        Some("https://sb.example/twilio/voice")
    );
    assert_eq!(request.param("Method"), Some("POST"));
    assert_eq!(
        request.param("StatusCallback"),
        Some("https://sb.example/twilio/status")
    );
    assert_eq!(request.param("StatusCallbackMethod"), Some("POST"));
    assert_eq!(
        request.form_values("StatusCallbackEvent"),
        ["initiated", "ringing", "answered", "completed"]
    );
    assert_eq!(request.param("MachineDetection"), Some("Enable"));

    let announced = created.try_recv().expect("the created call is announced");
    assert_eq!(announced.sid, call.sid);
    assert_eq!(
        announced.url.as_deref(),
        Some("https://sb.example/twilio/voice")
    );
    assert!(
        announced
            .voice_webhook_params()
            .contains(&("CallSid".to_owned(), call.sid.clone()))
    );
}

#[tokio::test]
async fn create_call_without_machine_detection_leaves_the_field_out() {
    let fake = fake().await;
    let request = CreateCall {
        machine_detection: None,
        status_callback_events: Vec::new(),
        ..outbound_call()
    };

    client_for(&fake).create_call(&request).await.unwrap();

    let recorded = fake.last_request().unwrap();
    assert_eq!(recorded.param("MachineDetection"), None);
    assert!(recorded.form_values("StatusCallbackEvent").is_empty());
}

#[tokio::test]
async fn listing_numbers_follows_pagination_across_pages() {
    let phones: Vec<String> = (0..5).map(|i| format!("+1415555010{i}")).collect();
    let fake = fake_with(FakeTwilioOptions {
        numbers: phones.iter().map(SeedNumber::new).collect(),
        max_page_size: 2,
        ..FakeTwilioOptions::default()
    })
    .await;

    let numbers = client_for(&fake).list_incoming_numbers().await.unwrap();

    let listed: Vec<&str> = numbers.iter().map(|n| n.phone_number.as_str()).collect();
    assert_eq!(listed, phones);
    assert!(
        numbers
            .iter()
            .all(|n| n.sid.starts_with("PN") && n.sid.len() == 34)
    );
    assert_eq!(numbers[0].friendly_name, "(415) 555-0100");
    assert_eq!(numbers[0].voice_url, None);
    let pages: Vec<Option<String>> = fake
        .requests()
        .iter()
        .map(|r| r.param("Page").map(str::to_owned))
        .collect();
    assert_eq!(pages, [None, Some("1".into()), Some("2".into())]);
}

#[tokio::test]
async fn configuring_a_number_shows_in_later_lists() {
    let fake = fake().await;
    let client = client_for(&fake);
    let before = client.list_incoming_numbers().await.unwrap();
    assert_eq!(before[0].voice_url, None);

    let updated = client
        .configure_number(
            &before[0].sid,
            "https://sb.example/twilio/voice",
            "https://sb.example/twilio/status",
        )
        .await
        .unwrap();

    assert_eq!(
        updated.voice_url.as_deref(),
        Some("https://sb.example/twilio/voice")
    );
    let request = fake.last_request().unwrap();
    assert_eq!(
        request.path,
        format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers/{}.json",
            fake.account_sid(),
            before[0].sid
        )
    );
    assert_eq!(
        request.param("VoiceUrl"),
        Some("https://sb.example/twilio/voice")
    );
    assert_eq!(request.param("VoiceMethod"), Some("POST"));
    assert_eq!(
        request.param("StatusCallback"),
        Some("https://sb.example/twilio/status")
    );
    assert_eq!(request.param("StatusCallbackMethod"), Some("POST"));
    let after = client.list_incoming_numbers().await.unwrap();
    assert_eq!(
        after[0].voice_url.as_deref(),
        Some("https://sb.example/twilio/voice")
    );
    assert_eq!(after[0].friendly_name, "Front desk");
}

#[tokio::test]
async fn clearing_a_number_empties_its_voice_url_and_status_callback() {
    let fake = FakeTwilio::start(FakeTwilioOptions {
        numbers: vec![
            SeedNumber::new("+14155550100").with_voice_url("https://sb.example/twilio/voice"),
        ],
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap();
    let client = client_for(&fake);
    let sid = client.list_incoming_numbers().await.unwrap()[0].sid.clone();

    let cleared = client.clear_number(&sid).await.unwrap();

    assert_eq!(cleared.voice_url, None);
    let request = fake.last_request().unwrap();
    assert_eq!(request.param("VoiceUrl"), Some(""));
    assert_eq!(request.param("StatusCallback"), Some(""));
    let number = fake.number("+14155550100").unwrap();
    assert_eq!((number.voice_url, number.status_callback), (None, None));
    assert!(matches!(
        client
            .clear_number("PN00000000000000000000000000000099")
            .await,
        Err(TwilioRestError::NotFound { .. })
    ));
}

#[tokio::test]
async fn wrong_credentials_give_the_clear_auth_error() {
    let fake = fake().await;
    let config =
        TwilioRestConfig::new(fake.account_sid(), "not-the-token").with_api_base(fake.base_url());

    let error = TwilioRest::new(config)
        .unwrap()
        .list_incoming_numbers()
        .await
        .unwrap_err();

    assert!(
        matches!(error, TwilioRestError::Unauthorized { status: 401, .. }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    assert_eq!(error.api_error().and_then(|a| a.code), Some(20003));
    let message = error.to_string();
    assert!(
        message.starts_with("Twilio refused the account SID / auth token"),
        "{message}"
    );
    assert!(!message.contains("not-the-token"), "{message}");
}

#[tokio::test]
async fn unknown_call_is_not_found_and_counts_as_gone() {
    let fake = fake().await;

    let error = client_for(&fake)
        .hang_up("CA00000000000000000000000000000000")
        .await
        .unwrap_err();

    assert!(
        matches!(error, TwilioRestError::NotFound { .. }),
        "{error:?}"
    );
    assert!(error.is_call_gone());
    assert!(!error.is_retryable());
    assert_eq!(error.api_error().and_then(|a| a.code), Some(20404));
}

#[tokio::test]
async fn redirecting_an_ended_call_is_rejected_as_gone() {
    let fake = fake().await;
    let sid = fake.start_inbound_call(CALLER, OUR_NUMBER);
    fake.set_call_status(&sid, "completed");

    let error = client_for(&fake)
        .redirect_with_twiml(&sid, "<Response><Hangup/></Response>")
        .await
        .unwrap_err();

    assert!(
        matches!(error, TwilioRestError::Rejected { status: 400, .. }),
        "{error:?}"
    );
    assert!(error.is_call_gone());
    assert_eq!(
        error.api_error().and_then(|a| a.code),
        Some(CALL_NOT_IN_PROGRESS)
    );
}

#[tokio::test]
async fn service_unavailable_is_retryable_and_the_retry_succeeds() {
    let fake = fake().await;
    let client = client_for(&fake);
    fake.fail_next(1, 503);

    let error = client.list_incoming_numbers().await.unwrap_err();

    assert!(
        matches!(error, TwilioRestError::Unavailable { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert_eq!(client.list_incoming_numbers().await.unwrap().len(), 1);
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retryable() {
    let fake = fake().await;
    let client = client_for(&fake);
    fake.fail_next(1, 500);
    fake.fail_next(1, 429);

    let first = client.list_incoming_numbers().await.unwrap_err();
    let second = client.list_incoming_numbers().await.unwrap_err();

    assert!(matches!(
        first,
        TwilioRestError::Unavailable { status: 500, .. }
    ));
    assert!(matches!(second, TwilioRestError::RateLimited { .. }));
    assert!(first.is_retryable() && second.is_retryable());
}

#[tokio::test]
async fn invalid_numbers_are_rejected_with_the_number_masked_in_the_message() {
    let fake = fake().await;
    let request = CreateCall {
        to: "5551234567".into(),
        ..outbound_call()
    };

    let error = client_for(&fake).create_call(&request).await.unwrap_err();

    assert!(matches!(
        error,
        TwilioRestError::Rejected { status: 400, .. }
    ));
    assert_eq!(error.api_error().and_then(|a| a.code), Some(21211));
    let message = error.to_string();
    assert!(message.contains("***4567"), "{message}");
    assert!(!message.contains("5551234567"), "{message}");
}

#[tokio::test]
async fn a_silent_server_times_out_as_retryable() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let config = TwilioRestConfig::new(crate::fakes::twilio::FAKE_ACCOUNT_SID, "token")
        .with_api_base(format!("http://{addr}"))
        .with_timeout(Duration::from_millis(200));

    let error = TwilioRest::new(config)
        .unwrap()
        .hang_up("CA00000000000000000000000000000000")
        .await
        .unwrap_err();

    assert!(
        matches!(error, TwilioRestError::Timeout { after } if after == Duration::from_millis(200)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_network_error() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let config = TwilioRestConfig::new(crate::fakes::twilio::FAKE_ACCOUNT_SID, "token")
        .with_api_base(format!("http://{addr}"));

    let error = TwilioRest::new(config)
        .unwrap()
        .list_incoming_numbers()
        .await
        .unwrap_err();

    assert!(
        matches!(error, TwilioRestError::Network { .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(
        error.to_string().starts_with("could not reach Twilio"),
        "{error}"
    );
}

#[tokio::test]
async fn an_api_base_with_a_trailing_slash_still_reaches_the_api() {
    let fake = fake().await;
    let config = TwilioRestConfig::new(fake.account_sid(), fake.auth_token())
        .with_api_base(format!("{}/", fake.base_url()));

    let numbers = TwilioRest::new(config)
        .unwrap()
        .list_incoming_numbers()
        .await
        .unwrap();

    assert_eq!(numbers.len(), 1);
}

#[tokio::test]
async fn a_sid_cannot_escape_its_path_segment() {
    let fake = fake().await;

    let error = client_for(&fake)
        .hang_up("../IncomingPhoneNumbers")
        .await
        .unwrap_err();

    assert!(
        matches!(error, TwilioRestError::NotFound { .. }),
        "{error:?}"
    );
    let path = fake.last_request().unwrap().path;
    assert!(
        path.ends_with("/Calls/..%2FIncomingPhoneNumbers.json"),
        "{path}"
    );
}

#[test]
fn debug_of_the_config_and_client_hides_the_token() {
    let config = TwilioRestConfig::new("AC123", "super-secret-token");
    let printed = format!("{config:?}");
    assert!(!printed.contains("super-secret-token"), "{printed}");
    assert!(printed.contains("<redacted>"), "{printed}");
    let client = TwilioRest::new(config).unwrap();
    let printed = format!("{client:?}");
    assert!(!printed.contains("super-secret-token"), "{printed}");
}

#[test]
fn bad_configurations_are_refused_up_front() {
    let config = |base: &str| TwilioRestConfig::new("AC123", "token").with_api_base(base);
    assert!(matches!(
        TwilioRest::new(config("ftp://api.twilio.com")),
        Err(TwilioConfigError::InvalidApiBase { .. })
    ));
    assert!(matches!(
        TwilioRest::new(config("api.twilio.com")),
        Err(TwilioConfigError::InvalidApiBase { .. })
    ));
    assert!(matches!(
        TwilioRest::new(TwilioRestConfig::new("", "token")),
        Err(TwilioConfigError::MissingAccountSid)
    ));
    assert!(matches!(
        TwilioRest::new(TwilioRestConfig::new("AC123", "")),
        Err(TwilioConfigError::MissingAuthToken)
    ));
}

#[test]
fn next_page_uris_are_resolved_against_our_api_base_only() {
    let config =
        TwilioRestConfig::new("AC123", "token").with_api_base("https://edge.example/twilio/");
    let client = TwilioRest::new(config).unwrap();
    let next = "/2010-04-01/Accounts/AC123/IncomingPhoneNumbers.json?PageSize=2&Page=1";

    let relative = client.page_url(next).unwrap();
    let absolute = client
        .page_url(&format!("https://evil.example{next}"))
        .unwrap();

    let expected = format!("https://edge.example/twilio{next}");
    assert_eq!(relative.as_str(), expected);
    assert_eq!(absolute.as_str(), expected);
    assert!(client.page_url("IncomingPhoneNumbers.json").is_err());
}
