//! `/api/v1/knowledge`: upload, list, inspect, re-process and delete documents, and the
//! search test. Uploads are multipart: any number of `file` parts, or a `text` part (pasted
//! text), plus optional `title` and `agent_id` (scope to one agent; otherwise organization-wide).
//! A batch is checked whole before anything is stored: one bad file refuses them all, with the
//! status that says why (413 too large, 415 not a type we read).

use axum::Json;
use axum::extract::multipart::{Field, Multipart, MultipartError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;
use switchboard::knowledge::ingest::{self, Upload, UploadError};
use switchboard::knowledge::retrieve::search as search_chunks;
use switchboard::store::knowledge::{self as store, Document};
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// Multipart framing on top of the files themselves, allowed in the request body limit.
pub const MULTIPART_SLACK_BYTES: usize = 1024 * 1024;
/// How many files one upload request may carry.
const MAX_FILES: usize = 20;

/// A document as the API returns it.
#[derive(Debug, Serialize)]
pub struct DocumentJson {
    id: Uuid,
    agent_id: Option<Uuid>,
    title: String,
    filename: String,
    content_type: String,
    size_bytes: i64,
    status: String,
    error: Option<String>,
    chunk_count: i32,
    chunks_embedded: i32,
    chunks_total: i32,
    embedding_model: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<Document> for DocumentJson {
    fn from(d: Document) -> Self {
        let time = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        Self {
            id: d.id,
            agent_id: d.agent_id,
            title: d.title,
            filename: d.filename,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            status: d.status,
            error: d.error,
            chunk_count: d.chunk_count,
            chunks_embedded: d.chunks_embedded,
            chunks_total: d.chunks_total,
            embedding_model: d.embedding_model,
            created_at: time(d.created_at),
            updated_at: time(d.updated_at),
        }
    }
}

/// One part of an upload, read into memory (each bounded by the size limit).
struct Part {
    filename: String,
    content_type: String,
    bytes: Vec<u8>,
}

/// `POST /api/v1/knowledge`: accepts the files; ingestion continues in the background.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    mut multipart: Multipart,
) -> Result<impl IntoResponse, ApiError> {
    let caller = caller.require_writer()?;
    let limit = state.config.knowledge.max_upload_bytes;
    let mut parts = Vec::new();
    let mut title = None;
    let mut agent_id = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(e, limit))?
    {
        match field.name().unwrap_or_default() {
            "file" => {
                if parts.len() == MAX_FILES {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("Upload at most {MAX_FILES} files at a time."),
                    ));
                }
                let filename = field.file_name().unwrap_or_default().to_owned();
                let content_type = field.content_type().unwrap_or_default().to_owned();
                let bytes = read_bounded(field, limit, &filename).await?;
                parts.push(Part {
                    filename,
                    content_type,
                    bytes,
                });
            }
            "text" => {
                let bytes = read_bounded(field, limit, "").await?;
                if !bytes.iter().all(u8::is_ascii_whitespace) {
                    parts.push(Part {
                        filename: String::new(),
                        content_type: "text/plain".into(),
                        bytes,
                    });
                }
            }
            "title" => title = Some(text_field(field, "title").await?),
            "agent_id" => {
                let raw = text_field(field, "agent_id").await?;
                if !raw.trim().is_empty() {
                    agent_id = Some(raw.trim().parse::<Uuid>().map_err(|_| {
                        ApiError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "agent_id must be an agent's id.",
                        )
                    })?);
                }
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "Unexpected field `{other}`: send `file` (or `text`), and optionally `title` and `agent_id`."
                    ),
                ));
            }
        }
    }
    if parts.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Nothing to upload: send one or more `file` parts, or a `text` part.",
        ));
    }
    // A title names a single document; with several files each keeps its own name.
    let title = title.filter(|_| parts.len() == 1);
    let uploads: Vec<Upload<'_>> = parts
        .iter()
        .map(|part| Upload {
            org_id: caller.org_id,
            agent_id,
            title: title.as_deref(),
            filename: &part.filename,
            content_type: &part.content_type,
            bytes: &part.bytes,
        })
        .collect();
    for upload in &uploads {
        ingest::check_upload(upload, limit).map_err(upload_error)?;
    }
    let mut accepted = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let done = ingest::accept_upload(&state.pool, &state.jobs, upload, limit)
            .await
            .map_err(upload_error)?;
        accepted.push(json!({
            "id": done.document_id,
            "filename": upload.filename,
            "format": done.format.to_string(),
            "status": "pending",
            "replaced": done.replaced,
        }));
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "documents": accepted }))))
}

/// Reads a part, refusing it as soon as it passes the limit (nothing more is buffered).
async fn read_bounded(
    mut field: Field<'_>,
    limit: usize,
    filename: &str,
) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(e, limit))? {
        if bytes.len() + chunk.len() > limit {
            let shown = if filename.is_empty() {
                "The pasted text"
            } else {
                filename
            };
            return Err(upload_error(UploadError::TooLarge {
                filename: shown.to_owned(),
                size: format!("over {}", ingest::human_bytes(limit)),
                limit: ingest::human_bytes(limit),
            }));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

async fn text_field(field: Field<'_>, name: &str) -> Result<String, ApiError> {
    field.text().await.map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("`{name}` must be text."),
        )
    })
}

fn multipart_error(error: MultipartError, limit: usize) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The upload is larger than the {} MiB limit. Split it into smaller files.",
                limit / (1024 * 1024)
            ),
        )
    } else {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "The upload is not valid multipart/form-data: {}",
                error.body_text()
            ),
        )
    }
}

fn upload_error(error: UploadError) -> ApiError {
    let status = match &error {
        UploadError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        UploadError::Unsupported { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        UploadError::Empty { .. } | UploadError::UnknownAgent => StatusCode::UNPROCESSABLE_ENTITY,
        UploadError::Database(e) => return ApiError::internal(e),
    };
    ApiError::new(status, error.to_string())
}

/// `GET /api/v1/knowledge`: the organization's documents, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    let documents: Vec<DocumentJson> = store::list_documents(&state.pool, caller.org_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(json!({ "documents": documents })))
}

/// `GET /api/v1/knowledge/{id}`.
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    match store::find_document(&state.pool, caller.org_id, id).await? {
        Some(document) => Ok(Json(DocumentJson::from(document))),
        None => Err(ApiError::not_found("document")),
    }
}

/// `DELETE /api/v1/knowledge/{id}`: the document and its chunks.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let caller = caller.require_writer()?;
    if ingest::delete(&state.pool, &state.jobs, caller.org_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("document"))
    }
}

/// `POST /api/v1/knowledge/{id}/reprocess`: extract, chunk and embed it again.
pub async fn reprocess(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<impl IntoResponse, ApiError> {
    let caller = caller.require_writer()?;
    if ingest::reprocess(&state.pool, &state.jobs, caller.org_id, id).await? {
        Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "id": id, "status": "pending" })),
        ))
    } else {
        Err(ApiError::not_found("document"))
    }
}

/// The search test's request.
#[derive(Debug, Deserialize)]
pub struct SearchRequest {
    query: String,
    /// Search as this agent sees it (its own documents plus organization-wide ones).
    agent_id: Option<Uuid>,
    /// Default: the agent's chunk limit, else `RAG_CHUNK_LIMIT`.
    limit: Option<u32>,
    /// Default: the agent's threshold, else `RAG_SIMILARITY_THRESHOLD`.
    threshold: Option<f32>,
}

/// `POST /api/v1/knowledge/search`: ranked passages with scores and sources.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    Json(request): Json<SearchRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let query = request.query.trim();
    if query.is_empty() || query.len() > 2000 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Type a question of up to 2,000 characters.",
        ));
    }
    let (agent_limit, agent_threshold) = match request.agent_id {
        Some(agent_id) => {
            let found: Option<(Option<i32>, Option<f32>)> = sqlx::query_as(
                "select rag_chunk_limit, rag_similarity_threshold from agents where id = $1 and org_id = $2",
            )
            .bind(agent_id)
            .bind(caller.org_id)
            .fetch_optional(&state.pool)
            .await?;
            found.ok_or_else(|| ApiError::not_found("agent"))?
        }
        None => (None, None),
    };
    let rag = state.config.rag;
    let limit = request
        .limit
        .or(agent_limit.and_then(|l| u32::try_from(l).ok()))
        .unwrap_or(rag.chunk_limit)
        .clamp(1, 50);
    let threshold = request
        .threshold
        .or(agent_threshold)
        .unwrap_or(rag.similarity_threshold)
        .clamp(0.0, 1.0);
    let hits = search_chunks(
        &state.pool,
        state.embedder.as_ref(),
        caller.org_id,
        request.agent_id,
        query,
        limit,
        threshold,
    )
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "knowledge search failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Search is unavailable right now; please try again.",
        )
    })?;
    let results: Vec<_> = hits
        .into_iter()
        .map(|hit| {
            json!({
                "chunk_id": hit.chunk_id,
                "document_id": hit.document_id,
                "title": hit.title,
                "heading_path": hit.heading_path,
                "content": hit.content,
                "score": hit.score,
            })
        })
        .collect();
    Ok(Json(
        json!({ "query": query, "limit": limit, "threshold": threshold, "results": results }),
    ))
}
