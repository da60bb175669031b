//! `/knowledge` — documents your agents answer from.

use leptos::prelude::*;

use crate::pages::section::Section;

/// `/knowledge`
#[component]
pub fn KnowledgePage() -> impl IntoView {
    view! { <Section title="Knowledge" lead="Documents your agents answer from." empty="No documents yet." /> }
}
