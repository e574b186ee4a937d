//! The HTTP API (axum): health, live calls, registrations, CDRs and Prometheus metrics.
//! Errors are JSON: `{"error":{"code","message"}}`.

mod agents;

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
}

/// An API error with its HTTP status and machine-readable code.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        (self.status, body).into_response()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .route("/api/calls", get(calls))
        .route("/api/registrations", get(registrations))
        .route("/api/cdrs", get(cdrs))
        .route("/metrics", get(metrics))
        .merge(agents::routes())
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

#[derive(Deserialize)]
struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn cdrs(
    State(s): State<AppState>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
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
    let list =
        s.store.list_cdrs(limit, offset).await.map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string())
        })?;
    let total =
        s.store.count_cdrs().await.map_err(|e| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store", e.to_string())
        })?;
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
