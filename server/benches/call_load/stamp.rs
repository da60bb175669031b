//! Time-stamped audio frames: each 20 ms μ-law frame carries the instant it was sent, so the
//! side that receives it (through the server) knows how long the server took to pass it on.
//! Both ends live in this process and share one clock.

use std::sync::OnceLock;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// One 20 ms frame of 8 kHz μ-law.
pub(crate) const FRAME_BYTES: usize = 160;
/// Marks a stamped frame: a magic byte, then the send time in µs (little-endian u64).
const MAGIC: u8 = 0xA5;
/// Stamp bytes: a multiple of 3, so its base64 has no padding and the constant tail can follow.
const STAMP_BYTES: usize = 9;

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// Microseconds since the bench started.
pub(crate) fn now_us() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// Writes stamped frames' base64 without encoding the constant part every time.
pub(crate) struct FrameEncoder {
    tail: String,
}

impl FrameEncoder {
    pub(crate) fn new() -> Self {
        // A quiet, non-silent μ-law byte: the server sees ordinary audio.
        let tail = BASE64.encode([0x7Eu8; FRAME_BYTES - STAMP_BYTES]);
        Self { tail }
    }

    /// Appends the base64 of one frame stamped with the current time.
    pub(crate) fn push_frame(&self, out: &mut String) {
        let mut stamp = [0u8; STAMP_BYTES];
        stamp[0] = MAGIC;
        stamp[1..].copy_from_slice(&now_us().to_le_bytes());
        BASE64.encode_string(stamp, out);
        out.push_str(&self.tail);
    }
}

/// Calls `seen(latency_us)` for every stamped frame in the base64 audio `payload`.
pub(crate) fn read_stamps(payload: &str, mut seen: impl FnMut(u64)) {
    let Ok(bytes) = BASE64.decode(payload) else {
        return;
    };
    let now = now_us();
    for frame in bytes.chunks_exact(FRAME_BYTES) {
        if frame[0] == MAGIC {
            let sent = u64::from_le_bytes(frame[1..STAMP_BYTES].try_into().expect("8 bytes"));
            seen(now.saturating_sub(sent));
        }
    }
}

/// The string value of `"key":"…"` in compact JSON (no escapes inside, as in base64 and ids).
pub(crate) fn json_str<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let pattern = format!("\"{key}\":\"");
    let start = text.find(&pattern)? + pattern.len();
    let len = text[start..].find('"')?;
    Some(&text[start..start + len])
}
