//! What the ACD did, from the store: an agent's state history and the interaction events
//! of every queue, newest first. The distributor's records reach the store through a
//! background writer, so the last moment's changes may not be listed yet; the live state
//! is `GET /api/agents/{id}`.

use super::agents::known_agent;
use super::{ApiError, AppState, Page};
use crate::accounts::{Principal, Scope};
use acd::AgentId;
use axum::extract::State;
use axum::{Extension, Json};
use dialer::http::{PathArgs, QueryArgs};
use serde_json::{json, Value};

/// `GET /api/agents/{id}/history?limit=&offset=`: `{"agent","history":[...]}`. History
/// outlives deleted agents, so an id is known when the ACD has the agent or the store has
/// history for it; any other id gets 404.
pub(super) async fn agent_history(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
    page: QueryArgs<Page>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let history = s
        .store
        .agent_state_history(&id, limit, offset)
        .await
        .map_err(ApiError::store)?;
    if history.is_empty() && !known_agent(&s.distributor, AgentId::new(&id)).await {
        let any = s
            .store
            .agent_state_history(&id, 1, 0)
            .await
            .map_err(ApiError::store)?;
        if any.is_empty() {
            return Err(ApiError::not_found("not_found", "no such agent"));
        }
    }
    Ok(Json(json!({"agent": id, "history": history})))
}

/// `GET /api/interactions?limit=&offset=`: `{"interactions":[...]}`; a supervisor's only
/// those of their teams' queues or agents.
pub(super) async fn interactions(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    page: QueryArgs<Page>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let events = match s.accounts.scope(&p) {
        Scope::All => s.store.list_interaction_events(limit, offset).await,
        Scope::Limited { agents, queues } => {
            let queues: Vec<String> = queues.into_iter().collect();
            let agents: Vec<String> = agents.into_iter().collect();
            s.store
                .list_interaction_events_of(limit, offset, &queues, &agents)
                .await
        }
    }
    .map_err(ApiError::store)?;
    Ok(Json(json!({"interactions": events})))
}
