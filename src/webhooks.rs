//! Post-call events to the organization's webhook endpoint: when a call's summary job is done,
//! a `call.ended` delivery is recorded for each subscribed endpoint together with a durable
//! job sending it, so a restart loses none.
//!
//! A delivery is `POST`ed as JSON with `X-Switchboard-Event`, `X-Switchboard-Delivery` (the
//! delivery id, the same on every retry) and `X-Switchboard-Signature: sha256=<hex>` — an
//! HMAC-SHA256 of the exact body under the endpoint's secret. A non-2xx answer, a timeout
//! (10 s) or a network error is retried on [`RetrySchedule`]; the row records every attempt's
//! answer and ends `delivered` or `failed`. Delivery is at least once: a crash between the
//! endpoint's answer and its recording sends the event again under the same delivery id.
//! Secrets are never logged; endpoint URLs are.

pub mod event;

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::jobs::{JobError, JobFuture, JobHandler};
use crate::store::jobs::Job;
use crate::store::webhook_deliveries as store;
use event::{
    CALL_ENDED, DELIVERY_HEADER, EVENT_HEADER, RetrySchedule, SIGNATURE_HEADER, call_ended_body,
    refusal, signature,
};

/// The job kind: payload `{"delivery_id": …}`.
pub const DELIVERY_JOB: &str = "webhook.deliver";
/// How long an endpoint may take to answer.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts the delivery job may use. The delivery row counts the real ones and gives up after
/// the schedule's last; the spare job attempts absorb crashes and database errors.
const DELIVERY_JOB_ATTEMPTS: i32 = 10;
/// The most of an endpoint's refusal kept in `last_error`.
const MAX_ANSWER_BYTES: usize = 1024;

/// Records the `call.ended` event of `call_id` for each of `org_id`'s subscribed endpoints and
/// queues its delivery; an endpoint that already has it gets nothing new. Returns the new
/// deliveries' ids. Idle workers find the jobs on their next poll.
pub async fn enqueue_call_ended(
    pool: &PgPool,
    org_id: Uuid,
    call_id: Uuid,
) -> Result<Vec<i64>, sqlx::Error> {
    let Some(call) = store::ended_call(pool, org_id, call_id).await? else {
        return Ok(Vec::new()); // deleted meanwhile
    };
    let body = call_ended_body(&call);
    let ids = store::insert_for_call(
        pool,
        org_id,
        CALL_ENDED,
        call_id,
        &body,
        DELIVERY_JOB,
        DELIVERY_JOB_ATTEMPTS,
    )
    .await?;
    if !ids.is_empty() {
        tracing::info!(%call_id, deliveries = ?ids, "call.ended queued for the webhook");
    }
    Ok(ids)
}

/// Runs [`DELIVERY_JOB`].
pub struct DeliveryHandler {
    pool: PgPool,
    http: reqwest::Client,
    schedule: RetrySchedule,
}

impl DeliveryHandler {
    /// A handler posting with `http` on the default schedule.
    pub fn new(pool: PgPool, http: reqwest::Client) -> Self {
        Self {
            pool,
            http,
            schedule: RetrySchedule::default(),
        }
    }

    /// The same, retrying on `schedule` (tests use milliseconds). It must not allow more
    /// attempts than the job has.
    pub fn with_schedule(mut self, schedule: RetrySchedule) -> Self {
        debug_assert!(schedule.max_attempts() < DELIVERY_JOB_ATTEMPTS as usize);
        self.schedule = schedule;
        self
    }

    async fn deliver(&self, job: &Job) -> Result<(), JobError> {
        let (Some(org_id), Some(delivery_id)) = (job.org_id, job.payload["delivery_id"].as_i64())
        else {
            return Err(JobError::Fail {
                message: format!("malformed delivery job payload: {}", job.payload),
            });
        };
        let retry = |e: sqlx::Error| JobError::Retry {
            message: format!("database error: {e}"),
            after: None,
        };
        let Some(delivery) = store::find(&self.pool, org_id, delivery_id)
            .await
            .map_err(retry)?
        else {
            return Ok(()); // the endpoint was removed
        };
        if delivery.status != "pending" {
            return Ok(()); // a rerun after the outcome was recorded
        }
        let attempt = usize::try_from(delivery.attempts).unwrap_or(0) + 1;
        let url = delivery.url.as_str();
        let (response_status, error) = match self.post(&delivery).await {
            Ok(status) if (200..300).contains(&status) => {
                store::record_delivered(&self.pool, org_id, delivery_id, status)
                    .await
                    .map_err(retry)?;
                tracing::info!(delivery = delivery_id, %url, attempt, status, "webhook delivered");
                return Ok(());
            }
            // A final 1xx or 3xx (a redirect the client would not follow) is no acceptance.
            Ok(status) => (Some(status), refusal(status, "")),
            Err(Failure::Refused { status, body }) => (Some(status), refusal(status, &body)),
            Err(Failure::Unreachable(reason)) => (None, reason),
        };
        let wait = self.schedule.wait_after(attempt);
        store::record_failure(
            &self.pool,
            org_id,
            delivery_id,
            response_status,
            &error,
            wait,
        )
        .await
        .map_err(retry)?;
        match wait {
            Some(after) => {
                tracing::warn!(delivery = delivery_id, %url, attempt, %error, ?after, "webhook delivery failed; will retry");
                Err(JobError::Retry {
                    message: error,
                    after: Some(after),
                })
            }
            None => {
                tracing::warn!(delivery = delivery_id, %url, attempt, %error, "webhook delivery failed for good");
                Err(JobError::Fail {
                    message: format!("gave up after {attempt} attempts: {error}"),
                })
            }
        }
    }

    /// Sends one attempt; the endpoint's status unless it was an error (4xx, 5xx).
    async fn post(&self, delivery: &store::Delivery) -> Result<u16, Failure> {
        // The exact bytes signed are the bytes sent.
        let body = delivery.payload.to_string();
        let response = self
            .http
            .post(&delivery.url)
            .timeout(DELIVERY_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, &delivery.event)
            .header(DELIVERY_HEADER, delivery.id.to_string())
            .header(SIGNATURE_HEADER, signature(&delivery.secret, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| Failure::Unreachable(unreachable_reason(&e)))?;
        let status = response.status();
        if status.is_client_error() || status.is_server_error() {
            return Err(Failure::Refused {
                status: status.as_u16(),
                body: read_start(response).await,
            });
        }
        Ok(status.as_u16())
    }
}

impl JobHandler for DeliveryHandler {
    fn kind(&self) -> &'static str {
        DELIVERY_JOB
    }

    fn run<'a>(&'a self, job: &'a Job) -> JobFuture<'a> {
        Box::pin(self.deliver(job))
    }
}

/// Why an attempt failed.
enum Failure {
    /// The endpoint answered 4xx or 5xx.
    Refused { status: u16, body: String },
    /// No answer: connection refused, DNS, TLS, timeout.
    Unreachable(String),
}

fn unreachable_reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("no answer within {} s", DELIVERY_TIMEOUT.as_secs())
    } else if error.is_connect() {
        format!("cannot connect: {error}")
    } else {
        error.to_string()
    }
}

/// The start of an answer, without reading an endless one.
async fn read_start(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < MAX_ANSWER_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(MAX_ANSWER_BYTES);
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests;
