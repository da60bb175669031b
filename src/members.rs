//! Members of an organization: renaming it, inviting people, changing roles, removing members,
//! and accepting an invitation.
//!
//! No mail is sent. An invitation is a pending member with a one-time token; the inviter is shown
//! the link (`/invite/{token}`) once and passes it on. The invitee opens it, sets a name and a
//! password, and becomes a member with the invited role. Only a SHA-256 of the token is stored.
//!
//! Rules, enforced here whatever the page shows: viewers change nothing; admins manage admins
//! and viewers but cannot grant, change or remove ownership; an organization always keeps at
//! least one owner.

use rand::Rng;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::accounts::{self, AccountError, CurrentUser, Email, Password, Role};
use crate::store::{self, members as db};

/// How long an invitation link works.
pub const INVITATION_TTL: Duration = Duration::days(7);

/// The path of an invitation link, before its token.
pub const INVITE_PATH_PREFIX: &str = "/invite/";

const TOKEN_CHARS: usize = 40;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Why a member operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    /// The acting user is a viewer.
    #[error("Your role does not allow this. Ask an owner or admin of your organization.")]
    ReadOnly,
    /// An admin tried to grant, change or remove ownership.
    #[error("Only an owner can make someone an owner or change an owner's role.")]
    OwnersOnly,
    /// The change would leave the organization without an owner.
    #[error("The organization needs at least one owner: make someone else an owner first.")]
    LastOwner,
    /// No such member or invitation in this organization.
    #[error("Not found.")]
    NotFound,
    /// The organization name is empty or too long.
    #[error("Enter the organization's name (up to 200 characters).")]
    InvalidOrgName,
    /// The email is not an email.
    #[error("Enter a valid email address, like name@example.com.")]
    InvalidEmail,
    /// The address already has an account (accounts belong to one organization).
    #[error("This email already has a Switchboard account.")]
    EmailTaken,
    /// The invitation link is unknown, used or expired.
    #[error("This invitation link is invalid, already used or expired. Ask for a new one.")]
    InvalidInvitation,
    /// The password does not meet the rules.
    #[error("{0}")]
    Password(AccountError),
    /// Hashing or the database failed.
    #[error(transparent)]
    Internal(#[from] AccountError),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl MemberError {
    /// Whether the message is about the request (shown) rather than our failure (logged).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, MemberError::Internal(_) | MemberError::Database(_))
    }
}

/// An invitation just made: the only time its token is known.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// The invitation as listed.
    pub invitation: db::Invitation,
    /// The secret part of the link; `INVITE_PATH_PREFIX` + token is the path.
    pub token: String,
}

/// Renames the actor's organization.
pub async fn rename_org(pool: &PgPool, actor: &CurrentUser, name: &str) -> Result<(), MemberError> {
    writer(actor)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(MemberError::InvalidOrgName);
    }
    if db::rename_org(pool, actor.org_id, name).await? {
        Ok(())
    } else {
        Err(MemberError::NotFound)
    }
}

/// Invites `email` into the actor's organization with `role`.
pub async fn invite(
    pool: &PgPool,
    actor: &CurrentUser,
    email: &str,
    role: Role,
    now: OffsetDateTime,
) -> Result<NewInvitation, MemberError> {
    writer(actor)?;
    if role == Role::Owner && actor.role != Role::Owner {
        return Err(MemberError::OwnersOnly);
    }
    let email = Email::parse(email).map_err(|_| MemberError::InvalidEmail)?;
    if db::email_has_account(pool, email.as_str()).await? {
        return Err(MemberError::EmailTaken);
    }
    let token = new_token();
    let invitation = db::insert_invitation(
        pool,
        actor.org_id,
        email.as_str(),
        role.as_str(),
        &token_hash(&token),
        Some(actor.user_id),
        now + INVITATION_TTL,
    )
    .await?;
    Ok(NewInvitation { invitation, token })
}

/// Withdraws a pending invitation.
pub async fn withdraw_invitation(
    pool: &PgPool,
    actor: &CurrentUser,
    id: Uuid,
) -> Result<(), MemberError> {
    writer(actor)?;
    if db::delete_invitation(pool, actor.org_id, id).await? {
        Ok(())
    } else {
        Err(MemberError::NotFound)
    }
}

/// Gives member `user_id` the role `role`.
pub async fn change_role(
    pool: &PgPool,
    actor: &CurrentUser,
    user_id: Uuid,
    role: Role,
) -> Result<(), MemberError> {
    writer(actor)?;
    let current = current_role(pool, actor.org_id, user_id).await?;
    if actor.role != Role::Owner && (role == Role::Owner || current == Role::Owner) {
        return Err(MemberError::OwnersOnly);
    }
    guarded(db::set_role(pool, actor.org_id, user_id, role.as_str()).await?)
}

/// Removes member `user_id` from the organization (and deletes their account).
pub async fn remove(pool: &PgPool, actor: &CurrentUser, user_id: Uuid) -> Result<(), MemberError> {
    writer(actor)?;
    let current = current_role(pool, actor.org_id, user_id).await?;
    if actor.role != Role::Owner && current == Role::Owner {
        return Err(MemberError::OwnersOnly);
    }
    guarded(db::remove_member(pool, actor.org_id, user_id).await?)
}

/// The open invitation a link's token points at.
pub async fn find_invitation(
    pool: &PgPool,
    token: &str,
) -> Result<db::OpenInvitation, MemberError> {
    db::find_open_invitation(pool, &token_hash(token))
        .await?
        .ok_or(MemberError::InvalidInvitation)
}

/// Accepts an invitation: creates the member with the invited role and returns them signed in.
pub async fn accept(
    pool: &PgPool,
    token: &str,
    name: &str,
    password: &str,
) -> Result<CurrentUser, MemberError> {
    let password = Password::parse(password).map_err(MemberError::Password)?;
    // Checked before hashing, so a dead link does not cost a hash.
    find_invitation(pool, token).await?;
    let hash = accounts::hash_password(password).await?;
    let accepted = db::accept_invitation(pool, &token_hash(token), name.trim(), &hash).await;
    let user_id = match accepted {
        Ok(Some(user_id)) => user_id,
        Ok(None) => return Err(MemberError::InvalidInvitation),
        Err(e) if store::is_unique_violation(&e, "users_email_key") => {
            return Err(MemberError::EmailTaken);
        }
        Err(e) => return Err(e.into()),
    };
    accounts::load_user(pool, user_id)
        .await?
        .ok_or(MemberError::Database(sqlx::Error::RowNotFound))
}

fn writer(actor: &CurrentUser) -> Result<(), MemberError> {
    if actor.role.can_write() {
        Ok(())
    } else {
        Err(MemberError::ReadOnly)
    }
}

async fn current_role(pool: &PgPool, org_id: Uuid, user_id: Uuid) -> Result<Role, MemberError> {
    let role = db::member_role(pool, org_id, user_id)
        .await?
        .ok_or(MemberError::NotFound)?;
    Role::parse(&role).ok_or(MemberError::Internal(AccountError::CorruptRole(role)))
}

fn guarded(outcome: db::OwnerGuarded) -> Result<(), MemberError> {
    match outcome {
        db::OwnerGuarded::Done => Ok(()),
        db::OwnerGuarded::NotFound => Err(MemberError::NotFound),
        db::OwnerGuarded::LastOwner => Err(MemberError::LastOwner),
    }
}

fn new_token() -> String {
    let mut rng = OsRng;
    (0..TOKEN_CHARS)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fresh_database;

    async fn owner(pool: &PgPool) -> CurrentUser {
        let form = accounts::SignUp {
            org_name: "Acme".into(),
            name: "Olga".into(),
            email: Email::parse("olga@example.com").unwrap(),
            password: Password::parse("correct horse battery").unwrap(),
        };
        accounts::sign_up(pool, form).await.unwrap()
    }

    #[tokio::test]
    async fn an_invitation_link_works_once_and_gives_the_invited_role() {
        let (_, pool) = fresh_database().await;
        let olga = owner(&pool).await;
        let now = OffsetDateTime::now_utc();
        let new = invite(&pool, &olga, " Vic@Example.com ", Role::Viewer, now)
            .await
            .unwrap();
        assert_eq!(new.invitation.email, "vic@example.com");
        assert_eq!(new.token.len(), TOKEN_CHARS);

        let open = find_invitation(&pool, &new.token).await.unwrap();
        assert_eq!(
            (open.org_name.as_str(), open.role.as_str()),
            ("Acme", "viewer")
        );
        let vic = accept(&pool, &new.token, "Vic", "another long password")
            .await
            .unwrap();
        assert_eq!(vic.org_id, olga.org_id);
        assert_eq!(vic.role, Role::Viewer);

        let again = accept(&pool, &new.token, "Eve", "another long password").await;
        assert!(
            matches!(again, Err(MemberError::InvalidInvitation)),
            "{again:?}"
        );
        assert!(
            db::list_invitations(&pool, olga.org_id)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn expired_links_and_taken_addresses_are_refused() {
        let (_, pool) = fresh_database().await;
        let olga = owner(&pool).await;
        let long_ago = OffsetDateTime::now_utc() - INVITATION_TTL - Duration::minutes(1);
        let old = invite(&pool, &olga, "late@example.com", Role::Admin, long_ago)
            .await
            .unwrap();
        assert!(matches!(
            find_invitation(&pool, &old.token).await,
            Err(MemberError::InvalidInvitation)
        ));
        let taken = invite(
            &pool,
            &olga,
            "OLGA@example.com",
            Role::Admin,
            OffsetDateTime::now_utc(),
        )
        .await;
        assert!(matches!(taken, Err(MemberError::EmailTaken)), "{taken:?}");
    }

    #[tokio::test]
    async fn the_last_owner_keeps_ownership_and_admins_cannot_touch_owners() {
        let (_, pool) = fresh_database().await;
        let olga = owner(&pool).await;
        let demote = change_role(&pool, &olga, olga.user_id, Role::Admin).await;
        assert!(matches!(demote, Err(MemberError::LastOwner)), "{demote:?}");
        let removed = remove(&pool, &olga, olga.user_id).await;
        assert!(
            matches!(removed, Err(MemberError::LastOwner)),
            "{removed:?}"
        );

        let new = invite(
            &pool,
            &olga,
            "ada@example.com",
            Role::Admin,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
        let ada = accept(&pool, &new.token, "Ada", "another long password")
            .await
            .unwrap();
        let promote = change_role(&pool, &ada, ada.user_id, Role::Owner).await;
        assert!(
            matches!(promote, Err(MemberError::OwnersOnly)),
            "{promote:?}"
        );
        let oust = remove(&pool, &ada, olga.user_id).await;
        assert!(matches!(oust, Err(MemberError::OwnersOnly)), "{oust:?}");

        change_role(&pool, &olga, ada.user_id, Role::Owner)
            .await
            .unwrap();
        change_role(&pool, &olga, olga.user_id, Role::Viewer)
            .await
            .unwrap();
        let roles: Vec<_> = db::list_members(&pool, olga.org_id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| (m.email, m.role))
            .collect();
        assert_eq!(
            roles,
            [
                ("ada@example.com".to_owned(), "owner".to_owned()),
                ("olga@example.com".to_owned(), "viewer".to_owned())
            ]
        );
    }
}
