//! An agent's full settings, as the dashboard edits them: list, read, create, update, delete,
//! every query scoped to the caller's organization.
//!
//! [`AgentSettings::validate`] holds the rules (the table's check constraints, the voices the
//! engine offers, tool declarations the call path can run) so that a save the database would
//! refuse is refused first with a sentence for the field at fault. Saving writes a prompt
//! version ([`super::prompt_versions`]) in the same transaction when a prompt text changed.
//!
//! Storage follows what calls read (`store::agents::AgentVoiceSettings`): `tools` is the list of
//! business tools `business_tools::parse_tools` accepts, the transfer tool exists when
//! `transfer_number` is set, and the built-in `end_call` / `query_knowledge_base` switches live
//! in `engine_settings.builtin_tools`.

use serde_json::{Value, json};
use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Row};
use time::OffsetDateTime;
use uuid::Uuid;

use super::prompt_versions::{self, Prompts};
use crate::business_tools::parse_tools;

/// The OpenAI Realtime voices.
pub const VOICES: [&str; 10] = [
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar",
];
/// The realtime models an agent may use.
pub const MODELS: [&str; 2] = ["gpt-realtime", "gpt-realtime-mini"];
/// Longest name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest prompt text, in characters (about 25k tokens: far more than a session should carry).
pub const MAX_PROMPT_CHARS: usize = 100_000;

/// Everything the editor sets on an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSettings {
    /// Display name, unique in the organization.
    pub name: String,
    /// What the agent is for (also steers its start context).
    pub description: String,
    /// `active` (takes calls) or `paused`.
    pub status: String,
    /// The prompts and greeting, versioned.
    pub prompts: Prompts,
    /// `agent` or `caller`.
    pub first_speaker: String,
    /// One of [`MODELS`].
    pub model: String,
    /// One of [`VOICES`].
    pub voice: String,
    /// The caller's language, ISO 639-1 (`en`).
    pub language: String,
    /// `server_vad` or `semantic_vad`.
    pub vad_mode: String,
    /// `pcmu` or `pcm16`.
    pub audio_format: String,
    /// Offer `query_knowledge_base`.
    pub knowledge_search: bool,
    /// Offer `end_call`.
    pub end_call: bool,
    /// Where `transfer_call` sends the caller (E.164); no transfer tool without it.
    pub transfer_number: Option<String>,
    /// Business tools, as `business_tools::parse_tools` reads them.
    pub tools: Value,
    /// JSON Schema of the outcome extracted after each call (`None`: the default).
    pub outcome_schema: Option<Value>,
    /// Longest call, 30–14400 s.
    pub max_duration_secs: i32,
    /// Mutual silence before a re-prompt, 2–120 s.
    pub silence_reprompt_secs: i32,
    /// Re-prompts before hanging up, 0–10.
    pub silence_max_reprompts: i32,
    /// Tell callers they talk to an AI.
    pub ai_disclosure: bool,
    /// Record calls.
    pub record_calls: bool,
    /// Passages per search, 1–50 (`None`: `RAG_CHUNK_LIMIT`).
    pub rag_chunk_limit: Option<i32>,
    /// Lowest similarity, 0–1 (`None`: `RAG_SIMILARITY_THRESHOLD`).
    pub rag_similarity_threshold: Option<f32>,
}

impl Default for AgentSettings {
    /// The table's defaults.
    fn default() -> Self {
        Self {
            name: String::new(),
            description: String::new(),
            status: "active".into(),
            prompts: Prompts::default(),
            first_speaker: "agent".into(),
            model: MODELS[0].into(),
            voice: "marin".into(),
            language: "en".into(),
            vad_mode: "server_vad".into(),
            audio_format: "pcmu".into(),
            knowledge_search: true,
            end_call: true,
            transfer_number: None,
            tools: json!([]),
            outcome_schema: None,
            max_duration_secs: 600,
            silence_reprompt_secs: 8,
            silence_max_reprompts: 2,
            ai_disclosure: true,
            record_calls: false,
            rag_chunk_limit: None,
            rag_similarity_threshold: None,
        }
    }
}

/// A setting the editor must fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidSetting {
    /// The form field's name (`name`, `voice`, `tools`, …).
    pub field: &'static str,
    /// What to fix.
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> InvalidSetting {
    InvalidSetting {
        field,
        message: message.into(),
    }
}

fn one_of(field: &'static str, value: &str, allowed: &[&str]) -> Result<(), InvalidSetting> {
    if allowed.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("Choose one of: {}.", allowed.join(", ")),
        ))
    }
}

fn within(
    field: &'static str,
    value: i32,
    range: std::ops::RangeInclusive<i32>,
    unit: &str,
) -> Result<(), InvalidSetting> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("Use {} to {}{unit}.", range.start(), range.end()),
        ))
    }
}

/// True for `+` then 7–15 digits, the first not 0 (the table's check).
pub fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Checks an outcome schema: a JSON Schema of an object.
pub fn check_outcome_schema(schema: &Value) -> Result<(), String> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err("The outcome schema's \"type\" must be \"object\".".into());
    }
    jsonschema::validator_for(schema)
        .map(drop)
        .map_err(|e| format!("Not a valid JSON Schema: {e}"))
}

impl AgentSettings {
    /// Checks every rule; the first broken one names its field. Trims the name.
    pub fn validate(mut self) -> Result<Self, InvalidSetting> {
        self.name = self.name.trim().to_owned();
        let name_chars = self.name.chars().count();
        if name_chars == 0 || name_chars > MAX_NAME_CHARS {
            return Err(invalid(
                "name",
                "Name the agent (1 to 100 characters), e.g. \"Front desk\".",
            ));
        }
        if self.description.chars().count() > 2000 {
            return Err(invalid(
                "description",
                "Keep the description under 2,000 characters.",
            ));
        }
        one_of("status", &self.status, &["active", "paused"])?;
        for (field, text) in [
            ("system_prompt", &self.prompts.system_prompt),
            ("inbound_prompt", &self.prompts.inbound_prompt),
            ("outbound_prompt", &self.prompts.outbound_prompt),
            ("greeting", &self.prompts.greeting),
        ] {
            if text.chars().count() > MAX_PROMPT_CHARS {
                return Err(invalid(
                    field,
                    "This is over 100,000 characters; shorten it.",
                ));
            }
        }
        one_of("first_speaker", &self.first_speaker, &["agent", "caller"])?;
        one_of("model", &self.model, &MODELS)?;
        one_of("voice", &self.voice, &VOICES)?;
        if !(self.language.len() == 2 && self.language.bytes().all(|b| b.is_ascii_lowercase())) {
            return Err(invalid(
                "language",
                "Use a two-letter language code (ISO 639-1), e.g. \"en\" or \"es\".",
            ));
        }
        one_of("vad_mode", &self.vad_mode, &["server_vad", "semantic_vad"])?;
        one_of("audio_format", &self.audio_format, &["pcmu", "pcm16"])?;
        if let Some(number) = &self.transfer_number
            && !is_e164(number)
        {
            return Err(invalid(
                "transfer_number",
                "Use international format (E.164): + and country code, e.g. +14155550123.",
            ));
        }
        parse_tools(&self.tools).map_err(|e| invalid("tools", e.to_string()))?;
        if let Some(schema) = &self.outcome_schema {
            check_outcome_schema(schema).map_err(|e| invalid("outcome_schema", e))?;
        }
        within(
            "max_duration_secs",
            self.max_duration_secs,
            30..=14_400,
            " seconds",
        )?;
        within(
            "silence_reprompt_secs",
            self.silence_reprompt_secs,
            2..=120,
            " seconds",
        )?;
        within(
            "silence_max_reprompts",
            self.silence_max_reprompts,
            0..=10,
            "",
        )?;
        if let Some(limit) = self.rag_chunk_limit {
            within("rag_chunk_limit", limit, 1..=50, " passages")?;
        }
        if let Some(threshold) = self.rag_similarity_threshold
            && !(0.0..=1.0).contains(&threshold)
        {
            return Err(invalid(
                "rag_similarity_threshold",
                "Use a number from 0 to 1, e.g. 0.7.",
            ));
        }
        Ok(self)
    }

    fn engine_settings(&self) -> Value {
        json!({ "builtin_tools": {
            "end_call": self.end_call,
            "query_knowledge_base": self.knowledge_search,
        }})
    }
}

/// An agent as the editor shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Agent {
    /// Its id.
    pub id: Uuid,
    /// Its settings.
    pub settings: AgentSettings,
    /// The newest prompt version (0 when none was recorded).
    pub prompt_version: i32,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// A line of the agents list.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AgentSummary {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// `active` or `paused`.
    pub status: String,
    /// Its voice.
    pub voice: String,
    /// Its model.
    pub model: String,
    /// Phone numbers assigned to it.
    pub numbers: i64,
    /// The newest prompt version.
    pub prompt_version: i32,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// Why a save failed.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// A rule is broken.
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    /// Another agent of the organization has this name.
    #[error("Another agent is already called {0:?}; choose another name.")]
    NameTaken(String),
    /// The database failed.
    #[error(transparent)]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for SaveError {
    fn from(e: sqlx::Error) -> Self {
        SaveError::Database(e)
    }
}

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Saved {
    /// The newest prompt version after the save.
    pub prompt_version: i32,
    /// Whether this save wrote that version (a prompt text changed).
    pub new_version: bool,
    /// Whether the name, description or system prompt changed: the start context is stale.
    pub purpose_changed: bool,
}

/// The organization's agents, newest first.
pub async fn list(pool: &PgPool, org_id: Uuid) -> Result<Vec<AgentSummary>, sqlx::Error> {
    sqlx::query_as(
        "select a.id, a.name, a.description, a.status, a.voice, a.model, \
                (select count(*) from phone_numbers p where p.org_id = a.org_id and p.agent_id = a.id) as numbers, \
                coalesce((select max(v.version) from agent_prompt_versions v \
                           where v.org_id = a.org_id and v.agent_id = a.id), 0) as prompt_version, \
                a.updated_at \
           from agents a where a.org_id = $1 order by a.created_at desc, a.name",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await
}

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: Uuid,
    name: String,
    description: String,
    status: String,
    #[sqlx(flatten)]
    prompts: Prompts,
    first_speaker: String,
    model: String,
    voice: String,
    language: String,
    vad_mode: String,
    audio_format: String,
    knowledge_search: bool,
    end_call: bool,
    transfer_number: Option<String>,
    tools: Value,
    outcome_schema: Option<Value>,
    max_duration_secs: i32,
    silence_reprompt_secs: i32,
    silence_max_reprompts: i32,
    ai_disclosure: bool,
    record_calls: bool,
    rag_chunk_limit: Option<i32>,
    rag_similarity_threshold: Option<f32>,
    prompt_version: i32,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl From<AgentRow> for Agent {
    fn from(r: AgentRow) -> Self {
        Agent {
            id: r.id,
            settings: AgentSettings {
                name: r.name,
                description: r.description,
                status: r.status,
                prompts: r.prompts,
                first_speaker: r.first_speaker,
                model: r.model,
                voice: r.voice,
                language: r.language,
                vad_mode: r.vad_mode,
                audio_format: r.audio_format,
                knowledge_search: r.knowledge_search,
                end_call: r.end_call,
                transfer_number: r.transfer_number,
                tools: r.tools,
                outcome_schema: r.outcome_schema,
                max_duration_secs: r.max_duration_secs,
                silence_reprompt_secs: r.silence_reprompt_secs,
                silence_max_reprompts: r.silence_max_reprompts,
                ai_disclosure: r.ai_disclosure,
                record_calls: r.record_calls,
                rag_chunk_limit: r.rag_chunk_limit,
                rag_similarity_threshold: r.rag_similarity_threshold,
            },
            prompt_version: r.prompt_version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Agent `agent_id`, if it exists in `org_id`.
pub async fn get(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
) -> Result<Option<Agent>, sqlx::Error> {
    let row: Option<AgentRow> = sqlx::query_as(
        "select a.id, a.name, a.description, a.status, a.system_prompt, a.inbound_prompt, \
                a.outbound_prompt, a.greeting, a.first_speaker, a.model, a.voice, a.language, \
                a.vad_mode, a.audio_format, \
                coalesce((a.engine_settings #>> '{builtin_tools,query_knowledge_base}')::boolean, true) \
                  as knowledge_search, \
                coalesce((a.engine_settings #>> '{builtin_tools,end_call}')::boolean, true) as end_call, \
                a.transfer_number, a.tools, a.outcome_schema, a.max_duration_secs, \
                a.silence_reprompt_secs, a.silence_max_reprompts, a.ai_disclosure, a.record_calls, \
                a.rag_chunk_limit, a.rag_similarity_threshold, \
                coalesce((select max(v.version) from agent_prompt_versions v \
                           where v.org_id = a.org_id and v.agent_id = a.id), 0) as prompt_version, \
                a.created_at, a.updated_at \
           from agents a where a.org_id = $1 and a.id = $2",
    )
    .bind(org_id)
    .bind(agent_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(Agent::from))
}

fn name_taken(e: sqlx::Error, name: &str) -> SaveError {
    if super::is_unique_violation(&e, "agents_org_id_name_key") {
        SaveError::NameTaken(name.to_owned())
    } else {
        SaveError::Database(e)
    }
}

/// Binds the settings' 24 columns in the order `create` and `update` both list them, after
/// their own leading parameters.
fn bind_settings<'q>(
    query: Query<'q, Postgres, PgArguments>,
    s: &'q AgentSettings,
) -> Query<'q, Postgres, PgArguments> {
    query
        .bind(&s.name)
        .bind(&s.description)
        .bind(&s.status)
        .bind(&s.prompts.system_prompt)
        .bind(&s.prompts.inbound_prompt)
        .bind(&s.prompts.outbound_prompt)
        .bind(&s.prompts.greeting)
        .bind(&s.first_speaker)
        .bind(&s.model)
        .bind(&s.voice)
        .bind(&s.language)
        .bind(&s.vad_mode)
        .bind(&s.audio_format)
        .bind(s.engine_settings())
        .bind(&s.tools)
        .bind(&s.outcome_schema)
        .bind(&s.transfer_number)
        .bind(s.max_duration_secs)
        .bind(s.silence_reprompt_secs)
        .bind(s.silence_max_reprompts)
        .bind(s.ai_disclosure)
        .bind(s.record_calls)
        .bind(s.rag_chunk_limit)
        .bind(s.rag_similarity_threshold)
}

/// Creates an agent from `settings` (validated here) with prompt version 1; returns its id.
pub async fn create(
    pool: &PgPool,
    org_id: Uuid,
    author: Option<Uuid>,
    settings: AgentSettings,
) -> Result<Uuid, SaveError> {
    let s = settings.validate()?;
    let mut tx = pool.begin().await?;
    let query = sqlx::query(
        "insert into agents (org_id, name, description, status, system_prompt, inbound_prompt, \
                outbound_prompt, greeting, first_speaker, model, voice, language, vad_mode, \
                audio_format, engine_settings, tools, outcome_schema, transfer_number, \
                max_duration_secs, silence_reprompt_secs, silence_max_reprompts, ai_disclosure, \
                record_calls, rag_chunk_limit, rag_similarity_threshold) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                 $19, $20, $21, $22, $23, $24, $25) \
         returning id",
    )
    .bind(org_id);
    let id: Uuid = bind_settings(query, &s)
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| row.try_get("id"))
        .map_err(|e| name_taken(e, &s.name))?;
    prompt_versions::record(&mut tx, org_id, id, author, &s.prompts).await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces agent `agent_id`'s settings (validated here); `None` when it is not in `org_id`.
/// Writes a new prompt version when a prompt text changed.
pub async fn update(
    pool: &PgPool,
    org_id: Uuid,
    agent_id: Uuid,
    author: Option<Uuid>,
    settings: AgentSettings,
) -> Result<Option<Saved>, SaveError> {
    let s = settings.validate()?;
    let mut tx = pool.begin().await?;
    // The row lock orders concurrent saves, so version numbers cannot collide.
    let before: Option<(String, String, String, String, String, String)> = sqlx::query_as(
        "select name, description, system_prompt, inbound_prompt, outbound_prompt, greeting \
           from agents where org_id = $1 and id = $2 for update",
    )
    .bind(org_id)
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((name, description, system_prompt, inbound_prompt, outbound_prompt, greeting)) =
        before
    else {
        return Ok(None);
    };
    let old_prompts = Prompts {
        system_prompt,
        inbound_prompt,
        outbound_prompt,
        greeting,
    };
    let query = sqlx::query(
        "update agents set name = $3, description = $4, status = $5, system_prompt = $6, \
                inbound_prompt = $7, outbound_prompt = $8, greeting = $9, first_speaker = $10, \
                model = $11, voice = $12, language = $13, vad_mode = $14, audio_format = $15, \
                engine_settings = engine_settings || $16, tools = $17, outcome_schema = $18, \
                transfer_number = $19, max_duration_secs = $20, silence_reprompt_secs = $21, \
                silence_max_reprompts = $22, ai_disclosure = $23, record_calls = $24, \
                rag_chunk_limit = $25, rag_similarity_threshold = $26, updated_at = now() \
          where org_id = $1 and id = $2",
    )
    .bind(org_id)
    .bind(agent_id);
    bind_settings(query, &s)
        .execute(&mut *tx)
        .await
        .map_err(|e| name_taken(e, &s.name))?;
    let new_version = old_prompts != s.prompts;
    let prompt_version = if new_version {
        prompt_versions::record(&mut tx, org_id, agent_id, author, &s.prompts).await?
    } else {
        sqlx::query_scalar(
            "select coalesce(max(version), 0) from agent_prompt_versions \
              where org_id = $1 and agent_id = $2",
        )
        .bind(org_id)
        .bind(agent_id)
        .fetch_one(&mut *tx)
        .await?
    };
    tx.commit().await?;
    Ok(Some(Saved {
        prompt_version,
        new_version,
        purpose_changed: name != s.name
            || description != s.description
            || old_prompts.system_prompt != s.prompts.system_prompt,
    }))
}

/// Deletes agent `agent_id` (its versions and agent-scoped documents go with it; its numbers
/// and calls stay, unassigned); false when it is not in `org_id`.
pub async fn delete(pool: &PgPool, org_id: Uuid, agent_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from agents where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(agent_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests;
