//! The HTTP API (axum): health, live calls, registrations, CDRs and Prometheus metrics;
//! the ACD's agents and queues (`agents`, `acd_config`), their history (`history`) and the
//! WebSocket event stream (`events`). Errors are JSON: `{"error":{"code","message"}}`,
//! plus `"field"` when a request body names something invalid.

mod acd_config;
mod agents;
mod events;
mod history;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;

use crate::distributor::Distributor;
use crate::metrics::Metrics;
use crate::registrar::Registrar;
use crate::shard::Shards;
use crate::store::Store;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::Instant;

#[derive(Clone)]
pub struct AppState {
    pub shards: Arc<Shards>,
    pub registrar: Arc<RwLock<Registrar>>,
    pub metrics: Arc<Metrics>,
    pub media: Arc<media::MediaEngine>,
    pub store: Store,
    pub distributor: Distributor,
    pub started: Instant,
    /// Held while a queue or agent configuration is changed, so the engine and the store
    /// see REST changes in the same order.
    pub acd_admin: Arc<tokio::sync::Mutex<()>>,
    /// Becomes `true` when the server shuts down: long-lived responses (the event stream)
    /// close, so the handles they hold are released.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// An API error with its HTTP status and machine-readable code.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// 422 `invalid`, naming the body field at fault (empty: the body as a whole).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message: message.into(),
            field: (!field.is_empty()).then_some(field),
        }
    }

    /// 500 `store`: the database failed.
    pub fn store(error: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store",
            error.to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        (self.status, Json(json!({ "error": error }))).into_response()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/calls", get(calls).post(click_to_call))
        .route("/api/registrations", get(registrations))
        .route("/api/cdrs", get(cdrs))
        .route("/metrics", get(metrics))
        .merge(agents::routes())
        .merge(history::routes())
        .merge(events::routes())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .with_state(state)
}

async fn health(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": s.started.elapsed().as_secs(),
        "calls_active": s.metrics.calls_active(),
        "shards": s.shards.len(),
    }))
}

async fn calls(State(s): State<AppState>) -> impl IntoResponse {
    Json(s.shards.calls().await)
}

async fn registrations(State(s): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let view = s
        .registrar
        .read()
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "registrar lock poisoned",
            )
        })?
        .view(Instant::now());
    Ok(Json(view))
}

/// `?limit=&offset=` of list endpoints.
#[derive(Deserialize)]
struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
}

impl Page {
    /// `(limit, offset)`: limit 1..=10000 (default 100), offset >= 0 (default 0).
    fn parse(
        page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
    ) -> Result<(i64, i64), ApiError> {
        let Query(page) =
            page.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
        let limit = page.limit.unwrap_or(100);
        let offset = page.offset.unwrap_or(0);
        if !(1..=10_000).contains(&limit) || offset < 0 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "limit must be 1..=10000 and offset >= 0",
            ));
        }
        Ok((limit, offset))
    }
}

async fn cdrs(
    State(s): State<AppState>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let list = s
        .store
        .list_cdrs(limit, offset)
        .await
        .map_err(ApiError::store)?;
    let total = s.store.count_cdrs().await.map_err(ApiError::store)?;
    Ok(Json(json!({"total": total, "cdrs": list})))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let regs = s
        .registrar
        .read()
        .map(|r| r.view(Instant::now()).len())
        .unwrap_or(0);
    (
        [("content-type", "text/plain; version=0.0.4")],
        s.metrics.render(&s.media.totals(), regs),
    )
}

/// `POST /api/calls` `{"extension":"1001","number":"1002"}`: click-to-call. The agent's
/// phone (the user `extension`) is called first with auto-answer hints, then `number`
/// through the dialplan. Progress is published on `/api/events` as `{"type":"call",...}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClickToCall {
    extension: String,
    number: String,
    #[serde(default)]
    agent: Option<String>,
}

async fn click_to_call(
    State(s): State<AppState>,
    body: Result<Json<ClickToCall>, axum::extract::rejection::JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(b) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.body_text()))?;
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+*#-_.".contains(c))
    };
    if !valid(&b.extension) || !valid(&b.number) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "extension and number must be 1-64 of letters, digits and + * # - _ .",
        ));
    }
    let attempt = rand::random::<u64>() >> 11;
    let (report, mut events) = tokio::sync::mpsc::unbounded_channel();
    s.shards.originate(crate::engine::Origination {
        agent: b.agent.clone().unwrap_or_else(|| b.extension.clone()),
        extension: b.extension.clone(),
        number: b.number.clone(),
        caller_id: String::new(),
        attempt,
        report,
    });
    // Nobody waits on these reports for a plain click-to-call: the event stream has them.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"attempt": attempt})),
    ))
}
