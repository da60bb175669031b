//! A fake of OpenAI's HTTP API on `127.0.0.1:0`, for embedder and chat-client tests and `simulate`.
//!
//! It serves `POST /v1/embeddings` ([`embeddings`]) and `POST /v1/chat/completions` ([`chat`])
//! with the published request and response shapes (and, once [`FakeOpenAi::relay_realtime`]
//! names a [`FakeRealtime`](crate::fakes::openai_realtime::FakeRealtime), `GET /v1/realtime` on
//! the same base URL, as OpenAI serves it), checks `Authorization: Bearer …`, answers
//! errors as `{"error": {"message", "type", "param", "code"}}`, and records every request it
//! receives ([`FakeOpenAi::requests`]). Tests inject failures ([`FakeOpenAi::fail_next`],
//! [`FakeOpenAi::reject_credentials`]) to exercise retries and error mapping. Responses are
//! deterministic: embeddings hash the text's words, chat replies are scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub mod chat;
pub mod embeddings;
mod error;
mod realtime_relay;

pub use embeddings::fake_embedding;

use error::ApiError;

/// How the fake behaves before any control is used.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeOpenAiOptions {
    /// The only key accepted, when set; otherwise any non-empty bearer token is.
    pub api_key: Option<String>,
    /// The assistant's text for chat completions without a JSON response format.
    pub chat_reply: String,
    /// The JSON returned for `json_schema`/`json_object` response formats; `None` builds a
    /// placeholder from the request's schema ([`chat::placeholder_for_schema`]).
    pub chat_json: Option<Value>,
}

impl Default for FakeOpenAiOptions {
    fn default() -> Self {
        Self {
            api_key: None,
            chat_reply: "This is a scripted reply from the fake OpenAI API.".into(),
            chat_json: None,
        }
    }
}

/// A failure the fake answers instead of doing the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InjectedFailure {
    /// `429 rate_limit_exceeded`, with `Retry-After: <seconds>` when given.
    RateLimited {
        /// The `Retry-After` value in whole seconds.
        retry_after_secs: Option<u64>,
    },
    /// `429 insufficient_quota`: the account is out of credit (clients must not retry).
    InsufficientQuota,
    /// `500 server_error`.
    ServerError,
    /// `503`, the "engine is overloaded" answer.
    Overloaded,
}

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// When it arrived (wall clock, for lower-bound checks on retry delays).
    pub received_at: Instant,
    /// The request path, e.g. `/v1/embeddings`.
    pub path: String,
    /// The body's `model`, when it had one.
    pub model: Option<String>,
    /// Texts to embed, or chat messages; 0 when the body was unreadable.
    pub input_count: usize,
    /// Whether a non-empty `Authorization: Bearer` header came with it.
    pub has_bearer: bool,
    /// The status the fake answered.
    pub status: u16,
    /// The parsed JSON body (`Null` when it did not parse).
    pub body: Value,
}

impl RecordedRequest {
    /// The chat messages as `(role, text)`; array contents are joined text parts.
    pub fn messages(&self) -> Vec<(String, String)> {
        chat::message_texts(&self.body)
    }
}

/// A running fake; dropping the handle stops it (see [`FakeOpenAi::shutdown`] to wait for that).
#[derive(Debug)]
pub struct FakeOpenAi {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        // A graceful stop rather than an abort: axum then also closes idle keep-alive
        // connections, so a pooled client cannot keep talking to a dropped fake.
        self.stop.cancel();
    }
}

impl FakeOpenAi {
    /// Binds `127.0.0.1:0` and starts serving.
    pub async fn start(options: FakeOpenAiOptions) -> std::io::Result<Self> {
        Self::start_on(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), options).await
    }

    /// Binds `addr` (a fixed port for a long-running fake, `switchboard fakes`) and serves.
    pub async fn start_on(
        addr: std::net::SocketAddr,
        options: FakeOpenAiOptions,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(FakeState {
                options,
                failures: VecDeque::new(),
                reject_credentials: false,
                requests: Vec::new(),
            }),
            realtime: Mutex::new(None),
        });
        let app = router(shared.clone());
        let stop = CancellationToken::new();
        let stopped = stop.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            // Never fails: axum's serve loop retries failed accepts itself.
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stopped)
                .await;
        });
        Ok(Self {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }

    /// Serves the Realtime WebSocket at `{base_url}/realtime` by relaying to `realtime`, so one
    /// base URL covers the whole API, as `OPENAI_BASE_URL` does for the real one.
    pub fn relay_realtime(&self, realtime: &crate::fakes::openai_realtime::FakeRealtime) {
        let url = realtime.base_url().replacen("http://", "ws://", 1) + "/realtime";
        *self
            .shared
            .realtime
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(url);
    }

    /// Stops accepting, closes idle connections and waits for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            // The task only ends by returning; a panic in it is already reported by tokio.
            let _ = task.await;
        }
    }

    /// The base URL to configure as the OpenAI base (`http://127.0.0.1:PORT/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Every request answered so far, in the order answered (arrival order for one client).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.with(|s| s.requests.clone())
    }

    /// Requests received on one path (`"/v1/embeddings"`).
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.shared.with(|s| {
            s.requests
                .iter()
                .filter(|r| r.path == path)
                .cloned()
                .collect()
        })
    }

    /// Answers the next `count` authorised requests with `failure` (after earlier injections).
    pub fn fail_next(&self, count: usize, failure: InjectedFailure) {
        if count > 0 {
            self.shared.with(|s| s.failures.push_back((failure, count)));
        }
    }

    /// Answers every request with `failure` until [`FakeOpenAi::clear_failures`].
    pub fn fail_always(&self, failure: InjectedFailure) {
        self.fail_next(usize::MAX, failure);
    }

    /// Drops all pending injected failures.
    pub fn clear_failures(&self) {
        self.shared.with(|s| s.failures.clear());
    }

    /// While on, every request is answered `401 invalid_api_key`, as for a revoked key.
    pub fn reject_credentials(&self, on: bool) {
        self.shared.with(|s| s.reject_credentials = on);
    }

    /// Changes the scripted chat text.
    pub fn set_chat_reply(&self, text: impl Into<String>) {
        let text = text.into();
        self.shared.with(|s| s.options.chat_reply = text);
    }

    /// Changes the scripted chat JSON (`None`: placeholder from the request's schema).
    pub fn set_chat_json(&self, json: Option<Value>) {
        self.shared.with(|s| s.options.chat_json = json);
    }
}

#[derive(Debug)]
struct Shared {
    state: Mutex<FakeState>,
    /// `ws://…/v1/realtime` of the Realtime fake that `/v1/realtime` relays to.
    realtime: Mutex<Option<String>>,
}

#[derive(Debug)]
struct FakeState {
    options: FakeOpenAiOptions,
    failures: VecDeque<(InjectedFailure, usize)>,
    reject_credentials: bool,
    requests: Vec<RecordedRequest>,
}

impl Shared {
    // A panicking test thread must not hide the record from the others, so poison is ignored.
    fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Runs one request through auth, injected failures and the endpoint, recording it.
    fn handle(
        &self,
        path: &str,
        headers: &HeaderMap,
        body: &[u8],
        endpoint: impl FnOnce(&Value, &FakeOpenAiOptions) -> Result<Value, ApiError>,
    ) -> Response {
        let received_at = Instant::now();
        let bearer = bearer_token(headers);
        let parsed = serde_json::from_slice::<Value>(body);
        // Decide under the lock, compute outside it, so concurrent requests do not queue.
        let admitted = self.with(|state| match bearer {
            // The real API checks credentials before anything else.
            None => Err(ApiError::missing_key()),
            Some(key) if state.rejects(key) => Err(ApiError::wrong_key(key)),
            Some(_) => match state.take_failure() {
                Some(failure) => Err(ApiError::injected(failure, path)),
                None => Ok(state.options.clone()),
            },
        });
        let outcome = admitted.and_then(|options| match &parsed {
            Ok(request) => endpoint(request, &options),
            Err(e) => Err(ApiError::bad_json(e)),
        });
        let (status, response) = match outcome {
            Ok(json) => (StatusCode::OK, axum::Json(json).into_response()),
            Err(error) => (error.status, error.into_response()),
        };
        let body = parsed.unwrap_or(Value::Null);
        let record = RecordedRequest {
            received_at,
            path: path.to_owned(),
            model: body["model"].as_str().map(str::to_owned),
            input_count: input_count(path, &body),
            has_bearer: bearer.is_some(),
            status: status.as_u16(),
            body,
        };
        self.with(|state| state.requests.push(record));
        response
    }
}

impl FakeState {
    fn rejects(&self, key: &str) -> bool {
        self.reject_credentials || self.options.api_key.as_deref().is_some_and(|k| k != key)
    }

    fn take_failure(&mut self) -> Option<InjectedFailure> {
        let (failure, left) = self.failures.front_mut()?;
        let failure = *failure;
        *left -= 1;
        if *left == 0 {
            self.failures.pop_front();
        }
        Some(failure)
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/embeddings", post(create_embeddings))
        .route("/v1/chat/completions", post(create_chat_completion))
        .route("/v1/realtime", axum::routing::get(realtime_relay::upgrade))
        .fallback(unknown_route)
        .with_state(shared)
}

async fn create_embeddings(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.handle("/v1/embeddings", &headers, &body, embeddings::respond)
}

async fn create_chat_completion(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.handle("/v1/chat/completions", &headers, &body, chat::respond)
}

async fn unknown_route(method: Method, uri: Uri) -> Response {
    ApiError::invalid_request(
        StatusCode::NOT_FOUND,
        format!("Invalid URL ({method} {})", uri.path()),
        None,
    )
    .into_response()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?.trim();
    (!token.is_empty()).then_some(token)
}

fn input_count(path: &str, body: &Value) -> usize {
    if path.ends_with("/embeddings") {
        match &body["input"] {
            Value::Array(items) if items.iter().all(Value::is_number) => 1,
            Value::Array(items) => items.len(),
            Value::String(_) => 1,
            _ => 0,
        }
    } else {
        body["messages"].as_array().map_or(0, Vec::len)
    }
}

/// Rough token count for `usage`: about four characters per token, at least one.
pub(crate) fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(4).max(1)).unwrap_or(u32::MAX)
}

/// Whole seconds since the Unix epoch, for `created` fields.
pub(crate) fn unix_now() -> u32 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u32::try_from(since.as_secs()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
