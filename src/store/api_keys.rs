//! Organization API keys, for the REST API (`Authorization: Bearer sb_…`).
//!
//! A key is shown once, when created; only its SHA-256 is stored, so a database leak does not
//! leak working keys. A key is looked up by that hash — it has 238 bits of randomness, so no
//! slow password hash is needed. `prefix` (the first characters) lets people tell keys apart.

use rand::Rng;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// Every key starts with this, so leaked keys are easy to spot (and to scan for).
pub const KEY_PREFIX: &str = "sb_";
const KEY_RANDOM_CHARS: usize = 40;
const SHOWN_PREFIX_CHARS: usize = KEY_PREFIX.len() + 8;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// A key as the dashboard lists it (never the key itself).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiKey {
    /// The key's id.
    pub id: Uuid,
    /// What its creator called it.
    pub name: String,
    /// Its first characters, e.g. `sb_Ab12Cd34`.
    pub prefix: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it last authenticated a request.
    pub last_used_at: Option<OffsetDateTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Who a valid key speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyOwner {
    /// The key.
    pub key_id: Uuid,
    /// Its organization.
    pub org_id: Uuid,
}

/// Creates a key named `name` in `org_id`; returns it and the secret, which is never stored.
pub async fn create(
    pool: &PgPool,
    org_id: Uuid,
    name: &str,
    created_by: Option<Uuid>,
) -> Result<(ApiKey, String), sqlx::Error> {
    let mut rng = OsRng;
    let random: String = (0..KEY_RANDOM_CHARS)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    let secret = format!("{KEY_PREFIX}{random}");
    let key = sqlx::query_as(
        "insert into api_keys (org_id, name, prefix, key_hash, created_by) \
         values ($1, $2, $3, $4, $5) \
         returning id, name, prefix, created_at, last_used_at, revoked_at",
    )
    .bind(org_id)
    .bind(name.trim())
    .bind(&secret[..SHOWN_PREFIX_CHARS])
    .bind(hash(&secret))
    .bind(created_by)
    .fetch_one(pool)
    .await?;
    Ok((key, secret))
}

/// The organization a presented key belongs to, if the key exists and is not revoked; marks it
/// used (at most once a minute, to keep a busy key from writing on every request).
pub async fn authenticate(pool: &PgPool, secret: &str) -> Result<Option<KeyOwner>, sqlx::Error> {
    if !secret.starts_with(KEY_PREFIX) || secret.len() != KEY_PREFIX.len() + KEY_RANDOM_CHARS {
        return Ok(None);
    }
    let owner: Option<KeyOwner> = sqlx::query_as(
        "select id as key_id, org_id from api_keys where key_hash = $1 and revoked_at is null",
    )
    .bind(hash(secret))
    .fetch_optional(pool)
    .await?;
    if let Some(owner) = owner {
        sqlx::query(
            "update api_keys set last_used_at = now() \
              where id = $1 and (last_used_at is null or last_used_at < now() - interval '1 minute')",
        )
        .bind(owner.key_id)
        .execute(pool)
        .await?;
    }
    Ok(owner)
}

/// The organization's keys, newest first.
pub async fn list(pool: &PgPool, org_id: Uuid) -> Result<Vec<ApiKey>, sqlx::Error> {
    sqlx::query_as(
        "select id, name, prefix, created_at, last_used_at, revoked_at from api_keys \
          where org_id = $1 order by created_at desc",
    )
    .bind(org_id)
    .fetch_all(pool)
    .await
}

/// Revokes a key; false when it is not this organization's or was already revoked.
pub async fn revoke(pool: &PgPool, org_id: Uuid, key_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update api_keys set revoked_at = now() \
          where id = $1 and org_id = $2 and revoked_at is null",
    )
    .bind(key_id)
    .bind(org_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_database, seed_org};

    #[tokio::test]
    async fn a_key_authenticates_its_organization_until_revoked() {
        let (_, pool) = fresh_database().await;
        let org = seed_org(&pool, "Keys").await;
        let other = seed_org(&pool, "Other").await;
        let (key, secret) = create(&pool, org, " CRM sync ", None).await.unwrap();
        assert_eq!(key.name, "CRM sync");
        assert!(secret.starts_with(&key.prefix) && key.prefix.starts_with(KEY_PREFIX));
        assert_eq!(secret.len(), 43);

        let owner = authenticate(&pool, &secret).await.unwrap().unwrap();
        assert_eq!((owner.key_id, owner.org_id), (key.id, org));
        let listed = list(&pool, org).await.unwrap();
        assert!(listed[0].last_used_at.is_some(), "marked used");
        assert!(list(&pool, other).await.unwrap().is_empty());

        // Only the owner organization may revoke it.
        assert!(!revoke(&pool, other, key.id).await.unwrap());
        assert!(revoke(&pool, org, key.id).await.unwrap());
        assert!(!revoke(&pool, org, key.id).await.unwrap());
        assert_eq!(authenticate(&pool, &secret).await.unwrap(), None);
    }

    #[tokio::test]
    async fn wrong_and_malformed_keys_are_refused() {
        let (_, pool) = fresh_database().await;
        let org = seed_org(&pool, "Keys").await;
        let (_, secret) = create(&pool, org, "k", None).await.unwrap();
        let mut wrong = secret.clone();
        wrong.replace_range(10..11, if &secret[10..11] == "A" { "B" } else { "A" });
        for candidate in [wrong.as_str(), "", "sb_", "Bearer x", &secret[..20]] {
            assert_eq!(
                authenticate(&pool, candidate).await.unwrap(),
                None,
                "{candidate:?}"
            );
        }
        let stored: Vec<u8> = sqlx::query_scalar("select key_hash from api_keys")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_ne!(stored, secret.as_bytes(), "only the hash is stored");
    }
}
