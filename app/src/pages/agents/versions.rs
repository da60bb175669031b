//! `/agents/:id/versions`: an agent's prompt history, the diff between two versions
//! (`?from=&to=`, by default the newest against the one before) and restoring a version.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{LoadError, form_error, last_error, short_time};
use crate::api::agents::{RestorePromptVersion, list_prompt_versions, prompt_diff};
use crate::components::form::FormError;
use crate::dto::agents::{DiffKind, PromptDiffView, PromptHistory, PromptVersionView};

/// `/agents/:id/versions`
#[component]
pub fn AgentVersionsPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let restore = ServerAction::<RestorePromptVersion>::new();
    let restored = restore.version();
    let history = Resource::new(
        move || (id(), restored.get()),
        |(id, _)| list_prompt_versions(id),
    );
    view! {
        <Title text="Prompt history" />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || {
                history
                    .get()
                    .map(|result| match result {
                        Ok(history) => view! { <History id=id() history restore /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn History(
    id: String,
    history: PromptHistory,
    restore: ServerAction<RestorePromptVersion>,
) -> impl IntoView {
    let query = use_query_map();
    let numbers: Vec<i32> = history.versions.iter().map(|v| v.version).collect();
    let newest = numbers.first().copied().unwrap_or(0);
    // Follows the address, so "Changes from version n" links and the compare form re-render
    // only the diff.
    let selection = {
        let numbers = numbers.clone();
        Memo::new(move |_| {
            let wanted = |key: &str| query.with(|q| q.get(key).and_then(|v| v.parse::<i32>().ok()));
            let to = wanted("to")
                .filter(|v| numbers.contains(v))
                .unwrap_or(newest);
            let from = wanted("from")
                .filter(|v| numbers.contains(v))
                .or_else(|| numbers.iter().copied().find(|v| *v < to));
            (from, to)
        })
    };
    let last = last_error(restore);
    let notice = move || {
        restore
            .value()
            .get()
            .and_then(Result::ok)
            .map(|new| match new {
                Some(new) => format!("Restored. The prompt is now version {new}."),
                None => "That version is already the current prompt.".to_owned(),
            })
    };
    let editor = format!("/agents/{id}");
    view! {
        <nav aria-label="Breadcrumb" class="text-sm">
            <a href="/agents" class="font-medium text-indigo-600 hover:text-indigo-500">"Agents"</a>
            <span class="text-slate-400">" / "</span>
            <a href=editor class="font-medium text-indigo-600 hover:text-indigo-500">{history.agent_name.clone()}</a>
            <span class="text-slate-400">" / "</span>
        </nav>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight">"Prompt history"</h1>
        <p class="mt-1 text-sm text-slate-600">
            "Every save that changed the prompts or the greeting. Restoring a version saves its text as a new version."
        </p>
        <div class="mt-4 space-y-2">
            <FormError message=form_error(last) />
            <p role="status" class="text-sm font-medium text-green-700">{notice}</p>
        </div>
        <div class="mt-4 grid gap-6 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
            <ol class="space-y-3" aria-label="Versions">
                {history
                    .versions
                    .into_iter()
                    .map(|version| {
                        let current = version.version == newest;
                        view! { <VersionItem id=id.clone() version current restore /> }
                    })
                    .collect_view()}
            </ol>
            <section aria-label="Differences" class="min-w-0">
                {move || {
                    let (from, to) = selection.get();
                    match from {
                        Some(from) => view! {
                            <CompareForm id=id.clone() numbers=numbers.clone() from to />
                            <Diff id=id.clone() from to />
                        }.into_any(),
                        None => view! {
                            <p class="text-sm text-slate-600">"Only one version so far: save a change to the prompt to compare."</p>
                        }.into_any(),
                    }
                }}
            </section>
        </div>
    }
}

#[component]
fn VersionItem(
    id: String,
    version: PromptVersionView,
    current: bool,
    restore: ServerAction<RestorePromptVersion>,
) -> impl IntoView {
    let n = version.version;
    let compare = format!("/agents/{id}/versions?from={}&to={n}", n - 1);
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-version=n.to_string()>
            <div class="flex items-baseline justify-between gap-2">
                <h2 class="font-semibold">{format!("Version {n}")}</h2>
                {current.then(|| view! { <span class="text-xs font-medium text-green-700">"Current"</span> })}
            </div>
            <p class="mt-0.5 text-xs text-slate-500">
                {short_time(&version.created_at)}
                {version.author.map(|a| format!(" · {a}"))}
            </p>
            <p class="mt-2 line-clamp-3 break-words text-sm text-slate-700">
                {if version.preview.is_empty() { "(empty system prompt)".to_owned() } else { version.preview }}
            </p>
            <div class="mt-3 flex flex-wrap items-center gap-3">
                {(n > 1).then(|| view! {
                    <a href=compare class="text-sm font-medium text-indigo-600 hover:text-indigo-500">
                        {format!("Changes from version {}", n - 1)}
                    </a>
                })}
                {(!current).then(|| view! {
                    <ActionForm action=restore>
                        <input type="hidden" name="id" value=id.clone() />
                        <input type="hidden" name="version" value=n.to_string() />
                        <button
                            type="submit"
                            disabled=move || restore.pending().get()
                            class="rounded-md border border-slate-300 bg-white px-3 py-1 text-sm font-medium text-slate-700 hover:bg-slate-50 disabled:opacity-60"
                        >
                            {format!("Restore version {n}")}
                        </button>
                    </ActionForm>
                })}
            </div>
        </li>
    }
}

/// Picks the two versions to compare; a plain GET form, so it works without a script.
#[component]
fn CompareForm(id: String, numbers: Vec<i32>, from: i32, to: i32) -> impl IntoView {
    let select =
        "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm";
    let options = move |chosen: i32| {
        numbers
            .iter()
            .map(|n| view! { <option value=n.to_string() selected=*n == chosen>{format!("Version {n}")}</option> })
            .collect_view()
    };
    view! {
        <form method="get" action=format!("/agents/{id}/versions") class="flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
            <label class="text-sm font-medium text-slate-700">
                "From"
                <select name="from" class=select>{options(from)}</select>
            </label>
            <label class="text-sm font-medium text-slate-700">
                "To"
                <select name="to" class=select>{options(to)}</select>
            </label>
            <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white hover:bg-indigo-500">
                "Compare"
            </button>
        </form>
    }
}

#[component]
fn Diff(id: String, from: i32, to: i32) -> impl IntoView {
    let diff = Resource::new(
        move || (id.clone(), from, to),
        |(id, from, to)| prompt_diff(id, from, to),
    );
    view! {
        <Suspense fallback=|| view! { <p class="mt-4 text-sm text-slate-500">"Comparing…"</p> }>
            {move || {
                diff.get()
                    .map(|result| match result {
                        Ok(diff) => view! { <DiffView diff /> }.into_any(),
                        Err(error) => view! { <FormError message=Some(error.to_string()) /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn DiffView(diff: PromptDiffView) -> impl IntoView {
    let title = format!("Version {} → version {}", diff.from, diff.to);
    view! {
        <div class="mt-4" data-testid="prompt-diff">
            <h2 class="font-semibold">{title}</h2>
            {if diff.changes.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-600">"No differences."</p> }.into_any()
            } else {
                diff.changes
                    .into_iter()
                    .map(|change| {
                        view! {
                            <section class="mt-4 overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm">
                                <h3 class="border-b border-slate-200 bg-slate-50 px-4 py-2 text-sm font-semibold">{change.label}</h3>
                                {change
                                    .hunks
                                    .into_iter()
                                    .map(|hunk| {
                                        view! {
                                            <div class="font-mono text-xs leading-5">
                                                <p class="bg-indigo-50 px-4 py-1 text-indigo-700">{hunk.header}</p>
                                                {hunk
                                                    .lines
                                                    .into_iter()
                                                    .map(|line| {
                                                        let (class, label) = match line.kind {
                                                            DiffKind::Same => ("text-slate-700", "unchanged"),
                                                            DiffKind::Removed => ("bg-red-50 text-red-800", "removed"),
                                                            DiffKind::Added => ("bg-green-50 text-green-800", "added"),
                                                        };
                                                        view! {
                                                            <div class=format!("flex gap-2 px-4 {class}") data-change=label>
                                                                <span class="select-none" aria-hidden="true">{line.sign()}</span>
                                                                <span class="sr-only">{format!("{label}: ")}</span>
                                                                <span class="min-w-0 whitespace-pre-wrap break-words">{line.text.clone()}</span>
                                                            </div>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </div>
                                        }
                                    })
                                    .collect_view()}
                            </section>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </div>
    }
}
