//! `switchboard fakes`: the two clouds we cannot reach, offline — the project's protocol fakes
//! of OpenAI (HTTP and Realtime on one base URL) and Twilio (REST, plus a phone that dials the
//! account's numbers) on fixed loopback ports, for trying the whole product without accounts
//! and for the end-to-end tests. It prints the settings that point a server at them.

use std::net::SocketAddr;
use std::time::Duration;

use switchboard::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions};
use switchboard::fakes::openai_realtime::{FakeRealtime, FakeScript};
use switchboard::fakes::twilio::{
    FAKE_ACCOUNT_SID, FAKE_AUTH_TOKEN, FakeTwilio, FakeTwilioOptions, SeedNumber,
};

/// The fake OpenAI key a server pointed at these fakes uses.
pub const FAKE_OPENAI_KEY: &str = "sk-fake-offline";

/// Which ports and numbers.
#[derive(Debug, Clone)]
pub struct FakeClouds {
    /// The OpenAI fake's port (0: any free one).
    pub openai_port: u16,
    /// The Twilio fake's port (0: any free one).
    pub twilio_port: u16,
    /// The phone numbers the fake Twilio account owns.
    pub numbers: Vec<String>,
}

/// Serves the fakes until SIGINT or SIGTERM.
pub async fn serve(clouds: FakeClouds) -> anyhow::Result<()> {
    let realtime = FakeRealtime::start(FakeScript::default()).await?;
    let openai =
        FakeOpenAi::start_on(loopback(clouds.openai_port), FakeOpenAiOptions::default()).await?;
    openai.relay_realtime(&realtime);
    let twilio = FakeTwilio::start_on(
        loopback(clouds.twilio_port),
        FakeTwilioOptions {
            numbers: clouds.numbers.iter().map(SeedNumber::new).collect(),
            ..FakeTwilioOptions::default()
        },
    )
    .await?;
    println!("# OpenAI and Twilio, faked offline. Point a server at them with:");
    println!("OPENAI_BASE_URL={}", openai.base_url());
    println!("OPENAI_API_KEY={FAKE_OPENAI_KEY}");
    println!("EMBEDDINGS=local");
    println!("TWILIO_API_BASE={}", twilio.base_url());
    println!("TWILIO_ACCOUNT_SID={FAKE_ACCOUNT_SID}");
    println!("TWILIO_AUTH_TOKEN={FAKE_AUTH_TOKEN}");
    println!("# The account owns {}.", clouds.numbers.join(", "));
    println!(
        "# Once a number is assigned to an agent, call it: curl -d From=+15005550006 -d To={} {}/_fake/dial",
        clouds.numbers.first().map_or("+1…", String::as_str),
        twilio.base_url()
    );
    shutdown_signal().await;
    // Give calls in flight a moment to post their last callbacks.
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
