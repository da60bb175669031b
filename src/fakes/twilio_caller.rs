//! A caller on Twilio's side of a call, written to the published protocols: it posts the signed
//! incoming-call webhook, opens the media stream the TwiML names (with the signed handshake),
//! sends the caller's audio as 20 ms μ-law frames in real time, and plays the agent's audio back
//! in real time — echoing each mark when playback reaches it and honouring `clear` (dropping
//! what is queued and echoing its marks at once), as a phone would.
//!
//! `switchboard simulate` drives a whole call with it; integration tests use it too.

use std::collections::VecDeque;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::audio::mulaw;
use crate::audio::pcm::{MULAW_FRAME_BYTES, SampleRate};
use crate::audio::resample::Resampler;
use crate::twilio::signature::{RequestValidator, SIGNATURE_HEADER};

/// One call to place.
#[derive(Debug, Clone)]
pub struct CallerOptions {
    /// The server, e.g. `http://127.0.0.1:3000` (its `PUBLIC_BASE_URL`).
    pub base_url: String,
    /// The server's `TWILIO_AUTH_TOKEN`, to sign as Twilio does.
    pub auth_token: String,
    /// The Account SID to claim.
    pub account_sid: String,
    /// This call's CallSid.
    pub call_sid: String,
    /// The caller's number.
    pub from: String,
    /// The number called (an agent's).
    pub to: String,
    /// The caller's audio: 8 kHz μ-law bytes, sent from the start of the stream.
    pub audio: Vec<u8>,
    /// How long to stay on the line after the audio ends, unless the call ends first.
    pub linger: Duration,
}

/// What happened on the call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallerReport {
    /// The TwiML the webhook answered.
    pub twiml: String,
    /// The agent's audio as played (8 kHz μ-law), `clear`s applied.
    pub agent_audio: Vec<u8>,
    /// From the stream's `start` to the first agent audio.
    pub first_audio_after: Option<Duration>,
    /// `clear` messages received (barge-ins).
    pub clears: usize,
    /// Marks echoed back.
    pub marks: usize,
    /// Whether the server closed the stream (the call was ended from its side).
    pub closed_by_server: bool,
}

/// Why the call could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum CallerError {
    /// The webhook failed or refused.
    #[error("the voice webhook answered {status}: {body}")]
    Webhook {
        /// HTTP status.
        status: u16,
        /// Its body.
        body: String,
    },
    /// The TwiML connects no stream (an unknown number or a paused agent says so and hangs up).
    #[error("the call was not connected to a stream; the TwiML was: {0}")]
    NoStream(String),
    /// HTTP failed.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The WebSocket failed.
    #[error("media stream: {0}")]
    Socket(#[from] tokio_tungstenite::tungstenite::Error),
}

/// Places the call and stays on it until the audio and `linger` are over or the server ends it.
pub async fn place_call(options: &CallerOptions) -> Result<CallerReport, CallerError> {
    let voice_url = format!("{}/twilio/voice", options.base_url.trim_end_matches('/'));
    let params = vec![
        ("AccountSid", options.account_sid.clone()),
        ("CallSid", options.call_sid.clone()),
        ("CallStatus", "ringing".to_owned()),
        ("Direction", "inbound".to_owned()),
        ("From", options.from.clone()),
        ("To", options.to.clone()),
    ];
    let validator = RequestValidator::new(&options.auth_token);
    let response = reqwest::Client::new()
        .post(&voice_url)
        .header(SIGNATURE_HEADER, validator.compute(&voice_url, &params))
        .form(&params)
        .send()
        .await?;
    let status = response.status().as_u16();
    let twiml = response.text().await?;
    if status != 200 {
        return Err(CallerError::Webhook {
            status,
            body: twiml,
        });
    }
    let (stream_url, parameters) =
        parse_stream(&twiml).ok_or_else(|| CallerError::NoStream(twiml.clone()))?;

    let mut request = stream_url.as_str().into_client_request()?;
    let signature = validator.compute::<&str, &str>(&stream_url, &[]);
    request.headers_mut().insert(
        SIGNATURE_HEADER,
        signature
            .parse()
            .expect("a signature is a valid header value"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let stream_sid = format!("MZ{}", &uuid::Uuid::new_v4().simple().to_string()[..32]);
    let mut sequence = 1u64;
    let next = |sequence: &mut u64| {
        *sequence += 1;
        sequence.to_string()
    };
    socket
        .send(Message::text(
            json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}).to_string(),
        ))
        .await?;
    let start = json!({
        "event": "start", "sequenceNumber": next(&mut sequence), "streamSid": stream_sid,
        "start": {
            "streamSid": stream_sid, "accountSid": options.account_sid, "callSid": options.call_sid,
            "tracks": ["inbound"], "customParameters": parameters,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    });
    socket.send(Message::text(start.to_string())).await?;

    let began = Instant::now();
    let mut report = CallerReport {
        twiml,
        ..CallerReport::default()
    };
    // The phone's playback queue: audio still to play and marks waiting behind it.
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let frames: Vec<&[u8]> = options.audio.chunks(MULAW_FRAME_BYTES).collect();
    let silence = [0xFFu8; MULAW_FRAME_BYTES];
    let total = frames.len() as u64 + options.linger.as_millis() as u64 / 20;
    let mut sent = 0u64;
    while sent < total {
        tokio::select! {
            _ = ticker.tick() => {
                let frame = frames.get(sent as usize).copied().unwrap_or(&silence);
                let media = json!({
                    "event": "media", "sequenceNumber": next(&mut sequence), "streamSid": stream_sid,
                    "media": {"track": "inbound", "chunk": (sent + 1).to_string(),
                              "timestamp": (sent * 20).to_string(), "payload": BASE64.encode(frame)},
                });
                socket.send(Message::text(media.to_string())).await?;
                sent += 1;
                // Play 20 ms of the agent, then echo the marks that playback has reached.
                play(&mut queue, MULAW_FRAME_BYTES, &mut report.agent_audio);
                while let Some(Queued::Mark(name)) = queue.front().cloned() {
                    queue.pop_front();
                    echo_mark(&mut socket, &stream_sid, &name, next(&mut sequence)).await?;
                    report.marks += 1;
                }
            }
            incoming = socket.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => { report.closed_by_server = true; break; }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Err(e.into()),
                };
                let Ok(msg) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                match msg["event"].as_str() {
                    Some("media") => {
                        let bytes = msg["media"]["payload"].as_str()
                            .and_then(|p| BASE64.decode(p).ok()).unwrap_or_default();
                        if report.first_audio_after.is_none() && !bytes.is_empty() {
                            report.first_audio_after = Some(began.elapsed());
                        }
                        queue.push_back(Queued::Audio(bytes));
                    }
                    Some("mark") => {
                        let name = msg["mark"]["name"].as_str().unwrap_or_default().to_owned();
                        queue.push_back(Queued::Mark(name));
                    }
                    Some("clear") => {
                        report.clears += 1;
                        // Twilio drops the queued audio and returns the pending marks at once.
                        for item in std::mem::take(&mut queue) {
                            if let Queued::Mark(name) = item {
                                echo_mark(&mut socket, &stream_sid, &name, next(&mut sequence)).await?;
                                report.marks += 1;
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if !report.closed_by_server {
        let stop = json!({
            "event": "stop", "sequenceNumber": next(&mut sequence), "streamSid": stream_sid,
            "stop": {"accountSid": options.account_sid, "callSid": options.call_sid},
        });
        let _ = socket.send(Message::text(stop.to_string())).await;
        let _ = socket.close(None).await;
    }
    Ok(report)
}

#[derive(Debug, Clone)]
enum Queued {
    Audio(Vec<u8>),
    Mark(String),
}

/// Plays up to `bytes` of queued audio into `played`.
fn play(queue: &mut VecDeque<Queued>, mut bytes: usize, played: &mut Vec<u8>) {
    while bytes > 0 {
        let Some(Queued::Audio(audio)) = queue.front_mut() else {
            return;
        };
        let take = bytes.min(audio.len());
        played.extend(audio.drain(..take));
        bytes -= take;
        if audio.is_empty() {
            queue.pop_front();
        }
    }
}

async fn echo_mark<S>(
    socket: &mut S,
    stream_sid: &str,
    name: &str,
    sequence: String,
) -> Result<(), CallerError>
where
    S: futures::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    let mark = json!({"event": "mark", "sequenceNumber": sequence, "streamSid": stream_sid, "mark": {"name": name}});
    socket.send(Message::text(mark.to_string())).await?;
    Ok(())
}

/// The `<Stream url>` of `<Connect>` and its `<Parameter>`s.
pub fn parse_stream(twiml: &str) -> Option<(String, serde_json::Map<String, Value>)> {
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(twiml);
    let mut url = None;
    let mut parameters = serde_json::Map::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &str| {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name)
                        .and_then(|a| a.normalized_value(XmlVersion::Implicit1_0).ok())
                        .map(|v| v.into_owned())
                };
                match e.name().as_ref() {
                    "Stream" => url = attr("url"),
                    "Parameter" => {
                        if let (Some(name), Some(value)) = (attr("name"), attr("value")) {
                            parameters.insert(name, Value::String(value));
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    url.map(|url| (url, parameters))
}

/// Reads a mono WAV (8, 16, 24 or 48 kHz, 16-bit PCM or 8 kHz μ-law) as 8 kHz μ-law.
pub fn read_wav(path: &std::path::Path) -> Result<Vec<u8>, String> {
    let mut reader =
        hound::WavReader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = reader.spec();
    if spec.channels != 1 {
        return Err(format!(
            "{}: use a mono WAV (it has {} channels)",
            path.display(),
            spec.channels
        ));
    }
    if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(format!(
            "{}: use 16-bit PCM (it has {}-bit {:?})",
            path.display(),
            spec.bits_per_sample,
            spec.sample_format
        ));
    }
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let rate = SampleRate::new(spec.sample_rate)
        .filter(|r| [8_000, 16_000, 24_000, 48_000].contains(&r.hz()))
        .ok_or_else(|| {
            format!(
                "{}: use 8, 16, 24 or 48 kHz (it has {} Hz)",
                path.display(),
                spec.sample_rate
            )
        })?;
    let samples = if rate == SampleRate::HZ_8000 {
        samples
    } else {
        let mut resampler = Resampler::new(rate, SampleRate::HZ_8000).map_err(|e| e.to_string())?;
        resampler.process(&samples)
    };
    Ok(mulaw::encode_to_vec(&samples))
}

/// Writes 8 kHz μ-law audio as a 16-bit PCM mono WAV.
pub fn write_wav(path: &std::path::Path, mulaw_audio: &[u8]) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer =
        hound::WavWriter::create(path, spec).map_err(|e| format!("{}: {e}", path.display()))?;
    for sample in mulaw::decode_to_vec(mulaw_audio) {
        writer.write_sample(sample).map_err(|e| e.to_string())?;
    }
    writer.finalize().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_and_its_parameters_are_read_from_twiml() {
        let twiml = r#"<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi</Say><Connect><Stream url="wss://x.example/twilio/stream/abc"><Parameter name="call_id" value="c1"/><Parameter name="agent_id" value="a&amp;1"/></Stream></Connect></Response>"#;
        let (url, parameters) = parse_stream(twiml).unwrap();
        assert_eq!(url, "wss://x.example/twilio/stream/abc");
        assert_eq!(parameters["call_id"], "c1");
        assert_eq!(parameters["agent_id"], "a&1");
        assert_eq!(
            parse_stream("<Response><Say>Bye</Say><Hangup/></Response>"),
            None
        );
    }

    #[test]
    fn playback_takes_audio_in_order_and_stops_at_a_mark() {
        let mut queue = VecDeque::from([
            Queued::Audio(vec![1; 100]),
            Queued::Audio(vec![2; 100]),
            Queued::Mark("m1".into()),
            Queued::Audio(vec![3; 100]),
        ]);
        let mut played = Vec::new();
        play(&mut queue, 160, &mut played);
        assert_eq!(played.len(), 160);
        assert_eq!((played[99], played[100]), (1, 2));
        play(&mut queue, 160, &mut played);
        assert_eq!(played.len(), 200, "stops at the mark");
        assert!(matches!(queue.front(), Some(Queued::Mark(name)) if name == "m1"));
    }

    #[test]
    fn wav_files_round_trip_through_mulaw_at_8_khz() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for n in 0..16_000 {
            let t = n as f32 / 16_000.0;
            writer
                .write_sample(((t * 440.0 * std::f32::consts::TAU).sin() * 8_000.0) as i16)
                .unwrap();
        }
        writer.finalize().unwrap();
        let audio = read_wav(&path).unwrap();
        assert!(
            (7_900..=8_100).contains(&audio.len()),
            "1 s at 8 kHz: {}",
            audio.len()
        );
        let out = dir.path().join("out.wav");
        write_wav(&out, &audio).unwrap();
        let back = hound::WavReader::open(&out).unwrap();
        assert_eq!(
            (back.spec().sample_rate, back.len() as usize),
            (8_000, audio.len())
        );

        let stereo = dir.path().join("stereo.wav");
        let mut writer = hound::WavWriter::create(
            &stereo,
            hound::WavSpec {
                channels: 2,
                ..spec
            },
        )
        .unwrap();
        writer.write_sample(0i16).unwrap();
        writer.write_sample(0i16).unwrap();
        writer.finalize().unwrap();
        assert!(read_wav(&stereo).unwrap_err().contains("mono"));
    }
}
