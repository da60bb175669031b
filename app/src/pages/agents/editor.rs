//! `/agents/new` and `/agents/:id`: the agent editor.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::fields::{Choice, Group, Input, TextArea, Toggle};
use super::{LoadError, field_error, form_error, last_error, short_time};
use crate::api::agents::{CreateAgent, DeleteAgent, UpdateAgent, get_agent, new_agent_form};
use crate::components::form::FormError;
use crate::dto::agents::{AgentEditor, AgentForm, MODELS, VOICES};
use crate::error::AppError;

const TOOLS_HINT: &str = "A JSON list of tools the agent may call, each {\"name\", \"description\", \"parameters\": a JSON Schema of an object, \"webhook_url\" (optional)}. Arguments are checked against the schema before anything runs.";
const TOOLS_EXAMPLE: &str = r#"[
  {
    "name": "book_table",
    "description": "Book a table once you know the day, time and party size.",
    "parameters": {
      "type": "object",
      "properties": {
        "day": {"type": "string", "format": "date"},
        "guests": {"type": "integer", "minimum": 1}
      },
      "required": ["day", "guests"]
    },
    "webhook_url": "https://example.com/hooks/book"
  }
]"#;
const OUTCOME_HINT: &str = "JSON Schema of the outcome extracted from each call's transcript (an object). Empty: resolved / follow-up.";

/// `/agents/new`
#[component]
pub fn NewAgentPage() -> impl IntoView {
    let action = ServerAction::<CreateAgent>::new();
    let last = last_error(action);
    let start = Resource::new(|| (), |_| new_agent_form());
    view! {
        <Title text="New agent" />
        <Header title="New agent".to_owned() />
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading…"</p> }>
            {move || {
                start
                    .get()
                    .map(|result| {
                        let form = result.unwrap_or_else(|_| AgentForm::new_agent());
                        view! {
                            <ActionForm action=action attr:class="mt-6 space-y-6" attr:aria-label="Agent">
                                <FormError message=form_error(last) />
                                <Fields form last />
                                <div class="sticky bottom-0 -mx-4 flex items-center gap-4 border-t border-slate-200 bg-slate-50/95 px-4 py-3 md:mx-0 md:rounded-xl md:border">
                                    <SaveButton label="Create agent" pending=action.pending() />
                                    <a href="/agents" class="text-sm font-medium text-slate-600 hover:text-slate-900">"Cancel"</a>
                                </div>
                            </ActionForm>
                        }
                    })
            }}
        </Suspense>
    }
}

/// `/agents/:id`
#[component]
pub fn EditAgentPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let agent = Resource::new(id, get_agent);
    view! {
        <Title text="Agent" />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || {
                agent
                    .get()
                    .map(|result| match result {
                        Ok(editor) => view! { <Editor editor /> }.into_any(),
                        Err(error) => view! { <LoadError error /> }.into_any(),
                    })
            }}
        </Suspense>
    }
}

#[component]
fn Editor(editor: AgentEditor) -> impl IntoView {
    let action = ServerAction::<UpdateAgent>::new();
    let last = last_error(action);
    let saved = action.value();
    let first_version = editor.prompt_version;
    let version = Signal::derive(move || {
        saved
            .get()
            .and_then(Result::ok)
            .map_or(first_version, |s| s.prompt_version)
    });
    let notice = move || {
        saved.get().and_then(Result::ok).map(|s| {
            if s.new_version {
                format!("Saved. The prompt is now version {}.", s.prompt_version)
            } else {
                "Saved.".to_owned()
            }
        })
    };
    let id = editor.id.clone();
    let delete_id = editor.id.clone();
    let history = format!("/agents/{}/versions", editor.id);
    view! {
        <Title text=editor.form.name.clone() />
        <Header title=editor.form.name.clone() />
        <div class="mt-2 flex flex-wrap items-center gap-x-4 gap-y-1 text-sm text-slate-600">
            <span>"Last changed " {short_time(&editor.updated_at)}</span>
            <a href=history class="font-medium text-indigo-600 hover:text-indigo-500">
                {move || format!("Prompt history (version {})", version.get())}
            </a>
        </div>
        <ActionForm action=action attr:class="mt-6 space-y-6" attr:aria-label="Agent">
            <input type="hidden" name="id" value=id />
            <FormError message=form_error(last) />
            <Fields form=editor.form last />
            <div class="sticky bottom-0 -mx-4 flex flex-wrap items-center gap-4 border-t border-slate-200 bg-slate-50/95 px-4 py-3 md:mx-0 md:rounded-xl md:border">
                <SaveButton label="Save changes" pending=action.pending() />
                <p role="status" class="text-sm font-medium text-green-700">{notice}</p>
            </div>
        </ActionForm>
        <DeleteAgentForm id=delete_id />
    }
}

#[component]
fn Header(title: String) -> impl IntoView {
    view! {
        <nav aria-label="Breadcrumb" class="text-sm">
            <a href="/agents" class="font-medium text-indigo-600 hover:text-indigo-500">"Agents"</a>
            <span class="text-slate-400">" / "</span>
        </nav>
        <h1 class="mt-1 break-words text-2xl font-semibold tracking-tight">{title}</h1>
    }
}

#[component]
fn SaveButton(label: &'static str, #[prop(into)] pending: Signal<bool>) -> impl IntoView {
    view! {
        <button
            type="submit"
            disabled=move || pending.get()
            class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
        >
            {move || if pending.get() { "Saving…" } else { label }}
        </button>
    }
}

/// Every setting, grouped as the issue lists them.
#[component]
fn Fields(form: AgentForm, last: Signal<Option<AppError>>) -> impl IntoView {
    let error = move |name: &'static str| field_error(last, name);
    let voices = VOICES.iter().map(|v| (*v, *v)).collect::<Vec<_>>();
    let models = MODELS.iter().map(|m| (*m, *m)).collect::<Vec<_>>();
    view! {
        <Group title="Basics">
            <Input name="name" label="Name" value=form.name required=true error=error("name") placeholder="Front desk" />
            <TextArea name="description" label="Description" value=form.description rows=2 error=error("description")
                hint="What the agent is for. It also picks the knowledge every call starts with." />
            <Choice name="status" label="Status" value=form.status error=error("status")
                options=vec![("active", "Active: answers and places calls"), ("paused", "Paused: takes no calls")] />
        </Group>
        <Group title="Prompt and greeting" lead="Every save that changes these is kept as a version you can compare and restore.">
            <TextArea name="system_prompt" label="System prompt" value=form.system_prompt rows=14 counted=true
                error=error("system_prompt") placeholder="You are the front desk of …" />
            <Input name="greeting" label="Greeting" value=form.greeting error=error("greeting")
                placeholder="Hello! Thanks for calling Acme. How can I help?" hint="Empty: a generic hello." />
            <Choice name="first_speaker" label="Who speaks first" value=form.first_speaker error=error("first_speaker")
                options=vec![("agent", "The agent greets the caller"), ("caller", "The agent waits for the caller")] />
            <div class="grid gap-x-6 lg:grid-cols-2">
                <TextArea name="inbound_prompt" label="Inbound calls: extra instructions" value=form.inbound_prompt rows=4
                    error=error("inbound_prompt") />
                <TextArea name="outbound_prompt" label="Outbound calls: extra instructions" value=form.outbound_prompt rows=4
                    error=error("outbound_prompt") />
            </div>
        </Group>
        <Group title="Voice">
            <div class="grid gap-x-6 sm:grid-cols-2">
                <Choice name="voice" label="Voice" value=form.voice options=voices error=error("voice") />
                <Choice name="model" label="Model" value=form.model options=models error=error("model") />
                <Input name="language" label="Language" value=form.language error=error("language")
                    hint="Two-letter code of the callers' language (en, es, fr…)." />
                <Choice name="vad_mode" label="Turn detection" value=form.vad_mode error=error("vad_mode")
                    options=vec![("server_vad", "Silence (server VAD)"), ("semantic_vad", "Meaning (semantic VAD)")] />
                <Choice name="audio_format" label="Audio to the model" value=form.audio_format error=error("audio_format")
                    options=vec![("pcmu", "μ-law 8 kHz, as the phone sends it"), ("pcm16", "PCM 24 kHz (resampled)")] />
            </div>
        </Group>
        <Group title="Tools" lead="What the agent may do during a call.">
            <div class="space-y-3 pb-2">
                <Toggle name="knowledge_search" label="Search the knowledge base" checked=form.knowledge_search.is_some()
                    hint="Looks up your documents when a caller asks something." />
                <Toggle name="end_call" label="End the call" checked=form.end_call.is_some()
                    hint="Hangs up after saying goodbye." />
                <Toggle name="transfer" label="Transfer to a person" checked=form.transfer.is_some() />
            </div>
            <Input name="transfer_number" label="Transfer number" value=form.transfer_number kind="tel" error=error("transfer_number")
                placeholder="+14155550123" hint="International format (E.164). Used when transfers are on." />
            <TextArea name="tools" label="Business tools (JSON)" value=form.tools rows=12 code=true error=error("tools")
                hint=TOOLS_HINT placeholder=TOOLS_EXAMPLE />
            <TextArea name="outcome_schema" label="Outcome schema (JSON Schema)" value=form.outcome_schema rows=8 code=true
                error=error("outcome_schema") hint=OUTCOME_HINT
                placeholder=r#"{"type": "object", "properties": {"booked": {"type": "boolean"}}}"# />
        </Group>
        <Group title="Call behaviour">
            <div class="grid gap-x-6 sm:grid-cols-3">
                <Input name="max_duration_secs" label="Longest call (seconds)" value=form.max_duration_secs kind="number"
                    error=error("max_duration_secs") hint="30 to 14400." />
                <Input name="silence_reprompt_secs" label="Re-prompt after silence (seconds)" value=form.silence_reprompt_secs
                    kind="number" error=error("silence_reprompt_secs") hint="2 to 120." />
                <Input name="silence_max_reprompts" label="Re-prompts before hanging up" value=form.silence_max_reprompts
                    kind="number" error=error("silence_max_reprompts") hint="0 to 10." />
            </div>
            <div class="space-y-3">
                <Toggle name="ai_disclosure" label="Tell callers they are talking to an AI" checked=form.ai_disclosure.is_some() />
                <Toggle name="record_calls" label="Record calls" checked=form.record_calls.is_some() />
            </div>
        </Group>
        <Group title="Knowledge" lead="Leave empty to use the organization's defaults.">
            <div class="grid gap-x-6 sm:grid-cols-2">
                <Input name="rag_chunk_limit" label="Passages per search" value=form.rag_chunk_limit inputmode="numeric"
                    error=error("rag_chunk_limit") hint="1 to 50." />
                <Input name="rag_similarity_threshold" label="Lowest similarity" value=form.rag_similarity_threshold
                    inputmode="decimal" error=error("rag_similarity_threshold") hint="0 to 1, e.g. 0.7." />
            </div>
        </Group>
    }
}

/// Deleting sits behind a disclosure, so one stray click cannot do it (and it needs no script).
#[component]
fn DeleteAgentForm(id: String) -> impl IntoView {
    let action = ServerAction::<DeleteAgent>::new();
    let last = last_error(action);
    view! {
        <details class="mt-8 rounded-xl border border-red-200 bg-white p-4 sm:p-6">
            <summary class="cursor-pointer text-sm font-semibold text-red-700">"Delete this agent…"</summary>
            <p class="mt-2 text-sm text-slate-600">
                "Its prompt history and its own documents are deleted; its phone numbers stay, unassigned, and past calls are kept."
            </p>
            <ActionForm action=action attr:class="mt-3">
                <input type="hidden" name="id" value=id />
                <FormError message=form_error(last) />
                <button
                    type="submit"
                    class="mt-2 rounded-md bg-red-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-red-500 disabled:opacity-60"
                    disabled=move || action.pending().get()
                >
                    "Delete agent"
                </button>
            </ActionForm>
        </details>
    }
}
