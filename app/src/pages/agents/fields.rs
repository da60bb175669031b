//! The editor's field components: each starts from a value (the saved setting), labels itself,
//! and shows its error under it. They are uncontrolled, so a refused save leaves what the person
//! typed in place.

use leptos::prelude::*;

use crate::components::form::INPUT;

/// The hint and error lines under a field.
#[component]
fn Help(id: String, hint: Option<&'static str>, error: Signal<Option<String>>) -> impl IntoView {
    view! {
        {hint.map(|hint| view! { <p class="mt-1 text-xs text-slate-500">{hint}</p> })}
        <p id=id class="mt-1 min-h-5 whitespace-pre-wrap break-words text-sm text-red-600" role="alert">
            {move || error.get()}
        </p>
    }
}

/// A one-line input.
#[component]
pub fn Input(
    name: &'static str,
    label: &'static str,
    value: String,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = false)] required: bool,
    #[prop(optional)] inputmode: &'static str,
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
                value=value
                placeholder=placeholder
                required=required
                inputmode=(!inputmode.is_empty()).then_some(inputmode)
                autocomplete="off"
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                class=INPUT
            />
            <Help id=error_id hint error />
        </div>
    }
}

/// A multi-line text; `counted` adds a live character count.
#[component]
pub fn TextArea(
    name: &'static str,
    label: &'static str,
    value: String,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(default = 4)] rows: u32,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(default = false)] counted: bool,
    #[prop(default = false)] code: bool,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let count_id = format!("{id}-count");
    let (chars, set_chars) = signal(value.chars().count());
    let class = if code {
        format!("{INPUT} font-mono text-xs leading-5")
    } else {
        format!("{INPUT} leading-6")
    };
    view! {
        <div>
            <div class="flex items-baseline justify-between gap-2">
                <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
                {counted
                    .then(|| {
                        view! {
                            <span id=count_id.clone() class="text-xs tabular-nums text-slate-500" aria-live="polite">
                                {move || format!("{} characters", chars.get())}
                            </span>
                        }
                    })}
            </div>
            <textarea
                id=id
                name=name
                rows=rows
                placeholder=placeholder
                spellcheck=(!code).to_string()
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                class=class
                on:input=move |ev| set_chars.set(event_target_value(&ev).chars().count())
            >
                {value}
            </textarea>
            <Help id=error_id hint error />
        </div>
    }
}

/// A drop-down of `(value, label)` options.
#[component]
pub fn Choice(
    name: &'static str,
    label: &'static str,
    value: String,
    options: Vec<(&'static str, &'static str)>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    view! {
        <div>
            <label for=id.clone() class="block text-sm font-medium text-slate-700">{label}</label>
            <select
                id=id
                name=name
                aria-invalid=move || error.get().is_some().to_string()
                aria-describedby=error_id.clone()
                class=INPUT
            >
                {options
                    .into_iter()
                    .map(|(option, text)| {
                        view! { <option value=option selected=option == value>{text}</option> }
                    })
                    .collect_view()}
            </select>
            <Help id=error_id hint error />
        </div>
    }
}

/// A checkbox with its label beside it.
#[component]
pub fn Toggle(
    name: &'static str,
    label: &'static str,
    checked: bool,
    #[prop(optional)] hint: Option<&'static str>,
) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div class="flex items-start gap-3">
            <input
                id=id.clone()
                name=name
                type="checkbox"
                checked=checked
                class="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500"
            />
            <div>
                <label for=id class="text-sm font-medium text-slate-700">{label}</label>
                {hint.map(|hint| view! { <p class="text-xs text-slate-500">{hint}</p> })}
            </div>
        </div>
    }
}

/// A titled card grouping related fields.
#[component]
pub fn Group(
    title: &'static str,
    #[prop(optional)] lead: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
            <h2 class="text-base font-semibold text-slate-900">{title}</h2>
            {(!lead.is_empty()).then(|| view! { <p class="mt-1 text-sm text-slate-600">{lead}</p> })}
            <div class="mt-4 space-y-2">{children()}</div>
        </section>
    }
}
