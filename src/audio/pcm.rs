//! Units, frames and levels: `SampleRate`, `Millis`, the 20 ms frame constants, a
//! splitter that cuts a byte stream into whole frames, little-endian PCM16 bytes, and
//! RMS/dBFS of a frame.
//!
//! Pure arithmetic; no I/O and no allocation.

use super::{OutputTooShort, mulaw};

/// The frame length of the phone path: Twilio sends and expects 20 ms media frames.
pub const FRAME: Millis = Millis(20);

/// Bytes in one 20 ms frame of 8 kHz μ-law (one byte per sample).
pub const MULAW_FRAME_BYTES: usize = 160;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES_8K: usize = 160;

/// Samples in one 20 ms frame at 16 kHz.
pub const FRAME_SAMPLES_16K: usize = 320;

/// Samples in one 20 ms frame at 24 kHz.
pub const FRAME_SAMPLES_24K: usize = 480;

/// Bytes in one 20 ms frame of 24 kHz little-endian PCM16.
pub const PCM16_24K_FRAME_BYTES: usize = 2 * FRAME_SAMPLES_24K;

/// A sample rate in hertz; never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SampleRate(u32);

impl SampleRate {
    /// 8 kHz: the telephone network and Twilio Media Streams.
    pub const HZ_8000: Self = Self(8_000);
    /// 16 kHz: what most speech-to-text engines want.
    pub const HZ_16000: Self = Self(16_000);
    /// 24 kHz: OpenAI Realtime and most text-to-speech PCM output.
    pub const HZ_24000: Self = Self(24_000);
    /// 48 kHz: browsers' WebRTC and Web Audio.
    pub const HZ_48000: Self = Self(48_000);

    /// Builds a rate from hertz; `None` for zero.
    pub const fn new(hz: u32) -> Option<Self> {
        if hz == 0 { None } else { Some(Self(hz)) }
    }

    /// The rate in hertz.
    pub const fn hz(self) -> u32 {
        self.0
    }

    /// Whole samples in `duration` at this rate (rounded down).
    pub const fn samples_in(self, duration: Millis) -> u64 {
        duration.0 * self.0 as u64 / 1000
    }

    /// Duration of `samples` samples at this rate, rounded down to whole milliseconds.
    pub const fn duration_of(self, samples: u64) -> Millis {
        Millis(samples * 1000 / self.0 as u64)
    }
}

impl TryFrom<u32> for SampleRate {
    type Error = ZeroSampleRate;

    fn try_from(hz: u32) -> Result<Self, Self::Error> {
        Self::new(hz).ok_or(ZeroSampleRate)
    }
}

/// The error of building a [`SampleRate`] from zero hertz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a sample rate must be greater than zero")]
pub struct ZeroSampleRate;

impl std::fmt::Display for SampleRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} Hz", self.0)
    }
}

/// A duration in whole milliseconds: the unit of Twilio marks and OpenAI `audio_end_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(pub u64);

impl Millis {
    /// Zero milliseconds.
    pub const ZERO: Self = Self(0);

    /// The number of milliseconds.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Duration of `len` bytes of 8 kHz μ-law, rounded down (8 bytes per millisecond).
    pub const fn of_mulaw_8k_bytes(len: usize) -> Self {
        Self(len as u64 / 8)
    }

    /// Duration of `len` bytes of 24 kHz PCM16, rounded down (48 bytes per millisecond).
    pub const fn of_pcm16_24k_bytes(len: usize) -> Self {
        Self(len as u64 / 48)
    }

    /// Bytes of 8 kHz μ-law that last this long.
    pub const fn mulaw_8k_bytes(self) -> usize {
        (self.0 * 8) as usize
    }

    /// Bytes of 24 kHz PCM16 that last this long.
    pub const fn pcm16_24k_bytes(self) -> usize {
        (self.0 * 48) as usize
    }

    /// `self - other`, or zero when `other` is later.
    pub const fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl std::ops::Add for Millis {
    type Output = Self;

    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl std::ops::AddAssign for Millis {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ms", self.0)
    }
}

/// Cuts a byte stream that arrives in arbitrary pieces into whole `N`-byte frames,
/// carrying the incomplete tail over to the next [`push`](Self::push).
///
/// Holds at most `N - 1` bytes between calls and never allocates.
#[derive(Debug, Clone)]
pub struct FrameSplitter<const N: usize> {
    carry: [u8; N],
    carried: usize,
}

/// Splits 8 kHz μ-law into 20 ms (160-byte) frames.
pub type MulawFrameSplitter = FrameSplitter<MULAW_FRAME_BYTES>;

/// Splits 24 kHz PCM16 into 20 ms (960-byte) frames.
pub type Pcm16Frame24kSplitter = FrameSplitter<PCM16_24K_FRAME_BYTES>;

impl<const N: usize> FrameSplitter<N> {
    /// An empty splitter.
    pub const fn new() -> Self {
        Self {
            carry: [0; N],
            carried: 0,
        }
    }

    /// Bytes waiting for the rest of their frame.
    pub fn pending(&self) -> &[u8] {
        &self.carry[..self.carried]
    }

    /// Calls `on_frame` once per whole frame completed by `input`, in order, and keeps the rest.
    pub fn push(&mut self, mut input: &[u8], mut on_frame: impl FnMut(&[u8; N])) {
        if self.carried > 0 {
            let take = (N - self.carried).min(input.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&input[..take]);
            self.carried += take;
            input = &input[take..];
            if self.carried < N {
                return;
            }
            on_frame(&self.carry);
            self.carried = 0;
        }
        let mut frames = input.chunks_exact(N);
        for frame in &mut frames {
            // `chunks_exact` guarantees the length, so the conversion cannot fail.
            on_frame(frame.try_into().expect("chunk of N bytes"));
        }
        let rest = frames.remainder();
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
    }

    /// Returns the carried tail (shorter than a frame) and empties the splitter,
    /// e.g. to pad and send it when a stream ends.
    pub fn take_pending(&mut self) -> &[u8] {
        let n = std::mem::take(&mut self.carried);
        &self.carry[..n]
    }
}

impl<const N: usize> Default for FrameSplitter<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads little-endian PCM16 (the wire form of OpenAI's `pcm16`) into the front of `out`;
/// returns the samples written. A trailing odd byte is not read: keep it for the next
/// piece, e.g. with a [`FrameSplitter`].
pub fn pcm16_from_le_bytes_into(bytes: &[u8], out: &mut [i16]) -> Result<usize, OutputTooShort> {
    let needed = bytes.len() / 2;
    let got = out.len();
    let out = out
        .get_mut(..needed)
        .ok_or(OutputTooShort { needed, got })?;
    for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        *o = i16::from_le_bytes([b[0], b[1]]);
    }
    Ok(needed)
}

/// Writes samples as little-endian PCM16 into the front of `out`; returns the bytes written.
pub fn pcm16_to_le_bytes_into(samples: &[i16], out: &mut [u8]) -> Result<usize, OutputTooShort> {
    let needed = 2 * samples.len();
    let got = out.len();
    let out = out
        .get_mut(..needed)
        .ok_or(OutputTooShort { needed, got })?;
    for (o, s) in out.chunks_exact_mut(2).zip(samples) {
        o.copy_from_slice(&s.to_le_bytes());
    }
    Ok(needed)
}

/// Reads little-endian PCM16 into a new vector (a trailing odd byte is not read).
pub fn pcm16_from_le_bytes(bytes: &[u8]) -> Vec<i16> {
    bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Writes samples as little-endian PCM16 into a new vector.
pub fn pcm16_to_le_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// The full-scale reference for levels: RMS of a full-scale square wave, so 0 dBFS is the
/// loudest possible frame and a full-scale sine reads about −3.01 dBFS.
const FULL_SCALE: f64 = 32768.0;

/// RMS level of PCM16 samples as a fraction of full scale (0.0 for an empty frame).
pub fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    // i64 sums cannot overflow: 2^30 per sample leaves room for 2^33 samples.
    let sum: i64 = samples.iter().map(|&s| i64::from(s) * i64::from(s)).sum();
    ((sum as f64 / samples.len() as f64).sqrt() / FULL_SCALE) as f32
}

/// RMS level of μ-law bytes as a fraction of full scale (0.0 for an empty frame).
pub fn rms_mulaw(bytes: &[u8]) -> f32 {
    if bytes.is_empty() {
        return 0.0;
    }
    let sum: i64 = bytes
        .iter()
        .map(|&b| {
            let s = i64::from(mulaw::decode(b));
            s * s
        })
        .sum();
    ((sum as f64 / bytes.len() as f64).sqrt() / FULL_SCALE) as f32
}

/// Converts a linear level (fraction of full scale) to dBFS; silence is `-inf`.
pub fn to_dbfs(level: f32) -> f32 {
    20.0 * level.log10()
}

/// Level of PCM16 samples in dBFS (0 = full-scale square, `-inf` = digital silence).
pub fn dbfs(samples: &[i16]) -> f32 {
    to_dbfs(rms(samples))
}

/// Level of μ-law bytes in dBFS (0 = full-scale square, `-inf` = digital silence).
pub fn dbfs_mulaw(bytes: &[u8]) -> f32 {
    to_dbfs(rms_mulaw(bytes))
}

#[cfg(test)]
mod tests;
