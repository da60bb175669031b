//! An agent's start context: the passages most relevant to its purpose, computed ahead of time
//! and stored on the agent, so a call puts them into `session.update` without waiting for an
//! embedding or a query before the greeting.
//!
//! "Purpose" is the agent's name, description and system prompt; the nearest passages to that
//! are what its callers most likely ask about. It is recomputed by [`CONTEXT_JOB`] whenever a
//! document the agent sees becomes ready or is deleted, and whenever its prompt changes
//! ([`enqueue_refresh`]).

use std::sync::Arc;

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::embed::Embedder;
use super::ingest::CONTEXT_JOB;
use super::retrieve::{RetrieveError, search};
use crate::jobs::{JobError, JobFuture, JobHandler, JobQueue};
use crate::rag::passages::{Passage, start_context};
use crate::store::jobs::{self, Job};

/// How much of the session's instructions the start context may take, in (estimated) tokens.
pub const START_CONTEXT_TOKENS: usize = 1500;
/// How many candidate passages to consider for it.
const CANDIDATES: u32 = 12;
/// The purpose text is cut to about this many characters (the embedder reads ~256 tokens).
const PURPOSE_CHARS: usize = 1000;

/// Computes and stores agent `agent_id`'s start context; returns it (empty without documents).
/// Returns `None` when the agent is not in this organization.
pub async fn refresh_agent_context(
    pool: &PgPool,
    embedder: &dyn Embedder,
    org_id: Uuid,
    agent_id: Uuid,
) -> Result<Option<String>, RetrieveError> {
    let purpose: Option<(String, String, String)> = sqlx::query_as(
        "select name, description, system_prompt from agents where id = $1 and org_id = $2",
    )
    .bind(agent_id)
    .bind(org_id)
    .fetch_optional(pool)
    .await?;
    let Some((name, description, prompt)) = purpose else {
        return Ok(None);
    };
    let mut purpose = format!("{name}. {description}\n{prompt}");
    if let Some((cut, _)) = purpose.char_indices().nth(PURPOSE_CHARS) {
        purpose.truncate(cut);
    }
    let hits = search(
        pool,
        embedder,
        org_id,
        Some(agent_id),
        &purpose,
        CANDIDATES,
        0.0,
    )
    .await?;
    let passages: Vec<Passage<'_>> = hits
        .iter()
        .map(|hit| Passage {
            title: &hit.title,
            heading_path: &hit.heading_path,
            content: &hit.content,
        })
        .collect();
    let context = start_context(&passages, START_CONTEXT_TOKENS);
    sqlx::query(
        "update agents set knowledge_context = $3, knowledge_context_at = now() \
          where id = $1 and org_id = $2",
    )
    .bind(agent_id)
    .bind(org_id)
    .bind(&context)
    .execute(pool)
    .await?;
    Ok(Some(context))
}

/// Enqueues a refresh of one agent's start context (its prompt changed).
pub async fn enqueue_refresh(
    pool: &PgPool,
    queue: &JobQueue,
    org_id: Uuid,
    agent_id: Uuid,
) -> Result<(), sqlx::Error> {
    jobs::enqueue(
        pool,
        Some(org_id),
        CONTEXT_JOB,
        &json!({ "agent_id": agent_id }),
    )
    .await?;
    queue.wake();
    Ok(())
}

/// Runs [`CONTEXT_JOB`] for one agent, or for every agent of the organization.
pub struct ContextHandler {
    pool: PgPool,
    embedder: Arc<dyn Embedder>,
}

impl ContextHandler {
    /// A handler embedding agents' purposes with `embedder`.
    pub fn new(pool: PgPool, embedder: Arc<dyn Embedder>) -> Self {
        Self { pool, embedder }
    }

    async fn refresh(&self, job: &Job) -> Result<(), JobError> {
        let Some(org_id) = job.org_id else {
            return Err(JobError::Fail {
                message: "a context job needs an organization".into(),
            });
        };
        let agents: Vec<Uuid> = match job.payload["agent_id"].as_str() {
            Some(id) => match id.parse() {
                Ok(id) => vec![id],
                Err(_) => {
                    return Err(JobError::Fail {
                        message: format!("malformed context job payload: {}", job.payload),
                    });
                }
            },
            None => sqlx::query_scalar("select id from agents where org_id = $1")
                .bind(org_id)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| retry(e.into()))?,
        };
        for agent_id in agents {
            refresh_agent_context(&self.pool, self.embedder.as_ref(), org_id, agent_id)
                .await
                .map_err(retry)?;
        }
        Ok(())
    }
}

fn retry(e: RetrieveError) -> JobError {
    let after = match &e {
        RetrieveError::Embed(e) => e.retry_after(),
        _ => None,
    };
    JobError::Retry {
        message: e.to_string(),
        after,
    }
}

impl JobHandler for ContextHandler {
    fn kind(&self) -> &'static str {
        CONTEXT_JOB
    }

    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(self.refresh(job))
    }
}
