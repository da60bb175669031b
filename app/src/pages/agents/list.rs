//! `/agents`: the organization's agents.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{LoadError, short_time};
use crate::api::agents::list_agents;
use crate::dto::agents::AgentListItem;

/// `/agents`
#[component]
pub fn AgentsPage() -> impl IntoView {
    let agents = Resource::new(|| (), |_| list_agents());
    view! {
        <Title text="Agents" />
        <div class="flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">"Agents"</h1>
                <p class="mt-1 text-sm text-slate-600">"The voices that answer and place your calls."</p>
            </div>
            <a
                href="/agents/new"
                class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500"
            >
                "New agent"
            </a>
        </div>
        <Suspense fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading…"</p> }>
            {move || {
                agents
                    .get()
                    .map(|result| match result {
                        Ok(list) if list.is_empty() => view! { <Empty /> }.into_any(),
                        Ok(list) => view! { <AgentList list /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn Empty() -> impl IntoView {
    view! {
        <div class="mt-8 rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
            <p class="text-sm text-slate-600">"No agents yet."</p>
            <a href="/agents/new" class="mt-3 inline-block text-sm font-medium text-indigo-600 hover:text-indigo-500">
                "Create your first agent"
            </a>
        </div>
    }
}

#[component]
fn AgentList(list: Vec<AgentListItem>) -> impl IntoView {
    view! {
        <ul class="mt-8 divide-y divide-slate-200 overflow-hidden rounded-xl border border-slate-200 bg-white shadow-sm" aria-label="Agents">
            {list.into_iter().map(|agent| view! { <Row agent /> }).collect_view()}
        </ul>
    }
}

#[component]
fn Row(agent: AgentListItem) -> impl IntoView {
    let href = format!("/agents/{}", agent.id);
    let active = agent.status == "active";
    let numbers = match agent.numbers {
        0 => "no number".to_owned(),
        1 => "1 number".to_owned(),
        n => format!("{n} numbers"),
    };
    view! {
        <li class="relative px-4 py-4 hover:bg-slate-50 sm:px-6">
            <div class="flex flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
                <div class="min-w-0">
                    <div class="flex items-center gap-2">
                        <a href=href class="truncate font-semibold text-slate-900 hover:text-indigo-600">
                            <span class="absolute inset-0" aria-hidden="true"></span>
                            {agent.name}
                        </a>
                        <span class=if active {
                            "rounded-full bg-green-50 px-2 py-0.5 text-xs font-medium text-green-700 ring-1 ring-green-600/20"
                        } else {
                            "rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium text-slate-600 ring-1 ring-slate-500/20"
                        }>{if active { "Active" } else { "Paused" }}</span>
                    </div>
                    <p class="mt-1 line-clamp-2 text-sm text-slate-600">{agent.description}</p>
                </div>
                <p class="shrink-0 text-xs text-slate-500 sm:text-right">
                    {format!("{} · {} · prompt v{} · {}", agent.voice, agent.model, agent.prompt_version, numbers)}
                    <br />
                    {format!("Changed {}", short_time(&agent.updated_at))}
                </p>
            </div>
        </li>
    }
}
