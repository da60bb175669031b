//! Typed business tools: functions an agent declares with a JSON Schema for their arguments
//! (say `take_order` with the pizza, size and address), called by the model during a call.
//!
//! An agent's `tools` column holds `[{"name", "description", "parameters", "webhook_url"?,
//! "secret"?}]`. Arguments are checked against `parameters` before anything runs; invalid ones
//! go back to the model as an error listing what is wrong, so it can ask the caller and try
//! again. Valid calls are recorded (the invocation row is the record) and, when the tool has a
//! `webhook_url`, posted there as JSON — signed with HMAC-SHA256 of the body under `secret`, in
//! `X-Switchboard-Signature: sha256=<hex>` — and the endpoint's answer is what the model hears.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::call::config::{END_CALL, QUERY_KNOWLEDGE_BASE, TRANSFER_CALL};
use crate::engines::ToolSpec;

/// How long a tool's webhook may take: the caller is waiting on the line.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of a webhook's answer passed to the model.
const MAX_ANSWER_BYTES: usize = 4096;

/// One business tool as an agent declares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessTool {
    /// The function name the model calls (`a-z A-Z 0-9 _ -`, at most 64).
    pub name: String,
    /// When and how to use it, for the model.
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: Value,
    /// Where valid calls are posted; without one they are only recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Signs webhook bodies (HMAC-SHA256) so the endpoint can tell they are ours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// Why a tool declaration was refused, for the person editing the agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolDefinitionError {
    /// The list is not an array of tool objects.
    #[error("tools must be a list of {{name, description, parameters}} objects: {0}")]
    Shape(String),
    /// A name the model cannot call, or one taken.
    #[error("tool name {0:?}: use 1–64 letters, digits, _ or -, not a built-in tool's name, once")]
    Name(String),
    /// `parameters` is not a usable JSON Schema for an object.
    #[error("tool {name:?}: parameters must be a JSON Schema of an object: {reason}")]
    Schema {
        /// The tool.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The webhook URL is not http(s).
    #[error("tool {0:?}: webhook_url must start with https:// (or http://)")]
    Webhook(String),
}

/// Parses and checks an agent's tool list.
pub fn parse_tools(tools: &Value) -> Result<Vec<BusinessTool>, ToolDefinitionError> {
    let tools: Vec<BusinessTool> = serde_json::from_value(tools.clone())
        .map_err(|e| ToolDefinitionError::Shape(e.to_string()))?;
    let mut seen = std::collections::HashSet::new();
    for tool in &tools {
        let name_ok = !tool.name.is_empty()
            && tool.name.len() <= 64
            && tool
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && ![END_CALL, TRANSFER_CALL, QUERY_KNOWLEDGE_BASE].contains(&tool.name.as_str());
        if !name_ok || !seen.insert(tool.name.as_str()) {
            return Err(ToolDefinitionError::Name(tool.name.clone()));
        }
        if tool.parameters.get("type").and_then(Value::as_str) != Some("object") {
            return Err(ToolDefinitionError::Schema {
                name: tool.name.clone(),
                reason: "its \"type\" must be \"object\"".into(),
            });
        }
        jsonschema::validator_for(&tool.parameters).map_err(|e| ToolDefinitionError::Schema {
            name: tool.name.clone(),
            reason: e.to_string(),
        })?;
        if let Some(url) = &tool.webhook_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ToolDefinitionError::Webhook(tool.name.clone()));
        }
    }
    Ok(tools)
}

impl BusinessTool {
    /// What the model is offered.
    pub fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.name.clone(),
            description: self.description.clone(),
            parameters: self.parameters.clone(),
        }
    }

    /// The model's arguments, parsed and checked; `Err` is the message the model gets back.
    pub fn check_arguments(&self, arguments: &str) -> Result<Value, String> {
        let value: Value = serde_json::from_str(arguments).map_err(|e| {
            format!(
                "Invalid arguments: not JSON ({e}). Call {} again with a JSON object.",
                self.name
            )
        })?;
        let validator = jsonschema::validator_for(&self.parameters)
            .map_err(|e| format!("The tool {} is misconfigured: {e}", self.name))?;
        let problems: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(value)
        } else {
            Err(format!(
                "Invalid arguments for {}: {}. Ask the caller for what is missing or wrong, then call it again.",
                self.name,
                problems.join("; ")
            ))
        }
    }
}

/// What a valid call answered: the model's output.
pub async fn run(
    http: &reqwest::Client,
    tool: &BusinessTool,
    arguments: &Value,
    call_id: uuid::Uuid,
) -> Result<String, String> {
    let Some(url) = &tool.webhook_url else {
        return Ok(json!({"status": "recorded"}).to_string());
    };
    let body = json!({
        "tool": tool.name,
        "arguments": arguments,
        "call_id": call_id,
    })
    .to_string();
    let mut request = http
        .post(url)
        .timeout(WEBHOOK_TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = &tool.secret {
        request = request.header("x-switchboard-signature", signature(secret, &body));
    }
    let response = request.body(body).send().await.map_err(|e| {
        format!(
            "The {} service did not answer ({e}). Apologise and offer another way to help.",
            tool.name
        )
    })?;
    let status = response.status();
    let mut text = response
        .text()
        .await
        .map_err(|e| format!("The {} service's answer was unreadable ({e}).", tool.name))?;
    if text.len() > MAX_ANSWER_BYTES {
        let mut cut = MAX_ANSWER_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    if status.is_success() {
        Ok(if text.trim().is_empty() {
            json!({"status": "ok"}).to_string()
        } else {
            text
        })
    } else {
        Err(format!(
            "The {} service refused (HTTP {}): {}",
            tool.name,
            status.as_u16(),
            text.trim()
        ))
    }
}

/// `sha256=<hex of HMAC-SHA256(secret, body)>`.
pub fn signature(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests;
