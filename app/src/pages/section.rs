//! The sections whose pages are still to come, each with an empty state that
//! says what will live there, plus the not-found page.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
fn Section(title: &'static str, lead: &'static str, empty: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
        <p class="mt-1 text-sm text-slate-600">{lead}</p>
        <div class="mt-8 rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
            <p class="text-sm text-slate-600">{empty}</p>
        </div>
    }
}

/// `/agents`
#[component]
pub fn AgentsPage() -> impl IntoView {
    view! { <Section title="Agents" lead="The voices that answer and place your calls." empty="No agents yet." /> }
}

/// `/knowledge`
#[component]
pub fn KnowledgePage() -> impl IntoView {
    view! { <Section title="Knowledge" lead="Documents your agents answer from." empty="No documents yet." /> }
}

/// `/numbers`
#[component]
pub fn NumbersPage() -> impl IntoView {
    view! { <Section title="Numbers" lead="Your Twilio numbers and the agents that answer them." empty="No numbers assigned yet." /> }
}

/// `/calls`
#[component]
pub fn CallsPage() -> impl IntoView {
    view! { <Section title="Calls" lead="Every call with its transcript, summary and outcome." empty="No calls yet." /> }
}

/// `/live`
#[component]
pub fn LivePage() -> impl IntoView {
    view! { <Section title="Live" lead="Calls in progress, with transcripts as they are spoken." empty="No calls in progress." /> }
}

/// `/settings`
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <Section title="Settings" lead="Your organization, members, API keys and webhooks." empty="Settings are on their way." /> }
}

/// Any path no route matches.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found" />
        <main class="mx-auto max-w-md px-4 py-24 text-center">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-sm text-slate-600">"There is nothing at this address."</p>
            <a href="/" class="mt-6 inline-block text-sm font-medium text-indigo-600">"Go to the dashboard"</a>
        </main>
    }
}
