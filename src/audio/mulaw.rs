//! G.711 μ-law: the 8-bit companding of the telephone network and Twilio Media Streams.
//!
//! Bit-exact with the ITU-T G.711 reference (`g711.c`, the code behind Python's
//! `audioop`): decoding maps the 256 codes to the reference's 14-bit values scaled to
//! 16 bits, and encoding drops the two low bits before companding, as the reference does.
//! Both directions are table lookups; the tables are built at compile time. No I/O.

/// The μ-law code of silence (positive zero).
pub const SILENCE: u8 = 0xFF;

/// The reference's bias, added to the magnitude so every segment starts on a power of two.
const BIAS: i32 = 0x84;

/// Largest 14-bit magnitude the reference encodes before clipping to the top code.
const CLIP: i32 = 8159;

/// Decodes one code, the reference way (`ulaw2linear`).
const fn decode_reference(code: u8) -> i16 {
    let u = !code;
    let mut t = (((u & 0x0F) as i32) << 3) + BIAS;
    t <<= (u & 0x70) >> 4;
    (if u & 0x80 != 0 { BIAS - t } else { t - BIAS }) as i16
}

/// Encodes one 14-bit sample (the 16-bit sample shifted right by two), the reference way
/// (`linear2ulaw`), with the segment search done by counting leading zeros.
const fn encode_reference_14(sample: i32) -> u8 {
    let (magnitude, mask) = if sample < 0 {
        (-sample, 0x7F)
    } else {
        (sample, 0xFF)
    };
    let magnitude = if magnitude > CLIP { CLIP } else { magnitude } + (BIAS >> 2);
    // `magnitude` is in 33..=8192; segment 0 holds 32..=63, so its top bit is 5 + segment.
    let segment = 31 - magnitude.leading_zeros() as i32 - 5;
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    let code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F);
    (code as u8) ^ mask
}

/// The 256 decoded values, indexed by code.
static DECODE: [i16; 256] = {
    let mut table = [0; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = decode_reference(code as u8);
        code += 1;
    }
    table
};

/// Codes for every 14-bit sample, indexed by the sample's 14 bits read as unsigned.
///
/// 16 KiB stays in L1 cache, unlike a 64 KiB table indexed by the full 16 bits; the
/// reference ignores the two low bits anyway, so nothing is lost.
static ENCODE: [u8; 1 << 14] = {
    let mut table = [0; 1 << 14];
    let mut index = 0;
    while index < (1 << 14) {
        // Sign-extend the 14-bit index back to the sample it stands for.
        let sample = ((index as i32) << 18) >> 18;
        table[index] = encode_reference_14(sample);
        index += 1;
    }
    table
};

/// Decodes one μ-law code to a 16-bit sample.
#[inline]
pub fn decode(code: u8) -> i16 {
    DECODE[code as usize]
}

/// Encodes one 16-bit sample to μ-law.
#[inline]
pub fn encode(sample: i16) -> u8 {
    // The top 14 bits of the sample as unsigned: the reference's `sample >> 2`, masked.
    ENCODE[(sample as u16 >> 2) as usize]
}

pub use super::OutputTooShort;

/// Decodes `codes` into the front of `out`; returns how many samples were written.
pub fn decode_into(codes: &[u8], out: &mut [i16]) -> Result<usize, OutputTooShort> {
    let got = out.len();
    let out = out.get_mut(..codes.len()).ok_or(OutputTooShort {
        needed: codes.len(),
        got,
    })?;
    for (o, &c) in out.iter_mut().zip(codes) {
        *o = decode(c);
    }
    Ok(codes.len())
}

/// Encodes `samples` into the front of `out`; returns how many codes were written.
pub fn encode_into(samples: &[i16], out: &mut [u8]) -> Result<usize, OutputTooShort> {
    let got = out.len();
    let out = out.get_mut(..samples.len()).ok_or(OutputTooShort {
        needed: samples.len(),
        got,
    })?;
    for (o, &s) in out.iter_mut().zip(samples) {
        *o = encode(s);
    }
    Ok(samples.len())
}

/// Decodes `codes` into a new vector.
pub fn decode_to_vec(codes: &[u8]) -> Vec<i16> {
    codes.iter().map(|&c| decode(c)).collect()
}

/// Encodes `samples` into a new vector.
pub fn encode_to_vec(samples: &[i16]) -> Vec<u8> {
    samples.iter().map(|&s| encode(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `testdata/mulaw_decode.txt`: "code value" per line, from `testdata/generate_mulaw.py`.
    fn reference_decode() -> Vec<(u8, i16)> {
        include_str!("testdata/mulaw_decode.txt")
            .lines()
            .map(|line| {
                let (code, value) = line.split_once(' ').expect("two fields");
                (code.parse().expect("code"), value.parse().expect("value"))
            })
            .collect()
    }

    /// `testdata/mulaw_encode.bin`: the code of every i16 from -32768 to 32767, in order.
    const REFERENCE_ENCODE: &[u8; 65_536] = include_bytes!("testdata/mulaw_encode.bin");

    #[test]
    fn decoding_every_code_matches_the_reference() {
        let table = reference_decode();
        assert_eq!(table.len(), 256);
        for (code, value) in table {
            assert_eq!(decode(code), value, "code {code:#04x}");
            assert_eq!(
                decode_reference(code),
                value,
                "const decoder, code {code:#04x}"
            );
        }
    }

    #[test]
    fn encoding_every_sample_matches_the_reference() {
        for (sample, &code) in (i16::MIN..=i16::MAX).zip(REFERENCE_ENCODE.iter()) {
            assert_eq!(encode(sample), code, "sample {sample}");
        }
    }

    #[test]
    fn slice_calls_agree_with_the_scalar_calls() {
        let samples: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let codes = encode_to_vec(&samples);
        assert_eq!(&codes[..], &REFERENCE_ENCODE[..]);
        let mut into = vec![0u8; samples.len() + 3];
        assert_eq!(encode_into(&samples, &mut into), Ok(samples.len()));
        assert_eq!(&into[..samples.len()], &codes[..]);

        let all: Vec<u8> = (0..=255).collect();
        let decoded = decode_to_vec(&all);
        let mut into = [0i16; 256];
        assert_eq!(decode_into(&all, &mut into), Ok(256));
        assert_eq!(&into[..], &decoded[..]);
        assert!(all.iter().zip(&decoded).all(|(&c, &v)| decode(c) == v));
    }

    #[test]
    fn into_calls_refuse_a_short_output_and_leave_it_untouched() {
        let mut out = [7u8; 3];
        assert_eq!(
            encode_into(&[1, 2, 3, 4], &mut out),
            Err(OutputTooShort { needed: 4, got: 3 })
        );
        assert_eq!(out, [7; 3]);
        let mut out = [7i16; 1];
        assert_eq!(
            decode_into(&[0, 1], &mut out),
            Err(OutputTooShort { needed: 2, got: 1 })
        );
        assert_eq!(out, [7]);
    }

    #[test]
    fn known_codes() {
        assert_eq!(encode(0), SILENCE);
        assert_eq!(decode(SILENCE), 0);
        assert_eq!(decode(0x7F), 0, "negative zero");
        assert_eq!(encode(i16::MAX), 0x80);
        assert_eq!(encode(i16::MIN), 0x00);
        assert_eq!(decode(0x80), 32124);
        assert_eq!(decode(0x00), -32124);
    }

    proptest! {
        #[test]
        fn decoded_values_survive_a_round_trip(code: u8) {
            // Two codes decode to 0 (±0); every other value has exactly one code.
            let value = decode(code);
            prop_assert_eq!(decode(encode(value)), value);
            if value != 0 {
                prop_assert_eq!(encode(value), code);
            }
        }

        #[test]
        fn a_second_round_trip_changes_nothing(sample: i16) {
            let once = decode(encode(sample));
            prop_assert_eq!(decode(encode(once)), once);
            prop_assert_eq!(encode(once), encode(sample));
        }

        #[test]
        fn round_trip_error_stays_within_half_a_step(sample: i16) {
            // A segment starting at magnitude m has steps of about m / 16, so the error is
            // half that plus the two dropped low bits; beyond the top level it clips.
            let magnitude = i32::from(sample).abs();
            let error = (i32::from(decode(encode(sample))) - i32::from(sample)).abs();
            let bound = if magnitude > 32_635 { magnitude - 32_124 } else { (magnitude + 132) / 32 + 4 };
            prop_assert!(error <= bound, "sample {} error {} bound {}", sample, error, bound);
        }
    }
}
