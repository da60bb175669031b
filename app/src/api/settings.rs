//! The Settings page: the organization's name, its members and invitations, and the post-call
//! webhook endpoint; and the public invitation page (`/invite/{token}`). API keys have their own
//! module, [`crate::api::keys`]. Every change needs an owner or admin; the rules about who may
//! change whom live in `switchboard::members`.

use leptos::prelude::*;

use crate::dto::settings::{InvitationInfo, NewInvitationView, SavedWebhook, SettingsView};
use crate::error::AppError;

/// The organization, its members, pending invitations and webhook endpoint.
#[server(prefix = "/api", endpoint = "settings/load")]
pub async fn load_settings() -> Result<SettingsView, AppError> {
    use switchboard::store::{members, webhooks};
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let pool = &context.pool;
    let members = members::list_members(pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    let invitations = members::list_invitations(pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    let webhook = webhooks::find(pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    Ok(SettingsView {
        org_name: user.org_name.clone(),
        role: user.role.as_str().to_owned(),
        members: members
            .into_iter()
            .map(|m| settings_ssr::member(m, user.user_id))
            .collect(),
        invitations: invitations
            .into_iter()
            .map(settings_ssr::invitation)
            .collect(),
        webhook: webhook.map(settings_ssr::webhook),
    })
}

/// Renames the organization.
#[server(prefix = "/api", endpoint = "settings/org")]
pub async fn rename_org(org_name: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    switchboard::members::rename_org(&context.pool, &user, &org_name)
        .await
        .map_err(|e| settings_ssr::member_error(e, "org_name"))?;
    tracing::info!(org_id = %user.org_id, "organization renamed");
    Ok(())
}

/// Invites `email` as `role`; returns the one-time link, shown once.
#[server(prefix = "/api", endpoint = "settings/invite")]
pub async fn invite_member(email: String, role: String) -> Result<NewInvitationView, AppError> {
    use switchboard::members::INVITE_PATH_PREFIX;
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let role = settings_ssr::role(&role)?;
    let now = time::OffsetDateTime::now_utc();
    let new = switchboard::members::invite(&context.pool, &user, &email, role, now)
        .await
        .map_err(|e| settings_ssr::member_error(e, "email"))?;
    let path = format!("{INVITE_PATH_PREFIX}{}", new.token);
    let link = crate::api::numbers::numbers_ssr::public_address(&context, &path)?;
    tracing::info!(invitation_id = %new.invitation.id, org_id = %user.org_id, "member invited");
    Ok(NewInvitationView {
        invitation: settings_ssr::invitation(new.invitation),
        link,
    })
}

/// Withdraws a pending invitation.
#[server(prefix = "/api", endpoint = "settings/invitation/withdraw")]
pub async fn withdraw_invitation(id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    switchboard::members::withdraw_invitation(&context.pool, &user, id)
        .await
        .map_err(|e| settings_ssr::member_error(e, ""))
}

/// Gives a member another role.
#[server(prefix = "/api", endpoint = "settings/member/role")]
pub async fn change_member_role(user_id: String, role: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let member = user_id.parse().map_err(|_| AppError::NotFound)?;
    let role = settings_ssr::role(&role)?;
    switchboard::members::change_role(&context.pool, &user, member, role)
        .await
        .map_err(|e| settings_ssr::member_error(e, ""))?;
    tracing::info!(member = %member, role = role.as_str(), org_id = %user.org_id, "role changed");
    Ok(())
}

/// Removes a member from the organization.
#[server(prefix = "/api", endpoint = "settings/member/remove")]
pub async fn remove_member(user_id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let member = user_id.parse().map_err(|_| AppError::NotFound)?;
    switchboard::members::remove(&context.pool, &user, member)
        .await
        .map_err(|e| settings_ssr::member_error(e, ""))?;
    tracing::info!(member = %member, org_id = %user.org_id, "member removed");
    Ok(())
}

/// Saves the post-call webhook endpoint. An empty `secret` keeps the current one (or generates
/// one for a new endpoint); `regenerate` replaces it with a generated one. A generated secret is
/// returned this once.
#[server(prefix = "/api", endpoint = "settings/webhook")]
pub async fn save_webhook(
    url: String,
    secret: Option<String>,
    regenerate: Option<String>,
) -> Result<SavedWebhook, AppError> {
    use switchboard::store::webhooks;
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let url = webhooks::parse_url(&url).map_err(|why| AppError::field("url", why))?;
    let provided = secret.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if provided.is_some_and(|s| s.chars().count() < 16 || s.chars().count() > 200) {
        return Err(AppError::field(
            "secret",
            "Use 16 to 200 characters, or leave it empty to have one generated.",
        ));
    }
    let existing = webhooks::find(&context.pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    let generated = (provided.is_none() && (existing.is_none() || regenerate.is_some()))
        .then(webhooks::generate_secret);
    let secret = provided.or(generated.as_deref());
    let saved = webhooks::save(&context.pool, user.org_id, &url, secret)
        .await
        .map_err(ssr::internal)?;
    tracing::info!(webhook_id = %saved.id, org_id = %user.org_id, "webhook endpoint saved");
    Ok(SavedWebhook {
        webhook: settings_ssr::webhook(saved),
        new_secret: generated,
    })
}

/// Removes the post-call webhook endpoint.
#[server(prefix = "/api", endpoint = "settings/webhook/delete")]
pub async fn delete_webhook() -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    if switchboard::store::webhooks::delete(&context.pool, user.org_id)
        .await
        .map_err(ssr::internal)?
    {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// What an invitation link is for; anyone holding the link may ask.
#[server(prefix = "/api", endpoint = "invite/show")]
pub async fn show_invitation(token: String) -> Result<InvitationInfo, AppError> {
    let context = ssr::context()?;
    let open = switchboard::members::find_invitation(&context.pool, token.trim())
        .await
        .map_err(|e| settings_ssr::member_error(e, ""))?;
    Ok(InvitationInfo {
        org_name: open.org_name,
        email: open.email,
        role: open.role,
    })
}

/// Accepts an invitation: creates the member, signs them in and goes to the dashboard.
#[server(prefix = "/api", endpoint = "invite/accept")]
pub async fn accept_invitation(
    token: String,
    name: String,
    password: String,
) -> Result<(), AppError> {
    use crate::api::auth::SESSION_USER_KEY;
    let context = ssr::context()?;
    let user = switchboard::members::accept(&context.pool, token.trim(), &name, &password)
        .await
        .map_err(|e| settings_ssr::member_error(e, "password"))?;
    let session = ssr::session().await?;
    // A new id on every sign-in defeats session fixation.
    session.cycle_id().await.map_err(ssr::internal)?;
    session
        .insert(SESSION_USER_KEY, user.user_id)
        .await
        .map_err(ssr::internal)?;
    tracing::info!(user_id = %user.user_id, org_id = %user.org_id, "invitation accepted");
    leptos_axum::redirect("/");
    Ok(())
}

#[cfg(feature = "ssr")]
use crate::api::ssr;

#[cfg(feature = "ssr")]
mod settings_ssr {
    use switchboard::accounts::Role;
    use switchboard::members::MemberError;
    use switchboard::store::members::{Invitation, Member};
    use switchboard::store::webhooks::Webhook;
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;
    use uuid::Uuid;

    use crate::api::ssr;
    use crate::dto::settings::{InvitationView, MemberView, WebhookView};
    use crate::error::AppError;

    fn time(t: OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap_or_default()
    }

    pub(super) fn member(m: Member, me: Uuid) -> MemberView {
        MemberView {
            is_you: m.id == me,
            id: m.id.to_string(),
            email: m.email,
            name: m.name,
            role: m.role,
            last_login_at: m.last_login_at.map(time),
        }
    }

    pub(super) fn invitation(i: Invitation) -> InvitationView {
        InvitationView {
            expired: i.expires_at <= OffsetDateTime::now_utc(),
            id: i.id.to_string(),
            email: i.email,
            role: i.role,
            expires_at: time(i.expires_at),
        }
    }

    pub(super) fn webhook(w: Webhook) -> WebhookView {
        WebhookView {
            url: w.url,
            events: w.events,
            secret_hint: format!("{}…", w.secret.chars().take(10).collect::<String>()),
        }
    }

    pub(super) fn role(raw: &str) -> Result<Role, AppError> {
        Role::parse(raw.trim())
            .ok_or_else(|| AppError::field("role", "Choose owner, admin or viewer."))
    }

    /// Field-shaped errors go next to `field`; the rest above the form.
    pub(super) fn member_error(error: MemberError, field: &str) -> AppError {
        match error {
            MemberError::ReadOnly => AppError::Forbidden,
            MemberError::NotFound => AppError::NotFound,
            MemberError::InvalidOrgName => AppError::field("org_name", error.to_string()),
            MemberError::InvalidEmail | MemberError::EmailTaken if field == "email" => {
                AppError::field("email", error.to_string())
            }
            MemberError::Password(_) => AppError::field("password", error.to_string()),
            e if e.is_user_error() => AppError::Invalid(e.to_string()),
            e => ssr::internal(e),
        }
    }
}
