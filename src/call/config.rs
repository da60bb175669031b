//! [`SessionConfig`]: everything a call needs to know about its agent and its policies, plus the
//! built-in tools (`end_call`, `transfer_call`, `query_knowledge_base`). Pure data, no I/O.

use std::time::Duration;

use serde_json::json;

use crate::engines::{AudioFormat, EngineSession, ToolSpec, Transcription, TurnDetection};

/// Name of the built-in tool that ends the call after the goodbye has played.
pub const END_CALL: &str = "end_call";
/// Name of the built-in tool that hands the caller to a human.
pub const TRANSFER_CALL: &str = "transfer_call";
/// Name of the built-in tool answered by the knowledge base (run outside the session).
pub const QUERY_KNOWLEDGE_BASE: &str = "query_knowledge_base";

/// Configuration of one call.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// The agent's system prompt.
    pub instructions: String,
    /// Who speaks first.
    pub greeting: Greeting,
    /// Voice name for the engine.
    pub voice: Option<String>,
    /// Audio on the engine link: μ-law passthrough (default) or PCM16 24 kHz.
    pub audio: AudioFormat,
    /// Caller transcription; without it there are no caller transcript lines.
    pub transcription: Option<Transcription>,
    /// End-of-turn detection.
    pub turn_detection: TurnDetection,
    /// Which tools the model may call.
    pub tools: ToolsConfig,
    /// Say [`Self::filler_line`] once when a tool has not answered within this time.
    pub tool_filler_after: Duration,
    /// The filler ("One moment while I check that.").
    pub filler_line: String,
    /// Silence policy.
    pub silence: SilencePolicy,
    /// Longest call; then [`Self::max_duration_line`] and a hang-up.
    pub max_duration: Duration,
    /// Goodbye said when the maximum duration is reached.
    pub max_duration_line: String,
    /// Goodbye said when the agent ends the call without having said one.
    pub goodbye_line: String,
    /// Said after the engine connection was lost and restored.
    pub apology_line: String,
    /// Said in Twilio's own voice when the engine cannot be restored, before hanging up.
    pub failure_line: String,
    /// Consecutive engine losses tolerated before the call is ended.
    pub max_engine_reconnects: u32,
    /// Longest wait for a goodbye or transfer line to play before hanging up anyway.
    pub ending_grace: Duration,
}

/// Who opens the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Greeting {
    /// The agent speaks first, with this line.
    AgentFirst(String),
    /// The agent waits for the caller.
    CallerFirst,
}

/// Tools offered to the model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolsConfig {
    /// Offer `end_call`.
    pub end_call: bool,
    /// Offer `query_knowledge_base`.
    pub knowledge_base: bool,
    /// Offer `transfer_call` to this target.
    pub transfer: Option<TransferTarget>,
    /// The agent's own function tools, run outside the session.
    pub custom: Vec<ToolSpec>,
}

/// Where `transfer_call` sends the caller, and what the agent says first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTarget {
    /// E.164 number or SIP URI.
    pub to: String,
    /// Said before the transfer ("Let me put you through to a colleague.").
    pub line: String,
}

/// What to do when nobody speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SilencePolicy {
    /// Re-prompt after this much mutual silence.
    pub reprompt_after: Duration,
    /// The re-prompt ("Are you still there?").
    pub reprompt_line: String,
    /// Hang up (politely) at the next silence after this many re-prompts.
    pub max_reprompts: u32,
    /// The goodbye before a silence hang-up.
    pub goodbye_line: String,
}

impl SessionConfig {
    /// A configuration with the given prompt and the defaults: agent greets first, μ-law
    /// passthrough, `end_call` and the knowledge base on, 1.5 s filler, re-prompt after 8 s
    /// twice, 15 min cap.
    pub fn new(instructions: impl Into<String>) -> Self {
        Self {
            instructions: instructions.into(),
            greeting: Greeting::AgentFirst("Hello! How can I help you today?".into()),
            voice: None,
            audio: AudioFormat::Mulaw8k,
            transcription: Some(Transcription {
                model: "gpt-4o-mini-transcribe".into(),
                language: None,
                prompt: None,
            }),
            turn_detection: TurnDetection::default(),
            tools: ToolsConfig { end_call: true, knowledge_base: true, transfer: None, custom: Vec::new() },
            tool_filler_after: Duration::from_millis(1_500),
            filler_line: "One moment while I check that.".into(),
            silence: SilencePolicy {
                reprompt_after: Duration::from_secs(8),
                reprompt_line: "Are you still there?".into(),
                max_reprompts: 2,
                goodbye_line: "I'll let you go now. Feel free to call back any time. Goodbye!".into(),
            },
            max_duration: Duration::from_secs(15 * 60),
            max_duration_line: "I'm sorry, we've reached the time limit for this call. Thank you for calling, goodbye!"
                .into(),
            goodbye_line: "Thank you for calling. Goodbye!".into(),
            apology_line: "Sorry, I lost the connection for a moment. Could you repeat the last thing you said?"
                .into(),
            failure_line: "Sorry, we are having technical difficulties and cannot continue this call. Please call back in a few minutes. Goodbye."
                .into(),
            max_engine_reconnects: 3,
            ending_grace: Duration::from_secs(15),
        }
    }

    /// The engine session this call asks for.
    pub fn engine_session(&self) -> EngineSession {
        EngineSession {
            instructions: self.instructions.clone(),
            voice: self.voice.clone(),
            audio: self.audio,
            transcription: self.transcription.clone(),
            turn_detection: self.turn_detection.clone(),
            tools: self.tool_specs(),
        }
    }

    /// All tools offered to the model: enabled built-ins first, then the custom ones.
    pub fn tool_specs(&self) -> Vec<ToolSpec> {
        let mut specs = Vec::new();
        if self.tools.end_call {
            specs.push(ToolSpec {
                name: END_CALL.into(),
                description: "End the phone call. Say goodbye first; the line is closed once your goodbye has played."
                    .into(),
                parameters: json!({"type":"object","properties":{"reason":{"type":"string","description":"Why the call ends."}}}),
            });
        }
        if self.tools.transfer.is_some() {
            specs.push(ToolSpec {
                name: TRANSFER_CALL.into(),
                description: "Transfer the caller to a human colleague when they ask for one or you cannot help.".into(),
                parameters: json!({"type":"object","properties":{"reason":{"type":"string","description":"Why the caller is transferred."}}}),
            });
        }
        if self.tools.knowledge_base {
            specs.push(ToolSpec {
                name: QUERY_KNOWLEDGE_BASE.into(),
                description: "Search the business's documents. Use it for any question about the business, its services, prices, hours or policies.".into(),
                parameters: json!({"type":"object","properties":{"query":{"type":"string","description":"What to look up, as a full question."}},"required":["query"]}),
            });
        }
        specs.extend(self.tools.custom.iter().cloned());
        specs
    }

    /// True when the model may call `name`.
    pub fn offers_tool(&self, name: &str) -> bool {
        match name {
            END_CALL => self.tools.end_call,
            TRANSFER_CALL => self.tools.transfer.is_some(),
            QUERY_KNOWLEDGE_BASE => self.tools.knowledge_base,
            other => self.tools.custom.iter().any(|t| t.name == other),
        }
    }
}

/// Per-response instructions that make the agent say `line` and nothing else.
pub(crate) fn say_exactly(line: &str) -> String {
    format!(
        "Say exactly this to the caller, in the conversation's language, and nothing else: \"{line}\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_offer_end_call_and_knowledge_base_only() {
        let config = SessionConfig::new("Be helpful.");
        let names: Vec<_> = config.tool_specs().into_iter().map(|t| t.name).collect();
        assert_eq!(names, [END_CALL, QUERY_KNOWLEDGE_BASE]);
        assert!(!config.offers_tool(TRANSFER_CALL));
        assert!(!config.offers_tool("book_table"));
        assert_eq!(config.tool_filler_after, Duration::from_millis(1_500));
    }

    #[test]
    fn a_transfer_target_adds_transfer_call() {
        let mut config = SessionConfig::new("Be helpful.");
        config.tools.transfer = Some(TransferTarget {
            to: "+15550100".into(),
            line: "Connecting you.".into(),
        });
        assert!(config.offers_tool(TRANSFER_CALL));
        assert!(
            config
                .engine_session()
                .tools
                .iter()
                .any(|t| t.name == TRANSFER_CALL)
        );
    }
}
