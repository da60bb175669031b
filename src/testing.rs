//! Test support for every crate's tests: one throw-away PostgreSQL + pgvector
//! cluster per test process, and a fresh, migrated database per test.
//!
//! The cluster is started on first use from a thread that lives as long as the
//! process, so it outlives each test's own runtime; when the process exits its
//! lifeline closes and the cluster stops and deletes its directory.

use std::path::PathBuf;
use std::sync::OnceLock;

use sqlx::PgPool;

use crate::postgres::{EmbeddedError, EmbeddedOptions, EmbeddedPostgres, PgBinaries};
use crate::store;

/// Where the PostgreSQL binaries are: `SWITCHBOARD_TOOLS_DIR`, or `.tools` in the workspace.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("SWITCHBOARD_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools"))
}

/// Starts a throw-away cluster (fsync off, deleted when it stops).
pub async fn start_cluster() -> Result<EmbeddedPostgres, EmbeddedError> {
    let binaries = PgBinaries::locate(&tools_dir())?;
    let dir = tempfile::Builder::new()
        .prefix("switchboard-pg-")
        .tempdir()
        .map_err(|source| EmbeddedError::Io {
            context: "create a temporary directory".into(),
            source,
        })?
        .keep();
    EmbeddedPostgres::start(EmbeddedOptions {
        binaries,
        data_dir: dir,
        ephemeral: true,
        port: None,
    })
    .await
}

/// The admin URL of this process's shared test cluster, starting it if needed.
///
/// # Panics
/// If the cluster cannot start: every database test would fail anyway, and
/// the message says why (usually: run `make setup`).
pub fn cluster_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("test-postgres".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the test cluster");
                runtime.block_on(async move {
                    match start_cluster().await {
                        Ok(cluster) => {
                            let _ = tx.send(Ok(cluster.url()));
                            // Hold the cluster (and its lifeline) until the process exits.
                            std::future::pending::<()>().await;
                            drop(cluster);
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e.to_string()));
                        }
                    }
                });
            })
            .expect("spawn the test cluster thread");
        match rx.recv() {
            Ok(Ok(url)) => url,
            Ok(Err(e)) => panic!("test PostgreSQL did not start: {e}"),
            Err(_) => panic!("test PostgreSQL thread died"),
        }
    })
}

/// A fresh, migrated database in the shared cluster: its URL and a pool.
pub async fn fresh_database() -> (String, PgPool) {
    let admin = cluster_url();
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    store::create_database(admin, &name)
        .await
        .expect("create a test database");
    let url = match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => unreachable!("cluster URLs end with a database name"),
    };
    let pool = store::connect(&url, 5)
        .await
        .expect("connect to the test database");
    store::migrate(&pool)
        .await
        .expect("migrate the test database");
    (url, pool)
}

/// A new organization named `name` with an owner `<name>@example.com` (a
/// placeholder password hash: these owners never log in); returns its id.
pub async fn seed_org(pool: &PgPool, name: &str) -> uuid::Uuid {
    let email = format!("{}@example.com", name.to_lowercase());
    let (org_id, _) = store::accounts::insert_org_with_owner(pool, name, "Owner", &email, "x")
        .await
        .expect("seed an organization");
    org_id
}

/// A new organization with one agent, "Front desk": returns `(org_id, agent_id)`.
pub async fn seed_org_with_agent(pool: &PgPool, name: &str) -> (uuid::Uuid, uuid::Uuid) {
    let org_id = seed_org(pool, name).await;
    let agent_id = store::agents::insert_agent(pool, org_id, "Front desk")
        .await
        .expect("seed an agent");
    (org_id, agent_id)
}

/// The local all-MiniLM-L6-v2, loaded once per test process from `EMBEDDING_MODEL_DIR` (or
/// `<workspace>/.tools/all-minilm-l6-v2`).
///
/// # Panics
/// If the model is missing: run `make setup`.
pub async fn local_embedder() -> std::sync::Arc<crate::knowledge::embed::LocalEmbedder> {
    static EMBEDDER: tokio::sync::OnceCell<std::sync::Arc<crate::knowledge::embed::LocalEmbedder>> =
        tokio::sync::OnceCell::const_new();
    EMBEDDER
        .get_or_init(|| async {
            let dir = std::env::var_os("EMBEDDING_MODEL_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| tools_dir().join("all-minilm-l6-v2"));
            let model = crate::knowledge::embed::LocalEmbedder::load(dir.clone())
                .await
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot load the embedding model from {}: {e} (run `make setup`)",
                        dir.display()
                    )
                });
            std::sync::Arc::new(model)
        })
        .await
        .clone()
}
