use serde_json::json;

use super::*;
use crate::testing::{fresh_database, seed_org};

fn settings(name: &str) -> AgentSettings {
    AgentSettings {
        name: name.into(),
        prompts: Prompts {
            system_prompt: "You answer for Acme.".into(),
            ..Prompts::default()
        },
        ..AgentSettings::default()
    }
}

#[track_caller]
fn refused(settings: AgentSettings) -> &'static str {
    settings.validate().expect_err("refused").field
}

#[test]
fn the_defaults_are_valid_once_named() {
    let checked = settings("  Front desk ").validate().unwrap();
    assert_eq!(checked.name, "Front desk");
}

#[test]
fn each_broken_rule_names_its_field() {
    let cases: Vec<(AgentSettings, &str)> = vec![
        (settings("   "), "name"),
        (settings(&"x".repeat(101)), "name"),
        (
            AgentSettings {
                voice: "nova".into(),
                ..settings("a")
            },
            "voice",
        ),
        (
            AgentSettings {
                model: "gpt-5".into(),
                ..settings("a")
            },
            "model",
        ),
        (
            AgentSettings {
                language: "English".into(),
                ..settings("a")
            },
            "language",
        ),
        (
            AgentSettings {
                first_speaker: "nobody".into(),
                ..settings("a")
            },
            "first_speaker",
        ),
        (
            AgentSettings {
                vad_mode: "loud".into(),
                ..settings("a")
            },
            "vad_mode",
        ),
        (
            AgentSettings {
                transfer_number: Some("555-0100".into()),
                ..settings("a")
            },
            "transfer_number",
        ),
        (
            AgentSettings {
                transfer_number: Some("+0123456789".into()),
                ..settings("a")
            },
            "transfer_number",
        ),
        (
            AgentSettings {
                max_duration_secs: 29,
                ..settings("a")
            },
            "max_duration_secs",
        ),
        (
            AgentSettings {
                max_duration_secs: 14_401,
                ..settings("a")
            },
            "max_duration_secs",
        ),
        (
            AgentSettings {
                silence_reprompt_secs: 1,
                ..settings("a")
            },
            "silence_reprompt_secs",
        ),
        (
            AgentSettings {
                silence_max_reprompts: 11,
                ..settings("a")
            },
            "silence_max_reprompts",
        ),
        (
            AgentSettings {
                rag_chunk_limit: Some(0),
                ..settings("a")
            },
            "rag_chunk_limit",
        ),
        (
            AgentSettings {
                rag_similarity_threshold: Some(1.5),
                ..settings("a")
            },
            "rag_similarity_threshold",
        ),
        (
            AgentSettings {
                tools: json!({"name": "x"}),
                ..settings("a")
            },
            "tools",
        ),
        (
            AgentSettings {
                tools: json!([{"name": "end_call", "description": "", "parameters": {"type": "object"}}]),
                ..settings("a")
            },
            "tools",
        ),
        (
            AgentSettings {
                tools: json!([{"name": "book", "description": "", "parameters": {"type": "object", "properties": {"day": {"type": "weekday"}}}}]),
                ..settings("a")
            },
            "tools",
        ),
        (
            AgentSettings {
                outcome_schema: Some(json!({"type": "string"})),
                ..settings("a")
            },
            "outcome_schema",
        ),
        (
            AgentSettings {
                outcome_schema: Some(json!({"type": "object", "required": "all"})),
                ..settings("a")
            },
            "outcome_schema",
        ),
    ];
    for (settings, field) in cases {
        let shown = format!("{settings:?}");
        assert_eq!(refused(settings), field, "{shown}");
    }
}

#[test]
fn e164_matches_the_tables_check() {
    for good in ["+14155550123", "+4420794600", "+1234567"] {
        assert!(is_e164(good), "{good}");
    }
    for bad in [
        "14155550123",
        "+1 415 555",
        "+0155550123",
        "+123456",
        "+1234567890123456",
        "+",
    ] {
        assert!(!is_e164(bad), "{bad}");
    }
}

#[tokio::test]
async fn create_stores_every_setting_and_version_one() {
    let (_url, pool) = fresh_database().await;
    let org = seed_org(&pool, "Acme").await;
    let wanted = AgentSettings {
        description: "Books tables".into(),
        status: "paused".into(),
        first_speaker: "caller".into(),
        model: "gpt-realtime-mini".into(),
        voice: "cedar".into(),
        language: "es".into(),
        vad_mode: "semantic_vad".into(),
        audio_format: "pcm16".into(),
        knowledge_search: false,
        end_call: false,
        transfer_number: Some("+14155550123".into()),
        tools: json!([{"name": "book_table", "description": "Books a table.",
                       "parameters": {"type": "object", "properties": {"guests": {"type": "integer"}}, "required": ["guests"]}}]),
        outcome_schema: Some(
            json!({"type": "object", "properties": {"booked": {"type": "boolean"}}}),
        ),
        max_duration_secs: 900,
        silence_reprompt_secs: 10,
        silence_max_reprompts: 3,
        ai_disclosure: false,
        record_calls: true,
        rag_chunk_limit: Some(8),
        rag_similarity_threshold: Some(0.5),
        ..settings("Bookings")
    };
    let id = create(&pool, org, None, wanted.clone()).await.unwrap();
    let agent = get(&pool, org, id).await.unwrap().unwrap();
    assert_eq!(agent.settings, wanted);
    assert_eq!(agent.prompt_version, 1);

    // The call path reads the same columns back.
    let voice = crate::store::agents::find_voice_settings(&pool, org, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(voice.voice, "cedar");
    assert_eq!(voice.transfer_number.as_deref(), Some("+14155550123"));
    assert_eq!(parse_tools(&voice.tools).unwrap()[0].name, "book_table");
}

#[tokio::test]
async fn a_duplicate_name_is_refused_without_storing_anything() {
    let (_url, pool) = fresh_database().await;
    let org = seed_org(&pool, "Acme").await;
    create(&pool, org, None, settings("Front desk"))
        .await
        .unwrap();
    let err = create(&pool, org, None, settings("Front desk"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, SaveError::NameTaken(ref n) if n == "Front desk"),
        "{err:?}"
    );
    assert_eq!(list(&pool, org).await.unwrap().len(), 1);
    // Another organization may use the name.
    let other = seed_org(&pool, "Other").await;
    create(&pool, other, None, settings("Front desk"))
        .await
        .unwrap();
}

#[tokio::test]
async fn only_prompt_changes_write_versions() {
    let (_url, pool) = fresh_database().await;
    let org = seed_org(&pool, "Acme").await;
    let id = create(&pool, org, None, settings("Front desk"))
        .await
        .unwrap();

    let renamed = AgentSettings {
        voice: "ash".into(),
        ..settings("Front desk")
    };
    let saved = update(&pool, org, id, None, renamed)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            saved.prompt_version,
            saved.new_version,
            saved.purpose_changed
        ),
        (1, false, false)
    );

    let mut reprompted = settings("Front desk");
    reprompted.prompts.greeting = "Hello!".into();
    let saved = update(&pool, org, id, None, reprompted)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            saved.prompt_version,
            saved.new_version,
            saved.purpose_changed
        ),
        (2, true, false)
    );

    let mut new_system = settings("Front desk");
    new_system.prompts.system_prompt = "Be brief.".into();
    let saved = update(&pool, org, id, None, new_system)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((saved.prompt_version, saved.purpose_changed), (3, true));
    assert_eq!(
        prompt_versions::list(&pool, org, id).await.unwrap().len(),
        3
    );
}

#[tokio::test]
async fn another_organization_cannot_read_change_or_delete_an_agent() {
    let (_url, pool) = fresh_database().await;
    let org = seed_org(&pool, "Acme").await;
    let other = seed_org(&pool, "Other").await;
    let id = create(&pool, org, None, settings("Front desk"))
        .await
        .unwrap();

    assert!(get(&pool, other, id).await.unwrap().is_none());
    assert!(list(&pool, other).await.unwrap().is_empty());
    assert!(
        update(&pool, other, id, None, settings("Stolen"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(!delete(&pool, other, id).await.unwrap());
    assert_eq!(
        get(&pool, org, id).await.unwrap().unwrap().settings.name,
        "Front desk"
    );

    assert!(delete(&pool, org, id).await.unwrap());
    assert!(get(&pool, org, id).await.unwrap().is_none());
}
