//! The protocol state of one fake Realtime connection: the energy VAD, scripted turns, paced
//! reply streaming, cancel and truncate. Sync and socket-free; the connection task feeds it
//! client events and pacing ticks and sends what it returns.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{FakeScript, ScriptReply, tone};
use crate::audio::pcm::rms_mulaw;

/// One reply being streamed.
#[derive(Debug)]
struct Streaming {
    response_id: String,
    item_id: String,
    text: String,
    remaining_bytes: usize,
    first: bool,
}

/// What a model does with instructions: a quoted line at their end ("…say exactly this: \"Hi\"")
/// is said as written; any other instructions are transcribed as themselves.
fn spoken_line(instructions: &str) -> String {
    let trimmed = instructions.trim_end();
    if let Some(body) = trimmed.strip_suffix('"')
        && let Some(start) = body.rfind(": \"")
    {
        return body[start + 3..].to_owned();
    }
    instructions.to_owned()
}

/// Connections opened by every fake in this process, for unique ids.
static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// The protocol state of one connection (sync; the task feeds it frames and pace ticks).
#[derive(Debug)]
pub(super) struct Connection {
    pub(super) script: FakeScript,
    next_turn: usize,
    /// This connection's number in the process, part of every id.
    connection: u64,
    ids: u64,
    received_ms: u64,
    loud_ms: u64,
    silent_ms: u64,
    speaking: Option<String>,
    streaming: Option<Streaming>,
    follow_up: Option<(String, u64)>,
    phase: f32,
    /// Audio generated since the task last looked: (item id, bytes).
    pub(super) generated: Vec<(String, usize)>,
}

impl Connection {
    pub(super) fn new(script: FakeScript) -> Self {
        Self {
            script,
            next_turn: 0,
            connection: CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            ids: 0,
            received_ms: 0,
            loud_ms: 0,
            silent_ms: 0,
            speaking: None,
            streaming: None,
            follow_up: None,
            phase: 0.0,
            generated: Vec::new(),
        }
    }

    /// A fresh id. Unique across connections too, as the real API's are: a bridge that
    /// reconnects must never see a new item under an id it already finished.
    fn id(&mut self, prefix: &str) -> String {
        self.ids += 1;
        format!("{prefix}_{}_{}", self.connection, self.ids)
    }

    pub(super) fn is_streaming(&self) -> bool {
        self.streaming.is_some()
    }

    pub(super) fn on_client_event(&mut self, event: &Value, out: &mut Vec<Value>) {
        match event["type"].as_str().unwrap_or_default() {
            "session.update" => {
                out.push(json!({"type": "session.updated", "session": event["session"]}))
            }
            "input_audio_buffer.append" => {
                let audio = STANDARD
                    .decode(event["audio"].as_str().unwrap_or_default())
                    .unwrap_or_default();
                self.on_audio(&audio, out);
            }
            "conversation.item.truncate" => out.push(json!({
                "type": "conversation.item.truncated",
                "item_id": event["item_id"],
                "content_index": event["content_index"],
                "audio_end_ms": event["audio_end_ms"],
            })),
            "response.cancel" => match self.streaming.take() {
                Some(s) => {
                    out.push(json!({"type": "response.output_audio.done", "response_id": s.response_id, "item_id": s.item_id}));
                    out.push(response_done(&s.response_id, "cancelled"));
                }
                None => out.push(error(
                    "response_cancel_not_active",
                    "There is no active response.",
                )),
            },
            "response.create" => {
                if self.streaming.is_some() {
                    out.push(error(
                        "conversation_already_has_active_response",
                        "A response is in progress.",
                    ));
                    return;
                }
                let instructions = event["response"]["instructions"]
                    .as_str()
                    .map(str::to_owned);
                match (instructions, self.follow_up.take()) {
                    (Some(text), _) => {
                        let said = spoken_line(&text);
                        self.say(said, self.script.instructed_audio_ms, out)
                    }
                    (None, Some((text, ms))) => self.say(text, ms, out),
                    (None, None) => self.reply(self.script.fallback.clone(), out),
                }
            }
            _ => {}
        }
    }

    /// The energy VAD, in steps of one 20 ms frame.
    fn on_audio(&mut self, audio: &[u8], out: &mut Vec<Value>) {
        for frame in audio.chunks(160) {
            let ms = frame.len() as u64 / 8;
            self.received_ms += ms;
            let loud = rms_mulaw(frame) > self.script.speech_threshold;
            match &self.speaking {
                None if loud => {
                    self.loud_ms += ms;
                    if self.loud_ms >= self.script.speech_min_ms {
                        let item_id = self.id("item_caller");
                        out.push(json!({
                            "type": "input_audio_buffer.speech_started",
                            "audio_start_ms": self.received_ms - self.loud_ms,
                            "item_id": item_id,
                        }));
                        self.speaking = Some(item_id);
                        self.silent_ms = 0;
                    }
                }
                None => self.loud_ms = 0,
                Some(_) if loud => self.silent_ms = 0,
                Some(item_id) => {
                    self.silent_ms += ms;
                    if self.silent_ms >= self.script.silence_ms {
                        let item_id = item_id.clone();
                        self.end_caller_turn(item_id, out);
                    }
                }
            }
        }
    }

    fn end_caller_turn(&mut self, item_id: String, out: &mut Vec<Value>) {
        self.speaking = None;
        self.loud_ms = 0;
        let turn = self.script.turns.get(self.next_turn).cloned();
        self.next_turn += 1;
        let (caller, reply) = match turn {
            Some(t) => (t.caller, t.reply),
            None => ("(unscripted)".to_owned(), self.script.fallback.clone()),
        };
        out.push(json!({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": self.received_ms, "item_id": item_id}));
        out.push(json!({"type": "input_audio_buffer.committed", "item_id": item_id}));
        out.push(json!({
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": item_id,
            "content_index": 0,
            "transcript": caller,
        }));
        if self.streaming.is_none() {
            self.reply(reply, out);
        }
    }

    fn reply(&mut self, reply: ScriptReply, out: &mut Vec<Value>) {
        match reply {
            ScriptReply::Say { text, audio_ms } => self.say(text, audio_ms, out),
            ScriptReply::CallTool {
                name,
                arguments,
                then,
                then_audio_ms,
            } => {
                let response_id = self.id("resp");
                let item_id = self.id("item_fc");
                let call_id = self.id("call");
                let item = json!({"type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": arguments, "status": "completed"});
                out.push(json!({"type": "response.created", "response": {"id": response_id, "status": "in_progress"}}));
                out.push(json!({"type": "response.output_item.added", "response_id": response_id, "item": item}));
                out.push(json!({"type": "response.function_call_arguments.done", "response_id": response_id, "item_id": item_id, "call_id": call_id, "name": name, "arguments": arguments}));
                out.push(json!({"type": "response.output_item.done", "response_id": response_id, "item": item}));
                out.push(response_done(&response_id, "completed"));
                self.follow_up = Some((then, then_audio_ms));
            }
        }
    }

    fn say(&mut self, text: String, audio_ms: u64, out: &mut Vec<Value>) {
        let response_id = self.id("resp");
        let item_id = self.id("item_agent");
        out.push(json!({"type": "response.created", "response": {"id": response_id, "status": "in_progress"}}));
        out.push(json!({
            "type": "response.output_item.added",
            "response_id": response_id,
            "item": {"type": "message", "id": item_id, "role": "assistant", "status": "in_progress"},
        }));
        self.streaming = Some(Streaming {
            response_id,
            item_id,
            text,
            remaining_bytes: (audio_ms * 8) as usize,
            first: true,
        });
    }

    /// One pacing tick: the next audio delta, or the end of the response.
    pub(super) fn on_pace(&mut self, out: &mut Vec<Value>) {
        let chunk = (self.script.delta_ms * 8) as usize;
        let Some(s) = self.streaming.as_mut() else {
            return;
        };
        if s.first {
            s.first = false;
            out.push(json!({"type": "response.output_audio_transcript.delta", "response_id": s.response_id, "item_id": s.item_id, "delta": s.text}));
        }
        if s.remaining_bytes > 0 {
            let n = chunk.min(s.remaining_bytes);
            s.remaining_bytes -= n;
            let (response_id, item_id) = (s.response_id.clone(), s.item_id.clone());
            let audio = tone(n, &mut self.phase, 8_000.0);
            self.generated.push((item_id.clone(), n));
            out.push(json!({
                "type": "response.output_audio.delta",
                "response_id": response_id,
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": STANDARD.encode(audio),
            }));
            return;
        }
        let Some(s) = self.streaming.take() else {
            return;
        };
        out.push(json!({"type": "response.output_audio.done", "response_id": s.response_id, "item_id": s.item_id}));
        out.push(json!({"type": "response.output_audio_transcript.done", "response_id": s.response_id, "item_id": s.item_id, "transcript": s.text}));
        out.push(json!({
            "type": "response.output_item.done",
            "response_id": s.response_id,
            "item": {"type": "message", "id": s.item_id, "role": "assistant", "status": "completed"},
        }));
        out.push(response_done(&s.response_id, "completed"));
    }
}

fn response_done(response_id: &str, status: &str) -> Value {
    json!({
        "type": "response.done",
        "response": {
            "id": response_id,
            "status": status,
            "usage": {
                "total_tokens": 30, "input_tokens": 10, "output_tokens": 20,
                "input_token_details": {"text_tokens": 5, "audio_tokens": 5, "cached_tokens": 0},
                "output_token_details": {"text_tokens": 5, "audio_tokens": 15},
            },
        },
    })
}

fn error(code: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": "invalid_request_error", "code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_quoted_line_is_said_as_written() {
        use super::spoken_line;
        let said = spoken_line(
            "Say exactly this to the caller, in the conversation's language, and nothing else: \"Hello, how can I help you?\"",
        );
        assert_eq!(said, "Hello, how can I help you?");
        assert_eq!(spoken_line("Apologise briefly."), "Apologise briefly.");
    }

    use super::*;
    use crate::fakes::openai_realtime::ScriptTurn;

    fn types(out: &[Value]) -> Vec<&str> {
        out.iter()
            .map(|v| v["type"].as_str().unwrap_or_default())
            .collect()
    }

    #[test]
    fn loud_audio_then_silence_makes_one_scripted_caller_turn_and_a_reply() {
        let script = FakeScript {
            turns: vec![ScriptTurn {
                caller: "What are your hours?".into(),
                reply: ScriptReply::say("Nine to five.", 200),
            }],
            ..FakeScript::default()
        };
        let mut conn = Connection::new(script);
        let mut out = Vec::new();
        let mut phase = 0.0;
        conn.on_audio(&tone(160 * 10, &mut phase, 8_000.0), &mut out);
        assert_eq!(types(&out), ["input_audio_buffer.speech_started"]);
        assert_eq!(out[0]["audio_start_ms"], 0);
        conn.on_audio(&[0xFF; 160 * 25], &mut out);
        assert_eq!(
            types(&out)[1..],
            [
                "input_audio_buffer.speech_stopped",
                "input_audio_buffer.committed",
                "conversation.item.input_audio_transcription.completed",
                "response.created",
                "response.output_item.added",
            ]
        );
        assert_eq!(out[3]["transcript"], "What are your hours?");
        assert!(conn.is_streaming());
    }

    #[test]
    fn a_cancel_stops_the_stream_with_a_cancelled_response_done() {
        let mut conn = Connection::new(FakeScript::default());
        let mut out = Vec::new();
        conn.on_client_event(&json!({"type": "response.create"}), &mut out);
        conn.on_pace(&mut out);
        conn.on_client_event(&json!({"type": "response.cancel"}), &mut out);
        assert!(!conn.is_streaming());
        assert_eq!(
            out.last().map(|v| v["response"]["status"].clone()),
            Some(json!("cancelled"))
        );
    }
}
