//! The browser half of the live page: an `EventSource` on `/events/calls` feeding the board,
//! and the clock the call timers read. Only compiled for the browser.
//!
//! Lifecycle: opened by an effect once the page is hydrated, closed when the page goes away
//! (`on_cleanup`). The browser reconnects by itself after a network error; every `open` (the
//! first included) reloads the snapshot, so calls and lines published while the stream was
//! not listening — between the server render and the first `open`, or during an outage — are
//! picked up, and the board's deduplication absorbs the overlap.

use std::time::Duration;

use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{EventSource, MessageEvent};

use super::board::{Board, Change};
use super::{Connection, drop_later, now_ms};
use crate::dto::live::{CallEvent, LiveCallView};
use crate::error::AppError;

/// The SSE endpoint.
const EVENTS_URL: &str = "/events/calls";

/// The named SSE events carrying a call event.
const CALL_EVENTS: [&str; 3] = ["call.started", "call.line", "call.ended"];

type Snapshot = Resource<Result<Vec<LiveCallView>, AppError>>;

/// Follows the call events until the page is left.
pub(super) fn follow(board: RwSignal<Board>, connection: RwSignal<Connection>, snapshot: Snapshot) {
    Effect::new(move |_| {
        let source = match EventSource::new(EVENTS_URL) {
            Ok(source) => source,
            Err(e) => {
                leptos::logging::warn!("cannot open {EVENTS_URL}: {e:?}");
                connection.set(Connection::Closed);
                return;
            }
        };
        let on_open = Closure::<dyn FnMut()>::new(move || {
            connection.set(Connection::Connected);
            snapshot.refetch();
        });
        let watched = source.clone();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            let state = if watched.ready_state() == EventSource::CLOSED {
                Connection::Closed
            } else {
                Connection::Reconnecting
            };
            connection.set(state);
        });
        let on_event = Closure::<dyn FnMut(MessageEvent)>::new(move |message: MessageEvent| {
            let Some(data) = message.data().as_string() else {
                return;
            };
            let event: CallEvent = match serde_json::from_str(&data) {
                Ok(event) => event,
                Err(e) => {
                    leptos::logging::warn!("ignoring a call event: {e}");
                    return;
                }
            };
            let ended_id = match &event {
                CallEvent::CallEnded { call_id, .. } => Some(call_id.clone()),
                _ => None,
            };
            match board.try_update(|b| b.apply(event, now_ms())) {
                Some(Change::NeedsSnapshot) => snapshot.refetch(),
                Some(Change::Ended) => {
                    if let Some(id) = ended_id {
                        drop_later(board, id);
                    }
                }
                _ => {}
            }
        });
        // The server fell too far behind for us: what we missed is in the database.
        let on_lagged = Closure::<dyn FnMut()>::new(move || snapshot.refetch());

        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        for name in CALL_EVENTS {
            let _ =
                source.add_event_listener_with_callback(name, on_event.as_ref().unchecked_ref());
        }
        let _ =
            source.add_event_listener_with_callback("lagged", on_lagged.as_ref().unchecked_ref());

        // The closures must live as long as the source; both go when the page does.
        let handles = SendWrapper::new((source, on_open, on_error, on_event, on_lagged));
        on_cleanup(move || {
            let (source, ..) = handles.take();
            source.close();
        });
    });
}

/// Advances `now` every second for the call timers, until the page is left.
pub(super) fn tick(now: RwSignal<i64>) {
    Effect::new(move |_| {
        match set_interval_with_handle(move || now.set(now_ms()), Duration::from_secs(1)) {
            Ok(handle) => on_cleanup(move || handle.clear()),
            Err(e) => leptos::logging::warn!("no clock for the call timers: {e:?}"),
        }
    });
}
