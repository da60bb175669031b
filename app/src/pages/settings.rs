//! `/settings` — your organization, members, API keys and the post-call webhook.
//!
//! Every form is an `ActionForm`, so it works before hydration; lists refetch after each action.
//! Forms with typed text sit outside the refetching parts, so a refused submission keeps what
//! was typed. Viewers see everything but no forms: the server refuses their writes anyway.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::dto::UserView;
use crate::error::AppError;

pub mod keys;
pub mod members;
pub mod organization;
pub mod webhook;

/// `/settings`
#[component]
pub fn SettingsPage() -> impl IntoView {
    // The signed-in user from the dashboard frame: decides which forms to show, and never
    // changes while the page is open, so forms are never rebuilt.
    let Some(me) = use_context::<UserView>() else {
        return view! { <p class="mt-8 text-sm text-slate-600">"Please log in."</p> }.into_any();
    };
    let can_write = me.role != "viewer";
    view! {
        <Title text="Settings" />
        <h1 class="text-2xl font-semibold tracking-tight">"Settings"</h1>
        <p class="mt-1 text-sm text-slate-600">"Your organization, members, API keys and webhooks."</p>
        <Show when=move || !can_write>
            <p class="mt-6 rounded-md border border-slate-200 bg-slate-100 px-3 py-2 text-sm text-slate-700">
                "You are a viewer: you can see these settings, but only owners and admins can change them."
            </p>
        </Show>
        <div class="mt-8 space-y-8">
            <organization::Organization org_name=me.org_name.clone() can_write />
            <members::Members can_write is_owner=me.role == "owner" />
            <keys::ApiKeys can_write />
            <webhook::Webhook can_write />
        </div>
    }
    .into_any()
}

/// A settings card with its heading.
#[component]
pub(crate) fn Card(
    /// The heading.
    title: &'static str,
    /// One line under it.
    lead: &'static str,
    children: Children,
) -> impl IntoView {
    let id = format!("card-{}", title.to_lowercase().replace(' ', "-"));
    let labelled_by = id.clone();
    view! {
        <section aria-labelledby=labelled_by class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
            <h2 id=id class="text-lg font-semibold text-slate-900">{title}</h2>
            <p class="mt-1 text-sm text-slate-600">{lead}</p>
            <div class="mt-4">{children()}</div>
        </section>
    }
}

/// Per-field and form-level messages for an action's last error.
pub(crate) fn action_errors<T>(
    value: MappedSignal<Option<Result<T, AppError>>>,
) -> (
    impl Fn(&'static str) -> Signal<Option<String>> + Copy,
    Signal<Option<String>>,
)
where
    T: Send + Sync + 'static,
{
    let field = move |name: &'static str| {
        Signal::derive(move || {
            value.with(|v| match v {
                Some(Err(e)) => e.for_field(name),
                _ => None,
            })
        })
    };
    let form = Signal::derive(move || {
        value.with(|v| match v {
            Some(Err(e)) => e.form_message(),
            _ => None,
        })
    });
    (field, form)
}

/// `2026-11-21T07:38:44Z` → `2026-11-21 07:38 UTC`.
pub(crate) fn short_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) => format!("{day} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}

/// Classes of a small secondary button.
pub(crate) const SMALL_BUTTON: &str = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50 disabled:opacity-60";

/// Classes of a small destructive button.
pub(crate) const DANGER_BUTTON: &str = "rounded-md border border-red-200 bg-white px-3 py-1.5 text-sm font-medium text-red-700 shadow-sm hover:bg-red-50 disabled:opacity-60";

/// Classes of a primary button that does not fill its row.
pub(crate) const PRIMARY_BUTTON: &str = "rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60";

pub(crate) use crate::components::form::INPUT;

/// A value shown once (a key, a link, a secret), with a warning that it will not be shown again.
#[component]
pub(crate) fn ShownOnce(
    /// What it is, e.g. "Your new API key".
    label: &'static str,
    /// The value.
    value: String,
    /// What to do with it.
    hint: &'static str,
) -> impl IntoView {
    view! {
        <div role="status" class="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-3 text-sm text-emerald-900">
            <p class="font-medium">{label}</p>
            <code data-testid="shown-once" class="mt-2 block select-all break-all rounded bg-white px-2 py-1.5 font-mono text-xs text-slate-900 ring-1 ring-emerald-200">
                {value}
            </code>
            <p class="mt-2 text-xs text-emerald-800">{hint}</p>
        </div>
    }
}
