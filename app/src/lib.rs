//! Switchboard's dashboard: the Leptos app rendered on the server and hydrated in the browser.
//!
//! - [`api`]        — server functions (their server-only halves sit in `ssr` submodules).
//! - [`pages`]      — one module per section of the dashboard, plus log-in and sign-up.
//! - [`components`] — the signed-in shell and shared pieces.
//! - [`dto`], [`error`] — types that cross the wire.

pub mod api;
pub mod components;
pub mod dto;
pub mod error;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::components::shell::DashboardShell;
use crate::pages::{
    agents, auth, calls, invite, knowledge, live, numbers, overview, section, settings,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full bg-slate-50">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="h-full text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// The root component: routes for the public pages and the signed-in dashboard.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, so this flips once the page is hydrated;
    // end-to-end tests wait for it before they click.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/switchboard.css" />
        <Title formatter=|page: String| if page.is_empty() { "Switchboard".to_string() } else { format!("{page} · Switchboard") } />
        <div id="app" class="min-h-full" data-hydrated=move || if hydrated.get() { "true" } else { "false" }>
            <Router>
                <Routes fallback=|| view! { <section::NotFound /> }>
                    <Route path=path!("/login") view=auth::LoginPage />
                    <Route path=path!("/signup") view=auth::SignUpPage />
                    <Route path=path!("/invite/:token") view=invite::InvitePage />
                    // Async: each signed-in page is rendered whole before it is sent (the shell's
                    // Suspense would otherwise stream out of order), so its content and forms
                    // work in a browser that runs no script.
                    <ParentRoute path=path!("") view=DashboardShell ssr=SsrMode::Async>
                        <Route path=path!("") view=overview::OverviewPage />
                        <Route path=path!("agents") view=agents::AgentsPage />
                        <Route path=path!("agents/new") view=agents::NewAgentPage />
                        <Route path=path!("agents/:id") view=agents::EditAgentPage />
                        <Route path=path!("agents/:id/versions") view=agents::AgentVersionsPage />
                        <Route path=path!("knowledge") view=knowledge::KnowledgePage />
                        <Route path=path!("numbers") view=numbers::NumbersPage />
                        <Route path=path!("calls") view=calls::CallsPage />
                        <Route path=path!("calls/:id") view=calls::detail::CallDetailPage />
                        <Route path=path!("live") view=live::LivePage />
                        <Route path=path!("settings") view=settings::SettingsPage />
                    </ParentRoute>
                </Routes>
            </Router>
        </div>
    }
}
