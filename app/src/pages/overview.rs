//! `/` — the overview: today's and this week's calls, how calls end, what they cost, calls per
//! day and how long they last. Until the first call it tells a new user what to do next.

mod zone;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::overview::load_overview;
use crate::components::chart::{Bar, BarChart};
use crate::dto::overview::{
    OverviewStats, format_duration, format_share, format_usd, group_thousands,
};

/// The first steps, each linking to the section where it happens.
const FIRST_STEPS: [(&str, &str, &str); 3] = [
    (
        "/agents",
        "Create an agent",
        "Write its prompt and greeting, pick a voice and the tools it may use.",
    ),
    (
        "/numbers",
        "Assign a phone number",
        "Connect one of your Twilio numbers to the agent.",
    ),
    (
        "/calls",
        "Call it, or simulate a call",
        "Dial the number, or run `switchboard simulate` with a recording.",
    ),
];

/// `/`
#[component]
pub fn OverviewPage() -> impl IntoView {
    let zone = RwSignal::new(zone::initial());
    let stats = Resource::new(move || zone.get(), load_overview);
    // Once hydrated: count in the browser's own zone if the server did not already.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(browser) = zone::from_browser()
            && zone.get_untracked() != browser
        {
            zone.set(browser);
        }
    });

    view! {
        <Title text="Overview" />
        <h1 class="text-2xl font-semibold tracking-tight">"Overview"</h1>
        <Transition fallback=|| view! { <p class="mt-8 text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match stats.await {
                    Ok(stats) if !stats.has_calls => view! { <FirstSteps /> }.into_any(),
                    Ok(stats) => view! { <Dashboard stats /> }.into_any(),
                    Err(e) => {
                        view! {
                            <p role="alert" class="mt-8 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
                                {e.to_string()}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The empty state: what a new organization does first.
#[component]
fn FirstSteps() -> impl IntoView {
    view! {
        <p class="mt-1 text-sm text-slate-600">"Calls, durations and costs appear here once your agents start talking."</p>
        <ol class="mt-8 grid gap-4 lg:grid-cols-3" aria-label="First steps">
            {FIRST_STEPS
                .into_iter()
                .enumerate()
                .map(|(i, (href, title, body))| {
                    view! {
                        <li class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                            <span class="inline-flex h-7 w-7 items-center justify-center rounded-full bg-indigo-600 text-sm font-semibold text-white">
                                {i + 1}
                            </span>
                            <h2 class="mt-3 font-semibold">
                                <a href=href class="hover:text-indigo-600">{title}</a>
                            </h2>
                            <p class="mt-1 text-sm text-slate-600">{body}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

#[component]
fn Dashboard(stats: OverviewStats) -> impl IntoView {
    let days = stats.window_days;
    let count = |n: i64| group_thousands(n.max(0).unsigned_abs());
    let calls = |n: i64| {
        if n == 1 {
            "call".to_owned()
        } else {
            "calls".to_owned()
        }
    };
    let figures = [
        ("Today", count(stats.calls_today), calls(stats.calls_today)),
        (
            "This week",
            count(stats.calls_this_week),
            format!("{} since Monday", calls(stats.calls_this_week)),
        ),
        (
            "Average duration",
            stats
                .avg_duration_secs
                .map_or_else(|| "–".to_owned(), format_duration),
            format!("completed calls, last {days} days"),
        ),
        (
            "Cost",
            format_usd(stats.cost_usd),
            format!("last {days} days"),
        ),
    ];
    let per_day_total: i64 = stats.per_day.iter().map(|d| d.calls).sum();
    let busiest = stats.per_day.iter().max_by_key(|d| d.calls);
    let per_day_summary = match busiest {
        Some(day) if day.calls > 0 => format!(
            "{} calls over the last {days} days; the busiest day was {} with {}.",
            group_thousands(per_day_total.unsigned_abs()),
            day.label,
            day.calls
        ),
        _ => format!("No calls in the last {days} days."),
    };
    let per_day: Vec<Bar> = stats
        .per_day
        .iter()
        .map(|d| Bar {
            label: d.short.clone(),
            title: format!("{}: {} {}", d.label, d.calls, calls(d.calls)),
            value: d.calls as f64,
        })
        .collect();
    let completed: i64 = stats.durations.iter().map(|b| b.calls).sum();
    let durations_summary = if completed == 0 {
        format!("No completed calls in the last {days} days.")
    } else {
        stats
            .durations
            .iter()
            .map(|b| format!("{}: {}", b.label, b.calls))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let durations: Vec<Bar> = stats
        .durations
        .iter()
        .map(|b| Bar {
            label: b.short.clone(),
            title: format!("{}: {} {}", b.label, b.calls, calls(b.calls)),
            value: b.calls as f64,
        })
        .collect();
    let ended = stats.ended;
    let outcomes = [
        ("Ended by the agent", stats.ended_by_agent, "bg-indigo-500"),
        ("Transferred", stats.transferred, "bg-sky-400"),
        (
            "Abandoned (caller hung up)",
            stats.abandoned,
            "bg-amber-400",
        ),
        ("Other", stats.other_endings(), "bg-slate-300"),
    ];

    view! {
        <p class="mt-1 text-sm text-slate-600">
            {format!("Days start at midnight in {}. Except for today and this week, figures cover the last {days} days.", stats.time_zone)}
        </p>
        <dl class="mt-6 grid grid-cols-2 gap-4 lg:grid-cols-4">
            {figures
                .into_iter()
                .map(|(term, value, note)| {
                    view! {
                        <div class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
                            <dt class="text-sm font-medium text-slate-600">{term}</dt>
                            <dd class="mt-1 text-2xl font-semibold tracking-tight text-slate-900">{value}</dd>
                            <dd class="mt-0.5 text-xs text-slate-500">{note}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>

        <section class="mt-4 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="outcomes-heading">
            <h2 id="outcomes-heading" class="text-sm font-semibold text-slate-800">
                "How calls ended"
                <span class="ml-2 font-normal text-slate-500">{format!("{} ended calls", group_thousands(ended.unsigned_abs()))}</span>
            </h2>
            <div class="mt-3 flex h-3 overflow-hidden rounded-full bg-slate-100" aria-hidden="true">
                {outcomes
                    .iter()
                    .filter(|(_, n, _)| *n > 0 && ended > 0)
                    .map(|(_, n, color)| {
                        let width = format!("width: {:.2}%", *n as f64 * 100.0 / ended as f64);
                        view! { <div class=*color style=width></div> }
                    })
                    .collect_view()}
            </div>
            <dl class="mt-3 grid grid-cols-2 gap-x-4 gap-y-2 text-sm lg:grid-cols-4">
                {outcomes
                    .into_iter()
                    .map(|(label, n, color)| {
                        view! {
                            <div class="flex items-start gap-2">
                                <span class=format!("mt-1.5 h-2 w-2 shrink-0 rounded-full {color}") aria-hidden="true"></span>
                                <div>
                                    <dt class="text-slate-600">{label}</dt>
                                    <dd class="font-semibold text-slate-900">
                                        {format_share(n, ended)}
                                        <span class="ml-1 font-normal text-slate-500">{format!("({})", group_thousands(n.unsigned_abs()))}</span>
                                    </dd>
                                </div>
                            </div>
                        }
                    })
                    .collect_view()}
            </dl>
        </section>

        <div class="mt-4 grid gap-4 lg:grid-cols-2">
            <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="per-day-heading">
                <h2 id="per-day-heading" class="text-sm font-semibold text-slate-800">"Calls per day"</h2>
                <div class="mt-3">
                    <BarChart
                        id="calls-per-day"
                        title=format!("Calls per day, last {days} days")
                        description=per_day_summary
                        x_label="Day of the month"
                        y_label="Calls"
                        bars=per_day
                    />
                </div>
            </section>
            <section class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" aria-labelledby="durations-heading">
                <h2 id="durations-heading" class="text-sm font-semibold text-slate-800">"Call durations"</h2>
                <div class="mt-3">
                    <BarChart
                        id="call-durations"
                        title=format!("Completed calls by duration, last {days} days")
                        description=durations_summary
                        x_label="Duration"
                        y_label="Calls"
                        bars=durations
                    />
                </div>
            </section>
        </div>
    }
    .into_any()
}
