//! Voicemail over REST: a mailbox's messages (`GET /api/voicemail/{user}`), one message's
//! WAV (`.../{id}/audio`), marking it heard (`POST .../{id}/read`) and deleting it
//! (`DELETE .../{id}`); the user's own greeting (`GET|PUT|DELETE .../greeting`). A mailbox is its user's (the account with that extension), and
//! seen by the supervisors of that user's agent and by administrators. Changes reach the
//! user's phones as MWI NOTIFYs.

use super::calls::Visibility;
use super::AppState;
use crate::accounts::Principal;
use crate::router::ShardInput;
use crate::voicemail::greeting::{self, GreetingError};
use crate::voicemail::Status;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use dialer::http::{ApiError, PathArgs};
use serde_json::{json, Value};

async fn may_open(s: &AppState, p: &Principal, user: &str) -> Result<(), ApiError> {
    if s.config.user(user).is_none() {
        return Err(ApiError::not_found(
            "not_found",
            format!("no mailbox {user:?}"),
        ));
    }
    if Visibility::of(s, p).await.sees_users(&[user]) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the mailbox is not yours nor of an agent in your teams",
        ))
    }
}

fn no_message(id: &str) -> ApiError {
    ApiError::not_found("not_found", format!("no message {id:?}"))
}

pub(super) async fn list(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(user): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    may_open(&s, &p, &user).await?;
    let (new, saved) = s.mailboxes.counts(&user);
    Ok(Json(json!({
        "mailbox": user,
        "new": new,
        "saved": saved,
        "messages": s.mailboxes.list(&user),
    })))
}

pub(super) async fn audio(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs((user, id)): PathArgs<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    may_open(&s, &p, &user).await?;
    let message = s.mailboxes.get(&user, &id).ok_or_else(|| no_message(&id))?;
    let path = s.config.data_dir.join(message.file());
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "audio/wav".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{id}.wav\""),
                ),
            ],
            bytes,
        )),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "voicemail file missing");
            Err(no_message(&id))
        }
    }
}

pub(super) async fn read(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs((user, id)): PathArgs<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    may_open(&s, &p, &user).await?;
    if !s.mailboxes.set_status(&user, &id, Status::Saved) {
        return Err(no_message(&id));
    }
    s.router.send(
        0,
        ShardInput::Mwi {
            mailbox: user.clone(),
        },
    );
    let message = s.mailboxes.get(&user, &id).ok_or_else(|| no_message(&id))?;
    Ok(Json(json!(message)))
}

pub(super) async fn delete(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs((user, id)): PathArgs<(String, String)>,
) -> Result<StatusCode, ApiError> {
    may_open(&s, &p, &user).await?;
    let Some(message) = s.mailboxes.get(&user, &id) else {
        return Err(no_message(&id));
    };
    s.mailboxes.delete(&user, &id);
    s.router.send(0, ShardInput::Mwi { mailbox: user });
    let path = s.config.data_dir.join(message.file());
    if let Err(e) = tokio::fs::remove_file(&path).await {
        tracing::warn!(path = %path.display(), error = %e, "voicemail file not removed");
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/voicemail/{user}/greeting`: the mailbox's own greeting, as a WAV.
pub(super) async fn greeting(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(user): PathArgs<String>,
) -> Result<impl IntoResponse, ApiError> {
    may_open(&s, &p, &user).await?;
    let samples = s
        .mailboxes
        .greeting(&user)
        .ok_or_else(|| ApiError::not_found("not_found", "the mailbox has the standard greeting"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"greeting-{user}.wav\""),
            ),
        ],
        media::wav::encode_pcm16(&samples),
    ))
}

/// `PUT /api/voicemail/{user}/greeting`: a WAV (8 kHz mono PCM, µ-law or A-law, 1 to 60
/// s) becomes the mailbox's greeting.
pub(super) async fn put_greeting(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(user): PathArgs<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    may_open(&s, &p, &user).await?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !matches!(
        kind.as_str(),
        "audio/wav" | "audio/x-wav" | "audio/wave" | "application/octet-stream"
    ) {
        return Err(ApiError::unsupported_media_type("audio/wav"));
    }
    let id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        .to_string();
    match greeting::store_upload(&s.mailboxes, &s.config.data_dir, &user, &id, &body).await {
        Ok(length) => Ok(Json(json!({
            "mailbox": user,
            "duration_ms": length.as_millis() as u64,
        }))),
        Err(GreetingError::Io(e)) => {
            tracing::error!(%user, error = %e, "greeting not written");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the greeting could not be written",
            ))
        }
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_greeting",
            e.to_string(),
        )),
    }
}

/// `DELETE /api/voicemail/{user}/greeting`: back to the standard greeting.
pub(super) async fn delete_greeting(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(user): PathArgs<String>,
) -> Result<StatusCode, ApiError> {
    may_open(&s, &p, &user).await?;
    if !greeting::remove(&s.mailboxes, &s.config.data_dir, &user).await {
        return Err(ApiError::not_found(
            "not_found",
            "the mailbox has the standard greeting",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}
