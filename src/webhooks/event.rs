//! The `call.ended` event: its JSON body, its signature and the retry schedule of its
//! deliveries. Pure: no I/O, no clock.

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// The event name, in the body, in `X-Switchboard-Event` and in `webhooks.events`.
pub const CALL_ENDED: &str = "call.ended";
/// The header naming the event.
pub const EVENT_HEADER: &str = "X-Switchboard-Event";
/// The header carrying the delivery id: the same on every retry, so receivers can drop repeats.
pub const DELIVERY_HEADER: &str = "X-Switchboard-Delivery";
/// The header carrying `sha256=<hex HMAC-SHA256 of the body under the endpoint's secret>`.
pub const SIGNATURE_HEADER: &str = "X-Switchboard-Signature";

/// A finished call as the event reports it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EndedCall {
    /// The call's id.
    pub id: Uuid,
    /// The agent that took it (gone if the agent was deleted).
    pub agent_id: Option<Uuid>,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Twilio's final status (`completed`, `busy`, `no-answer`, …).
    pub status: String,
    /// Caller (E.164).
    pub from_number: String,
    /// Callee (E.164).
    pub to_number: String,
    /// When the call started.
    pub started_at: OffsetDateTime,
    /// When it ended, if recorded.
    pub ended_at: Option<OffsetDateTime>,
    /// Its length.
    pub duration_secs: Option<i32>,
    /// The post-call summary (none without an OpenAI key).
    pub summary: Option<String>,
    /// The typed outcome following the agent's schema.
    pub outcome: Option<Value>,
    /// The estimated cost of the call's processing.
    pub cost_usd: Option<f64>,
}

/// `{"event": "call.ended", "call": {…}}`, times in RFC 3339.
pub fn call_ended_body(call: &EndedCall) -> Value {
    let rfc3339 = |t: OffsetDateTime| t.format(&Rfc3339).ok();
    json!({
        "event": CALL_ENDED,
        "call": {
            "id": call.id,
            "agent_id": call.agent_id,
            "direction": call.direction,
            "status": call.status,
            "from": call.from_number,
            "to": call.to_number,
            "started_at": rfc3339(call.started_at),
            "ended_at": call.ended_at.and_then(rfc3339),
            "duration_secs": call.duration_secs,
            "summary": call.summary,
            "outcome": call.outcome,
            "cost_usd": call.cost_usd,
        }
    })
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`: the scheme business-tool webhooks use too, so
/// an endpoint verifies both the same way.
pub fn signature(secret: &str, body: &str) -> String {
    crate::business_tools::signature(secret, body)
}

/// When failed deliveries are tried again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    waits: Vec<Duration>,
}

impl Default for RetrySchedule {
    /// Five attempts: at once, then after 1 min, 5 min, 30 min and 2 h — an endpoint down for
    /// a deploy or an afternoon still gets the event.
    fn default() -> Self {
        Self::new(
            [60, 5 * 60, 30 * 60, 2 * 60 * 60]
                .map(Duration::from_secs)
                .to_vec(),
        )
    }
}

impl RetrySchedule {
    /// Retries after each of `waits` in turn: `waits.len() + 1` attempts in all.
    pub fn new(waits: Vec<Duration>) -> Self {
        Self { waits }
    }

    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> usize {
        self.waits.len() + 1
    }

    /// How long to wait after failed attempt number `attempt` (1 for the first), or `None`
    /// when that was the last.
    pub fn wait_after(&self, attempt: usize) -> Option<Duration> {
        attempt
            .checked_sub(1)
            .and_then(|index| self.waits.get(index))
            .copied()
    }
}

/// What a failed attempt leaves in `last_error`: the status and the start of the answer,
/// enough to debug an endpoint without storing whatever it sent.
pub fn refusal(status: u16, body: &str) -> String {
    const MAX: usize = 300;
    let body = body.trim();
    let mut cut = body.len().min(MAX);
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    if body.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {}", &body[..cut])
    }
}
