//! Placing an outbound call from an agent: the one path the REST API (`POST /api/v1/calls`) and
//! the dashboard share.
//!
//! The call is recorded first (`queued`), then Twilio is asked to place it with our voice webhook
//! as `Url` — carrying the call's id, so the webhook knows it is this outbound call and the
//! stream uses the agent's outbound prompt plus its context — and our status callback for its
//! progress. Every refusal that needs no I/O comes before anything is stored or sent. This module
//! returns [`OutboundError`]; turning it into an HTTP status or a form message is the caller's job.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::store::{agents, calls};
use crate::twilio_rest::{CallProgressEvent, CreateCall, MaskedPhone, TwilioRest, TwilioRestError};

pub use crate::twilio::paths::{STATUS_PATH, VOICE_PATH};

/// The largest `context` accepted, serialised: it goes into the session's instructions.
pub const MAX_CONTEXT_BYTES: usize = 4096;

/// What to place.
#[derive(Debug, Clone, Copy)]
pub struct OutboundCall<'a> {
    /// The organization placing it.
    pub org_id: Uuid,
    /// The agent that will talk.
    pub agent_id: Uuid,
    /// The number to call, as typed (trimmed here; must be E.164).
    pub to: &'a str,
    /// What the agent should know about this call, if anything.
    pub context: Option<&'a Value>,
}

/// Where Twilio and the database are.
#[derive(Clone, Copy)]
pub struct Dialer<'a> {
    /// The database.
    pub pool: &'a PgPool,
    /// Twilio's REST API, when the account is configured.
    pub twilio: Option<&'a TwilioRest>,
    /// `PUBLIC_BASE_URL`, when set: the webhooks' base address.
    pub public_base_url: Option<&'a str>,
}

/// A call Twilio accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedCall {
    /// Our id for the call.
    pub call_id: Uuid,
    /// Twilio's CallSid.
    pub call_sid: String,
    /// Twilio's status for it (usually `queued`).
    pub status: String,
}

/// Why a call was not placed.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// `to` is not `+` and 7–15 digits.
    #[error("The number must be in E.164 format, like +14155550123.")]
    InvalidNumber {
        /// The number as given, masked for messages and logs.
        masked: String,
    },
    /// The context is larger than [`MAX_CONTEXT_BYTES`].
    #[error("The context may be at most {MAX_CONTEXT_BYTES} bytes of JSON.")]
    ContextTooLarge,
    /// No such agent in this organization.
    #[error("There is no such agent in your organization.")]
    UnknownAgent,
    /// The agent is paused.
    #[error("That agent is paused; resume it to place calls.")]
    AgentPaused,
    /// The agent has no phone number to call from.
    #[error("Assign a phone number to this agent first: calls are placed from its number.")]
    NoNumber,
    /// No Twilio account is configured.
    #[error("Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.")]
    TwilioNotConfigured,
    /// `PUBLIC_BASE_URL` is not set, so Twilio could not fetch the call's instructions.
    #[error(
        "Set PUBLIC_BASE_URL to the https address Twilio reaches this server at: outbound calls fetch their instructions from it."
    )]
    NoPublicUrl,
    /// Twilio refused or could not be reached; the call is stored as `failed`.
    #[error("Twilio did not place the call: {source}")]
    Twilio {
        /// Our id of the failed call.
        call_id: Uuid,
        /// What Twilio said.
        #[source]
        source: TwilioRestError,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Validates the request, records the call and asks Twilio to place it.
pub async fn place_call(
    dialer: Dialer<'_>,
    call: OutboundCall<'_>,
) -> Result<PlacedCall, OutboundError> {
    let to = call.to.trim();
    if !is_e164(to) {
        return Err(OutboundError::InvalidNumber {
            masked: MaskedPhone(to).to_string(),
        });
    }
    let context = call.context.filter(|c| !c.is_null());
    if context.is_some_and(|c| c.to_string().len() > MAX_CONTEXT_BYTES) {
        return Err(OutboundError::ContextTooLarge);
    }
    let agent = agents::find_outbound_agent(dialer.pool, call.org_id, call.agent_id)
        .await?
        .ok_or(OutboundError::UnknownAgent)?;
    if agent.status != "active" {
        return Err(OutboundError::AgentPaused);
    }
    let from = agent.from_number.ok_or(OutboundError::NoNumber)?;
    let twilio = dialer.twilio.ok_or(OutboundError::TwilioNotConfigured)?;
    let base = dialer
        .public_base_url
        .map(|base| base.trim_end_matches('/'))
        .ok_or(OutboundError::NoPublicUrl)?;

    let call_id =
        calls::insert_outbound_call(dialer.pool, call.org_id, call.agent_id, &from, to, context)
            .await?;
    let create = CreateCall {
        to: to.to_owned(),
        from,
        url: format!("{base}{VOICE_PATH}?call_id={call_id}"),
        status_callback: format!("{base}{STATUS_PATH}"),
        status_callback_events: vec![
            CallProgressEvent::Initiated,
            CallProgressEvent::Ringing,
            CallProgressEvent::Answered,
            CallProgressEvent::Completed,
        ],
        machine_detection: None,
    };
    let placed = match twilio.create_call(&create).await {
        Ok(placed) => placed,
        Err(source) => {
            tracing::warn!(error = %source, %call_id, to = %MaskedPhone(to), "Twilio did not place the call");
            calls::mark_failed(dialer.pool, call.org_id, call_id, "twilio_refused").await?;
            return Err(OutboundError::Twilio { call_id, source });
        }
    };
    calls::attach_call_sid(dialer.pool, call.org_id, call_id, &placed.sid).await?;
    tracing::info!(%call_id, call_sid = %placed.sid, to = %MaskedPhone(to), "outbound call placed");
    Ok(PlacedCall {
        call_id,
        status: placed.status.as_str().to_owned(),
        call_sid: placed.sid,
    })
}

/// `+` and 7 to 15 digits, the first not 0 (ITU-T E.164, as Twilio wants it).
pub fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

#[cfg(test)]
mod tests {
    use super::is_e164;

    #[test]
    fn only_e164_numbers_are_accepted() {
        for good in ["+14155550123", "+442071838750", "+3312345"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "14155550123",
            "+1 415 555 0123",
            "+0123456789",
            "+12",
            "+1234567890123456",
            "",
            "+",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }
}
