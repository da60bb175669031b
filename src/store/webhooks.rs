//! The organization's endpoint for post-call events (`call.ended`). The dashboard manages one
//! endpoint per organization; the secret signs each delivery, so it is stored as given.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Webhook {
    /// The endpoint's id.
    pub id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// The HMAC-SHA256 key for `X-Switchboard-Signature`.
    pub secret: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// When it was last saved.
    pub updated_at: OffsetDateTime,
}

/// The organization's endpoint (the oldest, if the API created several).
pub async fn find(pool: &PgPool, org_id: Uuid) -> Result<Option<Webhook>, sqlx::Error> {
    sqlx::query_as(
        "select id, url, secret, events, updated_at from webhooks \
         where org_id = $1 order by created_at limit 1",
    )
    .bind(org_id)
    .fetch_optional(pool)
    .await
}

/// Sets the organization's endpoint: updates it if there is one, else creates it. A `None`
/// secret keeps the current one (a new endpoint must be given one).
pub async fn save(
    pool: &PgPool,
    org_id: Uuid,
    url: &str,
    secret: Option<&str>,
) -> Result<Webhook, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // Serialises saves of one organization, so two cannot both create an endpoint.
    sqlx::query("select 1 from organizations where id = $1 for update")
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    let updated: Option<Webhook> = sqlx::query_as(
        "update webhooks set url = $2, secret = coalesce($3, secret), updated_at = now() \
         where id = (select id from webhooks where org_id = $1 order by created_at limit 1) \
         returning id, url, secret, events, updated_at",
    )
    .bind(org_id)
    .bind(url)
    .bind(secret)
    .fetch_optional(&mut *tx)
    .await?;
    let webhook = match updated {
        Some(webhook) => webhook,
        None => {
            sqlx::query_as(
                "insert into webhooks (org_id, url, secret) values ($1, $2, $3) \
                 returning id, url, secret, events, updated_at",
            )
            .bind(org_id)
            .bind(url)
            .bind(secret.unwrap_or_default())
            .fetch_one(&mut *tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(webhook)
}

/// Removes the organization's endpoints; false when it had none.
pub async fn delete(pool: &PgPool, org_id: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from webhooks where org_id = $1")
        .bind(org_id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// A fresh signing secret: `whsec_` and 32 random letters and digits (190 bits).
pub fn generate_secret() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    let random: String = (0..32)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("whsec_{random}")
}

/// Checks an endpoint address: an absolute `http(s)` URL with a host, without credentials or a
/// fragment. Returns it normalised.
pub fn parse_url(raw: &str) -> Result<String, &'static str> {
    const WHY: &str =
        "Enter the full address of your endpoint, like https://example.com/hooks/switchboard.";
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| WHY)?;
    let ok = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
        && url.as_str().len() <= 2000;
    if ok { Ok(url.to_string()) } else { Err(WHY) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh_database, seed_org};

    #[test]
    fn only_plain_http_urls_are_endpoints() {
        assert_eq!(
            parse_url(" https://example.com/hooks ").as_deref(),
            Ok("https://example.com/hooks")
        );
        for bad in [
            "",
            "example.com/hooks",
            "ftp://example.com",
            "https://u:p@example.com",
            "https://example.com/#x",
        ] {
            assert!(parse_url(bad).is_err(), "{bad:?} was accepted");
        }
        let secret = generate_secret();
        assert!(
            secret.starts_with("whsec_") && secret.len() == 38,
            "{secret}"
        );
    }

    #[tokio::test]
    async fn saving_again_updates_the_one_endpoint_and_keeps_its_secret() {
        let (_, pool) = fresh_database().await;
        let org = seed_org(&pool, "Acme").await;
        let other = seed_org(&pool, "Other").await;
        let first = save(&pool, org, "https://a.example/hook", Some("s3cret"))
            .await
            .unwrap();
        let second = save(&pool, org, "https://b.example/hook", None)
            .await
            .unwrap();
        assert_eq!(first.id, second.id);
        assert_eq!(second.secret, "s3cret");
        assert_eq!(second.events, ["call.ended"]);
        assert!(find(&pool, other).await.unwrap().is_none());
        assert!(!delete(&pool, other).await.unwrap());
        assert!(delete(&pool, org).await.unwrap());
        assert!(find(&pool, org).await.unwrap().is_none());
    }
}
