//! Agents for the dashboard: list, read, create, update, delete, and the prompt history (list,
//! diff two versions, restore one). Reading needs a signed-in member; changing needs an owner or
//! admin. Every call is scoped to the member's organization in the store.

use leptos::prelude::*;

use crate::dto::agents::{
    AgentEditor, AgentForm, AgentListItem, AgentSaved, PromptDiffView, PromptHistory,
};
use crate::error::AppError;

/// The organization's agents, newest first.
#[server(prefix = "/api", endpoint = "agents/list")]
pub async fn list_agents() -> Result<Vec<AgentListItem>, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let agents = switchboard::store::agent_settings::list(&context.pool, user.org_id)
        .await
        .map_err(ssr::internal)?;
    Ok(agents.into_iter().map(agents_ssr::list_item).collect())
}

/// One agent, for the editor.
#[server(prefix = "/api", endpoint = "agents/get")]
pub async fn get_agent(id: String) -> Result<AgentEditor, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let id = agents_ssr::parse_id(&id)?;
    let agent = switchboard::store::agent_settings::get(&context.pool, user.org_id, id)
        .await
        .map_err(ssr::internal)?
        .ok_or(AppError::NotFound)?;
    let mut editor = agents_ssr::editor(agent);
    if let Some(draft) = agents_ssr::take_draft(&editor.id).await {
        editor.form = draft;
    }
    Ok(editor)
}

/// The editor's starting values for a new agent: the defaults, or what was typed before a
/// refused save posted without a script.
#[server(prefix = "/api", endpoint = "agents/new")]
pub async fn new_agent_form() -> Result<AgentForm, AppError> {
    ssr::require_user()?;
    Ok(agents_ssr::take_draft(agents_ssr::NEW_AGENT)
        .await
        .unwrap_or_else(AgentForm::new_agent))
}

/// Creates an agent (its prompt is version 1) and opens it in the editor.
#[server(prefix = "/api", endpoint = "agents/create")]
pub async fn create_agent(#[server(flatten)] form: AgentForm) -> Result<String, AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let draft = form.clone();
    let created = match agents_ssr::settings(form) {
        Ok(settings) => switchboard::store::agent_settings::create(
            &context.pool,
            user.org_id,
            Some(user.user_id),
            settings,
        )
        .await
        .map_err(agents_ssr::save_error),
        Err(e) => Err(e),
    };
    let id = agents_ssr::keep_draft_on_error(created, agents_ssr::NEW_AGENT, draft).await?;
    tracing::info!(agent_id = %id, org_id = %user.org_id, "agent created");
    agents_ssr::refresh_context(&context, user.org_id, id).await;
    leptos_axum::redirect(&format!("/agents/{id}"));
    Ok(id.to_string())
}

/// Saves the editor; a changed prompt or greeting becomes a new version.
#[server(prefix = "/api", endpoint = "agents/update")]
pub async fn update_agent(
    id: String,
    #[server(flatten)] form: AgentForm,
) -> Result<AgentSaved, AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = agents_ssr::parse_id(&id)?;
    let draft = form.clone();
    let saved = match agents_ssr::settings(form) {
        Ok(settings) => switchboard::store::agent_settings::update(
            &context.pool,
            user.org_id,
            id,
            Some(user.user_id),
            settings,
        )
        .await
        .map_err(agents_ssr::save_error)
        .and_then(|saved| saved.ok_or(AppError::NotFound)),
        Err(e) => Err(e),
    };
    let saved = agents_ssr::keep_draft_on_error(saved, &id.to_string(), draft).await?;
    tracing::info!(agent_id = %id, org_id = %user.org_id, version = saved.prompt_version, "agent saved");
    if saved.purpose_changed {
        agents_ssr::refresh_context(&context, user.org_id, id).await;
    }
    Ok(AgentSaved {
        prompt_version: saved.prompt_version,
        new_version: saved.new_version,
    })
}

/// Deletes an agent and goes back to the list.
#[server(prefix = "/api", endpoint = "agents/delete")]
pub async fn delete_agent(id: String) -> Result<(), AppError> {
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = agents_ssr::parse_id(&id)?;
    let deleted = switchboard::store::agent_settings::delete(&context.pool, user.org_id, id)
        .await
        .map_err(ssr::internal)?;
    if !deleted {
        return Err(AppError::NotFound);
    }
    tracing::info!(agent_id = %id, org_id = %user.org_id, "agent deleted");
    leptos_axum::redirect("/agents");
    Ok(())
}

/// An agent's prompt versions, newest first.
#[server(prefix = "/api", endpoint = "agents/versions")]
pub async fn list_prompt_versions(id: String) -> Result<PromptHistory, AppError> {
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let id = agents_ssr::parse_id(&id)?;
    let agent = switchboard::store::agent_settings::get(&context.pool, user.org_id, id)
        .await
        .map_err(ssr::internal)?
        .ok_or(AppError::NotFound)?;
    let versions = switchboard::store::prompt_versions::list(&context.pool, user.org_id, id)
        .await
        .map_err(ssr::internal)?;
    Ok(PromptHistory {
        agent_name: agent.settings.name,
        versions: versions.into_iter().map(agents_ssr::version).collect(),
    })
}

/// The line diff from version `from` to version `to` of an agent's prompts.
#[server(prefix = "/api", endpoint = "agents/diff")]
pub async fn prompt_diff(id: String, from: i32, to: i32) -> Result<PromptDiffView, AppError> {
    use switchboard::store::prompt_versions;
    let user = ssr::require_user()?;
    let context = ssr::context()?;
    let id = agents_ssr::parse_id(&id)?;
    let old = prompt_versions::get(&context.pool, user.org_id, id, from)
        .await
        .map_err(ssr::internal)?
        .ok_or(AppError::NotFound)?;
    let new = prompt_versions::get(&context.pool, user.org_id, id, to)
        .await
        .map_err(ssr::internal)?
        .ok_or(AppError::NotFound)?;
    Ok(PromptDiffView {
        from,
        to,
        changes: agents_ssr::diff(&old.prompts, &new.prompts),
    })
}

/// Makes an old version the agent's prompt again, saved as a new version; returns that
/// version's number, or `None` when the agent already says exactly that.
#[server(prefix = "/api", endpoint = "agents/restore")]
pub async fn restore_prompt_version(id: String, version: i32) -> Result<Option<i32>, AppError> {
    use switchboard::store::prompt_versions::{self, Restored};
    let user = ssr::require_writer()?;
    let context = ssr::context()?;
    let id = agents_ssr::parse_id(&id)?;
    let restored =
        prompt_versions::restore(&context.pool, user.org_id, id, version, Some(user.user_id))
            .await
            .map_err(ssr::internal)?
            .ok_or(AppError::NotFound)?;
    match restored {
        Restored::AsVersion(new) => {
            tracing::info!(agent_id = %id, org_id = %user.org_id, version, new, "prompt restored");
            agents_ssr::refresh_context(&context, user.org_id, id).await;
            Ok(Some(new))
        }
        Restored::Unchanged => Ok(None),
    }
}

#[cfg(feature = "ssr")]
use crate::api::ssr;

#[cfg(feature = "ssr")]
mod agents_ssr {
    use serde_json::Value;
    use switchboard::store::agent_settings::{Agent, AgentSettings, AgentSummary, SaveError};
    use switchboard::store::prompt_versions::{self, LineChange, PromptVersion, Prompts};
    use time::format_description::well_known::Rfc3339;
    use uuid::Uuid;

    use crate::api::ssr::{self, ServerContext};
    use crate::dto::agents::{
        AgentEditor, AgentForm, AgentListItem, DiffHunkView, DiffKind, DiffLineView,
        PromptVersionView, TextDiffView,
    };
    use crate::error::AppError;

    fn time(t: time::OffsetDateTime) -> String {
        t.format(&Rfc3339).unwrap_or_default()
    }

    /// An id from the address bar; a malformed one is as absent as a foreign one.
    pub(super) fn parse_id(raw: &str) -> Result<Uuid, AppError> {
        raw.trim().parse().map_err(|_| AppError::NotFound)
    }

    fn whole(field: &str, raw: &str) -> Result<i32, AppError> {
        raw.trim()
            .parse()
            .map_err(|_| AppError::field(field, "Enter a whole number."))
    }

    fn optional<T: std::str::FromStr>(
        field: &str,
        raw: &str,
        message: &str,
    ) -> Result<Option<T>, AppError> {
        match raw.trim() {
            "" => Ok(None),
            text => text
                .parse()
                .map(Some)
                .map_err(|_| AppError::field(field, message)),
        }
    }

    fn json(field: &str, raw: &str) -> Result<Option<Value>, AppError> {
        match raw.trim() {
            "" => Ok(None),
            text => serde_json::from_str(text)
                .map(Some)
                .map_err(|e| AppError::field(field, format!("This is not valid JSON: {e}."))),
        }
    }

    /// The posted form as typed settings; the store checks the rules.
    pub(super) fn settings(form: AgentForm) -> Result<AgentSettings, AppError> {
        let transfer_number = match form.transfer {
            Some(_) if form.transfer_number.trim().is_empty() => {
                return Err(AppError::field(
                    "transfer_number",
                    "Enter the number to transfer callers to, e.g. +14155550123.",
                ));
            }
            Some(_) => Some(form.transfer_number.trim().to_owned()),
            None => None,
        };
        Ok(AgentSettings {
            name: form.name,
            description: form.description.trim().to_owned(),
            status: form.status,
            prompts: Prompts {
                system_prompt: form.system_prompt,
                inbound_prompt: form.inbound_prompt,
                outbound_prompt: form.outbound_prompt,
                greeting: form.greeting.trim().to_owned(),
            },
            first_speaker: form.first_speaker,
            model: form.model,
            voice: form.voice,
            language: form.language.trim().to_lowercase(),
            vad_mode: form.vad_mode,
            audio_format: form.audio_format,
            knowledge_search: form.knowledge_search.is_some(),
            end_call: form.end_call.is_some(),
            transfer_number,
            tools: json("tools", &form.tools)?.unwrap_or_else(|| Value::Array(Vec::new())),
            outcome_schema: json("outcome_schema", &form.outcome_schema)?,
            max_duration_secs: whole("max_duration_secs", &form.max_duration_secs)?,
            silence_reprompt_secs: whole("silence_reprompt_secs", &form.silence_reprompt_secs)?,
            silence_max_reprompts: whole("silence_max_reprompts", &form.silence_max_reprompts)?,
            ai_disclosure: form.ai_disclosure.is_some(),
            record_calls: form.record_calls.is_some(),
            rag_chunk_limit: optional(
                "rag_chunk_limit",
                &form.rag_chunk_limit,
                "Enter a whole number, or leave it empty for the default.",
            )?,
            rag_similarity_threshold: optional(
                "rag_similarity_threshold",
                &form.rag_similarity_threshold,
                "Enter a number from 0 to 1, or leave it empty for the default.",
            )?,
        })
    }

    /// Settings as the editor shows them (JSON pretty-printed for editing).
    pub(super) fn form(s: AgentSettings) -> AgentForm {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        AgentForm {
            name: s.name,
            description: s.description,
            status: s.status,
            system_prompt: s.prompts.system_prompt,
            inbound_prompt: s.prompts.inbound_prompt,
            outbound_prompt: s.prompts.outbound_prompt,
            greeting: s.prompts.greeting,
            first_speaker: s.first_speaker,
            model: s.model,
            voice: s.voice,
            language: s.language,
            vad_mode: s.vad_mode,
            audio_format: s.audio_format,
            knowledge_search: AgentForm::flag(s.knowledge_search),
            end_call: AgentForm::flag(s.end_call),
            transfer: AgentForm::flag(s.transfer_number.is_some()),
            transfer_number: s.transfer_number.unwrap_or_default(),
            tools: pretty(&s.tools),
            outcome_schema: s.outcome_schema.as_ref().map(pretty).unwrap_or_default(),
            max_duration_secs: s.max_duration_secs.to_string(),
            silence_reprompt_secs: s.silence_reprompt_secs.to_string(),
            silence_max_reprompts: s.silence_max_reprompts.to_string(),
            ai_disclosure: AgentForm::flag(s.ai_disclosure),
            record_calls: AgentForm::flag(s.record_calls),
            rag_chunk_limit: s.rag_chunk_limit.map(|n| n.to_string()).unwrap_or_default(),
            rag_similarity_threshold: s
                .rag_similarity_threshold
                .map(|n| n.to_string())
                .unwrap_or_default(),
        }
    }

    pub(super) fn editor(agent: Agent) -> AgentEditor {
        AgentEditor {
            id: agent.id.to_string(),
            form: form(agent.settings),
            prompt_version: agent.prompt_version,
            updated_at: time(agent.updated_at),
        }
    }

    pub(super) fn list_item(a: AgentSummary) -> AgentListItem {
        AgentListItem {
            id: a.id.to_string(),
            name: a.name,
            description: a.description,
            status: a.status,
            voice: a.voice,
            model: a.model,
            numbers: a.numbers,
            prompt_version: a.prompt_version,
            updated_at: time(a.updated_at),
        }
    }

    pub(super) fn version(v: PromptVersion) -> PromptVersionView {
        const PREVIEW_CHARS: usize = 140;
        let mut preview: String = v
            .prompts
            .system_prompt
            .chars()
            .take(PREVIEW_CHARS)
            .collect();
        if v.prompts.system_prompt.chars().nth(PREVIEW_CHARS).is_some() {
            preview.push('…');
        }
        PromptVersionView {
            version: v.version,
            author: v.author,
            created_at: time(v.created_at),
            preview,
        }
    }

    pub(super) fn diff(old: &Prompts, new: &Prompts) -> Vec<TextDiffView> {
        prompt_versions::diff(old, new)
            .into_iter()
            .map(|change| TextDiffView {
                label: change.label.to_owned(),
                hunks: change
                    .hunks
                    .into_iter()
                    .map(|hunk| DiffHunkView {
                        header: hunk.header,
                        lines: hunk
                            .lines
                            .into_iter()
                            .map(|line| DiffLineView {
                                kind: match line.change {
                                    LineChange::Same => DiffKind::Same,
                                    LineChange::Removed => DiffKind::Removed,
                                    LineChange::Added => DiffKind::Added,
                                },
                                text: line.text,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect()
    }

    /// The draft key of the new-agent editor (others are keyed by agent id).
    pub(super) const NEW_AGENT: &str = "new";
    const DRAFT_KEY: &str = "agent_draft";

    /// A form that could not be saved, kept for the page the browser is sent back to.
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Draft {
        editor: String,
        form: AgentForm,
    }

    /// True when a form was posted without a script: the browser is redirected back to the
    /// page, which renders afresh, so what was typed must come from somewhere.
    fn plain_form_post() -> bool {
        leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        })
    }

    /// Passes `result` through; when it is a refusal of a plain form post, keeps `form` in the
    /// session for `editor` first, so the re-rendered page shows what was typed.
    pub(super) async fn keep_draft_on_error<T>(
        result: Result<T, AppError>,
        editor: &str,
        form: AgentForm,
    ) -> Result<T, AppError> {
        if let Err(AppError::Field { .. } | AppError::Invalid(_)) = &result
            && plain_form_post()
        {
            let draft = Draft {
                editor: editor.to_owned(),
                form,
            };
            let session = ssr::session().await?;
            session
                .insert(DRAFT_KEY, draft)
                .await
                .map_err(ssr::internal)?;
        }
        result
    }

    /// The kept form for `editor`, when this page is the one a refused plain post was sent
    /// back to (its address carries the error). Reading it cannot remove it: the page streams
    /// after the session is saved, so a later refusal simply replaces it.
    pub(super) async fn take_draft(editor: &str) -> Option<AgentForm> {
        let returned_with_error = leptos::prelude::use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.uri.query().map(|q| q.contains("__err=")))
            .unwrap_or(false);
        if !returned_with_error {
            return None;
        }
        let session = ssr::session().await.ok()?;
        let draft: Draft = session.get(DRAFT_KEY).await.ok().flatten()?;
        (draft.editor == editor).then_some(draft.form)
    }

    pub(super) fn save_error(e: SaveError) -> AppError {
        match e {
            SaveError::Invalid(invalid) => AppError::field(invalid.field, invalid.message),
            SaveError::NameTaken(_) => AppError::field("name", e.to_string()),
            SaveError::Database(e) => ssr::internal(e),
        }
    }

    /// Queues a recomputation of the agent's start context. The save has already committed,
    /// so a failure here is logged rather than reported as a failed save.
    pub(super) async fn refresh_context(context: &ServerContext, org_id: Uuid, agent_id: Uuid) {
        if let Err(e) = switchboard::knowledge::context::enqueue_refresh(
            &context.pool,
            &context.jobs,
            org_id,
            agent_id,
        )
        .await
        {
            tracing::error!(error = %e, %agent_id, "cannot queue the agent's context refresh");
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn filled() -> AgentForm {
            AgentForm {
                name: "Front desk".into(),
                ..AgentForm::new_agent()
            }
        }

        #[test]
        fn the_new_agent_form_parses_to_the_tables_defaults() {
            let parsed = settings(filled()).unwrap();
            assert_eq!(
                parsed,
                AgentSettings {
                    name: "Front desk".into(),
                    ..AgentSettings::default()
                }
            );
            assert!(parsed.validate().is_ok());
        }

        #[test]
        fn a_form_round_trips_through_the_editor() {
            let mut original = filled();
            original.tools = serde_json::to_string_pretty(&serde_json::json!([
                {"name": "book", "description": "Books.", "parameters": {"type": "object"}}
            ]))
            .unwrap();
            original.outcome_schema =
                serde_json::to_string_pretty(&serde_json::json!({"type": "object"})).unwrap();
            original.transfer = AgentForm::flag(true);
            original.transfer_number = "+14155550123".into();
            original.record_calls = AgentForm::flag(true);
            original.end_call = None;
            original.rag_chunk_limit = "7".into();
            original.rag_similarity_threshold = "0.5".into();
            assert_eq!(form(settings(original.clone()).unwrap()), original);
        }

        #[test]
        fn unparsable_values_are_errors_on_their_field() {
            type Breaks = fn(&mut AgentForm);
            let cases: [(Breaks, &str); 6] = [
                (|f| f.max_duration_secs = "ten".into(), "max_duration_secs"),
                (
                    |f| f.silence_reprompt_secs = "2.5".into(),
                    "silence_reprompt_secs",
                ),
                (
                    |f| f.rag_similarity_threshold = "high".into(),
                    "rag_similarity_threshold",
                ),
                (|f| f.tools = "[{name: 1}]".into(), "tools"),
                (|f| f.outcome_schema = "{".into(), "outcome_schema"),
                (|f| f.transfer = AgentForm::flag(true), "transfer_number"),
            ];
            for (break_it, field) in cases {
                let mut form = filled();
                break_it(&mut form);
                let err = settings(form).unwrap_err();
                assert!(err.for_field(field).is_some(), "{field}: {err:?}");
            }
        }

        #[test]
        fn an_unticked_transfer_keeps_no_number() {
            let mut form = filled();
            form.transfer_number = "+14155550123".into();
            assert_eq!(settings(form).unwrap().transfer_number, None);
        }

        #[test]
        fn the_browser_lists_match_the_servers() {
            assert_eq!(
                crate::dto::agents::VOICES,
                switchboard::store::agent_settings::VOICES
            );
            assert_eq!(
                crate::dto::agents::MODELS,
                switchboard::store::agent_settings::MODELS
            );
        }
    }
}
