//! Server-sent events for the dashboard: `GET /events/calls` (calls starting, transcript lines,
//! calls ending) and `GET /events/knowledge` (document progress), each limited to the caller's
//! organization. Events come from the live bus, so a call on any instance shows up here.
//!
//! Each SSE event is named after the event (`call.line`, …) and carries it as JSON. A client
//! that falls too far behind gets a `lagged` event and should reload from the database; the
//! browser's `EventSource` reconnects by itself after a network error.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use switchboard::live::LiveEvent;
use tokio::sync::broadcast::error::RecvError;

use crate::caller::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// `GET /events/calls`.
pub async fn calls(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    Ok(stream(state, caller, LiveEvent::is_call_event))
}

/// `GET /events/knowledge`.
pub async fn knowledge(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    Ok(stream(state, caller, |event| !event.is_call_event()))
}

fn stream(
    state: AppState,
    caller: Caller,
    wanted: fn(&LiveEvent) -> bool,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let messages = state.live.subscribe();
    let shutdown = state.stopping.clone();
    let events = futures::stream::unfold(
        (messages, shutdown),
        move |(mut messages, shutdown)| async move {
            loop {
                let message = tokio::select! {
                    // Shutting down: end the stream so the server can stop.
                    () = shutdown.cancelled() => return None,
                    m = messages.recv() => m,
                };
                let event = match message {
                    Ok(m) if m.org_id == caller.org_id && wanted(&m.event) => {
                        match Event::default().event(m.event.name()).json_data(&m.event) {
                            Ok(event) => event,
                            Err(e) => {
                                tracing::error!(error = %e, "cannot encode a live event");
                                continue;
                            }
                        }
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        Event::default().event("lagged").data(missed.to_string())
                    }
                    Err(RecvError::Closed) => return None,
                };
                return Some((Ok(event), (messages, shutdown)));
            }
        },
    );
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
