//! Do-not-call list management: add, check, remove.
//!
//! Numbers are normalised to E.164 first: international forms always work; a national
//! number needs `country_code` or a campaign with a default country code.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::campaigns::existing;
use super::{ApiError, DialerHttp, JsonBody, PathArgs, QueryArgs};
use crate::campaign::CampaignId;
use crate::phone::{CountryCode, E164};
use crate::store::DncEntry;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddDnc {
    number: String,
    /// The campaign's list; the global list when absent.
    #[serde(default)]
    campaign: Option<i64>,
    #[serde(default)]
    country_code: Option<CountryCode>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    #[serde(default)]
    campaign: Option<i64>,
    #[serde(default)]
    country_code: Option<String>,
}

#[derive(Serialize)]
pub struct DncAdded {
    number: E164,
    campaign: Option<CampaignId>,
    /// False when the number was already on that list.
    added: bool,
}

#[derive(Serialize)]
pub struct DncCheck {
    number: E164,
    /// On the global list, or on the given campaign's.
    dnc: bool,
    /// Every list the number is on.
    entries: Vec<DncEntry>,
}

/// The number in E.164 and the campaign (checked to exist) of a request.
async fn resolve(
    s: &DialerHttp,
    raw: &str,
    campaign: Option<i64>,
    country: Option<CountryCode>,
) -> Result<(E164, Option<CampaignId>), ApiError> {
    let campaign = match campaign {
        Some(id) => Some(existing(s, id).await?),
        None => None,
    };
    let country = country.or_else(|| {
        campaign
            .as_ref()
            .and_then(|c| c.spec.default_country_code.clone())
    });
    let number = E164::parse(raw, country.as_ref())
        .map_err(|e| ApiError::bad_request("invalid_number", e.to_string()))?;
    Ok((number, campaign.map(|c| c.id)))
}

fn country(raw: Option<String>) -> Result<Option<CountryCode>, ApiError> {
    raw.map(|c| {
        CountryCode::parse(&c).map_err(|e| ApiError::bad_request("bad_query", e.to_string()))
    })
    .transpose()
}

pub async fn add(
    State(s): State<DialerHttp>,
    JsonBody(body): JsonBody<AddDnc>,
) -> Result<(StatusCode, Json<DncAdded>), ApiError> {
    let (number, campaign) = resolve(&s, &body.number, body.campaign, body.country_code).await?;
    let added = s
        .dialer
        .store()
        .add_dnc(campaign, std::slice::from_ref(&number), "api", Utc::now())
        .await?;
    let status = if added > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(DncAdded {
            number,
            campaign,
            added: added > 0,
        }),
    ))
}

pub async fn check(
    State(s): State<DialerHttp>,
    PathArgs(raw): PathArgs<String>,
    QueryArgs(scope): QueryArgs<Scope>,
) -> Result<Json<DncCheck>, ApiError> {
    let (number, campaign) =
        resolve(&s, &raw, scope.campaign, country(scope.country_code)?).await?;
    let entries = s.dialer.store().dnc_entries(&number).await?;
    let dnc = entries
        .iter()
        .any(|e| e.campaign.is_none() || e.campaign == campaign);
    Ok(Json(DncCheck {
        number,
        dnc,
        entries,
    }))
}

pub async fn remove(
    State(s): State<DialerHttp>,
    PathArgs(raw): PathArgs<String>,
    QueryArgs(scope): QueryArgs<Scope>,
) -> Result<StatusCode, ApiError> {
    let (number, campaign) =
        resolve(&s, &raw, scope.campaign, country(scope.country_code)?).await?;
    if s.dialer.store().remove_dnc(campaign, &number).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "not_listed",
            format!("{number} is not on that list"),
        ))
    }
}
