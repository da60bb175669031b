//! The command line: `switchboard [serve]`, `migrate`, `simulate`, `fakes` and `database`.

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
    /// Run the embedded PostgreSQL alone, in the foreground, and print its `DATABASE_URL`:
    /// several instances pointed at it share one database (as two servers behind a load
    /// balancer would). Stops on ctrl-c or SIGTERM.
    Database {
        /// The loopback port to listen on.
        #[arg(long, default_value_t = 5433)]
        port: u16,
    },
    /// Call an agent without a phone: a whole call through the webhook, media stream and
    /// bridge, with your WAV as the caller. Prints the transcript and timings.
    Simulate {
        /// The agent's id or name.
        #[arg(long)]
        agent: String,
        /// The caller's audio: a mono 16-bit WAV at 8, 16, 24 or 48 kHz.
        #[arg(long)]
        wav: std::path::PathBuf,
        /// Where to write the agent's audio (8 kHz WAV).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Seconds to stay on the line after the caller's audio ends.
        #[arg(long, default_value_t = 8)]
        linger: u64,
    },
    /// Serve offline fakes of OpenAI and Twilio (with a phone that dials your numbers) and
    /// print the settings that point a server at them.
    Fakes {
        /// The OpenAI fake's port.
        #[arg(long, default_value_t = 4010)]
        openai_port: u16,
        /// The Twilio fake's port.
        #[arg(long, default_value_t = 4011)]
        twilio_port: u16,
        /// A phone number the fake Twilio account owns (repeatable).
        #[arg(long = "number", default_values_t = ["+15005550100".to_owned(), "+15005550101".to_owned()])]
        numbers: Vec<String>,
    },
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
    let command = cli.command.unwrap_or(Command::Serve);
    let mut log = config.log.clone();
    if matches!(command, Command::Simulate { .. }) && std::env::var_os("LOG_LEVEL").is_none() {
        // The transcript is the output; the server's own chatter would bury it.
        log.level = "error".into();
    }
    telemetry::init(&log);
    match command {
        Command::Serve => {
            let app = Application::build(config)
                .await
                .context("start-up failed")?;
            app.run_until_stopped().await
        }
        Command::Simulate {
            agent,
            wav,
            out,
            linger,
        } => {
            let simulation = crate::simulate::Simulation {
                agent,
                wav,
                out,
                linger: std::time::Duration::from_secs(linger),
            };
            crate::simulate::simulate(config, simulation).await
        }
        Command::Fakes {
            openai_port,
            twilio_port,
            numbers,
        } => {
            let clouds = crate::fakes::FakeClouds {
                openai_port,
                twilio_port,
                numbers,
            };
            crate::fakes::serve(clouds).await
        }
        Command::Migrate => {
            let db = database::Database::open(&config.database).await?;
            tracing::info!("migrations applied");
            db.close().await
        }
        Command::Database { port } => database::serve_embedded(&config.database, port).await,
    }
}
