//! Audio hot paths: μ-law encode/decode (samples per second) and the resampler on 20 ms
//! frames (one second of audio per iteration, so `1 / time` is the speed in × real time).
//!
//! `cargo bench -p switchboard --bench audio -- --warm-up-time 1 --measurement-time 3`

use std::f64::consts::PI;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard::audio::pcm::FRAME;
use switchboard::audio::{Resampler, SampleRate, mulaw};

/// One second of speech-like PCM16 at `rate`: two tones and a little deterministic noise,
/// so the μ-law encoder sees every segment rather than one table entry.
fn speechy(rate: SampleRate) -> Vec<i16> {
    let hz = f64::from(rate.hz());
    let mut noise = 0x1234_5678u32;
    (0..rate.hz())
        .map(|i| {
            noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let t = f64::from(i) / hz;
            let tone =
                9_000.0 * (2.0 * PI * 220.0 * t).sin() + 6_000.0 * (2.0 * PI * 1_330.0 * t).sin();
            (tone + f64::from((noise >> 20) as i16 - 2048)) as i16
        })
        .collect()
}

fn mulaw_codec(c: &mut Criterion) {
    let samples = speechy(SampleRate::HZ_8000);
    let codes = mulaw::encode_to_vec(&samples);
    let mut group = c.benchmark_group("mulaw");
    group.throughput(Throughput::Elements(samples.len() as u64));
    let mut out = vec![0u8; samples.len()];
    group.bench_function("encode_into/8000", |b| {
        b.iter(|| mulaw::encode_into(black_box(&samples), black_box(&mut out)))
    });
    let mut out = vec![0i16; codes.len()];
    group.bench_function("decode_into/8000", |b| {
        b.iter(|| mulaw::decode_into(black_box(&codes), black_box(&mut out)))
    });
    group.finish();
}

fn resample(c: &mut Criterion) {
    let mut group = c.benchmark_group("resample_1s_in_20ms_frames");
    for (from, to) in [
        (SampleRate::HZ_8000, SampleRate::HZ_24000),
        (SampleRate::HZ_24000, SampleRate::HZ_8000),
        (SampleRate::HZ_8000, SampleRate::HZ_16000),
        (SampleRate::HZ_16000, SampleRate::HZ_24000),
    ] {
        let input = speechy(from);
        let frame = from.samples_in(FRAME) as usize;
        let mut resampler = Resampler::new(from, to).expect("supported rates");
        let mut out = vec![0i16; resampler.max_output_len(frame)];
        group.throughput(Throughput::Elements(input.len() as u64));
        group.bench_function(
            format!("{}k_to_{}k", from.hz() / 1000, to.hz() / 1000),
            |b| {
                b.iter(|| {
                    for chunk in input.chunks_exact(frame) {
                        let n = resampler
                            .process_into(black_box(chunk), &mut out)
                            .expect("sized by max_output_len");
                        black_box(&out[..n]);
                    }
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, mulaw_codec, resample);
criterion_main!(benches);
