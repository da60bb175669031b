//! The running server delivers `call.ended` to the organization's webhook once a call's
//! summary job is done: the job worker started with the app knows the delivery job.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use serde_json::Value;
use switchboard::jobs::JobQueue;
use switchboard::store::calls::insert_inbound_call;
use switchboard::summaries::enqueue_summary;
use switchboard::testing::seed_org_with_agent;
use switchboard::webhooks::event::signature;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_finished_call_reaches_the_organizations_webhook_signed() {
    let received: Arc<Mutex<Vec<(HeaderMap, String)>>> = Arc::default();
    let log = received.clone();
    let receiver = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let log = log.clone();
            async move {
                let body = String::from_utf8(body.to_vec()).unwrap();
                log.lock().unwrap().push((headers, body));
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await.unwrap() });
    let app = spawn_app().await;
    let (org, agent) = seed_org_with_agent(&app.pool, "Acme").await;
    switchboard::store::webhooks::save(&app.pool, org, &url, Some("s3cret"))
        .await
        .unwrap();
    let call = insert_inbound_call(&app.pool, org, agent, "CA1", "+15550001111", "+15550002222")
        .await
        .unwrap();

    // The call ends: its summary job is queued (offline here: no OpenAI key, so no summary).
    enqueue_summary(&app.pool, &JobQueue::new(), org, call, Duration::ZERO)
        .await
        .unwrap();

    let mut got = Vec::new();
    for _ in 0..200 {
        got = received.lock().unwrap().clone();
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (headers, body) = got.first().expect("the webhook was called");
    assert_eq!(headers["x-switchboard-event"], "call.ended");
    assert_eq!(
        headers["x-switchboard-signature"],
        signature("s3cret", body).as_str()
    );
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["call"]["id"], call.to_string());
    app.stop().await;
}
