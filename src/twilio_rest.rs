//! Twilio's REST API (version 2010-04-01), as an async client: hang up or redirect a live call,
//! place outbound calls, list the account's numbers and point them at our webhooks.
//!
//! I/O (reqwest). Requests are form-encoded with HTTP Basic auth (account SID, auth token) and
//! answers are read from the `.json` endpoints. The client never retries on its own — a lost
//! answer to `create_call` may still have placed a call — so callers decide, guided by
//! [`TwilioRestError::is_retryable`] and [`TwilioRestError::is_call_gone`].
//!
//! Logging: the auth token never appears (`Debug` redacts it); phone numbers appear only masked
//! to their last four digits ([`mask_phone`]).
//!
//! - `error` — [`TwilioRestError`], classified by what the caller should do.
//! - `types` — [`Call`], [`IncomingNumber`], [`CreateCall`] and their enums.
//! - `mask`  — [`mask_phone`] and [`MaskedPhone`].

use std::fmt;
use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;

mod error;
mod mask;
#[cfg(test)]
mod tests;
mod types;

pub use error::{CALL_NOT_IN_PROGRESS, TwilioApiError, TwilioRestError};
pub use mask::{MaskedPhone, mask_phone};
pub use types::{
    Call, CallProgressEvent, CallStatus, CreateCall, IncomingNumber, MachineDetection,
};

use types::NumberPage;

/// Twilio's production API.
pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";

/// How long one request may take, connection included, before it fails as a timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

const API_VERSION: &str = "2010-04-01";

/// Twilio allows up to 1000; 100 keeps each answer small while rarely needing a second page.
const PAGE_SIZE: &str = "100";

/// Guards against a server whose `next_page_uri` never ends (100 000 numbers at 100 per page).
const MAX_PAGES: usize = 1000;

/// How to reach Twilio. `Debug` prints the auth token as `<redacted>`.
#[derive(Clone)]
pub struct TwilioRestConfig {
    /// Scheme and host of the API (and an optional path prefix), e.g. [`DEFAULT_API_BASE`] or a
    /// fake's `base_url()`.
    pub api_base: String,
    /// `AC…`: the account whose calls and numbers we manage; also the Basic-auth user.
    pub account_sid: String,
    auth_token: String,
    /// Per-request timeout; [`DEFAULT_TIMEOUT`] unless changed.
    pub timeout: Duration,
}

impl TwilioRestConfig {
    /// Production API base and default timeout.
    pub fn new(account_sid: impl Into<String>, auth_token: impl Into<String>) -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_owned(),
            account_sid: account_sid.into(),
            auth_token: auth_token.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Points the client elsewhere (a fake in tests, a regional edge in production).
    pub fn with_api_base(mut self, api_base: impl Into<String>) -> Self {
        self.api_base = api_base.into();
        self
    }

    /// Changes the per-request timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl fmt::Debug for TwilioRestConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TwilioRestConfig")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &format_args!("<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// A configuration [`TwilioRest::new`] cannot work with.
#[derive(Debug, thiserror::Error)]
pub enum TwilioConfigError {
    /// The API base is not an absolute `http(s)` URL.
    #[error("the Twilio API base {api_base:?} is not an http(s) URL: {reason}")]
    InvalidApiBase {
        /// What was given.
        api_base: String,
        /// Why it was refused.
        reason: String,
    },
    /// No account SID.
    #[error("the Twilio account SID is empty")]
    MissingAccountSid,
    /// No auth token.
    #[error("the Twilio auth token is empty")]
    MissingAuthToken,
    /// The HTTP client could not be built (TLS set-up).
    #[error("could not build the HTTP client for Twilio: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// An async Twilio REST client. Cheap to clone: clones share one connection pool.
#[derive(Clone, Debug)]
pub struct TwilioRest {
    http: reqwest::Client,
    api_base: Url,
    config: TwilioRestConfig,
}

impl TwilioRest {
    /// Validates `config` and builds the HTTP client.
    pub fn new(config: TwilioRestConfig) -> Result<Self, TwilioConfigError> {
        if config.account_sid.trim().is_empty() {
            return Err(TwilioConfigError::MissingAccountSid);
        }
        if config.auth_token.is_empty() {
            return Err(TwilioConfigError::MissingAuthToken);
        }
        let invalid = |reason: String| TwilioConfigError::InvalidApiBase {
            api_base: config.api_base.clone(),
            reason,
        };
        let api_base = Url::parse(config.api_base.trim()).map_err(|e| invalid(e.to_string()))?;
        if !matches!(api_base.scheme(), "http" | "https") || api_base.cannot_be_a_base() {
            return Err(invalid("expected http:// or https://".into()));
        }
        if api_base.query().is_some() || api_base.fragment().is_some() {
            return Err(invalid("a query or fragment is not allowed".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            // Twilio never redirects its API; following one could hand the credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(TwilioConfigError::HttpClient)?;
        Ok(Self {
            http,
            api_base,
            config,
        })
    }

    /// The account this client acts for.
    pub fn account_sid(&self) -> &str {
        &self.config.account_sid
    }

    /// Ends a call, whatever it is doing (`Status=completed`).
    ///
    /// A call that has already ended answers with an error for which
    /// [`TwilioRestError::is_call_gone`] is true; treat that as success.
    #[tracing::instrument(skip(self))]
    pub async fn hang_up(&self, call_sid: &str) -> Result<Call, TwilioRestError> {
        let url = self.account_url(&["Calls", &json_name(call_sid)]);
        self.send(Method::POST, url, Some(&[("Status", "completed")]))
            .await
    }

    /// Replaces what a live call is doing with `twiml`: a `<Dial>` for a transfer, or a `<Say>`
    /// and `<Hangup/>` to apologise and end it. Twilio limits inline TwiML to 4 000 characters.
    #[tracing::instrument(skip(self, twiml), fields(twiml_len = twiml.len()))]
    pub async fn redirect_with_twiml(
        &self,
        call_sid: &str,
        twiml: &str,
    ) -> Result<Call, TwilioRestError> {
        let url = self.account_url(&["Calls", &json_name(call_sid)]);
        self.send(Method::POST, url, Some(&[("Twiml", twiml)]))
            .await
    }

    /// Places an outbound call; Twilio answers at once with the new call (usually `queued`) and
    /// reports progress to `status_callback`.
    #[tracing::instrument(
        skip(self, call),
        fields(to = %MaskedPhone(&call.to), from = %MaskedPhone(&call.from))
    )]
    pub async fn create_call(&self, call: &CreateCall) -> Result<Call, TwilioRestError> {
        let url = self.account_url(&["Calls.json"]);
        let created: Call = self.send(Method::POST, url, Some(&call.form())).await?;
        tracing::info!(call_sid = %created.sid, status = %created.status, "outbound call created");
        Ok(created)
    }

    /// Every phone number in the account, following Twilio's pagination to the end.
    #[tracing::instrument(skip(self))]
    pub async fn list_incoming_numbers(&self) -> Result<Vec<IncomingNumber>, TwilioRestError> {
        let mut url = self.account_url(&["IncomingPhoneNumbers.json"]);
        url.query_pairs_mut().append_pair("PageSize", PAGE_SIZE);
        let mut numbers = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: NumberPage = self.send(Method::GET, url, None).await?;
            numbers.extend(page.incoming_phone_numbers);
            match page.next_page_uri {
                Some(next) => url = self.page_url(&next)?,
                None => {
                    tracing::debug!(count = numbers.len(), "listed incoming numbers");
                    return Ok(numbers);
                }
            }
        }
        Err(TwilioRestError::UnexpectedResponse {
            reason: format!("the number list did not end after {MAX_PAGES} pages"),
        })
    }

    /// Sends a number's incoming calls to `voice_url` and its call-progress events to
    /// `status_callback`, both as POST.
    #[tracing::instrument(skip(self))]
    pub async fn configure_number(
        &self,
        number_sid: &str,
        voice_url: &str,
        status_callback: &str,
    ) -> Result<IncomingNumber, TwilioRestError> {
        let url = self.account_url(&["IncomingPhoneNumbers", &json_name(number_sid)]);
        let form = [
            ("VoiceUrl", voice_url),
            ("VoiceMethod", "POST"),
            ("StatusCallback", status_callback),
            ("StatusCallbackMethod", "POST"),
        ];
        self.send(Method::POST, url, Some(&form)).await
    }

    /// Stops a number sending anything to us: empties its `VoiceUrl` and `StatusCallback`
    /// (Twilio takes an empty value as "none"), so its calls get Twilio's default answer.
    #[tracing::instrument(skip(self))]
    pub async fn clear_number(&self, number_sid: &str) -> Result<IncomingNumber, TwilioRestError> {
        let url = self.account_url(&["IncomingPhoneNumbers", &json_name(number_sid)]);
        let form = [("VoiceUrl", ""), ("StatusCallback", "")];
        self.send(Method::POST, url, Some(&form)).await
    }

    /// `{api_base}/2010-04-01/Accounts/{AccountSid}/{segments…}`, each segment percent-encoded so
    /// a SID can never change the path.
    fn account_url(&self, segments: &[&str]) -> Url {
        let mut url = self.api_base.clone();
        // `new` refused cannot-be-a-base URLs, so this always succeeds.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend([API_VERSION, "Accounts", &self.config.account_sid])
                .extend(segments);
        }
        url
    }

    /// Resolves a `next_page_uri` against our API base. Only its path and query are used, so an
    /// absolute URI pointing at another host can never receive our credentials.
    fn page_url(&self, uri: &str) -> Result<Url, TwilioRestError> {
        let relative = match Url::parse(uri) {
            Ok(absolute) => match absolute.query() {
                Some(query) => format!("{}?{query}", absolute.path()),
                None => absolute.path().to_owned(),
            },
            Err(_) => uri.to_owned(),
        };
        if !relative.starts_with('/') {
            return Err(TwilioRestError::UnexpectedResponse {
                reason: format!("next_page_uri {uri:?} is not a path"),
            });
        }
        let (path, query) = relative.split_once('?').unwrap_or((relative.as_str(), ""));
        let mut url = self.api_base.clone();
        let prefix = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{prefix}{path}"));
        url.set_query((!query.is_empty()).then_some(query));
        Ok(url)
    }

    /// One request; failures are logged here (inside the caller's span) so every method logs alike.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        form: Option<&[(&str, &str)]>,
    ) -> Result<T, TwilioRestError> {
        tracing::debug!(%method, path = url.path(), "Twilio request");
        let result = self.exchange(method, url, form).await;
        if let Err(error) = &result {
            tracing::warn!(
                code = error.api_error().and_then(|a| a.code),
                retryable = error.is_retryable(),
                "Twilio request failed: {error}"
            );
        }
        result
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        form: Option<&[(&str, &str)]>,
    ) -> Result<T, TwilioRestError> {
        let mut request = self
            .http
            .request(method, url)
            .basic_auth(&self.config.account_sid, Some(&self.config.auth_token))
            .header(ACCEPT, "application/json");
        if let Some(form) = form {
            let body = serde_urlencoded::to_string(form).map_err(|e| {
                TwilioRestError::UnexpectedResponse {
                    reason: format!("could not encode the request form: {e}"),
                }
            })?;
            request = request
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = request.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        if status.is_success() {
            let body = response
                .bytes()
                .await
                .map_err(|e| self.transport_error(e))?;
            return serde_json::from_slice(&body).map_err(|e| {
                TwilioRestError::UnexpectedResponse {
                    reason: format!("HTTP {status} with a body that is not the expected JSON: {e}"),
                }
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // An unreadable error body still leaves the status to classify by.
        let body = response.bytes().await.unwrap_or_default();
        let api = serde_json::from_slice::<TwilioApiError>(&body).ok();
        Err(TwilioRestError::from_status(
            status.as_u16(),
            api,
            retry_after,
        ))
    }

    fn transport_error(&self, error: reqwest::Error) -> TwilioRestError {
        if error.is_timeout() {
            TwilioRestError::Timeout {
                after: self.config.timeout,
            }
        } else {
            TwilioRestError::Network { source: error }
        }
    }
}

/// `CA…` → `CA….json`, the resource's JSON representation.
fn json_name(sid: &str) -> String {
    format!("{sid}.json")
}
