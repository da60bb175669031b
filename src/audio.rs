//! Audio for the phone path: the G.711 μ-law codec, a band-limited streaming resampler,
//! and frame, unit and level helpers.
//!
//! Everything here is pure computation on slices: no I/O, no runtime, no clock, and no
//! allocation on the hot path (every allocating call has an `_into` twin that writes into
//! a caller's buffer).
//!
//! - [`mulaw`] — G.711 μ-law encode/decode, bit-exact with the ITU-T reference.
//! - [`resample`] — [`Resampler`], polyphase windowed-sinc conversion between 8, 16, 24 and 48 kHz.
//! - [`pcm`] — [`SampleRate`], [`Millis`], 20 ms frame sizes, [`pcm::FrameSplitter`],
//!   little-endian PCM16 bytes, RMS and dBFS.

pub mod mulaw;
pub mod pcm;
pub mod resample;

pub use pcm::{FRAME, MULAW_FRAME_BYTES, Millis, SampleRate};
pub use resample::Resampler;

/// The output slice given to an `_into` call is shorter than its input requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("output has room for {got} but {needed} are needed")]
pub struct OutputTooShort {
    /// Samples (or bytes) the input needs.
    pub needed: usize,
    /// Samples (or bytes) the output holds.
    pub got: usize,
}
