//! The database: connecting, migrating, and one module per aggregate.
//!
//! Every query on tenant-owned rows takes the caller's `org_id` and filters on
//! it in SQL; nothing here trusts an id from a request on its own.

pub mod accounts;
pub mod agent_settings;
pub mod agents;
pub mod api_keys;
pub mod call_history;
pub mod call_stats;
pub mod calls;
pub mod jobs;
pub mod knowledge;
pub mod members;
pub mod phone_numbers;
pub mod prompt_versions;
pub mod tools;
pub mod transcripts;
pub mod webhook_deliveries;
pub mod webhooks;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Why the database could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The server is unreachable or refused us.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// pgvector is not installed in the server we were pointed at.
    #[error(
        "the database has no `vector` extension: install pgvector (https://github.com/pgvector/pgvector) in that PostgreSQL, or unset DATABASE_URL to use the embedded PostgreSQL"
    )]
    VectorMissing,
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Connects a pool whose callers wait at most 5 s for a connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, SetupError> {
    let options: PgConnectOptions = url.parse().map_err(SetupError::Connect)?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(SetupError::Connect)
}

/// Checks that pgvector is available, then applies pending migrations.
pub async fn migrate(pool: &PgPool) -> Result<(), SetupError> {
    let available: bool = sqlx::query_scalar(
        "select exists (select 1 from pg_available_extensions where name = 'vector')",
    )
    .fetch_one(pool)
    .await?;
    if !available {
        return Err(SetupError::VectorMissing);
    }
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Creates an empty database in the cluster `admin_url` points at (tests use one per test).
pub async fn create_database(admin_url: &str, name: &str) -> Result<(), SetupError> {
    use sqlx::Connection;
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(SetupError::Database(sqlx::Error::Protocol(format!(
            "invalid database name {name:?}"
        ))));
    }
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(SetupError::Connect)?;
    sqlx::query(&format!(r#"create database "{name}""#))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    Ok(())
}

/// True when `err` is a unique-constraint violation on `constraint`.
pub(crate) fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() && db.constraint() == Some(constraint)
        }
        _ => false,
    }
}
