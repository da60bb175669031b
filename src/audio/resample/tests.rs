//! Resampler tests: a grid of rate pairs and sine tones, streaming equivalence, clicks,
//! and the measured quality figures (stop band, ripple, SNR) against their bars.

use std::f64::consts::PI;

use proptest::prelude::*;

use super::*;
use crate::audio::pcm::FRAME;

fn rate(hz: u32) -> SampleRate {
    SampleRate::new(hz).expect("non-zero")
}

fn resampler(from: u32, to: u32) -> Resampler {
    Resampler::new(rate(from), rate(to)).expect("supported rates")
}

/// `seconds` of a sine at `freq_hz` and `amplitude` (fraction of full scale), as PCM16.
fn sine(rate_hz: u32, freq_hz: f64, amplitude: f64, seconds: f64) -> Vec<i16> {
    let len = (f64::from(rate_hz) * seconds) as usize;
    (0..len)
        .map(|i| {
            (amplitude * 32767.0 * (2.0 * PI * freq_hz * i as f64 / f64::from(rate_hz)).sin())
                .round() as i16
        })
        .collect()
}

/// Runs `input` through `r` in 20 ms frames of the input rate.
fn process_in_frames(r: &mut Resampler, input: &[i16]) -> Vec<i16> {
    let frame = r.from_rate().samples_in(FRAME) as usize;
    let mut out = Vec::new();
    let mut buf = vec![0i16; r.max_output_len(frame)];
    for chunk in input.chunks(frame) {
        let n = r
            .process_into(chunk, &mut buf)
            .expect("buffer sized by max_output_len");
        out.extend_from_slice(&buf[..n]);
    }
    out
}

/// Signal-to-error ratio in dB of `actual` against `ideal`, and the gain of `actual` along
/// `ideal` in dB (how much louder or quieter the tone came out).
fn snr_and_gain_db(actual: &[i16], ideal: &[f64]) -> (f64, f64) {
    let signal: f64 = ideal.iter().map(|x| x * x).sum();
    let error: f64 = actual
        .iter()
        .zip(ideal)
        .map(|(&y, x)| (f64::from(y) - x).powi(2))
        .sum();
    let along: f64 = actual
        .iter()
        .zip(ideal)
        .map(|(&y, x)| f64::from(y) * x)
        .sum();
    (
        10.0 * (signal / error).log10(),
        20.0 * (along / signal).log10(),
    )
}

/// Converts a steady sine and compares the output, past the filter's start-up, with the
/// ideal sine at the output rate delayed by the documented latency.
#[track_caller]
fn assert_sine_passes(from: u32, to: u32, freq_hz: f64) {
    let amplitude = 0.5;
    let mut r = resampler(from, to);
    let output = process_in_frames(&mut r, &sine(from, freq_hz, amplitude, 0.5));
    let latency = r.latency();
    // Skip the start-up (a whole filter length) and the last frame.
    let settled = 2 * latency + 16..output.len() - r.to_rate().samples_in(FRAME) as usize;
    let ideal: Vec<f64> = settled
        .clone()
        .map(|n| {
            amplitude
                * 32767.0
                * (2.0 * PI * freq_hz * (n as f64 - latency as f64) / f64::from(to)).sin()
        })
        .collect();
    let (snr, gain) = snr_and_gain_db(&output[settled], &ideal);
    assert!(
        snr >= 80.0,
        "{from}→{to} {freq_hz} Hz: SNR {snr:.1} dB < 80 dB"
    );
    assert!(
        gain.abs() <= 0.01,
        "{from}→{to} {freq_hz} Hz: gain {gain:.4} dB beyond ±0.01 dB"
    );
}

/// One test per rate pair; each runs its tones through [`assert_sine_passes`].
/// Tones reach 3.3 kHz when either side is 8 kHz and 85 % of the lower Nyquist otherwise.
macro_rules! sine_matrix {
    ($($name:ident: $from:expr => $to:expr, [$($freq:expr),+];)+) => {$(
        #[test]
        fn $name() {
            $(assert_sine_passes($from, $to, $freq);)+
        }
    )+};
}

sine_matrix! {
    sine_8k_to_16k: 8_000 => 16_000, [100.0, 1_000.0, 2_345.6, 3_300.0];
    sine_16k_to_8k: 16_000 => 8_000, [100.0, 1_000.0, 2_345.6, 3_300.0];
    sine_8k_to_24k: 8_000 => 24_000, [100.0, 1_000.0, 2_345.6, 3_300.0];
    sine_24k_to_8k: 24_000 => 8_000, [100.0, 1_000.0, 2_345.6, 3_300.0];
    sine_16k_to_24k: 16_000 => 24_000, [100.0, 1_000.0, 4_321.0, 6_700.0];
    sine_24k_to_16k: 24_000 => 16_000, [100.0, 1_000.0, 4_321.0, 6_700.0];
    sine_8k_to_48k: 8_000 => 48_000, [1_000.0, 3_300.0];
    sine_48k_to_8k: 48_000 => 8_000, [1_000.0, 3_300.0];
    sine_24k_to_48k: 24_000 => 48_000, [1_000.0, 10_000.0];
    sine_48k_to_24k: 48_000 => 24_000, [1_000.0, 10_000.0];
}

#[test]
fn tones_above_the_lower_nyquist_are_removed_when_downsampling() {
    for (from, to, tones) in [
        (24_000, 8_000, &[4_000.0, 4_600.0, 7_000.0, 11_900.0][..]),
        (16_000, 8_000, &[4_000.0, 5_500.0, 7_900.0]),
        (24_000, 16_000, &[8_000.0, 9_000.0, 11_900.0]),
        (48_000, 8_000, &[4_000.0, 13_000.0, 23_000.0]),
    ] {
        for &tone in tones {
            let amplitude = 0.9;
            let mut r = resampler(from, to);
            let output = process_in_frames(&mut r, &sine(from, tone, amplitude, 0.5));
            let settled = &output[2 * r.latency() + 16..];
            let rms = (settled.iter().map(|&y| f64::from(y).powi(2)).sum::<f64>()
                / settled.len() as f64)
                .sqrt();
            let level = 20.0 * (rms / (amplitude * 32767.0 / 2f64.sqrt())).log10();
            assert!(
                level <= -80.0,
                "{from}→{to}: a {tone} Hz tone leaks at {level:.1} dB"
            );
        }
    }
}

#[test]
fn latency_matches_the_table_on_the_type() {
    for (from, to, latency) in [
        (8_000, 16_000, 78),
        (16_000, 8_000, 39),
        (8_000, 24_000, 117),
        (24_000, 8_000, 39),
        (16_000, 24_000, 63),
        (24_000, 16_000, 42),
        (8_000, 48_000, 234),
        (8_000, 8_000, 0),
    ] {
        assert_eq!(resampler(from, to).latency(), latency, "{from}→{to}");
    }
}

#[test]
fn an_impulse_comes_out_centred_on_the_latency() {
    for (from, to) in [
        (8_000, 24_000),
        (24_000, 8_000),
        (16_000, 24_000),
        (24_000, 16_000),
        (8_000, 16_000),
    ] {
        let mut r = resampler(from, to);
        let mut input = vec![0i16; 400];
        input[0] = 20_000;
        let output = r.process(&input);
        let peak = (0..output.len())
            .max_by_key(|&n| output[n].unsigned_abs())
            .expect("non-empty");
        assert_eq!(peak, r.latency(), "{from}→{to}");
    }
}

#[test]
fn pushing_input_latency_zeros_flushes_the_tail() {
    for from in SUPPORTED_RATES {
        for to in SUPPORTED_RATES {
            let mut r = resampler(from, to);
            assert_eq!(
                r.latency() as u64 * u64::from(from),
                r.input_latency() as u64 * u64::from(to)
            );
            // An impulse on the last input sample peaks only once the zeros push it through.
            let mut input = vec![0i16; 480];
            input[479] = 20_000;
            let peak =
                |samples: &[i16]| samples.iter().map(|y| y.unsigned_abs()).max().unwrap_or(0);
            let (before, tail) = (r.process(&input), r.process(&vec![0; r.input_latency()]));
            // The output now reaches the impulse's time, 479 input samples plus the latency.
            let due = 479 * u64::from(to) / u64::from(from) + r.latency() as u64;
            assert!(
                (before.len() + tail.len()) as u64 > due,
                "{from}→{to}: output ends before sample {due}"
            );
            let (before, tail) = (peak(&before), peak(&tail));
            if from == to {
                assert_eq!((before, tail), (20_000, 0), "passthrough has no tail");
            } else {
                assert!(
                    tail > 2 * before,
                    "{from}→{to}: peak {tail} in the tail, {before} before it"
                );
            }
        }
    }
}

#[test]
fn equal_rates_pass_samples_through_unchanged() {
    let input: Vec<i16> = (0..1000)
        .map(|i| (i * 7919 % 65_536 - 32_768) as i16)
        .collect();
    let mut r = resampler(16_000, 16_000);
    assert_eq!(r.latency(), 0);
    assert_eq!(process_in_frames(&mut r, &input), input);
}

#[test]
fn a_constant_input_gives_the_same_constant_output() {
    for (from, to) in [
        (8_000, 24_000),
        (24_000, 8_000),
        (16_000, 24_000),
        (24_000, 16_000),
    ] {
        let mut r = resampler(from, to);
        let output = r.process(&vec![-12_345; 4_000]);
        assert!(
            output[2 * r.latency() + 8..].iter().all(|&y| y == -12_345),
            "{from}→{to}"
        );
    }
}

#[test]
fn full_scale_input_saturates_instead_of_wrapping() {
    // A full-scale square wave overshoots after low-pass filtering (Gibbs); the excess
    // must clip at the rails rather than wrap around to the opposite sign.
    let square: Vec<i16> = (0..2_400)
        .map(|i| {
            if (i / 30) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    let mut r = resampler(24_000, 8_000);
    let output = r.process(&square);
    let settled = &output[2 * r.latency()..];
    assert!(settled.contains(&i16::MAX) && settled.contains(&i16::MIN));
    for pair in settled.windows(2) {
        let step = (i32::from(pair[1]) - i32::from(pair[0])).abs();
        assert!(step < 60_000, "a jump of {step} means a wrap-around");
    }
}

#[test]
fn a_twenty_ms_frame_always_gives_a_twenty_ms_frame() {
    for from in SUPPORTED_RATES {
        for to in SUPPORTED_RATES {
            let mut r = resampler(from, to);
            let frame_in = r.from_rate().samples_in(FRAME) as usize;
            let frame_out = r.to_rate().samples_in(FRAME) as usize;
            for _ in 0..7 {
                assert_eq!(r.output_len(frame_in), frame_out, "{from}→{to}");
                assert_eq!(
                    r.process(&vec![0; frame_in]).len(),
                    frame_out,
                    "{from}→{to}"
                );
            }
        }
    }
}

#[test]
fn a_short_output_is_refused_and_the_state_kept() {
    let mut r = resampler(8_000, 24_000);
    let input = sine(8_000, 440.0, 0.5, 0.1);
    let mut short = [0i16; 479];
    assert_eq!(
        r.process_into(&input[..160], &mut short),
        Err(ResampleError::OutputTooShort {
            needed: 480,
            got: 479
        })
    );
    assert_eq!(
        r.process(&input),
        resampler(8_000, 24_000).process(&input),
        "the refused call consumed nothing"
    );
}

#[test]
fn reset_starts_a_new_stream() {
    let mut r = resampler(24_000, 8_000);
    let input = sine(24_000, 440.0, 0.5, 0.1);
    r.process(&sine(24_000, 1_234.0, 0.9, 0.037));
    r.reset();
    assert_eq!(r.process(&input), resampler(24_000, 8_000).process(&input));
}

#[test]
fn unsupported_rates_are_named_in_the_error() {
    assert_eq!(
        Resampler::new(rate(44_100), SampleRate::HZ_8000).map(|_| ()),
        Err(BuildError::UnsupportedRate { got: 44_100 })
    );
    assert_eq!(
        Resampler::new(SampleRate::HZ_8000, rate(11_025)).map(|_| ()),
        Err(BuildError::UnsupportedRate { got: 11_025 })
    );
}

/// A linear chirp from `f0` to `f1` Hz over `seconds`, sampled at `rate_hz`, as `f64`.
fn chirp(
    rate_hz: u32,
    f0: f64,
    f1: f64,
    seconds: f64,
    amplitude: f64,
    delay: f64,
) -> impl Fn(usize) -> f64 {
    move |n| {
        let t = (n as f64 - delay) / f64::from(rate_hz);
        if t < 0.0 {
            return 0.0;
        }
        amplitude * 32767.0 * (2.0 * PI * (f0 * t + (f1 - f0) * t * t / (2.0 * seconds))).sin()
    }
}

#[test]
fn a_swept_sine_crosses_frame_boundaries_without_clicks() {
    let (f0, f1, seconds, amplitude) = (100.0, 3_300.0, 1.0, 0.8);
    for (from, to) in [
        (8_000, 24_000),
        (24_000, 8_000),
        (8_000, 16_000),
        (16_000, 8_000),
        (16_000, 24_000),
    ] {
        let source = chirp(from, f0, f1, seconds, amplitude, 0.0);
        let input: Vec<i16> = (0..(f64::from(from) * seconds) as usize)
            .map(|n| source(n).round() as i16)
            .collect();

        let framed = process_in_frames(&mut resampler(from, to), &input);
        let whole = resampler(from, to).process(&input);
        assert_eq!(
            framed, whole,
            "{from}→{to}: frame-by-frame differs from one-shot"
        );

        // The output follows the ideal chirp everywhere, frame boundaries included: a click
        // would show as a large local error. Away from the start-up transient, each sample
        // is within -60 dB of full amplitude of where it should be.
        let r = resampler(from, to);
        let ideal = chirp(to, f0, f1, seconds, amplitude, r.latency() as f64);
        let tolerance = amplitude * 32767.0 * 1e-3;
        for (n, &y) in framed.iter().enumerate().skip(3 * r.latency() + 32) {
            let error = (f64::from(y) - ideal(n)).abs();
            assert!(
                error <= tolerance,
                "{from}→{to}: sample {n} is off by {error:.1}"
            );
        }
        // And no step between neighbours exceeds the steepest slope of the highest tone.
        let max_step = 2.0 * PI * f1 / f64::from(to) * amplitude * 32767.0 * 1.01 + 2.0;
        for (n, pair) in framed.windows(2).enumerate() {
            let step = (f64::from(pair[1]) - f64::from(pair[0])).abs();
            assert!(
                step <= max_step,
                "{from}→{to}: step {step} at sample {n} exceeds {max_step:.0}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_split_of_the_input_gives_the_one_shot_output(
        pair in 0usize..6,
        cuts in proptest::collection::vec(0usize..=1_200, 0..12),
        seed in any::<u32>(),
    ) {
        let (from, to) = [(8_000, 24_000), (24_000, 8_000), (8_000, 16_000), (16_000, 8_000), (16_000, 24_000), (24_000, 16_000)][pair];
        // Noise-like input (a simple LCG) exercises every tap.
        let mut state = seed;
        let input: Vec<i16> = (0..1_200)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 16) as i16
            })
            .collect();
        let whole = resampler(from, to).process(&input);

        let mut cuts = cuts;
        cuts.push(0);
        cuts.push(input.len());
        cuts.sort_unstable();
        let mut r = resampler(from, to);
        let mut pieces = Vec::new();
        for bounds in cuts.windows(2) {
            pieces.extend(r.process(&input[bounds[0]..bounds[1]]));
        }
        prop_assert_eq!(pieces, whole);
    }
}

/// The filter's magnitude response at `freq_hz`, relative to DC, reconstructed from the
/// coefficients the resampler actually runs (`f32`, per-branch normalised).
fn magnitude(r: &Resampler, freq_hz: f64) -> f64 {
    let common_hz = f64::from(r.from_rate().hz()) * r.up as f64;
    let step = -2.0 * PI * freq_hz / common_hz;
    let (mut re, mut im) = (0.0, 0.0);
    for phase in 0..r.up {
        for (m, &c) in r.filter.branch(phase).iter().enumerate() {
            // Branch `phase`, slot `m` holds prototype tap `phase + (taps - 1 - m) * up`.
            let k = (phase + (r.filter.taps - 1 - m) * r.up) as f64;
            re += f64::from(c) * (step * k).cos();
            im += f64::from(c) * (step * k).sin();
        }
    }
    (re * re + im * im).sqrt() / r.up as f64
}

/// Measured figures of one rate pair.
struct Figures {
    stop_band_db: f64,
    ripple_db: f64,
}

fn measure(from: u32, to: u32) -> Figures {
    let r = resampler(from, to);
    let common_hz = f64::from(from) * r.up as f64;
    let nyquist_low = f64::from(from.min(to)) / 2.0;
    let pass_edge = design::PASSBAND_FRACTION * nyquist_low;
    // Passband on a 5 Hz grid; stop band from the lower Nyquist frequency to half the
    // common rate on a 2 Hz grid, fine against lobes about 100 Hz wide.
    let pass: Vec<f64> = (0..=(pass_edge / 5.0) as usize)
        .map(|i| 20.0 * magnitude(&r, i as f64 * 5.0).log10())
        .collect();
    let stop_peak = (0..=((common_hz / 2.0 - nyquist_low) / 2.0) as usize)
        .map(|i| magnitude(&r, nyquist_low + i as f64 * 2.0))
        .fold(0.0, f64::max);
    let max = pass.iter().copied().fold(f64::MIN, f64::max);
    let min = pass.iter().copied().fold(f64::MAX, f64::min);
    Figures {
        stop_band_db: -20.0 * stop_peak.log10(),
        ripple_db: max - min,
    }
}

/// Prints the quality figures (`cargo test -p switchboard --lib quality_figures -- --nocapture`)
/// and fails below the bars: ≥ 80 dB stop band, ≤ 0.1 dB peak-to-peak passband ripple up
/// to 85 % of the lower Nyquist (3.4 kHz with 8 kHz), ≥ 80 dB SNR for 1 kHz through 8→24→8 kHz.
#[test]
fn quality_figures_meet_the_bars() {
    for (from, to) in [
        (8_000, 24_000),
        (24_000, 8_000),
        (8_000, 16_000),
        (16_000, 8_000),
        (16_000, 24_000),
        (24_000, 16_000),
    ] {
        let f = measure(from, to);
        let r = resampler(from, to);
        println!(
            "resampler {from:>5} → {to:>5} Hz: stop band {:.1} dB, passband ripple {:.4} dB, latency {} samples ({:.3} ms) at {to} Hz",
            f.stop_band_db,
            f.ripple_db,
            r.latency(),
            1000.0 * r.latency() as f64 / f64::from(to),
        );
        assert!(
            f.stop_band_db >= 80.0,
            "{from}→{to}: stop band {:.1} dB < 80 dB",
            f.stop_band_db
        );
        assert!(
            f.ripple_db <= 0.1,
            "{from}→{to}: ripple {:.4} dB > 0.1 dB",
            f.ripple_db
        );
    }

    // A 1 kHz tone at -1 dBFS through 8 kHz → 24 kHz → 8 kHz, frame by frame, against the
    // ideal (unquantised) sine delayed by both latencies: the error includes the input's own
    // 16-bit quantisation, so about 97 dB is the ceiling.
    let amplitude = 0.89;
    let input = sine(8_000, 1_000.0, amplitude, 2.0);
    let mut up = resampler(8_000, 24_000);
    let mut down = resampler(24_000, 8_000);
    let round_trip = process_in_frames(&mut down, &process_in_frames(&mut up, &input));
    let delay = up.latency() / 3 + down.latency();
    let settled = 4 * delay..round_trip.len();
    let ideal: Vec<f64> = settled
        .clone()
        .map(|n| amplitude * 32767.0 * (2.0 * PI * 1_000.0 * (n - delay) as f64 / 8_000.0).sin())
        .collect();
    let (snr, gain) = snr_and_gain_db(&round_trip[settled.clone()], &ideal);
    let changed = settled
        .filter(|&n| round_trip[n] != input[n - delay])
        .count();
    println!(
        "1 kHz tone at -1 dBFS through 8 → 24 → 8 kHz: SNR {snr:.1} dB, gain {gain:+.5} dB, \
         {changed} samples differ from the input, delay {delay} samples at 8 kHz"
    );
    assert!(snr >= 80.0, "1 kHz round-trip SNR {snr:.1} dB < 80 dB");
    assert!(gain.abs() <= 0.01, "1 kHz round-trip gain {gain:.4} dB");
}
