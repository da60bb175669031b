//! The OpenAI Realtime (GA) engine over a WebSocket: connects, sends [`EngineCommand`]s through
//! the [`RealtimeAdapter`] and reads [`EngineEvent`]s back. It only translates; the call decides.

use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::{Engine, EngineCommand, EngineConnector, EngineIoError, EngineRead};
use crate::realtime::{RealtimeAdapter, RealtimeClientEvent, RealtimeServerEvent};

/// The engine socket's read buffer (see [`OpenAiRealtime::connect`]): a 100 ms μ-law delta
/// (about 1.3 KB of JSON) fits one read; a PCM16 one (about 6.5 KB) takes two. tungstenite
/// zeroes this much before every read, which at 16 KiB was 3 % of the server's CPU under
/// `call_load`.
const READ_BUFFER_BYTES: usize = 4 * 1024;

/// Where and how to reach the Realtime API. `Debug` never prints the key.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenAiRealtimeConfig {
    /// The API base URL, e.g. `https://api.openai.com/v1` (or a fake's `http://127.0.0.1:PORT/v1`).
    pub base_url: String,
    /// The model, e.g. `gpt-realtime`.
    pub model: String,
    /// The API key, sent as `Authorization: Bearer …`.
    pub api_key: String,
}

impl std::fmt::Debug for OpenAiRealtimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiRealtimeConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &"***")
            .finish()
    }
}

impl OpenAiRealtimeConfig {
    /// The WebSocket URL: `https` → `wss`, `http` → `ws`, then `/realtime?model=…`.
    pub fn websocket_url(&self) -> String {
        let base = self.base_url.trim_end_matches('/');
        let base = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            base.to_owned()
        };
        format!("{base}/realtime?model={}", self.model)
    }
}

/// The TLS settings of every wss:// engine connection, built on first use. Left to
/// tokio-tungstenite, each connection would load and parse the system's root certificates again:
/// about 2.5 ms (145 roots on Debian) on the path to every call's greeting, and every reconnect's.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, EngineIoError> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut roots = rustls::RootCertStore::empty();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(format!(
                    "no usable root certificates on this system for wss:// (errors: {:?})",
                    found.errors
                ));
            }
            tracing::debug!(roots = added, "loaded root certificates for wss://");
            Ok(Arc::new(
                rustls::ClientConfig::builder()
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
            ))
        })
        .clone()
        .map_err(EngineIoError)
}

impl EngineConnector for OpenAiRealtimeConfig {
    type Engine = OpenAiRealtime<MaybeTlsStream<tokio::net::TcpStream>>;

    fn connect(&self) -> BoxFuture<'static, Result<Self::Engine, EngineIoError>> {
        let config = self.clone();
        Box::pin(async move { OpenAiRealtime::connect(&config).await })
    }
}

/// One open Realtime session. [`Engine::close`] sends a close frame; dropping it without closing
/// drops the TCP connection, so the socket never outlives the call either way.
#[derive(Debug)]
pub struct OpenAiRealtime<S> {
    ws: WebSocketStream<S>,
    adapter: RealtimeAdapter,
    events: Vec<RealtimeClientEvent<'static>>,
    buf: String,
    closed: bool,
}

impl OpenAiRealtime<MaybeTlsStream<tokio::net::TcpStream>> {
    /// Opens the WebSocket (no `OpenAI-Beta` header: the GA protocol).
    pub async fn connect(config: &OpenAiRealtimeConfig) -> Result<Self, EngineIoError> {
        let mut request = config
            .websocket_url()
            .into_client_request()
            .map_err(|e| EngineIoError(format!("bad realtime url: {e}")))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", config.api_key))
            .map_err(|e| EngineIoError(format!("bad api key: {e}")))?;
        request.headers_mut().insert("Authorization", bearer);
        // tungstenite zeroes its read buffer's free space before every read: the 128 KiB
        // default costs more than the frame. Audio deltas are a few KiB; larger frames still
        // arrive, in several reads. Nagle's algorithm would hold small frames back.
        let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
        let tls = match request.uri().scheme_str() {
            Some("wss") => Some(Connector::Rustls(tls_config()?)),
            _ => None,
        };
        let (ws, _) =
            tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, tls)
                .await
                .map_err(|e| EngineIoError(format!("realtime connect: {e}")))?;
        Ok(Self::from_socket(ws))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> OpenAiRealtime<S> {
    /// Wraps an already open WebSocket (tests use `tokio::io::duplex`).
    pub fn from_socket(ws: WebSocketStream<S>) -> Self {
        Self {
            ws,
            adapter: RealtimeAdapter::new(),
            events: Vec::with_capacity(4),
            buf: String::with_capacity(1024),
            closed: false,
        }
    }

    async fn send_command(&mut self, command: EngineCommand) -> Result<(), EngineIoError> {
        self.events.clear();
        self.adapter.client_events(command, &mut self.events);
        // Queued, then written together: one write for a command's events.
        for event in self.events.drain(..) {
            event.write_json(&mut self.buf);
            self.ws
                .feed(Message::text(self.buf.clone()))
                .await
                .map_err(|e| EngineIoError(format!("realtime send: {e}")))?;
        }
        self.ws
            .flush()
            .await
            .map_err(|e| EngineIoError(format!("realtime send: {e}")))
    }

    /// Cancel-safe: the only await is `StreamExt::next`, and no state is held across it.
    async fn read_event(&mut self) -> EngineRead {
        loop {
            let text = match self.ws.next().await {
                None => return EngineRead::Closed("socket ended".into()),
                Some(Err(e)) => return EngineRead::Closed(e.to_string()),
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(frame))) => {
                    return EngineRead::Closed(format!("closed by server: {frame:?}"));
                }
                Some(Ok(_)) => continue,
            };
            let event = match RealtimeServerEvent::decode(text.as_str()) {
                Ok(event) => event,
                Err(e) => return EngineRead::Malformed(e.to_string()),
            };
            match self.adapter.engine_event(event) {
                Ok(Some(event)) => return EngineRead::Event(event),
                Ok(None) => continue,
                Err(e) => return EngineRead::Malformed(e.to_string()),
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Engine for OpenAiRealtime<S> {
    fn send(&mut self, command: EngineCommand) -> BoxFuture<'_, Result<(), EngineIoError>> {
        Box::pin(self.send_command(command))
    }

    fn next_event(&mut self) -> BoxFuture<'_, EngineRead> {
        Box::pin(self.read_event())
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if !self.closed {
                self.closed = true;
                // Best effort: the peer may already be gone; dropping the socket closes TCP anyway.
                let _ = self.ws.close(None).await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(base_url: &str) -> OpenAiRealtimeConfig {
        OpenAiRealtimeConfig {
            base_url: base_url.into(),
            model: "gpt-realtime".into(),
            api_key: "sk-test".into(),
        }
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let printed = format!("{:?}", config("https://api.openai.com/v1"));
        assert!(!printed.contains("sk-test"), "{printed}");
        assert!(printed.contains("gpt-realtime"));
    }

    #[test]
    fn a_tls_client_config_can_be_built_for_wss() {
        // Panics when no rustls crypto provider is compiled in, which would break every wss:// call.
        let _ = rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
    }

    #[test]
    fn every_wss_connection_shares_one_tls_config() {
        match (tls_config(), tls_config()) {
            (Ok(first), Ok(second)) => assert!(
                Arc::ptr_eq(&first, &second),
                "the root certificates were loaded twice"
            ),
            // A system without root certificates: the same clear error every time.
            (Err(first), Err(second)) => {
                assert_eq!(first, second);
                assert!(first.0.contains("root certificates"), "{first}");
            }
            (first, second) => panic!("{first:?} then {second:?}"),
        }
    }

    #[test]
    fn an_https_base_url_becomes_a_wss_realtime_url() {
        assert_eq!(
            config("https://api.openai.com/v1").websocket_url(),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime"
        );
    }

    #[test]
    fn an_http_base_url_with_a_trailing_slash_becomes_a_ws_url() {
        assert_eq!(
            config("http://127.0.0.1:4000/v1/").websocket_url(),
            "ws://127.0.0.1:4000/v1/realtime?model=gpt-realtime"
        );
    }
}
