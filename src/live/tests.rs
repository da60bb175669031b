use std::time::Duration;

use super::*;
use crate::testing::fresh_database;

fn line(org_id: Uuid, text: &str) -> LiveMessage {
    LiveMessage {
        org_id,
        event: LiveEvent::CallLine {
            call_id: Uuid::new_v4(),
            seq: 3,
            role: "agent".into(),
            text: text.into(),
            start_ms: 1200,
            end_ms: 2400,
            interrupted: false,
        },
    }
}

async fn next(rx: &mut broadcast::Receiver<LiveMessage>) -> LiveMessage {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a message within 10 s")
        .expect("an open bus")
}

fn assert_quiet(rx: &mut broadcast::Receiver<LiveMessage>) {
    assert!(
        matches!(rx.try_recv(), Err(broadcast::error::TryRecvError::Empty)),
        "no duplicate"
    );
}

#[tokio::test]
async fn every_instance_sees_each_message_once() {
    let (_, pool) = fresh_database().await;
    let cancel = CancellationToken::new();
    let a = LiveBus::connect(&pool, cancel.clone()).await.unwrap();
    let b = LiveBus::connect(&pool, cancel.clone()).await.unwrap();
    let (mut on_a, mut on_b) = (a.subscribe(), b.subscribe());

    let message = line(Uuid::new_v4(), "We open at nine.");
    a.publish(message.clone()).await;
    assert_eq!(next(&mut on_a).await, message);
    assert_eq!(next(&mut on_b).await, message);

    let reply = line(message.org_id, "Thanks!");
    b.publish(reply.clone()).await;
    assert_eq!(next(&mut on_b).await, reply);
    assert_eq!(next(&mut on_a).await, reply);

    // Give a stray echo of our own NOTIFY time to arrive before checking there was none.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_quiet(&mut on_a);
    assert_quiet(&mut on_b);
    cancel.cancel();
}

#[tokio::test]
async fn a_long_line_reaches_other_instances_cut_to_fit() {
    let (_, pool) = fresh_database().await;
    let cancel = CancellationToken::new();
    let a = LiveBus::connect(&pool, cancel.clone()).await.unwrap();
    let b = LiveBus::connect(&pool, cancel.clone()).await.unwrap();
    let mut on_b = b.subscribe();
    let long = "é\"".repeat(6000);
    a.publish(line(Uuid::new_v4(), &long)).await;
    let LiveEvent::CallLine { text, .. } = next(&mut on_b).await.event else {
        panic!("a line");
    };
    let kept = text.strip_suffix('…').expect("marked as cut");
    assert!(
        !kept.is_empty() && long.starts_with(kept),
        "a prefix of the line"
    );
    cancel.cancel();
}

#[test]
fn short_payloads_are_sent_whole() {
    let message = line(Uuid::new_v4(), "hello");
    let payload = notify_payload(Uuid::nil(), message.clone());
    let envelope: Envelope = serde_json::from_str(&payload).unwrap();
    assert_eq!(envelope.message, message);
}

#[tokio::test]
async fn a_local_bus_delivers_in_process() {
    let bus = LiveBus::local();
    let mut rx = bus.subscribe();
    let message = LiveMessage {
        org_id: Uuid::new_v4(),
        event: LiveEvent::DocumentProgress {
            document_id: Uuid::new_v4(),
            status: "processing".into(),
            chunks_embedded: 4,
            chunks_total: 10,
            error: None,
        },
    };
    bus.publish(message.clone()).await;
    assert_eq!(next(&mut rx).await, message);
    assert_eq!(message.event.name(), "document.progress");
    assert!(!message.event.is_call_event());
}
