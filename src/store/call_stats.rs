//! Read-only views of an organization's calls for the dashboard: the overview's figures and
//! charts, and the calls in progress with their transcripts so far (the live page's starting
//! point). Every query filters on `org_id` first and then on a time range, so the
//! `calls (org_id, started_at)` and `calls (org_id, status)` indexes bound the work however many
//! calls an organization has made.
//!
//! Day and week boundaries are the viewer's: queries take an IANA time zone name (`Europe/Paris`)
//! and let PostgreSQL apply it, daylight-saving changes included. Weeks start on Monday.

use sqlx::PgPool;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Days in the overview's window: the calls-per-day chart and every figure except "today" and
/// "this week" cover the last `WINDOW_DAYS` days, today included. At least 7, so the window
/// always contains the current week.
pub const WINDOW_DAYS: i32 = 14;

/// Lower bounds of the duration histogram's buckets, in seconds; the last bucket is open-ended.
pub const DURATION_BUCKETS_SECS: [i32; 6] = [0, 30, 60, 120, 300, 600];

/// A call in progress stops being shown after this long without ending: a server that crashed
/// mid-call never marks it ended, and the live page must not show it forever.
const STALE_AFTER_HOURS: i32 = 6;

/// The most calls the live page loads at once.
const MAX_ACTIVE_CALLS: i64 = 200;

/// The overview's figures for one organization.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CallFigures {
    /// Calls started today (in the viewer's time zone).
    pub calls_today: i64,
    /// Calls started since Monday.
    pub calls_this_week: i64,
    /// Calls started in the window.
    pub calls_in_window: i64,
    /// Of those, calls that have ended.
    pub ended: i64,
    /// Ended because the agent hung up (`agent_hang_up`).
    pub ended_by_agent: i64,
    /// Handed to a person (`transferred`).
    pub transferred: i64,
    /// The caller hung up before the agent ended the call (`caller_hang_up`).
    pub abandoned: i64,
    /// Mean duration of completed calls, when there are some.
    pub avg_duration_secs: Option<f64>,
    /// What the window's calls cost, in US dollars (as far as it is known).
    pub cost_usd: f64,
    /// Where the window starts.
    pub since: OffsetDateTime,
    /// Whether the organization has ever had a call (the overview's empty state).
    pub has_calls: bool,
}

/// Calls started on one day.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayCount {
    /// The day, in the viewer's time zone.
    pub day: Date,
    /// Calls started that day.
    pub calls: i64,
}

/// Everything the overview shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// The figures.
    pub figures: CallFigures,
    /// One entry per day of the window, oldest first, days without calls included.
    pub per_day: Vec<DayCount>,
    /// Completed calls in the window per [`DURATION_BUCKETS_SECS`] bucket.
    pub durations: [i64; DURATION_BUCKETS_SECS.len()],
}

/// The overview of `org_id` at `now`, with days in `time_zone`.
///
/// An unknown time zone fails with PostgreSQL's `invalid_parameter_value` (see
/// [`is_unknown_time_zone`]).
pub async fn overview(
    pool: &PgPool,
    org_id: Uuid,
    time_zone: &str,
    now: OffsetDateTime,
) -> Result<Overview, sqlx::Error> {
    let figures: CallFigures = sqlx::query_as(
        "with local as ( \
             select date_trunc('day', $3 at time zone $2) as today, \
                    date_trunc('week', $3 at time zone $2) as week \
         ), bounds as ( \
             select today at time zone $2 as today, week at time zone $2 as week, \
                    (today - make_interval(days => $4 - 1)) at time zone $2 as since \
             from local \
         ) \
         select count(*) filter (where c.started_at >= b.today) as calls_today, \
                count(*) filter (where c.started_at >= b.week) as calls_this_week, \
                count(*) as calls_in_window, \
                count(*) filter (where c.ended_at is not null) as ended, \
                count(*) filter (where c.ended_reason = 'agent_hang_up') as ended_by_agent, \
                count(*) filter (where c.ended_reason = 'transferred') as transferred, \
                count(*) filter (where c.ended_reason = 'caller_hang_up') as abandoned, \
                (avg(c.duration_secs) filter (where c.status = 'completed'))::float8 \
                    as avg_duration_secs, \
                coalesce(sum(c.cost_usd), 0)::float8 as cost_usd, \
                (select since from bounds) as since, \
                exists (select 1 from calls where org_id = $1) as has_calls \
         from bounds b join calls c on c.org_id = $1 and c.started_at >= b.since",
    )
    .bind(org_id)
    .bind(time_zone)
    .bind(now)
    .bind(WINDOW_DAYS)
    .fetch_one(pool)
    .await?;

    // One index range per day; days are local, so a day with a DST change has 23 or 25 hours.
    let per_day: Vec<DayCount> = sqlx::query_as(
        "with days as ( \
             select generate_series(date_trunc('day', $3 at time zone $2) \
                                        - make_interval(days => $4 - 1), \
                                    date_trunc('day', $3 at time zone $2), \
                                    interval '1 day') as day \
         ) \
         select d.day::date as day, \
                (select count(*) from calls c \
                  where c.org_id = $1 \
                    and c.started_at >= d.day at time zone $2 \
                    and c.started_at < (d.day + interval '1 day') at time zone $2) as calls \
         from days d order by d.day",
    )
    .bind(org_id)
    .bind(time_zone)
    .bind(now)
    .bind(WINDOW_DAYS)
    .fetch_all(pool)
    .await?;

    let buckets: Vec<(i32, i64)> = sqlx::query_as(
        "select width_bucket(duration_secs, $3::int[]) as bucket, count(*) from calls \
          where org_id = $1 and started_at >= $2 and status = 'completed' \
            and duration_secs is not null \
          group by 1",
    )
    .bind(org_id)
    .bind(figures.since)
    .bind(DURATION_BUCKETS_SECS.as_slice())
    .fetch_all(pool)
    .await?;
    let mut durations = [0; DURATION_BUCKETS_SECS.len()];
    for (bucket, count) in buckets {
        // width_bucket numbers buckets from 1 (0 = below the first bound, impossible here).
        if let Some(slot) = usize::try_from(bucket - 1)
            .ok()
            .and_then(|i| durations.get_mut(i))
        {
            *slot = count;
        }
    }

    Ok(Overview {
        figures,
        per_day,
        durations,
    })
}

/// Whether `err` is PostgreSQL refusing a time zone name.
pub fn is_unknown_time_zone(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("22023"))
}

/// A call in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActiveCall {
    /// The call's id.
    pub id: Uuid,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// The caller's number.
    pub from_number: String,
    /// The number called.
    pub to_number: String,
    /// The agent's name, if the call has an agent that still exists.
    pub agent_name: Option<String>,
    /// When it was answered (or started, if the answer time is unknown).
    pub started_at: OffsetDateTime,
}

/// A transcript line of a call in progress.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ActiveLine {
    /// The call.
    pub call_id: Uuid,
    /// Position in the call.
    pub seq: i32,
    /// `caller`, `agent`, `tool` or `system`.
    pub role: String,
    /// What was said.
    pub text: String,
    /// Start, in ms since the call started.
    pub start_ms: i32,
    /// The caller cut this line short.
    pub interrupted: bool,
}

/// The calls of `org_id` in progress at `now`, oldest first, and their transcript lines so far
/// (ordered by call, then `seq`).
pub async fn active_calls(
    pool: &PgPool,
    org_id: Uuid,
    now: OffsetDateTime,
) -> Result<(Vec<ActiveCall>, Vec<ActiveLine>), sqlx::Error> {
    let calls: Vec<ActiveCall> = sqlx::query_as(
        "select c.id, c.direction, c.from_number, c.to_number, a.name as agent_name, \
                coalesce(c.answered_at, c.started_at) as started_at \
           from calls c left join agents a on a.id = c.agent_id and a.org_id = c.org_id \
          where c.org_id = $1 and c.status = 'in-progress' and c.ended_at is null \
            and c.started_at > $2 - make_interval(hours => $3) \
          order by c.started_at, c.id \
          limit $4",
    )
    .bind(org_id)
    .bind(now)
    .bind(STALE_AFTER_HOURS)
    .bind(MAX_ACTIVE_CALLS)
    .fetch_all(pool)
    .await?;
    if calls.is_empty() {
        return Ok((calls, Vec::new()));
    }
    let ids: Vec<Uuid> = calls.iter().map(|c| c.id).collect();
    let lines = sqlx::query_as(
        "select call_id, seq, role, text, start_ms, interrupted from call_transcript_lines \
          where org_id = $1 and call_id = any($2) order by call_id, seq",
    )
    .bind(org_id)
    .bind(&ids)
    .fetch_all(pool)
    .await?;
    Ok((calls, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_database, seed_org_with_agent};
    use time::macros::datetime;

    async fn call_at(pool: &PgPool, org: Uuid, at: OffsetDateTime, secs: i32, reason: &str) {
        sqlx::query(
            "insert into calls (org_id, call_sid, direction, status, from_number, to_number, \
                                started_at, ended_at, duration_secs, ended_reason) \
             values ($1, gen_random_uuid()::text, 'inbound', 'completed', '+1', '+2', $2, $2, $3, $4)",
        )
        .bind(org)
        .bind(at)
        .bind(secs)
        .bind(reason)
        .execute(pool)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn days_and_weeks_follow_the_viewers_time_zone() {
        let (_url, pool) = fresh_database().await;
        let (org, _) = seed_org_with_agent(&pool, "Acme").await;
        // Wednesday 2026-11-18, 10:00 UTC: 05:00 in New York, 19:00 in Tokyo.
        let now = datetime!(2026-11-18 10:00 UTC);
        // 03:00 UTC on Wednesday: Wednesday in UTC and Tokyo, still Tuesday in New York.
        call_at(
            &pool,
            org,
            datetime!(2026-11-18 03:00 UTC),
            45,
            "agent_hang_up",
        )
        .await;
        // Monday 2026-11-16 02:00 UTC: Monday in UTC and Tokyo, Sunday (last week) in New York.
        call_at(
            &pool,
            org,
            datetime!(2026-11-16 02:00 UTC),
            700,
            "transferred",
        )
        .await;
        // Outside the 14-day window everywhere.
        call_at(
            &pool,
            org,
            datetime!(2026-11-01 12:00 UTC),
            10,
            "caller_hang_up",
        )
        .await;

        let utc = overview(&pool, org, "UTC", now).await.unwrap();
        assert_eq!(
            (utc.figures.calls_today, utc.figures.calls_this_week),
            (1, 2)
        );
        assert_eq!(utc.figures.calls_in_window, 2);
        assert_eq!(utc.per_day.len(), WINDOW_DAYS as usize);
        assert_eq!(
            utc.per_day.last().unwrap().day,
            time::macros::date!(2026 - 11 - 18)
        );
        assert_eq!(
            utc.per_day.first().unwrap().day,
            time::macros::date!(2026 - 11 - 05)
        );
        assert_eq!(utc.durations, [0, 1, 0, 0, 0, 1]);

        let new_york = overview(&pool, org, "America/New_York", now).await.unwrap();
        assert_eq!(
            (
                new_york.figures.calls_today,
                new_york.figures.calls_this_week
            ),
            (0, 1)
        );
        let days: Vec<_> = new_york
            .per_day
            .iter()
            .map(|d| (d.day.day(), d.calls))
            .collect();
        assert_eq!(&days[days.len() - 3..], [(16, 0), (17, 1), (18, 0)]);
        assert_eq!(days[days.len() - 4], (15, 1));

        let refused = overview(&pool, org, "Mars/Olympus_Mons", now)
            .await
            .unwrap_err();
        assert!(is_unknown_time_zone(&refused), "{refused:?}");
    }
}
