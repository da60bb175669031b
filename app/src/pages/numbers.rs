//! `/numbers` — your Twilio numbers and the agents that answer them.

use leptos::prelude::*;

use crate::pages::section::Section;

/// `/numbers`
#[component]
pub fn NumbersPage() -> impl IntoView {
    view! { <Section title="Numbers" lead="Your Twilio numbers and the agents that answer them." empty="No numbers assigned yet." /> }
}
