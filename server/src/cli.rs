//! The command line: `switchboard [serve]` and `switchboard migrate`.

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::startup::Application;
use crate::{database, telemetry};

/// Switchboard: AI phone agents on your own server.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about)]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard, webhooks and media streams (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
}

/// Runs the chosen command to completion.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("switchboard: configuration error: {e}");
            std::process::exit(2);
        }
    };
    telemetry::init(&config.log);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(config)
                .await
                .context("start-up failed")?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let db = database::Database::open(&config.database).await?;
            tracing::info!("migrations applied");
            db.close().await
        }
    }
}
