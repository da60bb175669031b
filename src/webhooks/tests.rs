use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use time::macros::datetime;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions, InjectedFailure};
use crate::jobs::{JobQueue, Worker, WorkerTiming};
use crate::store::{calls, transcripts, webhooks};
use crate::summaries::{SummaryHandler, SummaryModel, enqueue_summary};
use crate::testing::{fresh_database, seed_org_with_agent};
use event::EndedCall;

const SECRET: &str = "whsec_test_secret";
const SUMMARY: &str = "Booked a table for two at seven.";

#[test]
fn the_body_carries_the_call_with_its_summary_outcome_and_cost() {
    let call = EndedCall {
        id: Uuid::nil(),
        agent_id: None,
        direction: "inbound".into(),
        status: "completed".into(),
        from_number: "+15550001111".into(),
        to_number: "+15550002222".into(),
        started_at: datetime!(2026-11-21 10:00:00 UTC),
        ended_at: Some(datetime!(2026-11-21 10:01:30 UTC)),
        duration_secs: Some(90),
        summary: Some(SUMMARY.into()),
        outcome: Some(json!({"resolved": true, "follow_up": null})),
        cost_usd: Some(0.0125),
    };
    assert_eq!(
        event::call_ended_body(&call),
        json!({
            "event": "call.ended",
            "call": {
                "id": "00000000-0000-0000-0000-000000000000",
                "agent_id": null,
                "direction": "inbound",
                "status": "completed",
                "from": "+15550001111",
                "to": "+15550002222",
                "started_at": "2026-11-21T10:00:00Z",
                "ended_at": "2026-11-21T10:01:30Z",
                "duration_secs": 90,
                "summary": SUMMARY,
                "outcome": {"resolved": true, "follow_up": null},
                "cost_usd": 0.0125,
            }
        })
    );
}

#[test]
fn the_signature_is_the_hex_hmac_sha256_of_the_body() {
    // RFC 4231 test case 2.
    assert_eq!(
        event::signature("Jefe", "what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn failed_deliveries_are_retried_after_1_5_30_and_120_minutes_then_given_up() {
    let schedule = RetrySchedule::default();
    let waits: Vec<_> = (1..=6).map(|n| schedule.wait_after(n)).collect();
    let min = |m: u64| Some(Duration::from_secs(m * 60));
    assert_eq!(waits, [min(1), min(5), min(30), min(120), None, None]);
    assert_eq!(schedule.max_attempts(), 5);
    assert_eq!(schedule.wait_after(0), None);
}

#[test]
fn a_refusal_keeps_the_status_and_the_start_of_the_answer() {
    assert_eq!(event::refusal(500, "  "), "HTTP 500");
    assert_eq!(
        event::refusal(404, "no such hook\n"),
        "HTTP 404: no such hook"
    );
    assert!(event::refusal(500, &"é".repeat(1000)).len() <= "HTTP 500: ".len() + 300);
}

/// What an endpoint received.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A tiny endpoint on port 0 that answers 500 to its first `fail_first` requests, then 204.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let app = axum::Router::new().route(
            "/hooks",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let log = log.clone();
                async move {
                    let mut log = log.lock().unwrap();
                    log.push(Received {
                        headers,
                        body: String::from_utf8(body.to_vec()).unwrap(),
                    });
                    if log.len() <= fail_first {
                        (StatusCode::INTERNAL_SERVER_ERROR, "try later")
                    } else {
                        (StatusCode::NO_CONTENT, "")
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A completed call with one transcript line and its summary job queued; returns its id.
async fn finished_call(pool: &PgPool, org: Uuid, agent: Uuid, sid: &str) -> Uuid {
    let call = calls::insert_inbound_call(pool, org, agent, sid, "+15550001111", "+15550002222")
        .await
        .unwrap();
    sqlx::query(
        "update calls set status = 'completed', ended_at = started_at + interval '90 seconds', \
                duration_secs = 90 where id = $1",
    )
    .bind(call)
    .execute(pool)
    .await
    .unwrap();
    transcripts::insert_line(
        pool,
        org,
        call,
        0,
        "caller",
        "A table for two?",
        0,
        900,
        false,
    )
    .await
    .unwrap();
    enqueue_summary(pool, &JobQueue::new(), org, call, Duration::ZERO)
        .await
        .unwrap();
    call
}

/// Job workers running summaries (with `model`) and deliveries (on `schedule`) until dropped.
struct Workers(CancellationToken);

impl Workers {
    fn start(pool: &PgPool, model: Option<SummaryModel>, schedule: RetrySchedule) -> Self {
        let cancel = CancellationToken::new();
        let handlers: Vec<Arc<dyn JobHandler>> = vec![
            Arc::new(SummaryHandler::new(pool.clone(), model)),
            Arc::new(
                DeliveryHandler::new(pool.clone(), reqwest::Client::new()).with_schedule(schedule),
            ),
        ];
        let timing = WorkerTiming {
            poll: Duration::from_millis(20),
            ..WorkerTiming::default()
        };
        let worker = Worker::new(pool.clone(), "w", handlers, JobQueue::new(), timing);
        tokio::spawn(worker.run(cancel.clone()));
        Self(cancel)
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// `(id, status, attempts, response_status, last_error)`.
type DeliveryRow = (i64, String, i32, Option<i32>, Option<String>);

/// The org's deliveries, waiting up to
/// 10 s until none is pending.
async fn settled_deliveries(pool: &PgPool, org: Uuid) -> Vec<DeliveryRow> {
    let query = || {
        sqlx::query_as(
            "select id, status, attempts, response_status, last_error from webhook_deliveries \
              where org_id = $1 order by id",
        )
        .bind(org)
        .fetch_all(pool)
    };
    for _ in 0..500 {
        let rows: Vec<DeliveryRow> = query().await.unwrap();
        if !rows.is_empty() && rows.iter().all(|r| r.1 != "pending") {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    query().await.unwrap()
}

fn verifies(secret: &str, received: &Received) -> bool {
    let header = received.headers["x-switchboard-signature"]
        .to_str()
        .unwrap();
    let Some(hex) = header.strip_prefix("sha256=") else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(received.body.as_bytes());
    mac.verify_slice(&hex::decode(hex).unwrap()).is_ok()
}

#[tokio::test]
async fn a_summarised_call_is_posted_signed_to_the_webhook_once() {
    let (_, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
    let receiver = Receiver::start(0).await;
    webhooks::save(&pool, org, &receiver.url, Some(SECRET))
        .await
        .unwrap();
    let fake = FakeOpenAi::start(FakeOpenAiOptions {
        chat_json: Some(
            json!({"summary": SUMMARY, "outcome": {"resolved": true, "follow_up": null}}),
        ),
        ..FakeOpenAiOptions::default()
    })
    .await
    .unwrap();
    let model = SummaryModel::new(&fake.base_url(), "sk-test", "gpt-4o-mini");
    let call = finished_call(&pool, org, agent, "CA1").await;

    let workers = Workers::start(&pool, Some(model), RetrySchedule::default());
    let rows = settled_deliveries(&pool, org).await;
    drop(workers);

    assert_eq!(rows.len(), 1, "{rows:?}");
    let (delivery, status, attempts, response, error) = &rows[0];
    assert_eq!(
        (status.as_str(), *attempts, *response, error.as_deref()),
        ("delivered", 1, Some(204), None)
    );
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert!(
        verifies(SECRET, request),
        "the signature verifies with the secret"
    );
    assert!(!verifies("another secret", request));
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(request.headers["x-switchboard-event"], "call.ended");
    assert_eq!(
        request.headers["x-switchboard-delivery"],
        delivery.to_string().as_str()
    );
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["event"], "call.ended");
    assert_eq!(body["call"]["id"], call.to_string());
    assert_eq!(body["call"]["agent_id"], agent.to_string());
    assert_eq!(body["call"]["summary"], SUMMARY);
    assert_eq!(body["call"]["outcome"]["resolved"], true);
    assert_eq!(body["call"]["status"], "completed");
    assert_eq!(body["call"]["duration_secs"], 90);
    assert_eq!(body["call"]["from"], "+15550001111");
    assert!(body["call"]["cost_usd"].as_f64().unwrap() > 0.0);

    // Announcing the call again (a summary job rerun after a crash) sends nothing new.
    assert!(
        enqueue_call_ended(&pool, org, call)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_refused_delivery_is_retried_until_the_endpoint_takes_it() {
    let (_, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
    let receiver = Receiver::start(1).await;
    webhooks::save(&pool, org, &receiver.url, Some(SECRET))
        .await
        .unwrap();
    finished_call(&pool, org, agent, "CA1").await;

    let schedule = RetrySchedule::new(vec![Duration::from_millis(50); 4]);
    let workers = Workers::start(&pool, None, schedule);
    let rows = settled_deliveries(&pool, org).await;
    drop(workers);

    assert_eq!(rows.len(), 1, "{rows:?}");
    let (delivery, status, attempts, response, error) = &rows[0];
    assert_eq!(
        (status.as_str(), *attempts, *response, error.as_deref()),
        ("delivered", 2, Some(204), None)
    );
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].body, received[1].body, "the same event");
    for request in &received {
        assert!(verifies(SECRET, request));
        assert_eq!(
            request.headers["x-switchboard-delivery"],
            delivery.to_string().as_str()
        );
    }
    // Offline (no model): the event still goes out, without a summary.
    let body: Value = serde_json::from_str(&received[1].body).unwrap();
    assert_eq!(body["call"]["summary"], Value::Null);
}

#[tokio::test]
async fn an_endpoint_that_keeps_refusing_is_given_up_with_its_answer_recorded() {
    let (_, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
    let receiver = Receiver::start(usize::MAX).await;
    webhooks::save(&pool, org, &receiver.url, Some(SECRET))
        .await
        .unwrap();
    finished_call(&pool, org, agent, "CA1").await;

    let schedule = RetrySchedule::new(vec![Duration::from_millis(20); 2]);
    let workers = Workers::start(&pool, None, schedule);
    let rows = settled_deliveries(&pool, org).await;
    drop(workers);

    let (_, status, attempts, response, error) = &rows[0];
    assert_eq!(
        (status.as_str(), *attempts, *response, error.as_deref()),
        ("failed", 3, Some(500), Some("HTTP 500: try later"))
    );
    assert_eq!(receiver.received().len(), 3);
}

#[tokio::test]
async fn another_organizations_webhook_hears_nothing_of_the_call() {
    let (_, pool) = fresh_database().await;
    let (acme, agent) = seed_org_with_agent(&pool, "Acme").await;
    let (other, _) = seed_org_with_agent(&pool, "Other").await;
    let ours = Receiver::start(0).await;
    let theirs = Receiver::start(0).await;
    webhooks::save(&pool, acme, &ours.url, Some(SECRET))
        .await
        .unwrap();
    webhooks::save(&pool, other, &theirs.url, Some("their secret"))
        .await
        .unwrap();
    finished_call(&pool, acme, agent, "CA1").await;

    let workers = Workers::start(&pool, None, RetrySchedule::default());
    let rows = settled_deliveries(&pool, acme).await;
    drop(workers);

    assert_eq!(rows.len(), 1);
    assert_eq!(ours.received().len(), 1);
    assert!(theirs.received().is_empty());
    let theirs_rows: i64 =
        sqlx::query_scalar("select count(*) from webhook_deliveries where org_id = $1")
            .bind(other)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(theirs_rows, 0);
}

#[tokio::test]
async fn a_call_whose_summary_fails_for_good_is_still_announced() {
    let (_, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
    let receiver = Receiver::start(0).await;
    webhooks::save(&pool, org, &receiver.url, Some(SECRET))
        .await
        .unwrap();
    let fake = FakeOpenAi::start(FakeOpenAiOptions::default())
        .await
        .unwrap();
    fake.fail_always(InjectedFailure::InsufficientQuota);
    let model = SummaryModel::new(&fake.base_url(), "sk-test", "gpt-4o-mini");
    let call = finished_call(&pool, org, agent, "CA1").await;
    // One attempt, so its failure is the last.
    sqlx::query("update jobs set max_attempts = 1 where kind = 'call.summary'")
        .execute(&pool)
        .await
        .unwrap();

    let workers = Workers::start(&pool, Some(model), RetrySchedule::default());
    let rows = settled_deliveries(&pool, org).await;
    drop(workers);

    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].1, "delivered");
    let body: Value = serde_json::from_str(&receiver.received()[0].body).unwrap();
    assert_eq!(body["call"]["id"], call.to_string());
    assert_eq!(body["call"]["summary"], Value::Null);
    let summary_job: String =
        sqlx::query_scalar("select status from jobs where kind = 'call.summary'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(summary_job, "failed");
}
