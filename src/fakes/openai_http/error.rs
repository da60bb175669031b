//! OpenAI's error answer: the status, `{"error": {"message", "type", "param", "code"}}`, and a
//! `Retry-After` header on throttling, with the messages the real API uses.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::InjectedFailure;

/// An OpenAI error answer: status, `{"error": {...}}` body, and `Retry-After` for throttling.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    message: String,
    kind: &'static str,
    param: Option<String>,
    pub(super) code: Option<&'static str>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// A `400`-family `invalid_request_error` about `param`.
    pub(super) fn invalid_request(
        status: StatusCode,
        message: impl Into<String>,
        param: Option<&str>,
    ) -> Self {
        Self {
            status,
            message: message.into(),
            kind: "invalid_request_error",
            param: param.map(str::to_owned),
            code: None,
            retry_after_secs: None,
        }
    }

    /// `400` for a bad parameter value.
    pub(super) fn bad_param(param: &str, message: impl Into<String>) -> Self {
        Self::invalid_request(StatusCode::BAD_REQUEST, message, Some(param))
    }

    pub(super) fn missing_key() -> Self {
        let message = "You didn't provide an API key. You need to provide your API key in an \
                       Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";
        Self::invalid_request(StatusCode::UNAUTHORIZED, message, None)
    }

    pub(super) fn wrong_key(key: &str) -> Self {
        // Like the real API, show only the key's ends.
        let shown: String = key.chars().take(3).collect::<String>() + "****";
        let message = format!(
            "Incorrect API key provided: {shown}. You can find your API key at \
             https://platform.openai.com/account/api-keys."
        );
        Self {
            code: Some("invalid_api_key"),
            ..Self::invalid_request(StatusCode::UNAUTHORIZED, message, None)
        }
    }

    pub(super) fn bad_json(error: &serde_json::Error) -> Self {
        let message = format!(
            "We could not parse the JSON body of your request. ({error}) (HINT: This likely \
             means you aren't using your HTTP library correctly.)"
        );
        Self::invalid_request(StatusCode::BAD_REQUEST, message, None)
    }

    pub(super) fn injected(failure: InjectedFailure, path: &str) -> Self {
        let server_error = |status, message: &str| Self {
            status,
            message: message.to_owned(),
            kind: "server_error",
            param: None,
            code: None,
            retry_after_secs: None,
        };
        match failure {
            InjectedFailure::RateLimited { retry_after_secs } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: format!(
                    "Rate limit reached for requests on {path} in organization org-fake: \
                     Limit 3000, Used 3000, Requested 1. Please try again in {}s.",
                    retry_after_secs.unwrap_or(1)
                ),
                kind: "requests",
                param: None,
                code: Some("rate_limit_exceeded"),
                retry_after_secs,
            },
            InjectedFailure::InsufficientQuota => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: "You exceeded your current quota, please check your plan and billing \
                          details."
                    .into(),
                kind: "insufficient_quota",
                param: None,
                code: Some("insufficient_quota"),
                retry_after_secs: None,
            },
            InjectedFailure::ServerError => server_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request. Sorry about that!",
            ),
            InjectedFailure::Overloaded => server_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The engine is currently overloaded, please try again later.",
            ),
        }
    }

    /// The JSON body the real API sends with this error.
    fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}
