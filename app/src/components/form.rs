//! Form fields with their labels and errors next to them.

use leptos::prelude::*;

/// Classes of every text input, textarea and select: one look across the dashboard.
pub const INPUT: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 aria-[invalid=true]:border-red-500";

/// A labelled text input whose error (if any) is shown under it.
#[component]
pub fn TextField(
    /// The form field name (also the server function argument).
    name: &'static str,
    /// The visible label.
    label: &'static str,
    /// `text`, `email`, ...
    #[prop(default = "text")]
    kind: &'static str,
    /// The browser's autocomplete hint.
    #[prop(default = "off")]
    autocomplete: &'static str,
    /// Whether the field is required.
    #[prop(default = true)]
    required: bool,
    /// The error for this field, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <input
                id=id
                name=name
                type=kind
                autocomplete=autocomplete
                required=required
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                class=INPUT
            />
            <p id=error_id class="mt-1 min-h-5 text-sm text-red-600" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A password input with a show/hide toggle (the toggle needs the page to be hydrated).
#[component]
pub fn PasswordField(
    /// The form field name.
    name: &'static str,
    /// The visible label.
    label: &'static str,
    /// `current-password` or `new-password`.
    autocomplete: &'static str,
    /// The error for this field, if any.
    #[prop(into)]
    error: Signal<Option<String>>,
) -> impl IntoView {
    let (visible, set_visible) = signal(false);
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <div class="relative mt-1">
                <input
                    id=id
                    name=name
                    type=move || if visible.get() { "text" } else { "password" }
                    autocomplete=autocomplete
                    required=true
                    aria-invalid=move || error.get().is_some().to_string()
                    aria-describedby=error_id.clone()
                    class="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 pr-20 text-sm shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 aria-[invalid=true]:border-red-500"
                />
                <button
                    type="button"
                    class="absolute inset-y-0 right-0 px-3 text-xs font-medium text-indigo-600 hover:text-indigo-800"
                    aria-pressed=move || visible.get().to_string()
                    on:click=move |_| set_visible.update(|v| *v = !*v)
                >
                    {move || if visible.get() { "Hide" } else { "Show" }}
                </button>
            </div>
            <p id=error_id class="mt-1 min-h-5 text-sm text-red-600" role="alert">
                {move || error.get()}
            </p>
        </div>
    }
}

/// A banner for errors that are not about one field.
#[component]
pub fn FormError(
    /// The message, if any.
    #[prop(into)]
    message: Signal<Option<String>>,
) -> impl IntoView {
    view! {
        <Show when=move || message.get().is_some()>
            <div role="alert" class="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
                {move || message.get()}
            </div>
        </Show>
    }
}

/// The primary submit button; disabled and relabelled while the action runs.
#[component]
pub fn SubmitButton(
    /// The label.
    label: &'static str,
    /// The label while pending.
    pending_label: &'static str,
    /// Whether the action is running.
    #[prop(into)]
    pending: Signal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class="flex w-full justify-center rounded-md bg-indigo-600 px-3 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
        >
            {move || if pending.get() { pending_label } else { label }}
        </button>
    }
}
