//! `/live` — calls in progress, each with its transcript growing line by line.
//!
//! The page starts from the `active_calls` snapshot (rendered on the server, so a reload in
//! the middle of a call shows everything said so far), then follows `GET /events/calls` in the
//! browser ([`stream`]). Both feed one [`board::Board`], which makes repeats harmless.

mod board;
#[cfg(feature = "hydrate")]
mod stream;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::live::active_calls;
use crate::dto::live::{LiveLineView, ended_reason_label};
use crate::dto::overview::{format_clock, format_duration};
use board::{Board, BoardCall};

/// How long an ended call stays on the page before it is dropped.
pub const ENDED_CALL_LINGER_MS: u64 = 6_000;

/// The state of the event stream, shown next to the heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Connection {
    /// Not open yet (and, without JavaScript, never).
    Connecting,
    /// Open: new lines arrive as they are stored.
    Connected,
    /// Lost; the browser is retrying.
    Reconnecting,
    /// Refused or given up (for example after logging out elsewhere).
    Closed,
}

/// `/live`
#[component]
pub fn LivePage() -> impl IntoView {
    let snapshot = Resource::new(|| (), |()| active_calls());
    let board = RwSignal::new(Board::default());
    let connection = RwSignal::new(Connection::Connecting);
    let now = RwSignal::new(now_ms());
    #[cfg(feature = "hydrate")]
    {
        stream::follow(board, connection, snapshot);
        stream::tick(now);
    }

    view! {
        <Title text="Live" />
        <div class="flex flex-wrap items-start justify-between gap-3">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">"Live"</h1>
                <p class="mt-1 text-sm text-slate-600">"Calls in progress, with transcripts as they are spoken."</p>
            </div>
            <ConnectionBadge connection />
        </div>
        <Transition fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match snapshot.await {
                    Ok(calls) => {
                        let ended = board.try_update(|b| b.merge_snapshot(calls)).unwrap_or_default();
                        for id in ended {
                            drop_later(board, id);
                        }
                        view! { <Calls board now /> }.into_any()
                    }
                    Err(e) => {
                        view! {
                            <p role="alert" class="mt-8 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
                                {e.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn ConnectionBadge(connection: RwSignal<Connection>) -> impl IntoView {
    let state = move || match connection.get() {
        Connection::Connecting => ("connecting", "Connecting…", "bg-slate-400"),
        Connection::Connected => ("connected", "Live", "bg-emerald-500"),
        Connection::Reconnecting => ("reconnecting", "Reconnecting…", "bg-amber-400"),
        Connection::Closed => ("closed", "Disconnected — reload the page", "bg-red-500"),
    };
    view! {
        <p
            role="status"
            data-testid="live-connection"
            data-state=move || state().0
            class="inline-flex items-center gap-2 rounded-full border border-slate-200 bg-white px-3 py-1 text-sm text-slate-700 shadow-sm"
        >
            <span class=move || format!("h-2 w-2 rounded-full {}", state().2) aria-hidden="true"></span>
            {move || state().1}
        </p>
    }
}

#[component]
fn Calls(board: RwSignal<Board>, now: RwSignal<i64>) -> impl IntoView {
    view! {
        <Show
            when=move || !board.with(Board::is_empty)
            fallback=|| {
                view! {
                    <div class="mt-8 rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
                        <p class="text-sm font-medium text-slate-700">"No calls in progress."</p>
                        <p class="mt-1 text-sm text-slate-500">
                            "When someone calls one of your numbers, the call appears here and its transcript grows as people speak."
                        </p>
                    </div>
                }
            }
        >
            <ul class="mt-6 grid gap-4 xl:grid-cols-2" aria-label="Calls in progress">
                <For each=move || board.with(Board::ids) key=|id| id.clone() let:id>
                    <CallCard board now id />
                </For>
            </ul>
        </Show>
    }
    .into_any()
}

#[component]
fn CallCard(board: RwSignal<Board>, now: RwSignal<i64>, id: String) -> impl IntoView {
    let call_id = id.clone();
    let entry = Memo::new(move |_| board.with(|b| b.call(&id).cloned()));
    let field = move |f: fn(&BoardCall) -> String| {
        move || entry.with(|e| e.as_ref().map(f).unwrap_or_default())
    };
    let who = field(|e| {
        let (from, to) = (&e.call.from, &e.call.to);
        match (from.is_empty(), e.call.direction.as_str()) {
            (true, _) => "Call".to_owned(),
            (false, "outbound") => format!("To {to}"),
            (false, _) => format!("From {from}"),
        }
    });
    let detail = field(|e| {
        let agent = e
            .call
            .agent_name
            .clone()
            .unwrap_or_else(|| "Agent".to_owned());
        match e.call.direction.as_str() {
            "outbound" => format!("{agent} calling from {}", e.call.from),
            "inbound" => format!("{agent} answering {}", e.call.to),
            _ => agent,
        }
    });
    let started = Memo::new(move |_| entry.with(|e| e.as_ref().map(|e| e.call.started_at_ms)));
    let ended = Memo::new(move |_| entry.with(|e| e.as_ref().and_then(|e| e.ended.clone())));
    let status = move || match ended.get() {
        Some((reason, secs)) if secs >= 0 => {
            format!(
                "{} · {}",
                ended_reason_label(&reason),
                format_duration(f64::from(secs))
            )
        }
        Some((reason, _)) => ended_reason_label(&reason).to_owned(),
        None => started
            .get()
            .map(|at| format_clock((now.get() - at) / 1000))
            .unwrap_or_default(),
    };
    let lines =
        move || entry.with(|e| e.as_ref().map(|e| e.call.lines.clone()).unwrap_or_default());
    let transcript = NodeRef::<leptos::html::Div>::new();
    // Keep the newest line in view as the transcript grows.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        entry.track();
        if let Some(div) = transcript.get() {
            div.set_scroll_top(div.scroll_height());
        }
    });

    view! {
        <li
            class="flex flex-col rounded-xl border bg-white shadow-sm transition-opacity"
            class=("border-slate-200", move || ended.with(Option::is_none))
            class=("border-slate-300", move || ended.with(Option::is_some))
            class=("opacity-60", move || ended.with(Option::is_some))
            data-testid="live-call"
            data-call-id=call_id
        >
            <div class="flex items-start justify-between gap-3 border-b border-slate-100 px-4 py-3">
                <div class="min-w-0">
                    <h2 class="truncate font-semibold text-slate-900">{who}</h2>
                    <p class="truncate text-xs text-slate-500">{detail}</p>
                </div>
                <p
                    class="shrink-0 text-right text-sm tabular-nums"
                    class=("text-emerald-700", move || ended.with(Option::is_none))
                    class=("text-slate-500", move || ended.with(Option::is_some))
                    aria-live="polite"
                >
                    {status}
                </p>
            </div>
            <div node_ref=transcript class="max-h-96 overflow-y-auto px-4 py-3" aria-live="polite" aria-label="Transcript">
                <Show
                    when=move || entry.with(|e| e.as_ref().is_some_and(|e| !e.call.lines.is_empty()))
                    fallback=|| view! { <p class="text-sm text-slate-500">"Waiting for the first words…"</p> }
                >
                    <ol class="space-y-2">
                        <For each=lines key=|line| line.seq let:line>
                            <Line line />
                        </For>
                    </ol>
                </Show>
            </div>
        </li>
    }
    .into_any()
}

/// One transcript line.
#[component]
fn Line(line: LiveLineView) -> impl IntoView {
    view! {
        <li class="flex gap-3 text-sm" data-seq=line.seq>
            <span class="w-12 shrink-0 pt-0.5 text-xs tabular-nums text-slate-400">
                {format_clock(i64::from(line.start_ms) / 1000)}
            </span>
            <p class="min-w-0">
                <span class=role_class(&line.role)>{role_label(&line.role)}</span>
                " "
                <span class="text-slate-800">{line.text}</span>
                {line.interrupted.then(|| view! { <span class="ml-1 text-xs text-slate-400">"(cut off)"</span> })}
            </p>
        </li>
    }
    .into_any()
}

fn role_label(role: &str) -> &'static str {
    match role {
        "caller" => "Caller",
        "agent" => "Agent",
        "tool" => "Tool",
        _ => "System",
    }
}

fn role_class(role: &str) -> &'static str {
    match role {
        "caller" => "font-semibold text-sky-700",
        "agent" => "font-semibold text-indigo-700",
        _ => "font-semibold text-slate-500",
    }
}

/// Drops an ended call from the board after [`ENDED_CALL_LINGER_MS`] (in the browser; a page
/// rendered on the server shows it as ended).
fn drop_later(board: RwSignal<Board>, id: String) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || {
            board.try_update(|b| b.remove(&id));
        },
        std::time::Duration::from_millis(ENDED_CALL_LINGER_MS),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (board, id);
}

/// Milliseconds since the Unix epoch, from the browser's clock or the server's.
fn now_ms() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as i64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}
