//! Tests of units, frame splitting, PCM16 bytes and levels.

use super::*;

#[test]
fn frame_constants_agree_with_the_rates() {
    assert_eq!(
        SampleRate::HZ_8000.samples_in(FRAME),
        MULAW_FRAME_BYTES as u64
    );
    assert_eq!(
        SampleRate::HZ_8000.samples_in(FRAME),
        FRAME_SAMPLES_8K as u64
    );
    assert_eq!(
        SampleRate::HZ_16000.samples_in(FRAME),
        FRAME_SAMPLES_16K as u64
    );
    assert_eq!(
        SampleRate::HZ_24000.samples_in(FRAME),
        FRAME_SAMPLES_24K as u64
    );
    assert_eq!(FRAME.mulaw_8k_bytes(), MULAW_FRAME_BYTES);
    assert_eq!(FRAME.pcm16_24k_bytes(), PCM16_24K_FRAME_BYTES);
}

#[test]
fn bytes_and_durations_convert_both_ways() {
    assert_eq!(Millis::of_mulaw_8k_bytes(160), Millis(20));
    assert_eq!(Millis::of_mulaw_8k_bytes(167), Millis(20), "rounds down");
    assert_eq!(Millis::of_pcm16_24k_bytes(960), Millis(20));
    assert_eq!(Millis::of_pcm16_24k_bytes(48_000), Millis(1000));
    assert_eq!(Millis(1500).mulaw_8k_bytes(), 12_000);
    assert_eq!(Millis(1500).pcm16_24k_bytes(), 72_000);
    assert_eq!(SampleRate::HZ_24000.duration_of(24_000 * 3), Millis(3000));
    assert_eq!(Millis(5).saturating_sub(Millis(9)), Millis::ZERO);
    assert_eq!(Millis(5) + Millis(9), Millis(14));
}

#[test]
fn sample_rate_rejects_zero() {
    assert_eq!(SampleRate::new(0), None);
    assert_eq!(SampleRate::try_from(0), Err(ZeroSampleRate));
    assert_eq!(SampleRate::try_from(8000), Ok(SampleRate::HZ_8000));
    assert_eq!(SampleRate::HZ_16000.to_string(), "16000 Hz");
}

#[test]
fn splitter_yields_whole_frames_in_order_across_arbitrary_pieces() {
    let stream: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
    // Piece sizes chosen to straddle frame boundaries, hit them exactly, and span several frames.
    for sizes in [
        &[1usize, 159, 160, 7, 400, 273][..],
        &[160; 7],
        &[999, 1],
        &[3; 334],
    ] {
        let mut splitter = MulawFrameSplitter::new();
        let mut out = Vec::new();
        let mut at = 0;
        for &size in sizes.iter().cycle() {
            if at >= stream.len() {
                break;
            }
            let end = (at + size).min(stream.len());
            splitter.push(&stream[at..end], |frame| out.extend_from_slice(frame));
            at = end;
        }
        assert_eq!(out.len(), 960, "six whole frames for sizes {sizes:?}");
        assert_eq!(out, stream[..960], "sizes {sizes:?}");
        assert_eq!(splitter.pending(), &stream[960..]);
        assert_eq!(splitter.take_pending(), &stream[960..]);
        assert!(splitter.pending().is_empty());
    }
}

#[test]
fn splitter_keeps_a_short_piece_without_emitting() {
    let mut splitter = MulawFrameSplitter::default();
    let mut frames = 0;
    splitter.push(&[1; 100], |_| frames += 1);
    splitter.push(&[2; 59], |_| frames += 1);
    assert_eq!(frames, 0);
    assert_eq!(splitter.pending().len(), 159);
    splitter.push(&[3; 1], |f| {
        frames += 1;
        assert_eq!(f[0], 1);
        assert_eq!(f[159], 3);
    });
    assert_eq!(frames, 1);
    assert!(splitter.pending().is_empty());
}

#[test]
fn pcm16_little_endian_round_trips() {
    let samples = [0, 1, -1, i16::MIN, i16::MAX, 0x1234];
    let bytes = pcm16_to_le_bytes(&samples);
    assert_eq!(&bytes[..6], &[0, 0, 1, 0, 0xFF, 0xFF]);
    assert_eq!(&bytes[10..], &[0x34, 0x12]);
    assert_eq!(pcm16_from_le_bytes(&bytes), samples);

    let mut odd = bytes.clone();
    odd.push(0x7F);
    let mut out = [0i16; 6];
    assert_eq!(
        pcm16_from_le_bytes_into(&odd, &mut out),
        Ok(6),
        "the odd byte is left unread"
    );
    assert_eq!(out, samples);
    let mut back = [0u8; 12];
    assert_eq!(pcm16_to_le_bytes_into(&samples, &mut back), Ok(12));
    assert_eq!(&back[..], &bytes[..]);

    assert_eq!(
        pcm16_from_le_bytes_into(&bytes, &mut [0; 5]),
        Err(OutputTooShort { needed: 6, got: 5 })
    );
    assert_eq!(
        pcm16_to_le_bytes_into(&samples, &mut [0; 11]),
        Err(OutputTooShort {
            needed: 12,
            got: 11
        })
    );
}

#[test]
fn levels_of_known_signals() {
    assert_eq!(rms(&[]), 0.0);
    assert_eq!(dbfs(&[0; 160]), f32::NEG_INFINITY);
    assert!((dbfs(&[i16::MIN; 160]) - 0.0).abs() < 1e-6);
    let square: Vec<i16> = (0..160)
        .map(|i| if i % 2 == 0 { 16384 } else { -16384 })
        .collect();
    assert!((dbfs(&square) - -6.0206).abs() < 1e-3);
    let sine: Vec<i16> = (0..160)
        .map(|i| (32767.0 * (2.0 * std::f64::consts::PI * i as f64 / 16.0).sin()).round() as i16)
        .collect();
    assert!((dbfs(&sine) - -3.0103).abs() < 1e-3, "got {}", dbfs(&sine));
}

#[test]
fn mulaw_levels_match_decoded_levels() {
    let bytes: Vec<u8> = (0..=255).collect();
    let decoded = mulaw::decode_to_vec(&bytes);
    assert_eq!(rms_mulaw(&bytes), rms(&decoded));
    assert_eq!(
        dbfs_mulaw(&[0xFF; 160]),
        f32::NEG_INFINITY,
        "0xFF is μ-law silence"
    );
    assert_eq!(rms_mulaw(&[]), 0.0);
}
