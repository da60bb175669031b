//! The overview's figures and chart data, and how the dashboard writes durations, money and
//! shares for people. Pure: no I/O, compiled for the browser and the server alike.

use serde::{Deserialize, Serialize};

/// Everything the overview page shows, for one organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverviewStats {
    /// The IANA time zone days and weeks were counted in (`UTC` when the browser's was unknown).
    pub time_zone: String,
    /// Whether the organization has ever had a call.
    pub has_calls: bool,
    /// Calls started today.
    pub calls_today: i64,
    /// Calls started since Monday.
    pub calls_this_week: i64,
    /// How many days the window covers (today included).
    pub window_days: u32,
    /// Calls started in the window.
    pub calls_in_window: i64,
    /// Of those, calls that have ended.
    pub ended: i64,
    /// Ended by the agent hanging up.
    pub ended_by_agent: i64,
    /// Transferred to a person.
    pub transferred: i64,
    /// The caller hung up before the agent ended the call.
    pub abandoned: i64,
    /// Mean duration of the window's completed calls.
    pub avg_duration_secs: Option<f64>,
    /// What the window's calls cost, in US dollars.
    pub cost_usd: f64,
    /// Calls per day over the window, oldest first.
    pub per_day: Vec<DayCalls>,
    /// Completed calls per duration range over the window, shortest first.
    pub durations: Vec<DurationBucket>,
}

impl OverviewStats {
    /// Ended calls that none of the three named outcomes covers (silence, maximum duration,
    /// failures, calls never answered).
    pub fn other_endings(&self) -> i64 {
        (self.ended - self.ended_by_agent - self.transferred - self.abandoned).max(0)
    }
}

/// Calls started on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCalls {
    /// The day, `YYYY-MM-DD`.
    pub date: String,
    /// Its name for people: `Wed 18 Nov`.
    pub label: String,
    /// A short axis label: `18`.
    pub short: String,
    /// Calls started that day.
    pub calls: i64,
}

/// Completed calls whose duration falls in one range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurationBucket {
    /// The range: `30 s – 1 min`.
    pub label: String,
    /// A short axis label: `30s`.
    pub short: String,
    /// Calls in it.
    pub calls: i64,
}

/// A duration for people: `45 s`, `3 min 05 s`, `1 h 02 min`.
pub fn format_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "–".to_owned();
    }
    let secs = secs.round() as u64;
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min {:02} s", secs / 60, secs % 60),
        _ => format!("{} h {:02} min", secs / 3600, secs % 3600 / 60),
    }
}

/// A running clock: `0:07`, `12:30`, `1:02:03`.
pub fn format_clock(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// US dollars for people: `$0.00`, `< $0.01`, `$12.34`, `$1,234.50`.
pub fn format_usd(usd: f64) -> String {
    if !usd.is_finite() || usd <= 0.0 {
        return "$0.00".to_owned();
    }
    if usd < 0.005 {
        return "< $0.01".to_owned();
    }
    let cents = (usd * 100.0).round() as u64;
    format!("${}.{:02}", group_thousands(cents / 100), cents % 100)
}

/// `part` as a whole percentage of `whole`: `25%`; `–` when `whole` is zero.
pub fn format_share(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".to_owned();
    }
    format!("{}%", (part as f64 * 100.0 / whole as f64).round() as i64)
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds_minutes_or_hours() {
        assert_eq!(format_duration(0.0), "0 s");
        assert_eq!(format_duration(44.6), "45 s");
        assert_eq!(format_duration(185.0), "3 min 05 s");
        assert_eq!(format_duration(3720.0), "1 h 02 min");
        assert_eq!(format_duration(f64::NAN), "–");
    }

    #[test]
    fn clocks_grow_an_hour_field_only_when_needed() {
        assert_eq!(format_clock(7), "0:07");
        assert_eq!(format_clock(750), "12:30");
        assert_eq!(format_clock(3723), "1:02:03");
        assert_eq!(format_clock(-5), "0:00");
    }

    #[test]
    fn money_is_rounded_to_cents_with_separators() {
        assert_eq!(format_usd(0.0), "$0.00");
        assert_eq!(format_usd(0.004), "< $0.01");
        assert_eq!(format_usd(0.005), "$0.01");
        assert_eq!(format_usd(12.345), "$12.35");
        assert_eq!(format_usd(1234.5), "$1,234.50");
        assert_eq!(format_usd(1_000_000.0), "$1,000,000.00");
    }

    #[test]
    fn shares_are_whole_percentages() {
        assert_eq!(format_share(1, 3), "33%");
        assert_eq!(format_share(2, 3), "67%");
        assert_eq!(format_share(0, 0), "–");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
    }
}
