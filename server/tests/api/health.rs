use reqwest::StatusCode;
use switchboard::testing::start_cluster;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_while_the_process_is_up() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries its request id"
    );
    app.stop().await;
}

#[tokio::test]
async fn readyz_fails_when_the_database_is_stopped() {
    // Arrange: a server on a cluster of its own, so stopping it harms no other test.
    let cluster = start_cluster().await.expect("a private cluster");
    let url = cluster.url();
    let app = spawn_app_with(&[("DATABASE_URL", &url)]).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);

    // Act
    cluster.stop().await.expect("stop the cluster");

    // Assert
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get("/healthz").await.status(),
        StatusCode::OK,
        "the process itself is still up"
    );
}
