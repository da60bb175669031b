//! Agent audio on its way to the caller: 20 ms framing, Twilio marks, and the heard clock.
//!
//! Agent audio leaves in 160-byte (20 ms) μ-law frames; the tail of a chunk that does not fill a
//! frame waits for the next chunk of the same item, and is padded with μ-law silence when the item
//! ends. After every [`FRAMES_PER_MARK`] frames (100 ms) of an item, counted across chunks, a
//! `mark` named `<item_id>@<ms>` follows, `<ms>` being the item's audio sent so far; when the
//! item's audio ends or another item starts sending, one more mark follows its last frames if any
//! were sent since its last mark. So a finished item's last mark covers all of its audio, and no
//! marks pending means all of it played. When Twilio echoes a mark, everything before it has
//! played, so the item's heard clock moves to `<ms>`: the session always knows (to within 100 ms)
//! how much of each agent item the caller actually heard, which is what truncation and the
//! interrupted transcript line are cut to. Marks echoed after a `clear` are stale and only counted.
//! Pure state, no I/O: frames are pushed onto the session's action queue.

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::action::CallAction;
use super::time::CallTime;
use super::transcript::{Role, TranscriptLine, heard_prefix};
use crate::audio::mulaw::SILENCE;
use crate::audio::pcm::{MULAW_FRAME_BYTES, MulawFrameSplitter};
use crate::twilio::TwilioOutbound;

/// A mark goes out after this many frames of an item (5 frames = 100 ms), whatever the engine's
/// chunk sizes. This bounds the heard clock's error at 100 ms, and each mark costs an echo message
/// from Twilio to read and parse: a mark per chunk would cost one echo per engine delta, which
/// for small deltas (20 ms) is a large part of a call's CPU.
pub(crate) const FRAMES_PER_MARK: u32 = 5;

/// Items kept for matching late events and stale marks; the oldest written ones go first.
const MAX_ITEMS: usize = 32;

/// Playback state of one agent item, with its transcript so far.
#[derive(Debug)]
pub(crate) struct AgentItem {
    pub(crate) id: String,
    /// Audio the engine generated for the item, in µs (the truncation limit).
    generated_us: u64,
    /// μ-law bytes sent to Twilio, padding included.
    sent_bytes: u64,
    /// Frames sent since the item's last mark.
    frames_since_mark: u32,
    marks_pending: u32,
    heard_ms: u64,
    created_at: CallTime,
    first_sent_at: Option<CallTime>,
    last_heard_at: Option<CallTime>,
    interrupted_at: Option<CallTime>,
    audio_done: bool,
    text: String,
    text_final: bool,
    written: bool,
}

impl AgentItem {
    fn new(id: &str, now: CallTime) -> Self {
        Self {
            id: id.to_owned(),
            generated_us: 0,
            sent_bytes: 0,
            frames_since_mark: 0,
            marks_pending: 0,
            heard_ms: 0,
            created_at: now,
            first_sent_at: None,
            last_heard_at: None,
            interrupted_at: None,
            audio_done: false,
            text: String::new(),
            text_final: false,
            written: false,
        }
    }

    fn generated_ms(&self) -> u64 {
        self.generated_us / 1000
    }

    fn sent_ms(&self) -> u64 {
        self.sent_bytes / 8
    }

    /// Heard audio, never more than was generated (the last frame's padding is not audio).
    fn heard_ms(&self) -> u64 {
        self.heard_ms.min(self.generated_ms())
    }

    /// Audio is still playing, queued, or on its way from the engine.
    fn is_speaking(&self) -> bool {
        self.interrupted_at.is_none() && (self.marks_pending > 0 || !self.audio_done)
    }

    fn ready_to_write(&self) -> bool {
        !self.written
            && (self.interrupted_at.is_some()
                || (self.text_final && self.audio_done && self.marks_pending == 0))
    }

    /// The transcript line for this item, with offsets relative to `call_start`.
    fn line(&self, call_start: CallTime, now: CallTime) -> Option<TranscriptLine> {
        let interrupted = self.interrupted_at.is_some() || self.heard_ms() < self.generated_ms();
        let text = if interrupted {
            heard_prefix(&self.text, self.heard_ms(), self.generated_ms())
        } else {
            self.text.trim()
        };
        if text.is_empty() {
            return None;
        }
        let start = self.first_sent_at.unwrap_or(self.created_at);
        let end = self
            .interrupted_at
            .or(self.last_heard_at)
            .unwrap_or(now)
            .max(start);
        Some(TranscriptLine {
            role: Role::Agent,
            text: text.to_owned(),
            start_ms: start.millis_since(call_start),
            end_ms: end.millis_since(call_start),
            interrupted,
        })
    }
}

/// What a barge-in did to one agent item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Interruption {
    pub(crate) item_id: String,
    /// Heard audio, clamped to what was generated; 0 means nothing played.
    pub(crate) heard_ms: u64,
}

/// What an echoed mark meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkEcho {
    /// The heard clock of an item moved.
    Heard,
    /// A mark flushed by `clear` for an interrupted item.
    Stale,
    /// A name we never sent (or sent more often than echoed).
    Unknown,
}

/// All agent items of a call and the frame splitter for the one currently sending.
#[derive(Debug, Default)]
pub(crate) struct Playback {
    items: Vec<AgentItem>,
    splitter: MulawFrameSplitter,
    /// The item whose tail sits in the splitter.
    open: Option<String>,
}

impl Playback {
    fn index(&self, id: &str) -> Option<usize> {
        self.items.iter().rposition(|item| item.id == id)
    }

    fn index_or_insert(&mut self, id: &str, now: CallTime) -> usize {
        if let Some(index) = self.index(id) {
            return index;
        }
        if self.items.len() >= MAX_ITEMS
            && let Some(old) = self
                .items
                .iter()
                .position(|i| i.written && !i.is_speaking())
        {
            self.items.remove(old);
        }
        self.items.push(AgentItem::new(id, now));
        self.items.len() - 1
    }

    /// True when audio for `item_id` would be dropped (interrupted or ended).
    pub(crate) fn is_closed(&self, item_id: &str) -> bool {
        self.index(item_id)
            .is_some_and(|i| self.items[i].interrupted_at.is_some() || self.items[i].audio_done)
    }

    /// Sends `mulaw` for `item_id` as whole frames, with a mark after every [`FRAMES_PER_MARK`]
    /// frames of the item; the tail waits for the next chunk. Returns false (and sends nothing)
    /// when the item was interrupted or had ended: late audio must not play after a barge-in.
    pub(crate) fn push_mulaw(
        &mut self,
        item_id: &str,
        mulaw: &[u8],
        generated_us: u64,
        stream_sid: &str,
        now: CallTime,
        out: &mut VecDeque<CallAction>,
    ) -> bool {
        let index = self.index_or_insert(item_id, now);
        if self.items[index].interrupted_at.is_some() || self.items[index].audio_done {
            return false;
        }
        if self.open.as_deref() != Some(item_id) {
            self.flush_open(stream_sid, out);
            self.open = Some(item_id.to_owned());
        }
        let Self {
            items, splitter, ..
        } = self;
        let item = &mut items[index];
        item.generated_us += generated_us;
        item.first_sent_at.get_or_insert(now);
        splitter.push(mulaw, |frame| {
            send_frame(item, frame, stream_sid, out);
            if item.frames_since_mark >= FRAMES_PER_MARK {
                send_mark(item, stream_sid, out);
            }
        });
        true
    }

    /// Pads and sends the open item's tail, then marks its frames sent since its last mark (if
    /// any). Only the open item has unmarked frames (besides interrupted items, whose audio was cut).
    fn flush_open(&mut self, stream_sid: &str, out: &mut VecDeque<CallAction>) {
        let Some(id) = self.open.take() else { return };
        let Some(index) = self.index(&id) else { return };
        let tail = self.splitter.take_pending();
        let item = &mut self.items[index];
        if !tail.is_empty() {
            let mut frame = [SILENCE; MULAW_FRAME_BYTES];
            frame[..tail.len()].copy_from_slice(tail);
            send_frame(item, &frame, stream_sid, out);
        }
        if item.frames_since_mark > 0 {
            send_mark(item, stream_sid, out);
        }
    }

    /// The engine finished the item's audio: flush its tail and mark its last frames, so its last
    /// mark covers all of its audio. False for an unknown item.
    pub(crate) fn finish_item(
        &mut self,
        item_id: &str,
        stream_sid: &str,
        out: &mut VecDeque<CallAction>,
    ) -> bool {
        if self.open.as_deref() == Some(item_id) {
            self.flush_open(stream_sid, out);
        }
        match self.index(item_id) {
            Some(index) => {
                let item = &mut self.items[index];
                // An item that is not open had its frames marked when another item took over
                // (`flush_open`), or was interrupted, which drops its unsent audio and marks.
                debug_assert!(item.frames_since_mark == 0 || item.interrupted_at.is_some());
                item.audio_done = true;
                true
            }
            None => false,
        }
    }

    /// No more audio will come for any item (response done, engine lost).
    pub(crate) fn finish_all(&mut self, stream_sid: &str, out: &mut VecDeque<CallAction>) {
        self.flush_open(stream_sid, out);
        for item in &mut self.items {
            item.audio_done = true;
        }
    }

    /// Applies an echoed mark.
    pub(crate) fn on_mark(&mut self, name: &str, now: CallTime) -> MarkEcho {
        let Some((id, ms)) = name.rsplit_once('@') else {
            return MarkEcho::Unknown;
        };
        let (Ok(ms), Some(index)) = (ms.parse::<u64>(), self.index(id)) else {
            return MarkEcho::Unknown;
        };
        let item = &mut self.items[index];
        if item.marks_pending == 0 || ms > item.sent_ms() {
            return MarkEcho::Unknown;
        }
        item.marks_pending -= 1;
        if item.interrupted_at.is_some() {
            return MarkEcho::Stale;
        }
        item.heard_ms = item.heard_ms.max(ms);
        item.last_heard_at = Some(now);
        MarkEcho::Heard
    }

    /// True while agent audio is playing, queued at Twilio, or still being generated.
    pub(crate) fn is_speaking(&self) -> bool {
        self.items.iter().any(AgentItem::is_speaking)
    }

    /// Barge-in: drops the unsent tail, freezes every speaking item at its heard ms, and reports them.
    pub(crate) fn interrupt(&mut self, now: CallTime) -> Vec<Interruption> {
        self.splitter.take_pending();
        self.open = None;
        let mut interrupted = Vec::new();
        for item in self.items.iter_mut().filter(|item| item.is_speaking()) {
            item.interrupted_at = Some(now);
            item.audio_done = true;
            interrupted.push(Interruption {
                item_id: item.id.clone(),
                heard_ms: item.heard_ms(),
            });
        }
        interrupted
    }

    /// Appends transcript text for an item. False when the item's line is already written.
    pub(crate) fn add_text(&mut self, item_id: &str, text: &str, now: CallTime) -> bool {
        let index = self.index_or_insert(item_id, now);
        let item = &mut self.items[index];
        if item.written || item.interrupted_at.is_some() {
            return false;
        }
        item.text.push_str(text);
        true
    }

    /// Sets the final transcript of an item. False when the item's line is already written.
    pub(crate) fn set_final_text(&mut self, item_id: &str, text: String, now: CallTime) -> bool {
        let index = self.index_or_insert(item_id, now);
        let item = &mut self.items[index];
        if item.written || item.interrupted_at.is_some() {
            return false;
        }
        item.text = text;
        item.text_final = true;
        true
    }

    /// Lines of items that finished playing (or were interrupted) since the last call, with the
    /// heard ms of each. With `force`, every unwritten item is written as heard so far (call end).
    pub(crate) fn take_lines(
        &mut self,
        call_start: CallTime,
        now: CallTime,
        force: bool,
    ) -> Vec<(TranscriptLine, u64)> {
        let mut lines = Vec::new();
        for item in self
            .items
            .iter_mut()
            .filter(|i| !i.written && (force || i.ready_to_write()))
        {
            item.written = true;
            if let Some(line) = item.line(call_start, now) {
                lines.push((line, item.heard_ms()));
            }
        }
        lines
    }
}

fn send_frame(
    item: &mut AgentItem,
    frame: &[u8],
    stream_sid: &str,
    out: &mut VecDeque<CallAction>,
) {
    item.sent_bytes += frame.len() as u64;
    item.frames_since_mark += 1;
    out.push_back(CallAction::Twilio(TwilioOutbound::media(
        stream_sid.to_owned(),
        STANDARD.encode(frame),
    )));
}

fn send_mark(item: &mut AgentItem, stream_sid: &str, out: &mut VecDeque<CallAction>) {
    item.marks_pending += 1;
    item.frames_since_mark = 0;
    let name = format!("{}@{}", item.id, item.sent_ms());
    out.push_back(CallAction::Twilio(TwilioOutbound::mark(
        stream_sid.to_owned(),
        name,
    )));
}

#[cfg(test)]
mod tests;
