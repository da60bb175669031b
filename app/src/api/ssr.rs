//! What every server function needs on the server: the shared context and the signed-in user.

use leptos::prelude::*;
use switchboard::accounts::CurrentUser;

use crate::error::AppError;

/// Handles the server provides to every page render and server function.
#[derive(Clone)]
pub struct ServerContext {
    /// The database pool.
    pub pool: sqlx::PgPool,
    /// Embeds knowledge queries (the search test).
    pub embedder: std::sync::Arc<dyn switchboard::knowledge::Embedder>,
    /// Wakes the job workers when a document is added.
    pub jobs: switchboard::jobs::JobQueue,
    /// The upload limit (`KNOWLEDGE_MAX_UPLOAD_MB`).
    pub max_upload_bytes: usize,
    /// Passages per search (`RAG_CHUNK_LIMIT`).
    pub rag_chunk_limit: u32,
    /// Call and document events, shared with every instance.
    pub live: switchboard::live::LiveBus,
    /// Twilio's REST API (numbers, outbound calls), when the account is configured.
    pub twilio: Option<switchboard::twilio_rest::TwilioRest>,
    /// `PUBLIC_BASE_URL`: where Twilio reaches this server (webhook addresses), when set.
    pub public_base_url: Option<String>,
}

/// The server context; its absence is a wiring bug, reported as an internal error.
pub fn context() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing: the router must provide it");
        AppError::Internal
    })
}

/// The signed-in user, put in the request's extensions by the server's session middleware.
pub fn current_user() -> Option<CurrentUser> {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// The signed-in user, or [`AppError::Unauthorized`].
pub fn require_user() -> Result<CurrentUser, AppError> {
    current_user().ok_or(AppError::Unauthorized)
}

/// The signed-in user if their role may change things, or [`AppError::Forbidden`].
pub fn require_writer() -> Result<CurrentUser, AppError> {
    let user = require_user()?;
    if user.role.can_write() {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The session of this request.
pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>()
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "no session layer");
            AppError::Internal
        })
}

/// Logs an internal error and hides its details from the browser.
pub fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "server function failed");
    AppError::Internal
}
