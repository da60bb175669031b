//! The Calls pages' server functions over HTTP: the filtered, paged list, one call in detail,
//! tenant isolation, and placing an outbound call from the dashboard (against the Twilio fake).

use app::dto::calls::{CallDetailView, CallPageView, TranscriptEntry};
use app::error::AppError;
use reqwest::StatusCode;
use sqlx::PgPool;
use switchboard::fakes::twilio::{FakeTwilio, FakeTwilioOptions, SeedNumber};
use switchboard::store::agents::{insert_agent, insert_phone_number};
use switchboard::store::{tools, transcripts};
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

/// Signs up `email` as the owner of a new organization `org`; returns the organization's id.
async fn owner(app: &TestApp, org: &str, email: &str) -> Uuid {
    let signed_up = app.sign_up(org, email, PASSWORD).await;
    assert!(signed_up.status.is_success(), "{}", signed_up.body);
    sqlx::query_scalar("select org_id from users where email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

struct Seed<'a> {
    agent: Option<Uuid>,
    direction: &'a str,
    status: &'a str,
    /// RFC 3339.
    started_at: &'a str,
}

/// A call of `org` as `seed` says, with a 42 s duration and a cost.
async fn seed_call(pool: &PgPool, org: Uuid, seed: Seed<'_>) -> Uuid {
    sqlx::query_scalar(
        "insert into calls (org_id, agent_id, call_sid, direction, status, from_number, to_number, \
                            started_at, duration_secs, cost_usd) \
         values ($1, $2, 'CA' || replace(gen_random_uuid()::text, '-', ''), $3, $4, \
                 '+14155550100', '+14155550199', $5::timestamptz, 42, 0.0123) returning id",
    )
    .bind(org)
    .bind(seed.agent)
    .bind(seed.direction)
    .bind(seed.status)
    .bind(seed.started_at)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// The `calls/list` server function with `filters` as the URL would carry them.
async fn list(app: &TestApp, filters: &[(&str, &str)]) -> CallPageView {
    let keys: Vec<String> = filters.iter().map(|(k, _)| format!("query[{k}]")).collect();
    let form: Vec<(&str, &str)> = keys
        .iter()
        .zip(filters)
        .map(|(k, (_, v))| (k.as_str(), *v))
        .collect();
    let response = app.call("calls/list", &form).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).expect("CallPageView")
}

/// The query parameter `key` of a page link.
#[track_caller]
fn param(href: &str, key: &str) -> String {
    let (_, query) = href.split_once('?').expect("a query");
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {href}"))
}

fn ids(page: &CallPageView) -> Vec<String> {
    page.calls.iter().map(|c| c.id.clone()).collect()
}

#[tokio::test]
async fn each_filter_narrows_the_list_and_pages_round_trip() {
    let app = spawn_app().await;
    let org = owner(&app, "Filters Co", "owner@filters.example").await;
    let desk = insert_agent(&app.pool, org, "Front desk").await.unwrap();
    let sales = insert_agent(&app.pool, org, "Sales").await.unwrap();
    // 30 inbound completed calls of the front desk, one a minute on Nov 10 from 12:00 UTC …
    let mut desk_calls = Vec::new();
    for minute in 0..30 {
        let at = format!("2026-11-10T12:{minute:02}:00Z");
        let seed = Seed {
            agent: Some(desk),
            direction: "inbound",
            status: "completed",
            started_at: &at,
        };
        desk_calls.push(seed_call(&app.pool, org, seed).await);
    }
    // … and three of sales on other days, outbound, in other states.
    let busy = Seed {
        agent: Some(sales),
        direction: "outbound",
        status: "busy",
        started_at: "2026-11-12T09:00:00Z",
    };
    let busy = seed_call(&app.pool, org, busy).await;
    let no_answer = Seed {
        agent: Some(sales),
        direction: "outbound",
        status: "no-answer",
        started_at: "2026-11-08T23:30:00Z",
    };
    let no_answer = seed_call(&app.pool, org, no_answer).await;
    let refund = Seed {
        agent: Some(sales),
        direction: "inbound",
        status: "completed",
        started_at: "2026-11-09T08:00:00Z",
    };
    let refund = seed_call(&app.pool, org, refund).await;
    transcripts::insert_line(
        &app.pool,
        org,
        refund,
        0,
        "agent",
        "Hello, how can I help?",
        0,
        900,
        false,
    )
    .await
    .unwrap();
    transcripts::insert_line(
        &app.pool,
        org,
        refund,
        1,
        "caller",
        "I would like a refund for my order",
        1000,
        2500,
        false,
    )
    .await
    .unwrap();

    let all = list(&app, &[]).await;
    assert_eq!(all.total, 33);
    assert_eq!(all.total_label(), "33 calls");
    assert_eq!(all.calls.len(), 25);
    assert_eq!(all.calls[0].id, busy.to_string(), "newest first");
    assert!(all.newer_href.is_none());
    assert_eq!(
        all.agents
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["Front desk", "Sales"]
    );
    assert!(all.can_place_calls);

    // Pagination: older, then newer again, is the first page.
    let older_href = all.older_href.clone().expect("an older page");
    let older = list(&app, &[("before", &param(&older_href, "before"))]).await;
    assert_eq!(older.calls.len(), 8);
    assert!(older.older_href.is_none());
    let mut seen = ids(&all);
    seen.extend(ids(&older));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 33, "no call skipped or repeated across pages");
    let newer_href = older.newer_href.clone().expect("a newer page");
    let back = list(&app, &[("after", &param(&newer_href, "after"))]).await;
    assert_eq!(ids(&back), ids(&all));
    assert!(back.newer_href.is_none() && back.older_href.is_some());

    // Each filter narrows.
    let by_agent = list(&app, &[("agent", &sales.to_string())]).await;
    let mut sales_ids = ids(&by_agent);
    sales_ids.sort();
    let mut expected = vec![busy.to_string(), no_answer.to_string(), refund.to_string()];
    expected.sort();
    assert_eq!(sales_ids, expected);
    let outbound = list(&app, &[("direction", "outbound")]).await;
    assert_eq!(ids(&outbound), [busy.to_string(), no_answer.to_string()]);
    assert!(
        outbound
            .calls
            .iter()
            .all(|c| c.counterpart == "+14155550199"),
        "the callee of an outbound call"
    );
    let busy_only = list(&app, &[("status", "busy")]).await;
    assert_eq!(ids(&busy_only), [busy.to_string()]);
    let days = list(&app, &[("from", "2026-11-09"), ("to", "2026-11-10")]).await;
    assert_eq!(days.total, 31, "the 30 desk calls and the refund call");
    // Nov 8 23:30 UTC is Nov 9 00:30 in UTC+1: the viewer's zone moves it into the range.
    let local_days = list(
        &app,
        &[("from", "2026-11-09"), ("to", "2026-11-09"), ("tz", "-60")],
    )
    .await;
    let mut local_ids = ids(&local_days);
    local_ids.sort();
    let mut expected = vec![no_answer.to_string(), refund.to_string()];
    expected.sort();
    assert_eq!(local_ids, expected);
    let combined = list(&app, &[("agent", &desk.to_string()), ("status", "busy")]).await;
    assert!(combined.calls.is_empty() && combined.total == 0);

    // Text search finds the call by a word its caller said.
    let found = list(&app, &[("q", "refund")]).await;
    assert_eq!(ids(&found), [refund.to_string()]);
    let missing = list(&app, &[("q", "pizza")]).await;
    assert!(missing.calls.is_empty());

    // A filtered page's links keep the filter.
    let filtered = list(&app, &[("agent", &desk.to_string())]).await;
    assert_eq!(filtered.total, 30);
    let next = filtered.older_href.expect("an older page");
    assert_eq!(param(&next, "agent"), desk.to_string());
    let rest = list(
        &app,
        &[
            ("agent", &desk.to_string()),
            ("before", &param(&next, "before")),
        ],
    )
    .await;
    assert_eq!(
        ids(&rest),
        desk_calls[..5]
            .iter()
            .rev()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
    );

    // A malformed filter is a field error, not a silent "everything".
    let bad = app
        .call("calls/list", &[("query[status]", "finished")])
        .await;
    assert!(
        bad.app_error().for_field("status").is_some(),
        "{}",
        bad.body
    );
    let bad = app
        .call("calls/list", &[("query[from]", "10/11/2026")])
        .await;
    assert!(bad.app_error().for_field("from").is_some(), "{}", bad.body);
    app.stop().await;
}

#[tokio::test]
async fn a_call_shows_its_transcript_with_tools_inline_summary_and_outcome() {
    let app = spawn_app().await;
    let org = owner(&app, "Detail Co", "owner@detail.example").await;
    let agent = insert_agent(&app.pool, org, "Pizza line").await.unwrap();
    let call = Seed {
        agent: Some(agent),
        direction: "inbound",
        status: "completed",
        started_at: "2026-11-10T12:00:00Z",
    };
    let call = seed_call(&app.pool, org, call).await;
    sqlx::query(
        "update calls set answered_at = started_at, summary = 'Ann ordered a large margherita.', \
                outcome = '{\"pizza\": \"margherita\", \"size\": \"large\", \"paid\": false}', \
                recording_url = 'https://api.twilio.com/rec/RE1', ended_reason = 'caller_hang_up' \
          where id = $1",
    )
    .bind(call)
    .execute(&app.pool)
    .await
    .unwrap();
    transcripts::insert_line(
        &app.pool,
        org,
        call,
        0,
        "agent",
        "Tony's Pizza, what can I get you?",
        0,
        1800,
        true,
    )
    .await
    .unwrap();
    transcripts::insert_line(
        &app.pool,
        org,
        call,
        1,
        "caller",
        "A large margherita please",
        1500,
        3000,
        false,
    )
    .await
    .unwrap();
    let invocation = tools::start_invocation(
        &app.pool,
        org,
        call,
        "call_1",
        "check_menu",
        r#"{"item":"margherita"}"#,
    )
    .await
    .unwrap();
    tools::finish_invocation(
        &app.pool,
        org,
        invocation,
        tools::InvocationStatus::Ok,
        "in stock, 14.50",
        &[],
    )
    .await
    .unwrap();
    // The tool ran 2.0 s into the call, between the caller's line and the agent's answer.
    sqlx::query(
        "update call_tool_invocations set started_at = timestamptz '2026-11-10T12:00:02Z', \
                finished_at = timestamptz '2026-11-10T12:00:02.250Z' where id = $1",
    )
    .bind(invocation)
    .execute(&app.pool)
    .await
    .unwrap();
    transcripts::insert_line(
        &app.pool,
        org,
        call,
        2,
        "agent",
        "That's 14.50, ready in twenty minutes.",
        3200,
        5000,
        false,
    )
    .await
    .unwrap();

    let response = app.call("calls/detail", &[("id", &call.to_string())]).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let detail: CallDetailView = serde_json::from_str(&response.body).unwrap();
    assert_eq!(
        detail.summary.as_deref(),
        Some("Ann ordered a large margherita.")
    );
    assert!(
        detail
            .outcome
            .contains(&("pizza".to_owned(), "margherita".to_owned()))
    );
    assert!(
        detail
            .outcome
            .contains(&("paid".to_owned(), "false".to_owned()))
    );
    assert_eq!(
        detail.recording_url.as_deref(),
        Some("https://api.twilio.com/rec/RE1")
    );
    assert_eq!(
        (detail.duration_secs, detail.cost_usd),
        (Some(42), Some(0.0123))
    );
    assert_eq!(detail.agent_name.as_deref(), Some("Pizza line"));
    let order: Vec<String> = detail
        .transcript
        .iter()
        .map(|entry| match entry {
            TranscriptEntry::Line(line) => {
                format!("{}:{}:{}", line.role, line.start_ms, line.interrupted)
            }
            TranscriptEntry::Tool(tool) => format!("tool:{}:{}", tool.name, tool.at_ms),
        })
        .collect();
    assert_eq!(
        order,
        [
            "agent:0:true",
            "caller:1500:false",
            "tool:check_menu:2000",
            "agent:3200:false"
        ]
    );
    let TranscriptEntry::Tool(tool) = &detail.transcript[2] else {
        unreachable!("checked above")
    };
    assert!(
        tool.arguments.contains("\"item\": \"margherita\""),
        "{}",
        tool.arguments
    );
    assert!(tool.result.as_deref().unwrap().contains("in stock, 14.50"));
    assert_eq!((tool.status.as_str(), tool.duration_ms), ("ok", Some(250)));

    // The server-rendered page carries it all, and the list page links to it.
    let page = app.get(&format!("/calls/{call}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    for expected in [
        "A large margherita please",
        "Interrupted",
        "check_menu",
        "Ann ordered a large margherita.",
        "margherita",
        "Listen",
        "42s",
        "$0.0123",
        "2026-11-10 12:00 UTC",
    ] {
        assert!(html.contains(expected), "{expected} missing from the page");
    }
    let list = app.get("/calls").await.text().await.unwrap();
    assert!(list.contains(&format!("/calls/{call}")));

    let missing = app
        .call("calls/detail", &[("id", &Uuid::new_v4().to_string())])
        .await;
    assert_eq!(missing.app_error(), AppError::NotFound);
    let page = app.get(&format!("/calls/{}", Uuid::new_v4())).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn another_organization_sees_none_of_the_calls() {
    let app = spawn_app().await;
    let org_a = owner(&app, "Alpha", "owner@alpha.example").await;
    let agent = insert_agent(&app.pool, org_a, "Alpha desk").await.unwrap();
    let call = Seed {
        agent: Some(agent),
        direction: "inbound",
        status: "completed",
        started_at: "2026-11-10T12:00:00Z",
    };
    let call = seed_call(&app.pool, org_a, call).await;
    transcripts::insert_line(
        &app.pool,
        org_a,
        call,
        0,
        "caller",
        "secret alpha words",
        0,
        500,
        false,
    )
    .await
    .unwrap();
    assert_eq!(list(&app, &[]).await.total, 1);

    app.log_out().await;
    let anonymous = app.call("calls/list", &[]).await;
    assert_eq!(anonymous.app_error(), AppError::Unauthorized);
    let anonymous = app.call("calls/detail", &[("id", &call.to_string())]).await;
    assert_eq!(anonymous.app_error(), AppError::Unauthorized);

    owner(&app, "Bravo", "owner@bravo.example").await;
    let seen = list(&app, &[]).await;
    assert!(seen.calls.is_empty() && seen.total == 0 && seen.agents.is_empty());
    assert!(list(&app, &[("q", "alpha")]).await.calls.is_empty());
    assert!(
        list(&app, &[("agent", &agent.to_string())])
            .await
            .calls
            .is_empty()
    );
    let detail = app.call("calls/detail", &[("id", &call.to_string())]).await;
    assert_eq!(detail.app_error(), AppError::NotFound);
    let html = app
        .get(&format!("/calls/{call}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("secret alpha words"));
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_places_a_call_through_twilio_and_refuses_bad_numbers_and_viewers() {
    const OUR_NUMBER: &str = "+14155550199";
    let twilio = FakeTwilio::start(FakeTwilioOptions {
        numbers: vec![SeedNumber::new(OUR_NUMBER)],
        ..FakeTwilioOptions::default()
    })
    .await
    .unwrap();
    let app = spawn_app_with(&[
        ("PUBLIC_BASE_URL", "https://voice.example.com"),
        ("TWILIO_ACCOUNT_SID", twilio.account_sid()),
        ("TWILIO_AUTH_TOKEN", twilio.auth_token()),
        ("TWILIO_API_BASE", &twilio.base_url()),
    ])
    .await;
    let org = owner(&app, "Caller Co", "owner@caller.example").await;
    let agent = insert_agent(&app.pool, org, "Reminders").await.unwrap();
    let agent_id = agent.to_string();

    let refused = app
        .call(
            "calls/place",
            &[("agent_id", &agent_id), ("to", "555-0123")],
        )
        .await;
    let message = refused
        .app_error()
        .for_field("to")
        .expect("an error on the number");
    assert!(message.contains("+14155550123"), "{message}");
    let refused = app
        .call(
            "calls/place",
            &[("agent_id", &agent_id), ("to", "+14155550123")],
        )
        .await;
    assert!(
        refused
            .app_error()
            .for_field("agent_id")
            .unwrap()
            .contains("Assign a phone number"),
        "{}",
        refused.body
    );
    let refused = app
        .call("calls/place", &[("agent_id", ""), ("to", "+14155550123")])
        .await;
    assert!(refused.app_error().for_field("agent_id").is_some());
    assert!(twilio.requests().is_empty(), "nothing reached Twilio");

    insert_phone_number(&app.pool, org, OUR_NUMBER, Some(agent))
        .await
        .unwrap();
    let placed = app
        .call(
            "calls/place",
            &[("agent_id", &agent_id), ("to", " +14155550123 ")],
        )
        .await;
    assert_eq!(placed.status, StatusCode::OK, "{}", placed.body);
    let call_id: String = serde_json::from_str(&placed.body).unwrap();
    let created = twilio.last_request().expect("Twilio was asked");
    assert_eq!(created.param("To"), Some("+14155550123"));
    assert_eq!(created.param("From"), Some(OUR_NUMBER));
    let voice_url = format!("https://voice.example.com/twilio/voice?call_id={call_id}");
    assert_eq!(created.param("Url"), Some(voice_url.as_str()));
    let listed = list(&app, &[("direction", "outbound")]).await;
    assert_eq!(ids(&listed), [call_id.as_str()]);
    assert_eq!(listed.calls[0].status, "queued");

    // Without JavaScript the form post lands on the new call's page.
    let posted = app
        .post_form(
            "calls/place",
            "/calls",
            &[("agent_id", &agent_id), ("to", "+14155550124")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FOUND, "{}", posted.body);
    assert!(posted.location.unwrap().starts_with("/calls/"));

    sqlx::query("update users set role = 'viewer' where email = 'owner@caller.example'")
        .execute(&app.pool)
        .await
        .unwrap();
    let before = twilio.requests().len();
    let refused = app
        .call(
            "calls/place",
            &[("agent_id", &agent_id), ("to", "+14155550123")],
        )
        .await;
    assert_eq!(refused.app_error(), AppError::Forbidden);
    assert_eq!(twilio.requests().len(), before);
    let viewer = list(&app, &[]).await;
    assert_eq!(viewer.total, 2, "a viewer still reads the history");
    assert!(!viewer.can_place_calls);
    app.stop().await;
}
