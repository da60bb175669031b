//! Organizations, users and failed log-ins.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// A user row joined with its organization's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    /// The user's id.
    pub id: Uuid,
    /// The organization the user belongs to.
    pub org_id: Uuid,
    /// That organization's name.
    pub org_name: String,
    /// Lower-cased email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// `owner`, `admin` or `viewer`.
    pub role: String,
    /// argon2id PHC string.
    pub password_hash: String,
}

const USER_COLUMNS: &str = "u.id, u.org_id, o.name as org_name, u.email, u.name, u.role, u.password_hash \
     from users u join organizations o on o.id = u.org_id";

/// Creates an organization and its owner in one transaction; returns the owner's id.
pub async fn insert_org_with_owner(
    pool: &PgPool,
    org_name: &str,
    name: &str,
    email: &str,
    password_hash: &str,
) -> Result<(Uuid, Uuid), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let org_id: Uuid =
        sqlx::query_scalar("insert into organizations (name) values ($1) returning id")
            .bind(org_name)
            .fetch_one(&mut *tx)
            .await?;
    let user_id: Uuid = sqlx::query_scalar(
        "insert into users (org_id, email, name, password_hash, role) \
         values ($1, $2, $3, $4, 'owner') returning id",
    )
    .bind(org_id)
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((org_id, user_id))
}

/// Finds a user by (lower-cased) email, for log-in.
pub async fn find_user_by_email(
    pool: &PgPool,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("select {USER_COLUMNS} where u.email = $1"))
        .bind(email)
        .fetch_optional(pool)
        .await
}

/// Finds a user by id, for the session on every request.
pub async fn find_user(pool: &PgPool, user_id: Uuid) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("select {USER_COLUMNS} where u.id = $1"))
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// Stamps a successful log-in and forgets earlier failures for that email.
pub async fn record_login(pool: &PgPool, user_id: Uuid, email: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("update users set last_login_at = now() where id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from login_failures where email = $1")
        .bind(email)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Records a failed log-in attempt.
pub async fn record_login_failure(
    pool: &PgPool,
    email: &str,
    ip: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into login_failures (email, ip) values ($1, $2)")
        .bind(email)
        .bind(ip)
        .execute(pool)
        .await
        .map(drop)
}

/// Failed attempts for `email` since `since`, and the oldest of them.
pub async fn login_failures_since(
    pool: &PgPool,
    email: &str,
    since: OffsetDateTime,
) -> Result<(i64, Option<OffsetDateTime>), sqlx::Error> {
    sqlx::query_as(
        "select count(*), min(failed_at) from login_failures where email = $1 and failed_at > $2",
    )
    .bind(email)
    .bind(since)
    .fetch_one(pool)
    .await
}
