//! `/calls` — every call with its transcript, summary and outcome.

use leptos::prelude::*;

use crate::pages::section::Section;

/// `/calls`
#[component]
pub fn CallsPage() -> impl IntoView {
    view! { <Section title="Calls" lead="Every call with its transcript, summary and outcome." empty="No calls yet." /> }
}
