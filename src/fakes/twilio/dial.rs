//! Somebody dials one of the account's numbers: what Twilio does next. The number's `VoiceUrl`
//! (set when the dashboard assigned it to an agent) gets the signed webhook, the caller fake
//! plays the phone on the media stream, and when the call is over the number's
//! `StatusCallback` hears `completed`. A person runs a whole call offline with
//! `POST /_fake/dial` (`From`, `To`, optional `Seconds`) against `switchboard fakes`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::json;

use super::{FakeTwilio, Shared};
use crate::fakes::openai_realtime::tone;
use crate::fakes::twilio_caller::{CallerError, CallerOptions, CallerReport, place_call};
use crate::twilio::paths::VOICE_PATH;
use crate::twilio::signature::{RequestValidator, SIGNATURE_HEADER};

/// Why a number could not be dialled.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// Not one of the account's numbers.
    #[error("{0} is not a number of this account")]
    UnknownNumber(String),
    /// Nobody told Twilio where the number's calls go.
    #[error("{0} has no voice URL: assign it to an agent first")]
    NoVoiceUrl(String),
    /// The caller fake only speaks to Switchboard's webhook.
    #[error("the voice URL {0} is not a Switchboard voice webhook (…{VOICE_PATH})")]
    NotSwitchboard(String),
    /// The call itself failed.
    #[error(transparent)]
    Caller(#[from] CallerError),
}

/// A caller who waits for the greeting, says something for a second, and listens: 1.5 s of
/// quiet, 1 s of speech (a tone the fake engine's VAD hears), then `seconds - 2.5` s of quiet.
pub fn demo_caller_audio(seconds: u64) -> Vec<u8> {
    let mut phase = 0f32;
    (0..seconds.max(3) * 50)
        .flat_map(|frame| {
            if (75..125).contains(&frame) {
                tone(160, &mut phase, 12_000.0)
            } else {
                vec![0xFF; 160]
            }
        })
        .collect()
}

/// A call about to be placed, and where its end is reported.
struct Prepared {
    options: CallerOptions,
    status_callback: Option<String>,
}

impl FakeTwilio {
    /// Dials `to` from `from` with `audio` as the caller and waits for the call to end.
    pub async fn dial(
        &self,
        from: &str,
        to: &str,
        audio: Vec<u8>,
        linger: Duration,
    ) -> Result<CallerReport, DialError> {
        let prepared = prepare(&self.shared, from, to, audio, linger)?;
        run(&self.shared, prepared).await
    }
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_fake/dial", post(dial_route))
        .route("/_fake/health", get(|| async { "ok" }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DialForm {
    from: String,
    to: String,
    seconds: Option<u64>,
}

/// `POST /_fake/dial`: starts the call and answers at once with its sid (201).
async fn dial_route(State(shared): State<Arc<Shared>>, Form(form): Form<DialForm>) -> Response {
    let seconds = form.seconds.unwrap_or(8).clamp(3, 600);
    let audio = demo_caller_audio(seconds);
    match prepare(&shared, &form.from, &form.to, audio, Duration::from_secs(1)) {
        Ok(prepared) => {
            let sid = prepared.options.call_sid.clone();
            tokio::spawn(async move {
                if let Err(error) = run(&shared, prepared).await {
                    tracing::warn!(%error, "fake Twilio: the dialled call failed");
                }
            });
            (StatusCode::CREATED, Json(json!({ "sid": sid }))).into_response()
        }
        Err(error) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "message": error.to_string() })),
        )
            .into_response(),
    }
}

fn prepare(
    shared: &Shared,
    from: &str,
    to: &str,
    audio: Vec<u8>,
    linger: Duration,
) -> Result<Prepared, DialError> {
    let mut account = shared.account();
    let number = account
        .numbers
        .iter()
        .find(|n| n.phone_number == to)
        .ok_or_else(|| DialError::UnknownNumber(to.to_owned()))?;
    let voice_url = number
        .voice_url
        .clone()
        .ok_or_else(|| DialError::NoVoiceUrl(to.to_owned()))?;
    let base_url = voice_url
        .strip_suffix(VOICE_PATH)
        .ok_or_else(|| DialError::NotSwitchboard(voice_url.clone()))?
        .to_owned();
    let status_callback = number.status_callback.clone();
    let call_sid = account.start_inbound_call(from, to);
    Ok(Prepared {
        options: CallerOptions {
            base_url,
            auth_token: account.auth_token.clone(),
            account_sid: account.account_sid.clone(),
            call_sid,
            from: from.to_owned(),
            to: to.to_owned(),
            audio,
            linger,
        },
        status_callback,
    })
}

async fn run(shared: &Shared, prepared: Prepared) -> Result<CallerReport, DialError> {
    let started = std::time::Instant::now();
    let result = place_call(&prepared.options).await;
    let options = &prepared.options;
    if let Some(call) = shared
        .account()
        .calls
        .iter_mut()
        .find(|c| c.sid == options.call_sid)
    {
        call.status = "completed".into();
    }
    if let Some(url) = prepared.status_callback {
        let params = [
            ("AccountSid", options.account_sid.clone()),
            ("CallDuration", started.elapsed().as_secs().to_string()),
            ("CallSid", options.call_sid.clone()),
            ("CallStatus", "completed".to_owned()),
            ("Direction", "inbound".to_owned()),
            ("From", options.from.clone()),
            ("To", options.to.clone()),
        ];
        let signature = RequestValidator::new(&options.auth_token).compute(&url, &params);
        let sent = reqwest::Client::new()
            .post(&url)
            .header(SIGNATURE_HEADER, signature)
            .form(&params)
            .send()
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, "fake Twilio: the status callback failed");
        }
    }
    Ok(result?)
}
