//! The PCM16 24 kHz edge of a call: Twilio's 8 kHz μ-law in and out, converted with the audio
//! module's codec and band-limited resampler (one continuous resampler per direction per call).
//! Only used when the engine link is not μ-law passthrough. Pure computation, no I/O.

use crate::audio::{Resampler, SampleRate, mulaw};
use crate::twilio::media::{DecodeError, MediaChunk};

/// Converters and scratch buffers for one call.
#[derive(Debug)]
pub(crate) struct PcmEdge {
    up: Resampler,
    down: Resampler,
    mulaw_in: Vec<u8>,
    pcm_8k: Vec<i16>,
    pcm_down: Vec<i16>,
    mulaw_out: Vec<u8>,
    /// Agent audio went into `down` since the last tail or reset.
    agent_pending: bool,
}

impl PcmEdge {
    pub(crate) fn new() -> Self {
        let build = |from, to| Resampler::new(from, to).expect("8 and 24 kHz are supported rates");
        Self {
            up: build(SampleRate::HZ_8000, SampleRate::HZ_24000),
            down: build(SampleRate::HZ_24000, SampleRate::HZ_8000),
            mulaw_in: Vec::with_capacity(160),
            pcm_8k: Vec::with_capacity(160),
            pcm_down: Vec::new(),
            mulaw_out: Vec::new(),
            agent_pending: false,
        }
    }

    /// Twilio μ-law (base64) → PCM16 24 kHz for the engine.
    pub(crate) fn caller_audio(&mut self, media: &MediaChunk<'_>) -> Result<Vec<i16>, DecodeError> {
        self.mulaw_in.clear();
        media.decode_audio_into(&mut self.mulaw_in)?;
        self.pcm_8k.clear();
        self.pcm_8k
            .extend(self.mulaw_in.iter().map(|&code| mulaw::decode(code)));
        Ok(self.up.process(&self.pcm_8k))
    }

    /// Engine PCM16 24 kHz → 8 kHz μ-law for Twilio; the slice lives until the next call.
    pub(crate) fn agent_audio(&mut self, samples: &[i16]) -> &[u8] {
        self.agent_pending |= !samples.is_empty();
        let needed = self.down.output_len(samples.len());
        self.pcm_down.resize(needed, 0);
        let written = self
            .down
            .process_into(samples, &mut self.pcm_down)
            .unwrap_or(0);
        self.mulaw_out.clear();
        self.mulaw_out
            .extend(self.pcm_down[..written].iter().map(|&s| mulaw::encode(s)));
        &self.mulaw_out
    }

    /// The filter's tail (its latency) as μ-law, pushed out with silence at the end of an item.
    /// Empty when no agent audio is inside the filter.
    pub(crate) fn agent_tail(&mut self) -> &[u8] {
        if !std::mem::take(&mut self.agent_pending) {
            self.mulaw_out.clear();
            return &self.mulaw_out;
        }
        let zeros = vec![0i16; self.down.latency() * 3];
        let tail = self.agent_audio(&zeros).len();
        self.agent_pending = false;
        &self.mulaw_out[..tail]
    }

    /// Forgets agent audio still inside the filter (after a barge-in).
    pub(crate) fn reset_agent(&mut self) {
        self.agent_pending = false;
        self.down.reset();
    }
}

impl Default for PcmEdge {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    #[test]
    fn twenty_ms_in_gives_twenty_ms_out_in_both_directions() {
        let mut edge = PcmEdge::new();
        let payload =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, [0xFFu8; 160]);
        let media = MediaChunk {
            sequence_number: None,
            stream_sid: Cow::Borrowed("MZ"),
            track: crate::twilio::media::Track::Inbound,
            chunk: 1,
            timestamp_ms: 0,
            payload: Cow::Owned(payload),
        };
        assert_eq!(edge.caller_audio(&media).unwrap().len(), 480);
        assert_eq!(edge.agent_audio(&[0; 480]).len(), 160);
        assert_eq!(edge.agent_tail().len(), 39);
        assert!(edge.agent_tail().is_empty(), "the tail is flushed once");
    }
}
