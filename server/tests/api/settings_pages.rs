//! The Settings page's server functions over HTTP: the organization's name, members and
//! invitations (the link works once and gives its role), the last owner's protection, API keys,
//! the webhook endpoint — and a viewer refused on every write.

use app::dto::settings::{NewInvitationView, SavedWebhook, SettingsView};
use app::dto::{ApiKeyView, NewApiKey};
use app::error::AppError;
use reqwest::StatusCode;

use crate::helpers::{FnResponse, TestApp, spawn_app};

pub(crate) const PASSWORD: &str = "correct horse battery staple";
const MEMBER_PASSWORD: &str = "another long password";

#[track_caller]
fn ok<T: serde::de::DeserializeOwned>(response: &FnResponse) -> T {
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("unexpected body ({e}): {}", response.body))
}

#[track_caller]
fn succeeded(response: &FnResponse) {
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{response:?}"
    );
}

async fn settings(app: &TestApp) -> SettingsView {
    ok(&app.call("settings/load", &[]).await)
}

/// The owner (signed in on `app.client`) invites `email` as `role`; returns the link's token.
pub(crate) async fn invite(app: &TestApp, email: &str, role: &str) -> String {
    let new: NewInvitationView = ok(&app
        .call("settings/invite", &[("email", email), ("role", role)])
        .await);
    new.link
        .rsplit_once("/invite/")
        .map(|(_, token)| token.to_owned())
        .expect("an /invite/ link")
}

/// The signed-in owner invites `email` as `role`, logs out, and the invitee accepts: the client
/// is then signed in as the new member.
pub(crate) async fn join_as(app: &TestApp, email: &str, role: &str) {
    let token = invite(app, email, role).await;
    app.log_out().await;
    succeeded(
        &app.call(
            "invite/accept",
            &[
                ("token", &token),
                ("name", "New Member"),
                ("password", MEMBER_PASSWORD),
            ],
        )
        .await,
    );
}

#[tokio::test]
async fn an_owner_renames_the_organization_and_a_blank_name_is_refused_by_its_field() {
    let app = spawn_app().await;
    app.sign_up("Acme", "olga@example.com", PASSWORD).await;

    succeeded(
        &app.call("settings/org", &[("org_name", "  Acme Plumbing ")])
            .await,
    );
    assert_eq!(app.whoami().await.unwrap().org_name, "Acme Plumbing");

    let error = app
        .call("settings/org", &[("org_name", "   ")])
        .await
        .app_error();
    assert!(error.for_field("org_name").is_some(), "{error:?}");
    assert_eq!(settings(&app).await.org_name, "Acme Plumbing");
}

#[tokio::test]
async fn an_invitation_link_makes_a_member_who_can_log_in_with_their_role() {
    let app = spawn_app().await;
    app.sign_up("Acme", "olga@example.com", PASSWORD).await;

    let token = invite(&app, "Ada@Example.com", "admin").await;
    let listed = settings(&app).await;
    assert_eq!(listed.invitations.len(), 1);
    assert_eq!(listed.invitations[0].email, "ada@example.com");
    assert_eq!(listed.invitations[0].role, "admin");
    app.log_out().await;

    // Anyone holding the link sees what it is for; the page itself is public.
    let info: app::dto::settings::InvitationInfo =
        ok(&app.call("invite/show", &[("token", &token)]).await);
    assert_eq!(
        (info.org_name.as_str(), info.role.as_str()),
        ("Acme", "admin")
    );
    let page = app.get(&format!("/invite/{token}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Join Acme"));

    let short = app
        .call(
            "invite/accept",
            &[("token", &token), ("name", "Ada"), ("password", "short")],
        )
        .await
        .app_error();
    assert!(short.for_field("password").is_some(), "{short:?}");
    succeeded(
        &app.call(
            "invite/accept",
            &[
                ("token", &token),
                ("name", "Ada"),
                ("password", MEMBER_PASSWORD),
            ],
        )
        .await,
    );
    let me = app.whoami().await.expect("signed in after accepting");
    assert_eq!(
        (me.email.as_str(), me.role.as_str(), me.org_name.as_str()),
        ("ada@example.com", "admin", "Acme")
    );

    app.log_out().await;
    succeeded(&app.log_in("ada@example.com", MEMBER_PASSWORD).await);
    assert_eq!(app.whoami().await.unwrap().role, "admin");

    // The link worked once.
    app.log_out().await;
    let reused = app
        .call(
            "invite/accept",
            &[
                ("token", &token),
                ("name", "Eve"),
                ("password", MEMBER_PASSWORD),
            ],
        )
        .await
        .app_error();
    assert!(
        reused
            .to_string()
            .contains("invalid, already used or expired"),
        "{reused}"
    );
}

#[tokio::test]
async fn the_last_owner_cannot_be_demoted_or_removed() {
    let app = spawn_app().await;
    app.sign_up("Acme", "olga@example.com", PASSWORD).await;
    let me = settings(&app).await.members.remove(0);
    assert!(me.is_you);

    let demote = app
        .call(
            "settings/member/role",
            &[("user_id", &me.id), ("role", "admin")],
        )
        .await
        .app_error();
    assert!(
        demote.to_string().contains("at least one owner"),
        "{demote}"
    );
    let remove = app
        .call("settings/member/remove", &[("user_id", &me.id)])
        .await
        .app_error();
    assert!(
        remove.to_string().contains("at least one owner"),
        "{remove}"
    );
    assert_eq!(settings(&app).await.members[0].role, "owner");

    // With a second owner, the first may step down.
    join_as(&app, "otto@example.com", "owner").await;
    app.log_out().await;
    app.log_in("olga@example.com", PASSWORD).await;
    succeeded(
        &app.call(
            "settings/member/role",
            &[("user_id", &me.id), ("role", "viewer")],
        )
        .await,
    );
    assert_eq!(app.whoami().await.unwrap().role, "viewer");
}

#[tokio::test]
async fn api_keys_are_shown_once_listed_without_the_secret_and_revoked() {
    let app = spawn_app().await;
    app.sign_up("Acme", "olga@example.com", PASSWORD).await;

    let blank = app.call("keys/create", &[("name", " ")]).await.app_error();
    assert!(blank.for_field("name").is_some(), "{blank:?}");
    let new: NewApiKey = ok(&app.call("keys/create", &[("name", "CRM sync")]).await);
    assert!(new.secret.starts_with("sb_"), "{}", new.secret);

    let listed = app.call("keys/list", &[]).await;
    assert!(
        !listed.body.contains(&new.secret),
        "the list never carries the secret"
    );
    let keys: Vec<ApiKeyView> = ok(&listed);
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "CRM sync");
    assert!(new.secret.starts_with(&keys[0].prefix));
    assert_eq!(keys[0].revoked_at, None);

    // The key works until it is revoked.
    let calls = |key: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .get(app.url("/api/v1/knowledge"))
                .bearer_auth(key)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(calls(new.secret.clone()).await, StatusCode::OK);
    succeeded(&app.call("keys/revoke", &[("id", &keys[0].id)]).await);
    assert_eq!(calls(new.secret.clone()).await, StatusCode::UNAUTHORIZED);
    let keys: Vec<ApiKeyView> = ok(&app.call("keys/list", &[]).await);
    assert!(keys[0].revoked_at.is_some());
    assert!(
        keys[0].last_used_at.is_some(),
        "the successful request was recorded"
    );
}

#[tokio::test]
async fn a_webhook_endpoint_gets_a_generated_secret_shown_once() {
    let app = spawn_app().await;
    app.sign_up("Acme", "olga@example.com", PASSWORD).await;

    let bad = app
        .call("settings/webhook", &[("url", "example.com/hook")])
        .await
        .app_error();
    assert!(bad.for_field("url").is_some(), "{bad:?}");
    let saved: SavedWebhook = ok(&app
        .call(
            "settings/webhook",
            &[("url", "https://crm.example/hooks/calls"), ("secret", "")],
        )
        .await);
    let secret = saved.new_secret.expect("a generated secret");
    assert!(secret.starts_with("whsec_"));
    let shown = settings(&app).await.webhook.expect("the endpoint");
    assert_eq!(shown.url, "https://crm.example/hooks/calls");
    assert_eq!(shown.events, ["call.ended"]);
    assert!(!serde_json::to_string(&shown).unwrap().contains(&secret));

    // Saving again keeps the secret unless one is given.
    let again: SavedWebhook = ok(&app
        .call("settings/webhook", &[("url", "https://crm.example/v2")])
        .await);
    assert_eq!(again.new_secret, None);
    let stored: String = sqlx::query_scalar("select secret from webhooks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, secret);
    ok::<SavedWebhook>(
        &app.call(
            "settings/webhook",
            &[
                ("url", "https://crm.example/v2"),
                ("secret", "my own secret of 24 chars"),
            ],
        )
        .await,
    );
    let stored: String = sqlx::query_scalar("select secret from webhooks")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, "my own secret of 24 chars");

    succeeded(&app.call("settings/webhook/delete", &[]).await);
    assert_eq!(settings(&app).await.webhook, None);
}

#[tokio::test]
async fn a_viewer_sees_the_settings_but_every_write_is_refused() {
    let app = spawn_app().await;
    app.sign_up("Acme", "olga@example.com", PASSWORD).await;
    let key: NewApiKey = ok(&app.call("keys/create", &[("name", "Existing")]).await);
    let owner_id = settings(&app).await.members[0].id.clone();
    join_as(&app, "vic@example.com", "viewer").await;
    assert_eq!(app.whoami().await.unwrap().role, "viewer");

    let seen = settings(&app).await;
    assert_eq!(seen.role, "viewer");
    assert!(!seen.can_write());
    assert_eq!(seen.members.len(), 2);
    let writes: [(&str, Vec<(&str, &str)>); 9] = [
        ("settings/org", vec![("org_name", "Hijacked")]),
        (
            "settings/invite",
            vec![("email", "eve@example.com"), ("role", "owner")],
        ),
        (
            "settings/member/role",
            vec![("user_id", owner_id.as_str()), ("role", "viewer")],
        ),
        (
            "settings/member/remove",
            vec![("user_id", owner_id.as_str())],
        ),
        ("keys/create", vec![("name", "Mine")]),
        ("keys/revoke", vec![("id", key.key.id.as_str())]),
        ("settings/webhook", vec![("url", "https://evil.example/")]),
        ("settings/webhook/delete", vec![]),
        (
            "settings/invitation/withdraw",
            vec![("id", "00000000-0000-0000-0000-000000000000")],
        ),
    ];
    for (endpoint, form) in &writes {
        let error = app.call(endpoint, form).await.app_error();
        assert_eq!(error, AppError::Forbidden, "{endpoint}");
    }

    let (orgs, keys, invitations, hooks): (String, i64, i64, i64) = sqlx::query_as(
        "select (select name from organizations), \
                (select count(*) from api_keys where revoked_at is null), \
                (select count(*) from invitations where accepted_at is null), \
                (select count(*) from webhooks)",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((orgs.as_str(), keys, invitations, hooks), ("Acme", 1, 0, 0));
    let owner_role: String =
        sqlx::query_scalar("select role from users where email = 'olga@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(owner_role, "owner");
}

#[tokio::test]
async fn another_organization_sees_none_of_the_members_keys_or_endpoint() {
    let app = spawn_app().await;
    app.sign_up("Acme", "olga@example.com", PASSWORD).await;
    let key: NewApiKey = ok(&app.call("keys/create", &[("name", "Acme key")]).await);
    invite(&app, "ada@example.com", "admin").await;
    ok::<SavedWebhook>(
        &app.call("settings/webhook", &[("url", "https://acme.example/hook")])
            .await,
    );
    let olga = settings(&app).await.members[0].id.clone();
    app.log_out().await;

    app.sign_up("Other", "bo@example.com", PASSWORD).await;
    let theirs = settings(&app).await;
    assert_eq!(theirs.members.len(), 1);
    assert!(theirs.invitations.is_empty());
    assert_eq!(theirs.webhook, None);
    let keys: Vec<ApiKeyView> = ok(&app.call("keys/list", &[]).await);
    assert!(keys.is_empty());
    let revoke = app
        .call("keys/revoke", &[("id", key.key.id.as_str())])
        .await
        .app_error();
    assert_eq!(revoke, AppError::NotFound);
    let remove = app
        .call("settings/member/remove", &[("user_id", &olga)])
        .await
        .app_error();
    assert_eq!(remove, AppError::NotFound);
}
