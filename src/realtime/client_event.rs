//! Client events: what Switchboard sends to the OpenAI Realtime API (GA shape).
//!
//! [`RealtimeClientEvent`] has one variant per event type we send, wire names in
//! `#[serde(rename)]`. The audio `append` goes out 50 times a second per call, so it has a fast path,
//! [`write_input_audio_append`], that copies Twilio's already-base64 μ-law payload straight into a
//! reusable buffer; [`RealtimeClientEvent::write_json`] uses it. Pure: builds strings, no I/O.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::session::RealtimeSession;

/// An event we send on the Realtime WebSocket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum RealtimeClientEvent<'a> {
    /// Configure the session.
    #[serde(rename = "session.update")]
    SessionUpdate {
        /// The fields to set.
        session: Box<RealtimeSession>,
    },
    /// Append base64 audio to the input buffer.
    #[serde(rename = "input_audio_buffer.append")]
    InputAudioBufferAppend {
        /// Base64 audio in the session's input format (borrowed from the Twilio frame when possible).
        #[serde(borrow)]
        audio: Cow<'a, str>,
    },
    /// Commit the input buffer as a user item (only needed without turn detection).
    #[serde(rename = "input_audio_buffer.commit")]
    InputAudioBufferCommit,
    /// Drop the uncommitted input audio.
    #[serde(rename = "input_audio_buffer.clear")]
    InputAudioBufferClear,
    /// Add an item to the conversation.
    #[serde(rename = "conversation.item.create")]
    ConversationItemCreate {
        /// Insert after this item (`None` = append at the end).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_item_id: Option<String>,
        /// The item.
        item: ConversationItem,
    },
    /// Cut an assistant audio item to what the listener heard.
    #[serde(rename = "conversation.item.truncate")]
    ConversationItemTruncate {
        /// The assistant item.
        item_id: String,
        /// Content part index, 0 for audio messages.
        content_index: u32,
        /// Inclusive end of the kept audio, ms; must not exceed the audio generated.
        audio_end_ms: u64,
    },
    /// Ask for a model response.
    #[serde(rename = "response.create")]
    ResponseCreate {
        /// Per-response overrides.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response: Option<ResponseParams>,
    },
    /// Cancel the response in progress.
    #[serde(rename = "response.cancel")]
    ResponseCancel {
        /// A specific response (`None` = the one in progress).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        response_id: Option<String>,
    },
}

/// Per-response settings of `response.create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ResponseParams {
    /// Instructions for this response only (they replace the session's for this turn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// An item we add with `conversation.item.create`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ConversationItem {
    /// A text message (used to replay history into a fresh session).
    #[serde(rename = "message")]
    Message {
        /// Who said it.
        role: Role,
        /// The text parts.
        content: Vec<MessageContent>,
    },
    /// A tool's answer to a `function_call`.
    #[serde(rename = "function_call_output")]
    FunctionCallOutput {
        /// The call being answered.
        call_id: String,
        /// The tool output, usually JSON.
        output: String,
    },
}

impl ConversationItem {
    /// A user text message.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::Message {
            role: Role::User,
            content: vec![MessageContent::InputText { text: text.into() }],
        }
    }

    /// An assistant text message (GA content type `output_text`).
    pub fn assistant_text(text: impl Into<String>) -> Self {
        Self::Message {
            role: Role::Assistant,
            content: vec![MessageContent::OutputText { text: text.into() }],
        }
    }
}

/// Message roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// System message.
    System,
    /// The caller.
    User,
    /// The agent.
    Assistant,
}

/// Text content of a message item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum MessageContent {
    /// User or system text.
    #[serde(rename = "input_text")]
    InputText {
        /// The text.
        text: String,
    },
    /// Assistant text.
    #[serde(rename = "output_text")]
    OutputText {
        /// The text.
        text: String,
    },
}

const APPEND_HEAD: &str = r#"{"type":"input_audio_buffer.append","audio":""#;
const APPEND_TAIL: &str = r#""}"#;

/// Writes `{"type":"input_audio_buffer.append","audio":"<audio>"}` into `out` (cleared first).
///
/// `audio_base64` is copied as is when it only holds base64 characters, which need no JSON
/// escaping; anything else falls back to a fully escaped encoding, so the output is always valid.
pub fn write_input_audio_append(out: &mut String, audio_base64: &str) {
    out.clear();
    if audio_base64.bytes().all(is_base64_byte) {
        out.reserve(APPEND_HEAD.len() + audio_base64.len() + APPEND_TAIL.len());
        out.push_str(APPEND_HEAD);
        out.push_str(audio_base64);
        out.push_str(APPEND_TAIL);
    } else {
        let event = RealtimeClientEvent::InputAudioBufferAppend {
            audio: Cow::Borrowed(audio_base64),
        };
        out.push_str(&serde_json::to_string(&event).unwrap_or_default());
    }
}

fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

impl RealtimeClientEvent<'_> {
    /// Serialises the event into `out` (cleared first); appends take the copy-only fast path.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Self::InputAudioBufferAppend { audio } => write_input_audio_append(out, audio),
            other => {
                out.clear();
                // Serialising these plain structs cannot fail (no maps with non-string keys).
                out.push_str(&serde_json::to_string(other).unwrap_or_default());
            }
        }
    }

    /// The wire name of the event type.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::SessionUpdate { .. } => "session.update",
            Self::InputAudioBufferAppend { .. } => "input_audio_buffer.append",
            Self::InputAudioBufferCommit => "input_audio_buffer.commit",
            Self::InputAudioBufferClear => "input_audio_buffer.clear",
            Self::ConversationItemCreate { .. } => "conversation.item.create",
            Self::ConversationItemTruncate { .. } => "conversation.item.truncate",
            Self::ResponseCreate { .. } => "response.create",
            Self::ResponseCancel { .. } => "response.cancel",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn to_value(event: &RealtimeClientEvent<'_>) -> serde_json::Value {
        let mut out = String::new();
        event.write_json(&mut out);
        serde_json::from_str(&out).expect("valid JSON")
    }

    #[test]
    fn append_fast_path_matches_serde() {
        let audio = "f39/fw==";
        let mut fast = String::from("stale");
        write_input_audio_append(&mut fast, audio);
        let slow = serde_json::to_string(&RealtimeClientEvent::InputAudioBufferAppend {
            audio: Cow::Borrowed(audio),
        })
        .unwrap();
        assert_eq!(fast, slow);
    }

    #[test]
    fn append_with_characters_outside_base64_is_still_valid_json() {
        let mut out = String::new();
        write_input_audio_append(&mut out, "a\"b\\c\n");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["audio"], "a\"b\\c\n");
    }

    #[test]
    fn truncate_cancel_and_create_have_the_ga_shape() {
        let truncate = RealtimeClientEvent::ConversationItemTruncate {
            item_id: "item_1".into(),
            content_index: 0,
            audio_end_ms: 1500,
        };
        assert_eq!(
            to_value(&truncate),
            json!({"type":"conversation.item.truncate","item_id":"item_1","content_index":0,"audio_end_ms":1500})
        );
        let cancel = RealtimeClientEvent::ResponseCancel { response_id: None };
        assert_eq!(to_value(&cancel), json!({"type":"response.cancel"}));
        let create = RealtimeClientEvent::ResponseCreate {
            response: Some(ResponseParams {
                instructions: Some("Say hi.".into()),
            }),
        };
        assert_eq!(
            to_value(&create),
            json!({"type":"response.create","response":{"instructions":"Say hi."}})
        );
    }

    #[test]
    fn items_for_tool_output_and_history_have_the_ga_shape() {
        let output = RealtimeClientEvent::ConversationItemCreate {
            previous_item_id: None,
            item: ConversationItem::FunctionCallOutput {
                call_id: "c1".into(),
                output: "{}".into(),
            },
        };
        assert_eq!(
            to_value(&output),
            json!({"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c1","output":"{}"}})
        );
        let said = RealtimeClientEvent::ConversationItemCreate {
            previous_item_id: None,
            item: ConversationItem::assistant_text("Hello"),
        };
        assert_eq!(
            to_value(&said)["item"],
            json!({"type":"message","role":"assistant","content":[{"type":"output_text","text":"Hello"}]})
        );
    }

    #[test]
    fn client_events_round_trip() {
        let event = RealtimeClientEvent::InputAudioBufferCommit;
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(text, r#"{"type":"input_audio_buffer.commit"}"#);
        let back: RealtimeClientEvent<'_> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, event);
        assert_eq!(back.event_type(), "input_audio_buffer.commit");
    }
}
