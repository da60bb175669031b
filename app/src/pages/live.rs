//! `/live` — calls in progress, with transcripts as they are spoken.

use leptos::prelude::*;

use crate::pages::section::Section;

/// `/live`
#[component]
pub fn LivePage() -> impl IntoView {
    view! { <Section title="Live" lead="Calls in progress, with transcripts as they are spoken." empty="No calls in progress." /> }
}
