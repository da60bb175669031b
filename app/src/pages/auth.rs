//! Log-in and sign-up pages. Both forms work before hydration (plain form posts).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::auth::{LogIn, SignUp};
use crate::components::form::{FormError, PasswordField, SubmitButton, TextField};
use crate::error::AppError;

/// Per-field and form-level messages for an action's last error.
fn errors(
    last: Signal<Option<AppError>>,
) -> (
    impl Fn(&'static str) -> Signal<Option<String>> + Copy,
    Signal<Option<String>>,
) {
    let field = move |name: &'static str| {
        Signal::derive(move || last.with(|e| e.as_ref().and_then(|e| e.for_field(name))))
    };
    let form = Signal::derive(move || last.with(|e| e.as_ref().and_then(AppError::form_message)));
    (field, form)
}

/// The last error of a server action, as a copyable signal.
macro_rules! last_error {
    ($action:expr) => {{
        let value = $action.value();
        Signal::derive(move || value.get().and_then(Result::err))
    }};
}

#[component]
fn AuthCard(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <main class="flex min-h-screen flex-col justify-center px-4 py-12">
            <div class="mx-auto w-full max-w-sm">
                <p class="text-center text-2xl font-bold tracking-tight text-indigo-600">"Switchboard"</p>
                <h1 class="mt-6 text-center text-xl font-semibold text-slate-900">{title}</h1>
                <div class="mt-8 rounded-xl border border-slate-200 bg-white p-6 shadow-sm">{children()}</div>
            </div>
        </main>
    }
}

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let (field, form) = errors(last_error!(action));
    let next = move || use_query_map().with(|q| q.get("next")).unwrap_or_default();
    view! {
        <Title text="Log in" />
        <AuthCard title="Log in to your account">
            <ActionForm action=action>
                <div class="space-y-4">
                    <FormError message=form />
                    <input type="hidden" name="next" value=next />
                    <TextField name="email" label="Email" kind="email" autocomplete="username" error=field("email") />
                    <PasswordField name="password" label="Password" autocomplete="current-password" error=field("password") />
                    <SubmitButton label="Log in" pending_label="Logging in…" pending=action.pending() />
                </div>
            </ActionForm>
            <p class="mt-6 text-center text-sm text-slate-600">
                "New here? " <a href="/signup" class="font-medium text-indigo-600 hover:text-indigo-500">"Create an account"</a>
            </p>
        </AuthCard>
    }
}

/// `/signup`
#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let (field, form) = errors(last_error!(action));
    view! {
        <Title text="Sign up" />
        <AuthCard title="Create your organization">
            <ActionForm action=action>
                <div class="space-y-4">
                    <FormError message=form />
                    <TextField name="org_name" label="Organization" autocomplete="organization" error=field("org_name") />
                    <TextField name="name" label="Your name" autocomplete="name" required=false error=field("name") />
                    <TextField name="email" label="Email" kind="email" autocomplete="email" error=field("email") />
                    <PasswordField name="password" label="Password (at least 10 characters)" autocomplete="new-password" error=field("password") />
                    <SubmitButton label="Create account" pending_label="Creating…" pending=action.pending() />
                </div>
            </ActionForm>
            <p class="mt-6 text-center text-sm text-slate-600">
                "Already have an account? " <a href="/login" class="font-medium text-indigo-600 hover:text-indigo-500">"Log in"</a>
            </p>
        </AuthCard>
    }
}
