//! Deliveries of post-call events to organizations' webhook endpoints: one row per event and
//! endpoint, with its attempts, the endpoint's last answer and when to try again. The rows are
//! written with the durable jobs that send them, so a restart loses none.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

use crate::webhooks::event::EndedCall;

/// A delivery still to be sent, with its endpoint.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Delivery {
    /// The row id, sent as `X-Switchboard-Delivery`.
    pub id: i64,
    /// The event name.
    pub event: String,
    /// The body, as stored.
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i32,
    /// The endpoint.
    pub url: String,
    /// The endpoint's signing key.
    pub secret: String,
}

/// Call `call_id` of `org_id` as the `call.ended` event reports it.
pub async fn ended_call(
    pool: &PgPool,
    org_id: Uuid,
    call_id: Uuid,
) -> Result<Option<EndedCall>, sqlx::Error> {
    sqlx::query_as(
        "select id, agent_id, direction, status, from_number, to_number, started_at, ended_at, \
                duration_secs, summary, outcome, cost_usd::float8 as cost_usd \
           from calls where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(call_id)
    .fetch_optional(pool)
    .await
}

/// Adds a delivery of `payload` (event `event` about call `call_id`) to each active endpoint
/// of `org_id` subscribed to `event`, and a `job_kind` job sending each one. An endpoint that
/// already has this call's event gets nothing new, so running this again (a summary job
/// retried after a crash) sends no duplicate. Returns the new deliveries' ids.
pub async fn insert_for_call(
    executor: impl PgExecutor<'_>,
    org_id: Uuid,
    event: &str,
    call_id: Uuid,
    payload: &serde_json::Value,
    job_kind: &str,
    job_max_attempts: i32,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "with added as ( \
             insert into webhook_deliveries (org_id, webhook_id, event, payload) \
             select w.org_id, w.id, $2, $4 from webhooks w \
              where w.org_id = $1 and w.active and $2 = any(w.events) \
                and not exists (select 1 from webhook_deliveries d \
                                 where d.webhook_id = w.id and d.event = $2 \
                                   and d.payload->'call'->>'id' = $3::text) \
             returning id, org_id), \
         queued as ( \
             insert into jobs (org_id, kind, payload, max_attempts) \
             select org_id, $5, jsonb_build_object('delivery_id', id), $6 from added) \
         select id from added order by id",
    )
    .bind(org_id)
    .bind(event)
    .bind(call_id)
    .bind(payload)
    .bind(job_kind)
    .bind(job_max_attempts)
    .fetch_all(executor)
    .await
}

/// Delivery `delivery_id` of `org_id` with its endpoint; `None` when it or its endpoint was
/// deleted.
pub async fn find(
    pool: &PgPool,
    org_id: Uuid,
    delivery_id: i64,
) -> Result<Option<Delivery>, sqlx::Error> {
    sqlx::query_as(
        "select d.id, d.event, d.payload, d.status, d.attempts, w.url, w.secret \
           from webhook_deliveries d join webhooks w on w.id = d.webhook_id and w.org_id = d.org_id \
          where d.org_id = $1 and d.id = $2",
    )
    .bind(org_id)
    .bind(delivery_id)
    .fetch_optional(pool)
    .await
}

/// Records an attempt the endpoint accepted with `response_status`.
pub async fn record_delivered(
    pool: &PgPool,
    org_id: Uuid,
    delivery_id: i64,
    response_status: u16,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update webhook_deliveries \
            set status = 'delivered', attempts = attempts + 1, response_status = $3, \
                last_error = null, delivered_at = now() \
          where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(delivery_id)
    .bind(i32::from(response_status))
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt (`response_status` when the endpoint answered): the delivery stays
/// `pending` until `retry_in` from now, or is `failed` for good with `None`.
pub async fn record_failure(
    pool: &PgPool,
    org_id: Uuid,
    delivery_id: i64,
    response_status: Option<u16>,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update webhook_deliveries \
            set status = case when $5::float8 is null then 'failed' else 'pending' end, \
                attempts = attempts + 1, response_status = $3, last_error = $4, \
                next_attempt_at = now() + make_interval(secs => coalesce($5::float8, 0)) \
          where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(delivery_id)
    .bind(response_status.map(i32::from))
    .bind(error)
    .bind(retry_in.map(|d| d.as_secs_f64()))
    .execute(pool)
    .await?;
    Ok(())
}
