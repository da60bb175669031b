//! `/calls/:id` — one call: facts, summary, outcome, and the transcript with tool calls inline.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::calls::call_detail;
use crate::dto::calls::{
    CallDetailView, LineView, ToolCallView, TranscriptEntry, format_duration, format_offset,
    format_usd,
};
use crate::error::AppError;
use crate::pages::calls::StatusBadge;
use crate::pages::calls::local_time::LocalTime;

/// `/calls/:id`
#[component]
pub fn CallDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let call = Resource::new(move || id.get(), call_detail);
    view! {
        <Title text="Call" />
        <A href="/calls" attr:class="text-sm font-medium text-indigo-600 hover:text-indigo-500">"← All calls"</A>
        <Suspense fallback=|| view! { <p class="mt-6 text-sm text-slate-500">"Loading the call…"</p> }>
            {move || {
                call.get().map(|result| match result {
                    Ok(call) => view! { <Detail call /> }.into_any(),
                    Err(AppError::NotFound) => view! { <Missing /> }.into_any(),
                    Err(error) => {
                        view! {
                            <div role="alert" class="mt-6 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
                                {error.to_string()}
                            </div>
                        }
                        .into_any()
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Missing() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <h1 class="mt-4 text-2xl font-semibold tracking-tight">"Call not found"</h1>
        <p class="mt-1 text-sm text-slate-600">"There is no such call in your organization."</p>
    }
}

/// A label and its value in the facts grid.
#[component]
fn Fact(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div>
            <dt class="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
            <dd class="mt-1 text-sm text-slate-900">{children()}</dd>
        </div>
    }
}

#[component]
fn Detail(call: CallDetailView) -> impl IntoView {
    let (counterpart, heading) = if call.direction == "outbound" {
        (call.to_number.clone(), "Call to")
    } else {
        (call.from_number.clone(), "Call from")
    };
    let agent = call
        .agent_name
        .clone()
        .unwrap_or_else(|| "Deleted agent".to_owned());
    let duration = call
        .duration_secs
        .map_or_else(|| "—".to_owned(), |s| format_duration(s.into()));
    let cost = call.cost_usd.map_or_else(|| "—".to_owned(), format_usd);
    let direction = if call.direction == "outbound" {
        "Outbound"
    } else {
        "Inbound"
    };
    view! {
        <header class="mt-4 flex flex-wrap items-center gap-3">
            <h1 class="text-2xl font-semibold tracking-tight">{heading} " " <span class="tabular-nums">{counterpart}</span></h1>
            <StatusBadge status=call.status.clone() />
        </header>
        <dl class="mt-6 grid grid-cols-2 gap-4 rounded-xl border border-slate-200 bg-white p-5 shadow-sm sm:grid-cols-3 lg:grid-cols-4">
            <Fact label="Started"><LocalTime iso=call.started_at.clone() /></Fact>
            <Fact label="Duration">{duration}</Fact>
            <Fact label="Cost">{cost}</Fact>
            <Fact label="Agent">{agent}</Fact>
            <Fact label="Direction">{direction}</Fact>
            <Fact label="From"><span class="tabular-nums">{call.from_number.clone()}</span></Fact>
            <Fact label="To"><span class="tabular-nums">{call.to_number.clone()}</span></Fact>
            <Fact label="Ended">{call.ended_reason.clone().map(|r| r.replace('_', " ")).unwrap_or_else(|| "—".to_owned())}</Fact>
            {call.recording_url.clone().map(|url| view! {
                <Fact label="Recording">
                    <a href=url target="_blank" rel="noopener noreferrer" class="font-medium text-indigo-600 hover:text-indigo-500">"Listen"</a>
                </Fact>
            })}
        </dl>
        <div class="mt-6 grid gap-6 lg:grid-cols-[1fr_22rem]">
            <section aria-labelledby="transcript-title" class="min-w-0">
                <h2 id="transcript-title" class="font-semibold">"Transcript"</h2>
                <Transcript entries=call.transcript.clone() />
            </section>
            <div class="space-y-6">
                <section aria-labelledby="summary-title" class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                    <h2 id="summary-title" class="font-semibold">"Summary"</h2>
                    <p class="mt-2 whitespace-pre-line text-sm text-slate-700" data-testid="call-summary">
                        {call.summary.clone().unwrap_or_else(|| "No summary yet.".to_owned())}
                    </p>
                </section>
                <section aria-labelledby="outcome-title" class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                    <h2 id="outcome-title" class="font-semibold">"Outcome"</h2>
                    <Outcome fields=call.outcome.clone() />
                </section>
                {call.context.clone().map(|context| view! {
                    <section aria-labelledby="context-title" class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                        <h2 id="context-title" class="font-semibold">"Context given"</h2>
                        <pre class="mt-2 overflow-x-auto whitespace-pre-wrap break-words text-xs text-slate-700">{context}</pre>
                    </section>
                })}
            </div>
        </div>
    }
}

#[component]
fn Outcome(fields: Vec<(String, String)>) -> impl IntoView {
    if fields.is_empty() {
        return view! { <p class="mt-2 text-sm text-slate-500">"No outcome recorded."</p> }
            .into_any();
    }
    view! {
        <dl class="mt-2 space-y-2 text-sm" data-testid="call-outcome">
            {fields
                .into_iter()
                .map(|(name, value)| view! {
                    <div>
                        <dt class="font-medium text-slate-500">{name.replace('_', " ")}</dt>
                        <dd class="whitespace-pre-wrap break-words text-slate-900">{value}</dd>
                    </div>
                })
                .collect_view()}
        </dl>
    }
    .into_any()
}

#[component]
fn Transcript(entries: Vec<TranscriptEntry>) -> impl IntoView {
    if entries.is_empty() {
        return view! {
            <p class="mt-3 rounded-xl border border-dashed border-slate-300 bg-white px-6 py-8 text-center text-sm text-slate-500">
                "Nothing was said on this call."
            </p>
        }
        .into_any();
    }
    view! {
        <ol class="mt-3 space-y-3">
            {entries
                .into_iter()
                .map(|entry| match entry {
                    TranscriptEntry::Line(line) => view! { <Line line /> }.into_any(),
                    TranscriptEntry::Tool(tool) => view! { <Tool tool /> }.into_any(),
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn Line(line: LineView) -> impl IntoView {
    let (who, bubble) = match line.role.as_str() {
        "caller" => ("Caller", "bg-white border-slate-200"),
        "agent" => ("Agent", "bg-indigo-50 border-indigo-100"),
        "tool" => ("Tool", "bg-slate-50 border-slate-200"),
        _ => ("System", "bg-slate-50 border-slate-200"),
    };
    view! {
        <li class=format!("rounded-lg border px-4 py-3 {bubble}") data-role=line.role.clone()>
            <p class="flex flex-wrap items-center gap-2 text-xs text-slate-500">
                <span class="font-semibold text-slate-700">{who}</span>
                <span class="tabular-nums">{format_offset(line.start_ms)} "–" {format_offset(line.end_ms)}</span>
                {line.interrupted.then(|| view! {
                    <span class="rounded-full bg-amber-100 px-2 py-0.5 font-medium text-amber-800" title="The caller spoke over this line; it stops where they cut in.">
                        "Interrupted"
                    </span>
                })}
            </p>
            <p class="mt-1 text-sm text-slate-900">{line.text}</p>
        </li>
    }
}

#[component]
fn Tool(tool: ToolCallView) -> impl IntoView {
    let took = tool.duration_ms.map(|ms| format!("{ms} ms"));
    view! {
        <li class="rounded-lg border border-dashed border-slate-300 bg-slate-50 px-4 py-3" data-role="tool-call">
            <p class="flex flex-wrap items-center gap-2 text-xs text-slate-500">
                <span class="font-semibold text-slate-700">"Tool call"</span>
                <code class="rounded bg-white px-1.5 py-0.5 font-mono text-slate-800">{tool.name}</code>
                <span class="tabular-nums">{format_offset(tool.at_ms)}</span>
                <span>{tool.status}</span>
                {took.map(|t| view! { <span>{t}</span> })}
            </p>
            <details class="mt-2 text-xs" open=true>
                <summary class="cursor-pointer font-medium text-slate-600">"Arguments and result"</summary>
                <p class="mt-2 font-medium text-slate-500">"Arguments"</p>
                <pre class="mt-1 overflow-x-auto rounded bg-white p-2 font-mono text-slate-800">{tool.arguments}</pre>
                {tool.result.map(|r| view! {
                    <p class="mt-2 font-medium text-slate-500">"Result"</p>
                    <pre class="mt-1 overflow-x-auto rounded bg-white p-2 font-mono text-slate-800">{r}</pre>
                })}
                {tool.error.map(|e| view! { <p class="mt-2 text-red-700">{e}</p> })}
            </details>
        </li>
    }
}
