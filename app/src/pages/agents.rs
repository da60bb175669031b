//! `/agents` and its pages: the list, the editor (new and existing agents) and the prompt
//! history with its diffs. Every form is an `ActionForm`, so it works before hydration; field
//! errors sit next to their field, and the fields keep what was typed when a save is refused.

pub mod editor;
pub mod fields;
pub mod list;
pub mod versions;

pub use editor::{EditAgentPage, NewAgentPage};
pub use list::AgentsPage;
pub use versions::AgentVersionsPage;

use leptos::prelude::*;

use crate::error::AppError;

/// The message for one field, from an action's last error.
fn field_error(last: Signal<Option<AppError>>, name: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || last.with(|e| e.as_ref().and_then(|e| e.for_field(name))))
}

/// The message to show above a form, from an action's last error.
fn form_error(last: Signal<Option<AppError>>) -> Signal<Option<String>> {
    Signal::derive(move || last.with(|e| e.as_ref().and_then(AppError::form_message)))
}

/// An action's last error, as a copyable signal.
fn last_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let value = action.value();
    Signal::derive(move || value.get().and_then(Result::err))
}

/// A date-time from the server (RFC 3339) as `2026-11-21 07:38` (UTC).
fn short_time(rfc3339: &str) -> String {
    let date = rfc3339.get(..10).unwrap_or(rfc3339);
    match rfc3339.get(11..16) {
        Some(clock) => format!("{date} {clock} UTC"),
        None => date.to_owned(),
    }
}

/// The box a page shows while its data loads or when loading failed.
#[component]
fn LoadError(error: AppError) -> impl IntoView {
    view! {
        <div role="alert" class="mt-6 rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-700">
            {match error {
                AppError::NotFound => "This agent does not exist in your organization.".to_owned(),
                other => other.to_string(),
            }}
            " " <a href="/agents" class="font-medium underline">"Back to agents"</a>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::short_time;

    #[test]
    fn times_are_shown_to_the_minute() {
        assert_eq!(
            short_time("2026-11-21T07:38:39.123Z"),
            "2026-11-21 07:38 UTC"
        );
        assert_eq!(short_time("bad"), "bad");
    }
}
