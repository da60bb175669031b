//! Runs the tools the model calls during a call, and records each one in
//! `call_tool_invocations`.
//!
//! `end_call` and `transfer_call` never reach here: the call session turns them into hang-up
//! and transfer effects once the goodbye has played. What arrives is `query_knowledge_base`
//! and the agent's business tools (arguments checked against their JSON Schema; invalid ones go
//! back to the model as an error it can correct).

use std::sync::Arc;

use sqlx::PgPool;
use switchboard::business_tools::{self, BusinessTool};
use switchboard::call::config::QUERY_KNOWLEDGE_BASE;
use switchboard::engines::ToolCall;
use switchboard::knowledge::Embedder;
use switchboard::knowledge::tool::query_knowledge_base;
use switchboard::store::tools::{self, InvocationStatus};
use uuid::Uuid;

/// Everything a tool run in one call needs.
#[derive(Clone)]
pub struct ToolRunner {
    /// The database.
    pub pool: PgPool,
    /// Embeds knowledge queries.
    pub embedder: Arc<dyn Embedder>,
    /// The call's organization: every query is scoped to it.
    pub org_id: Uuid,
    /// The call.
    pub call_id: Uuid,
    /// The call's agent (its own documents plus organization-wide ones).
    pub agent_id: Option<Uuid>,
    /// Passages per knowledge answer.
    pub chunk_limit: u32,
    /// Least similarity a passage needs.
    pub similarity_threshold: f32,
    /// The agent's typed business tools.
    pub business: Arc<Vec<BusinessTool>>,
    /// For business tools' webhooks.
    pub http: reqwest::Client,
}

/// What a tool answered.
struct Answer {
    status: InvocationStatus,
    output: String,
    chunk_ids: Vec<i64>,
}

impl Answer {
    fn error(output: String) -> Self {
        Self {
            status: InvocationStatus::Error,
            output,
            chunk_ids: Vec::new(),
        }
    }
}

impl ToolRunner {
    /// Runs `call` and returns the output for the model; the invocation is stored either way.
    pub async fn run(&self, call: &ToolCall) -> String {
        let row = tools::start_invocation(
            &self.pool,
            self.org_id,
            self.call_id,
            &call.call_id,
            &call.name,
            &call.arguments,
        )
        .await;
        let answer = match call.name.as_str() {
            QUERY_KNOWLEDGE_BASE => self.knowledge(&call.arguments).await,
            name => match self.business.iter().find(|t| t.name == name) {
                Some(tool) => self.business(tool, &call.arguments).await,
                None => Answer::error(format!(
                    "The tool `{name}` is not available. Continue without it."
                )),
            },
        };
        match row {
            Ok(id) => {
                if let Err(e) = tools::finish_invocation(
                    &self.pool,
                    self.org_id,
                    id,
                    answer.status,
                    &answer.output,
                    &answer.chunk_ids,
                )
                .await
                {
                    tracing::error!(error = %e, call_id = %self.call_id, "cannot record a tool result");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, call_id = %self.call_id, "cannot record a tool call")
            }
        }
        answer.output
    }

    /// Records a tool the call session answered itself (`end_call`, `transfer_call`, a name
    /// the agent does not offer), so every invocation is in `call_tool_invocations`.
    pub async fn record(&self, call: &ToolCall, output: &str) {
        let status = if output.starts_with(r#"{"error""#) {
            InvocationStatus::Error
        } else {
            InvocationStatus::Ok
        };
        let stored = async {
            let id = tools::start_invocation(
                &self.pool,
                self.org_id,
                self.call_id,
                &call.call_id,
                &call.name,
                &call.arguments,
            )
            .await?;
            tools::finish_invocation(&self.pool, self.org_id, id, status, output, &[]).await
        };
        if let Err(e) = stored.await {
            tracing::error!(error = %e, call_id = %self.call_id, "cannot record a tool call");
        }
    }

    async fn business(&self, tool: &BusinessTool, arguments: &str) -> Answer {
        let arguments = match tool.check_arguments(arguments) {
            Ok(arguments) => arguments,
            Err(problem) => return Answer::error(problem),
        };
        match business_tools::run(&self.http, tool, &arguments, self.call_id).await {
            Ok(output) => Answer {
                status: InvocationStatus::Ok,
                output,
                chunk_ids: Vec::new(),
            },
            Err(problem) => Answer::error(problem),
        }
    }

    async fn knowledge(&self, arguments: &str) -> Answer {
        let query = serde_json::from_str::<serde_json::Value>(arguments)
            .ok()
            .and_then(|v| v["query"].as_str().map(str::trim).map(str::to_owned))
            .filter(|q| !q.is_empty());
        let Some(query) = query else {
            return Answer::error(
                "Invalid arguments: call query_knowledge_base with {\"query\": \"<the caller's question>\"}."
                    .into(),
            );
        };
        match query_knowledge_base(
            &self.pool,
            self.embedder.as_ref(),
            self.org_id,
            self.agent_id,
            &query,
            self.chunk_limit,
            self.similarity_threshold,
        )
        .await
        {
            Ok(answer) => Answer {
                status: InvocationStatus::Ok,
                output: answer.output,
                chunk_ids: answer.chunk_ids,
            },
            Err(e) => {
                tracing::error!(error = %e, call_id = %self.call_id, "knowledge search failed");
                Answer::error(
                    "The knowledge base is unavailable right now. Apologise briefly and offer to help another way."
                        .into(),
                )
            }
        }
    }
}
