//! Paste text as a document: a plain form (`knowledge/paste`), so it works before hydration.

use leptos::html;
use leptos::prelude::*;

use super::{Agents, ScopeSelect};
use crate::api::knowledge::AddTextDocument;
use crate::components::form::{FormError, INPUT, SubmitButton, TextField};
use crate::error::AppError;

/// The paste form; cleared once the text is accepted, kept as typed when it is refused.
#[component]
pub(super) fn PasteText(action: ServerAction<AddTextDocument>, agents: Agents) -> impl IntoView {
    let value = action.value();
    let last_error = Signal::derive(move || value.get().and_then(Result::err));
    let field = move |name: &'static str| {
        Signal::derive(move || last_error.with(|e| e.as_ref().and_then(|e| e.for_field(name))))
    };
    let form_message =
        Signal::derive(move || last_error.with(|e| e.as_ref().and_then(AppError::form_message)));
    let text_error = field("text");
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        if value.with(|v| matches!(v, Some(Ok(_))))
            && let Some(form) = form.get()
        {
            form.reset();
        }
    });
    view! {
        <section aria-labelledby="paste-heading" class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
            <h2 id="paste-heading" class="text-lg font-semibold">"Paste text"</h2>
            <p class="mt-1 text-sm text-slate-600">"Opening hours, prices, policies — anything callers ask about."</p>
            <ActionForm action node_ref=form attr:class="mt-4 space-y-3">
                <FormError message=form_message />
                <TextField name="title" label="Title" error=field("title") />
                <div>
                    <label for="field-text" class="block text-sm font-medium text-slate-700">"Text"</label>
                    <textarea
                        id="field-text"
                        name="text"
                        rows="5"
                        required=true
                        aria-invalid=move || text_error.get().is_some().to_string()
                        aria-describedby="field-text-error"
                        class=INPUT
                    ></textarea>
                    <p id="field-text-error" class="mt-1 min-h-5 text-sm text-red-600" role="alert">
                        {move || text_error.get()}
                    </p>
                </div>
                <ScopeSelect id="paste-scope" name="agent_id" label="Who may use it" agents error=field("agent_id") />
                <SubmitButton label="Add text" pending_label="Adding…" pending=action.pending() />
            </ActionForm>
        </section>
    }
}
