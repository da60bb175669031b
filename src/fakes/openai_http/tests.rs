//! The fake over real HTTP: through `async-openai` where a client exists, raw HTTP/1.1 where
//! the test is about the wire (headers, error bodies).

use std::time::Duration;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::error::{OpenAIError, WrappedError};
use async_openai::types::chat::{
    ChatCompletionRequestMessage, ChatCompletionRequestSystemMessageArgs,
    ChatCompletionRequestUserMessageArgs, CreateChatCompletionRequest,
    CreateChatCompletionRequestArgs, ResponseFormat, ResponseFormatJsonSchema,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::knowledge::embed::openai::ensure_rustls_crypto_provider;

const KEY: &str = "sk-test-key";

async fn start() -> FakeOpenAi {
    let options = FakeOpenAiOptions {
        api_key: Some(KEY.into()),
        chat_reply: "You are booked for two at seven.".into(),
        chat_json: None,
    };
    FakeOpenAi::start(options).await.expect("fake starts")
}

fn client(fake: &FakeOpenAi, key: &str) -> Client<OpenAIConfig> {
    ensure_rustls_crypto_provider();
    let config = OpenAIConfig::new()
        .with_api_base(fake.base_url())
        .with_api_key(key)
        .with_org_id("")
        .with_project_id("");
    Client::with_config(config)
}

fn chat_request(response_format: Option<ResponseFormat>) -> CreateChatCompletionRequest {
    let messages: Vec<ChatCompletionRequestMessage> = vec![
        ChatCompletionRequestSystemMessageArgs::default()
            .content("Summarise this phone call.")
            .build()
            .unwrap()
            .into(),
        ChatCompletionRequestUserMessageArgs::default()
            .content("Caller: I'd like a table for two at seven.\nAgent: Booked.")
            .build()
            .unwrap()
            .into(),
    ];
    let mut request = CreateChatCompletionRequestArgs::default();
    request.model("gpt-4o-mini").messages(messages);
    if let Some(format) = response_format {
        request.response_format(format);
    }
    request.build().unwrap()
}

fn summary_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "summary": {"type": "string"},
            "outcome": {"type": "string", "enum": ["booked", "no_booking"]},
            "party_size": {"type": "integer"},
            "follow_up": {"type": "boolean"}
        },
        "required": ["summary", "outcome", "party_size", "follow_up"],
        "additionalProperties": false
    })
}

fn json_schema_format(schema: Value) -> ResponseFormat {
    ResponseFormat::JsonSchema {
        json_schema: ResponseFormatJsonSchema {
            description: None,
            name: "call_summary".into(),
            schema,
            strict: Some(true),
        },
    }
}

/// A raw HTTP/1.1 POST: status, lowercased header block, and the JSON body.
async fn raw_post(
    fake: &FakeOpenAi,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, String, Value) {
    let mut stream = tokio::net::TcpStream::connect(fake.addr).await.unwrap();
    let auth = auth.map_or(String::new(), |key| {
        format!("Authorization: Bearer {key}\r\n")
    });
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n{auth}\r\n{body}",
        fake.addr,
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("a complete response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (
        status,
        head.to_lowercase(),
        serde_json::from_str(body).expect("a JSON body"),
    )
}

#[track_caller]
fn assert_openai_error(body: &Value, kind: &str) -> WrappedError {
    let wrapped: WrappedError = serde_json::from_value(body.clone()).expect("an OpenAI error body");
    assert_eq!(wrapped.error.r#type.as_deref(), Some(kind), "{body}");
    assert!(!wrapped.error.message.is_empty());
    // The real API always sends all four keys, with nulls where nothing applies.
    for key in ["message", "type", "param", "code"] {
        assert!(body["error"].get(key).is_some(), "missing {key} in {body}");
    }
    wrapped
}

#[tokio::test]
async fn a_chat_completion_returns_the_scripted_text_and_records_the_transcript() {
    let fake = start().await;

    let response = client(&fake, KEY)
        .chat()
        .create(chat_request(None))
        .await
        .unwrap();

    let message = &response.choices[0].message;
    assert_eq!(
        message.content.as_deref(),
        Some("You are booked for two at seven.")
    );
    let usage = response.usage.expect("usage");
    assert!(usage.prompt_tokens > 0 && usage.completion_tokens > 0);
    assert_eq!(
        usage.total_tokens,
        usage.prompt_tokens + usage.completion_tokens
    );
    let requests = fake.requests_to("/v1/chat/completions");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].model.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(requests[0].input_count, 2);
    assert_eq!(
        requests[0].messages(),
        vec![
            ("system".into(), "Summarise this phone call.".into()),
            (
                "user".into(),
                "Caller: I'd like a table for two at seven.\nAgent: Booked.".into()
            ),
        ]
    );
}

#[tokio::test]
async fn a_json_schema_request_gets_json_with_the_required_keys() {
    let fake = start().await;
    let request = chat_request(Some(json_schema_format(summary_schema())));

    let response = client(&fake, KEY).chat().create(request).await.unwrap();

    let content = response.choices[0].message.content.clone().unwrap();
    let value: Value = serde_json::from_str(&content).expect("JSON content");
    assert!(value["summary"].is_string());
    assert_eq!(value["outcome"], "booked");
    assert!(value["party_size"].is_i64());
    assert!(value["follow_up"].is_boolean());
}

#[tokio::test]
async fn scripted_json_is_returned_for_a_json_schema_request() {
    let fake = start().await;
    let scripted = json!({"summary": "Table for two", "outcome": "booked", "party_size": 2, "follow_up": false});
    fake.set_chat_json(Some(scripted.clone()));

    let request = chat_request(Some(json_schema_format(summary_schema())));
    let response = client(&fake, KEY).chat().create(request).await.unwrap();

    let content = response.choices[0].message.content.clone().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&content).unwrap(), scripted);
}

#[tokio::test]
async fn a_wrong_key_gets_401_with_an_openai_error_through_the_client() {
    let fake = start().await;

    let error = client(&fake, "sk-wrong")
        .chat()
        .create(chat_request(None))
        .await
        .unwrap_err();

    let response = match error {
        OpenAIError::ApiError(response) => response,
        other => panic!("expected an API error, got {other:?}"),
    };
    assert_eq!(response.status_code.as_u16(), 401);
    assert_eq!(response.api_error.code.as_deref(), Some("invalid_api_key"));
    assert!(!fake.requests()[0].body.is_null());
}

#[tokio::test]
async fn a_missing_key_gets_401() {
    let fake = start().await;
    let body = json!({"model": "text-embedding-3-small", "input": "hi"}).to_string();

    let (status, _, error) = raw_post(&fake, "/v1/embeddings", None, &body).await;

    assert_eq!(status, 401);
    assert_openai_error(&error, "invalid_request_error");
    assert!(!fake.requests()[0].has_bearer);
}

#[tokio::test]
async fn injected_failures_answer_in_order_with_openai_error_bodies() {
    let fake = start().await;
    fake.fail_next(
        1,
        InjectedFailure::RateLimited {
            retry_after_secs: Some(2),
        },
    );
    fake.fail_next(1, InjectedFailure::ServerError);
    fake.fail_next(1, InjectedFailure::Overloaded);
    fake.fail_next(1, InjectedFailure::InsufficientQuota);
    let body = json!({"model": "text-embedding-3-small", "input": ["hi"]}).to_string();
    let post = || raw_post(&fake, "/v1/embeddings", Some(KEY), &body);

    let (status, head, error) = post().await;
    assert_eq!(status, 429);
    assert!(head.contains("retry-after: 2"), "{head}");
    let wrapped = assert_openai_error(&error, "requests");
    assert_eq!(wrapped.error.code.as_deref(), Some("rate_limit_exceeded"));

    let (status, head, error) = post().await;
    assert_eq!(status, 500);
    assert!(!head.contains("retry-after"));
    assert_openai_error(&error, "server_error");

    let (status, _, error) = post().await;
    assert_eq!(status, 503);
    assert_openai_error(&error, "server_error");

    let (status, _, error) = post().await;
    assert_eq!(status, 429);
    assert_openai_error(&error, "insufficient_quota");

    let (status, _, ok) = post().await;
    assert_eq!(status, 200);
    assert_eq!(ok["object"], "list");
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 500, 503, 429, 200]);
}

#[tokio::test]
async fn bad_requests_and_unknown_routes_get_openai_error_bodies() {
    let fake = start().await;

    let (status, _, error) = raw_post(&fake, "/v1/embeddings", Some(KEY), "{not json").await;
    assert_eq!(status, 400);
    assert_openai_error(&error, "invalid_request_error");

    let body = json!({"model": "gpt-4o-mini", "messages": []}).to_string();
    let (status, _, error) = raw_post(&fake, "/v1/chat/completions", Some(KEY), &body).await;
    assert_eq!(status, 400);
    assert_eq!(
        assert_openai_error(&error, "invalid_request_error")
            .error
            .param
            .as_deref(),
        Some("messages")
    );

    let (status, _, error) = raw_post(&fake, "/v1/responses", Some(KEY), "{}").await;
    assert_eq!(status, 404);
    assert_openai_error(&error, "invalid_request_error");
}

#[tokio::test]
async fn revoked_credentials_get_401_until_restored() {
    let fake = start().await;
    let body = json!({"model": "text-embedding-3-small", "input": "hi"}).to_string();
    fake.reject_credentials(true);
    assert_eq!(
        raw_post(&fake, "/v1/embeddings", Some(KEY), &body).await.0,
        401
    );
    fake.reject_credentials(false);
    assert_eq!(
        raw_post(&fake, "/v1/embeddings", Some(KEY), &body).await.0,
        200
    );
}

#[tokio::test]
async fn string_input_and_token_input_are_both_accepted() {
    let fake = start().await;
    for input in [json!("hello"), json!([1, 2, 3]), json!([[1, 2], [3]])] {
        let body = json!({"model": "text-embedding-3-small", "input": input}).to_string();
        let (status, _, response) = raw_post(&fake, "/v1/embeddings", Some(KEY), &body).await;
        assert_eq!(status, 200, "{input}");
        assert!(response["usage"]["total_tokens"].as_u64().unwrap() > 0);
    }
    let counts: Vec<usize> = fake.requests().iter().map(|r| r.input_count).collect();
    assert_eq!(counts, vec![1, 1, 2]);
}

#[tokio::test]
async fn the_server_stops_after_shutdown() {
    let fake = start().await;
    let addr = fake.addr;

    fake.shutdown().await;

    let connect =
        tokio::time::timeout(Duration::from_secs(5), tokio::net::TcpStream::connect(addr));
    assert!(
        !matches!(connect.await, Ok(Ok(_))),
        "still accepting after shutdown"
    );
}
