//! Who a REST request acts for: an organization API key (`Authorization: Bearer sb_…`, for
//! integrations) or the dashboard's session cookie (the dashboard uses the same endpoints for
//! uploads). Either way every query is scoped to the caller's organization.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use switchboard::accounts::CurrentUser;
use switchboard::store::api_keys;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The organization a request acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// The organization every query is scoped to.
    pub org_id: Uuid,
    /// The signed-in user, when the request came from the dashboard.
    pub user_id: Option<Uuid>,
    /// Whether it may change things (API keys may; viewers may not).
    pub can_write: bool,
}

impl Caller {
    /// Refuses a caller that may only look.
    pub fn require_writer(self) -> Result<Self, ApiError> {
        if self.can_write {
            Ok(self)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "Your role can view but not change this organization's data.",
            ))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let key = value
                .to_str()
                .ok()
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let Some(key) = key else {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "Send the API key as `Authorization: Bearer sb_…`.",
                ));
            };
            return match api_keys::authenticate(&state.pool, key).await? {
                Some(owner) => Ok(Caller {
                    org_id: owner.org_id,
                    user_id: None,
                    can_write: true,
                }),
                None => Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "That API key is not valid (it may have been revoked).",
                )),
            };
        }
        match parts.extensions.get::<CurrentUser>() {
            Some(user) => Ok(Caller {
                org_id: user.org_id,
                user_id: Some(user.user_id),
                can_write: user.role.can_write(),
            }),
            None => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "Sign in, or send an organization API key as `Authorization: Bearer sb_…`.",
            )),
        }
    }
}
