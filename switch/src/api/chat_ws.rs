//! `GET /api/chat/ws`: the customer's side of a web chat, no login. The page's first frame
//! is `{"type":"join","name","dn"}`; then `{"type":"message","text"}` frames and
//! `{"type":"leave"}` (or closing the socket). The server sends what the chat service says
//! (`joined`, `queued`, `message`, `agent_joined`, `agent_left`, `error`, `ended`; see
//! [`ToCustomer`]). An unknown DN, a bad name or a bad first frame get an `error` frame and
//! the socket is closed; a refused message (too long, a card number under `drop`) gets an
//! `error` frame and the chat goes on.

use super::{ApiError, AppState};
use crate::chat::{ChatError, Chats, FromCustomer, ToCustomer};
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long the page may take to send its join frame.
const JOIN_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest frame accepted (a message is at most a few thousand bytes).
const MAX_FRAME: usize = 64 * 1024;
const PING_EVERY: Duration = Duration::from_secs(20);

pub(super) async fn customer(
    State(s): State<AppState>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|e| ApiError::new(e.status(), "websocket_required", e.body_text()))?;
    Ok(ws
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| session(socket, s)))
}

fn frame(what: &ToCustomer) -> Message {
    Message::Text(
        serde_json::to_string(what)
            .unwrap_or_else(|_| "{}".into())
            .into(),
    )
}

fn refusal(e: &ChatError) -> ToCustomer {
    ToCustomer::Error {
        code: e.code().to_string(),
        message: e.to_string(),
    }
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// Reads the join frame.
async fn join_frame(socket: &mut WebSocket) -> Result<(String, String), ToCustomer> {
    let bad = |message: &str| ToCustomer::Error {
        code: "bad_frame".into(),
        message: message.into(),
    };
    let first = tokio::time::timeout(JOIN_TIMEOUT, async {
        loop {
            match socket.recv().await {
                Some(Ok(Message::Text(t))) => return Some(t.to_string()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                _ => return None,
            }
        }
    })
    .await
    .map_err(|_| bad("no join frame in time"))?
    .ok_or_else(|| bad("the first frame must be a text frame"))?;
    match serde_json::from_str::<FromCustomer>(&first) {
        Ok(FromCustomer::Join { name, dn }) => Ok((name, dn)),
        _ => Err(bad(
            "the first frame must be {\"type\":\"join\",\"name\":\"...\",\"dn\":\"...\"}",
        )),
    }
}

async fn session(mut socket: WebSocket, s: AppState) {
    let (name, dn) = match join_frame(&mut socket).await {
        Ok(v) => v,
        Err(e) => {
            let _ = socket.send(frame(&e)).await;
            let _ = socket.send(close(close_code::POLICY, "bad join")).await;
            return;
        }
    };
    let (link, mut from_chat) = mpsc::unbounded_channel();
    let id = match s.chats.join(name, dn, link).await {
        Ok(id) => id,
        Err(e) => {
            let _ = socket.send(frame(&refusal(&e))).await;
            let _ = socket.send(close(close_code::NORMAL, "chat refused")).await;
            return;
        }
    };
    converse(
        &mut socket,
        &s.chats,
        id,
        &mut from_chat,
        s.shutdown.clone(),
    )
    .await;
    s.chats.customer_left(id);
}

/// Relays frames both ways until either side ends the chat.
async fn converse(
    socket: &mut WebSocket,
    chats: &Chats,
    id: u64,
    from_chat: &mut mpsc::UnboundedReceiver<ToCustomer>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            said = from_chat.recv() => {
                let Some(said) = said else { return };
                let ended = matches!(said, ToCustomer::Ended { .. });
                if socket.send(frame(&said)).await.is_err() {
                    return;
                }
                if ended {
                    let _ = socket.send(close(close_code::NORMAL, "chat ended")).await;
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<FromCustomer>(&t) {
                    Ok(FromCustomer::Message { text }) => {
                        if let Err(e) = chats.customer_says(id, text).await {
                            if socket.send(frame(&refusal(&e))).await.is_err() {
                                return;
                            }
                        }
                    }
                    Ok(FromCustomer::Leave {}) => {
                        let _ = socket.send(frame(&ToCustomer::Ended { reason: "you left the chat".into() })).await;
                        let _ = socket.send(close(close_code::NORMAL, "left")).await;
                        return;
                    }
                    Ok(FromCustomer::Join { .. }) | Err(_) => {
                        let e = ToCustomer::Error {
                            code: "bad_frame".into(),
                            message: "expected {\"type\":\"message\",\"text\":\"...\"} or {\"type\":\"leave\"}".into(),
                        };
                        if socket.send(frame(&e)).await.is_err() {
                            return;
                        }
                    }
                },
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = shutdown.changed() => {
                let _ = socket.send(close(close_code::AWAY, "server shutting down")).await;
                return;
            }
        }
    }
}
