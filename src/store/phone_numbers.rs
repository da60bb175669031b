//! Phone numbers an organization has claimed, for the dashboard's Numbers page.
//!
//! A number (E.164) belongs to at most one organization: the `phone_numbers.e164` unique key is
//! the claim. Every query is scoped by `org_id`, except [`claimed_elsewhere`], which must look
//! across organizations to hide and refuse numbers another one holds — it returns only the
//! numbers themselves, never who holds them.

use sqlx::{PgExecutor, PgPool};
use uuid::Uuid;

/// A number claimed by the organization, with its agent's name.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OrgNumber {
    /// The `phone_numbers` row.
    pub id: Uuid,
    /// E.164.
    pub e164: String,
    /// Twilio's `PN…`, when it came from the Twilio account.
    pub twilio_sid: Option<String>,
    /// The Twilio console label.
    pub friendly_name: String,
    /// The agent answering it.
    pub agent_id: Option<Uuid>,
    /// That agent's name.
    pub agent_name: Option<String>,
}

/// An agent a number can be given to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentOption {
    /// The agent's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// The organization's numbers, by number.
pub async fn list(pool: &PgPool, org_id: Uuid) -> Result<Vec<OrgNumber>, sqlx::Error> {
    sqlx::query_as(
        "select p.id, p.e164, p.twilio_sid, p.friendly_name, p.agent_id, a.name as agent_name \
         from phone_numbers p left join agents a on a.id = p.agent_id and a.org_id = p.org_id \
         where p.org_id = $1 order by p.e164",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await
}

/// Which of `e164s` another organization than `org_id` has claimed.
pub async fn claimed_elsewhere(
    pool: &PgPool,
    org_id: Uuid,
    e164s: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select e164 from phone_numbers where e164 = any($2) and org_id <> $1")
        .bind(org_id)
        .bind(e164s)
        .fetch_all(pool)
        .await
}

/// The organization's agents, by name.
pub async fn agent_options(pool: &PgPool, org_id: Uuid) -> Result<Vec<AgentOption>, sqlx::Error> {
    sqlx::query_as("select id, name from agents where org_id = $1 order by name")
        .bind(org_id)
        .fetch_all(pool)
        .await
}

/// Whether `agent_id` is an agent of `org_id`.
pub async fn agent_exists(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from agents where org_id = $1 and id = $2)")
        .bind(org_id)
        .bind(agent_id)
        .fetch_one(pool)
        .await
}

/// What the Twilio account says about a number being claimed.
#[derive(Debug, Clone, Copy)]
pub struct TwilioNumber<'a> {
    /// E.164.
    pub e164: &'a str,
    /// `PN…`.
    pub sid: &'a str,
    /// The console label.
    pub friendly_name: &'a str,
}

/// Claims `number` for `org_id` and assigns it to `agent_id` (an agent of `org_id`, checked by
/// the caller), or re-assigns it if the organization already holds it. Returns the row's id, or
/// `None` when another organization holds the number.
pub async fn claim(
    executor: impl PgExecutor<'_>,
    org_id: Uuid,
    number: TwilioNumber<'_>,
    agent_id: Uuid,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "insert into phone_numbers (org_id, e164, twilio_sid, friendly_name, agent_id) \
         values ($1, $2, $3, $4, $5) \
         on conflict (e164) do update \
           set twilio_sid = excluded.twilio_sid, friendly_name = excluded.friendly_name, \
               agent_id = excluded.agent_id, updated_at = now() \
           where phone_numbers.org_id = excluded.org_id \
         returning id",
    )
    .bind(org_id)
    .bind(number.e164)
    .bind(number.sid)
    .bind(number.friendly_name)
    .bind(agent_id)
    .fetch_optional(executor)
    .await
}

/// Releases a number: it stops answering and any organization may claim it. Returns the
/// released number's Twilio SID (`Some(None)` when it had none), or `None` when `org_id` has no
/// such number. Pass a transaction to undo the release if Twilio cannot be told.
pub async fn release(
    executor: impl PgExecutor<'_>,
    org_id: Uuid,
    number_id: Uuid,
) -> Result<Option<Option<String>>, sqlx::Error> {
    sqlx::query_scalar(
        "delete from phone_numbers where org_id = $1 and id = $2 returning twilio_sid",
    )
    .bind(org_id)
    .bind(number_id)
    .fetch_optional(executor)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_database, seed_org_with_agent};

    #[tokio::test]
    async fn a_number_belongs_to_one_organization_at_a_time() {
        let (_, pool) = fresh_database().await;
        let (acme, front) = seed_org_with_agent(&pool, "Acme").await;
        let (other, theirs) = seed_org_with_agent(&pool, "Other").await;
        let number = TwilioNumber {
            e164: "+14155550100",
            sid: "PN00000000000000000000000000000001",
            friendly_name: "Main line",
        };
        let id = claim(&pool, acme, number, front)
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(claim(&pool, other, number, theirs).await.unwrap(), None);
        assert_eq!(
            claimed_elsewhere(
                &pool,
                other,
                &["+14155550100".into(), "+14155550101".into()]
            )
            .await
            .unwrap(),
            ["+14155550100"]
        );
        assert!(
            claimed_elsewhere(&pool, acme, &["+14155550100".into()])
                .await
                .unwrap()
                .is_empty()
        );
        let listed = list(&pool, acme).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].agent_name.as_deref(), Some("Front desk"));
        assert!(list(&pool, other).await.unwrap().is_empty());

        assert_eq!(
            release(&pool, other, id).await.unwrap(),
            None,
            "not theirs to release"
        );
        assert_eq!(
            release(&pool, acme, id).await.unwrap(),
            Some(Some(number.sid.to_owned()))
        );
        assert!(claim(&pool, other, number, theirs).await.unwrap().is_some());
    }
}
