//! `/settings` — your organization, members, API keys and webhooks.

use leptos::prelude::*;

use crate::pages::section::Section;

/// `/settings`
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! { <Section title="Settings" lead="Your organization, members, API keys and webhooks." empty="Settings are on their way." /> }
}
