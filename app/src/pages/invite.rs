//! `/invite/{token}` — the one-time invitation page: the invitee sets a name and a password and
//! joins the organization. Public, like `/signup`; the form works before hydration.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::settings::{AcceptInvitation, show_invitation};
use crate::components::form::{FormError, PasswordField, SubmitButton, TextField};
use crate::pages::settings::action_errors;

/// `/invite/{token}`
#[component]
pub fn InvitePage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let invitation = Resource::new(token, show_invitation);
    let accept = ServerAction::<AcceptInvitation>::new();
    let (field, form) = action_errors(accept.value());
    view! {
        <Title text="Join your team" />
        <main class="flex min-h-screen flex-col justify-center px-4 py-12">
            <div class="mx-auto w-full max-w-sm">
                <p class="text-center text-2xl font-bold tracking-tight text-indigo-600">"Switchboard"</p>
                <Suspense fallback=|| view! { <p class="mt-6 text-center text-sm text-slate-500">"Loading…"</p> }>
                    {move || {
                        invitation.get().map(|invitation| match invitation {
                            Ok(info) => view! {
                                <h1 class="mt-6 text-center text-xl font-semibold text-slate-900">{format!("Join {}", info.org_name)}</h1>
                                <p class="mt-2 text-center text-sm text-slate-600">
                                    {format!("You are invited as {} with {}. Choose your name and password.", info.role, info.email)}
                                </p>
                                <div class="mt-8 rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
                                    <ActionForm action=accept>
                                        <div class="space-y-4">
                                            <FormError message=form />
                                            <input type="hidden" name="token" value=token />
                                            <TextField name="name" label="Your name" autocomplete="name" required=false error=field("name") />
                                            <PasswordField name="password" label="Password (at least 10 characters)" autocomplete="new-password" error=field("password") />
                                            <SubmitButton label="Join" pending_label="Joining…" pending=accept.pending() />
                                        </div>
                                    </ActionForm>
                                </div>
                            }
                            .into_any(),
                            Err(e) => view! {
                                <h1 class="mt-6 text-center text-xl font-semibold text-slate-900">"This link does not work"</h1>
                                <p role="alert" class="mt-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">{e.to_string()}</p>
                                <p class="mt-6 text-center text-sm text-slate-600">
                                    "Already a member? " <a href="/login" class="font-medium text-indigo-600 hover:text-indigo-500">"Log in"</a>
                                </p>
                            }
                            .into_any(),
                        })
                    }}
                </Suspense>
            </div>
        </main>
    }
}
