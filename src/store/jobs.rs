//! Durable jobs: work that must survive a restart (document ingestion, post-call summaries).
//!
//! A job is a row in `jobs`. Workers claim one with `FOR UPDATE SKIP LOCKED`, so any number of
//! workers on any number of instances share the queue without taking the same job twice. A
//! claimed job is `running` with `locked_at`; the worker refreshes `locked_at` while it works
//! ([`heartbeat`]), so a job whose worker died (killed mid-document) is noticed by its stale
//! lock and claimed again. Handlers must therefore be idempotent — the knowledge job replaces
//! a document's chunks in one transaction, so running it twice leaves one set.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// A claimed job.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Job {
    /// The row id.
    pub id: i64,
    /// The organization the job works for (`None` for system jobs).
    pub org_id: Option<Uuid>,
    /// What to do, e.g. `knowledge.ingest`.
    pub kind: String,
    /// The handler's input.
    pub payload: serde_json::Value,
    /// Attempts so far, including this one.
    pub attempts: i32,
    /// After this many attempts a failure is final.
    pub max_attempts: i32,
}

/// Adds a job, runnable now; returns its id. Pass a transaction to enqueue atomically with the
/// row the job works on.
pub async fn enqueue(
    executor: impl PgExecutor<'_>,
    org_id: Option<Uuid>,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("insert into jobs (org_id, kind, payload) values ($1, $2, $3) returning id")
        .bind(org_id)
        .bind(kind)
        .bind(payload)
        .fetch_one(executor)
        .await
}

/// Claims the next runnable job of one of `kinds` for `worker`: a queued job whose time has
/// come, or a running job whose lock is older than `stale_after` (its worker died). Counts
/// the attempt.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    kinds: &[&str],
    stale_after: Duration,
) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(
        "update jobs \
            set status = 'running', attempts = attempts + 1, locked_at = now(), \
                locked_by = $1, updated_at = now() \
          where id = ( \
                select id from jobs \
                 where kind = any($2) \
                   and ((status = 'queued' and run_at <= now()) \
                     or (status = 'running' and locked_at < now() - make_interval(secs => $3))) \
                 order by run_at, id \
                 limit 1 \
                   for update skip locked) \
        returning id, org_id, kind, payload, attempts, max_attempts",
    )
    .bind(worker)
    .bind(kinds)
    .bind(stale_after.as_secs_f64())
    .fetch_optional(pool)
    .await
}

/// Refreshes the lock of a job `worker` still holds; false when it lost the job (another
/// worker took it over as stale), in which case it should stop.
pub async fn heartbeat(pool: &PgPool, job_id: i64, worker: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update jobs set locked_at = now() \
          where id = $1 and status = 'running' and locked_by = $2",
    )
    .bind(job_id)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a job done.
pub async fn complete(pool: &PgPool, job_id: i64, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update jobs set status = 'done', locked_at = null, last_error = null, updated_at = now() \
          where id = $1 and locked_by = $2",
    )
    .bind(job_id)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt: the job runs again after `retry_in`, or — with `None`, or when
/// its attempts are used up — fails for good. Returns whether it will be retried.
pub async fn fail(
    pool: &PgPool,
    job_id: i64,
    worker: &str,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<bool, sqlx::Error> {
    let status: Option<String> = sqlx::query_scalar(
        "update jobs \
            set status = case when $4::float8 is not null and attempts < max_attempts \
                              then 'queued' else 'failed' end, \
                run_at = now() + make_interval(secs => coalesce($4::float8, 0)), \
                last_error = $3, locked_at = null, updated_at = now() \
          where id = $1 and locked_by = $2 \
        returning status",
    )
    .bind(job_id)
    .bind(worker)
    .bind(error)
    .bind(retry_in.map(|d| d.as_secs_f64()))
    .fetch_optional(pool)
    .await?;
    Ok(status.as_deref() == Some("queued"))
}

/// Hands a job back to the queue untouched (the worker is shutting down), without counting
/// the attempt, so another worker or instance picks it up at once.
pub async fn release(pool: &PgPool, job_id: i64, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update jobs set status = 'queued', attempts = greatest(attempts - 1, 0), \
                locked_at = null, locked_by = null, updated_at = now() \
          where id = $1 and locked_by = $2 and status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(())
}

/// How long to wait before attempt `attempts + 1`: 2 s, 4 s, 8 s … capped at 5 minutes.
pub fn backoff(attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.clamp(1, 16)).unwrap_or(1);
    Duration::from_secs(2u64.saturating_pow(exponent).min(300))
}

#[cfg(test)]
mod tests;
