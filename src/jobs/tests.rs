use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tokio::sync::Semaphore;

use super::*;
use crate::testing::fresh_database;

/// Succeeds, or fails as its payload says; counts its runs; may wait for a permit first.
struct Scripted {
    runs: AtomicUsize,
    gate: Option<Arc<Semaphore>>,
}

impl JobHandler for Scripted {
    fn kind(&self) -> &'static str {
        "test.scripted"
    }

    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(async move {
            self.runs.fetch_add(1, Ordering::SeqCst);
            if let Some(gate) = &self.gate {
                let _permit = gate.acquire().await.expect("open gate");
            }
            match job.payload["outcome"].as_str() {
                Some("retry") => Err(JobError::Retry {
                    message: "try later".into(),
                    after: Some(Duration::from_secs(600)),
                }),
                Some("fail") => Err(JobError::Fail {
                    message: "bad input".into(),
                }),
                _ => Ok(()),
            }
        })
    }
}

fn timing() -> WorkerTiming {
    WorkerTiming {
        poll: Duration::from_millis(20),
        heartbeat: Duration::from_millis(50),
        stale_after: Duration::from_secs(60),
    }
}

async fn wait_for_status(pool: &PgPool, id: i64, status: &str) -> (i32, Option<String>) {
    for _ in 0..500 {
        let (now, attempts, error): (String, i32, Option<String>) =
            sqlx::query_as("select status, attempts, last_error from jobs where id = $1")
                .bind(id)
                .fetch_one(pool)
                .await
                .unwrap();
        if now == status {
            return (attempts, error);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("job {id} never became {status}");
}

#[tokio::test]
async fn the_worker_runs_jobs_and_records_their_outcomes() {
    let (_, pool) = fresh_database().await;
    let handler = Arc::new(Scripted {
        runs: AtomicUsize::new(0),
        gate: None,
    });
    let cancel = CancellationToken::new();
    let queue = JobQueue::new();
    let worker = Worker::new(
        pool.clone(),
        "w1",
        vec![handler.clone()],
        queue.clone(),
        timing(),
    );
    let running = tokio::spawn(worker.run(cancel.clone()));

    let ok = jobs::enqueue(&pool, None, "test.scripted", &json!({}))
        .await
        .unwrap();
    let retry = jobs::enqueue(&pool, None, "test.scripted", &json!({"outcome": "retry"}))
        .await
        .unwrap();
    let fail = jobs::enqueue(&pool, None, "test.scripted", &json!({"outcome": "fail"}))
        .await
        .unwrap();
    queue.wake();

    assert_eq!(wait_for_status(&pool, ok, "done").await, (1, None));
    assert_eq!(
        wait_for_status(&pool, fail, "failed").await,
        (1, Some("bad input".into()))
    );
    let (attempts, error) = wait_for_status(&pool, retry, "queued").await;
    assert_eq!((attempts, error.as_deref()), (1, Some("try later")));
    let waits: bool =
        sqlx::query_scalar("select run_at > now() + interval '5 minutes' from jobs where id = $1")
            .bind(retry)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(waits, "the retry honours the handler's delay");
    cancel.cancel();
    running.await.unwrap();
    assert_eq!(handler.runs.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_job_in_progress_at_shutdown_goes_back_to_the_queue() {
    let (_, pool) = fresh_database().await;
    let gate = Arc::new(Semaphore::new(0));
    let handler = Arc::new(Scripted {
        runs: AtomicUsize::new(0),
        gate: Some(gate.clone()),
    });
    let id = jobs::enqueue(&pool, None, "test.scripted", &json!({}))
        .await
        .unwrap();
    let cancel = CancellationToken::new();
    let worker = Worker::new(
        pool.clone(),
        "w1",
        vec![handler.clone()],
        JobQueue::new(),
        timing(),
    );
    let running = tokio::spawn(worker.run(cancel.clone()));
    wait_for_status(&pool, id, "running").await;
    while handler.runs.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    cancel.cancel();
    running.await.unwrap();
    assert_eq!(wait_for_status(&pool, id, "queued").await, (0, None));

    // Another worker finishes it.
    gate.add_permits(1);
    let cancel = CancellationToken::new();
    let worker = Worker::new(
        pool.clone(),
        "w2",
        vec![handler.clone()],
        JobQueue::new(),
        timing(),
    );
    let running = tokio::spawn(worker.run(cancel.clone()));
    assert_eq!(wait_for_status(&pool, id, "done").await.0, 1);
    cancel.cancel();
    running.await.unwrap();
}
