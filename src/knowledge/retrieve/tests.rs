//! Against a real PostgreSQL + pgvector with the local all-MiniLM-L6-v2 (found through
//! `EMBEDDING_MODEL_DIR` or `<workspace>/.tools/all-minilm-l6-v2`; missing model = failure).

use super::*;
use crate::store::agents::insert_agent;
use crate::testing::{fresh_database, local_embedder, seed_org};

const FAQ: &str = include_str!("../testdata/pizzeria-faq.md");
/// RAG_SIMILARITY_THRESHOLD's default.
const THRESHOLD: f32 = 0.7;
/// RAG_CHUNK_LIMIT's default.
const LIMIT: u32 = 5;

/// Stores and ingests `text` as a document; returns its id.
async fn ingest(pool: &PgPool, org_id: Uuid, agent_id: Option<Uuid>, text: &str) -> Uuid {
    let id = store::insert_document(
        pool,
        org_id,
        agent_id,
        "Pizzeria FAQ",
        "pizzeria-faq.md",
        "text/markdown",
        text.as_bytes(),
    )
    .await
    .unwrap();
    ingest_text(pool, local_embedder().await.as_ref(), org_id, id, text)
        .await
        .unwrap();
    id
}

async fn ask(pool: &PgPool, org_id: Uuid, agent_id: Option<Uuid>, q: &str) -> Vec<MatchedChunk> {
    search(
        pool,
        local_embedder().await.as_ref(),
        org_id,
        agent_id,
        q,
        LIMIT,
        THRESHOLD,
    )
    .await
    .unwrap()
}

async fn chunk_count(pool: &PgPool, document_id: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from knowledge_chunks where document_id = $1")
        .bind(document_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn ingesting_the_faq_makes_it_ready_and_answers_a_question_with_its_passage() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "Pizzeria").await;
    let id = ingest(&pool, org_id, None, FAQ).await;

    let (status, count, model): (String, i32, String) = sqlx::query_as(
        "select status, chunk_count, embedding_model from knowledge_documents where id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(status, "ready");
    assert_eq!(count, 3, "one chunk per question");
    assert_eq!(chunk_count(&pool, id).await, 3);
    assert_eq!(model, "all-MiniLM-L6-v2");

    let hits = ask(&pool, org_id, None, "Is there a vegan pizza?").await;
    assert!(!hits.is_empty(), "no passage above {THRESHOLD}");
    assert!(hits[0].content.contains("Marinara"), "{hits:#?}");
    assert!(hits[0].score > THRESHOLD, "{}", hits[0].score);
    assert_eq!(hits[0].title, "Pizzeria FAQ");
    assert_eq!(hits[0].document_id, id);
}

#[tokio::test]
async fn another_organization_never_sees_the_passages() {
    let (_, pool) = fresh_database().await;
    let a = seed_org(&pool, "A").await;
    let b = seed_org(&pool, "B").await;
    ingest(&pool, a, None, FAQ).await;
    assert!(
        !ask(&pool, a, None, "Is there a vegan pizza?")
            .await
            .is_empty()
    );
    assert!(
        ask(&pool, b, None, "Is there a vegan pizza?")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn agent_documents_are_private_to_their_agent_and_org_documents_are_shared() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let alice = insert_agent(&pool, org_id, "alice").await.unwrap();
    let bob = insert_agent(&pool, org_id, "bob").await.unwrap();
    let private = ingest(&pool, org_id, Some(alice), FAQ).await;
    let q = "Is there a vegan pizza?";
    assert!(ask(&pool, org_id, Some(bob), q).await.is_empty());
    let hits = ask(&pool, org_id, Some(alice), q).await;
    assert_eq!(hits[0].document_id, private);

    let shared = ingest(&pool, org_id, None, FAQ).await;
    let hits = ask(&pool, org_id, Some(bob), q).await;
    assert!(hits.iter().all(|h| h.document_id == shared), "{hits:#?}");
    assert!(!hits.is_empty());
}

#[tokio::test]
async fn reingesting_replaces_chunks_and_deleting_removes_them() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let id = ingest(&pool, org_id, None, FAQ).await;
    ingest_text(&pool, local_embedder().await.as_ref(), org_id, id, FAQ)
        .await
        .unwrap();
    assert_eq!(chunk_count(&pool, id).await, 3);
    let hits = ask(&pool, org_id, None, "Is there a vegan pizza?").await;
    let marinara = hits.iter().filter(|h| h.content.contains("Marinara"));
    assert_eq!(marinara.count(), 1, "{hits:#?}");

    assert!(store::delete_document(&pool, org_id, id).await.unwrap());
    assert_eq!(chunk_count(&pool, id).await, 0);
    assert!(
        ask(&pool, org_id, None, "Is there a vegan pizza?")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn chunks_of_another_384_dimension_model_are_not_compared() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let id = store::insert_document(&pool, org_id, None, "T", "t", "text/plain", b"x")
        .await
        .unwrap();
    // The very vector of the question, but from a "different" model.
    let q = "Is there a vegan pizza?";
    let vector = local_embedder()
        .await
        .as_ref()
        .embed(&[q.to_owned()])
        .await
        .unwrap();
    let chunk = crate::rag::chunk(q, &ChunkOptions::default()).remove(0);
    store::replace_chunks(
        &pool,
        org_id,
        id,
        "bge-small-en",
        &[(chunk, vector[0].clone())],
    )
    .await
    .unwrap();
    assert!(ask(&pool, org_id, None, q).await.is_empty());
}
