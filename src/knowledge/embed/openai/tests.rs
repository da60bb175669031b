//! [`OpenAiEmbedder`] against the in-process OpenAI fake: real HTTP, real `async-openai`.

use std::time::Duration;

use super::*;
use crate::fakes::openai_http::{FakeOpenAi, FakeOpenAiOptions, InjectedFailure, fake_embedding};
use crate::knowledge::embed::cosine_similarity;

const KEY: &str = "sk-test-key";

async fn fake() -> FakeOpenAi {
    let options = FakeOpenAiOptions {
        api_key: Some(KEY.into()),
        ..FakeOpenAiOptions::default()
    };
    FakeOpenAi::start(options).await.expect("fake starts")
}

fn embedder_for(fake: &FakeOpenAi) -> OpenAiEmbedder {
    OpenAiEmbedder::new(OpenAiEmbedderConfig::new(fake.base_url(), KEY)).expect("valid config")
}

fn texts(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[track_caller]
fn assert_unit(vector: &[f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
}

#[tokio::test]
async fn a_batch_gets_unit_vectors_of_1536_dimensions_in_input_order() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    let input = texts(&[
        "We open at nine on weekdays.",
        "Parking is free behind the building.",
        "Gift cards never expire.",
    ]);

    let vectors = embedder.embed(&input).await.expect("embeds");

    assert_eq!(vectors.len(), 3);
    for (text, vector) in input.iter().zip(&vectors) {
        assert_eq!(vector.len(), 1536);
        assert_unit(vector);
        // Each vector is the fake's vector for the text at the same position.
        assert!(cosine_similarity(vector, &fake_embedding(text, 1536)) > 0.9999);
    }
    let requests = fake.requests_to("/v1/embeddings");
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].model.as_deref(), Some(DEFAULT_MODEL));
    assert_eq!(requests[0].input_count, 3);
    assert!(requests[0].has_bearer);
    assert_eq!(requests[0].body["dimensions"], 1536);
}

#[tokio::test]
async fn similar_texts_score_higher_than_unrelated_ones() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    let input = texts(&[
        "What time do you open on Saturday?",
        "Saturday opening time is 10am.",
        "Our lasagne is baked with three cheeses.",
    ]);

    let v = embedder.embed(&input).await.expect("embeds");

    assert!(cosine_similarity(&v[0], &v[1]) > cosine_similarity(&v[0], &v[2]) + 0.3);
}

#[tokio::test]
async fn a_batch_larger_than_the_preferred_size_is_split_into_requests() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    let count = embedder.preferred_batch_size() * 2 + 1;
    let input: Vec<String> = (0..count).map(|i| format!("document number {i}")).collect();

    let vectors = embedder.embed(&input).await.expect("embeds");

    assert_eq!(vectors.len(), count);
    let sizes: Vec<usize> = fake
        .requests_to("/v1/embeddings")
        .iter()
        .map(|r| r.input_count)
        .collect();
    assert_eq!(sizes, vec![64, 64, 1]);
    // Order survives the split: the last vector belongs to the last text.
    let last = fake_embedding(&input[count - 1], 1536);
    assert!(cosine_similarity(&vectors[count - 1], &last) > 0.9999);
}

#[tokio::test]
async fn a_rate_limit_with_retry_after_is_waited_out_and_then_succeeds() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    fake.fail_next(
        1,
        InjectedFailure::RateLimited {
            retry_after_secs: Some(1),
        },
    );

    let vectors = embedder.embed(&texts(&["hello"])).await.expect("retried");

    assert_eq!(vectors.len(), 1);
    let requests = fake.requests_to("/v1/embeddings");
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![429, 200]);
    let waited = requests[1].received_at - requests[0].received_at;
    assert!(waited >= Duration::from_secs(1), "retried after {waited:?}");
}

#[tokio::test]
async fn a_persistent_server_error_is_unavailable_after_bounded_retries() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    fake.fail_always(InjectedFailure::ServerError);

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert!(matches!(error, EmbedError::Unavailable { .. }), "{error:?}");
    assert!(error.is_retryable());
    // One attempt plus async-openai's three retries, then we give up.
    assert_eq!(fake.requests_to("/v1/embeddings").len(), 4);
}

#[tokio::test]
async fn persistent_throttling_is_rate_limited_with_the_hint_from_the_message() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    fake.fail_always(InjectedFailure::RateLimited {
        retry_after_secs: None,
    });

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert_eq!(
        error,
        EmbedError::RateLimited {
            retry_after: Some(Duration::from_secs(1))
        }
    );
    assert_eq!(fake.requests_to("/v1/embeddings").len(), 4);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_not_retried() {
    let fake = fake().await;
    let config = OpenAiEmbedderConfig::new(fake.base_url(), "sk-wrong");
    let embedder = OpenAiEmbedder::new(config).expect("valid config");

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert_eq!(error, EmbedError::Unauthorized);
    assert!(!error.is_retryable());
    assert_eq!(fake.requests_to("/v1/embeddings").len(), 1);
}

#[tokio::test]
async fn revoked_credentials_are_unauthorized() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    fake.reject_credentials(true);

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert_eq!(error, EmbedError::Unauthorized);
}

#[tokio::test]
async fn an_exhausted_quota_is_not_retried() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);
    fake.fail_always(InjectedFailure::InsufficientQuota);

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert!(!error.is_retryable(), "{error:?}");
    assert_eq!(fake.requests_to("/v1/embeddings").len(), 1);
}

#[tokio::test]
async fn a_rejected_request_is_a_bad_request() {
    let fake = fake().await;
    let mut config = OpenAiEmbedderConfig::new(fake.base_url(), KEY);
    config.dimensions = 4096; // more than text-embedding-3-small has
    let embedder = OpenAiEmbedder::new(config).expect("valid config");

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert!(matches!(error, EmbedError::BadRequest { .. }), "{error:?}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn an_empty_text_is_rejected_without_a_request() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);

    let error = embedder.embed(&texts(&["fine", ""])).await.unwrap_err();

    assert!(matches!(error, EmbedError::BadRequest { .. }), "{error:?}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn no_texts_means_no_request() {
    let fake = fake().await;
    let embedder = embedder_for(&fake);

    assert!(embedder.embed(&[]).await.expect("embeds").is_empty());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_smaller_dimension_count_is_requested_and_returned() {
    let fake = fake().await;
    let mut config = OpenAiEmbedderConfig::new(fake.base_url(), KEY);
    config.dimensions = 256;
    let embedder = OpenAiEmbedder::new(config).expect("valid config");

    let vectors = embedder.embed(&texts(&["hello"])).await.expect("embeds");

    assert_eq!(embedder.dimensions(), 256);
    assert_eq!(vectors[0].len(), 256);
    assert_unit(&vectors[0]);
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable() {
    // Bind and release a port so nothing listens there.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let embedder = OpenAiEmbedder::new(OpenAiEmbedderConfig::new(base_url, KEY)).unwrap();

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert!(matches!(error, EmbedError::Unavailable { .. }), "{error:?}");
}

#[tokio::test]
async fn a_batch_over_its_time_budget_is_unavailable() {
    let fake = fake().await;
    let mut config = OpenAiEmbedderConfig::new(fake.base_url(), KEY);
    config.max_elapsed = Duration::from_millis(200);
    let embedder = OpenAiEmbedder::new(config).unwrap();
    // A long Retry-After would otherwise keep async-openai sleeping for a minute.
    fake.fail_next(
        1,
        InjectedFailure::RateLimited {
            retry_after_secs: Some(60),
        },
    );

    let error = embedder.embed(&texts(&["hello"])).await.unwrap_err();

    assert!(matches!(error, EmbedError::Unavailable { .. }), "{error:?}");
}

#[test]
fn building_an_embedder_installs_a_rustls_crypto_provider() {
    // reqwest (rustls-no-provider) panics while building any client when no provider is set;
    // run alone, this test panics if `OpenAiEmbedder::new` stops installing one.
    let config = OpenAiEmbedderConfig::new("https://api.openai.com/v1", KEY);
    let embedder = OpenAiEmbedder::new(config).expect("valid config");
    assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    assert_eq!(embedder.model_id(), DEFAULT_MODEL);
}

#[test]
fn the_chunk_window_is_smaller_than_the_model_limit() {
    let embedder = OpenAiEmbedder::new(OpenAiEmbedderConfig::new("http://x/v1", KEY)).unwrap();
    assert_eq!(embedder.max_input_tokens(), CHUNK_WINDOW_TOKENS);
    assert_eq!(embedder.preferred_batch_size(), DEFAULT_BATCH_SIZE);
    assert_eq!(embedder.dimensions(), 1536);
}

#[test]
fn the_api_key_never_appears_in_debug_output() {
    let config = OpenAiEmbedderConfig::new("http://x/v1", "sk-very-secret");
    assert!(!format!("{config:?}").contains("sk-very-secret"));
    let embedder = OpenAiEmbedder::new(config).unwrap();
    assert!(!format!("{embedder:?}").contains("sk-very-secret"));
}

#[test]
fn invalid_configurations_are_refused() {
    let base = || OpenAiEmbedderConfig::new("http://x/v1", KEY);
    let refused = |config: OpenAiEmbedderConfig| OpenAiEmbedder::new(config).unwrap_err();
    assert!(matches!(
        refused(OpenAiEmbedderConfig::new("api.openai.com", KEY)),
        InvalidOpenAiEmbedderConfig::BaseUrl { .. }
    ));
    assert_eq!(
        refused(OpenAiEmbedderConfig {
            model: " ".into(),
            ..base()
        }),
        InvalidOpenAiEmbedderConfig::EmptyModel
    );
    assert_eq!(
        refused(OpenAiEmbedderConfig {
            dimensions: 0,
            ..base()
        }),
        InvalidOpenAiEmbedderConfig::ZeroDimensions
    );
    assert_eq!(
        refused(OpenAiEmbedderConfig {
            batch_size: 0,
            ..base()
        }),
        InvalidOpenAiEmbedderConfig::BatchSize {
            got: 0,
            max: MAX_BATCH_SIZE
        }
    );
}

#[test]
fn retry_hints_are_read_from_rate_limit_messages() {
    let hint = |m: &str| retry_hint(m);
    assert_eq!(
        hint("Please try again in 1.5s."),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(
        hint("Please try again in 20ms. Visit …"),
        Some(Duration::from_millis(20))
    );
    assert_eq!(
        hint("Please try again in 1m30s."),
        Some(Duration::from_secs(90))
    );
    assert_eq!(hint("Rate limit reached."), None);
    assert_eq!(hint("Please try again in a moment."), None);
}
