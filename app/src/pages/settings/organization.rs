//! The organization's name.

use leptos::prelude::*;

use super::{Card, INPUT, PRIMARY_BUTTON, action_errors};
use crate::api::settings::RenameOrg;
use crate::components::form::FormError;

/// The rename form (or just the name, for viewers).
#[component]
pub fn Organization(org_name: String, can_write: bool) -> impl IntoView {
    let rename = ServerAction::<RenameOrg>::new();
    let (field, form) = action_errors(rename.value());
    let error = field("org_name");
    let saved = move || matches!(rename.value().get(), Some(Ok(())));
    let body = if can_write {
        view! {
            <ActionForm action=rename>
                <div class="space-y-3">
                    <FormError message=form />
                    <div>
                        <label for="field-org_name" class="block text-sm font-medium text-slate-700">"Organization name"</label>
                        <div class="flex flex-col gap-2 sm:flex-row sm:items-start">
                            <input
                                id="field-org_name"
                                name="org_name"
                                type="text"
                                required=true
                                maxlength="200"
                                value=org_name
                                aria-invalid=move || error.get().is_some().to_string()
                                aria-describedby="field-org_name-error"
                                class=format!("{INPUT} sm:max-w-md")
                            />
                            <button type="submit" class=format!("{PRIMARY_BUTTON} mt-1 shrink-0") disabled=move || rename.pending().get()>
                                {move || if rename.pending().get() { "Saving…" } else { "Save name" }}
                            </button>
                        </div>
                        <p id="field-org_name-error" class="mt-1 min-h-5 text-sm text-red-600" role="alert">{move || error.get()}</p>
                        <Show when=saved>
                            <p role="status" class="text-sm text-emerald-700">"Saved. The new name shows everywhere from the next page load."</p>
                        </Show>
                    </div>
                </div>
            </ActionForm>
        }
        .into_any()
    } else {
        view! { <p class="text-sm font-medium text-slate-900">{org_name}</p> }.into_any()
    };
    view! {
        <Card title="Organization" lead="The name your team sees on every page.">
            {body}
        </Card>
    }
}
