//! `POST /v1/chat/completions`: a scripted, non-streaming assistant.
//!
//! Plain requests get [`FakeOpenAiOptions::chat_reply`]. Requests with a `json_schema` (or
//! `json_object`) response format get [`FakeOpenAiOptions::chat_json`] serialised, or when that
//! is unset, [`placeholder_for_schema`] of the request's schema, so structured-output callers
//! always receive JSON their own deserialiser accepts.

use serde_json::{Map, Value, json};

use super::{ApiError, FakeOpenAiOptions, estimate_tokens, unix_now};

/// How deep [`placeholder_for_schema`] follows nesting and `$ref`s before giving up with `null`.
const MAX_SCHEMA_DEPTH: usize = 16;

/// Answers one chat completions request body.
pub(super) fn respond(request: &Value, options: &FakeOpenAiOptions) -> Result<Value, ApiError> {
    let Some(model) = request["model"].as_str() else {
        return Err(ApiError::bad_param(
            "model",
            "you must provide a model parameter",
        ));
    };
    let Some(messages) = request["messages"].as_array().filter(|m| !m.is_empty()) else {
        return Err(ApiError::bad_param(
            "messages",
            "'$.messages' must be a non-empty array.",
        ));
    };
    if let Some(i) = messages.iter().position(|m| m["role"].as_str().is_none()) {
        return Err(ApiError::bad_param(
            &format!("messages.[{i}].role"),
            format!("'$.messages[{i}].role' is required."),
        ));
    }
    if request["stream"].as_bool() == Some(true) {
        return Err(ApiError::bad_param(
            "stream",
            "The fake OpenAI API does not stream chat completions.",
        ));
    }
    let format = &request["response_format"];
    let content = match format["type"].as_str() {
        None | Some("text") => options.chat_reply.clone(),
        Some("json_object") => options
            .chat_json
            .clone()
            .unwrap_or_else(|| json!({}))
            .to_string(),
        Some("json_schema") => {
            let Some(spec) = format["json_schema"]
                .as_object()
                .filter(|s| s.contains_key("name"))
            else {
                return Err(ApiError::bad_param(
                    "response_format.json_schema.name",
                    "'$.response_format.json_schema.name' is required.",
                ));
            };
            let schema = spec.get("schema").unwrap_or(&Value::Null);
            match &options.chat_json {
                Some(scripted) => scripted.to_string(),
                None => placeholder_for_schema(schema).to_string(),
            }
        }
        Some(other) => {
            return Err(ApiError::bad_param(
                "response_format.type",
                format!(
                    "Invalid value: '{other}'. Supported values are: 'text', 'json_object' and 'json_schema'."
                ),
            ));
        }
    };
    let prompt_tokens: u32 = message_texts(request)
        .iter()
        // Each message costs a few framing tokens on top of its text.
        .map(|(_, text)| estimate_tokens(text) + 4)
        .sum();
    let completion_tokens = estimate_tokens(&content);
    Ok(json!({
        "id": format!("chatcmpl-fake{}", unix_now()),
        "object": "chat.completion",
        "created": unix_now(),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop",
        }],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
        "service_tier": "default",
    }))
}

/// The `(role, text)` of each message in a chat request body; text parts of array contents
/// are joined with newlines.
pub(super) fn message_texts(body: &Value) -> Vec<(String, String)> {
    let Some(messages) = body["messages"].as_array() else {
        return Vec::new();
    };
    messages
        .iter()
        .map(|message| {
            let role = message["role"].as_str().unwrap_or_default().to_owned();
            let text = match &message["content"] {
                Value::String(text) => text.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|part| part["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => String::new(),
            };
            (role, text)
        })
        .collect()
}

/// A minimal value satisfying `schema`: every required property, each a placeholder of its
/// type (`"placeholder"`, `0`, `false`, `[]`, nested objects), the first `enum` value or the
/// `const` where given. `$ref`s into `$defs`/`definitions` are followed.
pub fn placeholder_for_schema(schema: &Value) -> Value {
    placeholder(schema, schema, 0)
}

fn placeholder(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > MAX_SCHEMA_DEPTH {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        return resolve(reference, root).map_or(Value::Null, |s| placeholder(s, root, depth + 1));
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
        return first.clone();
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema[combinator].as_array().and_then(|s| s.first()) {
            return placeholder(first, root, depth + 1);
        }
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.as_str(),
        // `["string", "null"]`: a nullable field; the non-null type shows the shape.
        Value::Array(kinds) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|k| *k != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    match kind {
        "object" => {
            let mut object = Map::new();
            let required = schema["required"].as_array().into_iter().flatten();
            for name in required.filter_map(Value::as_str) {
                let property = &schema["properties"][name];
                object.insert(name.to_owned(), placeholder(property, root, depth + 1));
            }
            Value::Object(object)
        }
        "array" => {
            let min = schema["minItems"].as_u64().unwrap_or(0).min(8);
            let item = placeholder(&schema["items"], root, depth + 1);
            Value::Array((0..min).map(|_| item.clone()).collect())
        }
        "string" => json!("placeholder"),
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(0)),
        "number" => json!(schema["minimum"].as_f64().unwrap_or(0.0)),
        "boolean" => json!(false),
        _ => Value::Null,
    }
}

fn resolve<'a>(reference: &str, root: &'a Value) -> Option<&'a Value> {
    let path = reference.strip_prefix("#/")?;
    path.split('/').try_fold(root, |node, segment| {
        node.get(segment.replace("~1", "/").replace("~0", "~"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_placeholder_has_every_required_key_with_the_right_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "summary": {"type": "string"},
                "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
                "callback_requested": {"type": "boolean"},
                "score": {"type": ["number", "null"]},
                "topics": {"type": "array", "items": {"type": "string"}},
                "caller": {"$ref": "#/$defs/caller"},
                "optional": {"type": "string"}
            },
            "required": ["summary", "sentiment", "callback_requested", "score", "topics", "caller"],
            "$defs": {"caller": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                "required": ["name", "age"]
            }}
        });
        assert_eq!(
            placeholder_for_schema(&schema),
            json!({
                "summary": "placeholder",
                "sentiment": "positive",
                "callback_requested": false,
                "score": 0.0,
                "topics": [],
                "caller": {"name": "placeholder", "age": 0}
            })
        );
    }

    #[test]
    fn a_recursive_schema_ends_in_null() {
        let schema = json!({
            "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}, "required": ["next"]}},
            "$ref": "#/$defs/node"
        });
        let mut value = &placeholder_for_schema(&schema);
        let mut depth = 0;
        while let Some(next) = value.get("next") {
            value = next;
            depth += 1;
        }
        assert!(value.is_null() && depth > 0);
    }

    #[test]
    fn message_texts_join_text_parts() {
        let body = json!({"messages": [
            {"role": "system", "content": "Summarise."},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
        ]});
        assert_eq!(
            message_texts(&body),
            vec![
                ("system".into(), "Summarise.".into()),
                ("user".into(), "a\nb".into())
            ]
        );
    }
}
