//! Logging in and out, the caller's own account, and the administrator's accounts, teams,
//! API tokens and audit trail.
//!
//! - `POST /api/login` `{"user","password"}`: 200 `{"account","csrf_token","expires_in"}`
//!   and the session cookie (HTTP-only, `SameSite=Strict`, `Path=/`); 401
//!   `invalid_credentials`, 403 `account_locked`, 429 `too_many_attempts` (with
//!   `Retry-After`) while failed logins back off.
//! - `POST /api/logout`: ends the session and clears the cookie (204).
//! - `GET /api/me`, `POST /api/me/password` `{"current_password","new_password"}`.
//! - `GET|POST /api/accounts`, `GET|PUT|DELETE /api/accounts/{id}`,
//!   `POST /api/accounts/{id}/unlock`; `GET /api/teams`, `PUT|DELETE /api/teams/{name}`;
//!   `GET|POST /api/tokens`, `DELETE /api/tokens/{id}`; `GET /api/audit`.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use dialer::http::{JsonBody, PathArgs, QueryArgs};
use serde::Deserialize;
use serde_json::{json, Value};

use super::agents::known_agent;
use super::guard::cookie;
use super::{ApiError, AppState, Page};
use crate::accounts::{
    AccountChange, AccountError, Actor, LoginError, Principal, Role, Team, Via, COOKIE,
};
use crate::http_server::ClientAddr;

fn address(client: Option<Extension<ClientAddr>>) -> IpAddr {
    client
        .map(|Extension(ClientAddr(a))| a.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn actor(p: &Principal, client: Option<Extension<ClientAddr>>) -> Actor {
    Actor {
        account: p.account.clone(),
        address: address(client).to_string(),
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> ApiError {
        match &e {
            AccountError::NotFound(_) | AccountError::NoTeam(_) | AccountError::NoToken(_) => {
                ApiError::not_found("not_found", e.to_string())
            }
            AccountError::Exists(_) => ApiError::conflict("exists", e.to_string()),
            AccountError::TeamInUse { .. } => ApiError::conflict("team_in_use", e.to_string()),
            AccountError::Invalid { field, message } => ApiError::invalid(*field, message.clone()),
            AccountError::WrongPassword => {
                ApiError::new(StatusCode::FORBIDDEN, "wrong_password", e.to_string())
            }
            AccountError::LastAdministrator => {
                ApiError::conflict("last_administrator", e.to_string())
            }
            AccountError::Store(s) => ApiError::store(s),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginBody {
    user: String,
    password: String,
}

fn session_cookie(value: &str, max_age: u64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text =
        format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""))
}

pub(super) async fn login(
    State(s): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    JsonBody(b): JsonBody<LoginBody>,
) -> Result<Response, ApiError> {
    if b.user.len() > 64 || b.password.chars().count() > 256 {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            LoginError::Invalid.to_string(),
        ));
    }
    match s
        .accounts
        .login(&b.user, &b.password, address(client))
        .await
    {
        Ok((id, csrf, account)) => {
            crate::im::presence::session_changed(&s.distributor, &s.accounts, &account.id);
            let max_age = s.accounts.session_max_age();
            let body = json!({"account": account, "csrf_token": csrf, "expires_in": max_age});
            let mut r = Json(body).into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&id, max_age, s.accounts.config().secure_cookie),
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(r)
        }
        Err(e) => {
            let message = e.to_string();
            Err(match e {
                LoginError::Invalid => {
                    ApiError::new(StatusCode::UNAUTHORIZED, "invalid_credentials", message)
                }
                LoginError::Locked => {
                    ApiError::new(StatusCode::FORBIDDEN, "account_locked", message)
                }
                LoginError::TooMany(wait) => {
                    let mut r =
                        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", message)
                            .into_response();
                    let secs = wait.as_secs().max(1).to_string();
                    if let Ok(v) = HeaderValue::from_str(&secs) {
                        r.headers_mut().insert(header::RETRY_AFTER, v);
                    }
                    return Ok(r);
                }
                LoginError::Store(e) => ApiError::store(e),
            })
        }
    }
}

pub(super) async fn logout(
    State(s): State<AppState>,
    client: Option<Extension<ClientAddr>>,
    headers: HeaderMap,
) -> Response {
    if let Some(id) = cookie(&headers, COOKIE) {
        let who = s.accounts.authenticate(Some(id), None).ok().flatten();
        s.accounts.logout(id, address(client)).await;
        if let Some(p) = who {
            crate::im::presence::session_changed(&s.distributor, &s.accounts, &p.account);
        }
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie("", 0, s.accounts.config().secure_cookie),
    );
    r
}

pub(super) async fn me(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
) -> Result<Json<Value>, ApiError> {
    let account = s
        .accounts
        .get(&p.account)
        .ok_or_else(|| ApiError::not_found("not_found", "no such account"))?;
    let csrf = match &p.via {
        Via::Session { csrf } => Some(csrf.clone()),
        Via::Token { .. } => None,
    };
    Ok(Json(json!({"account": account, "csrf_token": csrf})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PasswordBody {
    current_password: String,
    new_password: String,
}

pub(super) async fn change_password(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    JsonBody(b): JsonBody<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    s.accounts
        .change_own_password(&actor(&p, client), &b.current_password, &b.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account as an administrator sends it (`id` in the body for POST, in the path for
/// PUT).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AccountBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password: Option<String>,
    roles: Vec<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default)]
    agent: Option<String>,
    #[serde(default)]
    extension: Option<String>,
}

async fn change_of(s: &AppState, id: &str, b: AccountBody) -> Result<AccountChange, ApiError> {
    let mut roles = BTreeSet::new();
    for r in &b.roles {
        roles.insert(Role::parse(r).ok_or_else(|| {
            ApiError::invalid(
                "roles",
                format!("unknown role {r:?} (agent, supervisor, campaign_manager, administrator)"),
            )
        })?);
    }
    let agent = b.agent.filter(|a| !a.is_empty());
    if let Some(a) = &agent {
        if acd::check_agent_id(a).is_ok()
            && !known_agent(&s.distributor, acd::AgentId::new(a)).await
        {
            return Err(ApiError::invalid("agent", format!("no ACD agent {a:?}")));
        }
    }
    let extension = b.extension.filter(|x| !x.is_empty());
    if let Some(x) = &extension {
        if s.config.user(x).is_none() {
            return Err(ApiError::invalid("extension", format!("no user {x:?}")));
        }
    }
    Ok(AccountChange {
        name: b.name.unwrap_or_else(|| id.to_string()),
        password: b.password,
        roles,
        teams: b.teams.into_iter().collect(),
        agent,
        extension,
    })
}

pub(super) async fn list_accounts(State(s): State<AppState>) -> Json<Value> {
    Json(json!(s.accounts.list()))
}

pub(super) async fn create_account(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    JsonBody(b): JsonBody<AccountBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Some(id) = b.id.clone() else {
        return Err(ApiError::invalid("id", "missing"));
    };
    let change = change_of(&s, &id, b).await?;
    let (view, _) = s
        .accounts
        .save(&actor(&p, client), &id, change, true)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(view))))
}

pub(super) async fn get_account(
    State(s): State<AppState>,
    PathArgs(id): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    s.accounts
        .get(&id)
        .map(|a| Json(json!(a)))
        .ok_or_else(|| ApiError::not_found("not_found", format!("no account {id:?}")))
}

pub(super) async fn put_account(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    PathArgs(id): PathArgs<String>,
    JsonBody(b): JsonBody<AccountBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if b.id.as_ref().is_some_and(|body_id| *body_id != id) {
        return Err(ApiError::invalid("id", "differs from the path"));
    }
    let change = change_of(&s, &id, b).await?;
    let (view, created) = s
        .accounts
        .save(&actor(&p, client), &id, change, false)
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(json!(view))))
}

pub(super) async fn delete_account(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    PathArgs(id): PathArgs<String>,
) -> Result<StatusCode, ApiError> {
    s.accounts.delete(&actor(&p, client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn unlock_account(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    PathArgs(id): PathArgs<String>,
) -> Result<Json<Value>, ApiError> {
    let view = s.accounts.unlock(&actor(&p, client), &id).await?;
    Ok(Json(json!(view)))
}

pub(super) async fn list_teams(State(s): State<AppState>) -> Json<Value> {
    Json(json!(s.accounts.teams()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TeamBody {
    #[serde(default)]
    queues: Vec<String>,
}

pub(super) async fn put_team(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    PathArgs(name): PathArgs<String>,
    JsonBody(b): JsonBody<TeamBody>,
) -> Result<Json<Value>, ApiError> {
    let team = Team {
        name,
        queues: b.queues.into_iter().collect(),
    };
    let team = s.accounts.save_team(&actor(&p, client), team).await?;
    Ok(Json(json!(team)))
}

pub(super) async fn delete_team(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    PathArgs(name): PathArgs<String>,
) -> Result<StatusCode, ApiError> {
    s.accounts.delete_team(&actor(&p, client), &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn list_tokens(State(s): State<AppState>) -> Json<Value> {
    Json(json!(s.accounts.tokens()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TokenBody {
    name: String,
    /// The account the token acts as; the caller's own when absent.
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

pub(super) async fn create_token(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    JsonBody(b): JsonBody<TokenBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if b.expires_in_days == Some(0) || b.expires_in_days.is_some_and(|d| d > 3650) {
        return Err(ApiError::invalid("expires_in_days", "must be 1..=3650"));
    }
    let account = b.account.unwrap_or_else(|| p.account.clone());
    let expires = b
        .expires_in_days
        .map(|d| Duration::from_secs(u64::from(d) * 86_400));
    let token = s
        .accounts
        .create_token(&actor(&p, client), &account, &b.name, expires)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(token))))
}

pub(super) async fn revoke_token(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    client: Option<Extension<ClientAddr>>,
    PathArgs(id): PathArgs<String>,
) -> Result<StatusCode, ApiError> {
    s.accounts.revoke_token(&actor(&p, client), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub(super) async fn audit(
    State(s): State<AppState>,
    page: QueryArgs<Page>,
) -> Result<Json<Value>, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let (total, records) = s
        .accounts
        .audit_trail(limit, offset)
        .await
        .map_err(ApiError::store)?;
    Ok(Json(json!({"total": total, "audit": records})))
}
