//! `spawn_app` and `TestApp`: a running server plus typed helpers to talk to it.

use std::collections::HashMap;

use futures::SinkExt;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, LOCATION};
use serde_json::{Value, json};
use server::config::Config;
use server::startup::Application;
use sqlx::PgPool;
use switchboard::fakes::twilio_caller::parse_stream;
use switchboard::twilio::signature::{RequestValidator, SIGNATURE_HEADER};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_util::sync::CancellationToken;

/// A running server on its own fresh database.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) pool: PgPool,
    /// A browser-like client: keeps cookies, does not follow redirects.
    pub(crate) client: reqwest::Client,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A Media Streams WebSocket to the server, as Twilio opens it.
pub(crate) type MediaSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One call's media stream from Twilio's side, after `connected` and `start`.
pub(crate) struct MediaStream {
    pub(crate) socket: MediaSocket,
    pub(crate) stream_sid: String,
    account_sid: String,
    call_sid: String,
    /// The last `sequenceNumber` sent (Twilio counts every message on the socket).
    sequence: u64,
    /// The last `media.chunk` sent.
    chunk: u64,
}

impl MediaStream {
    /// Sends one JSON message, numbered as Twilio numbers them.
    async fn send(&mut self, mut message: Value) {
        self.sequence += 1;
        message["sequenceNumber"] = json!(self.sequence.to_string());
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send to the server");
    }

    /// Sends 20 ms of caller audio (160 bytes of 8 kHz μ-law).
    pub(crate) async fn send_media(&mut self, audio: &[u8]) {
        use base64::Engine as _;
        let payload = base64::engine::general_purpose::STANDARD.encode(audio);
        self.chunk += 1;
        let media = json!({
            "event": "media", "streamSid": self.stream_sid,
            "media": {"track": "inbound", "chunk": self.chunk.to_string(),
                      "timestamp": ((self.chunk - 1) * 20).to_string(), "payload": payload},
        });
        self.send(media).await;
    }

    /// Echoes mark `name`: the phone has played the audio sent before it.
    pub(crate) async fn echo_mark(&mut self, name: &str) {
        let mark = json!({"event": "mark", "streamSid": self.stream_sid, "mark": {"name": name}});
        self.send(mark).await;
    }

    /// Ends the stream as Twilio does when the call leaves it: `stop`, then the close frame.
    pub(crate) async fn stop(&mut self) {
        let stop = json!({
            "event": "stop", "streamSid": self.stream_sid,
            "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
        });
        self.send(stop).await;
        let _ = self.socket.close(None).await;
    }
}

/// What a server function answered to a hydrated page.
#[derive(Debug)]
pub(crate) struct FnResponse {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
}

impl FnResponse {
    /// The `AppError` the server function returned, decoded from its JSON body.
    #[track_caller]
    pub(crate) fn app_error(&self) -> app::error::AppError {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not an AppError ({e}): {}", self.body))
    }
}

/// What every server in this test process logged, at `info` and above (`TEST_LOG=1` also
/// prints it), so a test can look for the lines about its own call.
static LOGS: std::sync::Mutex<Vec<u8>> = std::sync::Mutex::new(Vec::new());

/// The log lines so far that contain every one of `needles`.
pub(crate) fn logged_lines_with(needles: &[&str]) -> Vec<String> {
    let logs = LOGS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    String::from_utf8_lossy(&logs)
        .lines()
        .filter(|line| needles.iter().all(|needle| line.contains(needle)))
        .map(str::to_owned)
        .collect()
}

/// The test process's one subscriber: plain text into [`LOGS`], spans included.
fn capture_logs() {
    struct Capture;
    impl std::io::Write for Capture {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if std::env::var_os("TEST_LOG").is_some() {
                std::io::stderr().write_all(bytes)?;
            }
            LOGS.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter("info")
        .with_ansi(false)
        .with_writer(|| Capture)
        .try_init();
}

/// Starts the server with `extra` environment on top of the test defaults.
pub(crate) async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    capture_logs();
    let (url, pool) = switchboard::testing::fresh_database().await;
    let mut vars: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), url),
        ("LEPTOS_SITE_ADDR".into(), "127.0.0.1:0".into()),
        (
            "EMBEDDING_MODEL_DIR".into(),
            std::env::var("EMBEDDING_MODEL_DIR").unwrap_or_else(|_| {
                switchboard::testing::tools_dir()
                    .join("all-minilm-l6-v2")
                    .display()
                    .to_string()
            }),
        ),
        (
            "LEPTOS_SITE_ROOT".into(),
            std::env::temp_dir()
                .join("switchboard-no-site")
                .display()
                .to_string(),
        ),
    ]);
    for (k, v) in extra {
        vars.insert((*k).into(), (*v).into());
    }
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
    let app = Application::build(config).await.expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let shutdown = app.shutdown_token();
    let server = tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client");
    TestApp {
        address,
        pool,
        client,
        shutdown,
        server,
    }
}

/// Starts the server with the test defaults.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Calls a server function the way a hydrated page does.
    pub(crate) async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> FnResponse {
        let response = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .expect("POST server fn");
        Self::fn_response(response).await
    }

    /// Posts a form the way a browser without JavaScript does (from `referer`).
    pub(crate) async fn post_form(
        &self,
        endpoint: &str,
        referer: &str,
        form: &[(&str, &str)],
    ) -> FnResponse {
        let response = self
            .client
            .post(self.url(&format!("/api/{endpoint}")))
            .header(ACCEPT, "text/html")
            .header(reqwest::header::REFERER, self.url(referer))
            .header(reqwest::header::ORIGIN, &self.address)
            .form(form)
            .send()
            .await
            .expect("POST form");
        Self::fn_response(response).await
    }

    async fn fn_response(response: reqwest::Response) -> FnResponse {
        let status = response.status();
        let location = response
            .headers()
            .get(LOCATION)
            .map(|v| v.to_str().expect("ascii").to_owned());
        let body = response.text().await.expect("body");
        FnResponse {
            status,
            location,
            body,
        }
    }

    pub(crate) async fn sign_up(&self, org: &str, email: &str, password: &str) -> FnResponse {
        self.call(
            "signup",
            &[
                ("org_name", org),
                ("name", "Test Owner"),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    pub(crate) async fn log_in(&self, email: &str, password: &str) -> FnResponse {
        self.call("login", &[("email", email), ("password", password)])
            .await
    }

    pub(crate) async fn log_out(&self) -> FnResponse {
        self.call("logout", &[]).await
    }

    /// Who the server thinks we are (the `current_user` server function).
    pub(crate) async fn whoami(&self) -> Option<app::dto::UserView> {
        let response = self.call("me", &[]).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        serde_json::from_str(&response.body).expect("UserView JSON")
    }

    /// A new organization named `name` with an API key; returns `(org_id, key)`.
    pub(crate) async fn org_with_key(&self, name: &str) -> (uuid::Uuid, String) {
        let org = switchboard::testing::seed_org(&self.pool, name).await;
        let (_, key) = switchboard::store::api_keys::create(&self.pool, org, "tests", None)
            .await
            .expect("an API key");
        (org, key)
    }

    /// Connects the media stream that `twiml` (our voice webhook's answer to call `call_sid`)
    /// names, as Twilio does: the handshake signed with `auth_token` for the URL as written,
    /// sent to this server (the URL's host may be a public name), then `connected` and `start`
    /// with the TwiML's parameters.
    pub(crate) async fn connect_media_stream(
        &self,
        twiml: &str,
        auth_token: &str,
        account_sid: &str,
        call_sid: &str,
    ) -> MediaStream {
        let (url, parameters) =
            parse_stream(twiml).unwrap_or_else(|| panic!("no <Stream> in {twiml}"));
        let path = &url[url.find("/twilio/stream/").expect("a stream path")..];
        let local = format!("{}{path}", self.address.replacen("http://", "ws://", 1));
        let mut request = local.into_client_request().expect("a WebSocket request");
        let signature = RequestValidator::new(auth_token).compute::<&str, &str>(&url, &[]);
        request
            .headers_mut()
            .insert(SIGNATURE_HEADER, signature.parse().expect("a header value"));
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the stream upgrade is accepted");
        let stream_sid = format!("MZ{}", uuid::Uuid::new_v4().simple());
        let mut stream = MediaStream {
            socket,
            stream_sid: stream_sid.clone(),
            account_sid: account_sid.to_owned(),
            call_sid: call_sid.to_owned(),
            sequence: 0,
            chunk: 0,
        };
        let connected = json!({"event": "connected", "protocol": "Call", "version": "1.0.0"});
        stream
            .socket
            .send(Message::text(connected.to_string()))
            .await
            .expect("send to the server");
        stream
            .send(json!({
                "event": "start", "streamSid": stream_sid,
                "start": {
                    "streamSid": stream_sid, "accountSid": account_sid, "callSid": call_sid,
                    "tracks": ["inbound"], "customParameters": parameters,
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                },
            }))
            .await;
        stream
    }

    /// Stops the server as SIGTERM would, and waits for it.
    pub(crate) async fn stop(self) {
        self.shutdown.cancel();
        self.server
            .await
            .expect("server task")
            .expect("clean shutdown");
    }
}
