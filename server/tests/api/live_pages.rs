//! The overview's figures, the live page's snapshot of calls in progress, and the call events
//! the live page follows over `GET /events/calls` — each scoped to the signed-in organization.

use std::time::{Duration, Instant};

use app::dto::live::{CallEvent, LiveCallView};
use app::dto::overview::OverviewStats;
use app::error::AppError;
use futures::StreamExt;
use reqwest::StatusCode;
use sqlx::PgPool;
use switchboard::live::{LiveBus, LiveEvent, LiveMessage};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

/// Signs up `email` as the owner of a new organization; returns its id.
async fn owner_of(app: &TestApp, org: &str, email: &str) -> Uuid {
    let response = app.sign_up(org, email, PASSWORD).await;
    assert!(response.status.is_success(), "{response:?}");
    sqlx::query_scalar("select org_id from users where email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// A call of `org` started `days_ago` days before now (0: now), in `status`.
struct SeedCall {
    days_ago: i32,
    status: &'static str,
    duration_secs: Option<i32>,
    reason: Option<&'static str>,
    cost_usd: Option<f64>,
}

impl SeedCall {
    fn completed(days_ago: i32, secs: i32, reason: &'static str, cost: Option<f64>) -> Self {
        Self {
            days_ago,
            status: "completed",
            duration_secs: Some(secs),
            reason: Some(reason),
            cost_usd: cost,
        }
    }

    fn in_progress() -> Self {
        Self {
            days_ago: 0,
            status: "in-progress",
            duration_secs: None,
            reason: None,
            cost_usd: None,
        }
    }

    async fn insert(&self, pool: &PgPool, org: Uuid, agent: Option<Uuid>) -> Uuid {
        sqlx::query_scalar(
            "insert into calls (org_id, agent_id, call_sid, direction, status, from_number, \
                                to_number, started_at, answered_at, ended_at, duration_secs, \
                                ended_reason, cost_usd) \
             values ($1, $2, 'CA' || replace(gen_random_uuid()::text, '-', ''), 'inbound', $3, \
                     '+14155550100', '+14155550199', \
                     now() - make_interval(days => $4), now() - make_interval(days => $4), \
                     case when $3 = 'completed' then now() - make_interval(days => $4) end, \
                     $5, $6, $7::numeric) \
             returning id",
        )
        .bind(org)
        .bind(agent)
        .bind(self.status)
        .bind(self.days_ago)
        .bind(self.duration_secs)
        .bind(self.reason)
        .bind(self.cost_usd)
        .fetch_one(pool)
        .await
        .unwrap()
    }
}

async fn stats(app: &TestApp, time_zone: &str) -> OverviewStats {
    let response = app
        .call("overview/stats", &[("time_zone", time_zone)])
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).expect("OverviewStats JSON")
}

async fn active(app: &TestApp) -> Vec<LiveCallView> {
    let response = app.call("live/calls", &[]).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body).expect("LiveCallView JSON")
}

#[tokio::test]
async fn the_overview_counts_the_organizations_calls_by_day_outcome_duration_and_cost() {
    // Arrange
    let app = spawn_app().await;
    let org = owner_of(&app, "Stats Co", "stats@example.com").await;
    let seeds = [
        SeedCall::completed(0, 30, "agent_hang_up", Some(0.10)),
        SeedCall::completed(0, 90, "transferred", Some(0.25)),
        SeedCall::in_progress(),
        SeedCall::completed(2, 10, "caller_hang_up", Some(0.05)),
        SeedCall::completed(2, 400, "silence", None),
        SeedCall::completed(5, 700, "agent_hang_up", Some(1.00)),
        // Outside the 14-day window.
        SeedCall::completed(20, 50, "agent_hang_up", Some(9.00)),
    ];
    for seed in &seeds {
        seed.insert(&app.pool, org, None).await;
    }
    let stranger = switchboard::testing::seed_org(&app.pool, "Stranger").await;
    SeedCall::completed(0, 300, "agent_hang_up", Some(5.0))
        .insert(&app.pool, stranger, None)
        .await;
    let today = OffsetDateTime::now_utc().date();
    let monday = today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));

    // Act
    let stats = stats(&app, "UTC").await;

    // Assert
    assert_eq!(stats.time_zone, "UTC");
    assert!(stats.has_calls);
    assert_eq!(stats.window_days, 14);
    assert_eq!(stats.calls_today, 3);
    let this_week = [0, 0, 0, 2, 2, 5]
        .iter()
        .filter(|&&d| today - time::Duration::days(d) >= monday)
        .count();
    assert_eq!(stats.calls_this_week, this_week as i64);
    assert_eq!(stats.calls_in_window, 6);
    assert_eq!(stats.ended, 5);
    assert_eq!(
        (
            stats.ended_by_agent,
            stats.transferred,
            stats.abandoned,
            stats.other_endings()
        ),
        (2, 1, 1, 1)
    );
    let avg = stats.avg_duration_secs.expect("an average");
    assert!((avg - 246.0).abs() < 1e-9, "{avg}");
    assert!((stats.cost_usd - 1.40).abs() < 1e-9, "{}", stats.cost_usd);

    assert_eq!(stats.per_day.len(), 14);
    let per_day: Vec<i64> = stats.per_day.iter().map(|d| d.calls).collect();
    assert_eq!(per_day, [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 3]);
    assert_eq!(stats.per_day[13].date, today.to_string());
    assert_eq!(stats.per_day[13].short, today.day().to_string());
    let durations: Vec<i64> = stats.durations.iter().map(|b| b.calls).collect();
    assert_eq!(durations, [1, 1, 1, 0, 1, 1]);
    let labels: Vec<&str> = stats.durations.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "0 s – 30 s",
            "30 s – 1 min",
            "1 min – 2 min",
            "2 min – 5 min",
            "5 min – 10 min",
            "10 min or more"
        ]
    );
}

#[tokio::test]
async fn the_overview_uses_a_known_time_zone_and_falls_back_to_utc() {
    let app = spawn_app().await;
    owner_of(&app, "Zones", "zones@example.com").await;

    assert_eq!(
        stats(&app, "America/New_York").await.time_zone,
        "America/New_York"
    );
    assert_eq!(stats(&app, "Mars/Olympus_Mons").await.time_zone, "UTC");
    assert_eq!(stats(&app, "UTC'; select 1 --").await.time_zone, "UTC");
}

#[tokio::test]
async fn another_organization_sees_zeros_and_anonymous_visitors_see_nothing() {
    let app = spawn_app().await;
    let busy = owner_of(&app, "Busy", "busy@example.com").await;
    SeedCall::completed(0, 60, "agent_hang_up", Some(1.0))
        .insert(&app.pool, busy, None)
        .await;
    SeedCall::in_progress().insert(&app.pool, busy, None).await;
    assert_eq!(stats(&app, "UTC").await.calls_today, 2);
    app.log_out().await;

    owner_of(&app, "Quiet", "quiet@example.com").await;
    let quiet = stats(&app, "UTC").await;
    assert!(!quiet.has_calls);
    assert_eq!(
        (
            quiet.calls_today,
            quiet.calls_this_week,
            quiet.calls_in_window,
            quiet.ended
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(quiet.cost_usd, 0.0);
    assert_eq!(quiet.avg_duration_secs, None);
    assert!(quiet.per_day.iter().all(|d| d.calls == 0));
    assert!(quiet.durations.iter().all(|b| b.calls == 0));
    assert!(active(&app).await.is_empty());
    app.log_out().await;

    for endpoint in ["overview/stats", "live/calls"] {
        let response = app.call(endpoint, &[("time_zone", "UTC")]).await;
        assert!(!response.status.is_success(), "{endpoint}: {response:?}");
        assert_eq!(response.app_error(), AppError::Unauthorized, "{endpoint}");
    }
}

#[tokio::test]
async fn the_live_snapshot_has_calls_in_progress_with_their_lines_and_nothing_else() {
    // Arrange
    let app = spawn_app().await;
    let org = owner_of(&app, "Live Co", "live@example.com").await;
    let agent = switchboard::store::agents::insert_agent(&app.pool, org, "Front desk")
        .await
        .unwrap();
    let live = SeedCall::in_progress()
        .insert(&app.pool, org, Some(agent))
        .await;
    let ended = SeedCall::completed(0, 42, "agent_hang_up", None)
        .insert(&app.pool, org, Some(agent))
        .await;
    let ringing = SeedCall {
        status: "ringing",
        ..SeedCall::in_progress()
    };
    ringing.insert(&app.pool, org, Some(agent)).await;
    let (stranger, stranger_agent) =
        switchboard::testing::seed_org_with_agent(&app.pool, "Stranger").await;
    let theirs = SeedCall::in_progress()
        .insert(&app.pool, stranger, Some(stranger_agent))
        .await;
    use switchboard::store::transcripts::insert_line;
    // Stored out of order, as lines finishing close together can be.
    insert_line(
        &app.pool,
        org,
        live,
        1,
        "caller",
        "I'd like a table for two.",
        2100,
        3900,
        false,
    )
    .await
    .unwrap();
    insert_line(
        &app.pool,
        org,
        live,
        0,
        "agent",
        "Tony's Pizza, how can I help?",
        0,
        2000,
        true,
    )
    .await
    .unwrap();
    insert_line(&app.pool, org, ended, 0, "agent", "Goodbye.", 0, 900, false)
        .await
        .unwrap();
    insert_line(
        &app.pool,
        stranger,
        theirs,
        0,
        "agent",
        "Not yours.",
        0,
        900,
        false,
    )
    .await
    .unwrap();

    // Act
    let calls = active(&app).await;

    // Assert
    assert_eq!(calls.len(), 1, "{calls:#?}");
    let call = &calls[0];
    assert_eq!(call.id, live.to_string());
    assert_eq!(call.agent_name.as_deref(), Some("Front desk"));
    assert_eq!(
        (call.from.as_str(), call.to.as_str()),
        ("+14155550100", "+14155550199")
    );
    let started = OffsetDateTime::parse(
        &call.started_at,
        &time::format_description::well_known::Rfc3339,
    )
    .expect("RFC 3339");
    assert_eq!(
        i64::try_from(started.unix_timestamp_nanos() / 1_000_000).unwrap(),
        call.started_at_ms
    );
    let lines: Vec<(i32, &str, &str, bool)> = call
        .lines
        .iter()
        .map(|l| (l.seq, l.role.as_str(), l.text.as_str(), l.interrupted))
        .collect();
    assert_eq!(
        lines,
        [
            (0, "agent", "Tony's Pizza, how can I help?", true),
            (1, "caller", "I'd like a table for two.", false),
        ]
    );

    // A viewer of the organization watches the same calls.
    app.log_out().await;
    owner_of(&app, "Elsewhere", "viewer@example.com").await;
    sqlx::query("update users set org_id = $1, role = 'viewer' where email = 'viewer@example.com'")
        .bind(org)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(app.whoami().await.expect("signed in").role, "viewer");
    let seen: Vec<String> = active(&app).await.into_iter().map(|c| c.id).collect();
    assert_eq!(seen, [live.to_string()]);
}

/// One server-sent event: its name and data.
#[derive(Debug)]
struct Sse {
    event: String,
    data: String,
}

/// Reads events off an SSE response body.
struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseReader {
    fn new(response: reqwest::Response) -> Self {
        Self {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event (keep-alive comments skipped), waiting at most `timeout`.
    async fn next(&mut self, timeout: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::new(), Vec::new());
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                    }
                }
                if !event.is_empty() || !data.is_empty() {
                    return Some(Sse {
                        event,
                        data: data.join("\n"),
                    });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next())
                .await
                .ok()??;
            self.buffer
                .push_str(std::str::from_utf8(&chunk.ok()?).expect("UTF-8"));
        }
    }
}

#[tokio::test]
async fn call_events_from_another_instance_reach_the_organizations_event_stream_only() {
    // Arrange: the dashboard's stream, and a second "instance" sharing the database.
    let app = spawn_app().await;
    let anonymous = reqwest::get(app.url("/events/calls")).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "signed out");
    let org = owner_of(&app, "Watchers", "watch@example.com").await;
    let response = app.get("/events/calls").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let mut events = SseReader::new(response);
    let stop = CancellationToken::new();
    let other_instance = LiveBus::connect(&app.pool, stop.clone()).await.unwrap();
    let call_id = Uuid::new_v4();
    let line = |org_id, text: &str| LiveMessage {
        org_id,
        event: LiveEvent::CallLine {
            call_id,
            seq: 4,
            role: "caller".to_owned(),
            text: text.to_owned(),
            start_ms: 1200,
            end_ms: 2400,
            interrupted: false,
        },
    };

    // Act: another organization's line first, then ours.
    let published = Instant::now();
    other_instance
        .publish(line(Uuid::new_v4(), "someone else's"))
        .await;
    other_instance
        .publish(line(org, "Table for two, please."))
        .await;
    let first = events.next(Duration::from_secs(5)).await.expect("an event");
    let latency = published.elapsed();
    other_instance
        .publish(LiveMessage {
            org_id: org,
            event: LiveEvent::CallEnded {
                call_id,
                reason: "agent_hang_up".to_owned(),
                duration_secs: 61,
            },
        })
        .await;
    let second = events.next(Duration::from_secs(5)).await.expect("an event");

    // Assert: our line only, in the shape the live page decodes.
    assert_eq!(first.event, "call.line");
    let decoded: CallEvent = serde_json::from_str(&first.data).expect("a CallEvent");
    assert_eq!(
        decoded,
        CallEvent::CallLine {
            call_id: call_id.to_string(),
            seq: 4,
            role: "caller".to_owned(),
            text: "Table for two, please.".to_owned(),
            start_ms: 1200,
            end_ms: 2400,
            interrupted: false,
        }
    );
    assert!(latency < Duration::from_secs(1), "took {latency:?}");
    eprintln!("a line from another instance reached the stream in {latency:?}");
    assert_eq!(second.event, "call.ended");
    assert_eq!(
        serde_json::from_str::<CallEvent>(&second.data).unwrap(),
        CallEvent::CallEnded {
            call_id: call_id.to_string(),
            reason: "agent_hang_up".to_owned(),
            duration_secs: 61,
        }
    );
    stop.cancel();
}
