//! The overview's figures and charts. Any member of the organization may read them.

use leptos::prelude::*;

use crate::dto::overview::OverviewStats;
use crate::error::AppError;

/// The organization's call figures, with days and weeks counted in `time_zone` (the browser's
/// IANA zone, e.g. `Europe/Paris`; an unknown one falls back to UTC and says so).
#[server(prefix = "/api", endpoint = "overview/stats")]
pub async fn load_overview(time_zone: String) -> Result<OverviewStats, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let now = time::OffsetDateTime::now_utc();
    let zone = overview_ssr::plausible_zone(&time_zone).unwrap_or("UTC");
    let result = call_stats::overview(&context.pool, user.org_id, zone, now).await;
    let (zone, overview) = match result {
        Ok(overview) => (zone, overview),
        Err(e) if call_stats::is_unknown_time_zone(&e) => {
            tracing::debug!(time_zone = zone, "unknown time zone; counting days in UTC");
            let overview = call_stats::overview(&context.pool, user.org_id, "UTC", now)
                .await
                .map_err(ssr::internal)?;
            ("UTC", overview)
        }
        Err(e) => return Err(ssr::internal(e)),
    };
    Ok(overview_ssr::view(zone, overview))
}

#[cfg(feature = "ssr")]
use {crate::api::ssr, switchboard::store::call_stats};

#[cfg(feature = "ssr")]
mod overview_ssr {
    use switchboard::store::call_stats::{DURATION_BUCKETS_SECS, Overview, WINDOW_DAYS};

    use crate::dto::overview::{DayCalls, DurationBucket, OverviewStats};

    /// `zone` if it looks like an IANA name (`Area/City`, `UTC`, `Etc/GMT+5`), so nothing
    /// stranger reaches the database; PostgreSQL still decides whether it exists.
    pub(super) fn plausible_zone(zone: &str) -> Option<&str> {
        let ok = !zone.is_empty()
            && zone.len() <= 64
            && zone
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        ok.then_some(zone)
    }

    pub(super) fn view(zone: &str, overview: Overview) -> OverviewStats {
        let Overview {
            figures,
            per_day,
            durations,
        } = overview;
        OverviewStats {
            time_zone: zone.to_owned(),
            has_calls: figures.has_calls,
            calls_today: figures.calls_today,
            calls_this_week: figures.calls_this_week,
            window_days: WINDOW_DAYS.unsigned_abs(),
            calls_in_window: figures.calls_in_window,
            ended: figures.ended,
            ended_by_agent: figures.ended_by_agent,
            transferred: figures.transferred,
            abandoned: figures.abandoned,
            avg_duration_secs: figures.avg_duration_secs,
            cost_usd: figures.cost_usd,
            per_day: per_day
                .into_iter()
                .map(|d| DayCalls {
                    date: d.day.to_string(),
                    label: format!(
                        "{} {} {}",
                        &d.day.weekday().to_string()[..3],
                        d.day.day(),
                        &d.day.month().to_string()[..3]
                    ),
                    short: d.day.day().to_string(),
                    calls: d.calls,
                })
                .collect(),
            durations: DURATION_BUCKETS_SECS
                .iter()
                .zip(durations)
                .enumerate()
                .map(|(i, (&low, calls))| {
                    let high = DURATION_BUCKETS_SECS.get(i + 1).copied();
                    DurationBucket {
                        label: match high {
                            Some(high) => format!("{} – {}", span(low), span(high)),
                            None => format!("{} or more", span(low)),
                        },
                        short: match high {
                            Some(_) => short(low),
                            None => format!("{}+", short(low)),
                        },
                        calls,
                    }
                })
                .collect(),
        }
    }

    fn span(secs: i32) -> String {
        if secs < 60 {
            format!("{secs} s")
        } else {
            format!("{} min", secs / 60)
        }
    }

    fn short(secs: i32) -> String {
        if secs < 60 {
            format!("{secs}s")
        } else {
            format!("{}m", secs / 60)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::plausible_zone;

        #[test]
        fn only_zone_shaped_names_reach_the_database() {
            assert_eq!(plausible_zone("Europe/Paris"), Some("Europe/Paris"));
            assert_eq!(plausible_zone("Etc/GMT+5"), Some("Etc/GMT+5"));
            assert_eq!(
                plausible_zone("America/Port-au-Prince"),
                Some("America/Port-au-Prince")
            );
            assert_eq!(plausible_zone(""), None);
            assert_eq!(plausible_zone("UTC'; drop table calls"), None);
        }
    }
}
