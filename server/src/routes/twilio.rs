//! Twilio webhooks: `POST /twilio/voice` answers an inbound call with TwiML; `POST
//! /twilio/status` records how calls progress and end.
//!
//! Every request must carry a valid `X-Twilio-Signature` for the public URL Twilio requested
//! (`PUBLIC_BASE_URL` + path, see [`switchboard::twilio::signature::public_url`]); without
//! `TWILIO_AUTH_TOKEN` nothing is accepted (503). The called number (`To`) picks the agent and,
//! through the number's row, the organization. An answered call is recorded as `ringing` and
//! connected to a Media Streams WebSocket whose path carries a short-lived
//! [`stream_token`](switchboard::twilio::stream_token) (stream URLs cannot have query strings).
//! The token secret is derived from `TWILIO_AUTH_TOKEN` (no separate setting).
//! Phone numbers are only logged masked ([`MaskedPhone`]).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Form;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use switchboard::store::{agents, calls};
use switchboard::summaries::enqueue_summary;
use switchboard::twilio::signature::{
    ForwardedHeaders, RequestValidator, SIGNATURE_HEADER, UrlKind, public_url,
};
use switchboard::twilio::stream_token;
use switchboard::twilio::twiml::{self, Recording, Stream};
use switchboard::twilio_rest::MaskedPhone;
use uuid::Uuid;

use crate::state::AppState;

pub use switchboard::twilio::paths::{RECORDING_PATH, STATUS_PATH, VOICE_PATH};

/// How long after a final status the summary waits, for the bridge's last lines.
const SUMMARY_DELAY: std::time::Duration = std::time::Duration::from_secs(5);

/// The path prefix of Media Streams WebSockets; the stream token follows it.
pub const STREAM_PATH_PREFIX: &str = "/twilio/stream/";

const NOT_IN_SERVICE: &str =
    "Sorry, the number you have called is not in service. Thank you for calling. Goodbye.";
const UNAVAILABLE: &str = "Sorry, no one is available to take your call right now. \
     Please try again later. Goodbye.";
const AI_DISCLOSURE: &str = "Hello. Please note that this call is answered by an AI assistant.";
const RECORDING_CONSENT: &str = "This call is recorded.";
const TECHNICAL_PROBLEM: &str =
    "Sorry, we are having a technical problem. Please try again later. Goodbye.";

/// `POST /twilio/voice`: verifies Twilio's signature, then answers the call with TwiML.
pub async fn voice(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    let auth_token = match verify(&state, &uri, &headers, &params, VOICE_PATH) {
        Ok(token) => token,
        Err(refused) => return refused.into_response(),
    };
    let param = |name: &str| form_param(&params, name);
    let (call_sid, from, to) = (param("CallSid"), param("From"), param("To"));
    if let Some(call_id) = outbound_call_id(&uri)
        && !call_sid.is_empty()
    {
        return answer_outbound(&state, auth_token, &headers, call_id, call_sid).await;
    }
    if call_sid.is_empty() || to.is_empty() {
        return (StatusCode::BAD_REQUEST, "CallSid and To are required").into_response();
    }

    let agent = match agents::find_by_called_number(&state.pool, to).await {
        Ok(agent) => agent,
        Err(e) => {
            tracing::error!(error = %e, call_sid, "cannot look up the called number");
            return twiml_response(twiml::Response::new().say(TECHNICAL_PROBLEM).hangup());
        }
    };
    let Some(agent) = agent else {
        tracing::info!(call_sid, to = %MaskedPhone(to), "call to a number with no agent");
        return twiml_response(twiml::Response::new().say(NOT_IN_SERVICE).hangup());
    };
    if !agent.is_active() {
        tracing::info!(call_sid, agent_id = %agent.agent_id, "call to a paused agent");
        return twiml_response(twiml::Response::new().say(UNAVAILABLE).hangup());
    }

    let call_id = match calls::insert_inbound_call(
        &state.pool,
        agent.org_id,
        agent.agent_id,
        call_sid,
        from,
        to,
    )
    .await
    {
        Ok(id) => id,
        Err(e) => {
            tracing::error!(error = %e, call_sid, "cannot record the inbound call");
            return twiml_response(twiml::Response::new().say(TECHNICAL_PROBLEM).hangup());
        }
    };

    tracing::info!(
        call_sid,
        %call_id,
        agent_id = %agent.agent_id,
        org_id = %agent.org_id,
        from = %MaskedPhone(from),
        to = %MaskedPhone(to),
        "answering inbound call"
    );
    let stream = StreamTarget {
        call_sid,
        call_id,
        agent_id: agent.agent_id,
        ai_disclosure: agent.ai_disclosure,
        record: agent.record_calls,
    };
    connect_stream(&state, auth_token, &headers, stream)
}

/// Which call a media stream is for.
struct StreamTarget<'a> {
    call_sid: &'a str,
    call_id: Uuid,
    agent_id: Uuid,
    ai_disclosure: bool,
    /// Twilio records the call, and the caller is told so first.
    record: bool,
}

/// TwiML that (after the AI disclosure and the recording notice, if the agent wants them)
/// connects the call to our media stream, whose path carries a short-lived token bound to the
/// CallSid. A recorded call starts Twilio's recording first, so the notice is on it too.
fn connect_stream(
    state: &AppState,
    auth_token: &crate::config::Secret,
    headers: &HeaderMap,
    target: StreamTarget<'_>,
) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let token = stream_token::issue(
        &stream_token::derive_secret(auth_token.expose()),
        target.call_sid,
        now,
    );
    let base = state.config.public_base_url.as_deref();
    let forwarded = forwarded_headers(headers);
    let urls = public_url(
        base,
        &forwarded,
        &format!("{STREAM_PATH_PREFIX}{token}"),
        UrlKind::WebSocket,
    )
    .and_then(|stream| {
        Ok((
            stream,
            public_url(base, &forwarded, RECORDING_PATH, UrlKind::Http)?,
        ))
    });
    let (stream_url, recording_callback) = match urls {
        Ok(urls) => urls,
        Err(e) => {
            tracing::error!(error = %e, call_sid = target.call_sid, "cannot build the stream URL");
            return twiml_response(twiml::Response::new().say(TECHNICAL_PROBLEM).hangup());
        }
    };
    let mut response = twiml::Response::new();
    if target.record {
        response = response.start_recording(
            Recording::new()
                .dual_channel()
                .recording_status_callback(recording_callback),
        );
    }
    match (target.ai_disclosure, target.record) {
        (true, true) => response = response.say(format!("{AI_DISCLOSURE} {RECORDING_CONSENT}")),
        (true, false) => response = response.say(AI_DISCLOSURE),
        (false, true) => response = response.say(RECORDING_CONSENT),
        (false, false) => {}
    }
    response = response.connect_stream(
        Stream::new(stream_url)
            .parameter("call_id", target.call_id.to_string())
            .parameter("agent_id", target.agent_id.to_string()),
    );
    twiml_response(response)
}

/// The outbound call our voice URL names (`?call_id=…`, set when we placed the call).
fn outbound_call_id(uri: &axum::http::Uri) -> Option<Uuid> {
    uri.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix("call_id="))
        .and_then(|id| id.parse().ok())
}

/// The callee of an outbound call answered: attach Twilio's CallSid to our row and connect the
/// stream; the stream then uses the agent's outbound prompt and the caller's context.
async fn answer_outbound(
    state: &AppState,
    auth_token: &crate::config::Secret,
    headers: &HeaderMap,
    call_id: Uuid,
    call_sid: &str,
) -> Response {
    let call = match calls::find_call_for_webhook(&state.pool, call_id).await {
        Ok(Some(call)) if call.direction == "outbound" => call,
        Ok(_) => {
            tracing::warn!(%call_id, call_sid, "voice webhook for an unknown outbound call");
            return twiml_response(twiml::Response::new().hangup());
        }
        Err(e) => {
            tracing::error!(error = %e, %call_id, "cannot load the outbound call");
            return twiml_response(twiml::Response::new().say(TECHNICAL_PROBLEM).hangup());
        }
    };
    let (Some(agent_id), true) = (
        call.agent_id,
        calls::attach_call_sid(&state.pool, call.org_id, call.id, call_sid)
            .await
            .unwrap_or(false),
    ) else {
        tracing::warn!(%call_id, call_sid, "outbound call has no agent or another CallSid");
        return twiml_response(twiml::Response::new().hangup());
    };
    let (disclosure, record): (bool, bool) = sqlx::query_as(
        "select ai_disclosure, record_calls from agents where id = $1 and org_id = $2",
    )
    .bind(agent_id)
    .bind(call.org_id)
    .fetch_optional(&state.pool)
    .await
    .ok()
    .flatten()
    .unwrap_or((true, false));
    tracing::info!(call_sid, %call_id, %agent_id, to = %MaskedPhone(&call.to_number), "outbound call answered");
    let target = StreamTarget {
        call_sid,
        call_id,
        agent_id,
        ai_disclosure: disclosure,
        record,
    };
    connect_stream(state, auth_token, headers, target)
}

/// Checks a webhook's `X-Twilio-Signature` against the public URL it was sent to; returns the
/// auth token, or the response that refuses the request (503 unconfigured, 403 bad signature).
fn verify<'a>(
    state: &'a AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    params: &[(String, String)],
    default_path: &str,
) -> Result<&'a crate::config::Secret, (StatusCode, &'static str)> {
    let Some(auth_token) = state.config.twilio.auth_token.as_ref() else {
        tracing::error!(
            "refusing Twilio webhook: TWILIO_AUTH_TOKEN is not set, so its signature cannot be checked"
        );
        return Err((StatusCode::SERVICE_UNAVAILABLE, "Twilio is not configured"));
    };
    let path_and_query = uri.path_and_query().map_or(default_path, |p| p.as_str());
    let base = state.config.public_base_url.as_deref();
    let url = match public_url(
        base,
        &forwarded_headers(headers),
        path_and_query,
        UrlKind::Http,
    ) {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(error = %e, "refusing Twilio webhook: cannot rebuild its public URL");
            return Err((StatusCode::FORBIDDEN, "Forbidden"));
        }
    };
    let signature = header_str(headers, SIGNATURE_HEADER);
    if let Err(e) = RequestValidator::new(auth_token.expose()).verify(&url, params, signature) {
        tracing::warn!(error = %e, "refusing Twilio webhook: bad signature");
        return Err((StatusCode::FORBIDDEN, "Forbidden"));
    }
    Ok(auth_token)
}

fn forwarded_headers(headers: &HeaderMap) -> ForwardedHeaders<'_> {
    ForwardedHeaders {
        forwarded_proto: header_str(headers, "x-forwarded-proto"),
        forwarded_host: header_str(headers, "x-forwarded-host"),
        host: header_str(headers, header::HOST.as_str()),
    }
}

/// `POST /twilio/status`: Twilio's signed call-status callback. Records the status, the
/// answered and ended times and the duration; a call that has ended gets its summary job
/// (after a few seconds, so the bridge's last transcript lines land first).
pub async fn status(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = verify(&state, &uri, &headers, &params, STATUS_PATH) {
        return refused.into_response();
    }
    let param = |name: &str| form_param(&params, name);
    let (call_sid, status) = (param("CallSid"), param("CallStatus"));
    if call_sid.is_empty() || !calls::is_known_status(status) {
        return (
            StatusCode::BAD_REQUEST,
            "CallSid and a known CallStatus are required",
        )
            .into_response();
    }
    let duration = param("CallDuration").parse::<i32>().ok();
    let updated = match calls::apply_status(&state.pool, call_sid, status, duration).await {
        Ok(updated) => updated,
        Err(e) => {
            tracing::error!(error = %e, call_sid, "cannot record a call status");
            // Twilio retries on 5xx, and the update is idempotent.
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(call) = updated else {
        tracing::info!(call_sid, status, "status for a call we do not know");
        return StatusCode::NO_CONTENT.into_response();
    };
    tracing::info!(call_sid, call_id = %call.id, status, "call status");
    if calls::is_final_status(status)
        && let Err(e) = enqueue_summary(
            &state.pool,
            &state.jobs,
            call.org_id,
            call.id,
            SUMMARY_DELAY,
        )
        .await
    {
        tracing::error!(error = %e, call_sid, "cannot enqueue the call's summary");
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /twilio/recording`: Twilio's signed recording-status callback. A completed
/// recording's URL is stored on its call (the dashboard links it); an absent one is logged.
pub async fn recording(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) -> Response {
    if let Err(refused) = verify(&state, &uri, &headers, &params, RECORDING_PATH) {
        return refused.into_response();
    }
    let param = |name: &str| form_param(&params, name);
    let (call_sid, status, url) = (
        param("CallSid"),
        param("RecordingStatus"),
        param("RecordingUrl"),
    );
    if call_sid.is_empty() || status.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "CallSid and RecordingStatus are required",
        )
            .into_response();
    }
    if status != "completed" || !url.starts_with("https://") && !url.starts_with("http://") {
        tracing::warn!(
            call_sid,
            status,
            error = param("ErrorCode"),
            "no recording for the call"
        );
        return StatusCode::NO_CONTENT.into_response();
    }
    match calls::set_recording_url(&state.pool, call_sid, url).await {
        Ok(true) => tracing::info!(call_sid, "call recording stored"),
        Ok(false) => tracing::info!(call_sid, "recording for a call we do not know"),
        Err(e) => {
            tracing::error!(error = %e, call_sid, "cannot store the recording");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

/// A webhook's form value, or "" when absent.
fn form_param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn twiml_response(response: twiml::Response) -> Response {
    // The one rule configuration can break: an http PUBLIC_BASE_URL gives a ws:// stream, which
    // real Twilio refuses but loopback tools (`simulate`, tests) use.
    if let Err(e) = response.validate() {
        tracing::warn!(error = %e, "answering with TwiML Twilio would refuse (is PUBLIC_BASE_URL https?)");
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/xml; charset=utf-8"),
        )],
        response.to_xml(),
    )
        .into_response()
}
