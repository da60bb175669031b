//! Agents and the phone numbers that route calls to them.
//!
//! A phone number is global (unique by E.164); the organization answering a call is the one that
//! owns the number's row, never anything the caller sent.

use sqlx::PgPool;
use uuid::Uuid;

/// The agent that answers calls to one phone number, with the settings the webhook needs.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AnsweringAgent {
    /// The organization owning the number (and the agent).
    pub org_id: Uuid,
    /// The agent assigned to the number.
    pub agent_id: Uuid,
    /// The `phone_numbers` row.
    pub number_id: Uuid,
    /// The agent's display name.
    pub name: String,
    /// `active` or `paused`.
    pub status: String,
    /// What the agent says first (may be empty).
    pub greeting: String,
    /// Whether callers are told they are talking to an AI.
    pub ai_disclosure: bool,
    /// Whether calls are recorded.
    pub record_calls: bool,
}

impl AnsweringAgent {
    /// True when the agent takes calls (status `active`).
    pub fn is_active(&self) -> bool {
        self.status == "active"
    }
}

/// The agent assigned to the number `e164`, if the number exists and has an agent.
pub async fn find_by_called_number(
    pool: &PgPool,
    e164: &str,
) -> Result<Option<AnsweringAgent>, sqlx::Error> {
    sqlx::query_as(
        "select p.org_id, a.id as agent_id, p.id as number_id, a.name, a.status, a.greeting, \
                a.ai_disclosure, a.record_calls \
         from phone_numbers p join agents a on a.id = p.agent_id and a.org_id = p.org_id \
         where p.e164 = $1",
    )
    .bind(e164)
    .fetch_optional(pool)
    .await
}

/// What a call needs from its agent to configure the voice session.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AgentVoiceSettings {
    /// The system prompt.
    pub system_prompt: String,
    /// Added to the system prompt on inbound calls.
    pub inbound_prompt: String,
    /// Added to the system prompt on outbound calls.
    pub outbound_prompt: String,
    /// What the agent says first (may be empty).
    pub greeting: String,
    /// `agent` or `caller`.
    pub first_speaker: String,
    /// The engine voice.
    pub voice: String,
    /// The knowledge passages every call starts with (precomputed; may be empty).
    pub knowledge_context: String,
    /// The agent's override of `RAG_CHUNK_LIMIT`.
    pub rag_chunk_limit: Option<i32>,
    /// The agent's override of `RAG_SIMILARITY_THRESHOLD`.
    pub rag_similarity_threshold: Option<f32>,
    /// Where `transfer_call` puts the caller through (E.164); no transfer tool without it.
    pub transfer_number: Option<String>,
    /// The agent's typed business tools (see `business_tools`).
    pub tools: serde_json::Value,
    /// `pcmu` (μ-law passthrough) or `pcm16` (24 kHz through the resampler).
    pub audio_format: String,
    /// `server_vad` or `semantic_vad`.
    pub vad_mode: String,
    /// The caller's language (ISO 639-1), for transcription.
    pub language: String,
    /// Longest call.
    pub max_duration_secs: i32,
    /// Mutual silence before a re-prompt.
    pub silence_reprompt_secs: i32,
    /// Re-prompts before hanging up on silence.
    pub silence_max_reprompts: i32,
    /// Whether the built-in `end_call` tool is offered (`engine_settings.builtin_tools`).
    pub end_call: bool,
    /// Whether the built-in `query_knowledge_base` tool is offered.
    pub knowledge_search: bool,
}

/// The voice settings of agent `agent_id` in `org_id`, if it exists there.
pub async fn find_voice_settings(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
) -> Result<Option<AgentVoiceSettings>, sqlx::Error> {
    sqlx::query_as(
        "select system_prompt, inbound_prompt, outbound_prompt, greeting, first_speaker, voice, knowledge_context, \
                rag_chunk_limit, rag_similarity_threshold, transfer_number, tools, audio_format, \
                vad_mode, language, max_duration_secs, silence_reprompt_secs, silence_max_reprompts, \
                coalesce((engine_settings #>> '{builtin_tools,end_call}')::boolean, true) as end_call, \
                coalesce((engine_settings #>> '{builtin_tools,query_knowledge_base}')::boolean, true) \
                  as knowledge_search \
         from agents where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(agent_id)
    .fetch_optional(pool)
    .await
}

/// An agent that can place an outbound call: active, with a number to call from.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboundAgent {
    /// `active` or `paused`.
    pub status: String,
    /// The first number assigned to the agent (E.164), if any.
    pub from_number: Option<String>,
}

/// What placing a call from agent `agent_id` of `org_id` needs, if the agent exists there.
pub async fn find_outbound_agent(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
) -> Result<Option<OutboundAgent>, sqlx::Error> {
    sqlx::query_as(
        "select a.status, \
                (select p.e164 from phone_numbers p \
                  where p.agent_id = a.id and p.org_id = a.org_id order by p.created_at limit 1) \
                  as from_number \
           from agents a where a.org_id = $1 and a.id = $2",
    )
    .bind(org_id)
    .bind(agent_id)
    .fetch_optional(pool)
    .await
}

/// Creates an agent named `name` in `org_id` with default settings; returns its id.
pub async fn insert_agent(pool: &PgPool, org_id: Uuid, name: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar("insert into agents (org_id, name) values ($1, $2) returning id")
        .bind(org_id)
        .bind(name)
        .fetch_one(pool)
        .await
}

/// Sets an agent's status (`active` or `paused`); false when no such agent in `org_id`.
pub async fn set_agent_status(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
    status: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update agents set status = $3, updated_at = now() where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(agent_id)
    .bind(status)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Adds the number `e164` to `org_id`, optionally assigned to `agent_id`; returns its id.
///
/// The agent must belong to `org_id`; otherwise nothing is inserted and `RowNotFound` is returned.
pub async fn insert_phone_number(
    pool: &PgPool,
    org_id: Uuid,
    e164: &str,
    agent_id: Option<Uuid>,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "insert into phone_numbers (org_id, e164, agent_id) \
         select $1, $2, $3 \
         where $3::uuid is null or exists (select 1 from agents where id = $3 and org_id = $1) \
         returning id",
    )
    .bind(org_id)
    .bind(e164)
    .bind(agent_id)
    .fetch_one(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_database, seed_org, seed_org_with_agent};

    #[tokio::test]
    async fn finds_the_agent_by_called_number_with_its_org() {
        let (_url, pool) = fresh_database().await;
        let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
        let number = insert_phone_number(&pool, org, "+14155550199", Some(agent))
            .await
            .unwrap();
        let found = find_by_called_number(&pool, "+14155550199")
            .await
            .unwrap()
            .expect("assigned number");
        assert_eq!(found.org_id, org);
        assert_eq!(found.agent_id, agent);
        assert_eq!(found.number_id, number);
        assert!(found.is_active());
        assert!(found.ai_disclosure);
        assert!(
            find_by_called_number(&pool, "+14155550100")
                .await
                .unwrap()
                .is_none()
        );

        assert!(set_agent_status(&pool, org, agent, "paused").await.unwrap());
        let paused = find_by_called_number(&pool, "+14155550199")
            .await
            .unwrap()
            .unwrap();
        assert!(!paused.is_active());
    }

    #[tokio::test]
    async fn unassigned_numbers_and_foreign_agents_answer_nothing() {
        let (_url, pool) = fresh_database().await;
        let org = seed_org(&pool, "Acme").await;
        let other = seed_org(&pool, "Other").await;
        let foreign = insert_agent(&pool, other, "Theirs").await.unwrap();
        insert_phone_number(&pool, org, "+14155550111", None)
            .await
            .unwrap();
        assert!(
            find_by_called_number(&pool, "+14155550111")
                .await
                .unwrap()
                .is_none()
        );
        let err = insert_phone_number(&pool, org, "+14155550122", Some(foreign)).await;
        assert!(matches!(err, Err(sqlx::Error::RowNotFound)));
        assert!(
            !set_agent_status(&pool, org, foreign, "paused")
                .await
                .unwrap()
        );
    }
}
