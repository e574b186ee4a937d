//! The agent's side of the preview flow: get a record, accept, call, decline, outcome.
//!
//! An agent id the switch's ACD does not know gets 404 `agent_not_found`. Each action runs
//! through the [`Dialer`](crate::Dialer) to completion (store writes included) and answers
//! with the agent's session; the same events also go out on the dialer's event channel for
//! the desktop.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Deserialize;

use super::{ApiError, DialerHttp, JsonBody, PathArgs};
use crate::campaign::CampaignId;
use crate::outcome::{Decline, Outcome};
use crate::phone::PhoneType;
use crate::preview::{Input, Notification, NumberChoice, SessionView};
use crate::record::RecordId;
use crate::service::DialerEvent;

/// Which number to call: `{}` for the first callable one, `{"phone": index}` for one of
/// the record's, or `{"number": "...", "type": "mobile"}` for a new one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallBody {
    #[serde(default)]
    phone: Option<usize>,
    #[serde(default)]
    number: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<PhoneType>,
}

impl CallBody {
    fn choice(self) -> Result<NumberChoice, ApiError> {
        match (self.phone, self.number, self.kind) {
            (None, None, None) => Ok(NumberChoice::Default),
            (Some(index), None, None) => Ok(NumberChoice::Index(index)),
            (None, Some(number), Some(kind)) => Ok(NumberChoice::New { number, kind }),
            (None, Some(_), None) => Err(ApiError::bad_request(
                "bad_call",
                "a new number needs its type (home, mobile, work or other)",
            )),
            _ => Err(ApiError::bad_request(
                "bad_call",
                "give either phone (an index) or number with type",
            )),
        }
    }
}

pub async fn session(
    State(s): State<DialerHttp>,
    PathArgs(agent): PathArgs<String>,
) -> Result<Json<SessionView>, ApiError> {
    s.known_agent(&agent).await?;
    Ok(Json(s.dialer.session(&agent)))
}

/// One campaign as the agent's desktop lists it.
#[derive(serde::Serialize)]
pub struct AgentCampaign {
    id: CampaignId,
    name: String,
    description: String,
    queue: String,
    status: crate::campaign::CampaignStatus,
    preview: crate::campaign::PreviewMode,
}

/// `GET /api/agents/{id}/campaigns`: the campaigns of the agent's queues, whatever their
/// status (the desktop's Preview panel; Get Record needs one running).
pub async fn campaigns(
    State(s): State<DialerHttp>,
    PathArgs(agent): PathArgs<String>,
) -> Result<Json<Vec<AgentCampaign>>, ApiError> {
    s.known_agent(&agent).await?;
    let list = s
        .dialer
        .campaigns_of(&agent)
        .into_iter()
        .map(|c| AgentCampaign {
            id: c.id,
            name: c.spec.name,
            description: c.spec.description,
            queue: c.spec.queue,
            status: c.status,
            preview: c.spec.preview,
        })
        .collect();
    Ok(Json(list))
}

pub async fn next(
    State(s): State<DialerHttp>,
    PathArgs((agent, campaign)): PathArgs<(String, i64)>,
) -> Result<Json<SessionView>, ApiError> {
    s.known_agent(&agent).await?;
    let input = Input::RequestNext {
        agent: agent.clone(),
        campaign: CampaignId(campaign),
    };
    act(&s, &agent, input).await
}

/// The record must be the agent's current one, of this campaign.
fn check_held(s: &DialerHttp, agent: &str, campaign: i64, record: i64) -> Result<(), ApiError> {
    let session = s.dialer.session(agent);
    match session.preview {
        Some(p) if p.record == RecordId(record) && p.campaign == CampaignId(campaign) => Ok(()),
        _ => Err(ApiError::conflict(
            "not_your_record",
            format!("record {record} of campaign {campaign} is not agent {agent}'s current record"),
        )),
    }
}

type RecordPath = PathArgs<(String, i64, i64)>;

pub async fn accept(
    State(s): State<DialerHttp>,
    PathArgs((agent, campaign, record)): RecordPath,
) -> Result<Json<SessionView>, ApiError> {
    s.known_agent(&agent).await?;
    check_held(&s, &agent, campaign, record)?;
    let input = Input::Accept {
        agent: agent.clone(),
        record: RecordId(record),
    };
    act(&s, &agent, input).await
}

pub async fn call(
    State(s): State<DialerHttp>,
    PathArgs((agent, campaign, record)): RecordPath,
    JsonBody(body): JsonBody<CallBody>,
) -> Result<Json<SessionView>, ApiError> {
    s.known_agent(&agent).await?;
    let number = body.choice()?;
    check_held(&s, &agent, campaign, record)?;
    let input = Input::Call {
        agent: agent.clone(),
        record: RecordId(record),
        number,
    };
    act(&s, &agent, input).await
}

pub async fn decline(
    State(s): State<DialerHttp>,
    PathArgs((agent, campaign, record)): RecordPath,
    JsonBody(decline): JsonBody<Decline>,
) -> Result<Json<SessionView>, ApiError> {
    s.known_agent(&agent).await?;
    check_held(&s, &agent, campaign, record)?;
    let input = Input::Decline {
        agent: agent.clone(),
        record: RecordId(record),
        decline,
    };
    act(&s, &agent, input).await
}

pub async fn outcome(
    State(s): State<DialerHttp>,
    PathArgs((agent, campaign, record)): RecordPath,
    JsonBody(outcome): JsonBody<Outcome>,
) -> Result<Json<SessionView>, ApiError> {
    s.known_agent(&agent).await?;
    check_held(&s, &agent, campaign, record)?;
    let input = Input::Outcome {
        agent: agent.clone(),
        record: RecordId(record),
        outcome,
    };
    act(&s, &agent, input).await
}

/// Runs the input; a refusal, or a store answer that undid the action, is an error.
async fn act(s: &DialerHttp, agent: &str, input: Input) -> Result<Json<SessionView>, ApiError> {
    let events = s.dialer.handle(Utc::now(), input).await?;
    for event in &events {
        let DialerEvent::Notify { agent: to, event } = event else {
            continue;
        };
        if to != agent {
            continue;
        }
        match event {
            Notification::NoRecord { campaign } => {
                return Err(ApiError::not_found(
                    "no_record",
                    format!("campaign {campaign} has no record to call now"),
                ))
            }
            Notification::LeaseFailed { reason, .. } => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "lease_failed",
                    reason.clone(),
                ))
            }
            Notification::DialRefused { reason, .. } => {
                return Err(ApiError::conflict("dial_refused", reason.clone()))
            }
            Notification::SaveFailed { reason, .. } => {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "save_failed",
                    reason.clone(),
                ))
            }
            Notification::LeaseLost { record } => {
                return Err(ApiError::conflict(
                    "lease_lost",
                    format!("record {record} was no longer leased to {agent}"),
                ))
            }
            _ => {}
        }
    }
    Ok(Json(s.dialer.session(agent)))
}
