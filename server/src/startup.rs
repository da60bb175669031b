//! Building and running the server: `Application::build`, `port`, `run_until_stopped`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use app::api::ssr::ServerContext;
use app::{App, shell};
use axum::Router;
use axum::middleware;
use axum::routing::get;
use axum::serve::ListenerExt;
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use switchboard::jobs::{JobHandler, JobQueue, Worker, WorkerTiming};
use switchboard::knowledge::Embedder;
use switchboard::knowledge::context::ContextHandler;
use switchboard::knowledge::embed::{LazyLocalEmbedder, OpenAiEmbedder, OpenAiEmbedderConfig};
use switchboard::knowledge::ingest::IngestHandler;
use switchboard::live::LiveBus;
use switchboard::summaries::{SummaryHandler, SummaryModel};
use switchboard::twilio_rest::{TwilioRest, TwilioRestConfig};
use switchboard::webhooks::DeliveryHandler;
use tokio_util::task::TaskTracker;

use crate::config::{Config, EmbeddingsConfig};
use crate::database::Database;
use crate::routes::{calls, events, health, knowledge, stream, twilio};
use crate::state::{AppState, CallTasks};
use crate::{auth, telemetry};

/// A server that is bound and connected, ready to run.
pub struct Application {
    listener: TcpListener,
    port: u16,
    router: Router,
    database: Database,
    sessions: PostgresStore,
    shutdown: CancellationToken,
    calls: CallTasks,
    drain: Duration,
    stopping: CancellationToken,
    background: CancellationToken,
    workers: TaskTracker,
}

impl Application {
    /// Binds the listener, opens and migrates the database, and builds the router.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(config.addr).await.with_context(|| {
            format!(
                "cannot listen on {} (set LEPTOS_SITE_ADDR to use another address)",
                config.addr
            )
        })?;
        let addr = listener.local_addr()?;
        let embedder = embedder(&config)?;
        let twilio = twilio_rest(&config)?;
        let summaries = config.openai.api_key.as_ref().map(|key| {
            SummaryModel::new(
                &config.openai.base_url,
                key.expose(),
                &config.openai.summary_model,
            )
        });
        let database = Database::open(&config.database).await?;
        let background = CancellationToken::new();
        let live = LiveBus::connect(&database.pool, background.clone())
            .await
            .context("cannot listen for live events on the database")?;
        let jobs = JobQueue::new();
        let leptos = LeptosOptions::builder()
            .output_name("switchboard")
            .site_root(config.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let state = AppState {
            pool: database.pool.clone(),
            config: Arc::new(config),
            leptos,
            calls: CallTasks::default(),
            live,
            jobs,
            embedder,
            twilio,
            http: reqwest::Client::new(),
            stopping: CancellationToken::new(),
        };
        let workers = start_workers(&state, summaries, background.clone());
        let sessions = session_store(&state)?;
        let router = router(state.clone(), sessions.clone());
        tracing::info!("serving on http://{addr}");
        Ok(Self {
            listener,
            port: addr.port(),
            router,
            database,
            sessions,
            shutdown: CancellationToken::new(),
            drain: state.config.shutdown_drain,
            calls: state.calls,
            stopping: state.stopping,
            background,
            workers,
        })
    }

    /// The database pool (for tools that run the server in-process, like `simulate`).
    pub fn pool(&self) -> sqlx::PgPool {
        self.database.pool.clone()
    }

    /// The port actually bound (tests listen on port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancel it to stop the server as SIGTERM would.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until SIGTERM, ctrl-c or the shutdown token. Then it stops taking
    /// requests and calls, lets in-flight requests finish and live calls go on
    /// for up to the drain time (after which they say goodbye and end), and
    /// closes the database (stopping an embedded cluster).
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let cleanup = tokio::spawn(
            self.sessions
                .continuously_delete_expired(Duration::from_secs(3600)),
        );
        let shutdown = self.shutdown.clone();
        let stopping = self.stopping.clone();
        // Media frames are small and latency-bound: never hold one back for Nagle's algorithm.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::warn!(error = %e, "cannot set TCP_NODELAY");
            }
        });
        let served = axum::serve(
            listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = shutdown_signal() => {}
                _ = shutdown.cancelled() => {}
            }
            tracing::info!("shutting down: finishing requests in flight");
            stopping.cancel();
        })
        .await;
        drain_calls(&self.calls, self.drain).await;
        // Workers hand unfinished jobs back to the queue for another instance (or the next start).
        self.background.cancel();
        self.workers.close();
        self.workers.wait().await;
        cleanup.abort();
        let closed = self.database.close().await;
        served.context("server error")?;
        closed
    }
}

/// Upgraded WebSockets outlive axum's graceful shutdown, so live calls are
/// drained here: no new ones, up to `drain` for the rest, then a cancel (each
/// call hangs up and is finalised) and a short wait for that.
async fn drain_calls(calls: &CallTasks, drain: Duration) {
    calls.tracker.close();
    if calls.tracker.is_empty() {
        return;
    }
    tracing::info!(
        live = calls.tracker.len(),
        ?drain,
        "letting live calls finish"
    );
    if tokio::time::timeout(drain, calls.tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            live = calls.tracker.len(),
            "drain time is up: ending live calls"
        );
        calls.shutdown.cancel();
        if tokio::time::timeout(Duration::from_secs(10), calls.tracker.wait())
            .await
            .is_err()
        {
            tracing::error!(
                live = calls.tracker.len(),
                "calls did not end within 10 s of the cancel"
            );
        }
    }
}

/// The configured embedder. The local model is checked now and loaded on first use.
fn embedder(config: &Config) -> anyhow::Result<Arc<dyn Embedder>> {
    match &config.knowledge.embeddings {
        EmbeddingsConfig::Local { model_dir } => {
            let local = LazyLocalEmbedder::new(model_dir.clone()).with_context(|| {
                format!(
                    "EMBEDDING_MODEL_DIR: no embedding model in {} (run `make setup`, or set EMBEDDINGS=openai with an OPENAI_API_KEY)",
                    model_dir.display()
                )
            })?;
            Ok(Arc::new(local))
        }
        EmbeddingsConfig::OpenAi { model } => {
            let api_key = config
                .openai
                .api_key
                .as_ref()
                .context("EMBEDDINGS=openai needs OPENAI_API_KEY")?;
            let mut settings =
                OpenAiEmbedderConfig::new(config.openai.base_url.clone(), api_key.expose());
            settings.model = model.clone();
            let openai = OpenAiEmbedder::new(settings)
                .context("OPENAI_EMBEDDING_MODEL / OPENAI_BASE_URL: cannot set up embeddings")?;
            Ok(Arc::new(openai))
        }
    }
}

/// The Twilio REST client, when `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` are both set.
fn twilio_rest(config: &Config) -> anyhow::Result<Option<TwilioRest>> {
    let twilio = &config.twilio;
    let (Some(sid), Some(token)) = (&twilio.account_sid, &twilio.auth_token) else {
        return Ok(None);
    };
    let client = TwilioRest::new(
        TwilioRestConfig::new(sid.clone(), token.expose()).with_api_base(twilio.api_base.clone()),
    )
    .context("TWILIO_API_BASE: cannot set up the Twilio REST client")?;
    Ok(Some(client))
}

/// `JOB_WORKERS` workers running the knowledge, summary and webhook jobs until `stop`.
fn start_workers(
    state: &AppState,
    summaries: Option<SummaryModel>,
    stop: CancellationToken,
) -> TaskTracker {
    let handlers: Vec<Arc<dyn JobHandler>> = vec![
        Arc::new(IngestHandler::new(
            state.pool.clone(),
            state.embedder.clone(),
            state.live.clone(),
            state.jobs.clone(),
        )),
        Arc::new(ContextHandler::new(
            state.pool.clone(),
            state.embedder.clone(),
        )),
        Arc::new(SummaryHandler::new(state.pool.clone(), summaries)),
        Arc::new(DeliveryHandler::new(state.pool.clone(), state.http.clone())),
    ];
    // Unique across instances: a job's `locked_by` says who holds it.
    let instance = uuid::Uuid::new_v4().simple().to_string();
    let tracker = TaskTracker::new();
    for n in 0..state.config.knowledge.job_workers {
        let worker = Worker::new(
            state.pool.clone(),
            format!("{}-{n}", &instance[..12]),
            handlers.clone(),
            state.jobs.clone(),
            WorkerTiming::default(),
        );
        tracker.spawn(worker.run(stop.clone()));
    }
    tracker
}

fn session_store(state: &AppState) -> anyhow::Result<PostgresStore> {
    PostgresStore::new(state.pool.clone())
        .with_schema_name("public")
        .and_then(|store| store.with_table_name("sessions"))
        .map_err(|e| anyhow::anyhow!(e))
}

/// The whole HTTP surface.
pub fn router(state: AppState, sessions: PostgresStore) -> Router {
    let context = ServerContext {
        pool: state.pool.clone(),
        embedder: state.embedder.clone(),
        jobs: state.jobs.clone(),
        max_upload_bytes: state.config.knowledge.max_upload_bytes,
        rag_chunk_limit: state.config.rag.chunk_limit,
        live: state.live.clone(),
        twilio: state.twilio.clone(),
        public_base_url: state.config.public_base_url.clone(),
    };
    let provide = {
        let context = context.clone();
        move || provide_context(context.clone())
    };
    let leptos = state.leptos.clone();
    // Also mounts every server function under /api with the same context.
    let pages = Router::new()
        .leptos_routes_with_context(&state, generate_route_list(App), provide, {
            let leptos = leptos.clone();
            move || shell(leptos.clone())
        })
        .route_layer(middleware::from_fn(auth::guard_pages));

    let sessions = SessionManagerLayer::new(sessions)
        .with_name("switchboard_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(twilio::VOICE_PATH, post(twilio::voice))
        .route(twilio::STATUS_PATH, post(twilio::status))
        .route(twilio::RECORDING_PATH, post(twilio::recording))
        .route(
            &format!("{}{{token}}", twilio::STREAM_PATH_PREFIX),
            get(stream::stream),
        )
        .route("/events/calls", get(events::calls))
        .route("/events/knowledge", get(events::knowledge))
        .merge(api_v1(&state))
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::load_user,
        ))
        .layer(sessions)
        .layer(middleware::from_fn(auth::same_origin_writes))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

/// The REST API; uploads get a body limit of the file limit plus multipart framing.
fn api_v1(state: &AppState) -> Router<AppState> {
    let upload_limit =
        state.config.knowledge.max_upload_bytes * 2 + knowledge::MULTIPART_SLACK_BYTES;
    Router::new()
        .route(
            "/api/v1/knowledge",
            post(knowledge::upload)
                .layer(DefaultBodyLimit::max(upload_limit))
                .get(knowledge::list),
        )
        .route("/api/v1/knowledge/search", post(knowledge::search))
        .route("/api/v1/calls", post(calls::place))
        .route(
            "/api/v1/knowledge/{id}",
            get(knowledge::show).delete(knowledge::delete),
        )
        .route(
            "/api/v1/knowledge/{id}/reprocess",
            post(knowledge::reprocess),
        )
}

/// Resolves on ctrl-c or SIGTERM.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
