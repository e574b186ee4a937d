//! Live calls, and click-to-call.
//!
//! `POST /api/calls` `{"extension":"1001","number":"1002"}`: the agent's phone (the user
//! `extension`) is called first with auto-answer hints, then `number` through the
//! dialplan. Progress is published on `/api/events` as `{"type":"call",...}`. The
//! extension must be a configured user (422 naming `extension` otherwise); the number may
//! be anything the dialplan routes, a trunk's external number included, that the
//! `[auth.dialing]` rules allow for the caller's roles (403 `number_not_allowed`); `agent`,
//! when given, must be a known ACD agent. Only the extension's own account (or a
//! supervisor of its agent's team, or an administrator) may place the call (403).

use super::agents::known_agent;
use super::{ApiError, AppState};
use crate::accounts::{Principal, Role, Scope};
use crate::engine::{
    CallControl, CallOp, CallView, ConsultStep, ControlError, MemberStep, RecordStep, SuperviseMode,
};
use acd::AgentId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use dialer::http::{JsonBody, PathArgs};
use serde::Deserialize;
use serde_json::json;
use serde_json::Value;
use std::collections::BTreeSet;

/// The live calls the caller may see: all for an administrator; otherwise those with a
/// party that is the phone of an agent in their scope, or to a queue of their teams.
pub(super) async fn list(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> impl IntoResponse {
    let calls = s.router.calls().await;
    let visible = Visibility::of(&s, &p).await;
    let list: Vec<_> = calls.into_iter().filter(|c| visible.sees(c)).collect();
    Json(json!(list))
}

/// Which calls a caller may see and control.
pub(super) enum Visibility {
    All,
    /// Calls with a party at one of these users (phones of agents in scope, and the
    /// caller's own), to one of these queues, or offered to one of these agents (in scope,
    /// and the caller's own: a queue call an agent answers is theirs whatever phone took it,
    /// a browser phone's leg included, whose request URI is its random WebSocket contact).
    Of {
        phones: BTreeSet<String>,
        queues: BTreeSet<String>,
        agents: BTreeSet<String>,
    },
}

impl Visibility {
    pub(super) async fn of(s: &AppState, p: &Principal) -> Visibility {
        let Scope::Limited { agents, queues } = s.accounts.scope(p) else {
            return Visibility::All;
        };
        let mut agents = agents;
        agents.extend(p.agent.clone());
        let scoped = agents.clone();
        let mut phones: BTreeSet<String> = s
            .distributor
            .read(move |e, _| {
                e.agent_configs()
                    .filter(|a| scoped.contains(a.id.as_str()))
                    .map(|a| a.phone().to_string())
                    .collect()
            })
            .await
            .unwrap_or_default();
        phones.extend(p.extension.clone());
        Visibility::Of {
            phones,
            queues,
            agents,
        }
    }

    /// Whether a call between these users (or to this queue) is the caller's to see.
    pub(super) fn sees_users(&self, users: &[&str]) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Of { phones, queues, .. } => users
                .iter()
                .any(|u| phones.contains(*u) || queues.contains(*u)),
        }
    }

    fn sees(&self, c: &CallView) -> bool {
        match self {
            Visibility::All => true,
            Visibility::Of {
                phones,
                queues,
                agents,
            } => {
                let party = |uri: &&String| {
                    let user = user_part(uri);
                    phones.contains(user) || queues.contains(user)
                };
                [&c.from, &c.to].iter().any(party)
                    || c.agent.as_ref().is_some_and(|a| agents.contains(a))
                    || c.legs.iter().any(|l| {
                        phones.contains(&l.party)
                            || l.agent.as_ref().is_some_and(|a| agents.contains(a))
                    })
            }
        }
    }
}

/// `POST /api/calls/{id}/legs/{leg}/hold` and `/retrieve`: the switch holds a leg (it
/// hears music, the other party silence) or lets it go. Answers the call as it is now.
pub(super) async fn hold(
    state: State<AppState>,
    principal: Extension<Principal>,
    path: PathArgs<(String, usize)>,
) -> Result<Json<Value>, ApiError> {
    control(state, principal, path, CallControl::Hold).await
}

pub(super) async fn retrieve(
    state: State<AppState>,
    principal: Extension<Principal>,
    path: PathArgs<(String, usize)>,
) -> Result<Json<Value>, ApiError> {
    control(state, principal, path, CallControl::Retrieve).await
}

/// `POST /api/calls/{id}/transfer {"target":"1003"}`: a blind transfer of the first
/// party (the customer) to a user; the agent's leg is released once the target answers,
/// or gets the customer back if it fails. Answers 202 with the call; the outcome follows
/// on `/api/events` (`call_changed`: `transferred` or `transfer_failed` with the status).
pub(super) async fn transfer(
    state: State<AppState>,
    principal: Extension<Principal>,
    call: PathArgs<String>,
    body: JsonBody<TransferBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    to_target(state, principal, call, body, |target| {
        CallOp::Transfer(crate::engine::TransferTo { target })
    })
    .await
}

/// `POST /api/calls/{id}/consult {"target":"1003"}`: the agent consults a user or a
/// number; the customer hears music meanwhile. Answers 202 with the call; the consulted
/// party's answer or failure follows on `/api/events` (`consult_answered`,
/// `consult_failed` with the status; after a failure the agent has the customer back).
pub(super) async fn consult(
    state: State<AppState>,
    principal: Extension<Principal>,
    call: PathArgs<String>,
    body: JsonBody<TransferBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    to_target(state, principal, call, body, |target| CallOp::Consult {
        target,
    })
    .await
}

/// `POST /api/calls/{id}/conference {"target":"1004"}`: add a party to a conference.
pub(super) async fn add_party(
    state: State<AppState>,
    principal: Extension<Principal>,
    call: PathArgs<String>,
    body: JsonBody<TransferBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    to_target(state, principal, call, body, |target| CallOp::AddParty {
        target,
    })
    .await
}

/// A call control that rings a target: the target checked, the call's visibility checked,
/// then 202 with the call.
async fn to_target(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(call): PathArgs<String>,
    JsonBody(b): JsonBody<TransferBody>,
    op: impl FnOnce(String) -> CallOp,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let target = checked_target(b.target)?;
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, op(target))
        .await
        .map(|v| (StatusCode::ACCEPTED, v))
}

/// `POST /api/calls/{id}/alternate`, `/end-consult`, `/complete-transfer`,
/// `/complete-conference`: the steps of a consultation.
pub(super) async fn consult_step(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(call): PathArgs<String>,
    step: ConsultStep,
) -> Result<Json<Value>, ApiError> {
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, CallOp::Consultation(step)).await
}

/// `POST /api/calls/{id}/legs/{leg}/mute`, `/unmute`, `/remove`: a conference member.
pub(super) async fn member(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs((call, leg)): PathArgs<(String, usize)>,
    step: MemberStep,
) -> Result<Json<Value>, ApiError> {
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, CallOp::Member { leg, step }).await
}

/// `POST /api/calls/{id}/supervise {"mode":"listen"|"whisper"|"barge","extension":"1010"}`:
/// the supervisor's phone (their own extension unless another is named) is rung and joins
/// the call as the mode says; asked again, the mode changes. 202 with the call; the
/// answer follows on `/api/events` (`supervise_joined`, or `supervise_failed`).
pub(super) async fn supervise(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(call): PathArgs<String>,
    JsonBody(b): JsonBody<SuperviseBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(extension) = b.extension.or_else(|| p.extension.clone()) else {
        return Err(ApiError::invalid(
            "extension",
            "the account has no extension: name the phone to ring",
        ));
    };
    let extension = checked_target(extension).map_err(|_| {
        ApiError::invalid(
            "extension",
            "must be 1-64 of letters, digits and + * # - _ .",
        )
    })?;
    may_control(&s, &p, &call).await?;
    let op = CallOp::Supervise {
        extension,
        mode: b.mode,
    };
    call_op(&s, &call, op)
        .await
        .map(|v| (StatusCode::ACCEPTED, v))
}

/// `POST /api/calls/{id}/recording/start|stop|pause|resume`: the call's recording (a
/// stereo WAV, customer left); pausing writes silence (PCI DSS: no card numbers recorded).
pub(super) async fn recording(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(call): PathArgs<String>,
    step: RecordStep,
) -> Result<Json<Value>, ApiError> {
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, CallOp::Record(step)).await
}

/// `POST /api/calls/{id}/hangup`: the switch ends the call (BYE to its answered legs,
/// CANCEL to ringing ones), as the agent's desktop's Hang up. Answers the call as it was
/// last; `call_changed` `hung_up` goes out first, then the call's usual end events.
pub(super) async fn hangup(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(call): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, CallOp::Hangup).await
}

/// `POST /api/calls/{id}/decline`: the agent declines the call their phone is offered.
pub(super) async fn decline(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(call): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    let Some(agent) = p.agent.clone() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_an_agent",
            "only an agent's own account declines the calls offered to them",
        ));
    };
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, CallOp::Decline { agent }).await
}

/// `POST /api/calls/{id}/end-supervise`: the supervisor's leg is released.
pub(super) async fn end_supervise(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(call): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, CallOp::Unsupervise).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuperviseBody {
    mode: SuperviseMode,
    #[serde(default)]
    extension: Option<String>,
}

fn checked_target(target: String) -> Result<String, ApiError> {
    if valid_number(&target) {
        Ok(target)
    } else {
        Err(ApiError::invalid(
            "target",
            "must be 1-64 of letters, digits and + * # - _ .",
        ))
    }
}

async fn call_op(s: &AppState, call: &str, op: CallOp) -> Result<Json<Value>, ApiError> {
    s.router
        .call_op(call, op)
        .await
        .map(|view| Json(json!(view)))
        .map_err(control_error)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TransferBody {
    target: String,
}

/// 404 unless `call` is live, 403 unless the caller may see it.
async fn may_control(s: &AppState, p: &Principal, call: &str) -> Result<(), ApiError> {
    let visible = Visibility::of(s, p).await;
    let calls = s.router.calls().await;
    let Some(view) = calls.iter().find(|c| c.id == call) else {
        return Err(ApiError::not_found(
            "not_found",
            format!("no live call {call:?}"),
        ));
    };
    if !visible.sees(view) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the call has no party of yours nor of your teams",
        ));
    }
    Ok(())
}

fn control_error(e: ControlError) -> ApiError {
    let message = e.to_string();
    match e {
        ControlError::NoCall(_) | ControlError::NoLeg(_) => {
            ApiError::not_found("not_found", message)
        }
        ControlError::NotConnected => ApiError::conflict("not_connected", message),
        ControlError::AlreadyHeld(_) => ApiError::conflict("already_held", message),
        ControlError::NotHeld(_) => ApiError::conflict("not_held", message),
        ControlError::NoTarget(_) => ApiError::invalid("target", message),
        ControlError::Unsupported(_) => ApiError::conflict("unsupported", message),
        ControlError::NotConsulting => ApiError::conflict("not_consulting", message),
        ControlError::NotAnswered => ApiError::conflict("not_answered", message),
        ControlError::NotConference => ApiError::conflict("not_conference", message),
        ControlError::Busy => ApiError::conflict("busy", message),
        ControlError::NotSupervised => ApiError::conflict("not_supervised", message),
        ControlError::Supervised => ApiError::conflict("supervised", message),
        ControlError::Recording(true) => ApiError::conflict("recording", message),
        ControlError::Recording(false) => ApiError::conflict("not_recording", message),
        ControlError::NotOffered(_) => ApiError::conflict("not_offered", message),
    }
}

async fn control(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs((call, leg)): PathArgs<(String, usize)>,
    command: CallControl,
) -> Result<Json<Value>, ApiError> {
    may_control(&s, &p, &call).await?;
    call_op(&s, &call, CallOp::Control { leg, command }).await
}

/// `1001` of `sip:1001@host`, `"Name" <sip:1001@host>;tag=x` or a bare `1001`.
fn user_part(uri: &str) -> &str {
    let inner = match (uri.find('<'), uri.find('>')) {
        (Some(a), Some(b)) if a < b => &uri[a + 1..b],
        _ => uri,
    };
    let rest = inner
        .strip_prefix("sip:")
        .or_else(|| inner.strip_prefix("sips:"))
        .or_else(|| inner.strip_prefix("tel:"))
        .unwrap_or(inner);
    let end = rest.find(['@', ';', '>']).unwrap_or(rest.len());
    &rest[..end]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClickToCall {
    extension: String,
    number: String,
    /// Whose call it is on the event stream; the extension when absent.
    #[serde(default)]
    agent: Option<String>,
}

/// Only the account the extension belongs to places calls from it (and, as agent, only
/// as itself); supervisors for agents of their teams; administrators for anyone.
async fn may_call_from(s: &AppState, p: &Principal, b: &ClickToCall) -> Result<(), ApiError> {
    if p.is_admin() {
        return Ok(());
    }
    let own = p.extension.as_deref() == Some(b.extension.as_str())
        && b.agent
            .as_deref()
            .is_none_or(|a| p.agent.as_deref() == Some(a));
    if own {
        return Ok(());
    }
    if p.has(Role::Supervisor) {
        let scope = s.accounts.scope(p);
        let agent_ok = b.agent.as_deref().is_none_or(|a| scope.agent(a));
        let extension = b.extension.clone();
        let team_phone = s
            .distributor
            .read(move |e, _| {
                e.agent_configs()
                    .any(|a| scope.agent(a.id.as_str()) && a.phone() == extension)
            })
            .await
            .unwrap_or(false);

        if team_phone && agent_ok {
            return Ok(());
        }
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        format!(
            "extension {:?} is not yours nor of an agent in your teams",
            b.extension
        ),
    ))
}

/// A dialled number: 1-64 of letters, digits and `+ * # - _ .`.
fn valid_number(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+*#-_.".contains(c))
}

pub(super) async fn click_to_call(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    JsonBody(b): JsonBody<ClickToCall>,
) -> Result<impl IntoResponse, ApiError> {
    acd::check_agent_id(&b.extension).map_err(|e| ApiError::invalid("extension", e))?;
    if s.config.user(&b.extension).is_none() {
        return Err(ApiError::invalid(
            "extension",
            format!("no user {:?}", b.extension),
        ));
    }
    if !valid_number(&b.number) {
        return Err(ApiError::invalid(
            "number",
            "must be 1-64 of letters, digits and + * # - _ .",
        ));
    }
    if let Some(agent) = &b.agent {
        if !known_agent(&s.distributor, AgentId::new(agent)).await {
            return Err(ApiError::invalid("agent", format!("no agent {agent:?}")));
        }
    }
    may_call_from(&s, &p, &b).await?;
    if !s.accounts.may_dial(&p, &b.number) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "number_not_allowed",
            format!(
                "the dialplan does not allow {:?} for your account",
                b.number
            ),
        ));
    }
    let attempt = rand::random::<u64>() >> 11;
    let (report, mut events) = tokio::sync::mpsc::unbounded_channel();
    s.router.originate(
        crate::engine::Origination {
            agent: b.agent.unwrap_or_else(|| b.extension.clone()),
            extension: b.extension,
            number: b.number,
            caller_id: String::new(),
            attempt,
        },
        report,
    );
    // Nobody waits on these reports for a plain click-to-call: the event stream has them.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    Ok((StatusCode::ACCEPTED, Json(json!({"attempt": attempt}))))
}
