//! What the Calls pages show, and the list's query as it lives in the URL.

use serde::{Deserialize, Serialize};

/// The list's filters and position, exactly as the URL carries them (`/calls?status=busy&q=…`),
/// so a filtered page can be shared and the back button returns to it. Empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallQuery {
    /// An agent's id.
    #[serde(default)]
    pub agent: String,
    /// `inbound` or `outbound`.
    #[serde(default)]
    pub direction: String,
    /// A call status (`completed`, `busy`, …).
    #[serde(default)]
    pub status: String,
    /// First day, `YYYY-MM-DD`, in the viewer's time zone.
    #[serde(default)]
    pub from: String,
    /// Last day (included), `YYYY-MM-DD`.
    #[serde(default)]
    pub to: String,
    /// Words to find in transcripts.
    #[serde(default)]
    pub q: String,
    /// The viewer's offset from UTC in minutes, as `Date.getTimezoneOffset()` gives it
    /// (positive west of UTC); empty means UTC.
    #[serde(default)]
    pub tz: String,
    /// Show the calls older than this cursor.
    #[serde(default)]
    pub before: String,
    /// Show the calls newer than this cursor.
    #[serde(default)]
    pub after: String,
}

impl CallQuery {
    /// The URL query's keys, in the order links write them.
    pub const KEYS: [&'static str; 9] = [
        "agent",
        "direction",
        "status",
        "from",
        "to",
        "q",
        "tz",
        "before",
        "after",
    ];

    /// Reads the query from `get(key)` (the router's query map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let get = |key| get(key).unwrap_or_default();
        Self {
            agent: get("agent"),
            direction: get("direction"),
            status: get("status"),
            from: get("from"),
            to: get("to"),
            q: get("q"),
            tz: get("tz"),
            before: get("before"),
            after: get("after"),
        }
    }

    fn value(&self, key: &str) -> &str {
        match key {
            "agent" => &self.agent,
            "direction" => &self.direction,
            "status" => &self.status,
            "from" => &self.from,
            "to" => &self.to,
            "q" => &self.q,
            "tz" => &self.tz,
            "before" => &self.before,
            "after" => &self.after,
            _ => "",
        }
    }

    /// Whether any filter (not the page position) is set.
    pub fn is_filtered(&self) -> bool {
        [
            &self.agent,
            &self.direction,
            &self.status,
            &self.from,
            &self.to,
            &self.q,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }

    /// The same filters on the page older than `cursor`.
    pub fn older(&self, cursor: &str) -> Self {
        Self {
            before: cursor.to_owned(),
            after: String::new(),
            ..self.clone()
        }
    }

    /// The same filters on the page newer than `cursor`.
    pub fn newer(&self, cursor: &str) -> Self {
        Self {
            before: String::new(),
            after: cursor.to_owned(),
            ..self.clone()
        }
    }

    /// `/calls?…` with the non-empty keys.
    pub fn href(&self) -> String {
        let mut href = String::from("/calls");
        let mut separator = '?';
        for key in Self::KEYS {
            let value = self.value(key);
            if !value.is_empty() {
                href.push(separator);
                href.push_str(key);
                href.push('=');
                href.push_str(&encode(value));
                separator = '&';
            }
        }
        href
    }
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A call in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallListItem {
    /// The call's id.
    pub id: String,
    /// The agent's name, if it still exists.
    pub agent_name: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Twilio's status.
    pub status: String,
    /// The other party: the caller of an inbound call, the callee of an outbound one.
    pub counterpart: String,
    /// When it started (RFC 3339, UTC).
    pub started_at: String,
    /// How long it lasted.
    pub duration_secs: Option<i32>,
    /// What it cost, USD.
    pub cost_usd: Option<f64>,
    /// The summary's beginning.
    pub summary: Option<String>,
}

/// An agent to filter by or call from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentChoice {
    /// The agent's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Whether it can place a call now (active, with a number).
    pub can_call: bool,
}

/// One page of the call history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallPageView {
    /// The calls, newest first.
    pub calls: Vec<CallListItem>,
    /// The link to newer calls, if any.
    pub newer_href: Option<String>,
    /// The link to older calls, if any.
    pub older_href: Option<String>,
    /// Matching calls, counted up to `total_cap` + 1.
    pub total: i64,
    /// Where counting stopped.
    pub total_cap: i64,
    /// The organization's agents (for the filter and the call form).
    pub agents: Vec<AgentChoice>,
    /// Whether the viewer may place calls.
    pub can_place_calls: bool,
}

impl CallPageView {
    /// "25 calls", "1 call", "More than 1,000 calls".
    pub fn total_label(&self) -> String {
        if self.total > self.total_cap {
            format!("More than {} calls", group_thousands(self.total_cap))
        } else if self.total == 1 {
            "1 call".to_owned()
        } else {
            format!("{} calls", group_thousands(self.total))
        }
    }
}

/// A transcript line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineView {
    /// `caller`, `agent`, `tool` or `system`.
    pub role: String,
    /// What was said.
    pub text: String,
    /// When, in ms since the call was answered.
    pub start_ms: i64,
    /// Until when.
    pub end_ms: i64,
    /// The caller cut it short.
    pub interrupted: bool,
}

/// A tool the agent used during the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCallView {
    /// The tool's name.
    pub name: String,
    /// Its arguments, pretty JSON.
    pub arguments: String,
    /// Its result, pretty JSON.
    pub result: Option<String>,
    /// `running`, `ok`, `error` or `timeout`.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// When, in ms since the call was answered.
    pub at_ms: i64,
    /// How long it ran.
    pub duration_ms: Option<i64>,
}

/// One entry of the transcript, in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TranscriptEntry {
    /// Someone spoke.
    Line(LineView),
    /// A tool ran.
    Tool(ToolCallView),
}

/// A call with everything the detail page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallDetailView {
    /// The call's id.
    pub id: String,
    /// The agent's name.
    pub agent_name: Option<String>,
    /// Twilio's CallSid (a placeholder until Twilio accepted an outbound call).
    pub call_sid: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Twilio's status.
    pub status: String,
    /// The caller.
    pub from_number: String,
    /// The called number.
    pub to_number: String,
    /// RFC 3339 instants.
    pub started_at: String,
    /// When it was answered.
    pub answered_at: Option<String>,
    /// When it ended.
    pub ended_at: Option<String>,
    /// How long it lasted.
    pub duration_secs: Option<i32>,
    /// Why it ended.
    pub ended_reason: Option<String>,
    /// The summary.
    pub summary: Option<String>,
    /// The outcome as (field, value) pairs when it is an object, else one pair with an empty name.
    pub outcome: Vec<(String, String)>,
    /// What it cost, USD.
    pub cost_usd: Option<f64>,
    /// The recording's address.
    pub recording_url: Option<String>,
    /// What an outbound call's requester passed along, pretty JSON.
    pub context: Option<String>,
    /// Lines and tool calls, in time order.
    pub transcript: Vec<TranscriptEntry>,
}

/// `12345` → `12,345`.
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `75` → `1m 15s`, `3725` → `1h 2m 5s`, `9` → `9s`.
pub fn format_duration(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m {s:02}s"),
        _ => format!("{h}h {m:02}m {s:02}s"),
    }
}

/// A transcript offset: `83_500` ms → `1:23`.
pub fn format_offset(ms: i64) -> String {
    let secs = ms.max(0) / 1000;
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// Dollars for people: cents from a dollar up (`$1.23`); below, up to four decimals, since a
/// call often costs a fraction of a cent (`$0.0042`, `$0.0123`, `$0.50`).
pub fn format_usd(usd: f64) -> String {
    if usd.abs() >= 1.0 {
        return format!("${usd:.2}");
    }
    let mut text = format!("{usd:.4}");
    while text.ends_with('0') && text.len() > text.find('.').map_or(0, |dot| dot + 3) {
        text.pop();
    }
    format!("${text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_money_read_like_people_write_them() {
        assert_eq!(format_duration(9), "9s");
        assert_eq!(format_duration(75), "1m 15s");
        assert_eq!(format_duration(3725), "1h 02m 05s");
        assert_eq!(format_offset(83_500), "1:23");
        assert_eq!(format_usd(0.0042), "$0.0042");
        assert_eq!(format_usd(1.234), "$1.23");
        assert_eq!(format_usd(0.0), "$0.00");
        assert_eq!(format_usd(0.0123), "$0.0123");
        assert_eq!(format_usd(0.5), "$0.50");
        assert_eq!(group_thousands(100_000), "100,000");
        assert_eq!(group_thousands(999), "999");
    }

    #[test]
    fn the_query_round_trips_through_its_link() {
        let query = CallQuery {
            status: "no-answer".into(),
            q: "refund & more".into(),
            ..CallQuery::default()
        };
        assert_eq!(query.href(), "/calls?status=no-answer&q=refund+%26+more");
        let older = query.older("17_abc");
        assert_eq!(
            older.href(),
            "/calls?status=no-answer&q=refund+%26+more&before=17_abc"
        );
        assert_eq!(older.newer("9_x").before, "");
        assert!(query.is_filtered() && !CallQuery::default().is_filtered());
    }
}
