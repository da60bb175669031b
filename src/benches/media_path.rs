//! The media path's wire work per 20 ms frame, without the session: a Twilio `media` frame decoded
//! and re-encoded as a Realtime `input_audio_buffer.append` (target ≤ 2 µs per frame), and the
//! other direction's decode of a Realtime `response.output_audio.delta`.
//!
//! Run: `cargo bench -p switchboard --bench media_path -- --warm-up-time 1 --measurement-time 3`

use std::borrow::Cow;
use std::hint::black_box;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard::realtime::{RealtimeAdapter, RealtimeServerEvent, write_input_audio_append};
use switchboard::twilio::TwilioInbound;
use switchboard::twilio::media::{MediaChunk, Track};

/// A realistic inbound `media` text frame carrying 160 bytes (20 ms) of μ-law.
fn twilio_media_frame() -> String {
    let payload = STANDARD.encode((0..160u8).map(|i| i.wrapping_mul(37)).collect::<Vec<_>>());
    TwilioInbound::Media(MediaChunk {
        sequence_number: Some(1234),
        stream_sid: Cow::Borrowed("MZ18ad3ab5a668481ce02b83e7395059f0"),
        track: Track::Inbound,
        chunk: 1233,
        timestamp_ms: 24_660,
        payload: Cow::Owned(payload),
    })
    .to_json()
}

/// A Realtime audio delta frame carrying `ms` of μ-law.
fn realtime_delta_frame(ms: usize) -> String {
    let audio = STANDARD.encode(vec![0x55u8; ms * 8]);
    format!(
        r#"{{"type":"response.output_audio.delta","event_id":"event_CAtsmA4FVrnz2EqpPqhYh","response_id":"resp_CAtsl1PD2cr4HmtFd0wvI","item_id":"item_CAtslH1xpG4UFnYpW1Pmk","output_index":0,"content_index":0,"delta":"{audio}"}}"#
    )
}

fn inbound(c: &mut Criterion) {
    let frame = twilio_media_frame();
    let mut out = String::with_capacity(512);
    let mut group = c.benchmark_group("media_path");
    group.throughput(Throughput::Elements(1));
    group.bench_function("twilio_media_to_realtime_append", |b| {
        b.iter(|| {
            if let Ok(TwilioInbound::Media(media)) = TwilioInbound::parse(black_box(&frame)) {
                write_input_audio_append(&mut out, &media.payload);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

fn outbound(c: &mut Criterion) {
    let frame = realtime_delta_frame(100);
    let adapter = RealtimeAdapter::new();
    let mut group = c.benchmark_group("media_path");
    group.throughput(Throughput::Elements(1));
    group.bench_function("realtime_delta_100ms_to_engine_event", |b| {
        b.iter(|| {
            let event = RealtimeServerEvent::decode(black_box(&frame)).ok()?;
            adapter.engine_event(event).ok().flatten()
        })
    });
    group.finish();
}

criterion_group!(benches, inbound, outbound);
criterion_main!(benches);
