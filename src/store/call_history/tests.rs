use super::*;
use crate::store::calls::insert_inbound_call;
use crate::store::transcripts::insert_line;
use crate::testing::{fresh_database, seed_org_with_agent};

#[test]
fn a_cursor_survives_the_url_to_the_microsecond() {
    let cursor = Cursor {
        started_at: OffsetDateTime::from_unix_timestamp_nanos(1_763_710_000_123_456_000).unwrap(),
        id: Uuid::new_v4(),
    };
    assert_eq!(Cursor::parse(&cursor.to_string()), Some(cursor));
    for bad in [
        "",
        "12",
        "x_y",
        "12_not-a-uuid",
        "_00000000-0000-0000-0000-000000000000",
    ] {
        assert_eq!(Cursor::parse(bad), None, "{bad}");
    }
}

/// The ids `text` finds in `org_id`'s calls, and the count the page shows.
async fn search(pool: &PgPool, org_id: Uuid, text: &str) -> (Vec<Uuid>, i64) {
    let filter = CallFilter {
        text: Some(text.into()),
        ..CallFilter::default()
    };
    let page = list(pool, org_id, &filter, PageRequest::First)
        .await
        .unwrap();
    (page.calls.iter().map(|c| c.id).collect(), page.total)
}

/// Stores line `seq` of `call` as the live call would.
async fn say(pool: &PgPool, org_id: Uuid, call: Uuid, seq: i32, text: &str) {
    let start_ms = seq * 1000;
    insert_line(
        pool,
        org_id,
        call,
        seq,
        "caller",
        text,
        start_ms,
        start_ms + 900,
        false,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_search_finds_words_said_anywhere_in_a_call_of_this_organization() {
    let (_url, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
    let (other, other_agent) = seed_org_with_agent(&pool, "Other").await;
    let call = insert_inbound_call(&pool, org, agent, "CA1", "+14155550100", "+14155550199")
        .await
        .unwrap();
    // A call without a transcript is listed but found by no word.
    insert_inbound_call(&pool, org, agent, "CA2", "+14155550101", "+14155550199")
        .await
        .unwrap();
    let elsewhere = insert_inbound_call(
        &pool,
        other,
        other_agent,
        "CA3",
        "+14155550102",
        "+14155550199",
    )
    .await
    .unwrap();
    assert_eq!(search(&pool, org, "refund").await, (vec![], 0));

    // Lines arrive while the call is live, after its row.
    say(&pool, org, call, 0, "Hello, how can I help?").await;
    say(&pool, org, call, 1, "I'd like a REFUND.").await;
    say(&pool, other, elsewhere, 0, "A refund, please").await;

    assert_eq!(search(&pool, org, "refund").await, (vec![call], 1));
    assert_eq!(
        search(&pool, org, "hello refund").await,
        (vec![call], 1),
        "words from two lines of one call"
    );
    assert_eq!(search(&pool, org, "refund please").await, (vec![], 0));
    assert_eq!(search(&pool, other, "refund").await, (vec![elsewhere], 1));
    let all = list(&pool, org, &CallFilter::default(), PageRequest::First)
        .await
        .unwrap();
    assert_eq!(all.total, 2);

    // Should a line ever be removed, its words stop matching.
    sqlx::query("delete from call_transcript_lines where call_id = $1 and seq = 1")
        .bind(call)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(search(&pool, org, "refund").await, (vec![], 0));
    assert_eq!(search(&pool, org, "hello").await, (vec![call], 1));
}

#[tokio::test]
async fn a_word_said_in_more_calls_than_the_cap_is_paged_newest_first() {
    let (_url, pool) = fresh_database().await;
    let (org, agent) = seed_org_with_agent(&pool, "Acme").await;
    // 2,200 calls a minute apart; every other one, from the newest, mentions a refund.
    sqlx::query(
        "insert into calls (org_id, agent_id, call_sid, direction, status, from_number, \
                            to_number, started_at) \
         select $1, $2, 'CA' || g, 'inbound', 'completed', '+14155550100', '+14155550199', \
                timestamptz '2026-11-01T00:00:00Z' - make_interval(mins => g) \
           from generate_series(1, 2200) g",
    )
    .bind(org)
    .bind(agent)
    .execute(&pool)
    .await
    .unwrap();
    let said: Vec<Uuid> = sqlx::query_scalar(
        "with lines as (insert into call_transcript_lines \
                            (org_id, call_id, seq, role, text, start_ms, end_ms) \
                        select org_id, id, 0, 'caller', 'About my refund', 0, 900 from calls \
                         where org_id = $1 and substr(call_sid, 3)::int % 2 = 1 \
                        returning call_id) \
         select c.id from calls c join lines l on l.call_id = c.id \
          order by c.started_at desc, c.id desc",
    )
    .bind(org)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(said.len(), 1100);

    let filter = CallFilter {
        text: Some("refund".into()),
        ..CallFilter::default()
    };
    let first = list(&pool, org, &filter, PageRequest::First).await.unwrap();
    assert!(first.total_is_capped());
    let ids: Vec<Uuid> = first.calls.iter().map(|c| c.id).collect();
    assert_eq!(ids, said[..PAGE_SIZE]);
    let cursor = first.older.expect("an older page");
    let second = list(&pool, org, &filter, PageRequest::Older(cursor))
        .await
        .unwrap();
    let ids: Vec<Uuid> = second.calls.iter().map(|c| c.id).collect();
    assert_eq!(ids, said[PAGE_SIZE..2 * PAGE_SIZE]);
}
