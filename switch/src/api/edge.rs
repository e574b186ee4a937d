//! The SIP edge's bans over REST (administrators): `GET /api/edge/bans` lists them,
//! `POST /api/edge/bans {"address", "secs"}` bans an address, `DELETE
//! /api/edge/bans/{address}` lifts a ban. Bans by failed digests and scanners come from
//! [`crate::edge`] itself.

use super::AppState;
use crate::edge::BanReason;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dialer::http::{ApiError, JsonBody, PathArgs};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::{Duration, Instant};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewBan {
    address: String,
    /// Seconds (default: `edge.ban_secs`).
    #[serde(default)]
    secs: Option<u64>,
}

fn address(text: &str) -> Result<IpAddr, ApiError> {
    text.trim()
        .parse()
        .map_err(|_| ApiError::invalid("address", format!("{text:?} is not an IP address")))
}

pub(super) async fn list(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"bans": s.edge.bans(Instant::now())}))
}

pub(super) async fn ban(
    State(s): State<AppState>,
    JsonBody(body): JsonBody<NewBan>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let ip = address(&body.address)?;
    let secs = body.secs.unwrap_or(s.config.edge.ban_secs);
    if !(1..=30 * 86_400).contains(&secs) {
        return Err(ApiError::invalid("secs", "must be 1 to 2592000 (30 days)"));
    }
    let now = Instant::now();
    s.edge
        .ban(ip, BanReason::Administrator, Duration::from_secs(secs), now);
    let view = s.edge.bans(now).into_iter().find(|b| b.address == ip);
    Ok((StatusCode::CREATED, Json(json!(view))))
}

pub(super) async fn unban(
    State(s): State<AppState>,
    PathArgs(text): PathArgs<String>,
) -> Result<StatusCode, ApiError> {
    let not_banned = || ApiError::not_found("not_found", format!("{text} is not banned"));
    let ip: IpAddr = text.trim().parse().map_err(|_| not_banned())?;
    if s.edge.unban(ip) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_banned())
    }
}
