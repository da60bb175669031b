//! The `query_knowledge_base` tool: the model's query in, passages with their sources out.

use sqlx::PgPool;
use uuid::Uuid;

use super::embed::Embedder;
use super::retrieve::{RetrieveError, search};
use crate::rag::passages::{Passage, render_within, tool_output};

/// How much of the model's context one tool answer may take, in (estimated) tokens.
pub const TOOL_OUTPUT_TOKENS: usize = 1200;

/// What the tool returns to the model, and which chunks it quoted (for the audit trail).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolAnswer {
    /// The tool output.
    pub output: String,
    /// The chunks in `output`, best first.
    pub chunk_ids: Vec<i64>,
}

/// Answers `query` for agent `agent_id` of `org_id` from the passages it may see.
pub async fn query_knowledge_base(
    pool: &PgPool,
    embedder: &dyn Embedder,
    org_id: Uuid,
    agent_id: Option<Uuid>,
    query: &str,
    limit: u32,
    threshold: f32,
) -> Result<ToolAnswer, RetrieveError> {
    let hits = search(pool, embedder, org_id, agent_id, query, limit, threshold).await?;
    let passages: Vec<Passage<'_>> = hits
        .iter()
        .map(|hit| Passage {
            title: &hit.title,
            heading_path: &hit.heading_path,
            content: &hit.content,
        })
        .collect();
    let (_, included) = render_within(&passages, TOOL_OUTPUT_TOKENS);
    Ok(ToolAnswer {
        output: tool_output(query, &passages, TOOL_OUTPUT_TOKENS),
        chunk_ids: hits.iter().take(included).map(|hit| hit.chunk_id).collect(),
    })
}
