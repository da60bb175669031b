//! Small types shared by the browser and the server, one submodule per section's pages.

pub mod agents;
pub mod calls;
pub mod live;
pub mod numbers;
pub mod overview;
pub mod settings;

use serde::{Deserialize, Serialize};

/// The signed-in user, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    /// Display name (may be empty).
    pub name: String,
    /// Email address.
    pub email: String,
    /// Organization name.
    pub org_name: String,
    /// `owner`, `admin` or `viewer`.
    pub role: String,
}

impl UserView {
    /// What to call the user in the navigation.
    pub fn display_name(&self) -> &str {
        if self.name.is_empty() {
            &self.email
        } else {
            &self.name
        }
    }
}

/// A knowledge document as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentView {
    /// The document's id.
    pub id: String,
    /// The agent it is scoped to; `None` for the whole organization.
    pub agent_id: Option<String>,
    /// Its title.
    pub title: String,
    /// The uploaded file's name (empty for pasted text).
    pub filename: String,
    /// Its size in bytes.
    pub size_bytes: i64,
    /// `pending`, `processing`, `ready` or `failed`.
    pub status: String,
    /// Why it failed.
    pub error: Option<String>,
    /// Chunks stored.
    pub chunk_count: i32,
    /// Chunks embedded so far.
    pub chunks_embedded: i32,
    /// Chunks to embed.
    pub chunks_total: i32,
}

/// One passage found by the search test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassageView {
    /// The chunk's id.
    pub chunk_id: i64,
    /// Where it comes from: document title and headings, `Title › Heading`.
    pub source: String,
    /// The document's title.
    pub title: String,
    /// Headings the passage sits under, outermost first.
    pub heading_path: Vec<String>,
    /// Its text.
    pub content: String,
    /// Cosine similarity to the query (1 = same direction).
    pub score: f32,
}

/// An agent documents and searches can be scoped to (the knowledge page's pickers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentChoice {
    /// The agent's id.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// An API key as the settings page lists it (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    /// The key's id.
    pub id: String,
    /// What its creator called it.
    pub name: String,
    /// Its first characters, to tell keys apart.
    pub prefix: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last authenticated a request (RFC 3339).
    pub last_used_at: Option<String>,
    /// When it was revoked (RFC 3339).
    pub revoked_at: Option<String>,
}

/// A key just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    /// The key as listed.
    pub key: ApiKeyView,
    /// The secret, `sb_…`; store it now, it cannot be shown again.
    pub secret: String,
}
