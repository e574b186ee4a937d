//! Agents and queues over REST: log in, change state, log out; list agents and queues;
//! queue statistics. Everything goes through the distributor task, which owns the state.

use super::{ApiError, AppState};
use acd::{AgentId, Dn, Event, RequestedState};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/agents", get(list_agents))
        .route("/api/agents/{id}", get(get_agent))
        .route("/api/agents/{id}/login", post(login))
        .route("/api/agents/{id}/logout", post(logout))
        .route("/api/agents/{id}/state", post(set_state))
        .route("/api/queues", get(list_queues))
        .route("/api/queues/{dn}/stats", get(queue_stats))
}

/// `{"state":"ready"}` or `{"state":"not_ready","reason":"lunch"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    pub state: String,
    #[serde(default)]
    pub reason: Option<String>,
}

impl StateBody {
    fn requested(&self) -> Result<RequestedState, ApiError> {
        match self.state.as_str() {
            "ready" => Ok(RequestedState::Ready),
            "not_ready" => Ok(RequestedState::not_ready(
                self.reason.clone().unwrap_or_else(|| "unspecified".into()),
            )),
            other => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "bad_state",
                format!("state must be \"ready\" or \"not_ready\", not {other:?}"),
            )),
        }
    }
}

/// Turn an engine refusal into the right HTTP answer.
fn refused(message: String) -> ApiError {
    let status = if message.starts_with("unknown") {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::CONFLICT
    };
    let code = if status == StatusCode::NOT_FOUND {
        "not_found"
    } else {
        "conflict"
    };
    ApiError::new(status, code, message)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.body_text()))
}

async fn agent_json(s: &AppState, id: AgentId) -> Result<Value, ApiError> {
    s.distributor
        .read(move |e, now| {
            let view = e.agent_view(&id)?;
            let stats = e.agent_stats(now, &id);
            Some(json!({"agent": view, "stats": stats}))
        })
        .await
        .flatten()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such agent"))
}

async fn list_agents(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let v = s
        .distributor
        .read(|e, _| {
            let ids: Vec<AgentId> = e.agent_configs().map(|a| a.id.clone()).collect();
            let views: Vec<_> = ids.iter().filter_map(|id| e.agent_view(id)).collect();
            json!(views)
        })
        .await
        .unwrap_or(Value::Null);
    Ok(Json(v))
}

async fn get_agent(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    agent_json(&s, AgentId::new(id)).await.map(Json)
}

async fn login(
    State(s): State<AppState>,
    Path(id): Path<String>,
    b: Option<Json<StateBody>>,
) -> Result<Json<Value>, ApiError> {
    let initial = match b {
        Some(Json(b)) => b.requested()?,
        None => RequestedState::not_ready("login"),
    };
    let agent = AgentId::new(id);
    s.distributor
        .request(Event::AgentLogin {
            agent: agent.clone(),
            initial,
        })
        .await
        .map_err(refused)?;
    agent_json(&s, agent).await.map(Json)
}

async fn logout(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = AgentId::new(id);
    s.distributor
        .request(Event::AgentLogout {
            agent: agent.clone(),
        })
        .await
        .map_err(refused)?;
    agent_json(&s, agent).await.map(Json)
}

async fn set_state(
    State(s): State<AppState>,
    Path(id): Path<String>,
    b: Result<Json<StateBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let state = body(b)?.requested()?;
    let agent = AgentId::new(id);
    s.distributor
        .request(Event::AgentState {
            agent: agent.clone(),
            state,
        })
        .await
        .map_err(refused)?;
    agent_json(&s, agent).await.map(Json)
}

async fn list_queues(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let v = s
        .distributor
        .read(|e, now| {
            let queues: Vec<_> = e
                .queue_configs()
                .map(|q| json!({"config": q, "stats": e.queue_stats(now, &q.dn)}))
                .collect();
            json!(queues)
        })
        .await
        .unwrap_or(Value::Null);
    Ok(Json(v))
}

async fn queue_stats(
    State(s): State<AppState>,
    Path(dn): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let dn = Dn::new(dn);
    s.distributor
        .read(move |e, now| e.queue_stats(now, &dn).map(|st| json!(st)))
        .await
        .flatten()
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such queue"))
}
