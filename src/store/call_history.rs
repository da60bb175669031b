//! Call history for the dashboard: the filtered, paginated list and one call in detail.
//!
//! Pagination is keyset on `(started_at, id)`, newest first: a page is "the 25 calls older than
//! this one" (or newer, going back), so page 400 costs what page 1 costs, and calls arriving
//! meanwhile do not shift what the next page shows. The total is counted only up to
//! [`COUNT_CAP`]: an exact count of 100 000 rows is a full index scan on every render, and
//! "1,000+ calls" tells a person as much.

use std::fmt;

use serde_json::Value;
use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::store::transcripts::{self, LineRow};

/// Calls per page.
pub const PAGE_SIZE: usize = 25;

/// The count stops here; above it the page says "more than".
pub const COUNT_CAP: i64 = 1000;

/// Which calls to list; every field narrows the list, `None` does not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// Only this agent's calls.
    pub agent_id: Option<Uuid>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// One of Twilio's call statuses.
    pub status: Option<String>,
    /// Started at or after this instant.
    pub since: Option<OffsetDateTime>,
    /// Started before this instant.
    pub until: Option<OffsetDateTime>,
    /// Words that must all occur in the call's transcript, in any of its lines (PostgreSQL
    /// `simple` text search over the call's `transcript_search`).
    pub text: Option<String>,
}

/// A position in the list: the call a page starts after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// When the call started.
    pub started_at: OffsetDateTime,
    /// The call's id (breaks ties).
    pub id: Uuid,
}

impl Cursor {
    /// Reads a cursor written by its `Display` (`<unix microseconds>_<uuid>`).
    pub fn parse(token: &str) -> Option<Self> {
        let (micros, id) = token.split_once('_')?;
        let micros: i128 = micros.parse().ok()?;
        Some(Self {
            started_at: OffsetDateTime::from_unix_timestamp_nanos(micros * 1000).ok()?,
            id: id.parse().ok()?,
        })
    }
}

impl fmt::Display for Cursor {
    /// Microseconds, PostgreSQL's precision, so the cursor matches the stored value exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let micros = self.started_at.unix_timestamp_nanos() / 1000;
        write!(f, "{micros}_{}", self.id)
    }
}

/// Which page to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageRequest {
    /// The newest calls.
    #[default]
    First,
    /// The calls just older than the cursor.
    Older(Cursor),
    /// The calls just newer than the cursor.
    Newer(Cursor),
}

/// A call as the list shows it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CallListRow {
    /// The call's id.
    pub id: Uuid,
    /// The agent's name, if the agent still exists.
    pub agent_name: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Twilio's status.
    pub status: String,
    /// The caller.
    pub from_number: String,
    /// The called number.
    pub to_number: String,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// How long it lasted, once over.
    pub duration_secs: Option<i32>,
    /// What it cost (USD), once summarised.
    pub cost_usd: Option<f64>,
    /// The summary's first characters.
    pub summary: Option<String>,
}

/// One page of calls, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct CallPage {
    /// At most [`PAGE_SIZE`] calls.
    pub calls: Vec<CallListRow>,
    /// Where the newer page starts, if there is one.
    pub newer: Option<Cursor>,
    /// Where the older page starts, if there is one.
    pub older: Option<Cursor>,
    /// Calls matching the filter, counted up to [`COUNT_CAP`] + 1.
    pub total: i64,
}

impl CallPage {
    /// Whether [`CallPage::total`] stopped at the cap.
    pub fn total_is_capped(&self) -> bool {
        self.total > COUNT_CAP
    }
}

/// One page of `org_id`'s calls matching `filter`.
pub async fn list(
    pool: &PgPool,
    org_id: Uuid,
    filter: &CallFilter,
    page: PageRequest,
) -> Result<CallPage, sqlx::Error> {
    // Counted first: for a text search, how many calls match decides how the page is found.
    let total = count(pool, org_id, filter).await?;
    let mut query = QueryBuilder::<Postgres>::new("");
    push_select(&mut query, org_id, filter, total);
    let ascending = matches!(page, PageRequest::Newer(_));
    match page {
        PageRequest::First => {}
        PageRequest::Older(cursor) => {
            query.push(" and (c.started_at, c.id) < (");
            query.push_bind(cursor.started_at).push(", ");
            query.push_bind(cursor.id).push(")");
        }
        PageRequest::Newer(cursor) => {
            query.push(" and (c.started_at, c.id) > (");
            query.push_bind(cursor.started_at).push(", ");
            query.push_bind(cursor.id).push(")");
        }
    }
    query.push(if ascending {
        " order by c.started_at, c.id limit "
    } else {
        " order by c.started_at desc, c.id desc limit "
    });
    // One more than a page says whether another page follows.
    query.push_bind(PAGE_SIZE as i64 + 1);
    let mut calls: Vec<CallListRow> = query
        .build_query_as()
        .persistent(reuse_plan(filter))
        .fetch_all(pool)
        .await?;
    let more = calls.len() > PAGE_SIZE;
    calls.truncate(PAGE_SIZE);
    if ascending {
        calls.reverse();
    }
    let cursor = |row: &CallListRow| Cursor {
        started_at: row.started_at,
        id: row.id,
    };
    let (has_newer, has_older) = match page {
        PageRequest::First => (false, more),
        PageRequest::Older(_) => (true, more),
        PageRequest::Newer(_) => (more, true),
    };
    let newer = calls.first().filter(|_| has_newer).map(cursor);
    let older = calls.last().filter(|_| has_older).map(cursor);
    Ok(CallPage {
        calls,
        newer,
        older,
        total,
    })
}

/// `select … where …` of the list's columns for the calls matching `filter`, `total` of them
/// (as [`count`] says).
fn push_select(
    query: &mut QueryBuilder<'_, Postgres>,
    org_id: Uuid,
    filter: &CallFilter,
    total: i64,
) {
    // Up to the cap, the matching calls are collected first, through the GIN index (as the
    // count just found them), and the page is cut from them. The planner cannot be left to
    // choose: a word missing from the column's statistics is guessed to match 0.5 % of the
    // calls, and for that it walks the list newest first, through all 100,000 calls for a word
    // said in none or a few (60 to 80 ms, measured). Above the cap, where a third of the calls
    // may match, that walk finds a page at once; collecting 30,000 calls first would not.
    let few_hits = search_text(filter).is_some() && total <= COUNT_CAP;
    if few_hits {
        query.push("with hits as materialized (select c.id from calls c ");
        push_filter(query, org_id, filter);
        query.push(") ");
    }
    query.push(
        "select c.id, a.name as agent_name, c.direction, c.status, c.from_number, c.to_number, \
                c.started_at, c.duration_secs, c.cost_usd::float8 as cost_usd, \
                left(c.summary, 160) as summary \
           from calls c left join agents a on a.id = c.agent_id and a.org_id = c.org_id ",
    );
    if few_hits {
        query
            .push(" where c.org_id = ")
            .push_bind(org_id)
            .push(" and c.id in (select id from hits)");
    } else {
        push_filter(query, org_id, filter);
    }
}

/// Calls matching `filter`, counted up to [`COUNT_CAP`] + 1.
async fn count(pool: &PgPool, org_id: Uuid, filter: &CallFilter) -> Result<i64, sqlx::Error> {
    let mut query = QueryBuilder::<Postgres>::new("select count(*) from (select 1 from calls c ");
    push_filter(&mut query, org_id, filter);
    if search_text(filter).is_some() {
        // In the list's order, a common word is counted by walking the list newest first to the
        // cap (~3,300 calls for a word in a third of them), a rarer one through the GIN index.
        // Without an order the planner scans the table in storage order, and calls whose
        // transcript was written sit wherever their last update put them: at 100k calls the
        // first 1,001 hits were 70,000 rows in (27 ms instead of 6, measured).
        query.push(" order by c.started_at desc, c.id desc");
    }
    query
        .push(" limit ")
        .push_bind(COUNT_CAP + 1)
        .push(") capped");
    query
        .build_query_scalar()
        .persistent(reuse_plan(filter))
        .fetch_one(pool)
        .await
}

/// `where …` for `filter`: only the conditions that are set, so each query's plan fits it.
fn push_filter(query: &mut QueryBuilder<'_, Postgres>, org_id: Uuid, filter: &CallFilter) {
    query.push(" where c.org_id = ").push_bind(org_id);
    if let Some(agent_id) = filter.agent_id {
        query.push(" and c.agent_id = ").push_bind(agent_id);
    }
    if let Some(direction) = &filter.direction {
        query
            .push(" and c.direction = ")
            .push_bind(direction.clone());
    }
    if let Some(status) = &filter.status {
        query.push(" and c.status = ").push_bind(status.clone());
    }
    if let Some(since) = filter.since {
        query.push(" and c.started_at >= ").push_bind(since);
    }
    if let Some(until) = filter.until {
        query.push(" and c.started_at < ").push_bind(until);
    }
    if let Some(text) = search_text(filter) {
        // The words of the whole transcript are on the call row (migration
        // `call_transcript_search`), GIN-indexed.
        query
            .push(" and c.transcript_search @@ plainto_tsquery('simple', ")
            .push_bind(text.to_owned())
            .push(")");
    }
}

fn search_text(filter: &CallFilter) -> Option<&str> {
    filter.text.as_deref().filter(|t| !t.trim().is_empty())
}

/// Whether a query for `filter` may run as a cached prepared statement: only without filters.
///
/// After five runs PostgreSQL may switch a prepared statement to a generic plan, made without
/// the filter's values, and the best plan depends on them: how common the words are, how many
/// calls have the status or the agent. Measured at 100k calls: the count of a word said in 30,000
/// calls then collects all 30,000 (36 ms instead of 1.4), and agent + outbound + busy is counted
/// by a sequential scan instead of the status index (7 to 13 ms instead of 3). A one-off
/// statement is planned with its values every time, for a parse more per query.
fn reuse_plan(filter: &CallFilter) -> bool {
    let CallFilter {
        agent_id,
        direction,
        status,
        since,
        until,
        text: _,
    } = filter;
    agent_id.is_none()
        && direction.is_none()
        && status.is_none()
        && since.is_none()
        && until.is_none()
        && search_text(filter).is_none()
}

/// An agent to filter by or place a call from.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentOption {
    /// The agent's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// `active` or `paused`.
    pub status: String,
    /// Whether it has a phone number to call from.
    pub has_number: bool,
}

/// `org_id`'s agents by name.
pub async fn agent_options(pool: &PgPool, org_id: Uuid) -> Result<Vec<AgentOption>, sqlx::Error> {
    sqlx::query_as(
        "select a.id, a.name, a.status, \
                exists (select 1 from phone_numbers p where p.agent_id = a.id and p.org_id = a.org_id) \
                  as has_number \
           from agents a where a.org_id = $1 order by lower(a.name), a.id",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await
}

/// A call with everything the detail page shows about it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CallDetailRow {
    /// The call's id.
    pub id: Uuid,
    /// Its agent, if it still exists.
    pub agent_id: Option<Uuid>,
    /// The agent's name.
    pub agent_name: Option<String>,
    /// Twilio's CallSid.
    pub call_sid: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Twilio's status.
    pub status: String,
    /// The caller.
    pub from_number: String,
    /// The called number.
    pub to_number: String,
    /// When it started.
    pub started_at: OffsetDateTime,
    /// When it was answered.
    pub answered_at: Option<OffsetDateTime>,
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
    /// How long it lasted.
    pub duration_secs: Option<i32>,
    /// Why it ended (`caller_hang_up`, `agent_hang_up`, …).
    pub ended_reason: Option<String>,
    /// The post-call summary.
    pub summary: Option<String>,
    /// The typed outcome (the agent's outcome schema).
    pub outcome: Option<Value>,
    /// Tokens and audio used.
    pub usage: Option<Value>,
    /// What it cost (USD).
    pub cost_usd: Option<f64>,
    /// The recording, when there is one.
    pub recording_url: Option<String>,
    /// What an outbound call's requester passed along.
    pub context: Option<Value>,
}

/// A tool the model called during a call.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ToolInvocationRow {
    /// The tool's name.
    pub name: String,
    /// The arguments the model passed.
    pub arguments: Value,
    /// What the tool answered.
    pub result: Option<Value>,
    /// `running`, `ok`, `error` or `timeout`.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was called, in ms since the call was answered (the transcript's clock).
    pub at_ms: i64,
    /// How long it ran.
    pub duration_ms: Option<i64>,
}

/// Call `id` of `org_id` with its transcript and tool invocations, or `None`.
pub async fn find_detail(
    pool: &PgPool,
    org_id: Uuid,
    id: Uuid,
) -> Result<Option<(CallDetailRow, Vec<LineRow>, Vec<ToolInvocationRow>)>, sqlx::Error> {
    let call: Option<CallDetailRow> = sqlx::query_as(
        "select c.id, c.agent_id, a.name as agent_name, c.call_sid, c.direction, c.status, \
                c.from_number, c.to_number, c.started_at, c.answered_at, c.ended_at, \
                c.duration_secs, c.ended_reason, c.summary, c.outcome, c.usage, \
                c.cost_usd::float8 as cost_usd, c.recording_url, c.context \
           from calls c left join agents a on a.id = c.agent_id and a.org_id = c.org_id \
          where c.org_id = $1 and c.id = $2",
    )
    .bind(org_id)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(call) = call else {
        return Ok(None);
    };
    let lines = transcripts::list_lines(pool, org_id, id).await?;
    let tools = sqlx::query_as(
        "select t.name, t.arguments, t.result, t.status, t.error, \
                greatest(0, (extract(epoch from t.started_at \
                    - coalesce(c.answered_at, c.started_at)) * 1000))::int8 as at_ms, \
                (extract(epoch from t.finished_at - t.started_at) * 1000)::int8 as duration_ms \
           from call_tool_invocations t join calls c on c.id = t.call_id and c.org_id = t.org_id \
          where t.org_id = $1 and t.call_id = $2 order by t.started_at, t.id",
    )
    .bind(org_id)
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(Some((call, lines, tools)))
}

#[cfg(test)]
mod tests;
