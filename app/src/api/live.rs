//! The live page's starting point: calls in progress with their transcripts so far. After that
//! the page follows `GET /events/calls`. Any member of the organization may watch.

use leptos::prelude::*;

use crate::dto::live::LiveCallView;
use crate::error::AppError;

/// The organization's calls in progress, oldest first, each with its lines so far.
#[server(prefix = "/api", endpoint = "live/calls")]
pub async fn active_calls() -> Result<Vec<LiveCallView>, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let now = time::OffsetDateTime::now_utc();
    let (calls, lines) =
        switchboard::store::call_stats::active_calls(&context.pool, user.org_id, now)
            .await
            .map_err(ssr::internal)?;
    Ok(live_ssr::views(calls, lines))
}

#[cfg(feature = "ssr")]
use crate::api::ssr;

#[cfg(feature = "ssr")]
mod live_ssr {
    use std::collections::HashMap;

    use switchboard::store::call_stats::{ActiveCall, ActiveLine};
    use time::format_description::well_known::Rfc3339;

    use crate::dto::live::{LiveCallView, LiveLineView};

    pub(super) fn views(calls: Vec<ActiveCall>, lines: Vec<ActiveLine>) -> Vec<LiveCallView> {
        let mut by_call: HashMap<uuid::Uuid, Vec<LiveLineView>> = HashMap::new();
        for line in lines {
            by_call.entry(line.call_id).or_default().push(LiveLineView {
                seq: line.seq,
                role: line.role,
                text: line.text,
                start_ms: line.start_ms,
                interrupted: line.interrupted,
            });
        }
        calls
            .into_iter()
            .map(|call| LiveCallView {
                id: call.id.to_string(),
                direction: call.direction,
                from: call.from_number,
                to: call.to_number,
                agent_name: call.agent_name,
                started_at: call.started_at.format(&Rfc3339).unwrap_or_default(),
                started_at_ms: i64::try_from(call.started_at.unix_timestamp_nanos() / 1_000_000)
                    .unwrap_or_default(),
                lines: by_call.remove(&call.id).unwrap_or_default(),
            })
            .collect()
    }
}
