use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::*;
use crate::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions};
use crate::jobs::{Worker, WorkerTiming};
use crate::store::{calls, transcripts};
use crate::testing::{fresh_database, seed_org_with_agent};

#[test]
fn costs_are_estimated_only_for_known_models() {
    let cost = cost_usd("gpt-4o-mini", 1_000_000, 1_000_000).unwrap();
    assert!((cost - 0.75).abs() < 1e-9);
    assert_eq!(cost_usd("my-local-llm", 10, 10), None);
}

#[test]
fn the_transcript_reads_like_a_script_and_keeps_its_end() {
    let lines = vec![
        ("caller".to_owned(), " Hi, a table for two? ".to_owned()),
        ("agent".to_owned(), "Booked for seven.".to_owned()),
    ];
    assert_eq!(
        transcript_text(&lines),
        "Caller: Hi, a table for two?\nAgent: Booked for seven.\n"
    );
    let long = vec![("caller".to_owned(), "é".repeat(40_000))];
    let text = transcript_text(&long);
    assert!(text.starts_with("[earlier part of the call omitted]"));
    assert!(text.len() < MAX_TRANSCRIPT_CHARS + 100);
}

#[test]
fn the_response_schema_wraps_the_agents_outcome_schema() {
    let pizza = json!({"type": "object", "properties": {"pizza": {"type": "string"}}, "required": ["pizza"]});
    let schema = response_schema(Some(&pizza));
    assert_eq!(schema["properties"]["outcome"], pizza);
    assert_eq!(schema["required"], json!(["summary", "outcome"]));
    let default = response_schema(None);
    assert_eq!(
        default["properties"]["outcome"]["required"],
        json!(["resolved", "follow_up"])
    );
}

#[tokio::test]
async fn a_finished_call_gets_its_summary_outcome_usage_and_cost_once() {
    let (_, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Pizza").await;
    let schema = json!({
        "type": "object",
        "properties": {"pizza": {"type": "string"}, "delivery": {"type": "boolean"}},
        "required": ["pizza", "delivery"]
    });
    sqlx::query("update agents set outcome_schema = $1 where id = $2")
        .bind(&schema)
        .bind(agent)
        .execute(&pool)
        .await
        .unwrap();
    let call =
        calls::insert_inbound_call(&pool, org, agent, "CA77", "+15550001111", "+15550002222")
            .await
            .unwrap();
    for (seq, (role, text)) in [
        ("caller", "One margherita, delivered please."),
        ("agent", "Done, 30 minutes."),
    ]
    .into_iter()
    .enumerate()
    {
        let seq = seq as i32;
        transcripts::insert_line(
            &pool,
            org,
            call,
            seq,
            role,
            text,
            seq * 1000,
            seq * 1000 + 900,
            false,
        )
        .await
        .unwrap();
    }
    let fake = FakeOpenAi::start(FakeOpenAiOptions {
        api_key: Some("sk-test".into()),
        chat_json: Some(json!({"summary": "Ordered a margherita for delivery.", "outcome": {"pizza": "margherita", "delivery": true}})),
        ..FakeOpenAiOptions::default()
    })
    .await
    .unwrap();
    let queue = JobQueue::new();
    assert!(
        enqueue_summary(&pool, &queue, org, call, Duration::ZERO)
            .await
            .unwrap()
    );
    assert!(
        !enqueue_summary(&pool, &queue, org, call, Duration::ZERO)
            .await
            .unwrap(),
        "once"
    );

    let handler = SummaryHandler::new(
        pool.clone(),
        Some(SummaryModel::new(
            &fake.base_url(),
            "sk-test",
            "gpt-4o-mini",
        )),
    );
    let cancel = CancellationToken::new();
    let timing = WorkerTiming {
        poll: Duration::from_millis(20),
        ..WorkerTiming::default()
    };
    let worker = Worker::new(pool.clone(), "w", vec![Arc::new(handler)], queue, timing);
    let running = tokio::spawn(worker.run(cancel.clone()));
    let mut row: (Option<String>, Option<Value>, Option<Value>, Option<f64>) =
        (None, None, None, None);
    for _ in 0..500 {
        row = sqlx::query_as(
            "select summary, outcome, usage, cost_usd::float8 from calls where id = $1",
        )
        .bind(call)
        .fetch_one(&pool)
        .await
        .unwrap();
        if row.0.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
    running.await.unwrap();
    assert_eq!(row.0.as_deref(), Some("Ordered a margherita for delivery."));
    assert_eq!(
        row.1,
        Some(json!({"pizza": "margherita", "delivery": true}))
    );
    let usage = row.2.unwrap();
    assert_eq!(usage["model"], "gpt-4o-mini");
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(row.3.unwrap() > 0.0);

    // The model saw the transcript and the agent's outcome schema.
    let request = &fake.requests_to("/v1/chat/completions")[0];
    let messages = request.messages();
    assert!(
        messages[1]
            .1
            .contains("Caller: One margherita, delivered please.")
    );
    assert_eq!(
        request.body["response_format"]["json_schema"]["schema"]["properties"]["outcome"],
        schema
    );
}
