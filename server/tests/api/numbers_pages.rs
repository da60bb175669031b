//! The Numbers page's server functions over HTTP, against the Twilio REST fake: the account's
//! numbers are listed, assigning one points its `VoiceUrl` and `StatusCallback` at our webhooks,
//! unassigning clears them and releases it (or, if Twilio fails, keeps it and says so); missing or refused credentials get a clear message; a number another
//! organization holds is neither shown nor taken; a viewer is refused.

use app::dto::numbers::NumbersView;
use app::error::AppError;
use reqwest::StatusCode;
use switchboard::fakes::twilio::{FAKE_ACCOUNT_SID, FakeTwilio, FakeTwilioOptions, SeedNumber};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::settings_pages::{PASSWORD, join_as};

const MAIN: &str = "+14155550100";
const SALES: &str = "+14155550101";
const PUBLIC: &str = "https://voice.example.com";

async fn fake_twilio() -> FakeTwilio {
    FakeTwilio::start(FakeTwilioOptions {
        numbers: vec![
            SeedNumber::new(MAIN).named("Main line"),
            SeedNumber::new(SALES),
        ],
        ..FakeTwilioOptions::default()
    })
    .await
    .expect("start the Twilio fake")
}

async fn app_with_twilio(fake: &FakeTwilio, auth_token: &str) -> TestApp {
    spawn_app_with(&[
        ("TWILIO_ACCOUNT_SID", FAKE_ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", auth_token),
        ("TWILIO_API_BASE", &fake.base_url()),
        ("PUBLIC_BASE_URL", PUBLIC),
    ])
    .await
}

/// Signs up a new organization with one agent; returns the agent's id.
async fn org_with_agent(app: &TestApp, org: &str, email: &str) -> Uuid {
    let response = app.sign_up(org, email, PASSWORD).await;
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{response:?}"
    );
    let org_id: Uuid = sqlx::query_scalar("select org_id from users where email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    switchboard::store::agents::insert_agent(&app.pool, org_id, "Front desk")
        .await
        .unwrap()
}

async fn numbers(app: &TestApp) -> NumbersView {
    let response = app.call("numbers/list", &[]).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).expect("NumbersView")
}

fn sid_of<'a>(view: &'a NumbersView, e164: &str) -> &'a str {
    &view
        .numbers
        .iter()
        .find(|n| n.e164 == e164)
        .unwrap_or_else(|| panic!("{e164} listed in {view:?}"))
        .twilio_sid
}

/// POSTs the fake received to one number's resource.
fn updates_of(fake: &FakeTwilio, sid: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path
                    .ends_with(&format!("/IncomingPhoneNumbers/{sid}.json"))
        })
        .count()
}

#[tokio::test]
async fn assigning_a_number_points_it_at_our_webhooks_and_unassigning_releases_it() {
    let fake = fake_twilio().await;
    let app = app_with_twilio(&fake, fake.auth_token()).await;
    let agent = org_with_agent(&app, "Acme", "olga@example.com").await;

    let listed = numbers(&app).await;
    assert_eq!(listed.twilio_problem, None);
    assert_eq!(
        listed
            .numbers
            .iter()
            .map(|n| n.e164.as_str())
            .collect::<Vec<_>>(),
        [MAIN, SALES]
    );
    assert_eq!(listed.numbers[0].friendly_name, "Main line");
    assert_eq!(
        listed.voice_url.as_deref(),
        Some("https://voice.example.com/twilio/voice")
    );
    assert!(listed.can_write);
    let sid = sid_of(&listed, MAIN).to_owned();

    let response = app
        .call(
            "numbers/assign",
            &[("number_sid", &sid), ("agent_id", &agent.to_string())],
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);

    let update = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST")
        .expect("Twilio was told");
    assert!(
        update
            .path
            .ends_with(&format!("/IncomingPhoneNumbers/{sid}.json")),
        "{update:?}"
    );
    assert_eq!(
        update.param("VoiceUrl"),
        Some("https://voice.example.com/twilio/voice")
    );
    assert_eq!(
        update.param("StatusCallback"),
        Some("https://voice.example.com/twilio/status")
    );
    let number = fake.number(MAIN).unwrap();
    assert_eq!(
        number.voice_url.as_deref(),
        Some("https://voice.example.com/twilio/voice")
    );
    assert_eq!(number.voice_method, "POST");

    let answering = switchboard::store::agents::find_by_called_number(&app.pool, MAIN)
        .await
        .unwrap()
        .expect("calls to the number reach the agent");
    assert_eq!(answering.agent_id, agent);
    let listed = numbers(&app).await;
    let main = &listed.numbers[0];
    assert_eq!(main.agent_name.as_deref(), Some("Front desk"));
    assert_eq!(
        main.voice_url.as_deref(),
        Some("https://voice.example.com/twilio/voice")
    );

    let number_id = main.number_id.clone().expect("held");

    // Twilio failing: the number stays assigned and the page says why, so it can be retried.
    fake.fail_next(1, 503);
    let error = app
        .call("numbers/unassign", &[("number_id", &number_id)])
        .await
        .app_error();
    assert!(
        matches!(&error, AppError::Invalid(m) if m.contains("still assigned")),
        "{error:?}"
    );
    assert!(
        switchboard::store::agents::find_by_called_number(&app.pool, MAIN)
            .await
            .unwrap()
            .is_some(),
        "still answered"
    );
    assert!(fake.number(MAIN).unwrap().voice_url.is_some());

    let response = app
        .call("numbers/unassign", &[("number_id", &number_id)])
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let cleared = fake
        .requests()
        .into_iter()
        .rfind(|r| r.method == "POST")
        .expect("Twilio was told");
    assert!(
        cleared
            .path
            .ends_with(&format!("/IncomingPhoneNumbers/{sid}.json"))
    );
    assert_eq!(
        (cleared.param("VoiceUrl"), cleared.param("StatusCallback")),
        (Some(""), Some(""))
    );
    let number = fake.number(MAIN).unwrap();
    assert_eq!(
        number.voice_url, None,
        "Twilio no longer sends its calls here"
    );
    assert_eq!(number.status_callback, None);
    assert!(
        switchboard::store::agents::find_by_called_number(&app.pool, MAIN)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(numbers(&app).await.numbers[0].agent_name, None);
}

#[tokio::test]
async fn without_twilio_credentials_the_page_says_what_to_set_instead_of_failing() {
    let app = spawn_app().await;
    let agent = org_with_agent(&app, "Acme", "olga@example.com").await;

    let listed = numbers(&app).await;
    let problem = listed.twilio_problem.expect("a message");
    assert!(
        problem.contains("TWILIO_ACCOUNT_SID") && problem.contains("TWILIO_AUTH_TOKEN"),
        "{problem}"
    );
    assert!(listed.numbers.is_empty());

    let error = app
        .call(
            "numbers/assign",
            &[("number_sid", "PN0"), ("agent_id", &agent.to_string())],
        )
        .await
        .app_error();
    assert!(
        matches!(&error, AppError::Invalid(m) if m.contains("Twilio is not configured")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_refused_auth_token_is_reported_as_such() {
    let fake = fake_twilio().await;
    let app = app_with_twilio(&fake, "not-the-token").await;
    let agent = org_with_agent(&app, "Acme", "olga@example.com").await;

    let listed = numbers(&app).await;
    let problem = listed.twilio_problem.expect("a message");
    assert!(
        problem.contains("refused") && problem.contains("TWILIO_AUTH_TOKEN"),
        "{problem}"
    );
    assert!(fake.requests().iter().all(|r| r.status == 401));

    let error = app
        .call(
            "numbers/assign",
            &[("number_sid", "PN0"), ("agent_id", &agent.to_string())],
        )
        .await
        .app_error();
    assert!(
        matches!(&error, AppError::Invalid(m) if m.contains("refused")),
        "{error:?}"
    );
    let held: i64 = sqlx::query_scalar("select count(*) from phone_numbers")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held, 0);
}

#[tokio::test]
async fn a_second_organization_neither_sees_nor_takes_the_first_ones_number() {
    let fake = fake_twilio().await;
    let app = app_with_twilio(&fake, fake.auth_token()).await;
    let acme_agent = org_with_agent(&app, "Acme", "olga@example.com").await;
    let listed = numbers(&app).await;
    let main_sid = sid_of(&listed, MAIN).to_owned();
    app.call(
        "numbers/assign",
        &[
            ("number_sid", &main_sid),
            ("agent_id", &acme_agent.to_string()),
        ],
    )
    .await;
    let acme_number = numbers(&app).await.numbers[0]
        .number_id
        .clone()
        .expect("held");
    app.log_out().await;

    let other_agent = org_with_agent(&app, "Other", "bo@example.com").await;
    let theirs = numbers(&app).await;
    assert_eq!(
        theirs
            .numbers
            .iter()
            .map(|n| n.e164.as_str())
            .collect::<Vec<_>>(),
        [SALES],
        "Acme's number is not shown"
    );

    let error = app
        .call(
            "numbers/assign",
            &[
                ("number_sid", &main_sid),
                ("agent_id", &other_agent.to_string()),
            ],
        )
        .await
        .app_error();
    assert_eq!(
        error,
        AppError::Invalid("This number is already in use by another organization.".into())
    );
    assert_eq!(updates_of(&fake, &main_sid), 1, "Twilio was not re-pointed");
    let foreign_agent = app
        .call(
            "numbers/assign",
            &[
                ("number_sid", sid_of(&theirs, SALES)),
                ("agent_id", &acme_agent.to_string()),
            ],
        )
        .await
        .app_error();
    assert!(
        foreign_agent.for_field("agent_id").is_some(),
        "{foreign_agent:?}"
    );
    let release = app
        .call("numbers/unassign", &[("number_id", &acme_number)])
        .await
        .app_error();
    assert_eq!(release, AppError::NotFound);
    let owner: Uuid = sqlx::query_scalar("select agent_id from phone_numbers where e164 = $1")
        .bind(MAIN)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(owner, acme_agent);
}

#[tokio::test]
async fn a_viewer_sees_the_numbers_but_cannot_assign_or_unassign() {
    let fake = fake_twilio().await;
    let app = app_with_twilio(&fake, fake.auth_token()).await;
    let agent = org_with_agent(&app, "Acme", "olga@example.com").await;
    let listed = numbers(&app).await;
    let main_sid = sid_of(&listed, MAIN).to_owned();
    app.call(
        "numbers/assign",
        &[("number_sid", &main_sid), ("agent_id", &agent.to_string())],
    )
    .await;
    let number_id = numbers(&app).await.numbers[0]
        .number_id
        .clone()
        .expect("held");
    join_as(&app, "vic@example.com", "viewer").await;

    let seen = numbers(&app).await;
    assert!(!seen.can_write);
    assert_eq!(seen.numbers.len(), 2);
    let sales_sid = sid_of(&seen, SALES).to_owned();
    let assign = app
        .call(
            "numbers/assign",
            &[("number_sid", &sales_sid), ("agent_id", &agent.to_string())],
        )
        .await
        .app_error();
    assert_eq!(assign, AppError::Forbidden);
    let unassign = app
        .call("numbers/unassign", &[("number_id", &number_id)])
        .await
        .app_error();
    assert_eq!(unassign, AppError::Forbidden);
    assert_eq!(updates_of(&fake, &sales_sid), 0);
    let held: i64 = sqlx::query_scalar("select count(*) from phone_numbers")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(held, 1);
}
