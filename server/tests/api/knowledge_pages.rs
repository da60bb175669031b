//! The knowledge page's server functions through the real server: the scope picker lists only
//! the organization's own agents, an agent-scoped paste is searchable as that agent with its
//! title and headings, and a viewer may look but not re-process.

use std::time::Duration;

use app::dto::{AgentChoice, DocumentView, PassageView};
use app::error::AppError;
use reqwest::StatusCode;
use switchboard::store::agents::insert_agent;
use switchboard::testing::seed_org_with_agent;
use uuid::Uuid;

use crate::helpers::{TestApp, spawn_app};

const OWNER: &str = "owner@pages.example";
const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Signs up a new organization and returns its id.
    async fn signed_up_org(&self) -> Uuid {
        let signed_up = self.sign_up("Pages Co", OWNER, PASSWORD).await;
        assert!(
            signed_up.status.is_success() || signed_up.status.is_redirection(),
            "{signed_up:?}"
        );
        sqlx::query_scalar("select org_id from users where email = $1")
            .bind(OWNER)
            .fetch_one(&self.pool)
            .await
            .expect("the new owner")
    }

    async fn scope_agents(&self) -> Vec<AgentChoice> {
        let listed = self.call("knowledge/agents", &[]).await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
        serde_json::from_str(&listed.body).expect("agents JSON")
    }

    /// The documents once none is pending or processing.
    async fn settled_documents(&self) -> Vec<DocumentView> {
        for _ in 0..1500 {
            let listed = self.call("knowledge/list", &[]).await;
            let documents: Vec<DocumentView> = serde_json::from_str(&listed.body).unwrap();
            if documents
                .iter()
                .all(|d| d.status == "ready" || d.status == "failed")
            {
                return documents;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("documents never settled");
    }
}

#[tokio::test]
async fn the_scope_picker_lists_only_the_organizations_agents_by_name() {
    let app = spawn_app().await;
    let (_, elsewhere) = seed_org_with_agent(&app.pool, "Elsewhere").await;
    let refused = app.call("knowledge/agents", &[]).await;
    assert_eq!(refused.app_error(), AppError::Unauthorized);

    let org = app.signed_up_org().await;
    let zed = insert_agent(&app.pool, org, "Zed line").await.unwrap();
    let bookings = insert_agent(&app.pool, org, "bookings").await.unwrap();

    let agents = app.scope_agents().await;

    assert_eq!(
        agents,
        [
            AgentChoice {
                id: bookings.to_string(),
                name: "bookings".into()
            },
            AgentChoice {
                id: zed.to_string(),
                name: "Zed line".into()
            },
        ]
    );
    assert!(agents.iter().all(|a| a.id != elsewhere.to_string()));
    app.stop().await;
}

#[tokio::test]
async fn an_agent_scoped_paste_is_found_as_that_agent_with_its_title_and_headings() {
    let app = spawn_app().await;
    let org = app.signed_up_org().await;
    let agent = insert_agent(&app.pool, org, "Front desk").await.unwrap();
    let agent_id = agent.to_string();
    let pasted = app
        .call(
            "knowledge/paste",
            &[
                ("title", "Parking guide"),
                (
                    "text",
                    "# Parking\n\nParking is free behind the shop after six in the evening.",
                ),
                ("agent_id", &agent_id),
            ],
        )
        .await;
    assert_eq!(pasted.status, StatusCode::OK, "{}", pasted.body);

    let documents = app.settled_documents().await;
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].status, "ready", "{:?}", documents[0].error);
    assert_eq!(documents[0].agent_id.as_deref(), Some(agent_id.as_str()));
    assert!(documents[0].chunk_count > 0);

    let as_agent = app
        .call(
            "knowledge/search",
            &[
                ("query", "Where can I park my car?"),
                ("agent_id", &agent_id),
            ],
        )
        .await;
    assert_eq!(as_agent.status, StatusCode::OK, "{}", as_agent.body);
    let passages: Vec<PassageView> = serde_json::from_str(&as_agent.body).unwrap();
    assert_eq!(passages[0].title, "Parking guide");
    assert_eq!(passages[0].heading_path, ["Parking"]);
    assert_eq!(passages[0].source, "Parking guide › Parking");
    assert!(passages[0].score > 0.3, "{}", passages[0].score);

    // Organization-wide search does not see another agent's documents.
    let org_wide = app
        .call("knowledge/search", &[("query", "Where can I park my car?")])
        .await;
    let passages: Vec<PassageView> = serde_json::from_str(&org_wide.body).unwrap();
    assert!(passages.is_empty(), "{passages:?}");

    let empty = app.call("knowledge/search", &[("query", "   ")]).await;
    assert!(
        empty.app_error().for_field("query").is_some(),
        "{}",
        empty.body
    );
    app.stop().await;
}

#[tokio::test]
async fn a_viewer_lists_agents_but_cannot_reprocess_and_nobody_reprocesses_anothers_document() {
    let app = spawn_app().await;
    app.signed_up_org().await;
    let pasted = app
        .call(
            "knowledge/paste",
            &[("title", "Hours"), ("text", "Open nine to five.")],
        )
        .await;
    let id: String = serde_json::from_str(&pasted.body).unwrap();
    app.settled_documents().await;

    // Another organization's document is not found, as if it did not exist.
    let (other_org, _) = seed_org_with_agent(&app.pool, "Other").await;
    let other_doc: Uuid = sqlx::query_scalar(
        "insert into knowledge_documents
             (org_id, title, filename, content_type, size_bytes, sha256, original, status)
         values ($1, 'Theirs', 'theirs.txt', 'text/plain', 5, $2, $3, 'ready') returning id",
    )
    .bind(other_org)
    .bind(vec![0u8; 32])
    .bind(b"hello".to_vec())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let other = other_doc.to_string();
    let refused = app.call("knowledge/reprocess", &[("id", &other)]).await;
    assert_eq!(refused.app_error(), AppError::NotFound);
    let refused = app.call("knowledge/delete", &[("id", &other)]).await;
    assert_eq!(refused.app_error(), AppError::NotFound);

    let reprocessed = app.call("knowledge/reprocess", &[("id", &id)]).await;
    assert_eq!(reprocessed.status, StatusCode::OK, "{}", reprocessed.body);
    app.settled_documents().await;

    sqlx::query("update users set role = 'viewer' where email = $1")
        .bind(OWNER)
        .execute(&app.pool)
        .await
        .unwrap();
    assert!(app.scope_agents().await.is_empty());
    let refused = app.call("knowledge/reprocess", &[("id", &id)]).await;
    assert_eq!(refused.app_error(), AppError::Forbidden);
    let status: String =
        sqlx::query_scalar("select status from knowledge_documents where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(status, "ready");
    app.stop().await;
}
