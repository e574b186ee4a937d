//! Campaign management: create, change, life cycle, statistics, records.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value};

use super::{ApiError, DialerHttp, JsonBody, PathArgs};
use crate::campaign::{
    Campaign, CampaignCommand, CampaignId, CampaignPatch, CampaignSpec, SPEC_FIELDS,
};
use crate::record::RecordId;
use crate::store::CampaignStats;

pub async fn list(State(s): State<DialerHttp>) -> Result<Json<Vec<Campaign>>, ApiError> {
    Ok(Json(s.dialer.store().campaigns().await?))
}

pub async fn create(
    State(s): State<DialerHttp>,
    JsonBody(body): JsonBody<Value>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::bad_request("bad_json", "expected a JSON object"));
    };
    if let Some(unknown) = object.keys().find(|k| !SPEC_FIELDS.contains(&k.as_str())) {
        return Err(ApiError::bad_request(
            "invalid_campaign",
            format!("unknown field \"{unknown}\""),
        ));
    }
    let spec: CampaignSpec = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request("invalid_campaign", e.to_string()))?;
    let campaign = s.dialer.create_campaign(&spec, Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
}

pub(super) async fn existing(s: &DialerHttp, id: i64) -> Result<Campaign, ApiError> {
    s.dialer
        .store()
        .campaign(CampaignId(id))
        .await?
        .ok_or_else(|| ApiError::not_found("campaign_not_found", format!("no campaign {id}")))
}

pub async fn show(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Json<Campaign>, ApiError> {
    Ok(Json(existing(&s, id).await?))
}

pub async fn change(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
    JsonBody(patch): JsonBody<CampaignPatch>,
) -> Result<Json<Campaign>, ApiError> {
    let campaign = s
        .dialer
        .update_campaign(CampaignId(id), patch, Utc::now())
        .await?;
    Ok(Json(campaign))
}

async fn command(
    s: DialerHttp,
    id: i64,
    command: CampaignCommand,
) -> Result<Json<Campaign>, ApiError> {
    let campaign = s
        .dialer
        .command(CampaignId(id), command, Utc::now())
        .await?;
    Ok(Json(campaign))
}

pub async fn load(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Json<Campaign>, ApiError> {
    command(s, id, CampaignCommand::Load).await
}

pub async fn start(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Json<Campaign>, ApiError> {
    command(s, id, CampaignCommand::Start).await
}

pub async fn pause(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Json<Campaign>, ApiError> {
    command(s, id, CampaignCommand::Pause).await
}

pub async fn stop(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Json<Campaign>, ApiError> {
    command(s, id, CampaignCommand::Stop).await
}

pub async fn stats(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Json<CampaignStats>, ApiError> {
    let campaign = existing(&s, id).await?;
    Ok(Json(s.dialer.store().stats(campaign.id).await?))
}

pub async fn record(
    State(s): State<DialerHttp>,
    PathArgs((campaign, record)): PathArgs<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    let store = s.dialer.store();
    let found = store.record(RecordId(record)).await?;
    let Some(found) = found.filter(|r| r.campaign == CampaignId(campaign)) else {
        return Err(ApiError::not_found(
            "record_not_found",
            format!("campaign {campaign} has no record {record}"),
        ));
    };
    let attempts = store.attempts(found.id).await?;
    Ok(Json(json!({"record": found, "attempts": attempts})))
}
