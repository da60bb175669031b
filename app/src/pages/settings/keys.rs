//! API keys: create one with a name (its secret is shown once), see when each was last used,
//! revoke.

use leptos::html;
use leptos::prelude::*;

use super::{Card, DANGER_BUTTON, PRIMARY_BUTTON, ShownOnce, action_errors, short_time};
use crate::api::keys::{CreateApiKey, RevokeApiKey, list_api_keys};
use crate::components::form::{FormError, TextField};
use crate::dto::ApiKeyView;

/// The API keys card.
#[component]
pub fn ApiKeys(can_write: bool) -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let (field, form) = action_errors(create.value());
    let (_, revoke_error) = action_errors(revoke.value());
    let secret = move || {
        create
            .value()
            .get()
            .and_then(Result::ok)
            .map(|new| new.secret)
    };

    // A created key empties the name field, ready for the next; a refused one keeps it.
    let form_ref = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        if create.value().with(|v| matches!(v, Some(Ok(_))))
            && let Some(form) = form_ref.get()
        {
            form.reset();
        }
    });

    view! {
        <Card title="API keys" lead="For your own systems: send Authorization: Bearer <key> to the REST API.">
            <Show when=move || can_write>
                <ActionForm action=create node_ref=form_ref>
                    <div class="grid gap-x-3 sm:grid-cols-[1fr_auto] sm:items-start">
                        <div class="sm:col-span-2"><FormError message=form /></div>
                        <TextField name="name" label="Key name" error=field("name") />
                        <button type="submit" class=format!("{PRIMARY_BUTTON} sm:mt-6") disabled=move || create.pending().get()>
                            {move || if create.pending().get() { "Creating…" } else { "Create key" }}
                        </button>
                    </div>
                </ActionForm>
                {move || secret().map(|secret| view! {
                    <div class="mb-4">
                        <ShownOnce label="Your new API key" value=secret hint="Copy it now and keep it somewhere safe: it cannot be shown again." />
                    </div>
                })}
            </Show>
            <FormError message=revoke_error />
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading keys…"</p> }>
                {move || {
                    keys.get().map(|keys| match keys {
                        Ok(keys) if keys.is_empty() => view! { <p class="text-sm text-slate-600">"No API keys yet."</p> }.into_any(),
                        Ok(keys) => view! {
                            <ul class="mt-2 divide-y divide-slate-200 rounded-md border border-slate-200" aria-label="API keys">
                                {keys.into_iter().map(|key| view! { <KeyRow key can_write revoke /> }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                        Err(e) => view! { <p role="alert" class="text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
        </Card>
    }
}

#[component]
fn KeyRow(key: ApiKeyView, can_write: bool, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let used = key.last_used_at.as_deref().map_or_else(
        || "never used".to_owned(),
        |t| format!("last used {}", short_time(t)),
    );
    let revoked = key.revoked_at.as_deref().map(short_time);
    let active = revoked.is_none();
    view! {
        <li class="flex flex-col gap-2 px-3 py-3 sm:flex-row sm:items-center sm:justify-between" data-testid="api-key">
            <div class="min-w-0">
                <p class="truncate text-sm font-medium text-slate-900">{key.name.clone()}</p>
                <p class="text-xs text-slate-500 sm:truncate">
                    <code class="font-mono">{format!("{}…", key.prefix)}</code>
                    {format!(" · created {} · {used}", short_time(&key.created_at))}
                </p>
            </div>
            {match revoked {
                Some(at) => view! { <span class="w-fit rounded-full bg-slate-100 px-2.5 py-0.5 text-xs font-medium text-slate-600">{format!("Revoked {at}")}</span> }.into_any(),
                None if can_write && active => view! {
                    <ActionForm action=revoke>
                        <input type="hidden" name="id" value=key.id.clone() />
                        <button type="submit" class=DANGER_BUTTON aria-label=format!("Revoke {}", key.name)>"Revoke"</button>
                    </ActionForm>
                }
                .into_any(),
                None => view! { <span class="w-fit rounded-full bg-emerald-50 px-2.5 py-0.5 text-xs font-medium text-emerald-700">"Active"</span> }.into_any(),
            }}
        </li>
    }
}
