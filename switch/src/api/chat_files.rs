//! A chat's files over REST: `POST /api/chats/{id}/attachments?name=FILE` (the body is the
//! file's bytes), `GET /api/chats/{id}/attachments` (the list) and
//! `GET /api/chats/{id}/attachments/{file}` (the bytes, as a download).
//!
//! Who: the chat's customer with its token (`X-Chat-Token`, from the `joined` frame), the
//! agent working the chat or its conference guest (to send); for reading also whoever may
//! read the chat's transcript (the agent who took it, supervisors of its queue,
//! administrators). A file is checked by the attachment rules (type by name and content,
//! the chat's remaining budget, card numbers) before anything is written; a refused one
//! gets a 4xx with the reason and leaves nothing behind.

use super::chat::{chat_error, own_agent};
use super::{ApiError, AppState};
use crate::accounts::{Principal, Role};
use crate::chat::attachment::{content_type, AttachError};
use crate::chat::files::{self, Sender, TOKEN_HEADER};
use crate::chat::ChatError;
use acd::AgentId;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use dialer::http::{PathArgs, QueryArgs};
use serde::Deserialize;
use serde_json::{json, Value};

/// The status a refused file gets.
pub(super) fn file_status(e: &AttachError) -> StatusCode {
    match e {
        AttachError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AttachError::TypeNotAllowed(..) | AttachError::ContentMismatch(_) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        AttachError::BadName
        | AttachError::Empty
        | AttachError::CardNumber
        | AttachError::Unscannable(_) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn file_error(e: AttachError) -> ApiError {
    let mut error = ApiError::new(file_status(&e), e.code(), e.to_string());
    if e == AttachError::BadName {
        error.field = Some("name".into());
    }
    error
}

/// Who asks about a chat's files.
enum Caller {
    /// The chat's customer: the token matched.
    Customer,
    Account(Principal),
}

async fn caller(
    s: &AppState,
    headers: &HeaderMap,
    principal: Option<Extension<Principal>>,
    id: u64,
) -> Result<Caller, ApiError> {
    if let Some(token) = headers.get(TOKEN_HEADER) {
        let token = token.to_str().unwrap_or("");
        let digest = s.store.chat_token(id).await.map_err(ApiError::store)?;
        return match digest {
            Some(d) if files::token_matches(token, &d) => Ok(Caller::Customer),
            _ => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_chat_token",
                "the chat token is not this chat's",
            )),
        };
    }
    match principal {
        Some(Extension(p)) => Ok(Caller::Account(p)),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "log in, send an API token, or the chat's X-Chat-Token",
        )),
    }
}

/// Whether an account may read chat `id`'s files: as its transcript (the agent who took
/// it, a supervisor of its queue, an administrator), or as an agent in the live chat.
async fn may_read(s: &AppState, p: &Principal, id: u64) -> Result<(), ApiError> {
    let chat = s
        .store
        .chat(id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found("not_found", "no such chat"))?;
    let own = p.agent.is_some() && p.agent == chat.agent;
    let team = p.has(Role::Supervisor) && s.accounts.scope(p).queue(&chat.queue);
    let live = match &p.agent {
        Some(a) if !own => s.chats.involves(AgentId::new(a.as_str()), id).await,
        _ => false,
    };
    if p.is_admin() || own || team || live {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_your_chat",
            "the chat is not yours nor of your teams' queues",
        ))
    }
}

async fn check_read(
    s: &AppState,
    headers: &HeaderMap,
    principal: Option<Extension<Principal>>,
    id: u64,
) -> Result<(), ApiError> {
    match caller(s, headers, principal, id).await? {
        Caller::Customer => Ok(()),
        Caller::Account(p) => may_read(s, &p, id).await,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct UploadQuery {
    name: String,
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// `POST /api/chats/{id}/attachments?name=FILE`: sends a file into the chat.
pub(super) async fn upload(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    headers: HeaderMap,
    PathArgs(id): PathArgs<u64>,
    QueryArgs(q): QueryArgs<UploadQuery>,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let from = match caller(&s, &headers, principal, id).await? {
        Caller::Customer => Sender::Customer,
        Caller::Account(p) => Sender::Agent(own_agent(&p)?),
    };
    let rules = s.config.chat.attachments.clone();
    let (name, ext) = rules.check_type(&q.name).map_err(file_error)?;
    let (_, used) = s
        .chats
        .attachable(from.clone(), id)
        .await
        .map_err(chat_error)?;
    // Refused before a byte is read when the length is known to be over the budget.
    if let Some(len) = content_length(&headers) {
        rules.admit(used, len).map_err(file_error)?;
    }
    let left = rules.max_total_bytes.saturating_sub(used);
    let bytes = match axum::body::to_bytes(body, usize::try_from(left).unwrap_or(usize::MAX)).await
    {
        Ok(b) => b,
        Err(e) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            return Err(if too_large {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    format!(
                        "the chat's attachments may total at most {} bytes; {used} are used \
                         and this file is larger than the {left} left",
                        rules.max_total_bytes
                    ),
                )
            } else {
                ApiError::bad_request("bad_body", format!("the body could not be read: {e}"))
            });
        }
    };
    let check_name = name.clone();
    let checked =
        tokio::task::spawn_blocking(move || rules.check_file(&check_name, &bytes).map(|_| bytes))
            .await
            .map_err(|e| ApiError::store(format!("the check stopped: {e}")))?;
    let bytes = checked.map_err(|e| {
        tracing::info!(code = e.code(), "chat file refused");
        file_error(e)
    })?;
    let file = files::write_temp(&s.config.data_dir, files::new_id(), name, ext, &bytes)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "attachment not written");
            ApiError::store(format!("the file could not be written: {e}"))
        })?;
    let temp = file.temp.clone();
    match s.chats.attach(from, id, file).await {
        Ok(m) => Ok((StatusCode::CREATED, Json(json!(m)))),
        Err(e) => {
            let _ = tokio::fs::remove_file(&temp).await;
            Err(chat_error(e))
        }
    }
}

/// `GET /api/chats/{id}/attachments`: the chat's files, oldest first, with its budget.
pub(super) async fn list(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    headers: HeaderMap,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    check_read(&s, &headers, principal, id).await?;
    let stored = s.store.attachments(id).await.map_err(ApiError::store)?;
    let rules = &s.config.chat.attachments;
    let total: u64 = stored.iter().map(|a| a.size).sum();
    let list: Vec<Value> = stored
        .iter()
        .map(|a| {
            let f = files::file_ref(a);
            json!({
                "id": a.id, "name": a.name, "size": a.size, "content_type": f.content_type,
                "url": f.url, "sender": a.sender, "role": a.role, "at_ms": a.at_ms,
            })
        })
        .collect();
    Ok(Json(json!({
        "attachments": list,
        "total_bytes": total,
        "max_total_bytes": rules.max_total_bytes,
        "types": rules.types,
    })))
}

/// A `Content-Disposition` that downloads the file under its name: a plain-ASCII
/// `filename` (quotes, backslashes and other characters replaced) and the exact name as
/// RFC 8187 `filename*`.
pub(super) fn disposition(name: &str) -> String {
    let plain: String = name
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{plain}\"; filename*=UTF-8''{encoded}")
}

/// `GET /api/chats/{id}/attachments/{file}`: the file, as a download.
pub(super) async fn download(
    State(s): State<AppState>,
    principal: Option<Extension<Principal>>,
    headers: HeaderMap,
    PathArgs((id, file)): PathArgs<(u64, String)>,
) -> Result<Response, ApiError> {
    check_read(&s, &headers, principal, id).await?;
    let missing = || ApiError::not_found("not_found", "no such file in this chat");
    if !files::is_id(&file) {
        return Err(missing());
    }
    let stored = s.store.attachments(id).await.map_err(ApiError::store)?;
    let a = stored
        .into_iter()
        .find(|a| a.id == file)
        .ok_or_else(missing)?;
    let path = files::dir(&s.config.data_dir).join(&a.id);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        tracing::warn!(path = %path.display(), error = %e, "attachment file missing");
        missing()
    })?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&a.ext)),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition(&a.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(r)
}

/// A refusal of the chat service about a file (the budget, or the store).
pub(super) fn chat_file_status(e: &ChatError) -> Option<StatusCode> {
    match e {
        ChatError::File(f) => Some(file_status(f)),
        ChatError::FileStore(_) => Some(StatusCode::INTERNAL_SERVER_ERROR),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_quoted_safely() {
        assert_eq!(
            disposition("report.pdf"),
            "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
        );
        assert_eq!(
            disposition("a \"b\"\\c;\r.txt"),
            "attachment; filename=\"a _b__c;_.txt\"; filename*=UTF-8''a%20%22b%22%5Cc%3B%0D.txt"
        );
        assert_eq!(
            disposition("Lös.pdf"),
            "attachment; filename=\"L_s.pdf\"; filename*=UTF-8''L%C3%B6s.pdf"
        );
    }
}
