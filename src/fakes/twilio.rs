//! A fake of Twilio's REST API (2010-04-01) on `127.0.0.1:0`, for tests and `simulate`.
//!
//! It speaks the published protocol over real HTTP: Basic auth against its account SID and auth
//! token (401 with Twilio's JSON error body otherwise), form-encoded requests, JSON answers with
//! realistic resources (34-character `CA…`/`PN…` SIDs, `uri`, pagination fields). It serves:
//!
//! - `POST /Calls.json` — create an outbound call (`queued`, answered 201), announced on the
//!   channel from [`FakeTwilio::take_created_calls`] so a caller fake can play Twilio's next move;
//! - `GET|POST /Calls/{Sid}.json` — fetch, hang up (`Status`), redirect (`Twiml`, `Url`);
//! - `GET /IncomingPhoneNumbers.json` — the seeded numbers, paged by `PageSize`/`Page`;
//! - `GET|POST /IncomingPhoneNumbers/{Sid}.json` — fetch, update `VoiceUrl` and friends.
//!
//! Every request is recorded ([`FakeTwilio::requests`]) with its decoded form, and
//! [`FakeTwilio::fail_next`] makes the next requests answer 500/503/429. The protocol logic is the
//! sync `account::Account`; the axum handler around it only decodes and encodes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

mod account;
mod dial;
mod resources;
#[cfg(test)]
mod tests;

use account::{Account, Incoming};
pub use dial::{DialError, demo_caller_audio};

/// The fake's default account SID (`AC` + 32 hex digits, like a real one).
pub const FAKE_ACCOUNT_SID: &str = "ACfa4e0000000000000000000000000001";

/// The fake's default auth token.
pub const FAKE_AUTH_TOKEN: &str = "fake-twilio-auth-token";

/// How to start a [`FakeTwilio`].
#[derive(Debug, Clone)]
pub struct FakeTwilioOptions {
    /// The account SID clients must authenticate as (and put in their paths).
    pub account_sid: String,
    /// The auth token clients must present.
    pub auth_token: String,
    /// The account's phone numbers, in list order.
    pub numbers: Vec<SeedNumber>,
    /// The largest `PageSize` honoured (Twilio's is 1000); set it small to force pagination.
    pub max_page_size: usize,
}

impl Default for FakeTwilioOptions {
    fn default() -> Self {
        Self {
            account_sid: FAKE_ACCOUNT_SID.into(),
            auth_token: FAKE_AUTH_TOKEN.into(),
            numbers: Vec::new(),
            max_page_size: 1000,
        }
    }
}

/// A phone number the fake account starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedNumber {
    /// E.164.
    pub phone_number: String,
    /// Defaults to the formatted number, as in Twilio (`(415) 555-1234`).
    pub friendly_name: Option<String>,
    /// Where incoming calls go; unset by default.
    pub voice_url: Option<String>,
}

impl SeedNumber {
    /// A number with no name and no voice URL.
    pub fn new(phone_number: impl Into<String>) -> Self {
        Self {
            phone_number: phone_number.into(),
            friendly_name: None,
            voice_url: None,
        }
    }

    /// Sets the friendly name.
    pub fn named(mut self, friendly_name: impl Into<String>) -> Self {
        self.friendly_name = Some(friendly_name.into());
        self
    }

    /// Sets the voice URL.
    pub fn with_voice_url(mut self, voice_url: impl Into<String>) -> Self {
        self.voice_url = Some(voice_url.into());
        self
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, e.g. `/2010-04-01/Accounts/AC…/Calls/CA….json`.
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Decoded form pairs, in order (repeated keys kept).
    pub form: Vec<(String, String)>,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The Basic-auth user, if the header parsed (the password is not kept).
    pub auth_user: Option<String>,
    /// The status the fake answered with.
    pub status: u16,
}

impl RecordedRequest {
    /// The first form value named `name`, else the first query value.
    pub fn param(&self, name: &str) -> Option<&str> {
        account::param(&self.form, name).or_else(|| account::param(&self.query, name))
    }

    /// Every form value named `name`, in order.
    pub fn form_values<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        account::params(&self.form, name).collect()
    }
}

/// A call as the fake account holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeCall {
    /// `CA…`.
    pub sid: String,
    /// The calling party.
    pub from: String,
    /// The called party.
    pub to: String,
    /// Twilio's status spelling: `queued`, `ringing`, `in-progress`, `completed`, …
    pub status: String,
    /// `inbound` or `outbound-api`.
    pub direction: String,
    /// The TwiML URL (created calls, or the latest `Url` redirect).
    pub url: Option<String>,
    /// Where progress events go.
    pub status_callback: Option<String>,
    /// Inline TwiML the call was given, oldest first (a `Twiml` create, then each redirect).
    pub twiml: Vec<String>,
    /// RFC 2822.
    pub date_created: String,
}

/// A phone number as the fake account holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeNumber {
    /// `PN…`.
    pub sid: String,
    /// E.164.
    pub phone_number: String,
    /// Console label.
    pub friendly_name: String,
    /// Where incoming calls go.
    pub voice_url: Option<String>,
    /// `GET` or `POST`.
    pub voice_method: String,
    /// Where progress events go.
    pub status_callback: Option<String>,
    /// `GET` or `POST`.
    pub status_callback_method: String,
}

/// An outbound call just created through `POST /Calls.json`: what Twilio would now dial, and
/// where it would fetch TwiML once the callee answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCall {
    /// The new `CA…`.
    pub sid: String,
    /// The account it belongs to.
    pub account_sid: String,
    /// The callee.
    pub to: String,
    /// Our number.
    pub from: String,
    /// The voice webhook to fetch TwiML from.
    pub url: Option<String>,
    /// `Method` for `url` (default `POST`).
    pub method: String,
    /// Inline TwiML instead of `url`.
    pub twiml: Option<String>,
    /// Where progress events go.
    pub status_callback: Option<String>,
    /// `StatusCallbackMethod` (default `POST`).
    pub status_callback_method: String,
    /// The requested progress events (`initiated`, `ringing`, `answered`, `completed`).
    pub status_callback_events: Vec<String>,
    /// `Enable` or `DetectMessageEnd`.
    pub machine_detection: Option<String>,
    /// The whole create form, as sent.
    pub params: Vec<(String, String)>,
}

impl CreatedCall {
    /// The form Twilio posts to `url` when the callee answers (before any signature).
    pub fn voice_webhook_params(&self) -> Vec<(String, String)> {
        [
            ("AccountSid", self.account_sid.as_str()),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", self.sid.as_str()),
            ("CallStatus", "in-progress"),
            ("Called", self.to.as_str()),
            ("Caller", self.from.as_str()),
            ("Direction", "outbound-api"),
            ("From", self.from.as_str()),
            ("To", self.to.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

struct Shared {
    account: Mutex<Account>,
    created: mpsc::UnboundedSender<CreatedCall>,
}

impl Shared {
    /// A panicking test thread must not turn every later assertion into a poison error.
    fn account(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake; the server stops accepting connections when this is dropped.
pub struct FakeTwilio {
    addr: SocketAddr,
    account_sid: String,
    auth_token: String,
    shared: Arc<Shared>,
    created_calls: Mutex<Option<mpsc::UnboundedReceiver<CreatedCall>>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FakeTwilio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTwilio")
            .field("addr", &self.addr)
            .field("account_sid", &self.account_sid)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeTwilio {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeTwilio {
    /// Binds `127.0.0.1:0` and serves the account described by `options`.
    pub async fn start(options: FakeTwilioOptions) -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Binds `addr` (a fixed port for a long-running fake, `switchboard fakes`) and serves.
    pub async fn start_on(addr: SocketAddr, options: FakeTwilioOptions) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (created, created_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            account: Mutex::new(Account::new(
                options.account_sid.clone(),
                options.auth_token.clone(),
                options.max_page_size,
                options.numbers,
            )),
            created,
        });
        let router = dial::routes().fallback(answer).with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "fake Twilio stopped");
            }
        });
        Ok(Self {
            addr,
            account_sid: options.account_sid,
            auth_token: options.auth_token,
            shared,
            created_calls: Mutex::new(Some(created_rx)),
            task,
        })
    }

    /// The API base to configure clients with (`http://127.0.0.1:PORT`, no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The account SID the fake accepts.
    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// The auth token the fake accepts (also what a caller fake signs webhooks with).
    pub fn auth_token(&self) -> &str {
        &self.auth_token
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.account().requests.clone()
    }

    /// The most recent request.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.shared.account().requests.last().cloned()
    }

    /// The next `count` requests answer `status` (500, 503 or 429) with Twilio's error body,
    /// before authentication or routing; requests after them are served normally.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut account = self.shared.account();
        account.failures.extend(std::iter::repeat_n(status, count));
    }

    /// The channel on which each created call is announced; `None` once taken.
    pub fn take_created_calls(&self) -> Option<mpsc::UnboundedReceiver<CreatedCall>> {
        self.created_calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Registers an in-progress inbound call (as Twilio does when someone dials one of the
    /// numbers) and returns its `CallSid`, so hang-ups and redirects have a call to act on.
    pub fn start_inbound_call(&self, from: &str, to: &str) -> String {
        self.shared.account().start_inbound_call(from, to)
    }

    /// Moves a call to `status` (`ringing`, `in-progress`, `completed`, …), as the phone network
    /// would; false for an unknown sid.
    pub fn set_call_status(&self, sid: &str, status: &str) -> bool {
        let mut account = self.shared.account();
        match account.calls.iter_mut().find(|c| c.sid == sid) {
            Some(call) => {
                call.status = status.to_owned();
                true
            }
            None => false,
        }
    }

    /// A call by sid.
    pub fn call(&self, sid: &str) -> Option<FakeCall> {
        self.shared
            .account()
            .calls
            .iter()
            .find(|c| c.sid == sid)
            .cloned()
    }

    /// Every call, oldest first.
    pub fn calls(&self) -> Vec<FakeCall> {
        self.shared.account().calls.clone()
    }

    /// The account's numbers, in list order.
    pub fn numbers(&self) -> Vec<FakeNumber> {
        self.shared.account().numbers.clone()
    }

    /// A number by its E.164 spelling.
    pub fn number(&self, phone_number: &str) -> Option<FakeNumber> {
        self.shared
            .account()
            .numbers
            .iter()
            .find(|n| n.phone_number == phone_number)
            .cloned()
    }
}

/// The only handler: decode, let the account answer, encode.
async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri.query().map(decode_form).unwrap_or_default();
    let form = std::str::from_utf8(&body)
        .map(decode_form)
        .unwrap_or_default();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let answer = shared.account().handle(Incoming {
        method: method.as_str(),
        path: uri.path(),
        query,
        form,
        content_type,
        auth: basic_auth(&headers),
    });
    if let Some(created) = answer.created {
        // Nobody listening is fine: the call is still recorded.
        let _ = shared.created.send(created);
    }
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(answer.body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
    }
    response
}

fn decode_form(text: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(text).unwrap_or_default()
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}
