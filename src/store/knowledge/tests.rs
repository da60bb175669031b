//! Against a real PostgreSQL + pgvector, with hand-made unit vectors (no model needed).

use super::*;
use crate::store::agents::insert_agent;
use crate::testing::{fresh_database, seed_org};

const MODEL: &str = "all-MiniLM-L6-v2";

/// A unit vector of `dims` pointing mostly along `axis`.
fn unit(dims: usize, axis: usize) -> Vec<f32> {
    let mut v = vec![0.0; dims];
    v[axis] = 1.0;
    v
}

fn chunk(index: usize, text: &str) -> Chunk {
    Chunk {
        index,
        heading_path: vec!["FAQ".into()],
        text: text.into(),
        token_count: 3,
        source_start: 0,
        source_end: text.len(),
    }
}

async fn document(pool: &PgPool, org_id: Uuid, agent_id: Option<Uuid>, texts: &[&str]) -> Uuid {
    let id = insert_document(
        pool,
        org_id,
        agent_id,
        "FAQ",
        "faq.md",
        "text/markdown",
        b"x",
    )
    .await
    .unwrap();
    let chunks: Vec<_> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| (chunk(i, t), unit(384, i)))
        .collect();
    replace_chunks(pool, org_id, id, MODEL, &chunks)
        .await
        .unwrap();
    id
}

async fn chunk_count(pool: &PgPool, document_id: Uuid) -> i64 {
    sqlx::query_scalar("select count(*) from knowledge_chunks where document_id = $1")
        .bind(document_id)
        .fetch_one(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_document_is_pending_and_not_searchable() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let id = insert_document(&pool, org_id, None, "T", "t.txt", "text/plain", b"hello")
        .await
        .unwrap();
    let (status, sha): (String, Vec<u8>) =
        sqlx::query_as("select status, sha256 from knowledge_documents where id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "pending");
    assert_eq!(sha, Sha256::digest(b"hello").to_vec());
    let hits = match_chunks(&pool, org_id, None, &unit(384, 0), MODEL, 5, 0.5)
        .await
        .unwrap();
    assert!(hits.is_empty());
}

#[tokio::test]
async fn replace_chunks_marks_ready_and_replaces_instead_of_duplicating() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let id = document(&pool, org_id, None, &["one", "two", "three"]).await;
    let (status, count, model): (String, i32, Option<String>) = sqlx::query_as(
        "select status, chunk_count, embedding_model from knowledge_documents where id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), count, model.as_deref()),
        ("ready", 3, Some(MODEL))
    );

    let again = [(chunk(0, "only"), unit(384, 0))];
    replace_chunks(&pool, org_id, id, MODEL, &again)
        .await
        .unwrap();
    assert_eq!(chunk_count(&pool, id).await, 1);
    let hits = match_chunks(&pool, org_id, None, &unit(384, 0), MODEL, 5, 0.5)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].content, "only");
}

#[tokio::test]
async fn another_organization_cannot_replace_or_delete_a_document() {
    let (_, pool) = fresh_database().await;
    let a = seed_org(&pool, "A").await;
    let b = seed_org(&pool, "B").await;
    let id = document(&pool, a, None, &["secret"]).await;
    let err = replace_chunks(&pool, b, id, MODEL, &[]).await.unwrap_err();
    assert!(matches!(err, ReplaceChunksError::DocumentNotFound { .. }));
    assert!(!delete_document(&pool, b, id).await.unwrap());
    assert!(!mark_failed(&pool, b, id, "nope").await.unwrap());
    assert_eq!(chunk_count(&pool, id).await, 1);
}

#[tokio::test]
async fn match_chunks_ranks_by_cosine_similarity_and_applies_the_threshold() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    document(&pool, org_id, None, &["x", "y"]).await;
    // Closer to axis 1 than to axis 0: similarity 0.8 and 0.6.
    let mut query = vec![0.0; 384];
    query[0] = 0.6;
    query[1] = 0.8;
    let hits = match_chunks(&pool, org_id, None, &query, MODEL, 5, 0.0)
        .await
        .unwrap();
    let got: Vec<_> = hits.iter().map(|h| h.content.as_str()).collect();
    assert_eq!(got, ["y", "x"]);
    assert!((hits[0].score - 0.8).abs() < 1e-4, "{}", hits[0].score);
    assert_eq!(hits[0].title, "FAQ");
    assert_eq!(hits[0].heading_path, ["FAQ"]);

    let hits = match_chunks(&pool, org_id, None, &query, MODEL, 5, 0.7)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    let hits = match_chunks(&pool, org_id, None, &query, MODEL, 1, 0.0)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
}

#[tokio::test]
async fn chunks_from_another_embedding_model_are_never_compared() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let id = insert_document(&pool, org_id, None, "T", "t", "text/plain", b"x")
        .await
        .unwrap();
    replace_chunks(
        &pool,
        org_id,
        id,
        "other-384-model",
        &[(chunk(0, "alien"), unit(384, 0))],
    )
    .await
    .unwrap();
    let hits = match_chunks(&pool, org_id, None, &unit(384, 0), MODEL, 5, 0.0)
        .await
        .unwrap();
    assert!(hits.is_empty(), "{hits:?}");
    let hits = match_chunks(
        &pool,
        org_id,
        None,
        &unit(384, 0),
        "other-384-model",
        5,
        0.0,
    )
    .await
    .unwrap();
    assert_eq!(hits.len(), 1);
}

#[tokio::test]
async fn vectors_of_1536_dimensions_use_their_own_column() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let id = insert_document(&pool, org_id, None, "T", "t", "text/plain", b"x")
        .await
        .unwrap();
    let model = "text-embedding-3-small";
    replace_chunks(
        &pool,
        org_id,
        id,
        model,
        &[(chunk(0, "big"), unit(1536, 7))],
    )
    .await
    .unwrap();
    let hits = match_chunks(&pool, org_id, None, &unit(1536, 7), model, 5, 0.5)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    let err = replace_chunks(
        &pool,
        org_id,
        id,
        model,
        &[(chunk(0, "odd"), vec![1.0; 10])],
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        ReplaceChunksError::UnsupportedDimensions { got: 10 }
    ));
}

#[tokio::test]
async fn failed_and_deleted_documents_are_not_searchable() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let failed = document(&pool, org_id, None, &["a"]).await;
    assert!(mark_failed(&pool, org_id, failed, "boom").await.unwrap());
    let hits = match_chunks(&pool, org_id, None, &unit(384, 0), MODEL, 5, 0.5)
        .await
        .unwrap();
    assert!(hits.is_empty());

    let deleted = document(&pool, org_id, None, &["b"]).await;
    assert!(delete_document(&pool, org_id, deleted).await.unwrap());
    assert_eq!(chunk_count(&pool, deleted).await, 0);
}

#[tokio::test]
async fn agent_documents_are_visible_to_their_agent_and_org_documents_to_all() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let alice = insert_agent(&pool, org_id, "alice").await.unwrap();
    let bob = insert_agent(&pool, org_id, "bob").await.unwrap();
    document(&pool, org_id, Some(alice), &["alice's"]).await;
    document(&pool, org_id, None, &["everyone's"]).await;
    let seen = |agent_id| {
        let pool = pool.clone();
        async move {
            let mut got: Vec<String> =
                match_chunks(&pool, org_id, agent_id, &unit(384, 0), MODEL, 5, 0.5)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|h| h.content)
                    .collect();
            got.sort();
            got
        }
    };
    assert_eq!(seen(Some(alice)).await, ["alice's", "everyone's"]);
    assert_eq!(seen(Some(bob)).await, ["everyone's"]);
    assert_eq!(seen(None).await, ["everyone's"]);
}

#[tokio::test]
async fn the_384_branch_can_be_served_by_the_hnsw_index() {
    let (_, pool) = fresh_database().await;
    let org_id = seed_org(&pool, "A").await;
    let doc = insert_document(&pool, org_id, None, "T", "t", "text/plain", b"x")
        .await
        .unwrap();
    // Enough random rows that the planner prefers the index to a sort.
    sqlx::query(
        "insert into knowledge_chunks (org_id, document_id, chunk_index, content, token_count, \
             source_start, source_end, embedding_model, embedding_384) \
         select $1, $2, i, 'c', 1, 0, 1, $3, \
                (select array_agg(random())::real[] from generate_series(1, 384) where i.i >= 0)::vector \
           from generate_series(0, 1999) i",
    )
    .bind(org_id)
    .bind(doc)
    .bind(MODEL)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("update knowledge_documents set status = 'ready' where id = $1")
        .bind(doc)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("analyze").execute(&pool).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(
        "explain select c.id from knowledge_chunks c \
           join knowledge_documents d on d.id = c.document_id and d.org_id = $1 \
          where c.org_id = $1 and (c.agent_id is null or c.agent_id = $2) \
            and c.embedding_model = $3 and d.status = 'ready' \
          order by c.embedding_384 <=> $4 limit 5",
    )
    .bind(org_id)
    .bind(None::<Uuid>)
    .bind(MODEL)
    .bind(Vector::from(unit(384, 0)))
    .fetch_all(&pool)
    .await
    .unwrap();
    let plan = plan.join("\n");
    assert!(plan.contains("knowledge_chunks_384_hnsw"), "{plan}");
}

#[tokio::test]
async fn retrieval_searches_with_the_benchmarked_ef_search() {
    let (_, pool) = fresh_database().await;
    let config: Vec<String> = sqlx::query_scalar(
        "select unnest(proconfig) from pg_proc \
          where oid = 'match_knowledge_chunks(vector, uuid, uuid, integer, real, text)'::regprocedure",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(config, ["hnsw.ef_search=100"]);
}
