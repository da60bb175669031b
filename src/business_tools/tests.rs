use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;

use super::*;

fn take_order() -> Value {
    json!([{
        "name": "take_order",
        "description": "Record a pizza order once the caller has confirmed it.",
        "parameters": {
            "type": "object",
            "properties": {
                "pizza": {"type": "string", "enum": ["margherita", "marinara"]},
                "size": {"type": "string", "enum": ["small", "large"]},
                "address": {"type": "string", "minLength": 5}
            },
            "required": ["pizza", "size", "address"],
            "additionalProperties": false
        }
    }])
}

#[test]
fn a_declared_tool_is_offered_to_the_model() {
    let tools = parse_tools(&take_order()).unwrap();
    let spec = tools[0].spec();
    assert_eq!(spec.name, "take_order");
    assert_eq!(
        spec.parameters["required"],
        json!(["pizza", "size", "address"])
    );
    assert_eq!(parse_tools(&json!([])).unwrap(), vec![]);
}

#[test]
fn bad_declarations_are_refused_with_a_reason() {
    let mut clash = take_order();
    clash[0]["name"] = json!("end_call");
    let mut spaces = take_order();
    spaces[0]["name"] = json!("take order");
    let mut twice = take_order();
    twice.as_array_mut().unwrap().push(take_order()[0].clone());
    for tools in [clash, spaces, twice] {
        assert!(
            matches!(parse_tools(&tools), Err(ToolDefinitionError::Name(_))),
            "{tools}"
        );
    }
    let mut not_object = take_order();
    not_object[0]["parameters"] = json!({"type": "string"});
    assert!(matches!(
        parse_tools(&not_object),
        Err(ToolDefinitionError::Schema { .. })
    ));
    let mut bad_schema = take_order();
    bad_schema[0]["parameters"]["properties"]["size"]["enum"] = json!("small");
    assert!(matches!(
        parse_tools(&bad_schema),
        Err(ToolDefinitionError::Schema { .. })
    ));
    let mut ftp = take_order();
    ftp[0]["webhook_url"] = json!("ftp://example.com");
    assert!(matches!(
        parse_tools(&ftp),
        Err(ToolDefinitionError::Webhook(_))
    ));
    assert!(matches!(
        parse_tools(&json!({"name": "x"})),
        Err(ToolDefinitionError::Shape(_))
    ));
}

#[test]
fn arguments_are_checked_and_problems_named_for_the_model() {
    let tool = &parse_tools(&take_order()).unwrap()[0];
    let ok = tool
        .check_arguments(r#"{"pizza":"marinara","size":"large","address":"12 High Street"}"#)
        .unwrap();
    assert_eq!(ok["size"], "large");

    let wrong = tool
        .check_arguments(r#"{"pizza":"hawaiian","size":"large"}"#)
        .unwrap_err();
    assert!(
        wrong.contains("Invalid arguments for take_order"),
        "{wrong}"
    );
    assert!(wrong.contains("/pizza"), "{wrong}");
    assert!(
        wrong.contains("address"),
        "names the missing field: {wrong}"
    );
    assert!(wrong.contains("Ask the caller"), "{wrong}");
    let garbage = tool.check_arguments("{pizza").unwrap_err();
    assert!(garbage.contains("not JSON"), "{garbage}");
}

#[tokio::test]
async fn valid_calls_are_posted_signed_to_the_webhook_and_its_answer_returned() {
    /// (signature header, body) of each delivery.
    type Deliveries = Arc<Mutex<Vec<(Option<String>, String)>>>;
    let seen: Deliveries = Arc::default();
    let record = seen.clone();
    let app = Router::new().route(
        "/orders",
        post(move |headers: HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let signature = headers
                    .get("x-switchboard-signature")
                    .map(|v| v.to_str().unwrap().to_owned());
                record.lock().unwrap().push((signature, body));
                r#"{"order_id":"A-17","eta_minutes":30}"#
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/orders", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut tools = take_order();
    tools[0]["webhook_url"] = json!(url);
    tools[0]["secret"] = json!("shh");
    let tool = &parse_tools(&tools).unwrap()[0];
    let arguments = json!({"pizza": "margherita", "size": "small", "address": "1 Main Street"});
    let call_id = uuid::Uuid::new_v4();
    let answer = run(&reqwest::Client::new(), tool, &arguments, call_id)
        .await
        .unwrap();
    assert_eq!(answer, r#"{"order_id":"A-17","eta_minutes":30}"#);

    let (signature, body) = seen.lock().unwrap()[0].clone();
    assert_eq!(signature, Some(super::signature("shh", &body)));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["arguments"], arguments);
    assert_eq!(body["call_id"], call_id.to_string());

    // Without a webhook the call is only recorded.
    let local = &parse_tools(&take_order()).unwrap()[0];
    let recorded = run(&reqwest::Client::new(), local, &arguments, call_id)
        .await
        .unwrap();
    assert_eq!(recorded, r#"{"status":"recorded"}"#);
}

#[tokio::test]
async fn an_unreachable_webhook_is_an_error_the_model_can_explain() {
    let mut tools = take_order();
    tools[0]["webhook_url"] = json!("http://127.0.0.1:9/orders");
    let tool = &parse_tools(&tools).unwrap()[0];
    let error = run(&reqwest::Client::new(), tool, &json!({}), uuid::Uuid::nil())
        .await
        .unwrap_err();
    assert!(error.contains("did not answer"), "{error}");
}

#[test]
fn signatures_are_hmac_sha256_hex() {
    // RFC 4231 test case 2.
    assert_eq!(
        signature("Jefe", "what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}
