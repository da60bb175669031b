//! `AppState`: cheap handles every handler may extract a piece of.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sqlx::PgPool;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use switchboard::jobs::JobQueue;
use switchboard::knowledge::Embedder;
use switchboard::live::LiveBus;

use crate::config::Config;

/// The live calls of this instance: tracked so shutdown can let them finish,
/// and cancellable when the drain time is up.
#[derive(Clone, Debug, Default)]
pub struct CallTasks {
    /// Every call task; closed when the server stops taking calls.
    pub tracker: TaskTracker,
    /// Cancelled when the drain time is up: each call says goodbye and ends.
    pub shutdown: CancellationToken,
}

/// Shared by every handler; cloning it clones handles only.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: PgPool,
    /// The configuration.
    pub config: Arc<Config>,
    /// Leptos' rendering options (site root, output name, address).
    pub leptos: LeptosOptions,
    /// The calls running on this instance.
    pub calls: CallTasks,
    /// Call and document events, shared with every instance.
    pub live: LiveBus,
    /// Wakes this instance's job workers when work is added.
    pub jobs: JobQueue,
    /// Turns documents and queries into vectors (local model or OpenAI).
    pub embedder: Arc<dyn Embedder>,
    /// Twilio's REST API (hang-up, transfer, outbound calls), when the account is configured.
    pub twilio: Option<switchboard::twilio_rest::TwilioRest>,
    /// Outgoing HTTP (business tools' webhooks); one pool of connections for the process.
    pub http: reqwest::Client,
    /// Cancelled when the server starts shutting down: endless responses (SSE) end.
    pub stopping: CancellationToken,
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}
