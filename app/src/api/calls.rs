//! Call history for the dashboard: the filtered list, one call in detail, and placing an
//! outbound call (the same path as `POST /api/v1/calls`, [`switchboard::outbound`]).

use leptos::prelude::*;

use crate::dto::calls::{CallDetailView, CallPageView, CallQuery};
use crate::error::AppError;

/// One page of the organization's calls matching `query` (the URL's filters), newest first.
#[server(prefix = "/api", endpoint = "calls/list")]
pub async fn list_calls(#[server(default)] query: CallQuery) -> Result<CallPageView, AppError> {
    use switchboard::store::call_history::{self as store, COUNT_CAP};
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let (filter, page) = calls_ssr::filter(&query)?;
    let listed = store::list(&context.pool, user.org_id, &filter, page)
        .await
        .map_err(ssr::internal)?;
    let agents = store::agent_options(&context.pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    Ok(CallPageView {
        newer_href: listed.newer.map(|c| query.newer(&c.to_string()).href()),
        older_href: listed.older.map(|c| query.older(&c.to_string()).href()),
        calls: listed.calls.into_iter().map(calls_ssr::list_item).collect(),
        total: listed.total,
        total_cap: COUNT_CAP,
        agents: agents.into_iter().map(calls_ssr::agent_choice).collect(),
        can_place_calls: user.role.can_write(),
    })
}

/// Call `id` with its transcript, tool calls, summary and outcome.
#[server(prefix = "/api", endpoint = "calls/detail")]
pub async fn call_detail(id: String) -> Result<CallDetailView, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let id = id.trim().parse().map_err(|_| AppError::NotFound)?;
    let found = switchboard::store::call_history::find_detail(&context.pool, user.org_id, id)
        .await
        .map_err(ssr::internal)?
        .ok_or(AppError::NotFound)?;
    Ok(calls_ssr::detail(found))
}

/// Places a call from agent `agent_id` to `to` (E.164) and opens the call's page.
#[server(prefix = "/api", endpoint = "calls/place")]
pub async fn place_call(agent_id: String, to: String) -> Result<String, AppError> {
    use switchboard::outbound::{self, Dialer, OutboundCall, OutboundError};
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    if !outbound::is_e164(to.trim()) {
        return Err(AppError::field(
            "to",
            "Enter the number in international format: + then country code and number, like +14155550123.",
        ));
    }
    let agent_id = agent_id
        .trim()
        .parse()
        .map_err(|_| AppError::field("agent_id", "Choose the agent that will talk."))?;
    let dialer = Dialer {
        pool: &context.pool,
        twilio: context.twilio.as_ref(),
        public_base_url: context.public_base_url.as_deref(),
    };
    let call = OutboundCall {
        org_id: user.org_id,
        agent_id,
        to: &to,
        context: None,
    };
    let placed = outbound::place_call(dialer, call)
        .await
        .map_err(|e| match e {
            OutboundError::InvalidNumber { .. } => AppError::field("to", e.to_string()),
            OutboundError::UnknownAgent | OutboundError::AgentPaused | OutboundError::NoNumber => {
                AppError::field("agent_id", e.to_string())
            }
            OutboundError::Twilio { source, .. } => {
                AppError::Invalid(calls_ssr::twilio_message(&source))
            }
            OutboundError::Database(e) => ssr::internal(e),
            e => AppError::Invalid(e.to_string()),
        })?;
    tracing::info!(call_id = %placed.call_id, user_id = %user.user_id, "call placed from the dashboard");
    let id = placed.call_id.to_string();
    leptos_axum::redirect(&format!("/calls/{id}"));
    Ok(id)
}

#[cfg(feature = "ssr")]
use crate::api::ssr;

#[cfg(feature = "ssr")]
mod calls_ssr {
    use serde_json::Value;
    use switchboard::store::call_history::{
        AgentOption, CallDetailRow, CallFilter, CallListRow, Cursor, PageRequest, ToolInvocationRow,
    };
    use switchboard::store::transcripts::LineRow;
    use switchboard::twilio_rest::TwilioRestError;
    use time::format_description::well_known::Rfc3339;
    use time::{Date, Month, OffsetDateTime, UtcOffset};

    use crate::dto::calls::{
        AgentChoice, CallDetailView, CallListItem, CallQuery, LineView, ToolCallView,
        TranscriptEntry,
    };
    use crate::error::AppError;

    /// The store's filter and page for the URL's query; a malformed value is a field error.
    pub(super) fn filter(query: &CallQuery) -> Result<(CallFilter, PageRequest), AppError> {
        let set = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let agent_id = set(&query.agent)
            .map(|id| id.parse::<uuid::Uuid>())
            .transpose()
            .map_err(|_| AppError::field("agent", "Choose an agent from the list."))?;
        let direction = set(&query.direction);
        if direction
            .as_deref()
            .is_some_and(|d| d != "inbound" && d != "outbound")
        {
            return Err(AppError::field("direction", "Choose inbound or outbound."));
        }
        let status = set(&query.status);
        if status
            .as_deref()
            .is_some_and(|s| !switchboard::store::calls::is_known_status(s))
        {
            return Err(AppError::field("status", "Choose a status from the list."));
        }
        let offset = viewer_offset(&query.tz);
        let day = |raw: &str, field: &str| {
            set(raw)
                .map(|d| {
                    parse_day(&d)
                        .ok_or_else(|| AppError::field(field, "Enter a date like 2026-11-21."))
                })
                .transpose()
        };
        let since = day(&query.from, "from")?.map(|d| d.midnight().assume_offset(offset));
        let until = day(&query.to, "to")?
            .and_then(Date::next_day)
            .map(|d| d.midnight().assume_offset(offset));
        let filter = CallFilter {
            agent_id,
            direction,
            status,
            since,
            until,
            text: set(&query.q),
        };
        let cursor = |raw: &str| set(raw).and_then(|c| Cursor::parse(&c));
        let page = match (cursor(&query.before), cursor(&query.after)) {
            (Some(before), _) => PageRequest::Older(before),
            (None, Some(after)) => PageRequest::Newer(after),
            (None, None) => PageRequest::First,
        };
        Ok((filter, page))
    }

    /// `Date.getTimezoneOffset()` minutes (positive west of UTC) as an offset; UTC if unreadable.
    fn viewer_offset(tz: &str) -> UtcOffset {
        tz.trim()
            .parse::<i32>()
            .ok()
            .filter(|m| m.abs() <= 18 * 60)
            .and_then(|m| UtcOffset::from_whole_seconds(-m * 60).ok())
            .unwrap_or(UtcOffset::UTC)
    }

    /// `YYYY-MM-DD`.
    fn parse_day(raw: &str) -> Option<Date> {
        let mut parts = raw.splitn(3, '-');
        let year = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
    }

    fn rfc3339(t: OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap_or_default()
    }

    pub(super) fn list_item(row: CallListRow) -> CallListItem {
        CallListItem {
            id: row.id.to_string(),
            agent_name: row.agent_name,
            counterpart: if row.direction == "outbound" {
                row.to_number
            } else {
                row.from_number
            },
            direction: row.direction,
            status: row.status,
            started_at: rfc3339(row.started_at),
            duration_secs: row.duration_secs,
            cost_usd: row.cost_usd,
            summary: row.summary,
        }
    }

    pub(super) fn agent_choice(agent: AgentOption) -> AgentChoice {
        AgentChoice {
            id: agent.id.to_string(),
            can_call: agent.status == "active" && agent.has_number,
            name: agent.name,
        }
    }

    fn pretty(value: &Value) -> String {
        serde_json::to_string_pretty(value).unwrap_or_default()
    }

    /// An object's fields as (name, value) with strings unquoted; anything else as one value.
    fn outcome_fields(outcome: Option<Value>) -> Vec<(String, String)> {
        match outcome {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Object(fields)) => fields
                .into_iter()
                .map(|(name, value)| {
                    let value = match value {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (name, value)
                })
                .collect(),
            Some(other) => vec![(String::new(), pretty(&other))],
        }
    }

    pub(super) fn detail(
        (call, lines, tools): (CallDetailRow, Vec<LineRow>, Vec<ToolInvocationRow>),
    ) -> CallDetailView {
        let mut transcript: Vec<(i64, TranscriptEntry)> = lines
            .into_iter()
            .map(|l| {
                let line = LineView {
                    role: l.role,
                    text: l.text,
                    start_ms: l.start_ms.into(),
                    end_ms: l.end_ms.into(),
                    interrupted: l.interrupted,
                };
                (line.start_ms, TranscriptEntry::Line(line))
            })
            .collect();
        transcript.extend(tools.into_iter().map(|t| {
            let tool = ToolCallView {
                name: t.name,
                arguments: pretty(&t.arguments),
                result: t.result.as_ref().map(pretty),
                status: t.status,
                error: t.error,
                at_ms: t.at_ms,
                duration_ms: t.duration_ms,
            };
            (tool.at_ms, TranscriptEntry::Tool(tool))
        }));
        // Stable: a tool called at the same instant as a line follows it.
        transcript.sort_by_key(|(at, _)| *at);
        CallDetailView {
            id: call.id.to_string(),
            agent_name: call.agent_name,
            call_sid: call.call_sid,
            direction: call.direction,
            status: call.status,
            from_number: call.from_number,
            to_number: call.to_number,
            started_at: rfc3339(call.started_at),
            answered_at: call.answered_at.map(rfc3339),
            ended_at: call.ended_at.map(rfc3339),
            duration_secs: call.duration_secs,
            ended_reason: call.ended_reason,
            summary: call.summary,
            outcome: outcome_fields(call.outcome),
            cost_usd: call.cost_usd,
            recording_url: call.recording_url,
            context: call.context.as_ref().map(pretty),
            transcript: transcript.into_iter().map(|(_, entry)| entry).collect(),
        }
    }

    /// What to tell the person when Twilio did not place the call.
    pub(super) fn twilio_message(error: &TwilioRestError) -> String {
        match error {
            TwilioRestError::Rejected { .. } => {
                format!("Twilio refused to place the call: {error}")
            }
            TwilioRestError::Unauthorized { .. } => {
                "Twilio refused our credentials; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
                    .to_owned()
            }
            _ => "Twilio could not be reached to place the call; please try again.".to_owned(),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn dates_cover_whole_days_in_the_viewers_time_zone() {
            let query = CallQuery {
                from: "2026-11-20".into(),
                to: "2026-11-21".into(),
                tz: "-60".into(), // UTC+1
                ..CallQuery::default()
            };
            let (days, page) = filter(&query).unwrap();
            assert_eq!(page, PageRequest::First);
            assert_eq!(
                rfc3339(days.since.unwrap().to_offset(UtcOffset::UTC)),
                "2026-11-19T23:00:00Z"
            );
            assert_eq!(
                rfc3339(days.until.unwrap().to_offset(UtcOffset::UTC)),
                "2026-11-21T23:00:00Z"
            );
            let bad = CallQuery {
                from: "21/11/2026".into(),
                ..CallQuery::default()
            };
            assert!(filter(&bad).unwrap_err().for_field("from").is_some());
            let bad = CallQuery {
                status: "done".into(),
                ..CallQuery::default()
            };
            assert!(filter(&bad).unwrap_err().for_field("status").is_some());
        }
    }
}
