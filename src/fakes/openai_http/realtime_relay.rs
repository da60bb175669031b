//! `GET /v1/realtime`: the Realtime WebSocket on the HTTP fake's base URL. The protocol is the
//! Realtime fake's ([`crate::fakes::openai_realtime`]); this relays text frames both ways, with
//! the query and the `Authorization` header, so a client configured with one base URL reaches
//! both halves of the fake API.

use std::sync::{Arc, PoisonError};

use axum::extract::State;
use axum::extract::ws::{Message as Downstream, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as Upstream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::Shared;
use super::error::ApiError;

pub(super) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
    socket: WebSocketUpgrade,
) -> Response {
    let target = shared
        .realtime
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let Some(target) = target else {
        return ApiError::invalid_request(
            StatusCode::NOT_FOUND,
            "This fake serves no Realtime API (see FakeOpenAi::relay_realtime).",
            None,
        )
        .into_response();
    };
    let url = match uri.query() {
        Some(query) => format!("{target}?{query}"),
        None => target,
    };
    let authorization = headers.get(header::AUTHORIZATION).cloned();
    socket.on_upgrade(move |socket| async move {
        let Ok(mut request) = url.as_str().into_client_request() else {
            return;
        };
        if let Some(value) = authorization {
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
        if let Ok((upstream, _)) = tokio_tungstenite::connect_async(request).await {
            relay(socket, upstream).await;
        }
    })
}

/// Text frames both ways until either side closes or fails; then both are closed.
async fn relay<S>(downstream: WebSocket, upstream: tokio_tungstenite::WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut down_tx, mut down_rx) = downstream.split();
    let (mut up_tx, mut up_rx) = upstream.split();
    loop {
        tokio::select! {
            message = down_rx.next() => match message {
                Some(Ok(Downstream::Text(text))) => {
                    if up_tx.send(Upstream::text(text.as_str())).await.is_err() { break; }
                }
                Some(Ok(Downstream::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            message = up_rx.next() => match message {
                Some(Ok(Upstream::Text(text))) => {
                    if down_tx.send(Downstream::text(text.as_str())).await.is_err() { break; }
                }
                Some(Ok(Upstream::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = up_tx.close().await;
    let _ = down_tx.close().await;
}
