//! Agents and queues over REST: log in, change state, log out; list agents and queues;
//! queue statistics. Everything goes through the distributor task, which owns the state.
//! Creating, changing and deleting them is in `acd_config`.

use super::{ApiError, AppState};
use crate::accounts::Principal;
use crate::distributor::Distributor;
use crate::distributor_error::DistributorError;
use acd::{AcdError, AgentId, Dn, Event, QueueConfig, RequestedState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use dialer::http::{JsonBody, PathArgs};
use serde::Deserialize;
use serde_json::{json, Value};

/// `{"state":"ready"}` or `{"state":"not_ready","reason":"lunch"}`; the reason is shown on
/// desktops and wallboards, so it is a name (`acd::check_name`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    pub state: String,
    #[serde(default)]
    pub reason: Option<String>,
}

impl StateBody {
    fn requested(&self) -> Result<RequestedState, ApiError> {
        if let Some(reason) = &self.reason {
            acd::check_name(reason).map_err(|e| ApiError::invalid("reason", e))?;
        }
        match self.state.as_str() {
            "ready" => Ok(RequestedState::Ready),
            "not_ready" => Ok(RequestedState::not_ready(
                self.reason
                    .clone()
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| "unspecified".into()),
            )),
            other => Err(ApiError::invalid(
                "state",
                format!("state must be \"ready\" or \"not_ready\", not {other:?}"),
            )),
        }
    }
}

/// Whether the ACD has an agent with this id.
pub(super) async fn known_agent(d: &Distributor, id: AgentId) -> bool {
    d.read(move |e, _| e.agent_config(&id).is_some())
        .await
        .unwrap_or(false)
}

/// The ACD's agents, for the dialer's agent endpoints.
pub(super) struct Directory(pub Distributor);

impl dialer::http::Agents for Directory {
    fn exists(&self, agent: &str) -> dialer::http::AgentCheck {
        let distributor = self.0.clone();
        let id = AgentId::new(agent);
        Box::pin(async move { known_agent(&distributor, id).await })
    }
}

/// A refusal from the distributor: unknown agent/queue/interaction => 404 `not_found`, the
/// distributor gone => 503 `unavailable`, anything else (the state forbids it) => 409 with
/// `conflict_code`. The message is the error's own.
pub(super) fn refusal(e: DistributorError, conflict_code: &'static str) -> ApiError {
    let (status, code) = match &e {
        DistributorError::Refused(
            AcdError::UnknownAgent(_) | AcdError::UnknownQueue(_) | AcdError::UnknownInteraction(_),
        ) => (StatusCode::NOT_FOUND, "not_found"),
        DistributorError::Stopped => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        DistributorError::Refused(_) => (StatusCode::CONFLICT, conflict_code),
    };
    ApiError::new(status, code, e.to_string())
}

/// A refusal whose 409 is the plain `conflict` (see [`refusal`]), so handlers can use `?`.
impl From<DistributorError> for ApiError {
    fn from(e: DistributorError) -> ApiError {
        refusal(e, "conflict")
    }
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

/// The agents the caller may see (all for an administrator, their own or their teams'
/// otherwise).
pub(super) async fn list_agents(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let scope = s.accounts.scope(&p);
    let v = s
        .distributor
        .read(move |e, _| {
            let ids: Vec<AgentId> = e
                .agent_configs()
                .map(|a| a.id.clone())
                .filter(|id| scope.agent(id.as_str()))
                .collect();
            let views: Vec<_> = ids.iter().filter_map(|id| e.agent_view(id)).collect();
            json!(views)
        })
        .await
        .unwrap_or(Value::Null);
    Ok(Json(v))
}

pub(super) async fn get_agent(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    agent_json(&s, AgentId::new(id)).await.map(Json)
}

/// The body is optional: none (or an empty one) logs in Not Ready, reason `login`.
pub(super) async fn login(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
    b: Option<JsonBody<StateBody>>,
) -> Result<Json<Value>, ApiError> {
    let initial = match b {
        Some(JsonBody(b)) => b.requested()?,
        None => RequestedState::not_ready("login"),
    };
    let agent = AgentId::new(id);
    s.distributor
        .request(Event::AgentLogin {
            agent: agent.clone(),
            initial,
        })
        .await?;
    agent_json(&s, agent).await.map(Json)
}

pub(super) async fn logout(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = AgentId::new(id);
    s.distributor
        .request(Event::AgentLogout {
            agent: agent.clone(),
        })
        .await?;
    agent_json(&s, agent).await.map(Json)
}

pub(super) async fn set_state(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
    JsonBody(b): JsonBody<StateBody>,
) -> Result<Json<Value>, ApiError> {
    let state = b.requested()?;
    let agent = AgentId::new(id);
    s.distributor
        .request(Event::AgentState {
            agent: agent.clone(),
            state,
        })
        .await
        .map_err(|e| match e {
            // The queue requires the wrap-up before Ready: a code the desktop can show.
            e @ DistributorError::Refused(AcdError::WrapUpPending(_)) => {
                refusal(e, "wrap_up_pending")
            }
            e => refusal(e, "conflict"),
        })?;
    agent_json(&s, agent).await.map(Json)
}

/// `POST /api/agents/{id}/wrap-up`: the agent's After-Call-Work (and a required wrap-up)
/// is over.
pub(super) async fn wrap_up(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = AgentId::new(id);
    s.distributor
        .request(Event::WrapUpDone {
            agent: agent.clone(),
        })
        .await?;
    agent_json(&s, agent).await.map(Json)
}

/// A queue as the API shows it: configuration and statistics.
pub(super) fn queue_entry(e: &acd::Engine, now: std::time::Instant, q: &QueueConfig) -> Value {
    json!({"config": q, "stats": e.queue_stats(now, &q.dn)})
}

/// The queues the caller may see, as [`queue_entry`]s.
pub(super) async fn list_queues(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let scope = s.accounts.scope(&p);
    let v = s
        .distributor
        .read(move |e, now| {
            let list: Vec<Value> = e
                .queue_configs()
                .filter(|q| scope.queue(q.dn.as_str()))
                .map(|q| queue_entry(e, now, q))
                .collect();
            json!(list)
        })
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

pub(super) async fn get_queue(
    State(s): State<AppState>,
    PathArgs(dn): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    queue_json(&s, Dn::new(dn)).await.map(Json)
}

pub(super) async fn queue_stats(
    State(s): State<AppState>,
    PathArgs(dn): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    let dn = Dn::new(dn);
    s.distributor
        .read(move |e, now| e.queue_stats(now, &dn).map(|st| json!(st)))
        .await
        .flatten()
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such queue"))
}
