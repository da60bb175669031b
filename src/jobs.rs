//! The job worker: claims durable jobs ([`crate::store::jobs`]) and runs their handlers.
//!
//! Each worker runs one job at a time and refreshes the job's lock while the handler works, so
//! a job outlives a crash (another worker reclaims its stale lock) but never runs twice at
//! once. It sleeps between polls unless [`JobQueue::wake`] says new work was added on this
//! instance; other instances' jobs are found by the poll.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::store::jobs::{self, Job};

/// What a handler's future resolves to.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = Result<(), JobError>> + Send + 'a>>;

/// Runs the jobs of one kind.
pub trait JobHandler: Send + Sync {
    /// The job kind this handler runs, e.g. `knowledge.ingest`.
    fn kind(&self) -> &'static str;
    /// Does the work. It may run again after a crash, so it must be idempotent.
    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a>;
}

/// Why a job did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth another attempt: after `after`, or the queue's back-off when `None`.
    #[error("{message}")]
    Retry {
        /// What went wrong.
        message: String,
        /// How long the failing service asked us to wait.
        after: Option<Duration>,
    },
    /// Retrying cannot help (bad input); the handler has recorded the failure where users see it.
    #[error("{message}")]
    Fail {
        /// What went wrong.
        message: String,
    },
}

/// Wakes this instance's idle workers when a job is added.
#[derive(Debug, Clone, Default)]
pub struct JobQueue {
    wake: Arc<Notify>,
}

impl JobQueue {
    /// A queue handle with no waiting workers yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tells one idle worker to look for work now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Timing of a [`Worker`].
#[derive(Debug, Clone, Copy)]
pub struct WorkerTiming {
    /// How often an idle worker looks for work.
    pub poll: Duration,
    /// How often a busy worker refreshes its job's lock.
    pub heartbeat: Duration,
    /// A lock older than this is a dead worker's: its job is claimed again.
    pub stale_after: Duration,
}

impl Default for WorkerTiming {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            heartbeat: Duration::from_secs(15),
            stale_after: Duration::from_secs(60),
        }
    }
}

/// One worker loop.
pub struct Worker {
    pool: PgPool,
    name: String,
    handlers: Vec<Arc<dyn JobHandler>>,
    queue: JobQueue,
    timing: WorkerTiming,
}

impl Worker {
    /// A worker named `name` (unique across instances: it marks the jobs it holds).
    pub fn new(
        pool: PgPool,
        name: impl Into<String>,
        handlers: Vec<Arc<dyn JobHandler>>,
        queue: JobQueue,
        timing: WorkerTiming,
    ) -> Self {
        Self {
            pool,
            name: name.into(),
            handlers,
            queue,
            timing,
        }
    }

    /// Runs jobs until `cancel`; a job in progress at that moment goes back to the queue.
    pub async fn run(self, cancel: CancellationToken) {
        let kinds: Vec<&str> = self.handlers.iter().map(|h| h.kind()).collect();
        while !cancel.is_cancelled() {
            let claimed =
                jobs::claim(&self.pool, &self.name, &kinds, self.timing.stale_after).await;
            match claimed {
                Ok(Some(job)) => self.run_one(job, &cancel).await,
                Ok(None) => {
                    tokio::select! {
                        () = cancel.cancelled() => {}
                        () = self.queue.wake.notified() => {}
                        () = tokio::time::sleep(self.timing.poll) => {}
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, worker = %self.name, "cannot claim a job");
                    tokio::select! {
                        () = cancel.cancelled() => {}
                        () = tokio::time::sleep(self.timing.poll * 5) => {}
                    }
                }
            }
        }
    }

    async fn run_one(&self, job: Job, cancel: &CancellationToken) {
        let Some(handler) = self.handlers.iter().find(|h| h.kind() == job.kind) else {
            return;
        };
        tracing::debug!(job = job.id, kind = %job.kind, attempt = job.attempts, "running a job");
        let work = handler.run(&job);
        tokio::pin!(work);
        let mut beat = tokio::time::interval(self.timing.heartbeat);
        beat.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut work => break Some(result),
                () = cancel.cancelled() => {
                    tracing::info!(job = job.id, "shutting down: handing the job back");
                    if let Err(e) = jobs::release(&self.pool, job.id, &self.name).await {
                        tracing::error!(error = %e, job = job.id, "cannot release the job");
                    }
                    break None;
                }
                _ = beat.tick() => match jobs::heartbeat(&self.pool, job.id, &self.name).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = job.id, "lost the job to another worker; stopping it");
                        break None;
                    }
                    Err(e) => tracing::warn!(error = %e, job = job.id, "cannot refresh the job's lock"),
                },
            }
        };
        let outcome = match result {
            None => return,
            Some(Ok(())) => jobs::complete(&self.pool, job.id, &self.name).await,
            Some(Err(JobError::Retry { message, after })) => {
                let wait = after.unwrap_or_else(|| jobs::backoff(job.attempts));
                match jobs::fail(&self.pool, job.id, &self.name, &message, Some(wait)).await {
                    Ok(true) => {
                        tracing::warn!(job = job.id, kind = %job.kind, error = %message, ?wait, "job failed; will retry");
                        Ok(())
                    }
                    Ok(false) => {
                        tracing::error!(job = job.id, kind = %job.kind, error = %message, "job failed; no attempts left");
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
            Some(Err(JobError::Fail { message })) => {
                tracing::warn!(job = job.id, kind = %job.kind, error = %message, "job failed");
                jobs::fail(&self.pool, job.id, &self.name, &message, None)
                    .await
                    .map(drop)
            }
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, job = job.id, "cannot record the job's outcome");
        }
    }
}

#[cfg(test)]
mod tests;
