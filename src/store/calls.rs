//! Calls: one row per Twilio CallSid.

use sqlx::PgPool;
use uuid::Uuid;

/// A call row, as the webhook and the call view need it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallRow {
    /// The call's id.
    pub id: Uuid,
    /// The owning organization.
    pub org_id: Uuid,
    /// The agent that handled it, if it still exists.
    pub agent_id: Option<Uuid>,
    /// Twilio's CallSid.
    pub call_sid: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Twilio's call status (`ringing`, `in-progress`, `completed`, …).
    pub status: String,
    /// The caller's number.
    pub from_number: String,
    /// The called number.
    pub to_number: String,
}

/// Records an inbound call as `ringing`; returns its id.
///
/// Idempotent on `call_sid`: Twilio retries webhooks, and a retry returns the existing row's id
/// without changing it.
pub async fn insert_inbound_call(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
    call_sid: &str,
    from: &str,
    to: &str,
) -> Result<Uuid, sqlx::Error> {
    let inserted: Option<Uuid> = sqlx::query_scalar(
        "insert into calls (org_id, agent_id, call_sid, direction, status, from_number, to_number) \
         values ($1, $2, $3, 'inbound', 'ringing', $4, $5) \
         on conflict (call_sid) do nothing returning id",
    )
    .bind(org_id)
    .bind(agent_id)
    .bind(call_sid)
    .bind(from)
    .bind(to)
    .fetch_optional(pool)
    .await?;
    match inserted {
        Some(id) => Ok(id),
        None => {
            // Scoped to the org: a CallSid belonging to another org is not ours to return.
            sqlx::query_scalar("select id from calls where call_sid = $1 and org_id = $2")
                .bind(call_sid)
                .bind(org_id)
                .fetch_one(pool)
                .await
        }
    }
}

/// The call `id` of `org_id`, if any.
pub async fn find_call(
    pool: &PgPool,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<CallRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, org_id, agent_id, call_sid, direction, status, from_number, to_number \
         from calls where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// Records an outbound call before Twilio is asked to place it (`queued`, with a placeholder
/// CallSid until Twilio answers with the real one); returns its id.
pub async fn insert_outbound_call(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
    from: &str,
    to: &str,
    context: Option<&serde_json::Value>,
) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    sqlx::query(
        "insert into calls (id, org_id, agent_id, call_sid, direction, status, from_number, \
                            to_number, context) \
         values ($1, $2, $3, 'pending-' || $1::text, 'outbound', 'queued', $4, $5, $6)",
    )
    .bind(id)
    .bind(org_id)
    .bind(agent_id)
    .bind(from)
    .bind(to)
    .bind(context)
    .execute(pool)
    .await?;
    Ok(id)
}

/// Gives an outbound call Twilio's CallSid (once; a second, different sid is refused).
/// Returns false when the call is not in this organization or already has another sid.
pub async fn attach_call_sid(
    pool: &PgPool,
    org_id: Uuid,
    id: Uuid,
    call_sid: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update calls set call_sid = $3, updated_at = now() \
          where org_id = $1 and id = $2 and (call_sid = $3 or call_sid like 'pending-%')",
    )
    .bind(org_id)
    .bind(id)
    .bind(call_sid)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks an outbound call that Twilio refused to place as `failed`.
pub async fn mark_failed(
    pool: &PgPool,
    org_id: Uuid,
    id: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update calls set status = 'failed', ended_at = now(), ended_reason = $3, updated_at = now() \
          where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

/// The call with id `id` in any organization: only for Twilio's signed webhooks, whose URL we
/// built with the id in it.
pub async fn find_call_for_webhook(
    pool: &PgPool,
    id: Uuid,
) -> Result<Option<CallRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, org_id, agent_id, call_sid, direction, status, from_number, to_number \
         from calls where id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The context the API caller gave an outbound call.
pub async fn find_context(
    pool: &PgPool,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    sqlx::query_scalar("select context from calls where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map(Option::flatten)
}

/// What came of [`claim_stream`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamClaim {
    /// The call is now `in-progress` with its stream begun; here is its row.
    Claimed(CallRow),
    /// The call's stream was opened before, or the call has ended.
    Taken,
    /// No call has this CallSid.
    Unknown,
}

/// Claims the call with Twilio's `call_sid`, in any organization, for its one media stream:
/// marks it `in-progress` (answered now) and records when the stream began.
///
/// A call has one stream. Claiming it in the same statement that reads the row means a replayed
/// stream URL (its token stays valid for a minute) finds the call taken instead of starting a
/// second bridge on it, and an ended call is never reopened. Only for callers that authenticated
/// the CallSid themselves (a verified stream token); the row's `org_id` then scopes everything else.
pub async fn claim_stream(pool: &PgPool, call_sid: &str) -> Result<StreamClaim, sqlx::Error> {
    let claimed: Option<CallRow> = sqlx::query_as(
        "update calls set status = 'in-progress', answered_at = coalesce(answered_at, now()), \
             stream_started_at = now() \
         where call_sid = $1 and stream_started_at is null and ended_at is null \
         returning id, org_id, agent_id, call_sid, direction, status, from_number, to_number",
    )
    .bind(call_sid)
    .fetch_optional(pool)
    .await?;
    if let Some(call) = claimed {
        return Ok(StreamClaim::Claimed(call));
    }
    let exists: bool =
        sqlx::query_scalar("select exists (select 1 from calls where call_sid = $1)")
            .bind(call_sid)
            .fetch_one(pool)
            .await?;
    Ok(if exists {
        StreamClaim::Taken
    } else {
        StreamClaim::Unknown
    })
}

/// Marks call `id` of `org_id` as `completed` now, with `ended_reason` and its duration.
pub async fn finish_call(
    pool: &PgPool,
    org_id: Uuid,
    id: Uuid,
    ended_reason: &str,
    duration_secs: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update calls set status = 'completed', ended_at = now(), ended_reason = $3, \
         duration_secs = $4 where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(id)
    .bind(ended_reason)
    .bind(duration_secs.max(0))
    .execute(pool)
    .await?;
    Ok(())
}

/// Twilio's call statuses (the `calls.status` check constraint).
const STATUSES: [&str; 8] = [
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
];

/// Whether `status` is one of Twilio's call statuses.
pub fn is_known_status(status: &str) -> bool {
    STATUSES.contains(&status)
}

/// Whether a call in `status` is over.
pub fn is_final_status(status: &str) -> bool {
    matches!(
        status,
        "completed" | "busy" | "failed" | "no-answer" | "canceled"
    )
}

/// Stores the recording Twilio made of the call with `call_sid` (a signed callback, so found by
/// its globally unique sid). False when the call is not ours.
pub async fn set_recording_url(
    pool: &PgPool,
    call_sid: &str,
    url: &str,
) -> Result<bool, sqlx::Error> {
    let updated =
        sqlx::query("update calls set recording_url = $2, updated_at = now() where call_sid = $1")
            .bind(call_sid)
            .bind(url)
            .execute(pool)
            .await?;
    Ok(updated.rows_affected() == 1)
}

/// Applies a status callback to the call with `call_sid`: its status (a final status is never
/// replaced by an earlier one arriving late), answer and end times, and Twilio's duration.
/// Returns the call, or `None` when it is not ours.
pub async fn apply_status(
    pool: &PgPool,
    call_sid: &str,
    status: &str,
    duration_secs: Option<i32>,
) -> Result<Option<CallRow>, sqlx::Error> {
    sqlx::query_as(
        "update calls set \
            status = case when status in ('completed', 'busy', 'failed', 'no-answer', 'canceled') \
                          then status else $2 end, \
            answered_at = case when $2 = 'in-progress' then coalesce(answered_at, now()) \
                               else answered_at end, \
            ended_at = case when $2 in ('completed', 'busy', 'failed', 'no-answer', 'canceled') \
                            then coalesce(ended_at, now()) else ended_at end, \
            duration_secs = coalesce($3, duration_secs), \
            updated_at = now() \
          where call_sid = $1 \
        returning id, org_id, agent_id, call_sid, direction, status, from_number, to_number",
    )
    .bind(call_sid)
    .bind(status)
    .bind(duration_secs.map(|d| d.max(0)))
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_database, seed_org, seed_org_with_agent};

    #[tokio::test]
    async fn inbound_calls_are_ringing_idempotent_and_org_scoped() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        let other = seed_org(&pool, "Other").await;
        let sid = "CA00000000000000000000000000000001";
        let id = insert_inbound_call(&pool, org, agent, sid, "+14155550100", "+14155550199")
            .await
            .unwrap();
        let again = insert_inbound_call(&pool, org, agent, sid, "+14155550100", "+14155550199")
            .await
            .unwrap();
        assert_eq!(id, again);
        let row = find_call(&pool, org, id).await.unwrap().expect("row");
        assert_eq!(row.status, "ringing");
        assert_eq!(row.direction, "inbound");
        assert_eq!(row.agent_id, Some(agent));
        assert_eq!(row.call_sid, sid);
        assert!(find_call(&pool, other, id).await.unwrap().is_none());
        let count: i64 = sqlx::query_scalar("select count(*) from calls")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(count, 1);
    }

    #[tokio::test]
    async fn status_callbacks_move_a_call_forward_but_never_back() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        let id = insert_inbound_call(&pool, org, agent, "CA5", "+14155550100", "+14155550199")
            .await
            .unwrap();
        let row = apply_status(&pool, "CA5", "in-progress", None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((row.id, row.status.as_str()), (id, "in-progress"));
        apply_status(&pool, "CA5", "completed", Some(42))
            .await
            .unwrap();
        // A late "ringing" does not reopen it.
        let row = apply_status(&pool, "CA5", "ringing", None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.status, "completed");
        let (answered, ended, secs): (bool, bool, Option<i32>) = sqlx::query_as(
            "select answered_at is not null, ended_at is not null, duration_secs from calls where id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!((answered, ended, secs), (true, true, Some(42)));
        assert_eq!(
            apply_status(&pool, "CA-unknown", "completed", None)
                .await
                .unwrap(),
            None
        );
        assert!(is_known_status("no-answer") && !is_known_status("done"));
        assert!(is_final_status("busy") && !is_final_status("in-progress"));
    }

    #[tokio::test]
    async fn a_call_is_claimed_for_one_stream_then_completed_only_in_its_org() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        let other = seed_org(&pool, "Other").await;
        let id = insert_inbound_call(&pool, org, agent, "CA9", "+14155550100", "+14155550199")
            .await
            .unwrap();

        let StreamClaim::Claimed(found) = claim_stream(&pool, "CA9").await.unwrap() else {
            panic!("the first stream claims the call");
        };
        assert_eq!((found.id, found.org_id), (id, org));
        assert_eq!(found.status, "in-progress");
        assert_eq!(
            claim_stream(&pool, "CA9").await.unwrap(),
            StreamClaim::Taken
        );
        assert_eq!(
            claim_stream(&pool, "CA0").await.unwrap(),
            StreamClaim::Unknown
        );
        assert_eq!(
            find_call(&pool, org, id).await.unwrap().unwrap().status,
            "in-progress"
        );
        finish_call(&pool, other, id, "caller_hang_up", 12)
            .await
            .unwrap();
        assert_eq!(
            find_call(&pool, org, id).await.unwrap().unwrap().status,
            "in-progress"
        );
        finish_call(&pool, org, id, "caller_hang_up", 12)
            .await
            .unwrap();
        let (status, reason, secs): (String, Option<String>, Option<i32>) =
            sqlx::query_as("select status, ended_reason, duration_secs from calls where id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(
            (status.as_str(), reason.as_deref(), secs),
            ("completed", Some("caller_hang_up"), Some(12))
        );
    }

    #[tokio::test]
    async fn an_ended_call_cannot_be_claimed_for_a_stream() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        let id = insert_inbound_call(&pool, org, agent, "CA8", "+14155550100", "+14155550199")
            .await
            .unwrap();
        finish_call(&pool, org, id, "caller_hang_up", 0)
            .await
            .unwrap();
        assert_eq!(
            claim_stream(&pool, "CA8").await.unwrap(),
            StreamClaim::Taken
        );
        assert_eq!(
            find_call(&pool, org, id).await.unwrap().unwrap().status,
            "completed"
        );
    }
}
