//! `/api/chat/templates`: the predefined responses. Administrators create, change and
//! delete them; agents and supervisors list and search those of their queues (the ACD
//! queues their agent serves and their teams' queues) and the global ones.

use super::{ApiError, AppState};
use crate::accounts::Principal;
use crate::chat::template::{check, search, Template, TemplateError};
use acd::AgentId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use dialer::http::{JsonBody, PathArgs, QueryArgs};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TemplateBody {
    title: String,
    text: String,
    #[serde(default)]
    queues: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchQuery {
    q: Option<String>,
    queue: Option<String>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn invalid(e: TemplateError) -> ApiError {
    let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string());
    error.field = Some(e.field().to_string());
    error
}

fn no_template() -> ApiError {
    ApiError::not_found("not_found", "no such template")
}

/// The queues whose templates the caller sees; `None`: all (an administrator).
async fn queues_of(s: &AppState, p: &Principal) -> Option<Vec<String>> {
    if p.is_admin() {
        return None;
    }
    let mut queues: Vec<String> = match s.accounts.scope(p) {
        crate::accounts::Scope::All => return None,
        crate::accounts::Scope::Limited { queues, .. } => queues.into_iter().collect(),
    };
    if let Some(agent) = p.agent.clone().map(AgentId::new) {
        let served = s
            .distributor
            .read(move |e, _| {
                e.agent_config(&agent)
                    .map(|c| c.queues.iter().map(|q| q.as_str().to_string()).collect())
            })
            .await
            .flatten()
            .unwrap_or_else(Vec::new);
        queues.extend(served);
    }
    Some(queues)
}

/// `GET /api/chat/templates?q=&queue=`.
pub(super) async fn list(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    QueryArgs(query): QueryArgs<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let all = s.store.templates().await.map_err(ApiError::store)?;
    let mine = queues_of(&s, &p).await;
    let found = search(
        &all,
        mine.as_deref(),
        query.queue.as_deref(),
        query.q.as_deref().unwrap_or(""),
    );
    Ok(Json(json!({ "templates": found })))
}

/// `POST /api/chat/templates` (administrators).
pub(super) async fn create(
    State(s): State<AppState>,
    JsonBody(b): JsonBody<TemplateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let max = s.config.chat.max_message_chars;
    let (title, text, queues) = check(&b.title, &b.text, &b.queues, max).map_err(invalid)?;
    let updated_ms = now_ms();
    let id = s
        .store
        .insert_template(&title, &text, &queues, updated_ms)
        .await
        .map_err(ApiError::store)?;
    let t = Template {
        id,
        title,
        text,
        queues,
        updated_ms,
    };
    tracing::info!(template = id, "chat template created");
    Ok((StatusCode::CREATED, Json(json!(t))))
}

/// `PUT /api/chat/templates/{id}` (administrators).
pub(super) async fn put(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<i64>,
    JsonBody(b): JsonBody<TemplateBody>,
) -> Result<Json<Value>, ApiError> {
    let max = s.config.chat.max_message_chars;
    let (title, text, queues) = check(&b.title, &b.text, &b.queues, max).map_err(invalid)?;
    let t = Template {
        id,
        title,
        text,
        queues,
        updated_ms: now_ms(),
    };
    if !s.store.update_template(&t).await.map_err(ApiError::store)? {
        return Err(no_template());
    }
    Ok(Json(json!(t)))
}

/// `DELETE /api/chat/templates/{id}` (administrators).
pub(super) async fn delete(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<i64>,
) -> Result<StatusCode, ApiError> {
    if !s.store.delete_template(id).await.map_err(ApiError::store)? {
        return Err(no_template());
    }
    Ok(StatusCode::NO_CONTENT)
}
