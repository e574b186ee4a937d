//! Agent-to-agent IM over REST: invite (with the first message, optionally about a live
//! interaction of the caller's), accept, decline, write, end, Mark Done; the caller's open
//! sessions; a stored session with its transcript. The IM service (`crate::im`) owns the
//! sessions; these handlers only say who asks.

use super::{ApiError, AppState};
use crate::accounts::{Principal, Role};
use crate::im::{Asker, ImError};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use dialer::http::{JsonBody, PathArgs};
use serde::Deserialize;
use serde_json::{json, Value};

/// A refusal of the IM service as an API error.
fn im_error(e: ImError) -> ApiError {
    if let ImError::Text(c) = e {
        return super::chat::chat_error(c);
    }
    let (status, code, field) = match &e {
        ImError::NotFound => (StatusCode::NOT_FOUND, "not_found", None),
        ImError::NotAParty => (StatusCode::FORBIDDEN, "not_a_party", None),
        ImError::NotInvited => (StatusCode::FORBIDDEN, "not_invited", None),
        ImError::NotOpen(_) => (StatusCode::CONFLICT, "not_open", None),
        ImError::NotConnected(_) => (StatusCode::CONFLICT, "not_connected", None),
        ImError::Over => (StatusCode::CONFLICT, "over", None),
        ImError::UnknownTarget(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_target",
            Some("to"),
        ),
        ImError::ToSelf => (StatusCode::UNPROCESSABLE_ENTITY, "to_self", Some("to")),
        ImError::Unreachable(_) => (StatusCode::CONFLICT, "unreachable", Some("to")),
        ImError::NotYourInteraction(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_your_interaction",
            Some("interaction"),
        ),
        ImError::Stopped | ImError::Text(_) => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None)
        }
    };
    let mut error = ApiError::new(status, code, e.to_string());
    error.field = field.map(String::from);
    error
}

fn asker(p: &Principal) -> Asker {
    Asker {
        account: p.account.clone(),
        name: if p.name.is_empty() {
            p.account.clone()
        } else {
            p.name.clone()
        },
        agent: p.agent.clone(),
        extension: p.extension.clone(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InviteBody {
    to: String,
    text: String,
    #[serde(default)]
    interaction: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TextBody {
    text: String,
}

/// `POST /api/im`: 201 with the session (connected at once for a phone).
pub(super) async fn invite(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    JsonBody(b): JsonBody<InviteBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if b.to.trim().is_empty() || b.to.len() > 64 {
        return Err(ApiError::invalid("to", "must be 1-64 characters"));
    }
    let v = s
        .ims
        .invite(asker(&p), b.to, b.text, b.interaction)
        .await
        .map_err(im_error)?;
    Ok((StatusCode::CREATED, Json(json!(v))))
}

pub(super) async fn mine(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let list = s.ims.mine(p.account).await.map_err(im_error)?;
    Ok(Json(json!(list)))
}

pub(super) async fn accept(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    let v = s.ims.accept(p.account, id).await.map_err(im_error)?;
    Ok(Json(json!(v)))
}

pub(super) async fn decline(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    let v = s.ims.decline(p.account, id).await.map_err(im_error)?;
    Ok(Json(json!(v)))
}

pub(super) async fn send(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
    JsonBody(b): JsonBody<TextBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let m = s.ims.say(p.account, id, b.text).await.map_err(im_error)?;
    Ok((StatusCode::CREATED, Json(json!(m))))
}

pub(super) async fn end(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    let v = s.ims.end(p.account, id).await.map_err(im_error)?;
    Ok(Json(json!(v)))
}

pub(super) async fn done(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<StatusCode, ApiError> {
    s.ims.done(p.account, id).await.map_err(im_error)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/im/{id}`: the stored session and transcript, for its parties, the
/// supervisors of a party's teams, and administrators.
pub(super) async fn stored(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<u64>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::not_found("not_found", "no such IM session");
    let im = s
        .store
        .im_session(id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(not_found)?;
    let parties = [&im.from, &im.to];
    let party = parties.iter().any(|x| !x.phone && x.id == p.account);
    let supervisor = p.has(Role::Supervisor)
        && parties.iter().any(|x| {
            s.accounts
                .get(&x.id)
                .is_some_and(|a| !x.phone && a.teams.iter().any(|t| p.teams.contains(t)))
        });
    if !(p.is_admin() || party || supervisor) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the IM session is not yours nor of your teams",
        ));
    }
    let messages = s.store.im_messages(id).await.map_err(ApiError::store)?;
    let mut v = json!(im);
    v["messages"] = json!(messages);
    Ok(Json(v))
}
