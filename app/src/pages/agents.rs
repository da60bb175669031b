//! `/agents` — the voices that answer and place your calls.

use leptos::prelude::*;

use crate::pages::section::Section;

/// `/agents`
#[component]
pub fn AgentsPage() -> impl IntoView {
    view! { <Section title="Agents" lead="The voices that answer and place your calls." empty="No agents yet." /> }
}
