//! Organization API keys: create (the secret is shown once), list, revoke. Owners and admins
//! only; viewers may list.

use leptos::prelude::*;

use crate::dto::{ApiKeyView, NewApiKey};
use crate::error::AppError;

/// Creates a key named `name`.
#[server(prefix = "/api", endpoint = "keys/create")]
pub async fn create_api_key(name: String) -> Result<NewApiKey, AppError> {
    let user = ssr::require_writer()?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::field(
            "name",
            "Name the key (up to 100 characters), e.g. \"CRM sync\".",
        ));
    }
    let context = ssr::context()?;
    let (key, secret) =
        switchboard::store::api_keys::create(&context.pool, user.org_id, name, Some(user.user_id))
            .await
            .map_err(ssr::internal)?;
    tracing::info!(key_id = %key.id, org_id = %user.org_id, "API key created");
    Ok(NewApiKey {
        key: keys_ssr::view(key),
        secret,
    })
}

/// The organization's keys, newest first.
#[server(prefix = "/api", endpoint = "keys/list")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let keys = switchboard::store::api_keys::list(&context.pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    Ok(keys.into_iter().map(keys_ssr::view).collect())
}

/// Revokes a key: requests with it are refused from now on.
#[server(prefix = "/api", endpoint = "keys/revoke")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = id.parse().map_err(|_| AppError::NotFound)?;
    let revoked = switchboard::store::api_keys::revoke(&context.pool, user.org_id, id)
        .await
        .map_err(ssr::internal)?;
    if revoked {
        tracing::info!(key_id = %id, org_id = %user.org_id, "API key revoked");
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[cfg(feature = "ssr")]
use crate::api::ssr;

#[cfg(feature = "ssr")]
mod keys_ssr {
    use switchboard::store::api_keys::ApiKey;
    use time::format_description::well_known::Rfc3339;

    use crate::dto::ApiKeyView;

    pub(super) fn view(key: ApiKey) -> ApiKeyView {
        let time = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
        ApiKeyView {
            id: key.id.to_string(),
            name: key.name,
            prefix: key.prefix,
            created_at: time(key.created_at),
            last_used_at: key.last_used_at.map(time),
            revoked_at: key.revoked_at.map(time),
        }
    }
}
