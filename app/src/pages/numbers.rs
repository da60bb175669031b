//! `/numbers` — your Twilio numbers and the agents that answer them.
//!
//! The list comes from the Twilio account on every load; assigning a number points its
//! `VoiceUrl` and `StatusCallback` at this server. When Twilio is not configured or refuses the
//! credentials, the page says so and still lists the numbers the organization holds.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::numbers::{AssignNumber, UnassignNumber, list_numbers};
use crate::components::form::FormError;
use crate::dto::numbers::{AgentOption, NumberView};
use crate::pages::settings::{DANGER_BUTTON, SMALL_BUTTON, action_errors};

/// `/numbers`
#[component]
pub fn NumbersPage() -> impl IntoView {
    let assign = ServerAction::<AssignNumber>::new();
    let unassign = ServerAction::<UnassignNumber>::new();
    let numbers = Resource::new(
        move || (assign.version().get(), unassign.version().get()),
        |_| list_numbers(),
    );
    let (field, assign_error) = action_errors(assign.value());
    let agent_error = field("agent_id");
    let (_, unassign_error) = action_errors(unassign.value());
    let error = Signal::derive(move || {
        assign_error
            .get()
            .or_else(|| agent_error.get())
            .or_else(|| unassign_error.get())
    });
    view! {
        <Title text="Numbers" />
        <h1 class="text-2xl font-semibold tracking-tight">"Numbers"</h1>
        <p class="mt-1 text-sm text-slate-600">"Your Twilio numbers and the agents that answer them."</p>
        <div class="mt-6 space-y-4">
            <FormError message=error />
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading your numbers…"</p> }>
                {move || {
                    numbers.get().map(|numbers| match numbers {
                        Ok(view) => {
                            let can_write = view.can_write;
                            let agents = view.agents;
                            let no_agents = agents.is_empty() && can_write;
                            let empty = view.numbers.is_empty();
                            let problem = view.twilio_problem;
                            let has_problem = problem.is_some();
                            let rows = view
                                .numbers
                                .into_iter()
                                .map(|number| view! { <NumberRow number agents=agents.clone() can_write assign unassign /> })
                                .collect_view();
                            view! {
                                {problem.map(|problem| view! {
                                    <div role="alert" data-testid="twilio-problem" class="rounded-md border border-amber-300 bg-amber-50 px-4 py-3 text-sm text-amber-900">
                                        <p class="font-medium">"Twilio is not available"</p>
                                        <p class="mt-1">{problem}</p>
                                    </div>
                                })}
                                {view.voice_url.map(|url| view! {
                                    <p class="text-sm text-slate-600">
                                        "Assigned numbers send their calls to " <code class="break-all font-mono text-xs text-slate-800">{url}</code> "."
                                    </p>
                                })}
                                <Show when=move || no_agents>
                                    <p class="text-sm text-slate-600">
                                        "Create an agent first: " <a href="/agents" class="font-medium text-indigo-600 hover:text-indigo-500">"Agents"</a>
                                    </p>
                                </Show>
                                {if empty {
                                    let message = if has_problem {
                                        "No numbers assigned yet."
                                    } else {
                                        "No numbers in your Twilio account yet. Buy one in the Twilio console, then come back."
                                    };
                                    view! {
                                        <div class="rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
                                            <p class="text-sm text-slate-600">{message}</p>
                                        </div>
                                    }
                                    .into_any()
                                } else {
                                    view! {
                                        <ul class="divide-y divide-slate-200 rounded-xl border border-slate-200 bg-white shadow-sm" aria-label="Phone numbers">
                                            {rows}
                                        </ul>
                                    }
                                    .into_any()
                                }}
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p role="alert" class="text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
        </div>
    }
}

#[component]
fn NumberRow(
    number: NumberView,
    agents: Vec<AgentOption>,
    can_write: bool,
    assign: ServerAction<AssignNumber>,
    unassign: ServerAction<UnassignNumber>,
) -> impl IntoView {
    let status = match (&number.agent_name, number.twilio_sid.is_empty()) {
        (Some(agent), _) => format!("Answered by {agent}"),
        (None, true) => "Not in the Twilio account any more".to_owned(),
        (None, false) => "Not assigned".to_owned(),
    };
    let assigned = number.agent_id.is_some();
    let can_assign = can_write && !number.twilio_sid.is_empty() && !agents.is_empty();
    let select_id = format!("agent-{}", number.twilio_sid);
    let current = number.agent_id.clone().unwrap_or_default();
    let agent_label = format!("Agent for {}", number.e164);
    let unassign_label = format!("Unassign {}", number.e164);
    let number_sid = number.twilio_sid.clone();
    let number_id = number.number_id.clone();
    view! {
        <li class="flex flex-col gap-3 px-4 py-4 md:flex-row md:items-center md:justify-between" data-testid="number">
            <div class="min-w-0">
                <p class="font-mono text-base font-semibold text-slate-900">{number.e164.clone()}</p>
                <p class="truncate text-xs text-slate-500">
                    {(!number.friendly_name.is_empty()).then(|| format!("{} · ", number.friendly_name))}
                    <span class=if assigned { "font-medium text-emerald-700" } else { "text-slate-600" }>{status}</span>
                </p>
            </div>
            <div class="flex flex-wrap items-center gap-2">
                {can_assign.then(|| view! {
                    <ActionForm action=assign attr:class="flex flex-wrap items-center gap-2">
                        <input type="hidden" name="number_sid" value=number_sid />
                        <label for=select_id.clone() class="sr-only">{agent_label}</label>
                        <select id=select_id name="agent_id" required=true class="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
                            {agents
                                .into_iter()
                                .map(|agent| {
                                    let selected = agent.id == current;
                                    view! { <option value=agent.id selected=selected>{agent.name}</option> }
                                })
                                .collect_view()}
                        </select>
                        <button type="submit" class=SMALL_BUTTON>{if assigned { "Reassign" } else { "Assign" }}</button>
                    </ActionForm>
                })}
                {number_id.filter(|_| can_write).map(|number_id| view! {
                    <ActionForm action=unassign>
                        <input type="hidden" name="number_id" value=number_id />
                        <button type="submit" class=DANGER_BUTTON aria-label=unassign_label>"Unassign"</button>
                    </ActionForm>
                })}
            </div>
        </li>
    }
}
