//! `/api/v1/knowledge` and `/events/knowledge` through the real server: uploads in every
//! format become searchable, bad uploads are refused with their status and store nothing,
//! and one organization never sees another's documents.

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use switchboard::knowledge::extract::extract;
use switchboard::rag::{ChunkOptions, chunk};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../src/knowledge/testdata/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{TESTDATA}{name}")).expect("fixture")
}

fn file(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes).file_name(name.to_owned())
}

impl TestApp {
    async fn upload(&self, key: &str, form: Form) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/api/v1/knowledge"))
            .bearer_auth(key)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    async fn api(&self, key: &str, method: reqwest::Method, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body = response.text().await.expect("body");
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    async fn search(&self, key: &str, query: &str) -> Vec<Value> {
        let response = self
            .client
            .post(self.url("/api/v1/knowledge/search"))
            .bearer_auth(key)
            .json(&json!({ "query": query, "threshold": 0.0 }))
            .send()
            .await
            .expect("search");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("JSON");
        body["results"].as_array().expect("results").clone()
    }

    async fn wait_ready(&self, key: &str, id: &str) -> Value {
        for _ in 0..1500 {
            let (status, doc) = self
                .api(
                    key,
                    reqwest::Method::GET,
                    &format!("/api/v1/knowledge/{id}"),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{doc}");
            if doc["status"] == "ready" || doc["status"] == "failed" {
                return doc;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("document {id} never settled");
    }

    async fn stored_documents(&self) -> (i64, i64) {
        sqlx::query_as(
            "select (select count(*) from knowledge_documents), (select count(*) from knowledge_chunks)",
        )
        .fetch_one(&self.pool)
        .await
        .expect("counts")
    }
}

#[tokio::test]
async fn each_format_uploads_and_becomes_searchable() {
    let app = spawn_app().await;
    let (_, key) = app.org_with_key("Pizzeria").await;
    let names = [
        "pizzeria-faq.md",
        "pizzeria.html",
        "opening-hours-cp1252.txt",
        "constitution.pdf",
        "pizzeria-handbook.docx",
    ];
    let mut form = Form::new();
    for name in names {
        form = form.part("file", file(name, fixture(name)));
    }
    let (status, body) = app.upload(&key, form).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let documents = body["documents"].as_array().expect("documents");
    assert_eq!(documents.len(), names.len());

    for (name, accepted) in names.iter().zip(documents) {
        assert_eq!(accepted["filename"], *name);
        let doc = app.wait_ready(&key, accepted["id"].as_str().unwrap()).await;
        let text = extract(&fixture(name), name).unwrap().text;
        let expected = chunk(&text, &ChunkOptions::fitting(256)).len();
        assert_eq!(doc["status"], "ready", "{name}: {doc}");
        assert_eq!(doc["chunk_count"], expected, "{name}");
        assert_eq!(doc["chunks_embedded"], expected, "{name}");
    }

    let hits = app.search(&key, "Is there a vegan pizza?").await;
    assert!(!hits.is_empty());
    assert!(
        hits[0]["content"].as_str().unwrap().contains("Marinara"),
        "{}",
        hits[0]
    );
    assert!(hits[0]["score"].as_f64().unwrap() > 0.3);
    let (_, list) = app
        .api(&key, reqwest::Method::GET, "/api/v1/knowledge")
        .await;
    assert_eq!(list["documents"].as_array().unwrap().len(), names.len());
    app.stop().await;
}

#[tokio::test]
async fn pasted_text_and_delete() {
    let app = spawn_app().await;
    let (_, key) = app.org_with_key("Paste").await;
    let form = Form::new().text("title", "Parking").text(
        "text",
        "Parking is free behind the shop after six in the evening.",
    );
    let (status, body) = app.upload(&key, form).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let id = body["documents"][0]["id"].as_str().unwrap().to_owned();
    let doc = app.wait_ready(&key, &id).await;
    assert_eq!(
        (doc["title"].as_str(), doc["chunk_count"].as_i64()),
        (Some("Parking"), Some(1))
    );

    let (status, _) = app
        .api(
            &key,
            reqwest::Method::DELETE,
            &format!("/api/v1/knowledge/{id}"),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.stored_documents().await, (0, 0));
    assert!(app.search(&key, "Where can I park?").await.is_empty());
    let (status, _) = app
        .api(
            &key,
            reqwest::Method::DELETE,
            &format!("/api/v1/knowledge/{id}"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn oversized_and_unsupported_uploads_are_refused_and_store_nothing() {
    let app = spawn_app_with(&[("KNOWLEDGE_MAX_UPLOAD_MB", "1")]).await;
    let (_, key) = app.org_with_key("Limits").await;
    let cases = [
        // Over the file limit, inside the request limit: our check answers.
        (
            file("big.txt", vec![b'a'; 1_500_000]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than the 1 MiB upload limit",
        ),
        // Over the whole request limit: refused while reading.
        (
            file("huge.txt", vec![b'a'; 4_000_000]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "1 MiB",
        ),
        (
            file("setup.exe", b"MZ\x90\x00binary".to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "upload .txt, .md, .html, .pdf or .docx",
        ),
        (
            file("report.pdf", b"plain text, not a PDF".to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not one",
        ),
    ];
    for (part, want, message) in cases {
        // One good file beside the bad one: the batch is refused whole.
        let form = Form::new()
            .part(
                "file",
                file("ok.md", b"# Fine\n\nThis one is fine.".to_vec()),
            )
            .part("file", part);
        let (status, body) = app.upload(&key, form).await;
        assert_eq!(status, want, "{body}");
        let error = body["error"].as_str().expect("an error sentence");
        assert!(error.contains(message), "{error}");
    }
    let (status, body) = app.upload(&key, Form::new().text("title", "Nothing")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(app.stored_documents().await, (0, 0));
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(jobs, 0);
    app.stop().await;
}

#[tokio::test]
async fn requests_without_a_valid_key_or_session_are_refused() {
    let app = spawn_app().await;
    let (_, key) = app.org_with_key("Auth").await;
    let anonymous = app
        .client
        .get(app.url("/api/v1/knowledge"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let wrong = format!("{}x", &key[..key.len() - 1]);
    let (status, body) = app
        .api(&wrong, reqwest::Method::GET, "/api/v1/knowledge")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].as_str().unwrap().contains("not valid"));
    let events = app
        .client
        .get(app.url("/events/knowledge"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn one_organization_never_sees_anothers_documents() {
    let app = spawn_app().await;
    let (_, key_a) = app.org_with_key("Alpha").await;
    let (_, key_b) = app.org_with_key("Beta").await;
    let form = Form::new().part("file", file("pizzeria-faq.md", fixture("pizzeria-faq.md")));
    let (_, body) = app.upload(&key_a, form).await;
    let id = body["documents"][0]["id"].as_str().unwrap().to_owned();
    app.wait_ready(&key_a, &id).await;

    assert!(!app.search(&key_a, "Do you deliver?").await.is_empty());
    assert!(app.search(&key_b, "Do you deliver?").await.is_empty());
    let (_, list) = app
        .api(&key_b, reqwest::Method::GET, "/api/v1/knowledge")
        .await;
    assert_eq!(list["documents"], json!([]));
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let (status, _) = app
            .api(&key_b, method, &format!("/api/v1/knowledge/{id}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = app
        .api(
            &key_b,
            reqwest::Method::POST,
            &format!("/api/v1/knowledge/{id}/reprocess"),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.stored_documents().await.0, 1, "still there");
    app.stop().await;
}

/// Reads SSE events from `response` until one named `name` satisfies `done`.
async fn next_event(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buffer: &mut String,
    name: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| l.strip_prefix("event: "));
            let data = block.lines().find_map(|l| l.strip_prefix("data: "));
            if let (Some(event), Some(data)) = (event, data)
                && event == name
            {
                let value: Value = serde_json::from_str(data).expect("JSON data");
                if done(&value) {
                    return value;
                }
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("an event before the deadline")
            .expect("the stream stays open")
            .expect("a chunk");
        buffer.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
    }
}

#[tokio::test]
async fn progress_streams_to_the_organizations_dashboard_only() {
    let app = spawn_app().await;
    let (_, key_a) = app.org_with_key("Alpha").await;
    let (_, key_b) = app.org_with_key("Beta").await;
    let open = |key: String| {
        let request = app
            .client
            .get(app.url("/events/knowledge"))
            .bearer_auth(key);
        async move {
            let response = request.send().await.expect("SSE");
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.headers()["content-type"], "text/event-stream");
            response.bytes_stream()
        }
    };
    let mut events_a = Box::pin(open(key_a.clone()).await);
    let mut events_b = Box::pin(open(key_b).await);

    let form = Form::new().part(
        "file",
        file("constitution.pdf", fixture("constitution.pdf")),
    );
    let (_, body) = app.upload(&key_a, form).await;
    let id = body["documents"][0]["id"].as_str().unwrap().to_owned();
    let mut buffer = String::new();
    let partway = next_event(&mut events_a, &mut buffer, "document.progress", |v| {
        v["status"] == "processing" && v["chunks_total"].as_i64() > Some(0)
    })
    .await;
    assert_eq!(partway["document_id"], id.as_str());
    let ready = next_event(&mut events_a, &mut buffer, "document.progress", |v| {
        v["status"] == "ready"
    })
    .await;
    assert_eq!(ready["chunks_embedded"], ready["chunks_total"]);

    // B's stream carried none of it (only keep-alive comments, at most).
    let mut other = String::new();
    while let Ok(Some(Ok(chunk))) =
        tokio::time::timeout(Duration::from_millis(300), events_b.next()).await
    {
        other.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(!other.contains("document.progress"), "{other}");
    app.stop().await;
}

#[tokio::test]
async fn with_an_openai_key_documents_are_embedded_by_openai_through_throttling() {
    use switchboard::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions, InjectedFailure};
    let openai = FakeOpenAi::start(FakeOpenAiOptions {
        api_key: Some("sk-test".into()),
        ..FakeOpenAiOptions::default()
    })
    .await
    .expect("fake OpenAI");
    let app = spawn_app_with(&[
        ("OPENAI_API_KEY", "sk-test"),
        ("OPENAI_BASE_URL", &openai.base_url()),
    ])
    .await;
    let (_, key) = app.org_with_key("Cloud").await;
    // The provider throttles the first request; ingestion waits as told and carries on.
    openai.fail_next(
        1,
        InjectedFailure::RateLimited {
            retry_after_secs: Some(1),
        },
    );
    let form = Form::new().part("file", file("pizzeria-faq.md", fixture("pizzeria-faq.md")));
    let (_, body) = app.upload(&key, form).await;
    let id = body["documents"][0]["id"].as_str().unwrap().to_owned();
    let doc = app.wait_ready(&key, &id).await;
    assert_eq!(doc["status"], "ready", "{doc}");
    assert_eq!(doc["embedding_model"], "text-embedding-3-small");
    let dims: i32 = sqlx::query_scalar(
        "select vector_dims(embedding_1536) from knowledge_chunks where document_id = $1::uuid limit 1",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(dims, 1536);

    let hits = app.search(&key, "vegan pizza marinara").await;
    assert!(
        hits[0]["content"].as_str().unwrap().contains("Marinara"),
        "{hits:?}"
    );
    let embedding_requests = openai.requests_to("/v1/embeddings");
    assert!(
        embedding_requests.len() >= 3,
        "throttled, retried, then the query"
    );
    assert!(embedding_requests.iter().all(|r| r.has_bearer));
    assert_eq!(embedding_requests[0].status, 429);
    app.stop().await;
}

#[tokio::test]
async fn the_dashboard_pastes_text_searches_it_and_a_viewer_cannot_change_anything() {
    let app = spawn_app().await;
    let signed_up = app
        .sign_up(
            "Dashboard Co",
            "owner@dash.example",
            "correct horse battery",
        )
        .await;
    assert!(signed_up.status.is_success() || signed_up.status.is_redirection());
    let pasted = app
        .call(
            "knowledge/paste",
            &[
                ("title", "Parking"),
                (
                    "text",
                    "Parking is free behind the shop after six in the evening.",
                ),
            ],
        )
        .await;
    assert_eq!(pasted.status, StatusCode::OK, "{}", pasted.body);
    let id: String = serde_json::from_str(&pasted.body).unwrap();

    let mut documents = Vec::new();
    for _ in 0..1500 {
        let listed = app.call("knowledge/list", &[]).await;
        documents = serde_json::from_str::<Vec<app::dto::DocumentView>>(&listed.body).unwrap();
        if documents.iter().all(|d| d.status == "ready") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(documents.len(), 1);
    assert_eq!(
        (documents[0].id.as_str(), documents[0].status.as_str()),
        (id.as_str(), "ready")
    );

    let found = app
        .call("knowledge/search", &[("query", "Where can I park my car?")])
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    let passages: Vec<app::dto::PassageView> = serde_json::from_str(&found.body).unwrap();
    assert_eq!(passages[0].source, "Parking");
    assert!(passages[0].content.contains("free behind the shop"));

    // The same browser session may upload files through the REST endpoint.
    let form = Form::new().part(
        "file",
        file("faq.md", b"# Hours\n\nOpen nine to five.".to_vec()),
    );
    let response = app
        .client
        .post(app.url("/api/v1/knowledge"))
        .header("origin", &app.address)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    // Demoted to viewer: looking still works, changing is refused on the server.
    sqlx::query("update users set role = 'viewer' where email = 'owner@dash.example'")
        .execute(&app.pool)
        .await
        .unwrap();
    let refused = app
        .call(
            "knowledge/paste",
            &[("title", "More"), ("text", "More text.")],
        )
        .await;
    assert_eq!(refused.app_error(), app::error::AppError::Forbidden);
    let refused = app.call("knowledge/delete", &[("id", &id)]).await;
    assert_eq!(refused.app_error(), app::error::AppError::Forbidden);
    let form = Form::new().part("file", file("more.md", b"# More\n\nMore.".to_vec()));
    let response = app
        .client
        .post(app.url("/api/v1/knowledge"))
        .header("origin", &app.address)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let listed = app.call("knowledge/list", &[]).await;
    assert_eq!(listed.status, StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn an_owner_creates_a_key_that_works_once_shown_and_stops_when_revoked() {
    let app = spawn_app().await;
    app.sign_up("Keys Co", "owner@keys.example", "correct horse battery")
        .await;
    let created = app.call("keys/create", &[("name", "CRM sync")]).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let created: app::dto::NewApiKey = serde_json::from_str(&created.body).unwrap();
    assert!(created.secret.starts_with(&created.key.prefix));

    let (status, _) = app
        .api(&created.secret, reqwest::Method::GET, "/api/v1/knowledge")
        .await;
    assert_eq!(status, StatusCode::OK);
    let listed = app.call("keys/list", &[]).await;
    let listed: Vec<app::dto::ApiKeyView> = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(listed.len(), 1);
    assert!(!listed[0].prefix.is_empty() && listed[0].last_used_at.is_some());
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&created.secret),
        "never listed again"
    );

    let refused = app.call("keys/create", &[("name", " ")]).await;
    assert!(refused.app_error().for_field("name").is_some());
    let revoked = app.call("keys/revoke", &[("id", &created.key.id)]).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    let (status, _) = app
        .api(&created.secret, reqwest::Method::GET, "/api/v1/knowledge")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}
