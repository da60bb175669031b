//! `CallSession` on the hot path: one inbound Twilio media frame (forwarded to the engine as the
//! same base64), and one 100 ms agent audio delta (framed into five 20 ms Twilio media messages
//! plus a mark).
//!
//! Run: `cargo bench -p switchboard --bench call_session -- --warm-up-time 1 --measurement-time 3`

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use switchboard::call::{CallInput, CallSession, CallTime, Greeting, SessionConfig};
use switchboard::engines::{AgentAudio, EngineEvent};
use switchboard::twilio::TwilioInbound;
use switchboard::twilio::media::{MediaChunk, MediaFormat, StreamStart, Track};

const STREAM: &str = "MZ18ad3ab5a668481ce02b83e7395059f0";

/// A session whose stream has started (caller speaks first, so nothing is pending).
fn started_session() -> CallSession {
    let mut config = SessionConfig::new("You are the front desk of Acme Dental.");
    config.greeting = Greeting::CallerFirst;
    let mut session = CallSession::new(config);
    let start = TwilioInbound::Start(StreamStart {
        sequence_number: Some(1),
        stream_sid: STREAM.into(),
        account_sid: "AC0001".into(),
        call_sid: "CA0001".into(),
        tracks: vec![Track::Inbound],
        custom_parameters: BTreeMap::new(),
        media_format: MediaFormat::mulaw_8k(),
    });
    session
        .handle(CallInput::Twilio(start), CallTime::ZERO)
        .for_each(drop);
    session
}

fn inbound_media(c: &mut Criterion) {
    let mut session = started_session();
    let payload = STANDARD.encode([0x7Fu8; 160]);
    let now = CallTime::from_millis(1_000);
    let mut group = c.benchmark_group("call_session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("inbound_media_frame", |b| {
        b.iter(|| {
            let media = TwilioInbound::Media(MediaChunk {
                sequence_number: Some(2),
                stream_sid: Cow::Borrowed(STREAM),
                track: Track::Inbound,
                chunk: 1,
                timestamp_ms: 20,
                payload: Cow::Borrowed(black_box(&payload)),
            });
            session.handle(CallInput::Twilio(media), now).count()
        })
    });
    group.finish();
}

fn agent_delta(c: &mut Criterion) {
    let mut session = started_session();
    let now = CallTime::from_millis(1_000);
    let started = EngineEvent::ResponseStarted {
        response_id: "resp_1".into(),
    };
    session
        .handle(CallInput::Engine(started), now)
        .for_each(drop);
    let delta = EngineEvent::AgentAudio {
        item_id: "item_a1".into(),
        audio: AgentAudio::Mulaw(vec![0x55; 800]),
    };
    let mut group = c.benchmark_group("call_session");
    group.throughput(Throughput::Elements(1));
    group.bench_function("agent_audio_delta_100ms", |b| {
        b.iter_batched(
            || CallInput::Engine(delta.clone()),
            |input| session.handle(input, now).count(),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group!(benches, inbound_media, agent_delta);
criterion_main!(benches);
