//! The form that places an outbound call from an agent. It posts without JavaScript too
//! (`ActionForm`); on success the server opens the new call's page.

use leptos::prelude::*;

use crate::api::calls::PlaceCall;
use crate::components::form::{FormError, INPUT, SubmitButton, TextField};
use crate::dto::calls::AgentChoice;

/// "Place a call": agent, number, button; errors next to their field.
#[component]
pub fn PlaceCallForm(agents: Vec<AgentChoice>) -> impl IntoView {
    let action = ServerAction::<PlaceCall>::new();
    let last = action.value();
    let error = move || last.get().and_then(Result::err);
    let field =
        move |name: &'static str| Signal::derive(move || error().and_then(|e| e.for_field(name)));
    let form = Signal::derive(move || error().and_then(|e| e.form_message()));
    let agent_error = field("agent_id");
    let callable = agents.iter().any(|a| a.can_call);
    view! {
        <section aria-labelledby="place-call-title" class="h-fit rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
            <h2 id="place-call-title" class="font-semibold">"Place a call"</h2>
            <p class="mt-1 text-sm text-slate-600">"An agent calls the number from its own phone number."</p>
            <ActionForm action=action attr:class="mt-4 block">
                <div class="space-y-3">
                    <FormError message=form />
                    <div>
                        <label for="field-agent_id" class="block text-sm font-medium text-slate-700">"Agent"</label>
                        <select
                            id="field-agent_id"
                            name="agent_id"
                            aria-invalid=move || agent_error.get().is_some().to_string()
                            aria-describedby="field-agent_id-error"
                            class=INPUT
                        >
                            <option value="">"Choose an agent"</option>
                            {agents
                                .into_iter()
                                .map(|a| {
                                    let label = if a.can_call { a.name } else { format!("{} (no number or paused)", a.name) };
                                    view! { <option value=a.id>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                        <p id="field-agent_id-error" class="mt-1 min-h-5 text-sm text-red-600" role="alert">
                            {move || agent_error.get()}
                        </p>
                    </div>
                    <TextField name="to" label="Number to call" kind="tel" autocomplete="tel" error=field("to") />
                    <SubmitButton label="Call now" pending_label="Calling…" pending=action.pending() />
                    {(!callable).then(|| view! {
                        <p class="text-xs text-slate-500">"To place calls, give an active agent a phone number on the Numbers page."</p>
                    })}
                </div>
            </ActionForm>
        </section>
    }
}
