//! The database Switchboard runs on: `DATABASE_URL`, or an embedded cluster under `./data`.

use anyhow::Context;
use sqlx::PgPool;
use switchboard::postgres::{EmbeddedOptions, EmbeddedPostgres, PgBinaries};
use switchboard::store;

use crate::config::DatabaseConfig;

/// A migrated pool, and the embedded cluster behind it if we started one.
#[derive(Debug)]
pub struct Database {
    /// The pool.
    pub pool: PgPool,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Connects (starting the embedded cluster if configured) and migrates.
    pub async fn open(config: &DatabaseConfig) -> anyhow::Result<Self> {
        let (url, embedded) = match config {
            DatabaseConfig::External { url } => {
                tracing::info!("using the PostgreSQL at DATABASE_URL");
                (url.expose().to_owned(), None)
            }
            DatabaseConfig::Embedded {
                data_dir,
                tools_dir,
            } => {
                let binaries = PgBinaries::locate(tools_dir)?;
                let cluster = EmbeddedPostgres::start(EmbeddedOptions {
                    binaries,
                    data_dir: data_dir.clone(),
                    ephemeral: false,
                    port: None,
                })
                .await
                .context("starting the embedded PostgreSQL")?;
                tracing::info!(
                    "data lives in the embedded PostgreSQL at {}; set DATABASE_URL to use your own PostgreSQL (with pgvector) instead",
                    cluster.data_dir().display()
                );
                (cluster.url(), Some(cluster))
            }
        };
        let pool = match store::connect(&url, 20).await {
            Ok(pool) => pool,
            Err(e) => {
                stop(embedded).await;
                return Err(e.into());
            }
        };
        if let Err(e) = store::migrate(&pool).await {
            pool.close().await;
            stop(embedded).await;
            return Err(e.into());
        }
        Ok(Self { pool, embedded })
    }

    /// Closes the pool, then stops the embedded cluster (if any).
    pub async fn close(self) -> anyhow::Result<()> {
        self.pool.close().await;
        if let Some(cluster) = self.embedded {
            cluster
                .stop()
                .await
                .context("stopping the embedded PostgreSQL")?;
            tracing::info!("embedded PostgreSQL stopped");
        }
        Ok(())
    }
}

/// Runs the embedded cluster on `port` until ctrl-c or SIGTERM, migrated, printing its URL.
pub async fn serve_embedded(config: &DatabaseConfig, port: u16) -> anyhow::Result<()> {
    let DatabaseConfig::Embedded {
        data_dir,
        tools_dir,
    } = config
    else {
        anyhow::bail!("DATABASE_URL is set: there is no embedded PostgreSQL to run");
    };
    let cluster = EmbeddedPostgres::start(EmbeddedOptions {
        binaries: PgBinaries::locate(tools_dir)?,
        data_dir: data_dir.clone(),
        ephemeral: false,
        port: Some(port),
    })
    .await
    .context("starting the embedded PostgreSQL")?;
    // Migrated here once, so instances starting together do not race to create the schema.
    let pool = store::connect(&cluster.url(), 2).await?;
    let migrated = store::migrate(&pool).await;
    pool.close().await;
    if let Err(e) = migrated {
        stop(Some(cluster)).await;
        return Err(e.into());
    }
    println!("DATABASE_URL={}", cluster.url());
    crate::startup::shutdown_signal().await;
    cluster
        .stop()
        .await
        .context("stopping the embedded PostgreSQL")
}

async fn stop(embedded: Option<EmbeddedPostgres>) {
    if let Some(cluster) = embedded
        && let Err(e) = cluster.stop().await
    {
        tracing::warn!(error = %e, "stopping the embedded PostgreSQL");
    }
}
