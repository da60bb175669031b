//! The live bus: what the dashboard watches as it happens — calls starting, transcript lines,
//! calls ending, documents being embedded.
//!
//! A message goes to this instance's subscribers at once (an in-process broadcast) and to
//! every other instance through PostgreSQL `NOTIFY`; each instance's listener re-broadcasts
//! what other instances sent, and skips its own (the origin id in the payload), so every
//! subscriber anywhere sees each message once. Subscribers filter by organization: the bus
//! carries every tenant's events, the SSE handler decides who may see which.
//!
//! Delivery is best effort, like a dashboard needs: a slow subscriber that falls more than
//! [`CAPACITY`] messages behind is told it lagged and reloads from the database, which
//! is always written first.

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// The PostgreSQL channel instances exchange messages on.
pub const CHANNEL: &str = "switchboard_live";

/// How many messages a subscriber may fall behind before it lags.
pub const CAPACITY: usize = 1024;

/// `NOTIFY` payloads must stay under 8000 bytes; longer texts are cut for other instances
/// (their dashboards show the full line after a reload).
const MAX_NOTIFY_BYTES: usize = 7000;

/// One event for one organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveMessage {
    /// Whose event it is; only this organization's users may see it.
    pub org_id: Uuid,
    /// What happened.
    pub event: LiveEvent,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LiveEvent {
    /// A call's media stream started.
    CallStarted {
        /// The call.
        call_id: Uuid,
        /// Its agent.
        agent_id: Option<Uuid>,
        /// `inbound` or `outbound`.
        direction: String,
        /// The caller's number.
        from: String,
        /// The number called.
        to: String,
    },
    /// A transcript line was stored.
    CallLine {
        /// The call.
        call_id: Uuid,
        /// The line's position in the call.
        seq: i32,
        /// `caller`, `agent`, `tool` or `system`.
        role: String,
        /// What was said.
        text: String,
        /// When the line started, ms from the call's start.
        start_ms: i32,
        /// When it ended.
        end_ms: i32,
        /// The caller cut the agent off.
        interrupted: bool,
    },
    /// A call ended.
    CallEnded {
        /// The call.
        call_id: Uuid,
        /// Why it ended (`caller_hung_up`, `agent_ended`, …).
        reason: String,
        /// How long it lasted.
        duration_secs: i32,
    },
    /// A knowledge document's ingestion moved on.
    DocumentProgress {
        /// The document.
        document_id: Uuid,
        /// `pending`, `processing`, `ready` or `failed`.
        status: String,
        /// Chunks embedded so far.
        chunks_embedded: i32,
        /// Chunks in the document (0 until it is chunked).
        chunks_total: i32,
        /// Why it failed, when it did.
        error: Option<String>,
    },
}

impl LiveEvent {
    /// The SSE event name: `call.started`, `call.line`, `call.ended`, `document.progress`.
    pub fn name(&self) -> &'static str {
        match self {
            LiveEvent::CallStarted { .. } => "call.started",
            LiveEvent::CallLine { .. } => "call.line",
            LiveEvent::CallEnded { .. } => "call.ended",
            LiveEvent::DocumentProgress { .. } => "document.progress",
        }
    }

    /// Whether this is a call event (the `/events/calls` stream) rather than a document one.
    pub fn is_call_event(&self) -> bool {
        !matches!(self, LiveEvent::DocumentProgress { .. })
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: Uuid,
    message: LiveMessage,
}

/// A handle to the bus; clones share it.
#[derive(Debug, Clone)]
pub struct LiveBus {
    local: broadcast::Sender<LiveMessage>,
    /// Where to `NOTIFY` other instances; `None` for an in-process bus.
    pool: Option<PgPool>,
    origin: Uuid,
}

impl LiveBus {
    /// A bus for this process only (tests, single-purpose tools).
    pub fn local() -> Self {
        Self {
            local: broadcast::channel(CAPACITY).0,
            pool: None,
            origin: Uuid::new_v4(),
        }
    }

    /// A bus shared with every instance on `pool`'s database: it starts listening before it
    /// returns (so nothing published afterwards is missed) and stops at `cancel`.
    pub async fn connect(pool: &PgPool, cancel: CancellationToken) -> Result<Self, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        let bus = Self {
            pool: Some(pool.clone()),
            ..Self::local()
        };
        let (local, origin) = (bus.local.clone(), bus.origin);
        tokio::spawn(async move {
            loop {
                let notification = tokio::select! {
                    () = cancel.cancelled() => break,
                    n = listener.recv() => n,
                };
                match notification {
                    Ok(n) => match serde_json::from_str::<Envelope>(n.payload()) {
                        Ok(envelope) if envelope.origin == origin => {}
                        Ok(envelope) => {
                            let _ = local.send(envelope.message);
                        }
                        Err(e) => tracing::warn!(error = %e, "ignoring a malformed live message"),
                    },
                    // PgListener reconnects by itself on the next recv; messages sent while it
                    // was away are lost, which subscribers recover from by reloading.
                    Err(e) => {
                        tracing::warn!(error = %e, "live bus listener lost its connection");
                        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    }
                }
            }
        });
        Ok(bus)
    }

    /// Subscribes to every message published from now on, on any instance.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveMessage> {
        self.local.subscribe()
    }

    /// Publishes `message` here and to the other instances. Never fails the caller: the
    /// database already holds the truth, the bus only makes it visible sooner.
    pub async fn publish(&self, message: LiveMessage) {
        let _ = self.local.send(message.clone());
        let Some(pool) = &self.pool else { return };
        let payload = notify_payload(self.origin, message);
        if let Err(e) = sqlx::query("select pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(pool)
            .await
        {
            tracing::warn!(error = %e, "cannot notify other instances of a live event");
        }
    }
}

/// The JSON other instances receive, with long transcript text cut to fit `NOTIFY`.
fn notify_payload(origin: Uuid, mut message: LiveMessage) -> String {
    let json = |message: LiveMessage| {
        serde_json::to_string(&Envelope { origin, message }).unwrap_or_default()
    };
    let payload = json(message.clone());
    if payload.len() <= MAX_NOTIFY_BYTES {
        return payload;
    }
    let excess = payload.len() - MAX_NOTIFY_BYTES;
    let cut = |text: &mut String| {
        let mut keep = text.len().saturating_sub(excess + 3);
        while !text.is_char_boundary(keep) {
            keep -= 1;
        }
        text.truncate(keep);
        text.push('…');
    };
    match &mut message.event {
        LiveEvent::CallLine { text, .. } => cut(text),
        LiveEvent::DocumentProgress {
            error: Some(text), ..
        } => cut(text),
        _ => {}
    }
    json(message)
}

#[cfg(test)]
mod tests;
