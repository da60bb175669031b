//! Tracing: `LOG_LEVEL` filtering, pretty or JSON output, one span per request.

use axum::http::Request;
use tower_http::request_id::RequestId;
use tracing::Span;
use tracing_subscriber::EnvFilter;

use crate::config::LogConfig;

/// Installs the global subscriber; a second call (tests) is ignored.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    let _ = if config.json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// The span every request runs in: method, path (never the query, which may
/// carry phone numbers) and the request id also returned in `x-request-id`.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.header_value().to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}
