use std::time::Duration;

use serde_json::json;

use super::*;
use crate::testing::{fresh_database, seed_org};

const KIND: &str = "test.job";
const LONG: Duration = Duration::from_secs(3600);

async fn status_of(pool: &PgPool, id: i64) -> (String, i32, Option<String>) {
    sqlx::query_as("select status, attempts, last_error from jobs where id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_job_is_claimed_once_and_completed() {
    let (_, pool) = fresh_database().await;
    let org = seed_org(&pool, "Jobs").await;
    let id = enqueue(&pool, Some(org), KIND, &json!({"n": 1}))
        .await
        .unwrap();

    let job = claim(&pool, "a", &[KIND], LONG).await.unwrap().unwrap();
    assert_eq!(
        (job.id, job.org_id, job.attempts, job.payload),
        (id, Some(org), 1, json!({"n": 1}))
    );
    assert_eq!(claim(&pool, "b", &[KIND], LONG).await.unwrap(), None);
    assert_eq!(claim(&pool, "a", &["other"], LONG).await.unwrap(), None);

    complete(&pool, id, "a").await.unwrap();
    assert_eq!(status_of(&pool, id).await.0, "done");
    assert_eq!(claim(&pool, "b", &[KIND], LONG).await.unwrap(), None);
}

#[tokio::test]
async fn concurrent_workers_never_share_a_job() {
    let (_, pool) = fresh_database().await;
    for n in 0..20 {
        enqueue(&pool, None, KIND, &json!({ "n": n }))
            .await
            .unwrap();
    }
    let workers = (0..4).map(|w| {
        let pool = pool.clone();
        tokio::spawn(async move {
            let name = format!("w{w}");
            let mut mine = Vec::new();
            while let Some(job) = claim(&pool, &name, &[KIND], LONG).await.unwrap() {
                mine.push(job.id);
            }
            mine
        })
    });
    let mut all: Vec<i64> = Vec::new();
    for worker in workers {
        all.extend(worker.await.unwrap());
    }
    all.sort_unstable();
    let unique = all.len();
    all.dedup();
    assert_eq!((unique, all.len()), (20, 20));
}

#[tokio::test]
async fn a_job_whose_worker_died_is_claimed_again() {
    let (_, pool) = fresh_database().await;
    let id = enqueue(&pool, None, KIND, &json!({})).await.unwrap();
    claim(&pool, "dead", &[KIND], LONG).await.unwrap().unwrap();
    // Its lock is fresh: nobody else may take it yet.
    assert_eq!(claim(&pool, "b", &[KIND], LONG).await.unwrap(), None);

    sqlx::query("update jobs set locked_at = now() - interval '10 minutes' where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let job = claim(&pool, "b", &[KIND], Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.id, job.attempts), (id, 2));
    // The dead worker has lost it: its heartbeat and completion change nothing.
    assert!(!heartbeat(&pool, id, "dead").await.unwrap());
    complete(&pool, id, "dead").await.unwrap();
    assert_eq!(status_of(&pool, id).await.0, "running");
    assert!(heartbeat(&pool, id, "b").await.unwrap());
}

#[tokio::test]
async fn a_retried_job_waits_and_a_final_failure_keeps_its_error() {
    let (_, pool) = fresh_database().await;
    let id = enqueue(&pool, None, KIND, &json!({})).await.unwrap();
    sqlx::query("update jobs set max_attempts = 2 where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();

    claim(&pool, "a", &[KIND], LONG).await.unwrap().unwrap();
    let retried = fail(&pool, id, "a", "busy", Some(Duration::from_secs(600)))
        .await
        .unwrap();
    assert!(retried);
    assert_eq!(
        status_of(&pool, id).await,
        ("queued".into(), 1, Some("busy".into()))
    );
    // Not before its time.
    assert_eq!(claim(&pool, "a", &[KIND], LONG).await.unwrap(), None);

    sqlx::query("update jobs set run_at = now() where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    claim(&pool, "a", &[KIND], LONG).await.unwrap().unwrap();
    let retried = fail(&pool, id, "a", "still busy", Some(Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(!retried, "two attempts used up");
    assert_eq!(
        status_of(&pool, id).await,
        ("failed".into(), 2, Some("still busy".into()))
    );
}

#[tokio::test]
async fn a_permanent_failure_is_not_retried() {
    let (_, pool) = fresh_database().await;
    let id = enqueue(&pool, None, KIND, &json!({})).await.unwrap();
    claim(&pool, "a", &[KIND], LONG).await.unwrap().unwrap();
    assert!(!fail(&pool, id, "a", "bad input", None).await.unwrap());
    assert_eq!(status_of(&pool, id).await.0, "failed");
}

#[test]
fn backoff_doubles_and_is_capped() {
    assert_eq!(backoff(1), Duration::from_secs(2));
    assert_eq!(backoff(2), Duration::from_secs(4));
    assert_eq!(backoff(5), Duration::from_secs(32));
    assert_eq!(backoff(30), Duration::from_secs(300));
    assert_eq!(backoff(0), Duration::from_secs(2));
}
