//! `switchboard`: serves the dashboard, the Twilio webhooks and media streams.

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env is normal; a malformed one is reported by the config errors below.
    let _ = dotenvy::dotenv();
    let cli = server::cli::Cli::parse();
    server::cli::run(cli).await
}
