//! Who is asking: the session's user, the guard in front of dashboard pages,
//! and the same-origin check that keeps other sites from posting our forms.
//!
//! Session cookies are `HttpOnly`, `SameSite=Lax`, `Secure` when the public URL
//! is https, and expire after a week of inactivity. Together with the origin
//! check below, that is our CSRF defence (OWASP: "verifying origin with
//! standard headers" plus SameSite cookies), and it works with plain form posts.

use app::api::auth::SESSION_USER_KEY;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sqlx::PgPool;
use switchboard::accounts::{self, CurrentUser};
use tower_sessions::Session;
use uuid::Uuid;

/// Pages anyone may see; a signed-in visitor is sent to the dashboard instead.
const PUBLIC_PAGES: [&str; 2] = ["/login", "/signup"];

/// Puts the signed-in [`CurrentUser`] (if any) into the request's extensions.
pub async fn load_user(
    State(pool): State<PgPool>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    // Static files need no user; skipping them saves a query per asset.
    if request.uri().path().starts_with("/pkg/") {
        return next.run(request).await;
    }
    match session.get::<Uuid>(SESSION_USER_KEY).await {
        Ok(Some(user_id)) => match accounts::load_user(&pool, user_id).await {
            Ok(Some(user)) => {
                request.extensions_mut().insert(user);
            }
            Ok(None) => {
                // The user was deleted: the session means nothing any more.
                let _ = session.flush().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "loading the signed-in user");
                return (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable").into_response();
            }
        },
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "reading the session");
            return (StatusCode::SERVICE_UNAVAILABLE, "Service unavailable").into_response();
        }
    }
    next.run(request).await
}

/// In front of the dashboard's pages: anonymous visitors go to log-in (and
/// come back afterwards); signed-in visitors skip the log-in and sign-up pages.
pub async fn guard_pages(request: Request, next: Next) -> Response {
    // Server functions share these routes; each one checks the user itself.
    if request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let signed_in = request.extensions().get::<CurrentUser>().is_some();
    let path = request.uri().path();
    // An invitation link works whoever is signed in: it only shows what the link is for.
    if path.starts_with(switchboard::members::INVITE_PATH_PREFIX) {
        return next.run(request).await;
    }
    let public = PUBLIC_PAGES.contains(&path);
    match (public, signed_in) {
        (true, true) => Redirect::to("/").into_response(),
        (false, false) => {
            let wanted = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let target = if wanted == "/" {
                "/login".to_owned()
            } else {
                format!("/login?next={}", urlencode(wanted))
            };
            Redirect::to(&target).into_response()
        }
        _ => next.run(request).await,
    }
}

/// Refuses state-changing requests that a browser sent from another origin.
/// Requests without browser headers (API clients, Twilio) pass: they carry no
/// session cookie a forgery could ride on.
pub async fn same_origin_writes(request: Request<Body>, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || is_same_origin(request.headers()) {
        next.run(request).await
    } else {
        tracing::warn!(path = %request.uri().path(), "cross-origin write refused");
        (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
    }
}

fn is_same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        // `Origin: null` comes from sandboxed frames and privacy redirects: not us.
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        return origin_host.is_some() && origin_host == host;
    }
    // Older browsers omit Origin on some same-origin posts; Fetch Metadata still tells.
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") | Some("none") | None => true,
        Some(_) => false,
    }
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn same_origin_posts_pass_and_foreign_ones_do_not() {
        assert!(is_same_origin(&headers(&[
            ("host", "app.example"),
            ("origin", "https://app.example")
        ])));
        assert!(!is_same_origin(&headers(&[
            ("host", "app.example"),
            ("origin", "https://evil.example")
        ])));
        assert!(!is_same_origin(&headers(&[
            ("host", "app.example"),
            ("origin", "null")
        ])));
        assert!(!is_same_origin(&headers(&[
            ("host", "app.example"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(is_same_origin(&headers(&[("host", "app.example")])));
    }

    #[test]
    fn next_paths_are_percent_encoded() {
        assert_eq!(
            urlencode("/calls?page=2&q=a b"),
            "/calls%3Fpage%3D2%26q%3Da%20b"
        );
    }
}
