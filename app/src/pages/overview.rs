//! `/` — the overview. Until there are calls, it tells a new user what to do next.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::shell::SECTIONS;

/// The first steps, each linking to the section where it happens.
const FIRST_STEPS: [(&str, &str, &str); 3] = [
    (
        "/agents",
        "Create an agent",
        "Write its prompt and greeting, pick a voice and the tools it may use.",
    ),
    (
        "/numbers",
        "Assign a phone number",
        "Connect one of your Twilio numbers to the agent.",
    ),
    (
        "/calls",
        "Call it, or simulate a call",
        "Dial the number, or run `switchboard simulate` with a recording.",
    ),
];

/// `/`
#[component]
pub fn OverviewPage() -> impl IntoView {
    debug_assert!(SECTIONS.iter().all(|(_, label)| !label.is_empty()));
    view! {
        <Title text="Overview" />
        <h1 class="text-2xl font-semibold tracking-tight">"Overview"</h1>
        <p class="mt-1 text-sm text-slate-600">"Calls, durations and costs appear here once your agents start talking."</p>
        <ol class="mt-8 grid gap-4 lg:grid-cols-3">
            {FIRST_STEPS
                .into_iter()
                .enumerate()
                .map(|(i, (href, title, body))| {
                    view! {
                        <li class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                            <span class="inline-flex h-7 w-7 items-center justify-center rounded-full bg-indigo-600 text-sm font-semibold text-white">
                                {i + 1}
                            </span>
                            <h2 class="mt-3 font-semibold">
                                <a href=href class="hover:text-indigo-600">{title}</a>
                            </h2>
                            <p class="mt-1 text-sm text-slate-600">{body}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
