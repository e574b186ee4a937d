//! Records: one contact of a campaign's list, its numbers, its status and its attempts.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::campaign::CampaignId;
use crate::phone::{Phone, PhoneType, E164};

/// A record's id, assigned by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordId(pub i64);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A call attempt's id, assigned by the store when the attempt starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttemptId(pub i64);

impl fmt::Display for AttemptId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a record is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RecordStatus {
    /// In the list; callable from `retry_at` (when set) inside the calling window.
    Ready {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_at: Option<DateTime<Utc>>,
    },
    /// Handed to an agent for preview until `until`; after that it is back in the list.
    Leased { agent: String, until: DateTime<Utc> },
    /// A call is being made (or wrapped up) by `agent`; the lease runs until `until`.
    Dialling { agent: String, until: DateTime<Utc> },
    /// Finished.
    Done,
    /// To be called at `at`, by `agent` only when set.
    Callback {
        at: DateTime<Utc>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// Closed on the contact's request; its numbers are on the DNC list.
    DoNotCall,
    /// Closed without success (attempts exhausted, wrong number...).
    Failed,
}

/// The status names, as stored and reported.
pub const STATUS_NAMES: [&str; 7] = [
    "ready",
    "leased",
    "dialling",
    "done",
    "callback",
    "do_not_call",
    "failed",
];

impl RecordStatus {
    pub fn name(&self) -> &'static str {
        match self {
            RecordStatus::Ready { .. } => "ready",
            RecordStatus::Leased { .. } => "leased",
            RecordStatus::Dialling { .. } => "dialling",
            RecordStatus::Done => "done",
            RecordStatus::Callback { .. } => "callback",
            RecordStatus::DoNotCall => "do_not_call",
            RecordStatus::Failed => "failed",
        }
    }
}

/// A contact of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: RecordId,
    pub campaign: CampaignId,
    /// The id in the manager's own system; unique per campaign, the key of re-imports.
    pub external_id: String,
    pub name: String,
    /// The contact's zone; the campaign's when absent.
    pub time_zone: Option<Tz>,
    pub phones: Vec<Phone>,
    pub fields: BTreeMap<String, String>,
    #[serde(flatten)]
    pub status: RecordStatus,
    /// Calls made so far.
    pub attempts: u32,
    /// Call result of the last finished attempt.
    pub last_result: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl Record {
    /// The zone the calling window is evaluated in.
    pub fn zone(&self, campaign_default: Tz) -> Tz {
        self.time_zone.unwrap_or(campaign_default)
    }

    /// The value of a field shown to agents: a built-in one or a custom field.
    pub fn field(&self, key: &str) -> Option<String> {
        match key {
            "name" => Some(self.name.clone()),
            "external_id" => Some(self.external_id.clone()),
            "time_zone" => self.time_zone.map(|tz| tz.name().to_string()),
            "attempts" => Some(self.attempts.to_string()),
            "last_result" => self.last_result.clone(),
            _ => self.fields.get(key).cloned(),
        }
    }
}

/// A record as imported, before the store gives it an id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRecord {
    pub external_id: String,
    pub name: String,
    pub time_zone: Option<Tz>,
    pub phones: Vec<Phone>,
    pub fields: BTreeMap<String, String>,
}

/// One call made for a record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub id: AttemptId,
    pub record: RecordId,
    pub campaign: CampaignId,
    pub agent: String,
    pub number: E164,
    pub phone_type: PhoneType,
    pub started_at: DateTime<Utc>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    /// Final SIP status of the call (200 when it was answered).
    pub sip_status: Option<u16>,
    /// `None` while the call is on (or wrapped up); `switch_restarted`
    /// ([`crate::outcome::SWITCH_RESTARTED`]) when the switch restarted before the
    /// outcome was in, until the agent gives it.
    pub call_result: Option<String>,
    pub dispositions: Vec<String>,
    pub notes: String,
    pub dnc: bool,
    /// When start-up recovery closed the attempt (the switch restarted during the call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_at: Option<DateTime<Utc>>,
}
