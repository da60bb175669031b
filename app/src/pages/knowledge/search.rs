//! The search test: a GET form (`?q=…&scope=…`), so the question lives in the address, works
//! before hydration and survives a reload; the passages are what an agent would be given.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::{Agents, ScopeSelect};
use crate::api::knowledge::search_knowledge;
use crate::dto::PassageView;

/// The search box and its ranked passages.
#[component]
pub(super) fn SearchTest(agents: Agents) -> impl IntoView {
    let query = use_query_map();
    let asked = Memo::new(move |_| query.with(|q| q.get("q")));
    let scope = Signal::derive(move || query.with(|q| q.get("scope")).unwrap_or_default());
    let results = Resource::new(
        move || (asked.get(), scope.get()),
        |(asked, scope)| async move {
            match asked {
                None => Ok(None),
                Some(q) => search_knowledge(q, Some(scope)).await.map(Some),
            }
        },
    );
    let query_error = move || {
        results
            .get()
            .and_then(Result::err)
            .map(|e| e.for_field("query").unwrap_or_else(|| e.to_string()))
    };
    view! {
        <section aria-labelledby="search-heading" class="mt-8 rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="search-heading" class="text-lg font-semibold">"Search test"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Ask what a caller might ask: these are the passages an agent would be given, best first, with how closely each matches (1.00 is a perfect match)."
            </p>
            <Form method="GET" action="/knowledge" noscroll=true attr:class="mt-4 grid gap-3 md:grid-cols-[1fr_16rem_auto] md:items-start">
                <div>
                    <label for="search-query" class="block text-sm font-medium text-slate-700">"Question"</label>
                    <input
                        id="search-query"
                        name="q"
                        type="search"
                        placeholder="Do you deliver on Sundays?"
                        value=move || asked.get().unwrap_or_default()
                        aria-describedby="search-query-error"
                        class="mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30"
                    />
                    <Transition fallback=|| ()>
                        <p id="search-query-error" class="mt-1 min-h-5 text-sm text-red-600" role="alert">
                            {query_error}
                        </p>
                    </Transition>
                </div>
                <ScopeSelect id="search-scope" name="scope" label="Search as" agents selected=scope />
                <button
                    type="submit"
                    class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 md:mt-6"
                >
                    "Search"
                </button>
            </Form>
            <Transition fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Searching…"</p> }>
                {move || results.get().and_then(Result::ok).flatten().map(|passages| view! { <Passages passages /> })}
            </Transition>
        </section>
    }
}

#[component]
fn Passages(passages: Vec<PassageView>) -> impl IntoView {
    if passages.is_empty() {
        return view! {
            <p class="mt-4 text-sm text-slate-600">
                "Nothing found. Documents are searchable once they show Ready."
            </p>
        }
        .into_any();
    }
    view! {
        <ol aria-label="Passages found" class="mt-4 space-y-3">
            {passages
                .into_iter()
                .enumerate()
                .map(|(rank, passage)| {
                    let headings = passage
                        .heading_path
                        .iter()
                        .map(|h| h.trim())
                        .filter(|h| !h.is_empty() && *h != passage.title.trim())
                        .collect::<Vec<_>>()
                        .join(" › ");
                    view! {
                        <li class="rounded-lg border border-slate-200 px-4 py-3">
                            <div class="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
                                <p class="min-w-0 text-sm">
                                    <span class="mr-2 text-slate-400">{format!("{}.", rank + 1)}</span>
                                    <span class="font-medium text-slate-900">{passage.title}</span>
                                    {(!headings.is_empty())
                                        .then(|| view! { <span class="text-slate-500">" › " {headings}</span> })}
                                </p>
                                <span class="shrink-0 rounded bg-slate-100 px-2 py-0.5 font-mono text-xs text-slate-700">
                                    {format!("score {:.2}", passage.score)}
                                </span>
                            </div>
                            <p class="mt-2 line-clamp-4 whitespace-pre-line text-sm text-slate-600">{passage.content}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}
