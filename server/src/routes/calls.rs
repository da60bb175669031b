//! `POST /api/v1/calls`: place an outbound call from an agent.
//!
//! `{"agent_id", "to", "context"?}` with an organization API key. The work is
//! [`switchboard::outbound::place_call`], shared with the dashboard; this handler only reads the
//! body and turns [`OutboundError`] into statuses.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};
use switchboard::outbound::{self, Dialer, MAX_CONTEXT_BYTES, OutboundCall, OutboundError};
use switchboard::twilio_rest::TwilioRestError;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

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
    let dialer = Dialer {
        pool: &state.pool,
        twilio: state.twilio.as_ref(),
        public_base_url: state.config.public_base_url.as_deref(),
    };
    let placed = outbound::place_call(
        dialer,
        OutboundCall {
            org_id: caller.org_id,
            agent_id: request.agent_id,
            to: &request.to,
            context: request.context.as_ref(),
        },
    )
    .await
    .map_err(api_error)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "call_id": placed.call_id,
            "call_sid": placed.call_sid,
            "status": placed.status,
        })),
    ))
}

fn api_error(error: OutboundError) -> ApiError {
    let unprocessable = |message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message);
    match error {
        OutboundError::InvalidNumber { masked } => unprocessable(format!(
            "`to` must be a phone number in E.164 format, like +14155550123 (got {masked:?})."
        )),
        OutboundError::ContextTooLarge => unprocessable(format!(
            "`context` may be at most {MAX_CONTEXT_BYTES} bytes of JSON."
        )),
        OutboundError::UnknownAgent => ApiError::not_found("agent"),
        e @ OutboundError::AgentPaused => ApiError::new(StatusCode::CONFLICT, e.to_string()),
        e @ OutboundError::NoNumber => unprocessable(e.to_string()),
        e @ (OutboundError::TwilioNotConfigured | OutboundError::NoPublicUrl) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        OutboundError::Twilio { source, .. } => twilio_error(&source),
        OutboundError::Database(e) => e.into(),
    }
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
    use crate::routes::twilio;

    #[test]
    fn outbound_calls_point_twilio_at_the_webhooks_the_server_routes() {
        assert_eq!(switchboard::outbound::VOICE_PATH, twilio::VOICE_PATH);
        assert_eq!(switchboard::outbound::STATUS_PATH, twilio::STATUS_PATH);
    }
}
