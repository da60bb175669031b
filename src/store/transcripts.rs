//! Call transcript lines: one row per finished line, numbered per call.

use sqlx::PgPool;
use uuid::Uuid;

/// A stored transcript line.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LineRow {
    /// Position in the call, from 0.
    pub seq: i32,
    /// `caller`, `agent`, `tool` or `system`.
    pub role: String,
    /// What was said.
    pub text: String,
    /// Start, in ms since the call started.
    pub start_ms: i32,
    /// End, in ms since the call started.
    pub end_ms: i32,
    /// The caller cut this line short.
    pub interrupted: bool,
}

/// Stores line `seq` of call `call_id` in `org_id`.
///
/// The call must belong to `org_id`; otherwise nothing is stored and `RowNotFound` is returned.
#[allow(clippy::too_many_arguments)]
pub async fn insert_line(
    pool: &PgPool,
    org_id: Uuid,
    call_id: Uuid,
    seq: i32,
    role: &str,
    text: &str,
    start_ms: i32,
    end_ms: i32,
    interrupted: bool,
) -> Result<(), sqlx::Error> {
    let inserted = sqlx::query(
        "insert into call_transcript_lines \
             (org_id, call_id, seq, role, text, start_ms, end_ms, interrupted) \
         select $1, c.id, $3, $4, $5, $6, $7, $8 from calls c where c.id = $2 and c.org_id = $1",
    )
    .bind(org_id)
    .bind(call_id)
    .bind(seq)
    .bind(role)
    .bind(text)
    .bind(start_ms)
    .bind(end_ms)
    .bind(interrupted)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(sqlx::Error::RowNotFound);
    }
    Ok(())
}

/// The transcript of call `call_id` in `org_id`, in order (empty for another org's call).
pub async fn list_lines(
    pool: &PgPool,
    org_id: Uuid,
    call_id: Uuid,
) -> Result<Vec<LineRow>, sqlx::Error> {
    sqlx::query_as(
        "select seq, role, text, start_ms, end_ms, interrupted from call_transcript_lines \
         where org_id = $1 and call_id = $2 order by seq",
    )
    .bind(org_id)
    .bind(call_id)
    .fetch_all(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::calls::insert_inbound_call;
    use crate::testing::{fresh_database, seed_org, seed_org_with_agent};

    #[tokio::test]
    async fn transcript_lines_are_stored_in_order_and_org_scoped() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        let other = seed_org(&pool, "Other").await;
        let call = insert_inbound_call(&pool, org, agent, "CA1", "+14155550100", "+14155550199")
            .await
            .unwrap();

        insert_line(&pool, org, call, 1, "caller", "Hi", 900, 1200, false)
            .await
            .unwrap();
        insert_line(&pool, org, call, 0, "agent", "Hello", 0, 800, true)
            .await
            .unwrap();
        let refused = insert_line(&pool, other, call, 2, "agent", "x", 0, 1, false).await;

        assert!(matches!(refused, Err(sqlx::Error::RowNotFound)));
        let lines = list_lines(&pool, org, call).await.unwrap();
        let texts: Vec<_> = lines.iter().map(|l| (l.seq, l.text.as_str())).collect();
        assert_eq!(texts, [(0, "Hello"), (1, "Hi")]);
        assert!(lines[0].interrupted);
        assert!(list_lines(&pool, other, call).await.unwrap().is_empty());
    }
}
