use reqwest::StatusCode;
use switchboard::accounts::MAX_FAILURES;

use crate::helpers::spawn_app;

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn sign_up_creates_the_organization_and_signs_the_owner_in() {
    let app = spawn_app().await;

    let response = app
        .sign_up("Tony's Pizza", "Tony@Example.com", PASSWORD)
        .await;

    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{response:?}"
    );
    let me = app.whoami().await.expect("signed in after sign-up");
    assert_eq!(me.email, "tony@example.com");
    assert_eq!(me.org_name, "Tony's Pizza");
    assert_eq!(me.role, "owner");
    let (orgs, hash): (i64, String) = sqlx::query_as(
        "select (select count(*) from organizations), password_hash from users where email = 'tony@example.com'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(orgs, 1);
    assert!(
        hash.starts_with("$argon2id$"),
        "passwords are stored as argon2id: {hash}"
    );
}

#[tokio::test]
async fn log_out_then_log_in_again() {
    let app = spawn_app().await;
    app.sign_up("Acme", "ana@example.com", PASSWORD).await;

    let response = app.log_out().await;
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{response:?}"
    );
    assert_eq!(app.whoami().await, None);

    let response = app.log_in("ANA@example.com ", PASSWORD).await;
    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{response:?}"
    );
    assert_eq!(
        app.whoami().await.expect("signed in").email,
        "ana@example.com"
    );
}

#[tokio::test]
async fn a_protected_page_redirects_to_log_in_when_signed_out() {
    let app = spawn_app().await;

    for path in ["/", "/agents", "/calls?page=2"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login"), "{path} -> {location}");
    }
    let response = app.get("/calls?page=2").await;
    assert_eq!(
        response.headers()["location"],
        "/login?next=/calls%3Fpage%3D2"
    );

    app.sign_up("Acme", "ana@example.com", PASSWORD).await;
    let response = app.get("/agents").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Agents"));
    let response = app.get("/login").await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "signed-in users skip the log-in page"
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.sign_up("Acme", "ana@example.com", PASSWORD).await;
    app.log_out().await;

    let wrong_password = app
        .log_in("ana@example.com", "not the password")
        .await
        .app_error();
    let unknown_email = app.log_in("bob@example.com", PASSWORD).await.app_error();

    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password.to_string(), "Wrong email or password.");
    assert_eq!(app.whoami().await, None);
}

#[tokio::test]
async fn a_duplicate_email_is_refused_with_a_clear_message() {
    let app = spawn_app().await;
    app.sign_up("Acme", "ana@example.com", PASSWORD).await;
    app.log_out().await;

    let error = app
        .sign_up("Other Org", "Ana@Example.com", PASSWORD)
        .await
        .app_error();

    assert_eq!(
        error.for_field("email").as_deref(),
        Some("An account with this email already exists. Log in instead, or use another email.")
    );
    let orgs: i64 = sqlx::query_scalar("select count(*) from organizations")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(orgs, 1, "the refused sign-up created nothing");
}

#[tokio::test]
async fn sign_up_validates_each_field_next_to_it() {
    let app = spawn_app().await;
    let short = app
        .sign_up("Acme", "ana@example.com", "short")
        .await
        .app_error();
    assert!(short.for_field("password").is_some(), "{short:?}");
    let bad_email = app
        .sign_up("Acme", "not-an-email", PASSWORD)
        .await
        .app_error();
    assert!(bad_email.for_field("email").is_some(), "{bad_email:?}");
    let no_org = app
        .sign_up("  ", "ana@example.com", PASSWORD)
        .await
        .app_error();
    assert!(no_org.for_field("org_name").is_some(), "{no_org:?}");
}

#[tokio::test]
async fn repeated_failed_log_ins_are_rate_limited_even_with_the_right_password() {
    let app = spawn_app().await;
    app.sign_up("Acme", "ana@example.com", PASSWORD).await;
    app.log_out().await;

    for _ in 0..MAX_FAILURES {
        app.log_in("ana@example.com", "guess").await;
    }
    let error = app.log_in("ana@example.com", PASSWORD).await.app_error();

    assert!(
        error.to_string().starts_with("Too many failed log-ins"),
        "{error}"
    );
    assert_eq!(app.whoami().await, None);
}

#[tokio::test]
async fn a_form_posted_without_javascript_redirects_back_with_its_error() {
    let app = spawn_app().await;

    let response = app
        .post_form(
            "login",
            "/login",
            &[("email", "x@example.com"), ("password", "nope nope nope")],
        )
        .await;

    assert_eq!(response.status, StatusCode::FOUND, "{response:?}");
    let location = response.location.expect("a redirect");
    assert!(
        location.contains("/login") && location.contains("__err="),
        "{location}"
    );
}

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/signup"))
        .header("origin", "https://evil.example")
        .form(&[
            ("org_name", "Evil"),
            ("name", ""),
            ("email", "evil@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn session_cookies_are_http_only_and_same_site() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/signup"))
        .header("accept", "application/json")
        .form(&[
            ("org_name", "Acme"),
            ("name", ""),
            ("email", "ana@example.com"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("switchboard_session="))
        .expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Max-Age="), "sessions expire: {cookie}");
}
