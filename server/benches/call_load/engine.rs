//! A lean fake of the OpenAI Realtime API for load: it answers `session.update`, and from the
//! first `response.create` streams the agent's voice as one stamped 20 ms frame every 20 ms
//! until the caller falls quiet. Every caller frame it receives is unstamped into a latency.
//! It never detects speech, so the call is two people talking over each other for as long as
//! the bench likes: the media path at full duplex, which is what the load is about.
//!
//! The same address serves each call's summary job (`POST /v1/chat/completions`) by passing the
//! connection to the project's OpenAI HTTP fake, as one `OPENAI_BASE_URL` covers both for OpenAI,
//! so no summary fails and retries in the background of the load.
//!
//! When the agent does not talk (`--traffic caller`), the engine instead hears the caller start
//! speaking at once and never stop, and answers any response at once with no audio: the agent
//! listens to a monologue, and only the caller's line is streamed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::stamp::{FrameEncoder, json_str, now_us, read_stamps};

/// After this long without caller audio the agent stops talking (the call is ending).
const QUIET_US: u64 = 100_000;

/// What every engine connection adds to.
#[derive(Default)]
pub(crate) struct EngineTotals {
    /// Caller → engine latencies in µs, one per stamped frame.
    pub(crate) latencies: Mutex<Vec<u32>>,
    /// Agent frames sent.
    pub(crate) frames_out: AtomicU64,
    /// Connections accepted.
    pub(crate) connections: AtomicU64,
}

/// Serves engine connections on `listener` until the process ends, and hands HTTP requests to
/// `http_api` (the OpenAI HTTP fake). Each `session.update`'s arrival time (µs) goes to `updates`.
pub(crate) fn serve(
    listener: TcpListener,
    http_api: SocketAddr,
    totals: Arc<EngineTotals>,
    updates: mpsc::UnboundedSender<u64>,
    agent_talks: bool,
) {
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let (totals, updates) = (totals.clone(), updates.clone());
            tokio::spawn(async move {
                // The same base URL serves the chat completion of each call's summary job.
                let mut method = [0u8; 5];
                if socket
                    .peek(&mut method)
                    .await
                    .is_ok_and(|n| &method[..n] == b"POST ")
                {
                    return pass_to(socket, http_api).await;
                }
                let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
                if let Ok(ws) =
                    tokio_tungstenite::accept_async_with_config(socket, Some(config)).await
                {
                    totals.connections.fetch_add(1, Ordering::Relaxed);
                    connection(ws, &totals, &updates, agent_talks).await;
                }
            });
        }
    });
}

async fn connection(
    mut ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    totals: &EngineTotals,
    updates: &mpsc::UnboundedSender<u64>,
    agent_talks: bool,
) {
    let encoder = FrameEncoder::new();
    let mut latencies: Vec<u32> = Vec::with_capacity(4096);
    let mut streaming = false;
    let mut last_audio: Option<u64> = None;
    let mut frames_out = 0u64;
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut out = String::with_capacity(512);
    loop {
        tokio::select! {
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let text = text.as_str();
                if let Some(audio) = json_str(text, "audio") {
                    last_audio = Some(now_us());
                    read_stamps(audio, |latency| latencies.push(latency.min(u64::from(u32::MAX)) as u32));
                    continue;
                }
                match json_str(text, "type") {
                    Some("session.update") => {
                        let _ = updates.send(now_us());
                        let reply = r#"{"type":"session.updated","session":{"id":"sess_load","model":"gpt-realtime"}}"#;
                        if ws.send(Message::text(reply)).await.is_err() { break; }
                        let speaking = r#"{"type":"input_audio_buffer.speech_started","audio_start_ms":0,"item_id":"item_caller"}"#;
                        if !agent_talks && ws.send(Message::text(speaking)).await.is_err() { break; }
                    }
                    Some("response.create") if !agent_talks => {
                        let created = r#"{"type":"response.created","response":{"id":"resp_quiet","status":"in_progress"}}"#;
                        let done = r#"{"type":"response.done","response":{"id":"resp_quiet","status":"completed","output":[]}}"#;
                        if ws.send(Message::text(created)).await.is_err() || ws.send(Message::text(done)).await.is_err() { break; }
                    }
                    Some("response.create") if !streaming => {
                        streaming = true;
                        let created = r#"{"type":"response.created","response":{"id":"resp_load","status":"in_progress"}}"#;
                        let added = r#"{"type":"response.output_item.added","response_id":"resp_load","output_index":0,"item":{"type":"message","id":"item_load","role":"assistant","status":"in_progress"}}"#;
                        if ws.send(Message::text(created)).await.is_err() || ws.send(Message::text(added)).await.is_err() { break; }
                    }
                    _ => {}
                }
            }
            _ = ticker.tick(), if streaming => {
                if last_audio.is_some_and(|at| now_us().saturating_sub(at) > QUIET_US) {
                    streaming = false; // the caller is hanging up
                    continue;
                }
                out.clear();
                out.push_str(r#"{"type":"response.output_audio.delta","response_id":"resp_load","item_id":"item_load","output_index":0,"content_index":0,"delta":""#);
                encoder.push_frame(&mut out);
                out.push_str("\"}");
                if ws.send(Message::text(out.as_str())).await.is_err() { break; }
                frames_out += 1;
            }
        }
    }
    totals.frames_out.fetch_add(frames_out, Ordering::Relaxed);
    totals
        .latencies
        .lock()
        .expect("no panics while holding it")
        .extend(latencies);
}

/// Joins `socket` to a new connection to `upstream` until either side closes.
async fn pass_to(mut socket: tokio::net::TcpStream, upstream: SocketAddr) {
    if let Ok(mut upstream) = tokio::net::TcpStream::connect(upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut socket, &mut upstream).await;
    }
}
