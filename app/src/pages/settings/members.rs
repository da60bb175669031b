//! Members and invitations: invite by email with a role (the one-time link is shown once),
//! change roles, remove members, withdraw invitations.

use leptos::prelude::*;

use super::{
    Card, DANGER_BUTTON, INPUT, PRIMARY_BUTTON, SMALL_BUTTON, ShownOnce, action_errors, short_time,
};
use crate::api::settings::{
    ChangeMemberRole, InviteMember, RemoveMember, WithdrawInvitation, load_settings,
};
use crate::components::form::{FormError, TextField};
use crate::dto::settings::{InvitationView, MemberView};

const ROLES: [(&str, &str); 3] = [
    ("viewer", "Viewer — sees, cannot change"),
    ("admin", "Admin — all but owners"),
    ("owner", "Owner — everything"),
];

/// The members card.
#[component]
pub fn Members(can_write: bool, is_owner: bool) -> impl IntoView {
    let invite = ServerAction::<InviteMember>::new();
    let role = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let withdraw = ServerAction::<WithdrawInvitation>::new();
    let settings = Resource::new(
        move || {
            (
                invite.version().get(),
                role.version().get(),
                remove.version().get(),
                withdraw.version().get(),
            )
        },
        |_| load_settings(),
    );
    let (invite_field, invite_form) = action_errors(invite.value());
    let (_, role_error) = action_errors(role.value());
    let (_, remove_error) = action_errors(remove.value());
    let (_, withdraw_error) = action_errors(withdraw.value());
    let list_error = Signal::derive(move || {
        role_error
            .get()
            .or_else(|| remove_error.get())
            .or_else(|| withdraw_error.get())
    });
    let link = move || {
        invite
            .value()
            .get()
            .and_then(Result::ok)
            .map(|new| new.link)
    };
    let roles = move || {
        ROLES
            .into_iter()
            .filter(move |(r, _)| is_owner || *r != "owner")
    };

    view! {
        <Card title="Members" lead="Who can sign in to this organization, and what they may do.">
            <FormError message=list_error />
            <Transition fallback=|| view! { <p class="text-sm text-slate-500">"Loading members…"</p> }>
                {move || {
                    settings.get().map(|settings| match settings {
                        Ok(settings) => {
                            let members = settings.members.into_iter().map(|m| view! { <MemberRow member=m can_write is_owner role remove /> }).collect_view();
                            let invitations = settings.invitations;
                            let has_invitations = !invitations.is_empty();
                            let pending = invitations.into_iter().map(|i| view! { <InvitationRow invitation=i can_write withdraw /> }).collect_view();
                            view! {
                                <ul class="divide-y divide-slate-200 rounded-md border border-slate-200" aria-label="Members">{members}</ul>
                                <Show when=move || has_invitations>
                                    <h3 class="mt-6 text-sm font-semibold text-slate-900">"Pending invitations"</h3>
                                </Show>
                                <ul class="mt-2 divide-y divide-slate-200" aria-label="Pending invitations">{pending}</ul>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <p role="alert" class="text-sm text-red-700">{e.to_string()}</p> }.into_any(),
                    })
                }}
            </Transition>
            <Show when=move || can_write>
                <div class="mt-6 border-t border-slate-200 pt-6">
                    <h3 class="text-sm font-semibold text-slate-900">"Invite someone"</h3>
                    <p class="mt-1 text-sm text-slate-600">
                        "No email is sent: you get a one-time link to pass on. It works for 7 days."
                    </p>
                    <ActionForm action=invite attr:class="mt-3">
                        <div class="grid gap-x-3 sm:grid-cols-[1fr_16rem_auto] sm:items-start">
                            <div class="sm:col-span-3"><FormError message=invite_form /></div>
                            <TextField name="email" label="Email" kind="email" autocomplete="off" error=invite_field("email") />
                            <div>
                                <label for="field-role" class="block text-sm font-medium text-slate-700">"Role"</label>
                                <select id="field-role" name="role" class=INPUT>
                                    {roles().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view()}
                                </select>
                                <p class="mt-1 min-h-5 text-sm text-red-600" role="alert">{move || invite_field("role").get()}</p>
                            </div>
                            <button type="submit" class=format!("{PRIMARY_BUTTON} sm:mt-6") disabled=move || invite.pending().get()>
                                {move || if invite.pending().get() { "Inviting…" } else { "Invite" }}
                            </button>
                        </div>
                    </ActionForm>
                    {move || link().map(|link| view! {
                        <div class="mt-3">
                            <ShownOnce label="Invitation link" value=link hint="Send this link to the person you invited. It is shown only now and works once." />
                        </div>
                    })}
                </div>
            </Show>
        </Card>
    }
}

#[component]
fn MemberRow(
    member: MemberView,
    can_write: bool,
    is_owner: bool,
    role: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    // Admins cannot touch owners; the server says the same.
    let editable = can_write && (is_owner || member.role != "owner");
    let label = if member.name.is_empty() {
        member.email.clone()
    } else {
        member.name.clone()
    };
    let current = member.role.clone();
    let select_id = format!("role-{}", member.id);
    let last_login = member.last_login_at.as_deref().map_or_else(
        || "Never logged in".to_owned(),
        |t| format!("Last log-in {}", short_time(t)),
    );
    view! {
        <li class="flex flex-col gap-3 px-3 py-3 sm:flex-row sm:items-center sm:justify-between" data-testid="member">
            <div class="min-w-0">
                <p class="truncate text-sm font-medium text-slate-900">
                    {label}
                    {member.is_you.then(|| view! { <span class="ml-1 text-xs font-normal text-slate-500">"(you)"</span> })}
                </p>
                <p class="break-words text-xs text-slate-500 sm:truncate">{member.email.clone()} " · " {last_login}</p>
            </div>
            {if editable {
                let id = member.id.clone();
                let remove_id = member.id.clone();
                let role_label = format!("Role of {}", member.email);
                let remove_label = format!("Remove {}", member.email);
                view! {
                    <div class="flex flex-wrap items-center gap-2">
                        <ActionForm action=role attr:class="flex items-center gap-2">
                            <input type="hidden" name="user_id" value=id />
                            <label for=select_id.clone() class="sr-only">{role_label}</label>
                            <select id=select_id name="role" class="rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm">
                                {ROLES
                                    .into_iter()
                                    .filter(|(r, _)| is_owner || *r != "owner")
                                    .map(|(value, _)| view! { <option value=value selected=current == value>{value}</option> })
                                    .collect_view()}
                            </select>
                            <button type="submit" class=SMALL_BUTTON>"Save role"</button>
                        </ActionForm>
                        <ActionForm action=remove>
                            <input type="hidden" name="user_id" value=remove_id />
                            <button type="submit" class=DANGER_BUTTON aria-label=remove_label>"Remove"</button>
                        </ActionForm>
                    </div>
                }
                .into_any()
            } else {
                view! { <span class="w-fit rounded-full bg-slate-100 px-2.5 py-0.5 text-xs font-medium text-slate-700">{member.role.clone()}</span> }.into_any()
            }}
        </li>
    }
}

#[component]
fn InvitationRow(
    invitation: InvitationView,
    can_write: bool,
    withdraw: ServerAction<WithdrawInvitation>,
) -> impl IntoView {
    let state = if invitation.expired {
        "expired".to_owned()
    } else {
        format!("link works until {}", short_time(&invitation.expires_at))
    };
    view! {
        <li class="flex flex-col gap-2 py-2 sm:flex-row sm:items-center sm:justify-between" data-testid="invitation">
            <p class="min-w-0 break-words text-sm text-slate-700 sm:truncate">
                {invitation.email.clone()} " · " {invitation.role.clone()} " · " <span class="text-slate-500">{state}</span>
            </p>
            {can_write.then(|| view! {
                <ActionForm action=withdraw>
                    <input type="hidden" name="id" value=invitation.id.clone() />
                    <button type="submit" class=SMALL_BUTTON aria-label=format!("Withdraw the invitation of {}", invitation.email)>"Withdraw"</button>
                </ActionForm>
            })}
        </li>
    }
}
