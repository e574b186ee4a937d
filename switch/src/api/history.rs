//! What the ACD did, from the store: an agent's state history and the interaction events
//! of every queue, newest first. The distributor's records reach the store through a
//! background writer, so the last moment's changes may not be listed yet; the live state
//! is `GET /api/agents/{id}`.

use super::{ApiError, AppState, Page};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/agents/{id}/history", get(agent_history))
        .route("/api/interactions", get(interactions))
}

/// `GET /api/agents/{id}/history?limit=&offset=`: `{"agent","history":[...]}`. An agent
/// with no history (or none at all) gets an empty list: history outlives deleted agents.
async fn agent_history(
    State(s): State<AppState>,
    Path(id): Path<String>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let history = s
        .store
        .agent_state_history(&id, limit, offset)
        .await
        .map_err(ApiError::store)?;
    Ok(Json(json!({"agent": id, "history": history})))
}

/// `GET /api/interactions?limit=&offset=`: `{"interactions":[...]}`.
async fn interactions(
    State(s): State<AppState>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let events = s
        .store
        .list_interaction_events(limit, offset)
        .await
        .map_err(ApiError::store)?;
    Ok(Json(json!({"interactions": events})))
}
