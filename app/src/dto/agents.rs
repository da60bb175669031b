//! What the agents pages send and receive: the editor's form (strings, as a form posts them),
//! the list, prompt versions and their diffs.

use serde::{Deserialize, Serialize};

/// The OpenAI Realtime voices (the server checks the same list).
pub const VOICES: [&str; 10] = [
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar",
];
/// The realtime models an agent may use.
pub const MODELS: [&str; 2] = ["gpt-realtime", "gpt-realtime-mini"];

/// The agent editor's fields, spelled as the form posts them: every value a string, every
/// checkbox present (`Some`) when ticked. The server parses and checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentForm {
    /// Display name.
    pub name: String,
    /// What the agent is for.
    pub description: String,
    /// `active` or `paused`.
    pub status: String,
    /// The system prompt.
    pub system_prompt: String,
    /// Added on inbound calls.
    pub inbound_prompt: String,
    /// Added on outbound calls.
    pub outbound_prompt: String,
    /// What the agent says first.
    pub greeting: String,
    /// `agent` or `caller`.
    pub first_speaker: String,
    /// One of [`MODELS`].
    pub model: String,
    /// One of [`VOICES`].
    pub voice: String,
    /// ISO 639-1 code.
    pub language: String,
    /// `server_vad` or `semantic_vad`.
    pub vad_mode: String,
    /// `pcmu` or `pcm16`.
    pub audio_format: String,
    /// Checkbox: offer knowledge search.
    pub knowledge_search: Option<String>,
    /// Checkbox: offer ending the call.
    pub end_call: Option<String>,
    /// Checkbox: offer transfers to [`AgentForm::transfer_number`].
    pub transfer: Option<String>,
    /// E.164 number for transfers.
    pub transfer_number: String,
    /// Business tools: a JSON array of `{name, description, parameters, webhook_url?}`.
    pub tools: String,
    /// JSON Schema of the call outcome; empty for the default.
    pub outcome_schema: String,
    /// Seconds.
    pub max_duration_secs: String,
    /// Seconds.
    pub silence_reprompt_secs: String,
    /// Count.
    pub silence_max_reprompts: String,
    /// Checkbox: tell callers it is an AI.
    pub ai_disclosure: Option<String>,
    /// Checkbox: record calls.
    pub record_calls: Option<String>,
    /// Passages per search; empty for the organization default.
    pub rag_chunk_limit: String,
    /// 0–1; empty for the organization default.
    pub rag_similarity_threshold: String,
}

impl AgentForm {
    /// A checkbox's posted value.
    pub fn flag(on: bool) -> Option<String> {
        on.then(|| "on".to_owned())
    }

    /// The editor for a new agent: the table's defaults.
    pub fn new_agent() -> Self {
        Self {
            status: "active".into(),
            first_speaker: "agent".into(),
            model: MODELS[0].into(),
            voice: "marin".into(),
            language: "en".into(),
            vad_mode: "server_vad".into(),
            audio_format: "pcmu".into(),
            knowledge_search: Self::flag(true),
            end_call: Self::flag(true),
            tools: "[]".into(),
            max_duration_secs: "600".into(),
            silence_reprompt_secs: "8".into(),
            silence_max_reprompts: "2".into(),
            ai_disclosure: Self::flag(true),
            ..Self::default()
        }
    }
}

/// An agent loaded into the editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentEditor {
    /// Its id.
    pub id: String,
    /// Its settings as the form shows them.
    pub form: AgentForm,
    /// The newest prompt version.
    pub prompt_version: i32,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// A line of the agents list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentListItem {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// `active` or `paused`.
    pub status: String,
    /// Its voice.
    pub voice: String,
    /// Its model.
    pub model: String,
    /// Phone numbers assigned to it.
    pub numbers: i64,
    /// The newest prompt version.
    pub prompt_version: i32,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// What saving the editor did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSaved {
    /// The newest prompt version.
    pub prompt_version: i32,
    /// Whether this save made that version.
    pub new_version: bool,
}

/// One prompt version, as the history lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptVersionView {
    /// Its number.
    pub version: i32,
    /// Who saved it.
    pub author: Option<String>,
    /// When (RFC 3339).
    pub created_at: String,
    /// The start of its system prompt.
    pub preview: String,
}

/// An agent's prompt history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptHistory {
    /// The agent's name.
    pub agent_name: String,
    /// Versions, newest first (the first is the agent's current prompt).
    pub versions: Vec<PromptVersionView>,
}

/// How a diff line changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffKind {
    /// In both versions.
    Same,
    /// Only in the older one.
    Removed,
    /// Only in the newer one.
    Added,
}

/// One diff line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffLineView {
    /// How it changed.
    pub kind: DiffKind,
    /// Its text.
    pub text: String,
}

impl DiffLineView {
    /// `+`, `-` or a space, as `diff -u` marks lines.
    pub fn sign(&self) -> &'static str {
        match self.kind {
            DiffKind::Same => " ",
            DiffKind::Removed => "-",
            DiffKind::Added => "+",
        }
    }
}

/// A run of changes with context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffHunkView {
    /// `@@ -a,b +c,d @@`.
    pub header: String,
    /// Its lines.
    pub lines: Vec<DiffLineView>,
}

/// The changes to one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextDiffView {
    /// "System prompt", "Greeting", …
    pub label: String,
    /// Its hunks.
    pub hunks: Vec<DiffHunkView>,
}

/// The diff between two versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptDiffView {
    /// The older version.
    pub from: i32,
    /// The newer version.
    pub to: i32,
    /// The texts that changed (empty: identical).
    pub changes: Vec<TextDiffView>,
}
