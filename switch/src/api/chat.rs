//! The agent's side of web chats over REST: accept or decline an offered chat, write, end
//! it, submit its wrap-up; and the stored transcript of an interaction. The chat service
//! (`crate::chat`) owns the chats; these handlers only check who asks.

use super::{ApiError, AppState};
use crate::accounts::{Principal, Role};
use crate::chat::collab::{Kind, Target};
use crate::chat::ChatError;
use acd::AgentId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use dialer::http::{JsonBody, PathArgs};
use serde::Deserialize;
use serde_json::{json, Value};

/// A refusal of the chat service as an API error.
pub(super) fn chat_error(e: ChatError) -> ApiError {
    if let Some(status) = super::chat_files::chat_file_status(&e) {
        return ApiError::new(status, e.code(), e.to_string());
    }
    let status = match &e {
        ChatError::TooLong { .. }
        | ChatError::EmptyMessage
        | ChatError::ControlCharacters
        | ChatError::CardNumber
        | ChatError::BadName
        | ChatError::UnknownDn(_)
        | ChatError::UnknownCode(_)
        | ChatError::UnknownAgent(_)
        | ChatError::SelfTarget => StatusCode::UNPROCESSABLE_ENTITY,
        ChatError::NotFound => StatusCode::NOT_FOUND,
        ChatError::NotYours | ChatError::GuestOnly | ChatError::NotAGuest => StatusCode::FORBIDDEN,
        ChatError::InviteInFlight | ChatError::InConference => StatusCode::CONFLICT,
        ChatError::NotOffered | ChatError::NotActive | ChatError::NotEnded | ChatError::Acd(_) => {
            StatusCode::CONFLICT
        }
        ChatError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        ChatError::File(_) | ChatError::FileStore(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let field = match &e {
        ChatError::UnknownCode(_) => Some("codes"),
        ChatError::TooLong { .. }
        | ChatError::EmptyMessage
        | ChatError::ControlCharacters
        | ChatError::CardNumber => Some("text"),
        _ => None,
    };
    let mut error = ApiError::new(status, e.code(), e.to_string());
    error.field = field.map(String::from);
    error
}

/// The caller's own agent: only the agent an offer or chat belongs to acts on it.
pub(super) fn own_agent(p: &Principal) -> Result<AgentId, ApiError> {
    p.agent.as_deref().map(AgentId::new).ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "not_an_agent",
            "only an agent's own account acts on their chats",
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MessageBody {
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WrapUpBody {
    codes: Vec<String>,
}

pub(super) async fn accept(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    let view = s
        .chats
        .accept(own_agent(&p)?, id)
        .await
        .map_err(chat_error)?;
    Ok(Json(json!(view)))
}

pub(super) async fn decline(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<StatusCode, ApiError> {
    s.chats
        .decline(own_agent(&p)?, id)
        .await
        .map_err(chat_error)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn send(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(b): JsonBody<MessageBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let m = s
        .chats
        .agent_says(own_agent(&p)?, id, b.text)
        .await
        .map_err(chat_error)?;
    Ok((StatusCode::CREATED, Json(json!(m))))
}

pub(super) async fn end(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<StatusCode, ApiError> {
    s.chats.end(own_agent(&p)?, id).await.map_err(chat_error)?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn wrap_up(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(b): JsonBody<WrapUpBody>,
) -> Result<StatusCode, ApiError> {
    s.chats
        .wrap_up(own_agent(&p)?, id, b.codes)
        .await
        .map_err(chat_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Where a transfer or conference goes: exactly one of `queue` (an ACD DN) and `agent`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TargetBody {
    queue: Option<String>,
    agent: Option<String>,
}

impl TargetBody {
    fn target(self) -> Result<Target, ApiError> {
        let invalid = |m: &str| {
            let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m.to_string());
            e.field = Some("queue".into());
            e
        };
        match (self.queue, self.agent) {
            (Some(q), None) => {
                let q = q.trim().to_string();
                acd::check_dn(&q).map_err(|_| invalid("queue must be an ACD DN"))?;
                Ok(Target::Queue(acd::Dn::new(&q)))
            }
            (None, Some(a)) if !a.trim().is_empty() => Ok(Target::Agent(AgentId::new(a.trim()))),
            _ => Err(invalid(
                "give exactly one of queue (an ACD DN) and agent (an agent id)",
            )),
        }
    }
}

async fn invite(
    s: &AppState,
    p: &Principal,
    id: u64,
    kind: Kind,
    b: TargetBody,
) -> Result<StatusCode, ApiError> {
    let target = b.target()?;
    s.chats
        .invite(own_agent(p)?, id, kind, target)
        .await
        .map_err(chat_error)?;
    Ok(StatusCode::ACCEPTED)
}

/// `POST /api/chats/{id}/transfer`: to a queue at once, to an agent once they accept.
pub(super) async fn transfer(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(b): JsonBody<TargetBody>,
) -> Result<StatusCode, ApiError> {
    invite(&s, &p, id, Kind::Transfer, b).await
}

/// `POST /api/chats/{id}/conference`: invites a second agent (or a queue's first available).
pub(super) async fn conference(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(b): JsonBody<TargetBody>,
) -> Result<StatusCode, ApiError> {
    invite(&s, &p, id, Kind::Conference, b).await
}

/// `POST /api/chats/{id}/leave`: the conference guest leaves; the chat goes on.
pub(super) async fn leave(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<StatusCode, ApiError> {
    s.chats
        .leave(own_agent(&p)?, id)
        .await
        .map_err(chat_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/chats/colleagues`: the agents of the caller's teams with their states, the
/// targets of a transfer or a conference.
pub(super) async fn colleagues(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let ids = s.accounts.team_agents(&p);
    let v = s
        .distributor
        .read(move |e, _| {
            let views: Vec<_> = ids
                .iter()
                .filter_map(|id| e.agent_view(&AgentId::new(id.as_str())))
                .collect();
            json!(views)
        })
        .await
        .unwrap_or(Value::Null);
    Ok(Json(v))
}

/// `GET /api/agents/{id}/chats`: the chats the agent works or has still to wrap up (the
/// guard has checked the agent is the caller's or in their teams).
pub(super) async fn of_agent(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = AgentId::new(id);
    if !super::agents::known_agent(&s.distributor, agent.clone()).await {
        return Err(ApiError::not_found("not_found", "no such agent"));
    }
    let views = s.chats.of_agent(agent).await.map_err(chat_error)?;
    Ok(Json(json!(views)))
}

/// `GET /api/interactions/{id}/transcript`: an agent sees the chats they took, a
/// supervisor those of their teams' queues, an administrator all.
pub(super) async fn transcript(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::not_found("not_found", "no such interaction with a transcript");
    let chat = s
        .store
        .chat(id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(not_found)?;
    let own = p.agent.is_some() && p.agent == chat.agent;
    let team = p.has(Role::Supervisor) && s.accounts.scope(&p).queue(&chat.queue);
    if !(p.is_admin() || own || team) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the interaction is not yours nor of your teams' queues",
        ));
    }
    let messages = crate::chat::files::transcript(&s.store, id)
        .await
        .map_err(ApiError::store)?;
    Ok(Json(json!({
        "interaction": chat.id,
        "channel": "chat",
        "queue": chat.queue,
        "customer": chat.customer,
        "agent": chat.agent,
        "started_ms": chat.started_ms,
        "ended_ms": chat.ended_ms,
        "wrap_up": chat.wrap_up,
        "messages": messages,
    })))
}
