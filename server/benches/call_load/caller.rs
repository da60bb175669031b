//! A lean Twilio for load: the signed voice webhook, then the media stream, sending a stamped
//! 20 ms frame every 20 ms, echoing each mark as it arrives (the agent's audio arrives in real
//! time, so that is when a phone would reach it) and unstamping every agent frame.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use switchboard::fakes::twilio_caller::parse_stream;
use switchboard::twilio::signature::{RequestValidator, SIGNATURE_HEADER};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use crate::stamp::{FrameEncoder, json_str, now_us, read_stamps};

/// After the bench says stop: stay on the line this long, sending nothing, so frames in flight
/// arrive and the engine falls quiet; then hang up.
const HANG_UP_AFTER: Duration = Duration::from_millis(400);

/// Where and as whom to call.
#[derive(Clone)]
pub(crate) struct Line {
    pub(crate) base_url: String,
    pub(crate) auth_token: String,
    pub(crate) account_sid: String,
    pub(crate) to: String,
    pub(crate) http: reqwest::Client,
}

/// What one call measured.
#[derive(Default)]
pub(crate) struct CallerReport {
    /// Engine → caller latencies in µs, one per stamped frame.
    pub(crate) latencies: Vec<u32>,
    pub(crate) frames_sent: u64,
    pub(crate) marks_echoed: u64,
    pub(crate) clears: u64,
    /// The webhook's round trip (POST → TwiML), µs.
    pub(crate) webhook_us: u64,
    /// When the stream's socket opened and when `start` went out (bench clock, µs).
    pub(crate) opened_at: u64,
    pub(crate) start_sent_at: u64,
}

/// One call: runs until `stop` is cancelled (or the server ends it). `streaming` is cancelled
/// once `start` has gone out.
pub(crate) async fn call(
    line: &Line,
    call_sid: String,
    streaming: CancellationToken,
    stop: CancellationToken,
) -> anyhow::Result<CallerReport> {
    let mut report = CallerReport::default();
    let voice_url = format!("{}/twilio/voice", line.base_url);
    let params = [
        ("AccountSid", line.account_sid.as_str()),
        ("CallSid", call_sid.as_str()),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+15005550006"),
        ("To", line.to.as_str()),
    ];
    let validator = RequestValidator::new(&line.auth_token);
    let posted = now_us();
    let response = line
        .http
        .post(&voice_url)
        .header(SIGNATURE_HEADER, validator.compute(&voice_url, &params))
        .form(&params)
        .send()
        .await?;
    let status = response.status();
    let twiml = response.text().await?;
    report.webhook_us = now_us() - posted;
    anyhow::ensure!(status.is_success(), "webhook answered {status}: {twiml}");
    let (stream_url, parameters) =
        parse_stream(&twiml).ok_or_else(|| anyhow::anyhow!("no <Stream> in {twiml}"))?;

    // A small read buffer: tungstenite zeroes its free space before every read.
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let mut request = stream_url.as_str().into_client_request()?;
    let signature = validator.compute::<&str, &str>(&stream_url, &[]);
    request
        .headers_mut()
        .insert(SIGNATURE_HEADER, signature.parse()?);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
    report.opened_at = now_us();
    let stream_sid = format!("MZ{}", &call_sid[2..]);
    let custom = serde_json::Value::Object(parameters).to_string();
    ws.send(Message::text(
        r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
    ))
    .await?;
    let start = format!(
        r#"{{"event":"start","sequenceNumber":"1","streamSid":"{stream_sid}","start":{{"streamSid":"{stream_sid}","accountSid":"{}","callSid":"{call_sid}","tracks":["inbound"],"customParameters":{custom},"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#,
        line.account_sid
    );
    ws.send(Message::text(start)).await?;
    report.start_sent_at = now_us();
    streaming.cancel();

    let encoder = FrameEncoder::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut out = String::with_capacity(512);
    let mut sequence = 1u64;
    let mut hang_up_at: Option<tokio::time::Instant> = None;
    let mut closed_by_server = false;
    loop {
        let hang_up = async {
            match hang_up_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = stop.cancelled(), if hang_up_at.is_none() => {
                hang_up_at = Some(tokio::time::Instant::now() + HANG_UP_AFTER);
            }
            _ = hang_up => break,
            _ = ticker.tick(), if hang_up_at.is_none() => {
                sequence += 1;
                report.frames_sent += 1;
                out.clear();
                out.push_str(r#"{"event":"media","sequenceNumber":""#);
                out.push_str(&sequence.to_string());
                out.push_str(r#"","streamSid":""#);
                out.push_str(&stream_sid);
                out.push_str(r#"","media":{"track":"inbound","chunk":""#);
                out.push_str(&report.frames_sent.to_string());
                out.push_str(r#"","timestamp":""#);
                out.push_str(&(report.frames_sent * 20).to_string());
                out.push_str(r#"","payload":""#);
                encoder.push_frame(&mut out);
                out.push_str("\"}}");
                ws.send(Message::text(out.as_str())).await?;
            }
            message = ws.next() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => { closed_by_server = true; break; }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                };
                let text = text.as_str();
                match json_str(text, "event") {
                    Some("media") => {
                        if let Some(payload) = json_str(text, "payload") {
                            read_stamps(payload, |latency| {
                                report.latencies.push(latency.min(u64::from(u32::MAX)) as u32);
                            });
                        }
                    }
                    Some("mark") => {
                        let name = json_str(text, "name").unwrap_or_default();
                        sequence += 1;
                        let echo = format!(
                            r#"{{"event":"mark","sequenceNumber":"{sequence}","streamSid":"{stream_sid}","mark":{{"name":"{name}"}}}}"#
                        );
                        ws.send(Message::text(echo)).await?;
                        report.marks_echoed += 1;
                    }
                    Some("clear") => report.clears += 1,
                    _ => {}
                }
            }
        }
    }
    if !closed_by_server {
        sequence += 1;
        let stop = format!(
            r#"{{"event":"stop","sequenceNumber":"{sequence}","streamSid":"{stream_sid}","stop":{{"accountSid":"{}","callSid":"{call_sid}"}}}}"#,
            line.account_sid
        );
        let _ = ws.send(Message::text(stop)).await;
        let _ = ws.close(None).await;
    }
    Ok(report)
}
