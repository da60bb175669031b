//! The knowledge base for the dashboard: list, paste text, delete, re-process, and the search
//! test. Files are uploaded to `POST /api/v1/knowledge` (multipart), which accepts the session
//! as well as API keys, so the dashboard and integrations share one upload path.

use leptos::prelude::*;

use crate::dto::{AgentChoice, DocumentView, PassageView};
use crate::error::AppError;

/// The organization's documents, newest first.
#[server(prefix = "/api", endpoint = "knowledge/list")]
pub async fn list_documents() -> Result<Vec<DocumentView>, AppError> {
    use switchboard::store::knowledge as store;
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let documents = store::list_documents(&context.pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    Ok(documents.into_iter().map(knowledge_ssr::view).collect())
}

/// Adds pasted text as a document (`agent_id` empty: organization-wide).
#[server(prefix = "/api", endpoint = "knowledge/paste")]
pub async fn add_text_document(
    title: String,
    text: String,
    agent_id: Option<String>,
) -> Result<String, AppError> {
    use switchboard::knowledge::ingest::{self, Upload, UploadError};
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    if title.trim().is_empty() {
        return Err(AppError::field("title", "Give the text a title."));
    }
    let agent_id = knowledge_ssr::parse_agent(agent_id)?;
    let upload = Upload {
        org_id: user.org_id,
        agent_id,
        title: Some(&title),
        filename: "",
        content_type: "text/plain",
        bytes: text.as_bytes(),
    };
    let accepted = ingest::accept_upload(
        &context.pool,
        &context.jobs,
        upload,
        context.max_upload_bytes,
    )
    .await
    .map_err(|e| match e {
        UploadError::Database(e) => ssr::internal(e),
        UploadError::UnknownAgent => AppError::field("agent_id", e.to_string()),
        e => AppError::field("text", e.to_string()),
    })?;
    Ok(accepted.document_id.to_string())
}

/// Deletes a document and its passages.
#[server(prefix = "/api", endpoint = "knowledge/delete")]
pub async fn delete_document(id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    let deleted =
        switchboard::knowledge::ingest::delete(&context.pool, &context.jobs, user.org_id, id)
            .await
            .map_err(ssr::internal)?;
    if deleted {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Extracts, chunks and embeds a document again.
#[server(prefix = "/api", endpoint = "knowledge/reprocess")]
pub async fn reprocess_document(id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    let queued =
        switchboard::knowledge::ingest::reprocess(&context.pool, &context.jobs, user.org_id, id)
            .await
            .map_err(ssr::internal)?;
    if queued {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The search test: the passages an agent (or, without one, organization-wide search) would
/// get for `query`, ranked, with scores — every passage up to the limit, whatever its score,
/// so people see how close the misses were.
#[server(prefix = "/api", endpoint = "knowledge/search")]
pub async fn search_knowledge(
    query: String,
    agent_id: Option<String>,
) -> Result<Vec<PassageView>, AppError> {
    use switchboard::knowledge::retrieve::search;
    use switchboard::rag::Passage;
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let query = query.trim();
    if query.is_empty() {
        return Err(AppError::field(
            "query",
            "Type a question a caller might ask.",
        ));
    }
    let agent_id = knowledge_ssr::parse_agent(agent_id)?;
    let hits = search(
        &context.pool,
        context.embedder.as_ref(),
        user.org_id,
        agent_id,
        query,
        context.rag_chunk_limit,
        0.0,
    )
    .await
    .map_err(ssr::internal)?;
    Ok(hits
        .into_iter()
        .map(|hit| PassageView {
            chunk_id: hit.chunk_id,
            source: Passage {
                title: &hit.title,
                heading_path: &hit.heading_path,
                content: "",
            }
            .source(),
            title: hit.title,
            heading_path: hit.heading_path,
            score: hit.score,
            content: hit.content,
        })
        .collect())
}

/// The organization's agents, by name, for the scope pickers (upload, paste, search).
#[server(prefix = "/api", endpoint = "knowledge/agents")]
pub async fn list_scope_agents() -> Result<Vec<AgentChoice>, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let agents = knowledge_ssr::agents(&context.pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    Ok(agents
        .into_iter()
        .map(|(id, name)| AgentChoice {
            id: id.to_string(),
            name,
        })
        .collect())
}

#[cfg(feature = "ssr")]
use crate::api::ssr;

#[cfg(feature = "ssr")]
mod knowledge_ssr {
    use switchboard::store::knowledge::Document;
    use uuid::Uuid;

    use crate::dto::DocumentView;
    use crate::error::AppError;

    pub(super) fn view(d: Document) -> DocumentView {
        DocumentView {
            id: d.id.to_string(),
            agent_id: d.agent_id.map(|id| id.to_string()),
            title: d.title,
            filename: d.filename,
            size_bytes: d.size_bytes,
            status: d.status,
            error: d.error,
            chunk_count: d.chunk_count,
            chunks_embedded: d.chunks_embedded,
            chunks_total: d.chunks_total,
        }
    }

    /// `(id, name)` of every agent in `org_id`, by name. The one query the pickers need; the
    /// agents store grows its own listing with the agents page.
    pub(super) async fn agents(
        pool: &sqlx::PgPool,
        org_id: Uuid,
    ) -> Result<Vec<(Uuid, String)>, sqlx::Error> {
        sqlx::query_as("select id, name from agents where org_id = $1 order by lower(name), id")
            .bind(org_id)
            .fetch_all(pool)
            .await
    }

    pub(super) fn parse_agent(raw: Option<String>) -> Result<Option<Uuid>, AppError> {
        match raw.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(id) => id
                .parse()
                .map(Some)
                .map_err(|_| AppError::field("agent_id", "Choose an agent from the list.")),
        }
    }
}
