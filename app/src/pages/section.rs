//! Pieces every page shares: the heading with an empty state, and the not-found page.

use leptos::prelude::*;
use leptos_meta::Title;

/// A page's heading and its empty state.
#[component]
pub fn Section(title: &'static str, lead: &'static str, empty: &'static str) -> impl IntoView {
    view! {
        <Title text=title />
        <h1 class="text-2xl font-semibold tracking-tight">{title}</h1>
        <p class="mt-1 text-sm text-slate-600">{lead}</p>
        <div class="mt-8 rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
            <p class="text-sm text-slate-600">{empty}</p>
        </div>
    }
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
