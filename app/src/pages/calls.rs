//! `/calls` — every call, filtered and paged through the URL, and the form to place one.
//!
//! The URL is the state: the filter form is a plain `GET` form (it works before hydration, and
//! the router turns it into a navigation after), and "Newer"/"Older" are links, so a filtered
//! page can be shared and the back button returns to it.

pub mod detail;
pub mod local_time;
pub mod place;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Form};
use leptos_router::hooks::use_query_map;

use crate::api::calls::list_calls;
use crate::dto::calls::{
    AgentChoice, CallListItem, CallPageView, CallQuery, format_duration, format_usd,
};
use crate::error::AppError;
use crate::pages::calls::local_time::{LocalTime, viewer_offset_minutes};
use crate::pages::calls::place::PlaceCallForm;

/// Twilio's call statuses, as the filter offers them: (value, label).
const STATUSES: [(&str, &str); 8] = [
    ("completed", "Completed"),
    ("in-progress", "In progress"),
    ("ringing", "Ringing"),
    ("queued", "Queued"),
    ("busy", "Busy"),
    ("no-answer", "No answer"),
    ("failed", "Failed"),
    ("canceled", "Canceled"),
];

/// `/calls`
#[component]
pub fn CallsPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| CallQuery::from_lookup(|key| p.get(key))));
    let page = Resource::new(move || query.get(), list_calls);
    view! {
        <Title text="Calls" />
        <h1 class="text-2xl font-semibold tracking-tight">"Calls"</h1>
        <p class="mt-1 text-sm text-slate-600">"Every call with its transcript, summary and outcome."</p>
        <Filters query page />
        <Suspense fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading calls…"</p> }>
            {move || {
                page.get().map(|result| match result {
                    Ok(page) => view! { <Results page query=query.get_untracked() /> }.into_any(),
                    Err(error) => view! { <LoadError error /> }.into_any(),
                })
            }}
        </Suspense>
    }
}

/// The filter form; its fields start from the URL, so what was typed stays.
#[component]
fn Filters(
    query: Memo<CallQuery>,
    page: Resource<Result<CallPageView, AppError>>,
) -> impl IntoView {
    let current = query.get_untracked();
    // The browser's zone reads date filters as local days; the server alone cannot know it.
    let tz = RwSignal::new(current.tz.clone());
    Effect::new(move |_| {
        if let Some(offset) = viewer_offset_minutes() {
            tz.set(offset.to_string());
        }
    });
    let value = move |key: fn(&CallQuery) -> &String| query.with(|q| key(q).clone());
    let input = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30";
    let label = "block text-xs font-medium uppercase tracking-wide text-slate-500";
    view! {
        <div role="search" class="mt-6 rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
            <Form method="GET" action="/calls">
                <div class="grid gap-3 sm:grid-cols-2 lg:grid-cols-6">
                    <div class="sm:col-span-2">
                        <label for="filter-q" class=label>"Search transcripts"</label>
                        <input id="filter-q" name="q" type="search" placeholder="refund, booking…" class=input prop:value=move || value(|q| &q.q) />
                    </div>
                    <div>
                        <label for="filter-direction" class=label>"Direction"</label>
                        <select id="filter-direction" name="direction" class=input prop:value=move || value(|q| &q.direction)>
                            <option value="" selected=current.direction.is_empty()>"Any"</option>
                            <option value="inbound" selected=current.direction == "inbound">"Inbound"</option>
                            <option value="outbound" selected=current.direction == "outbound">"Outbound"</option>
                        </select>
                    </div>
                    <div>
                        <label for="filter-status" class=label>"Status"</label>
                        <select id="filter-status" name="status" class=input prop:value=move || value(|q| &q.status)>
                            <option value="" selected=current.status.is_empty()>"Any"</option>
                            {STATUSES
                                .into_iter()
                                .map(|(v, l)| view! { <option value=v selected=current.status == v>{l}</option> })
                                .collect_view()}
                        </select>
                    </div>
                    <div>
                        <label for="filter-from" class=label>"From"</label>
                        <input id="filter-from" name="from" type="date" class=input prop:value=move || value(|q| &q.from) />
                    </div>
                    <div>
                        <label for="filter-to" class=label>"To"</label>
                        <input id="filter-to" name="to" type="date" class=input prop:value=move || value(|q| &q.to) />
                    </div>
                </div>
                <div class="mt-3 flex flex-wrap items-end gap-3">
                    <div class="min-w-48 flex-1 sm:flex-none">
                        <label for="filter-agent" class=label>"Agent"</label>
                        <AgentFilter query page />
                    </div>
                    <input type="hidden" name="tz" prop:value=move || tz.get() />
                    <button type="submit" class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500">
                        "Apply filters"
                    </button>
                    <Show when=move || query.with(CallQuery::is_filtered)>
                        <A href="/calls" attr:class="px-2 py-2 text-sm font-medium text-slate-600 hover:text-indigo-600">"Clear"</A>
                    </Show>
                </div>
            </Form>
        </div>
    }
}

/// The agent picker of the filter; its options come with the page's data.
#[component]
fn AgentFilter(
    query: Memo<CallQuery>,
    page: Resource<Result<CallPageView, AppError>>,
) -> impl IntoView {
    let class = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30";
    let select = move |agents: Vec<AgentChoice>| {
        let selected = query.with_untracked(|q| q.agent.clone());
        view! {
            <select id="filter-agent" name="agent" class=class>
                <option value="">"Any agent"</option>
                {agents
                    .into_iter()
                    .map(|a| {
                        let is_selected = a.id == selected;
                        view! { <option value=a.id selected=is_selected>{a.name}</option> }
                    })
                    .collect_view()}
            </select>
        }
    };
    view! {
        <Suspense fallback=move || select(Vec::new())>
            {move || page.get().map(|p| select(p.map(|p| p.agents).unwrap_or_default()))}
        </Suspense>
    }
}

/// The count, the calls, the page links and the call form.
#[component]
fn Results(page: CallPageView, query: CallQuery) -> impl IntoView {
    let total = page.total_label();
    let empty = page.calls.is_empty();
    let filtered = query.is_filtered();
    let paged = !query.before.is_empty() || !query.after.is_empty();
    let agents = page.agents.clone();
    let can_place = page.can_place_calls;
    view! {
        <div class="mt-6 grid gap-6 xl:grid-cols-[1fr_20rem]">
            <section aria-label="Call history" class="min-w-0">
                {if empty {
                    view! { <EmptyState filtered=filtered || paged /> }.into_any()
                } else {
                    view! {
                        <p class="text-sm text-slate-600" data-testid="call-count">{total}</p>
                        <ul class="mt-3 divide-y divide-slate-200 overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
                            {page.calls.into_iter().map(|call| view! { <CallRow call /> }).collect_view()}
                        </ul>
                    }
                    .into_any()
                }}
                <nav aria-label="Pages" class="mt-4 flex justify-between text-sm font-medium">
                    {page.newer_href.map(|href| view! { <A href=href attr:class="text-indigo-600 hover:text-indigo-500" attr:rel="prev">"← Newer calls"</A> })}
                    <span></span>
                    {page.older_href.map(|href| view! { <A href=href attr:class="text-indigo-600 hover:text-indigo-500" attr:rel="next">"Older calls →"</A> })}
                </nav>
            </section>
            {can_place.then(|| view! { <PlaceCallForm agents /> })}
        </div>
    }
}

/// One call: who, when, how it went.
#[component]
fn CallRow(call: CallListItem) -> impl IntoView {
    let href = format!("/calls/{}", call.id);
    let direction = if call.direction == "outbound" {
        "To"
    } else {
        "From"
    };
    let agent = call
        .agent_name
        .unwrap_or_else(|| "Deleted agent".to_owned());
    view! {
        <li>
            <A href=href attr:class="block px-4 py-3 hover:bg-slate-50 focus:bg-slate-50 focus:outline-none">
                <div class="flex flex-wrap items-center justify-between gap-x-4 gap-y-1">
                    <p class="text-sm font-medium text-slate-900">
                        <span class="text-slate-500">{direction} " "</span>
                        <span class="tabular-nums">{call.counterpart}</span>
                    </p>
                    <StatusBadge status=call.status />
                </div>
                <p class="mt-1 flex flex-wrap gap-x-3 gap-y-1 text-xs text-slate-500">
                    <LocalTime iso=call.started_at />
                    <span>{agent}</span>
                    {call.duration_secs.map(|s| view! { <span>{format_duration(s.into())}</span> })}
                    {call.cost_usd.map(|usd| view! { <span>{format_usd(usd)}</span> })}
                </p>
                {call.summary.map(|s| view! { <p class="mt-1 truncate text-sm text-slate-600">{s}</p> })}
            </A>
        </li>
    }
}

/// A call status as a coloured label.
#[component]
pub fn StatusBadge(status: String) -> impl IntoView {
    let colour = match status.as_str() {
        "completed" => "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
        "in-progress" | "ringing" | "queued" => "bg-sky-50 text-sky-700 ring-sky-600/20",
        "failed" => "bg-red-50 text-red-700 ring-red-600/20",
        _ => "bg-amber-50 text-amber-800 ring-amber-600/20",
    };
    let label = STATUSES
        .iter()
        .find(|(v, _)| *v == status)
        .map_or(status.clone(), |(_, l)| (*l).to_owned());
    view! {
        <span class=format!("inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {colour}")>
            {label}
        </span>
    }
}

#[component]
fn EmptyState(filtered: bool) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
            {if filtered {
                view! {
                    <p class="text-sm text-slate-600">"No calls match these filters."</p>
                    <A href="/calls" attr:class="mt-2 inline-block text-sm font-medium text-indigo-600">"Show all calls"</A>
                }
                .into_any()
            } else {
                view! {
                    <p class="text-sm font-medium text-slate-700">"No calls yet."</p>
                    <p class="mt-1 text-sm text-slate-500">
                        "Calls to your agents' numbers, and calls they place, appear here with their transcripts."
                    </p>
                }
                .into_any()
            }}
        </div>
    }
}

#[component]
fn LoadError(error: AppError) -> impl IntoView {
    let message = error.to_string();
    view! {
        <div role="alert" class="mt-6 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
            {message}
        </div>
    }
}
