//! `call_tool_invocations`: every tool the model called during a call, with its arguments,
//! result and — for knowledge searches — the chunks it quoted (the audit trail of where an
//! answer came from).

use sqlx::PgPool;
use uuid::Uuid;

/// How an invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationStatus {
    /// The tool ran and answered.
    Ok,
    /// The tool refused (bad arguments) or failed; the model was told why.
    Error,
}

/// Records that the model called `name` with `arguments` (the model's JSON text; kept as
/// `{"unparsed": "…"}` when it is not valid JSON); returns the row id. A repeated engine call
/// id (a replay after a reconnect) returns the existing row.
pub async fn start_invocation(
    pool: &PgPool,
    org_id: Uuid,
    call_id: Uuid,
    tool_call_id: &str,
    name: &str,
    arguments: &str,
) -> Result<i64, sqlx::Error> {
    let arguments = serde_json::from_str::<serde_json::Value>(arguments)
        .unwrap_or_else(|_| serde_json::json!({ "unparsed": arguments }));
    sqlx::query_scalar(
        "insert into call_tool_invocations (org_id, call_id, tool_call_id, name, arguments) \
         values ($1, $2, $3, $4, $5) \
         on conflict (call_id, tool_call_id) do update set name = excluded.name \
         returning id",
    )
    .bind(org_id)
    .bind(call_id)
    .bind(tool_call_id)
    .bind(name)
    .bind(arguments)
    .fetch_one(pool)
    .await
}

/// Records how invocation `id` ended: what the model was told, and the chunks it quoted.
pub async fn finish_invocation(
    pool: &PgPool,
    org_id: Uuid,
    id: i64,
    status: InvocationStatus,
    output: &str,
    chunk_ids: &[i64],
) -> Result<(), sqlx::Error> {
    let (status, error) = match status {
        InvocationStatus::Ok => ("ok", None),
        InvocationStatus::Error => ("error", Some(output)),
    };
    sqlx::query(
        "update call_tool_invocations \
            set status = $3, result = $4, error = $5, chunk_ids = $6, finished_at = now() \
          where id = $1 and org_id = $2",
    )
    .bind(id)
    .bind(org_id)
    .bind(status)
    .bind(serde_json::json!({ "output": output }))
    .bind(error)
    .bind(chunk_ids)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::calls;
    use crate::testing::{fresh_database, seed_org_with_agent};

    #[tokio::test]
    async fn an_invocation_is_recorded_with_its_result_and_quoted_chunks() {
        let (_, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Tools").await;
        let call =
            calls::insert_inbound_call(&pool, org, agent, "CA1", "+15550001111", "+15550002222")
                .await
                .unwrap();
        let id = start_invocation(
            &pool,
            org,
            call,
            "fc_1",
            "query_knowledge_base",
            r#"{"query":"hours"}"#,
        )
        .await
        .unwrap();
        let again = start_invocation(&pool, org, call, "fc_1", "query_knowledge_base", "{}")
            .await
            .unwrap();
        assert_eq!(id, again, "a replayed call id is the same invocation");
        finish_invocation(
            &pool,
            org,
            id,
            InvocationStatus::Ok,
            "Nine to five.",
            &[7, 3],
        )
        .await
        .unwrap();
        let bad = start_invocation(&pool, org, call, "fc_2", "book_table", "{not json")
            .await
            .unwrap();
        finish_invocation(
            &pool,
            org,
            bad,
            InvocationStatus::Error,
            "Invalid arguments",
            &[],
        )
        .await
        .unwrap();

        type Row = (String, serde_json::Value, String, Option<String>, Vec<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "select name, arguments, status, error, chunk_ids from call_tool_invocations \
              where call_id = $1 order by id",
        )
        .bind(call)
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(rows[0].1, serde_json::json!({"query": "hours"}));
        assert_eq!(
            (rows[0].2.as_str(), rows[0].4.as_slice()),
            ("ok", &[7, 3][..])
        );
        assert_eq!(rows[1].1, serde_json::json!({"unparsed": "{not json"}));
        assert_eq!(
            (rows[1].2.as_str(), rows[1].3.as_deref()),
            ("error", Some("Invalid arguments"))
        );
    }
}
