//! The signed-in frame: navigation, organization, user and log-out around every dashboard page.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet, Redirect};

use crate::api::auth::{LogOut, current_user};
use crate::dto::UserView;

/// The dashboard's sections, in navigation order: (path, label).
pub const SECTIONS: [(&str, &str); 7] = [
    ("/", "Overview"),
    ("/agents", "Agents"),
    ("/knowledge", "Knowledge"),
    ("/numbers", "Numbers"),
    ("/calls", "Calls"),
    ("/live", "Live"),
    ("/settings", "Settings"),
];

/// Wraps every signed-in page. The server already redirected anonymous
/// visitors; this also covers a session that expires while the app is open.
#[component]
pub fn DashboardShell() -> impl IntoView {
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| view! { <div class="p-8 text-sm text-slate-500">"Loading…"</div> }>
            {move || {
                user.get().map(|result| match result {
                    Ok(Some(user)) => view! { <Frame user /> }.into_any(),
                    _ => view! { <Redirect path="/login" /> }.into_any(),
                })
            }}
        </Suspense>
    }
}

#[component]
fn Frame(user: UserView) -> impl IntoView {
    // Pages that depend on who is signed in read it here rather than loading it again: a
    // resource created only once another has resolved does not hydrate in step with the server.
    provide_context(user.clone());
    let (menu_open, set_menu_open) = signal(false);
    let logout = ServerAction::<LogOut>::new();
    let org_name = user.org_name.clone();
    view! {
        <div class="min-h-screen md:flex">
            <header class="flex items-center justify-between border-b border-slate-200 bg-white px-4 py-3 md:hidden">
                <span class="text-lg font-bold text-indigo-600">"Switchboard"</span>
                <button
                    type="button"
                    class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium text-slate-700"
                    aria-controls="sidebar"
                    aria-expanded=move || menu_open.get().to_string()
                    on:click=move |_| set_menu_open.update(|open| *open = !*open)
                >
                    "Menu"
                </button>
            </header>
            <nav
                id="sidebar"
                aria-label="Main"
                class="flex-col border-b border-slate-200 bg-white md:flex md:w-60 md:shrink-0 md:flex-col md:border-b-0 md:border-r"
                class:hidden=move || !menu_open.get()
                class:flex=move || menu_open.get()
            >
                <div class="hidden px-5 py-5 md:block">
                    <span class="text-xl font-bold text-indigo-600">"Switchboard"</span>
                    <p class="mt-1 truncate text-xs text-slate-500" title=org_name.clone()>{org_name.clone()}</p>
                </div>
                <ul class="flex-1 space-y-1 px-3 py-3 md:py-0">
                    {SECTIONS
                        .into_iter()
                        .map(|(href, label)| {
                            view! {
                                <li>
                                    <A
                                        href=href
                                        // Overview only at `/`; every other section also for its sub-pages.
                                        exact=href == "/"
                                        on:click=move |_| set_menu_open.set(false)
                                        attr:class="block rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
                                    >
                                        {label}
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
                <div class="border-t border-slate-200 px-5 py-4">
                    <p class="truncate text-sm font-medium text-slate-800" data-testid="user-name">{user.display_name().to_owned()}</p>
                    <p class="truncate text-xs text-slate-500">{user.email.clone()} " · " {user.role.clone()}</p>
                    <ActionForm action=logout>
                        <button type="submit" class="mt-3 text-sm font-medium text-slate-600 hover:text-indigo-600">
                            "Log out"
                        </button>
                    </ActionForm>
                </div>
            </nav>
            <main class="min-w-0 flex-1 px-4 py-6 md:px-10 md:py-10">
                <Outlet />
            </main>
        </div>
    }
}
