//! What goes into the preview flow and what comes out of it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::campaign::{Campaign, CampaignId, CampaignStatus, DncScope};
use crate::outcome::{Decline, NextStatus, Outcome, OutcomeError};
use crate::phone::{PhoneError, PhoneType, E164};
use crate::record::{AttemptId, Record, RecordId};
use crate::recovery::{PendingOutcome, Recovered};

use super::view::PreviewView;

/// Timings of the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviewConfig {
    /// How long a record stays with an agent who previews it without calling.
    pub preview_lease: Duration,
    /// How long a record stays with an agent once the call starts (call and wrap-up).
    pub call_lease: Duration,
    /// How long an agent with nothing to call waits before the flow asks again.
    pub idle_retry: Duration,
    /// The flow gives a preview up this long before its store lease ends, so the release
    /// is written before another agent could lease the record.
    pub lease_margin: Duration,
    /// How long an outcome owed after a restart stays the agent's ([`crate::recovery`]).
    pub outcome_hold: Duration,
}

impl Default for PreviewConfig {
    fn default() -> Self {
        PreviewConfig {
            preview_lease: Duration::minutes(10),
            call_lease: Duration::hours(4),
            idle_retry: Duration::seconds(30),
            lease_margin: Duration::seconds(5),
            outcome_hold: Duration::hours(1),
        }
    }
}

/// A record handed to an agent by the store.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub record: Record,
    /// Numbers of the record on a DNC list when the lease was taken; never dialled.
    pub blocked: Vec<E164>,
    /// When the store lets the record go if the agent keeps it.
    pub until: DateTime<Utc>,
}

/// Which number the agent calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberChoice {
    /// The record's first number that is not blocked.
    Default,
    /// The record's number at this index.
    Index(usize),
    /// A number the agent typed, with its type; it is added to the record.
    New { number: String, kind: PhoneType },
}

/// Why the runtime could not persist what the flow asked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SaveError {
    #[error("{0} is on the do-not-call list")]
    Dnc(E164),
    #[error("the record is no longer leased to this agent")]
    LeaseLost,
    #[error("store error: {0}")]
    Store(String),
}

/// One input, with the agent or campaign it is about. Time comes with
/// [`Preview::handle`](super::Preview::handle).
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A campaign was created or changed (settings or status). Agents of its queue hear
    /// of status changes; a campaign turning `running` pushes records to Ready agents.
    Campaign(Campaign),
    /// The agent is Ready in the ACD and serves these queues: records of running
    /// campaigns of those queues are pushed to them.
    AgentReady { agent: String, queues: Vec<String> },
    /// The agent left Ready: no more pushes (pulls still work).
    AgentNotReady { agent: String },
    /// The agent logged out: a record in preview goes back to the list.
    AgentLoggedOut { agent: String },
    /// The agent asks for the next record of a campaign (pull).
    RequestNext { agent: String, campaign: CampaignId },
    /// Answer to [`Output::Lease`]: the store leased this record to the agent.
    Leased { agent: String, lease: Lease },
    /// Answer to [`Output::Lease`]: nothing to call now.
    NoRecord { agent: String },
    /// Answer to [`Output::Lease`]: the store failed or refused.
    LeaseFailed { agent: String, reason: String },
    /// The agent accepts the previewed record: its first callable number is dialled.
    Accept { agent: String, record: RecordId },
    /// The agent calls one of the record's numbers or a new one.
    Call {
        agent: String,
        record: RecordId,
        number: NumberChoice,
    },
    /// The agent turns the record down without calling.
    Decline {
        agent: String,
        record: RecordId,
        decline: Decline,
    },
    /// The agent's wrap-up of the call.
    Outcome {
        agent: String,
        record: RecordId,
        outcome: Outcome,
    },
    /// Answer to [`Output::StartAttempt`].
    AttemptStarted {
        agent: String,
        record: RecordId,
        result: Result<AttemptId, SaveError>,
    },
    /// Answer to [`Output::CloseRecord`].
    RecordClosed {
        agent: String,
        record: RecordId,
        result: Result<(), SaveError>,
    },
    /// The switch: the contact answered.
    CallConnected { agent: String, attempt: AttemptId },
    /// The switch: the call ended (or failed) with this final SIP status; 200 for a call
    /// that was answered and hung up.
    CallEnded {
        agent: String,
        attempt: AttemptId,
        sip_status: u16,
    },
    /// Start-up recovery: a restart cut the agent's connected call; the outcome is still
    /// theirs to give (the agent is put in wrap-up, and told when next seen).
    OutcomePending {
        agent: String,
        pending: Box<PendingOutcome>,
    },
    /// Start-up recovery: a restart cut the agent's call and its record went back to the
    /// list (the agent is told when next seen).
    CallInterrupted { agent: String, recovered: Recovered },
}

/// A call attempt to persist before the switch dials: the runtime records the attempt
/// and marks the record `dialling` in one transaction, refusing a number on a DNC list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartAttempt {
    pub agent: String,
    pub campaign: CampaignId,
    pub record: RecordId,
    pub number: E164,
    pub phone_type: PhoneType,
    /// The agent typed this number: add it to the record's numbers.
    pub new_phone: bool,
    pub at: DateTime<Utc>,
    pub lease_until: DateTime<Utc>,
}

/// What happened on the call, for the attempt's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallReport {
    pub attempt: AttemptId,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub sip_status: u16,
}

/// What the switch has reported of a call so far, for its attempt's row: kept while the
/// call lasts so that recovery after a crash knows whether it connected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallProgress {
    pub attempt: AttemptId,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub sip_status: Option<u16>,
}

/// A record leaving its agent: its next status, the finished attempt (if a call was
/// made) and the numbers to put on the DNC list, written in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseRecord {
    pub agent: String,
    pub campaign: CampaignId,
    pub record: RecordId,
    pub call: Option<CallReport>,
    pub outcome: Option<Outcome>,
    pub next: NextStatus,
    pub dnc: Vec<E164>,
    pub dnc_scope: DncScope,
    pub at: DateTime<Utc>,
}

/// The agent's ACD state as the flow wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AcdState {
    /// Previewing a record.
    Reserved,
    /// On the call.
    Busy,
    /// The call ended; the outcome is not in yet.
    AfterCallWork,
    /// Free for the next record.
    Ready,
    /// The agent let a preview expire, as with an ACD offer not answered: no more
    /// records are pushed until the agent is Ready again.
    Rona,
}

/// What the agent's desktop is told.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Notification {
    /// The campaign was loaded, started, paused, stopped or completed.
    CampaignStatus {
        campaign: CampaignId,
        name: String,
        status: CampaignStatus,
    },
    /// A record to preview (also repeated when a failed action brings it back).
    Preview(Box<PreviewView>),
    /// A pull found nothing to call.
    NoRecord { campaign: CampaignId },
    /// A pull failed in the store.
    LeaseFailed {
        campaign: CampaignId,
        reason: String,
    },
    Dialling {
        record: RecordId,
        attempt: AttemptId,
        number: E164,
    },
    Connected {
        record: RecordId,
        attempt: AttemptId,
    },
    /// The call is over: the outcome is required now.
    CallEnded {
        record: RecordId,
        attempt: AttemptId,
        sip_status: u16,
        suggested_result: Option<String>,
    },
    /// A dial (by click, accept or countdown) could not be made.
    DialRefused { record: RecordId, reason: String },
    /// The preview lasted too long; the record went back to the list.
    PreviewExpired { record: RecordId },
    /// The record lost its lease (another node or agent has it now).
    LeaseLost { record: RecordId },
    /// The record was released with this status; the agent is free.
    RecordClosed { record: RecordId, next: NextStatus },
    /// Saving the agent's action failed; the agent can try again.
    SaveFailed { record: RecordId, reason: String },
    /// The switch restarted during this call (told when the agent is next seen): the
    /// outcome is still required (`outcome_pending`, a `call_ended` follows) or the record
    /// went back to the list (`next`).
    Recovered { call: Recovered },
}

/// What the runtime must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Lease a record for the agent from the first of these campaigns that has one,
    /// until `until`; answer with `Leased`, `NoRecord` or `LeaseFailed`.
    Lease {
        agent: String,
        campaigns: Vec<CampaignId>,
        until: DateTime<Utc>,
    },
    /// Persist a call attempt; answer with `AttemptStarted`.
    StartAttempt(StartAttempt),
    /// Persist a record's release; answer with `RecordClosed`.
    CloseRecord(Box<CloseRecord>),
    /// Persist the call's progress on its attempt; no answer (a failure is only logged:
    /// the outcome writes the same again).
    SaveCall(CallProgress),
    /// The switch calls `number` for the agent (whose phone it rings first or bridges
    /// to); it reports `CallConnected` / `CallEnded` with the attempt id.
    Originate {
        agent: String,
        campaign: CampaignId,
        record: RecordId,
        attempt: AttemptId,
        number: E164,
    },
    /// Tell the agent's desktop.
    Notify { agent: String, event: Notification },
    /// Put the agent in this ACD state.
    AgentState { agent: String, state: AcdState },
}

/// Why an input was refused; the flow's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PreviewError {
    #[error("no campaign {0}")]
    UnknownCampaign(CampaignId),
    #[error("campaign {campaign} is {status}, not running")]
    CampaignNotRunning {
        campaign: CampaignId,
        status: CampaignStatus,
    },
    #[error("agent {agent} does not serve the queue of campaign {campaign}")]
    NotInCampaign { agent: String, campaign: CampaignId },
    #[error("agent {agent} is {state}")]
    WrongState { agent: String, state: &'static str },
    #[error("the outcome of record {0} is required first")]
    OutcomeRequired(RecordId),
    #[error("record {0} is not the agent's current record")]
    NotYourRecord(RecordId),
    #[error("the record has no number that may be called")]
    NoCallableNumber,
    #[error("the record has no number {index} (it has {count})")]
    PhoneIndex { index: usize, count: usize },
    #[error("{0}")]
    InvalidNumber(#[from] PhoneError),
    #[error("{0} is on the do-not-call list")]
    NumberBlocked(E164),
    #[error("outside the calling window; it opens at {opens_at}")]
    OutsideWindow { opens_at: DateTime<Utc> },
    #[error("the call is still on")]
    CallInProgress,
    #[error("{0}")]
    Outcome(#[from] OutcomeError),
    #[error("attempt {0} is not the agent's current call")]
    UnknownAttempt(AttemptId),
}
