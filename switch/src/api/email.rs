//! The agent's side of e-mail over REST: `GET /api/agents/{id}/emails` (the threads an
//! agent is offered, works or wraps up), `GET /api/emails/{id}` (a thread: its mails,
//! files, the customer's history), `POST /api/emails/{id}/accept|decline|reply|transfer|
//! end|wrap-up`, `PUT|DELETE /api/emails/{id}/draft` (the agent's unsent reply), `GET
//! /api/emails/{id}/files/{file}` (a file, as a download) and `GET
//! /api/emails/{id}/messages/{message}/original` (an inbound mail's raw source, as text).
//! Supervisors and administrators may read the threads of their teams' queues.

use super::chat::own_agent;
use super::{ApiError, AppState};
use crate::accounts::{Principal, Role};
use crate::email::{DraftBody, EmailError, ReplyBody};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use dialer::http::{JsonBody, PathArgs};
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn email_error(e: EmailError) -> ApiError {
    let (status, code) = match &e {
        EmailError::NoThread(_) => (StatusCode::NOT_FOUND, "not_found"),
        EmailError::NotYours => (StatusCode::FORBIDDEN, "not_yours"),
        EmailError::NotOffered => (StatusCode::CONFLICT, "not_offered"),
        EmailError::NotWorking => (StatusCode::CONFLICT, "not_working"),
        EmailError::NotEmailQueue(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not_email_queue"),
        EmailError::BadReply(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad_reply"),
        EmailError::UnknownCode(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown_code"),
        EmailError::NoRelay => (StatusCode::CONFLICT, "no_relay"),
        EmailError::Acd(_) => (StatusCode::CONFLICT, "acd_refused"),
        EmailError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "store"),
        EmailError::Stopped => (StatusCode::SERVICE_UNAVAILABLE, "stopped"),
    };
    let mut error = ApiError::new(status, code, e.to_string());
    error.field = match &e {
        EmailError::NotEmailQueue(_) => Some("queue".into()),
        EmailError::UnknownCode(_) => Some("codes".into()),
        _ => None,
    };
    error
}

/// The thread as the caller may see it: an agent their own, a supervisor (or an
/// administrator) any of their teams' queues.
async fn viewed(s: &AppState, p: &Principal, id: u64) -> Result<crate::email::EmailView, ApiError> {
    let oversees = p.is_admin() || p.has(Role::Supervisor);
    if let Some(agent) = p.agent.as_deref() {
        match s.emails.view(Some(acd::AgentId::new(agent)), id).await {
            Ok(v) => return Ok(v),
            Err(EmailError::NotYours) if oversees => {}
            Err(e) => return Err(email_error(e)),
        }
    }
    let v = s.emails.view(None, id).await.map_err(email_error)?;
    if !oversees || !s.accounts.scope(p).queue(&v.thread.queue) {
        return Err(email_error(EmailError::NotYours));
    }
    Ok(v)
}

pub(super) async fn of_agent(
    State(s): State<AppState>,
    PathArgs(agent): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    let views = s
        .emails
        .of_agent(acd::AgentId::new(&agent))
        .await
        .map_err(email_error)?;
    Ok(Json(json!(views)))
}

pub(super) async fn get(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(viewed(&s, &p, id).await?)))
}

pub(super) async fn accept(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    let v = s
        .emails
        .accept(own_agent(&p)?, id)
        .await
        .map_err(email_error)?;
    Ok(Json(json!(v)))
}

pub(super) async fn decline(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<StatusCode, ApiError> {
    s.emails
        .decline(own_agent(&p)?, id)
        .await
        .map_err(email_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reply's body carries its files (base64): room for `email.max_attachment_bytes` of
/// them, a third more for the encoding, and 1 MiB for the rest.
fn reply_limit(s: &AppState) -> usize {
    let files = s.config.email.max_attachment_bytes as usize;
    files + files / 3 + 4 + dialer::http::JSON_LIMIT
}

pub(super) async fn reply(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    headers: HeaderMap,
    raw: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body: ReplyBody =
        dialer::http::extract::json_within(&headers, raw, reply_limit(&s)).await?;
    let v = s
        .emails
        .reply(own_agent(&p)?, id, body)
        .await
        .map_err(email_error)?;
    Ok((StatusCode::ACCEPTED, Json(json!(v))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TransferBody {
    queue: String,
}

pub(super) async fn transfer(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(b): JsonBody<TransferBody>,
) -> Result<StatusCode, ApiError> {
    s.emails
        .transfer(own_agent(&p)?, id, b.queue)
        .await
        .map_err(email_error)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn end(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<StatusCode, ApiError> {
    s.emails
        .end(own_agent(&p)?, id)
        .await
        .map_err(email_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WrapUpBody {
    codes: Vec<String>,
}

pub(super) async fn wrap_up(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(b): JsonBody<WrapUpBody>,
) -> Result<StatusCode, ApiError> {
    s.emails
        .wrap_up(own_agent(&p)?, id, b.codes)
        .await
        .map_err(email_error)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn put_draft(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(body): JsonBody<DraftBody>,
) -> Result<Json<Value>, ApiError> {
    let d = s
        .emails
        .draft(own_agent(&p)?, id, Some(body))
        .await
        .map_err(email_error)?;
    Ok(Json(json!(d)))
}

pub(super) async fn delete_draft(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<StatusCode, ApiError> {
    s.emails
        .draft(own_agent(&p)?, id, None)
        .await
        .map_err(email_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// An inbound mail's raw source (RFC 5322), shown as plain text; not kept for a mail
/// that held a card number.
pub(super) async fn original(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs((id, message)): PathArgs<(u64, u64)>,
) -> Result<Response, ApiError> {
    let v = viewed(&s, &p, id).await?;
    let Some(m) = v.messages.iter().find(|m| m.email.id == message) else {
        return Err(ApiError::not_found(
            "not_found",
            format!("no message {message} in e-mail {id}"),
        ));
    };
    if m.email.original.is_empty() {
        return Err(ApiError::not_found(
            "no_original",
            "the original of this message is not kept (a reply, or a mail that held a card \
             number)",
        ));
    }
    let path = s.config.data_dir.join("email").join(&m.email.original);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "file_missing",
            format!("the original could not be read: {e}"),
        )
    })?;
    let mut r = Body::from(bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}

/// A file of one of the thread's mails.
pub(super) async fn file(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs((id, file)): PathArgs<(u64, String)>,
) -> Result<Response, ApiError> {
    let v = viewed(&s, &p, id).await?;
    let Some(f) = v
        .messages
        .iter()
        .flat_map(|m| m.files.iter())
        .find(|f| f.id == file)
    else {
        return Err(ApiError::not_found(
            "not_found",
            format!("no file {file:?} in e-mail {id}"),
        ));
    };
    let path = s.config.data_dir.join("email").join(&f.id);
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "file_missing",
            format!("the file could not be read: {e}"),
        )
    })?;
    let disposition = super::chat_files::disposition(&f.name);
    let mut r = Body::from(bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&f.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}
