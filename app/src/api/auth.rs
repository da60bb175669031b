//! Sign-up, log-in, log-out and "who am I".

use leptos::prelude::*;

use crate::dto::UserView;
use crate::error::AppError;

/// The session key that holds the signed-in user's id.
pub const SESSION_USER_KEY: &str = "user_id";

/// Creates an organization and its owner, signs them in and goes to the dashboard.
#[server(prefix = "/api", endpoint = "signup")]
pub async fn sign_up(
    org_name: String,
    name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    use switchboard::accounts::{self, AccountError, Email, Password, SignUp};

    let form = SignUp {
        org_name,
        name,
        email: Email::parse(&email).map_err(|e| AppError::field("email", e.to_string()))?,
        password: Password::parse(&password)
            .map_err(|e| AppError::field("password", e.to_string()))?,
    };
    let pool = ssr::context()?.pool;
    let user = accounts::sign_up(&pool, form).await.map_err(|e| match e {
        AccountError::InvalidOrgName => AppError::field("org_name", e.to_string()),
        AccountError::EmailTaken => AppError::field("email", e.to_string()),
        e if e.is_user_error() => AppError::Invalid(e.to_string()),
        e => ssr::internal(e),
    })?;
    start_session(user.user_id).await?;
    tracing::info!(user_id = %user.user_id, org_id = %user.org_id, "signed up");
    leptos_axum::redirect("/");
    Ok(())
}

/// Checks the credentials, signs in and goes to `next` (a local path) or the dashboard.
#[server(prefix = "/api", endpoint = "login")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use switchboard::accounts::{self, AccountError};

    let pool = ssr::context()?.pool;
    let ip = leptos_axum::extract::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|info| info.0.ip().to_string());
    let now = time::OffsetDateTime::now_utc();
    let user = accounts::log_in(&pool, &email, &password, ip.as_deref(), now)
        .await
        .map_err(|e| match e {
            AccountError::InvalidCredentials | AccountError::TooManyAttempts { .. } => {
                AppError::Invalid(e.to_string())
            }
            e => ssr::internal(e),
        })?;
    start_session(user.user_id).await?;
    tracing::info!(user_id = %user.user_id, "logged in");
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Ends the session and goes to the log-in page.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn log_out() -> Result<(), AppError> {
    let session = ssr::session().await?;
    session.flush().await.map_err(ssr::internal)?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    Ok(ssr::current_user().map(|user| UserView {
        name: user.name,
        email: user.email,
        org_name: user.org_name,
        role: user.role.as_str().to_owned(),
    }))
}

/// Only local paths are followed after log-in, so a crafted link cannot send
/// a freshly signed-in user to another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(feature = "ssr")]
async fn start_session(user_id: uuid::Uuid) -> Result<(), AppError> {
    let session = ssr::session().await?;
    // A new id on every sign-in defeats session fixation.
    session.cycle_id().await.map_err(ssr::internal)?;
    session
        .insert(SESSION_USER_KEY, user_id)
        .await
        .map_err(ssr::internal)
}

#[cfg(feature = "ssr")]
use super::ssr;

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_log_in() {
        assert_eq!(safe_next(Some("/calls?page=2")), "/calls?page=2");
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "calls",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
