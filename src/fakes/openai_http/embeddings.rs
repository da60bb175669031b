//! `POST /v1/embeddings`: request validation, the response shape, and the fake's vectors.
//!
//! Vectors come from feature hashing, not a model: each lowercased word (minus stop words, with
//! common suffixes stripped) and each of its character trigrams is hashed to a dimension and a
//! sign, and the sum is normalised. Texts sharing words therefore point the same way and
//! unrelated texts are nearly orthogonal, which is all retrieval tests need; the same text always
//! gives the same vector.

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};

use super::{ApiError, FakeOpenAiOptions, estimate_tokens};

/// Models the fake knows: name, native dimensions, whether `dimensions` may shorten them.
const MODELS: [(&str, usize, bool); 3] = [
    ("text-embedding-3-small", 1536, true),
    ("text-embedding-3-large", 3072, true),
    ("text-embedding-ada-002", 1536, false),
];

/// The API's limit on inputs per request.
const MAX_INPUTS: usize = 2048;

/// Words too common to say anything about a text's topic.
const STOP_WORDS: [&str; 40] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "have",
    "how", "i", "in", "is", "it", "me", "my", "of", "on", "or", "our", "so", "that", "the", "this",
    "to", "we", "what", "when", "where", "which", "who", "will", "with", "you", "your",
];

/// Weight of one character trigram relative to a whole word: enough to link `open`/`opening`
/// or a typo, small enough that shared words dominate.
const TRIGRAM_WEIGHT: f32 = 0.3;

/// The fake's deterministic unit vector for `text`, `dimensions` long.
pub fn fake_embedding(text: &str, dimensions: usize) -> Vec<f32> {
    let mut features = text_features(text);
    if features.is_empty() {
        // Punctuation or stop words only: still a stable, non-zero vector.
        features.push((format!("raw:{}", text.trim().to_lowercase()), 1.0));
    }
    hashed_unit_vector(&features, dimensions)
}

/// The fake's vector for pre-tokenised input (token ids are the features).
fn token_embedding(tokens: &[u64], dimensions: usize) -> Vec<f32> {
    let features: Vec<(String, f32)> = tokens.iter().map(|t| (format!("tok:{t}"), 1.0)).collect();
    hashed_unit_vector(&features, dimensions)
}

fn text_features(text: &str) -> Vec<(String, f32)> {
    let lower = text.to_lowercase();
    let mut features = Vec::new();
    for word in lower.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || STOP_WORDS.contains(&word) {
            continue;
        }
        let stem = stem(word);
        let padded: Vec<char> = format!("^{stem}$").chars().collect();
        for trigram in padded.windows(3) {
            features.push((
                format!("t:{}", trigram.iter().collect::<String>()),
                TRIGRAM_WEIGHT,
            ));
        }
        features.push((format!("w:{stem}"), 1.0));
    }
    features
}

/// A crude suffix stripper: `opening`, `opens`, `opened` → `open`; `houses`, `house` → `hous`.
fn stem(word: &str) -> &str {
    const SUFFIXES: [&str; 8] = ["ingly", "edly", "ings", "ing", "ies", "es", "ed", "s"];
    let mut stem = word;
    for suffix in SUFFIXES {
        if let Some(rest) = stem.strip_suffix(suffix)
            && rest.chars().count() >= 3
        {
            stem = rest;
            break;
        }
    }
    match stem.strip_suffix('e') {
        Some(rest) if rest.chars().count() >= 3 => rest,
        _ => stem,
    }
}

fn hashed_unit_vector(features: &[(String, f32)], dimensions: usize) -> Vec<f32> {
    let mut vector = vec![0.0_f32; dimensions.max(1)];
    let len = vector.len() as u64;
    for (feature, weight) in features {
        let hash = fnv1a(feature.as_bytes());
        // Signed hashing: collisions cancel on average instead of adding spurious similarity.
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[(hash % len) as usize] += sign * weight;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    } else {
        vector[0] = 1.0;
    }
    vector
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One input, as the API accepts it: a string or a list of token ids.
enum Input {
    Text(String),
    Tokens(Vec<u64>),
}

fn parse_inputs(input: &Value) -> Result<Vec<Input>, ApiError> {
    let invalid = || ApiError::bad_param("input", "'$.input' is invalid.");
    let tokens =
        |items: &[Value]| -> Option<Vec<u64>> { items.iter().map(Value::as_u64).collect() };
    let inputs = match input {
        Value::String(text) => vec![Input::Text(text.clone())],
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_number) => {
            vec![Input::Tokens(tokens(items).ok_or_else(invalid)?)]
        }
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(text) => Ok(Input::Text(text.clone())),
                Value::Array(ids) if !ids.is_empty() => {
                    tokens(ids).map(Input::Tokens).ok_or_else(invalid)
                }
                _ => Err(invalid()),
            })
            .collect::<Result<_, _>>()?,
        Value::Null => return Err(ApiError::bad_param("input", "you must provide an input")),
        _ => return Err(invalid()),
    };
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return Err(ApiError::bad_param(
            "input",
            format!("'$.input' must hold between 1 and {MAX_INPUTS} items."),
        ));
    }
    if inputs
        .iter()
        .any(|i| matches!(i, Input::Text(t) if t.is_empty()))
    {
        return Err(invalid());
    }
    Ok(inputs)
}

/// Answers one embeddings request body.
pub(super) fn respond(request: &Value, _options: &FakeOpenAiOptions) -> Result<Value, ApiError> {
    let Some(model) = request["model"].as_str() else {
        return Err(ApiError::bad_param(
            "model",
            "you must provide a model parameter",
        ));
    };
    let Some(&(_, native, shortenable)) = MODELS.iter().find(|(name, ..)| *name == model) else {
        let message =
            format!("The model `{model}` does not exist or you do not have access to it.");
        let mut error = ApiError::invalid_request(StatusCode::NOT_FOUND, message, None);
        error.code = Some("model_not_found");
        return Err(error);
    };
    let dimensions = match &request["dimensions"] {
        Value::Null => native,
        _ if !shortenable => {
            return Err(ApiError::bad_param(
                "dimensions",
                "This model does not support specifying dimensions.",
            ));
        }
        value => match value.as_u64().and_then(|d| usize::try_from(d).ok()) {
            Some(d) if (1..=native).contains(&d) => d,
            _ => {
                return Err(ApiError::bad_param(
                    "dimensions",
                    format!("'$.dimensions' must be between 1 and {native}."),
                ));
            }
        },
    };
    let base64 = match request["encoding_format"].as_str() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => {
            return Err(ApiError::bad_param(
                "encoding_format",
                "'$.encoding_format' must be 'float' or 'base64'.",
            ));
        }
    };
    let inputs = parse_inputs(&request["input"])?;
    let mut prompt_tokens = 0_u32;
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| {
            let vector = match input {
                Input::Text(text) => {
                    prompt_tokens = prompt_tokens.saturating_add(estimate_tokens(text));
                    fake_embedding(text, dimensions)
                }
                Input::Tokens(ids) => {
                    let count = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                    prompt_tokens = prompt_tokens.saturating_add(count);
                    token_embedding(ids, dimensions)
                }
            };
            json!({"object": "embedding", "index": index, "embedding": encode(&vector, base64)})
        })
        .collect();
    Ok(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }))
}

/// A vector as the API sends it: a float array, or base64 of little-endian `f32`s.
fn encode(vector: &[f32], base64: bool) -> Value {
    if base64 {
        let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
        Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
    } else {
        json!(vector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::embed::cosine_similarity;

    fn norm(v: &[f32]) -> f32 {
        v.iter().map(|x| x * x).sum::<f32>().sqrt()
    }

    #[test]
    fn the_same_text_always_gives_the_same_unit_vector() {
        let a = fake_embedding("When do you open on Sundays?", 1536);
        assert_eq!(a, fake_embedding("When do you open on Sundays?", 1536));
        assert_eq!(a.len(), 1536);
        assert!((norm(&a) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn texts_sharing_words_score_higher_than_unrelated_ones() {
        let question = fake_embedding("What are your opening hours on Sunday?", 1536);
        let answer = fake_embedding(
            "On Sundays we open at 10am; opening hours end at 4pm.",
            1536,
        );
        let unrelated = fake_embedding("The margherita pizza comes with fresh basil.", 1536);
        let related = cosine_similarity(&question, &answer);
        let far = cosine_similarity(&question, &unrelated);
        assert!(related > 0.5, "related texts scored {related}");
        assert!(far.abs() < 0.2, "unrelated texts scored {far}");
    }

    #[test]
    fn text_without_content_words_still_gets_a_unit_vector() {
        for text in ["?", "the and of", "   "] {
            assert!(
                (norm(&fake_embedding(text, 64)) - 1.0).abs() < 1e-5,
                "{text:?}"
            );
        }
    }

    #[test]
    fn stemming_joins_word_forms() {
        assert_eq!(stem("opening"), "open");
        assert_eq!(stem("opens"), "open");
        assert_eq!(stem("houses"), stem("house"));
        assert_eq!(stem("is"), "is");
    }

    #[test]
    fn the_dimensions_parameter_shortens_vectors() {
        let request = json!({"model": "text-embedding-3-small", "input": "hi", "dimensions": 256});
        let response = respond(&request, &FakeOpenAiOptions::default()).unwrap();
        assert_eq!(
            response["data"][0]["embedding"].as_array().unwrap().len(),
            256
        );
    }

    #[test]
    fn base64_vectors_decode_to_the_float_ones() {
        let request = |format| json!({"model": "text-embedding-3-small", "input": ["hello there"], "encoding_format": format});
        let options = FakeOpenAiOptions::default();
        let floats: Vec<f32> = serde_json::from_value(
            respond(&request("float"), &options).unwrap()["data"][0]["embedding"].clone(),
        )
        .unwrap();
        let encoded = respond(&request("base64"), &options).unwrap()["data"][0]["embedding"]
            .as_str()
            .unwrap()
            .to_owned();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        let decoded: Vec<f32> = bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(decoded, floats);
    }

    #[test]
    fn invalid_requests_are_rejected_like_the_api_does() {
        let options = FakeOpenAiOptions::default();
        let status = |request: Value| respond(&request, &options).unwrap_err().status;
        assert_eq!(
            status(json!({"model": "text-embedding-3-small", "input": ""})),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(json!({"model": "text-embedding-3-small", "input": []})),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(json!({"model": "text-embedding-3-small", "input": "x", "dimensions": 4000})),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(json!({"model": "text-embedding-ada-002", "input": "x", "dimensions": 8})),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(json!({"model": "no-such-model", "input": "x"})),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn usage_counts_tokens_of_every_input() {
        let request =
            json!({"model": "text-embedding-3-small", "input": ["abcd", "abcdefgh", [1, 2, 3]]});
        let response = respond(&request, &FakeOpenAiOptions::default()).unwrap();
        assert_eq!(response["usage"]["prompt_tokens"], 1 + 2 + 3);
        assert_eq!(response["data"].as_array().unwrap().len(), 3);
        assert_eq!(response["data"][2]["index"], 2);
    }
}
