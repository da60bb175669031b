//! An organization's members and invitations, and its name.
//!
//! Changes that could leave an organization without an owner lock the organization's owner rows
//! first, so two admins demoting the last two owners at once cannot both succeed.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// A member as the settings page lists them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Member {
    /// The user's id.
    pub id: Uuid,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `owner`, `admin` or `viewer`.
    pub role: String,
    /// When they joined.
    pub created_at: OffsetDateTime,
    /// Their last successful log-in.
    pub last_login_at: Option<OffsetDateTime>,
}

/// An invitation nobody has accepted yet.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invitation {
    /// The invitation's id.
    pub id: Uuid,
    /// Who was invited.
    pub email: String,
    /// The role they will get.
    pub role: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

/// A live invitation found by its token, with what the invitee needs to see.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenInvitation {
    /// The invitation's id.
    pub id: Uuid,
    /// The organization they are invited to.
    pub org_id: Uuid,
    /// Its name.
    pub org_name: String,
    /// Who was invited.
    pub email: String,
    /// The role they will get.
    pub role: String,
}

/// What happened to a role change or removal guarded by the last-owner rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerGuarded {
    /// Done.
    Done,
    /// No such member in the organization.
    NotFound,
    /// Refused: the member is the organization's only owner.
    LastOwner,
}

/// Renames `org_id`; false when it does not exist.
pub async fn rename_org(pool: &PgPool, org_id: Uuid, name: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("update organizations set name = $2, updated_at = now() where id = $1")
        .bind(org_id)
        .bind(name)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The organization's members: owners first, then by when they joined.
pub async fn list_members(pool: &PgPool, org_id: Uuid) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as(
        "select id, email, name, role, created_at, last_login_at from users where org_id = $1 \
         order by case role when 'owner' then 0 when 'admin' then 1 else 2 end, created_at",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await
}

/// A member's role, if they belong to `org_id`.
pub async fn member_role(
    pool: &PgPool,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select role from users where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// Whether any account (in any organization) uses `email`.
pub async fn email_has_account(pool: &PgPool, email: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from users where email = $1)")
        .bind(email)
        .fetch_one(pool)
        .await
}

/// Sets a member's role, unless that would leave the organization without an owner.
pub async fn set_role(
    pool: &PgPool,
    org_id: Uuid,
    user_id: Uuid,
    role: &str,
) -> Result<OwnerGuarded, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let owners = lock_owners(&mut tx, org_id).await?;
    let current: Option<String> =
        sqlx::query_scalar("select role from users where org_id = $1 and id = $2 for update")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(current) = current else {
        return Ok(OwnerGuarded::NotFound);
    };
    if current == "owner" && role != "owner" && owners <= 1 {
        return Ok(OwnerGuarded::LastOwner);
    }
    sqlx::query("update users set role = $3 where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(user_id)
        .bind(role)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(OwnerGuarded::Done)
}

/// Removes a member (their sessions end with them), unless they are the only owner.
pub async fn remove_member(
    pool: &PgPool,
    org_id: Uuid,
    user_id: Uuid,
) -> Result<OwnerGuarded, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let owners = lock_owners(&mut tx, org_id).await?;
    let current: Option<String> =
        sqlx::query_scalar("select role from users where org_id = $1 and id = $2 for update")
            .bind(org_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(current) = current else {
        return Ok(OwnerGuarded::NotFound);
    };
    if current == "owner" && owners <= 1 {
        return Ok(OwnerGuarded::LastOwner);
    }
    sqlx::query("delete from users where org_id = $1 and id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(OwnerGuarded::Done)
}

/// Locks the organization's owner rows and counts them.
async fn lock_owners(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    org_id: Uuid,
) -> Result<usize, sqlx::Error> {
    let owners: Vec<Uuid> =
        sqlx::query_scalar("select id from users where org_id = $1 and role = 'owner' for update")
            .bind(org_id)
            .fetch_all(&mut **tx)
            .await?;
    Ok(owners.len())
}

/// The organization's pending invitations (expired ones included, so they can be withdrawn),
/// newest first.
pub async fn list_invitations(pool: &PgPool, org_id: Uuid) -> Result<Vec<Invitation>, sqlx::Error> {
    sqlx::query_as(
        "select id, email, role, created_at, expires_at from invitations \
         where org_id = $1 and accepted_at is null order by created_at desc",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await
}

/// Records an invitation, replacing any pending one for the same address in `org_id`.
pub async fn insert_invitation(
    pool: &PgPool,
    org_id: Uuid,
    email: &str,
    role: &str,
    token_hash: &[u8],
    invited_by: Option<Uuid>,
    expires_at: OffsetDateTime,
) -> Result<Invitation, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("delete from invitations where org_id = $1 and email = $2 and accepted_at is null")
        .bind(org_id)
        .bind(email)
        .execute(&mut *tx)
        .await?;
    let invitation = sqlx::query_as(
        "insert into invitations (org_id, email, role, token_hash, invited_by, expires_at) \
         values ($1, $2, $3, $4, $5, $6) returning id, email, role, created_at, expires_at",
    )
    .bind(org_id)
    .bind(email)
    .bind(role)
    .bind(token_hash)
    .bind(invited_by)
    .bind(expires_at)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// Withdraws a pending invitation; false when there is none with that id in `org_id`.
pub async fn delete_invitation(pool: &PgPool, org_id: Uuid, id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "delete from invitations where org_id = $1 and id = $2 and accepted_at is null",
    )
    .bind(org_id)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The pending, unexpired invitation whose token hashes to `token_hash`.
pub async fn find_open_invitation(
    pool: &PgPool,
    token_hash: &[u8],
) -> Result<Option<OpenInvitation>, sqlx::Error> {
    sqlx::query_as(
        "select i.id, i.org_id, o.name as org_name, i.email, i.role \
         from invitations i join organizations o on o.id = i.org_id \
         where i.token_hash = $1 and i.accepted_at is null and i.expires_at > now()",
    )
    .bind(token_hash)
    .fetch_optional(pool)
    .await
}

/// Turns the open invitation `token_hash` into a user, once: returns the new user's id, or
/// `None` when the invitation is gone, used or expired. A unique violation on
/// `users_email_key` means the address got an account meanwhile.
pub async fn accept_invitation(
    pool: &PgPool,
    token_hash: &[u8],
    name: &str,
    password_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let invitation: Option<(Uuid, Uuid, String, String)> = sqlx::query_as(
        "select id, org_id, email, role from invitations \
         where token_hash = $1 and accepted_at is null and expires_at > now() for update",
    )
    .bind(token_hash)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((id, org_id, email, role)) = invitation else {
        return Ok(None);
    };
    let user_id: Uuid = sqlx::query_scalar(
        "insert into users (org_id, email, name, password_hash, role) \
         values ($1, $2, $3, $4, $5) returning id",
    )
    .bind(org_id)
    .bind(&email)
    .bind(name)
    .bind(password_hash)
    .bind(&role)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("update invitations set accepted_at = now() where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(user_id))
}
