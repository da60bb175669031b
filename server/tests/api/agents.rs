//! The agents server functions over HTTP: create, validate, edit, prompt versions (diff and
//! restore), delete, and who may do what.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use app::dto::agents::{AgentEditor, AgentSaved, DiffKind, PromptDiffView, PromptHistory};
use app::error::AppError;

use crate::helpers::{FnResponse, TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

/// The editor's fields for a new agent named `name`, as the browser posts them.
fn agent_form(name: &str) -> Vec<(&'static str, String)> {
    let tools = json!([{
        "name": "book_table",
        "description": "Book a table.",
        "parameters": {
            "type": "object",
            "properties": {"guests": {"type": "integer", "minimum": 1}},
            "required": ["guests"]
        }
    }]);
    let outcome = json!({"type": "object", "properties": {"booked": {"type": "boolean"}}});
    vec![
        ("name", name.into()),
        ("description", "Takes table bookings".into()),
        ("status", "active".into()),
        (
            "system_prompt",
            "You book tables for Tony's.\nBe brief.".into(),
        ),
        ("inbound_prompt", String::new()),
        ("outbound_prompt", String::new()),
        ("greeting", "Tony's, how can I help?".into()),
        ("first_speaker", "agent".into()),
        ("model", "gpt-realtime".into()),
        ("voice", "coral".into()),
        ("language", "en".into()),
        ("vad_mode", "semantic_vad".into()),
        ("audio_format", "pcmu".into()),
        ("knowledge_search", "on".into()),
        ("end_call", "on".into()),
        ("transfer", "on".into()),
        ("transfer_number", "+14155550123".into()),
        ("tools", tools.to_string()),
        ("outcome_schema", outcome.to_string()),
        ("max_duration_secs", "900".into()),
        ("silence_reprompt_secs", "10".into()),
        ("silence_max_reprompts", "3".into()),
        ("ai_disclosure", "on".into()),
        ("rag_chunk_limit", "6".into()),
        ("rag_similarity_threshold", "0.6".into()),
    ]
}

/// `form` with `field` set to `value` (added when absent, removed when `None`: an unticked box).
fn with(
    mut form: Vec<(&'static str, String)>,
    field: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    form.retain(|(name, _)| *name != field);
    if let Some(value) = value {
        form.push((field, value.into()));
    }
    form
}

impl TestApp {
    async fn call_owned(&self, endpoint: &str, form: &[(&'static str, String)]) -> FnResponse {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.call(endpoint, &form).await
    }

    async fn signed_up_owner(&self, org: &str, email: &str) {
        let response = self.sign_up(org, email, PASSWORD).await;
        assert!(
            response.status.is_success() || response.status.is_redirection(),
            "{response:?}"
        );
    }

    async fn agent_id(&self, name: &str) -> Uuid {
        sqlx::query_scalar("select id from agents where name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .expect("the agent exists")
    }

    async fn create_agent(&self, name: &str) -> Uuid {
        let response = self.call_owned("agents/create", &agent_form(name)).await;
        assert!(
            response.status.is_success() || response.status.is_redirection(),
            "{response:?}"
        );
        self.agent_id(name).await
    }

    async fn update_agent(
        &self,
        id: Uuid,
        form: Vec<(&'static str, String)>,
    ) -> Result<AgentSaved, AppError> {
        let form = with(form, "id", Some(&id.to_string()));
        let response = self.call_owned("agents/update", &form).await;
        if response.status == StatusCode::OK {
            Ok(serde_json::from_str(&response.body).expect("AgentSaved JSON"))
        } else {
            Err(response.app_error())
        }
    }

    async fn agent_count(&self) -> i64 {
        sqlx::query_scalar("select count(*) from agents")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

#[track_caller]
fn ok<T: serde::de::DeserializeOwned>(response: &FnResponse) -> T {
    assert_eq!(response.status, StatusCode::OK, "{response:?}");
    serde_json::from_str(&response.body).expect("JSON body")
}

#[tokio::test]
async fn an_owner_creates_an_agent_and_the_call_path_reads_its_settings() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;

    let response = app
        .call_owned("agents/create", &agent_form("Bookings"))
        .await;

    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{response:?}"
    );
    let id = app.agent_id("Bookings").await;
    let editor: AgentEditor = ok(&app.call("agents/get", &[("id", &id.to_string())]).await);
    assert_eq!(editor.form.voice, "coral");
    assert_eq!(editor.form.transfer_number, "+14155550123");
    assert_eq!(editor.prompt_version, 1);
    let list: Vec<app::dto::agents::AgentListItem> = ok(&app.call("agents/list", &[]).await);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].name, "Bookings");

    // What a call will use, read the way the call path reads it.
    let org: Uuid = sqlx::query_scalar("select org_id from agents where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let voice = switchboard::store::agents::find_voice_settings(&app.pool, org, id)
        .await
        .unwrap()
        .unwrap();
    let tools = switchboard::business_tools::parse_tools(&voice.tools).expect("runnable tools");
    assert_eq!(tools[0].name, "book_table");
    assert_eq!(voice.vad_mode, "semantic_vad");
    assert_eq!(voice.rag_chunk_limit, Some(6));
    // The start context is queued for recomputation.
    let queued: i64 = sqlx::query_scalar(
        "select count(*) from jobs where kind = $1 and payload->>'agent_id' = $2",
    )
    .bind(switchboard::knowledge::ingest::CONTEXT_JOB)
    .bind(id.to_string())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(queued, 1);
}

#[tokio::test]
async fn each_invalid_field_is_reported_next_to_it_and_nothing_is_stored() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    let bad_schema = json!([{"name": "book", "description": "", "parameters": {"type": "object", "properties": {"day": {"type": "weekday"}}}}]);
    let cases: Vec<(&'static str, Option<String>)> = vec![
        ("name", Some("   ".into())),
        ("name", Some("x".repeat(101))),
        ("voice", Some("nova".into())),
        ("language", Some("English".into())),
        ("transfer_number", Some("415-555-0123".into())),
        ("tools", Some("[{\"name\": ".into())),
        ("tools", Some(bad_schema.to_string())),
        (
            "tools",
            Some(
                json!([{"name": "end_call", "description": "", "parameters": {"type": "object"}}])
                    .to_string(),
            ),
        ),
        ("outcome_schema", Some("{\"type\": \"string\"}".into())),
        ("max_duration_secs", Some("10".into())),
        ("max_duration_secs", Some("ten".into())),
        ("silence_reprompt_secs", Some("500".into())),
        ("silence_max_reprompts", Some("11".into())),
        ("rag_chunk_limit", Some("0".into())),
        ("rag_similarity_threshold", Some("2".into())),
    ];
    for (field, value) in cases {
        let form = with(agent_form("Bookings"), field, value.as_deref());

        let error = app.call_owned("agents/create", &form).await.app_error();

        assert!(
            error.for_field(field).is_some(),
            "{field} = {value:?} should be refused on its field: {error:?}"
        );
    }
    assert_eq!(app.agent_count().await, 0);
}

#[tokio::test]
async fn a_duplicate_name_gets_a_friendly_error() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    app.create_agent("Bookings").await;

    let error = app
        .call_owned("agents/create", &agent_form("Bookings"))
        .await
        .app_error();

    let message = error.for_field("name").expect("an error on the name");
    assert!(message.contains("already called"), "{message}");
    assert_eq!(app.agent_count().await, 1);
}

#[tokio::test]
async fn editing_the_prompt_twice_makes_three_versions_with_a_diff_and_a_restore() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    let id = app.create_agent("Bookings").await;
    let id_text = id.to_string();

    // A save that changes no prompt makes no version.
    let same = app
        .update_agent(id, with(agent_form("Bookings"), "voice", Some("sage")))
        .await
        .unwrap();
    assert_eq!((same.prompt_version, same.new_version), (1, false));
    let v2 = app
        .update_agent(
            id,
            with(
                agent_form("Bookings"),
                "system_prompt",
                Some("You book tables for Tony's.\nBe warm."),
            ),
        )
        .await
        .unwrap();
    let v3 = app
        .update_agent(
            id,
            with(
                agent_form("Bookings"),
                "system_prompt",
                Some("You book tables for Tony's.\nBe warm and quick."),
            ),
        )
        .await
        .unwrap();
    assert_eq!((v2.prompt_version, v3.prompt_version), (2, 3));

    let history: PromptHistory = ok(&app.call("agents/versions", &[("id", &id_text)]).await);
    assert_eq!(
        history
            .versions
            .iter()
            .map(|v| v.version)
            .collect::<Vec<_>>(),
        [3, 2, 1]
    );
    assert_eq!(history.versions[0].author.as_deref(), Some("Test Owner"));

    let diff: PromptDiffView = ok(&app
        .call(
            "agents/diff",
            &[("id", &id_text), ("from", "1"), ("to", "2")],
        )
        .await);
    assert_eq!(diff.changes.len(), 1);
    assert_eq!(diff.changes[0].label, "System prompt");
    let lines: Vec<(DiffKind, &str)> = diff.changes[0].hunks[0]
        .lines
        .iter()
        .map(|l| (l.kind, l.text.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (DiffKind::Same, "You book tables for Tony's."),
            (DiffKind::Removed, "Be brief."),
            (DiffKind::Added, "Be warm."),
        ]
    );

    let restored: Option<i32> = ok(&app
        .call("agents/restore", &[("id", &id_text), ("version", "1")])
        .await);
    assert_eq!(restored, Some(4));
    let editor: AgentEditor = ok(&app.call("agents/get", &[("id", &id_text)]).await);
    assert_eq!(
        editor.form.system_prompt,
        "You book tables for Tony's.\nBe brief."
    );
    assert_eq!(editor.prompt_version, 4);
    let back: PromptDiffView = ok(&app
        .call(
            "agents/diff",
            &[("id", &id_text), ("from", "1"), ("to", "4")],
        )
        .await);
    assert!(back.changes.is_empty(), "{back:?}");
}

#[tokio::test]
async fn an_owner_deletes_an_agent() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    let id = app.create_agent("Bookings").await;

    let response = app.call("agents/delete", &[("id", &id.to_string())]).await;

    assert!(
        response.status.is_success() || response.status.is_redirection(),
        "{response:?}"
    );
    assert_eq!(app.agent_count().await, 0);
    let again = app.call("agents/get", &[("id", &id.to_string())]).await;
    assert_eq!(again.app_error(), AppError::NotFound);
}

#[tokio::test]
async fn a_viewer_reads_agents_but_every_change_is_refused() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    let id = app.create_agent("Bookings").await;
    let id_text = id.to_string();
    app.update_agent(id, with(agent_form("Bookings"), "greeting", Some("Hi!")))
        .await
        .unwrap();
    sqlx::query("update users set role = 'viewer' where email = 'tony@example.com'")
        .execute(&app.pool)
        .await
        .unwrap();

    let list: Vec<app::dto::agents::AgentListItem> = ok(&app.call("agents/list", &[]).await);
    assert_eq!(list.len(), 1);
    let refused = [
        app.call_owned("agents/create", &agent_form("Another"))
            .await,
        app.call_owned(
            "agents/update",
            &with(agent_form("Renamed"), "id", Some(&id_text)),
        )
        .await,
        app.call("agents/restore", &[("id", &id_text), ("version", "1")])
            .await,
        app.call("agents/delete", &[("id", &id_text)]).await,
    ];

    for response in refused {
        assert_eq!(response.app_error(), AppError::Forbidden, "{response:?}");
    }
    let (count, name, greeting): (i64, String, String) = sqlx::query_as(
        "select (select count(*) from agents), name, greeting from agents where id = $1",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (count, name.as_str(), greeting.as_str()),
        (1, "Bookings", "Hi!")
    );
}

#[tokio::test]
async fn another_organization_cannot_read_edit_restore_or_delete_an_agent() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    let id = app.create_agent("Bookings").await;
    let id_text = id.to_string();
    app.log_out().await;
    app.signed_up_owner("Rival", "rival@example.com").await;

    let list: Vec<app::dto::agents::AgentListItem> = ok(&app.call("agents/list", &[]).await);
    assert!(list.is_empty());
    let attempts = [
        app.call("agents/get", &[("id", &id_text)]).await,
        app.call("agents/versions", &[("id", &id_text)]).await,
        app.call(
            "agents/diff",
            &[("id", &id_text), ("from", "1"), ("to", "1")],
        )
        .await,
        app.call_owned(
            "agents/update",
            &with(agent_form("Stolen"), "id", Some(&id_text)),
        )
        .await,
        app.call("agents/restore", &[("id", &id_text), ("version", "1")])
            .await,
        app.call("agents/delete", &[("id", &id_text)]).await,
    ];
    for response in attempts {
        assert_eq!(response.app_error(), AppError::NotFound, "{response:?}");
    }
    let name: String = sqlx::query_scalar("select name from agents where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(name, "Bookings");
}

#[tokio::test]
async fn signed_out_visitors_get_nothing() {
    let app = spawn_app().await;
    for endpoint in ["agents/list", "agents/create"] {
        let response = app.call_owned(endpoint, &agent_form("Bookings")).await;
        assert_eq!(response.app_error(), AppError::Unauthorized, "{endpoint}");
    }
    assert_eq!(app.agent_count().await, 0);
}

#[tokio::test]
async fn a_form_posted_without_javascript_creates_the_agent_and_opens_it() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    let form = agent_form("Bookings");
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let response = app.post_form("agents/create", "/agents/new", &form).await;

    assert_eq!(response.status, StatusCode::FOUND, "{response:?}");
    let id = app.agent_id("Bookings").await;
    assert_eq!(
        response.location.as_deref(),
        Some(format!("/agents/{id}").as_str())
    );
}

#[tokio::test]
async fn a_refused_form_posted_without_javascript_comes_back_with_what_was_typed() {
    let app = spawn_app().await;
    app.signed_up_owner("Tony's", "tony@example.com").await;
    let form = with(
        agent_form("Typed name"),
        "transfer_number",
        Some("555-0100"),
    );
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let response = app.post_form("agents/create", "/agents/new", &form).await;

    assert_eq!(response.status, StatusCode::FOUND, "{response:?}");
    let location = response.location.expect("back to the form");
    assert!(
        location.contains("/agents/new") && location.contains("__err="),
        "{location}"
    );
    let page = app
        .get(&location.replacen(&app.address, "", 1))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"value="Typed name""#),
        "the name typed is kept"
    );
    assert!(page.contains("555-0100"), "the number typed is kept");
    assert!(page.contains("+ and country code"), "the error is shown");
    assert_eq!(app.agent_count().await, 0);
    // Only the page the refused post returns to shows it; a fresh visit starts from the defaults.
    let fresh = app.get("/agents/new").await.text().await.unwrap();
    assert!(!fresh.contains("Typed name"));
}
