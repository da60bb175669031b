//! `/knowledge` — documents your agents answer from: upload files, paste text, watch each
//! document's ingestion live, delete, re-process, and try a search.
//!
//! Pasting, deleting, re-processing and searching are forms, so they work before hydration.
//! File uploads ([`upload`]) and live progress ([`live`]) need the page hydrated: the browser
//! sends each file to `POST /api/v1/knowledge` on its own (so a refused file refuses only
//! itself) and listens on `/events/knowledge`.
//!
//! The list a person sees merges three sources ([`live::rows`]): the server's list (a
//! resource, reloaded after every change and whenever the event stream (re)connects), the
//! progress events received since that list was fetched, and the uploads still in flight.

// `#[component]`'s derived props builder has `pub` methods, which `unreachable_pub` flags for
// components in a private module; these modules' own items are `pub(super)` at most.
#[allow(unreachable_pub)]
mod documents;
mod live;
#[allow(unreachable_pub)]
mod paste;
#[allow(unreachable_pub)]
mod search;
#[allow(unreachable_pub)]
mod upload;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::knowledge::{
    AddTextDocument, DeleteDocument, ReprocessDocument, list_documents, list_scope_agents,
};
use crate::components::form::INPUT;
use crate::dto::AgentChoice;
use crate::error::AppError;

/// The organization's agents, for the scope pickers and the list's scope column.
pub(super) type Agents = Resource<Result<Vec<AgentChoice>, AppError>>;

/// `/knowledge`
#[component]
pub fn KnowledgePage() -> impl IntoView {
    let delete = ServerAction::<DeleteDocument>::new();
    let reprocess = ServerAction::<ReprocessDocument>::new();
    let paste = ServerAction::<AddTextDocument>::new();
    let state = live::LiveState::new();
    let uploads = upload::Uploads::new(state);

    let documents = Resource::new(
        move || {
            (
                state.reload.get(),
                delete.version().get(),
                reprocess.version().get(),
                paste.version().get(),
            )
        },
        move |_| {
            // Events counted before the request went out are already in its answer.
            let listed_at = state.overlay.with_untracked(live::Overlay::seen);
            async move { list_documents().await.map(|docs| (listed_at, docs)) }
        },
    );
    let agents: Agents = Resource::new(|| (), |_| list_scope_agents());
    #[cfg(feature = "hydrate")]
    live::subscribe(state);

    // An accepted upload stays in `recent` only until a list has it; from then on the list
    // decides, so a document deleted later does not come back from `recent`.
    Effect::new(move |_| {
        documents.with(|listed| {
            if let Some(Ok((_, listed))) = listed {
                uploads
                    .recent
                    .maybe_update(|recent| live::forget_listed(recent, listed));
            }
        });
    });

    let rows = Memo::new(move |_| {
        let (listed_at, listed) = documents
            .get()
            .and_then(Result::ok)
            .unwrap_or_else(|| (0, Vec::new()));
        let agents = agents.get().and_then(Result::ok).unwrap_or_default();
        state.overlay.with(|overlay| {
            uploads.rows.with(|sending| {
                uploads.recent.with(|recent| {
                    live::rows(overlay, listed_at, &listed, recent, sending, &agents)
                })
            })
        })
    });

    view! {
        <Title text="Knowledge" />
        <h1 class="text-2xl font-semibold tracking-tight">"Knowledge"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "Documents your agents answer from. Upload files or paste text; each is split into passages and embedded, then agents can quote it."
        </p>
        <div class="mt-8 grid gap-6 xl:grid-cols-2">
            <upload::UploadZone uploads agents />
            <paste::PasteText action=paste agents />
        </div>
        <section aria-labelledby="documents-heading" class="mt-8">
            <h2 id="documents-heading" class="text-lg font-semibold">"Documents"</h2>
            <Transition fallback=|| {
                view! { <p class="mt-4 text-sm text-slate-500">"Loading documents…"</p> }
            }>
                {move || {
                    // The rows name each document's agent: wait for the agents too.
                    let _agents = agents.get();
                    documents
                        .get()
                        .map(|listed| match listed {
                            Ok(_) => {
                                view! { <documents::DocumentList rows delete reprocess uploads /> }
                                    .into_any()
                            }
                            Err(e) => {
                                view! {
                                    <p role="alert" class="mt-4 text-sm text-red-600">
                                        {e.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
        <search::SearchTest agents />
    }
}

/// A select of "All agents" or one agent, for scoping a document or a search.
#[component]
pub(super) fn ScopeSelect(
    /// The element id (the label points at it).
    id: &'static str,
    /// The form field name.
    name: &'static str,
    /// The visible label.
    label: &'static str,
    /// The organization's agents.
    agents: Agents,
    /// The agent chosen at first (empty: all agents).
    #[prop(optional, into)]
    selected: Signal<String>,
    /// Called with the new value when the choice changes.
    #[prop(optional)]
    on_change: Option<Callback<String>>,
    /// The error for this field, if any.
    #[prop(optional, into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let described_by = error_id.clone();
    view! {
        <div>
            <label for=id class="block text-sm font-medium text-slate-700">{label}</label>
            <Transition fallback=|| view! { <p class="mt-1 h-9 text-sm text-slate-500">"Loading agents…"</p> }>
                <select
                    id=id
                    name=name
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby=described_by.clone()
                    on:change=move |ev| {
                        if let Some(on_change) = on_change {
                            on_change.run(event_target_value(&ev));
                        }
                    }
                    class=INPUT
                >
                    <option value="" selected=move || selected.get().is_empty()>"All agents (organization-wide)"</option>
                    {move || {
                        agents
                            .get()
                            .and_then(Result::ok)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|agent| {
                                let chosen = agent.id.clone();
                                view! {
                                    <option value=agent.id selected=move || selected.with(|s| *s == chosen)>
                                        {agent.name}
                                    </option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </Transition>
            <p id=error_id class="mt-1 min-h-5 text-sm text-red-600" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}
