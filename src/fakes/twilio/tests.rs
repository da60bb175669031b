//! The fake's own wire behaviour, checked with a bare HTTP client (the `twilio_rest` tests cover
//! it through our client).

use serde_json::Value;

use super::*;

const OUR_NUMBER: &str = "+14155550100";

async fn fake() -> FakeTwilio {
    FakeTwilio::start(FakeTwilioOptions {
        numbers: vec![SeedNumber::new(OUR_NUMBER)],
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap()
}

fn url(fake: &FakeTwilio, rest: &str) -> String {
    format!(
        "{}/2010-04-01/Accounts/{}/{rest}",
        fake.base_url(),
        fake.account_sid()
    )
}

async fn post(
    fake: &FakeTwilio,
    rest: &str,
    form: &[(&str, &str)],
    password: &str,
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(url(fake, rest))
        .basic_auth(fake.account_sid(), Some(password))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[test]
fn the_default_account_sid_looks_like_a_real_one() {
    assert_eq!(FAKE_ACCOUNT_SID.len(), 34);
    assert!(FAKE_ACCOUNT_SID.starts_with("AC"));
    assert!(FAKE_ACCOUNT_SID[2..].bytes().all(|b| b.is_ascii_hexdigit()));
}

#[tokio::test]
async fn a_wrong_token_gets_twilios_401_body_and_challenge() {
    let fake = fake().await;

    let response = reqwest::Client::new()
        .get(url(&fake, "IncomingPhoneNumbers.json"))
        .basic_auth(fake.account_sid(), Some("wrong"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Basic realm=\"Twilio API\""
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], 20003);
    assert_eq!(body["message"], "Authenticate");
    assert_eq!(
        body["more_info"],
        "https://www.twilio.com/docs/errors/20003"
    );
    assert_eq!(body["status"], 401);
    assert_eq!(fake.last_request().unwrap().status, 401);
}

#[tokio::test]
async fn no_credentials_at_all_is_also_401() {
    let fake = fake().await;

    let response = reqwest::get(url(&fake, "IncomingPhoneNumbers.json"))
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(fake.last_request().unwrap().auth_user, None);
}

#[tokio::test]
async fn unknown_sids_get_twilios_404_body() {
    let fake = fake().await;

    let (status, body) = post(
        &fake,
        "Calls/CA00000000000000000000000000000000.json",
        &[("Status", "completed")],
        FAKE_AUTH_TOKEN,
    )
    .await;

    assert_eq!(status, 404);
    assert_eq!(body["code"], 20404);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/Calls/CA00000000000000000000000000000000.json was not found")
    );
}

#[tokio::test]
async fn created_calls_are_realistic_resources() {
    let fake = fake().await;

    let (status, body) = post(
        &fake,
        "Calls.json",
        &[
            ("To", "+14155551234"),
            ("From", OUR_NUMBER),
            ("Url", "https://sb.example/voice"),
        ],
        FAKE_AUTH_TOKEN,
    )
    .await;

    assert_eq!(status, 201);
    let sid = body["sid"].as_str().unwrap();
    assert!(sid.starts_with("CA") && sid.len() == 34, "{sid}");
    assert_eq!(body["status"], "queued");
    assert_eq!(body["direction"], "outbound-api");
    assert_eq!(body["to_formatted"], "(415) 555-1234");
    assert_eq!(body["account_sid"], FAKE_ACCOUNT_SID);
    assert_eq!(
        body["uri"],
        format!("/2010-04-01/Accounts/{FAKE_ACCOUNT_SID}/Calls/{sid}.json")
    );
    assert!(body["date_created"].as_str().unwrap().ends_with("+0000"));
    assert_eq!(fake.calls().len(), 1);
}

#[tokio::test]
async fn calls_from_a_number_outside_the_account_are_refused() {
    let fake = fake().await;

    let (status, body) = post(
        &fake,
        "Calls.json",
        &[
            ("To", "+14155551234"),
            ("From", "+14155559999"),
            ("Url", "https://sb.example/voice"),
        ],
        FAKE_AUTH_TOKEN,
    )
    .await;

    assert_eq!((status, body["code"].as_u64()), (400, Some(21210)));
    assert!(fake.calls().is_empty());
}

#[tokio::test]
async fn invalid_status_callback_events_are_refused() {
    let fake = fake().await;

    let (status, body) = post(
        &fake,
        "Calls.json",
        &[
            ("To", "+14155551234"),
            ("From", OUR_NUMBER),
            ("Url", "https://sb.example/voice"),
            ("StatusCallbackEvent", "answered"),
            ("StatusCallbackEvent", "in-progress"),
        ],
        FAKE_AUTH_TOKEN,
    )
    .await;

    assert_eq!((status, body["code"].as_u64()), (400, Some(21626)));
}

#[tokio::test]
async fn a_second_hang_up_is_refused_as_not_in_progress() {
    let fake = fake().await;
    let sid = fake.start_inbound_call("+14155551234", OUR_NUMBER);
    let path = format!("Calls/{sid}.json");

    let (first, _) = post(&fake, &path, &[("Status", "completed")], FAKE_AUTH_TOKEN).await;
    let (second, body) = post(&fake, &path, &[("Status", "completed")], FAKE_AUTH_TOKEN).await;

    assert_eq!(first, 200);
    assert_eq!((second, body["code"].as_u64()), (400, Some(21220)));
}

#[tokio::test]
async fn canceling_only_stops_calls_not_yet_answered() {
    let fake = fake().await;
    let live = fake.start_inbound_call("+14155551234", OUR_NUMBER);

    let (status, body) = post(
        &fake,
        &format!("Calls/{live}.json"),
        &[("Status", "canceled")],
        FAKE_AUTH_TOKEN,
    )
    .await;

    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("in-progress"))
    );
}

#[tokio::test]
async fn list_pages_carry_twilios_pagination_fields() {
    let fake = FakeTwilio::start(FakeTwilioOptions {
        numbers: (0..3)
            .map(|i| SeedNumber::new(format!("+1415555010{i}")))
            .collect(),
        max_page_size: 2,
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let get = |uri: String| {
        client
            .get(uri)
            .basic_auth(FAKE_ACCOUNT_SID, Some(FAKE_AUTH_TOKEN))
            .send()
    };

    let first: Value = get(url(&fake, "IncomingPhoneNumbers.json?PageSize=50"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let next = first["next_page_uri"].as_str().unwrap();
    let second: Value = get(format!("{}{next}", fake.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(first["page"], 0);
    assert_eq!(first["page_size"], 2);
    assert_eq!(first["incoming_phone_numbers"].as_array().unwrap().len(), 2);
    assert!(
        next.contains("Page=1") && next.contains("PageToken=PA"),
        "{next}"
    );
    assert_eq!(second["page"], 1);
    assert_eq!(
        second["incoming_phone_numbers"][0]["phone_number"],
        "+14155550102"
    );
    assert_eq!(second["next_page_uri"], Value::Null);
    assert!(
        second["previous_page_uri"]
            .as_str()
            .unwrap()
            .contains("Page=0")
    );
}

#[tokio::test]
async fn injected_failures_come_first_then_service_resumes() {
    let fake = fake().await;
    fake.fail_next(2, 503);
    let sid = fake.start_inbound_call("+14155551234", OUR_NUMBER);
    let path = format!("Calls/{sid}.json");

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post(&fake, &path, &[], "wrong").await.0);
    }

    assert_eq!(statuses, [503, 503, 401]);
}

#[tokio::test]
async fn the_server_stops_when_the_handle_drops() {
    let fake = fake().await;
    let base = fake.base_url();

    drop(fake);

    // Aborting is asynchronous: give the runtime a moment to drop the listener.
    let client = reqwest::Client::new();
    let mut refused = false;
    for _ in 0..100 {
        if client.get(&base).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "the fake still answers after being dropped");
}
