//! Start-up recovery: what becomes of the calls a switch left open when it stopped
//! without ending them (`kill -9`, a crash, a power cut).
//!
//! The store keeps, per call attempt, the node that made it and what the switch reported
//! of the call while it lasted (answered, ended). When a node starts, before its dialer
//! serves anyone, every attempt of that node without a call result is closed with the
//! result [`SWITCH_RESTARTED`](crate::outcome::SWITCH_RESTARTED), and its record, if it
//! is still that call's (dialling, held by the same agent, the call its last attempt):
//!
//! - **the call had connected**: the agent spoke to the contact, so the outcome is still
//!   theirs to give. The record stays theirs ([`Decision::OutcomePending`]) for
//!   `outcome_hold` (an hour by default, [`PreviewConfig`](crate::preview::PreviewConfig));
//!   when they log in again the desktop is told and shows the wrap-up, the ACD puts them
//!   in after-call work, and the outcome they post replaces `switch_restarted` as the
//!   attempt's result. Not given in time, the record goes back as below.
//! - **it had not connected**: the record goes back to the list by the campaign's rules
//!   for `switch_restarted` ([`crate::outcome::restart_status`]): called again at once
//!   while attempts remain, unless the campaign defines that result itself.
//!
//! A record that had moved on meanwhile (its lease expired and someone else has it) keeps
//! its state: only the old attempt is closed. Each agent concerned is told on their
//! desktop when they are next seen (their login), and the whole recovery is published as
//! a `dialer_recovered` event. Pending outcomes survive a second restart: they are read
//! again from the store at every start.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::campaign::{Campaign, CampaignId};
use crate::outcome::{restart_status, NextStatus};
use crate::phone::E164;
use crate::record::{AttemptId, Record, RecordId};

/// An attempt found without a call result at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAttempt {
    pub attempt: AttemptId,
    pub record: RecordId,
    pub campaign: CampaignId,
    pub agent: String,
    pub number: E164,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub sip_status: Option<u16>,
    /// The record is still this call's: dialling, held by the agent, this its last attempt.
    pub current: bool,
    /// The record's attempts, this one included.
    pub attempts: u32,
}

/// What recovery does with the record of an open attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The call had connected: the record stays the agent's until `until`.
    OutcomePending { until: DateTime<Utc> },
    /// The record goes back with this status.
    Returned(NextStatus),
    /// The record had moved on: only the attempt is closed.
    AttemptOnly,
}

/// The rule above, for one open attempt.
pub fn decide(
    campaign: Option<&Campaign>,
    open: &OpenAttempt,
    now: DateTime<Utc>,
    outcome_hold: Duration,
) -> Decision {
    if !open.current {
        return Decision::AttemptOnly;
    }
    if open.connected_at.is_some() {
        return Decision::OutcomePending {
            until: now + outcome_hold,
        };
    }
    match campaign {
        Some(c) => Decision::Returned(restart_status(c, open.attempts, now)),
        None => Decision::Returned(NextStatus::Ready { at: now }),
    }
}

/// One call a restart interrupted, as the agent's desktop and the event stream see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovered {
    pub agent: String,
    pub campaign: CampaignId,
    pub record: RecordId,
    pub attempt: AttemptId,
    pub number: E164,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub sip_status: Option<u16>,
    /// The agent still owes the outcome, until `outcome_until`.
    pub outcome_pending: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome_until: Option<DateTime<Utc>>,
    /// The status the record went back with (absent: pending, or the record had moved on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<NextStatus>,
}

/// An outcome the agent still owes after a restart: the record as stored, held for the
/// agent until `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingOutcome {
    pub recovered: Recovered,
    pub record: Record,
    pub until: DateTime<Utc>,
}

/// What start-up recovery did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovery {
    /// Attempts closed now, with what became of their records.
    pub closed: Vec<Recovered>,
    /// Outcomes agents still owe: those closed now and those kept from an earlier restart.
    pub pending: Vec<PendingOutcome>,
}

impl Recovery {
    pub fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.pending.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{CallResultDef, CampaignSpec, CampaignStatus, ResultAction};

    fn t0() -> DateTime<Utc> {
        "2024-01-10T12:00:00Z".parse().unwrap()
    }

    fn campaign(extra: Option<ResultAction>) -> Campaign {
        let mut spec: CampaignSpec =
            serde_json::from_str(r#"{"name":"C","queue":"8100","max_attempts":2}"#).unwrap();
        if let Some(action) = extra {
            spec.call_results.push(CallResultDef {
                code: crate::outcome::SWITCH_RESTARTED.into(),
                label: String::new(),
                action,
            });
        }
        Campaign {
            id: CampaignId(1),
            status: CampaignStatus::Running,
            spec,
            created_at: t0(),
            updated_at: t0(),
        }
    }

    fn open(connected: bool, current: bool, attempts: u32) -> OpenAttempt {
        OpenAttempt {
            attempt: AttemptId(5),
            record: RecordId(3),
            campaign: CampaignId(1),
            agent: "alice".into(),
            number: E164::parse("+442079460001", None).unwrap(),
            connected_at: connected.then(t0),
            ended_at: None,
            sip_status: None,
            current,
            attempts,
        }
    }

    #[test]
    fn connected_calls_keep_the_outcome_for_the_agent() {
        let c = campaign(None);
        let hold = Duration::hours(1);
        assert_eq!(
            decide(Some(&c), &open(true, true, 1), t0(), hold),
            Decision::OutcomePending { until: t0() + hold }
        );
        assert_eq!(
            decide(Some(&c), &open(true, false, 1), t0(), hold),
            Decision::AttemptOnly,
            "a record that moved on keeps its state"
        );
    }

    #[test]
    fn other_calls_go_back_by_the_campaign_rules() {
        let hold = Duration::hours(1);
        let c = campaign(None);
        assert_eq!(
            decide(Some(&c), &open(false, true, 1), t0(), hold),
            Decision::Returned(NextStatus::Ready { at: t0() }),
            "called again at once, not frozen"
        );
        assert_eq!(
            decide(Some(&c), &open(false, true, 2), t0(), hold),
            Decision::Returned(NextStatus::Failed),
            "attempts used up"
        );
        let c = campaign(Some(ResultAction::Retry { after_minutes: 15 }));
        assert_eq!(
            decide(Some(&c), &open(false, true, 1), t0(), hold),
            Decision::Returned(NextStatus::Ready {
                at: t0() + Duration::minutes(15)
            }),
            "the campaign's own switch_restarted result"
        );
        let c = campaign(Some(ResultAction::Done));
        assert_eq!(
            decide(Some(&c), &open(false, true, 1), t0(), hold),
            Decision::Returned(NextStatus::Done)
        );
    }
}
