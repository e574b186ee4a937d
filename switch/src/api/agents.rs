//! Agents and queues over REST: log in, change state, log out; list agents and queues;
//! queue statistics. Everything goes through the distributor task, which owns the state.
//! Creating, changing and deleting them is in `acd_config`.

use super::acd_config;
use super::{ApiError, AppState};
use acd::{AgentId, Dn, Event, QueueConfig, RequestedState};
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
        .route(
            "/api/agents/{id}",
            get(get_agent)
                .put(acd_config::put_agent)
                .delete(acd_config::delete_agent),
        )
        .route("/api/agents/{id}/login", post(login))
        .route("/api/agents/{id}/logout", post(logout))
        .route("/api/agents/{id}/state", post(set_state))
        .route("/api/queues", get(list_queues))
        .route(
            "/api/queues/{dn}",
            get(get_queue)
                .put(acd_config::put_queue)
                .delete(acd_config::delete_queue),
        )
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
pub(super) fn refused(message: String) -> ApiError {
    refused_as(message, "conflict")
}

/// An engine refusal: unknown agent/queue/interaction => 404, the distributor gone => 503,
/// anything else (the state forbids it) => 409 with `conflict_code`.
pub(super) fn refused_as(message: String, conflict_code: &'static str) -> ApiError {
    if message.starts_with("unknown") {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    } else if message == "distributor stopped" {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    } else {
        ApiError::new(StatusCode::CONFLICT, conflict_code, message)
    }
}

/// The body of a JSON request: 400 `bad_json` when it does not parse, 415 without a JSON
/// content type.
pub(super) fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(|e| match e {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            e.body_text(),
        ),
        _ => ApiError::new(StatusCode::BAD_REQUEST, "bad_json", e.body_text()),
    })
}

/// An agent as the API shows it: live view, statistics and configuration.
pub(super) async fn agent_json(s: &AppState, id: AgentId) -> Result<Value, ApiError> {
    s.distributor
        .read(move |e, now| {
            let view = e.agent_view(&id)?;
            let stats = e.agent_stats(now, &id);
            let config = e.agent_config(&id);
            Some(json!({"agent": view, "stats": stats, "config": config}))
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

/// A queue as the API shows it: configuration and statistics.
pub(super) fn queue_entry(e: &acd::Engine, now: std::time::Instant, q: &QueueConfig) -> Value {
    json!({"config": q, "stats": e.queue_stats(now, &q.dn)})
}

/// Every queue, as [`queue_entry`]s.
pub(super) fn all_queues(e: &acd::Engine, now: std::time::Instant) -> Vec<Value> {
    e.queue_configs().map(|q| queue_entry(e, now, q)).collect()
}

async fn list_queues(State(s): State<AppState>) -> Result<Json<Value>, ApiError> {
    let v = s
        .distributor
        .read(|e, now| json!(all_queues(e, now)))
        .await
        .unwrap_or(Value::Null);
    Ok(Json(v))
}

/// One queue's configuration and statistics.
pub(super) async fn queue_json(s: &AppState, dn: Dn) -> Result<Value, ApiError> {
    s.distributor
        .read(move |e, now| e.queue_config(&dn).map(|q| queue_entry(e, now, q)))
        .await
        .flatten()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such queue"))
}

async fn get_queue(
    State(s): State<AppState>,
    Path(dn): Path<String>,
) -> Result<Json<Value>, ApiError> {
    queue_json(&s, Dn::new(dn)).await.map(Json)
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
