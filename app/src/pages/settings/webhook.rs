//! The post-call webhook endpoint: a URL and the secret that signs each delivery.

use leptos::prelude::*;

use super::{Card, DANGER_BUTTON, PRIMARY_BUTTON, ShownOnce, action_errors};
use crate::api::settings::{DeleteWebhook, SaveWebhook, load_settings};
use crate::components::form::{FormError, TextField};

/// The webhook card.
#[component]
pub fn Webhook(can_write: bool) -> impl IntoView {
    let save = ServerAction::<SaveWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let current = Resource::new(
        move || (save.version().get(), delete.version().get()),
        |_| async { load_settings().await.map(|s| s.webhook) },
    );
    let (field, form) = action_errors(save.value());
    let (_, delete_error) = action_errors(delete.value());
    let secret = move || {
        save.value()
            .get()
            .and_then(Result::ok)
            .and_then(|saved| saved.new_secret)
    };

    view! {
        <Card title="Webhook" lead="We POST a signed call.ended event (call id, summary, outcome, duration, cost) to this address after every call.">
            <FormError message=delete_error />
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || {
                    current.get().map(|current| match current {
                        Ok(Some(webhook)) => view! {
                            <div class="mb-4 flex flex-col gap-2 rounded-md border border-slate-200 px-3 py-3 sm:flex-row sm:items-center sm:justify-between" data-testid="webhook">
                                <div class="min-w-0">
                                    <p class="break-words text-sm font-medium text-slate-900 sm:truncate">{webhook.url.clone()}</p>
                                    <p class="text-xs text-slate-500">
                                        {format!("Events: {} · secret ", webhook.events.join(", "))}
                                        <code class="font-mono">{webhook.secret_hint.clone()}</code>
                                    </p>
                                </div>
                                <Show when=move || can_write>
                                    <ActionForm action=delete>
                                        <button type="submit" class=DANGER_BUTTON>"Remove endpoint"</button>
                                    </ActionForm>
                                </Show>
                            </div>
                        }
                        .into_any(),
                        Ok(None) => view! { <p class="mb-4 text-sm text-slate-600">"No endpoint yet."</p> }.into_any(),
                        Err(e) => view! { <p role="alert" class="mb-4 text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
            <Show when=move || can_write>
                <ActionForm action=save>
                    <div class="space-y-1">
                        <FormError message=form />
                        <TextField name="url" label="Endpoint URL" kind="url" error=field("url") />
                        <TextField name="secret" label="Signing secret (optional)" required=false error=field("secret") />
                        <p class="-mt-4 mb-3 text-xs text-slate-500">
                            "Leave it empty to keep the current secret, or to have one generated for a new endpoint."
                        </p>
                        <label class="flex items-center gap-2 text-sm text-slate-700">
                            <input type="checkbox" name="regenerate" value="on" class="h-4 w-4 rounded border-slate-300" />
                            "Generate a new secret"
                        </label>
                        <div class="pt-3">
                            <button type="submit" class=PRIMARY_BUTTON disabled=move || save.pending().get()>
                                {move || if save.pending().get() { "Saving…" } else { "Save endpoint" }}
                            </button>
                        </div>
                    </div>
                </ActionForm>
                {move || secret().map(|secret| view! {
                    <div class="mt-3">
                        <ShownOnce label="Signing secret" value=secret hint="Each delivery carries X-Switchboard-Signature, an HMAC-SHA256 of the body with this secret. It is shown only now." />
                    </div>
                })}
            </Show>
        </Card>
    }
}
