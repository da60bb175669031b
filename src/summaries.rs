//! After a call: a summary and a typed outcome from a chat completion, stored on the call with
//! the token usage and a cost estimate — as a durable job, so a restart does not lose it.
//!
//! The outcome follows the agent's outcome JSON Schema (say, the order of a pizza call); an
//! agent without one gets a small default (`resolved`, `follow_up`). The model is asked for
//! `{"summary": …, "outcome": …}` with structured outputs. Without an OpenAI key the job
//! records nothing and finishes: offline installs simply have no summaries. Either way the job
//! then queues the `call.ended` event for the organization's webhook ([`crate::webhooks`]).

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageArgs,
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequestArgs, ResponseFormat,
    ResponseFormatJsonSchema,
};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::jobs::{JobError, JobFuture, JobHandler, JobQueue};
use crate::store::jobs::Job;

/// The job kind: payload `{"call_id": …}`.
pub const SUMMARY_JOB: &str = "call.summary";

/// The transcript sent for summarising is cut to about this many characters (its end kept),
/// so a very long call cannot exceed the model's context.
const MAX_TRANSCRIPT_CHARS: usize = 60_000;

const INSTRUCTIONS: &str = "You review phone calls answered by a business's AI agent. \
Write `summary`: two to four sentences a busy owner can skim — who called, what they wanted, \
what was done or promised, anything left to follow up. Fill `outcome` from what was actually \
said; never invent details the caller did not give (use null or leave optional fields out).";

/// Where the summaries come from.
#[derive(Clone)]
pub struct SummaryModel {
    client: Client<OpenAIConfig>,
    model: String,
}

impl SummaryModel {
    /// A chat model at an OpenAI-compatible `base_url`.
    pub fn new(base_url: &str, api_key: &str, model: &str) -> Self {
        crate::knowledge::embed::openai::ensure_rustls_crypto_provider();
        let config = OpenAIConfig::new()
            .with_api_base(base_url.trim_end_matches('/'))
            .with_api_key(api_key)
            .with_org_id("")
            .with_project_id("");
        Self {
            client: Client::with_config(config),
            model: model.to_owned(),
        }
    }
}

/// Enqueues the summary of `call_id` unless one is already queued or done; `delay` lets late
/// transcript lines land first.
pub async fn enqueue_summary(
    pool: &PgPool,
    queue: &JobQueue,
    org_id: Uuid,
    call_id: Uuid,
    delay: std::time::Duration,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "insert into jobs (org_id, kind, payload, run_at) \
         select $1, $2, jsonb_build_object('call_id', $3::text), now() + make_interval(secs => $4) \
          where not exists (select 1 from jobs where kind = $2 and payload->>'call_id' = $3::text)",
    )
    .bind(org_id)
    .bind(SUMMARY_JOB)
    .bind(call_id)
    .bind(delay.as_secs_f64())
    .execute(pool)
    .await?;
    if delay.is_zero() {
        queue.wake();
    }
    Ok(inserted.rows_affected() == 1)
}

/// Runs [`SUMMARY_JOB`].
pub struct SummaryHandler {
    pool: PgPool,
    model: Option<SummaryModel>,
}

impl SummaryHandler {
    /// A handler using `model`, or recording nothing when there is none (offline).
    pub fn new(pool: PgPool, model: Option<SummaryModel>) -> Self {
        Self { pool, model }
    }

    /// Summarises the call, then announces it to the organization's webhook — also without a
    /// summary (offline, or the model failed for good): the endpoint hears of every call.
    async fn run_job(&self, job: &Job) -> Result<(), JobError> {
        let call_id: Option<Uuid> = job.payload["call_id"].as_str().and_then(|s| s.parse().ok());
        let (Some(org_id), Some(call_id)) = (job.org_id, call_id) else {
            return Err(JobError::Fail {
                message: format!("malformed summary job payload: {}", job.payload),
            });
        };
        let summarised = self.summarise(org_id, call_id).await;
        let last_attempt = job.attempts >= job.max_attempts;
        if matches!(summarised, Err(JobError::Retry { .. })) && !last_attempt {
            return summarised;
        }
        // Summarised, or never will be: the endpoint hears of the call either way.
        crate::webhooks::enqueue_call_ended(&self.pool, org_id, call_id)
            .await
            .map_err(retry)?;
        summarised
    }

    async fn summarise(&self, org_id: Uuid, call_id: Uuid) -> Result<(), JobError> {
        let Some(model) = &self.model else {
            tracing::info!(%call_id, "no OPENAI_API_KEY: the call is not summarised");
            return Ok(());
        };
        let schema: Option<Option<Value>> = sqlx::query_scalar(
            "select a.outcome_schema from calls c left join agents a on a.id = c.agent_id \
              where c.id = $1 and c.org_id = $2",
        )
        .bind(call_id)
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(retry)?;
        let Some(schema) = schema else {
            return Ok(()); // the call was deleted
        };
        let lines: Vec<(String, String)> = sqlx::query_as(
            "select role, text from call_transcript_lines where call_id = $1 and org_id = $2 \
              order by seq",
        )
        .bind(call_id)
        .bind(org_id)
        .fetch_all(&self.pool)
        .await
        .map_err(retry)?;
        if lines.is_empty() {
            sqlx::query("update calls set summary = $3 where id = $1 and org_id = $2")
                .bind(call_id)
                .bind(org_id)
                .bind("Nothing was said on this call.")
                .execute(&self.pool)
                .await
                .map_err(retry)?;
            return Ok(());
        }
        let transcript = transcript_text(&lines);
        let summary = request_summary(model, &transcript, schema.as_ref())
            .await
            .map_err(|e| summary_error(&e))?;
        sqlx::query(
            "update calls set summary = $3, outcome = $4, usage = $5, cost_usd = $6, \
                    updated_at = now() \
              where id = $1 and org_id = $2",
        )
        .bind(call_id)
        .bind(org_id)
        .bind(&summary.summary)
        .bind(&summary.outcome)
        .bind(&summary.usage)
        .bind(summary.cost_usd)
        .execute(&self.pool)
        .await
        .map_err(retry)?;
        tracing::info!(%call_id, "call summarised");
        Ok(())
    }
}

impl JobHandler for SummaryHandler {
    fn kind(&self) -> &'static str {
        SUMMARY_JOB
    }

    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(self.run_job(job))
    }
}

/// What the model answered, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct CallSummary {
    /// The summary for people.
    pub summary: String,
    /// The typed outcome.
    pub outcome: Value,
    /// `{"model", "prompt_tokens", "completion_tokens"}`.
    pub usage: Value,
    /// What the completion cost, when the model's price is known.
    pub cost_usd: Option<f64>,
}

/// Asks `model` for the summary and outcome of `transcript`.
pub async fn request_summary(
    model: &SummaryModel,
    transcript: &str,
    outcome_schema: Option<&Value>,
) -> Result<CallSummary, OpenAIError> {
    let messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessageArgs::default()
            .content(INSTRUCTIONS)
            .build()?
            .into(),
        ChatCompletionRequestUserMessageArgs::default()
            .content(format!("Transcript:\n{transcript}"))
            .build()?
            .into(),
    ];
    let request = CreateChatCompletionRequestArgs::default()
        .model(&model.model)
        .messages(messages)
        .response_format(ResponseFormat::JsonSchema {
            json_schema: ResponseFormatJsonSchema {
                description: Some("The call's summary and outcome.".into()),
                name: "call_summary".into(),
                schema: response_schema(outcome_schema),
                // Agents' schemas need not meet strict mode's rules (every property required).
                strict: Some(false),
            },
        })
        .build()?;
    let response = model.client.chat().create(request).await?;
    let content = response
        .choices
        .first()
        .and_then(|c| c.message.content.clone())
        .unwrap_or_default();
    let parsed: Value =
        serde_json::from_str(&content).unwrap_or_else(|_| json!({ "summary": content }));
    let (prompt, completion) = response
        .usage
        .as_ref()
        .map_or((0, 0), |u| (u.prompt_tokens, u.completion_tokens));
    Ok(CallSummary {
        summary: parsed["summary"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        outcome: parsed.get("outcome").cloned().unwrap_or(Value::Null),
        usage: json!({
            "model": model.model,
            "prompt_tokens": prompt,
            "completion_tokens": completion,
        }),
        cost_usd: cost_usd(&model.model, prompt, completion),
    })
}

/// `{"summary": string, "outcome": <the agent's schema>}`.
pub fn response_schema(outcome_schema: Option<&Value>) -> Value {
    let outcome = outcome_schema.cloned().unwrap_or_else(|| {
        json!({
            "type": "object",
            "properties": {
                "resolved": {"type": "boolean", "description": "Did the caller get what they called for?"},
                "follow_up": {"type": ["string", "null"], "description": "What someone must do next, if anything."}
            },
            "required": ["resolved", "follow_up"],
            "additionalProperties": false
        })
    });
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "outcome": outcome
        },
        "required": ["summary", "outcome"],
        "additionalProperties": false
    })
}

/// `Caller: …` / `Agent: …` lines; the end is kept when it is too long.
pub fn transcript_text(lines: &[(String, String)]) -> String {
    let mut text = String::new();
    for (role, said) in lines {
        let who = match role.as_str() {
            "caller" => "Caller",
            "agent" => "Agent",
            "tool" => "Tool",
            _ => "System",
        };
        text.push_str(who);
        text.push_str(": ");
        text.push_str(said.trim());
        text.push('\n');
    }
    if text.len() > MAX_TRANSCRIPT_CHARS {
        let mut start = text.len() - MAX_TRANSCRIPT_CHARS;
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text = format!("[earlier part of the call omitted]\n{}", &text[start..]);
    }
    text
}

/// USD per million (input, output) tokens of the summary models we know; others are not
/// estimated rather than guessed.
pub fn cost_usd(model: &str, prompt_tokens: u32, completion_tokens: u32) -> Option<f64> {
    let (input, output) = match model {
        "gpt-4o-mini" => (0.15, 0.60),
        "gpt-4o" => (2.50, 10.00),
        "gpt-4.1-mini" => (0.40, 1.60),
        "gpt-4.1-nano" => (0.10, 0.40),
        "gpt-4.1" => (2.00, 8.00),
        _ => return None,
    };
    Some((f64::from(prompt_tokens) * input + f64::from(completion_tokens) * output) / 1_000_000.0)
}

fn retry(e: sqlx::Error) -> JobError {
    JobError::Retry {
        message: format!("database error: {e}"),
        after: None,
    }
}

fn summary_error(error: &OpenAIError) -> JobError {
    // Bad requests will not improve by retrying; everything else (throttling, outages) may.
    let permanent = matches!(error, OpenAIError::InvalidArgument(_))
        || matches!(error, OpenAIError::ApiError(api) if api.api_error.r#type.as_deref() == Some("invalid_request_error"));
    if permanent {
        JobError::Fail {
            message: format!("the summary request was rejected: {error}"),
        }
    } else {
        JobError::Retry {
            message: format!("summary failed: {error}"),
            after: None,
        }
    }
}

#[cfg(test)]
mod tests;
