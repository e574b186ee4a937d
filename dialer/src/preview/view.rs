//! What an agent's desktop shows: the preview payload and the session's state.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::campaign::{CallResultDef, Campaign, CampaignId, Disposition, FieldSpec, PreviewMode};
use crate::phone::{PhoneType, E164};
use crate::record::{AttemptId, RecordId};

use super::io::Lease;

/// One labelled value of the case or record information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldValue {
    pub key: String,
    pub label: String,
    pub value: Option<String>,
}

/// One number the agent can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhoneView {
    /// What to send as `phone` to call this number.
    pub index: usize,
    pub number: E164,
    #[serde(rename = "type")]
    pub kind: PhoneType,
    /// On a DNC list: shown, never dialled.
    pub blocked: bool,
}

/// The preview payload: everything the agent needs to decide and call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewView {
    pub campaign: CampaignId,
    pub campaign_name: String,
    pub record: RecordId,
    pub external_id: String,
    pub name: String,
    pub case_info: Vec<FieldValue>,
    pub record_info: Vec<FieldValue>,
    pub phones: Vec<PhoneView>,
    pub preview_mode: PreviewMode,
    /// When the countdown dials, if it runs; the agent can call earlier.
    pub dial_at: Option<DateTime<Utc>>,
    /// When the record goes back to the list if the agent neither calls nor declines.
    pub expires_at: DateTime<Utc>,
    pub attempts: u32,
    pub last_result: Option<String>,
    pub call_results: Vec<CallResultDef>,
    pub dispositions: Vec<Disposition>,
}

fn fields(specs: &[FieldSpec], lease: &Lease) -> Vec<FieldValue> {
    specs
        .iter()
        .map(|f| FieldValue {
            key: f.key.clone(),
            label: if f.label.is_empty() {
                f.key.clone()
            } else {
                f.label.clone()
            },
            value: lease.record.field(&f.key),
        })
        .collect()
}

impl PreviewView {
    pub(super) fn new(
        campaign: &Campaign,
        lease: &Lease,
        dial_at: Option<DateTime<Utc>>,
        expires_at: DateTime<Utc>,
    ) -> PreviewView {
        let record = &lease.record;
        PreviewView {
            campaign: campaign.id,
            campaign_name: campaign.spec.name.clone(),
            record: record.id,
            external_id: record.external_id.clone(),
            name: record.name.clone(),
            case_info: fields(&campaign.spec.case_fields, lease),
            record_info: fields(&campaign.spec.record_fields, lease),
            phones: record
                .phones
                .iter()
                .enumerate()
                .map(|(index, p)| PhoneView {
                    index,
                    number: p.number.clone(),
                    kind: p.kind,
                    blocked: lease.blocked.contains(&p.number),
                })
                .collect(),
            preview_mode: campaign.spec.preview,
            dial_at,
            expires_at,
            attempts: record.attempts,
            last_result: record.last_result.clone(),
            call_results: campaign.spec.call_results.clone(),
            dispositions: campaign.spec.dispositions.clone(),
        }
    }
}

/// An agent's session, as the desktop (re)loads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionView {
    pub agent: String,
    /// `idle`, `leasing`, `previewing`, `starting`, `dialling`, `connected`, `wrapup` or
    /// `closing`.
    pub state: &'static str,
    pub preview: Option<PreviewView>,
    pub attempt: Option<AttemptId>,
    pub number: Option<E164>,
    pub sip_status: Option<u16>,
    pub suggested_result: Option<String>,
}
