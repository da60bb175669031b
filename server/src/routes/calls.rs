//! `POST /api/v1/calls`: place an outbound call from an agent.
//!
//! `{"agent_id", "to", "context"?}` with an organization API key. The call is recorded first
//! (`queued`), then Twilio is asked to place it with our voice webhook as `Url` — carrying the
//! call's id, so the webhook knows it is this outbound call and the stream uses the agent's
//! outbound prompt plus `context` — and our status callback for its progress.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard::store::{agents, calls};
use switchboard::twilio_rest::{CallProgressEvent, CreateCall, TwilioRestError};
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::routes::twilio::{STATUS_PATH, VOICE_PATH, mask_phone};
use crate::state::AppState;

/// The largest `context` accepted, serialised: it goes into the session's instructions.
const MAX_CONTEXT_BYTES: usize = 4096;

/// The request body.
#[derive(Debug, Deserialize)]
pub struct PlaceCall {
    agent_id: Uuid,
    to: String,
    #[serde(default)]
    context: Option<Value>,
}

/// `POST /api/v1/calls`.
pub async fn place(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<PlaceCall>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let caller = caller.require_writer()?;
    let Json(request) = body.map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "Send JSON like {{\"agent_id\": \"…\", \"to\": \"+14155550123\"}}: {}",
                e.body_text()
            ),
        )
    })?;
    let to = request.to.trim();
    if !is_e164(to) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "`to` must be a phone number in E.164 format, like +14155550123 (got {:?}).",
                mask_phone(to)
            ),
        ));
    }
    let context = request.context.filter(|c| !c.is_null());
    if context
        .as_ref()
        .is_some_and(|c| c.to_string().len() > MAX_CONTEXT_BYTES)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`context` may be at most {MAX_CONTEXT_BYTES} bytes of JSON."),
        ));
    }
    let agent = agents::find_outbound_agent(&state.pool, caller.org_id, request.agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("agent"))?;
    if agent.status != "active" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "That agent is paused; resume it to place calls.",
        ));
    }
    let Some(from) = agent.from_number else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Assign a phone number to this agent first: calls are placed from its number.",
        ));
    };
    let Some(twilio) = state.twilio.as_ref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Twilio is not configured: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
        ));
    };

    let Some(base) = state.config.public_base_url.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Set PUBLIC_BASE_URL to the https address Twilio reaches this server at: outbound calls fetch their instructions from it.",
        ));
    };
    let call_id = calls::insert_outbound_call(
        &state.pool,
        caller.org_id,
        request.agent_id,
        &from,
        to,
        context.as_ref(),
    )
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
        Err(e) => {
            tracing::warn!(error = %e, %call_id, to = %mask_phone(to), "Twilio did not place the call");
            calls::mark_failed(&state.pool, caller.org_id, call_id, "twilio_refused").await?;
            return Err(twilio_error(&e));
        }
    };
    calls::attach_call_sid(&state.pool, caller.org_id, call_id, &placed.sid).await?;
    tracing::info!(%call_id, call_sid = %placed.sid, to = %mask_phone(to), "outbound call placed");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "call_id": call_id,
            "call_sid": placed.sid,
            "status": placed.status.as_str(),
        })),
    ))
}

/// `+` and 7 to 15 digits, the first not 0 (ITU-T E.164, as Twilio wants it).
fn is_e164(number: &str) -> bool {
    number.strip_prefix('+').is_some_and(|digits| {
        (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

fn twilio_error(error: &TwilioRestError) -> ApiError {
    match error {
        TwilioRestError::Rejected { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Twilio refused to place the call: {error}"),
        ),
        TwilioRestError::Unauthorized { .. } => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "Twilio refused our credentials; check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
        ),
        _ => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "Twilio could not be reached to place the call; please try again.",
        ),
    }
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
