//! An agent's session in the flow: one state at a time, each holding exactly what it
//! needs, so a call cannot start without a preview nor a record close without an outcome.
//!
//! ```text
//! Idle -> Leasing -> Previewing -> Starting -> Dialling -> Connected -> Wrapup -> Closing -> Idle
//!                     |   ^           |           \______________________/        |
//!                     |   |___________| (DNC, store error)                         |
//!                     \-- decline / expiry -----------------------------> Closing -/
//! ```

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::campaign::Campaign;
use crate::outcome::NextStatus;
use crate::phone::{PhoneType, E164};
use crate::record::{AttemptId, RecordId};

use super::io::{Lease, Notification, NumberChoice, PreviewError};
use super::view::PreviewView;
use crate::campaign::CampaignId;

/// A record on the agent's screen.
#[derive(Debug, Clone)]
pub(super) struct Previewing {
    pub campaign: Arc<Campaign>,
    pub lease: Lease,
    /// Countdown deadline, while it runs.
    pub dial_at: Option<DateTime<Utc>>,
    /// When the flow gives the record back (before the store lease ends).
    pub expires_at: DateTime<Utc>,
}

impl Previewing {
    pub fn record(&self) -> RecordId {
        self.lease.record.id
    }

    pub fn view(&self) -> PreviewView {
        PreviewView::new(&self.campaign, &self.lease, self.dial_at, self.expires_at)
    }

    pub fn deadline(&self) -> DateTime<Utc> {
        self.dial_at
            .map_or(self.expires_at, |d| d.min(self.expires_at))
    }

    /// The number a choice dials, whether it is new to the record, checked against the
    /// DNC numbers known at lease time and the calling window at `now`.
    pub fn choose(
        &self,
        choice: &NumberChoice,
        now: DateTime<Utc>,
    ) -> Result<(E164, PhoneType, bool), PreviewError> {
        let phones = &self.lease.record.phones;
        let blocked = |n: &E164| self.lease.blocked.contains(n);
        let (number, kind, new) = match choice {
            NumberChoice::Default => phones
                .iter()
                .find(|p| !blocked(&p.number))
                .map(|p| (p.number.clone(), p.kind, false))
                .ok_or(PreviewError::NoCallableNumber)?,
            NumberChoice::Index(index) => phones
                .get(*index)
                .map(|p| (p.number.clone(), p.kind, false))
                .ok_or(PreviewError::PhoneIndex {
                    index: *index,
                    count: phones.len(),
                })?,
            NumberChoice::New { number, kind } => {
                let cc = self.campaign.spec.default_country_code.as_ref();
                let number = E164::parse(number, cc)?;
                let new = !phones.iter().any(|p| p.number == number);
                (number, *kind, new)
            }
        };
        if blocked(&number) {
            return Err(PreviewError::NumberBlocked(number));
        }
        let spec = &self.campaign.spec;
        let zone = self.lease.record.zone(spec.time_zone);
        if !spec.window.is_open(now, zone) {
            return Err(PreviewError::OutsideWindow {
                opens_at: spec.window.next_open(now, zone),
            });
        }
        Ok((number, kind, new))
    }
}

/// The call attempt is being written; the switch has not been asked to dial yet.
#[derive(Debug, Clone)]
pub(super) struct Starting {
    pub preview: Previewing,
    pub number: E164,
}

/// A call in progress (dialling or connected).
#[derive(Debug, Clone)]
pub(super) struct OnCall {
    pub preview: Previewing,
    pub attempt: AttemptId,
    pub number: E164,
    pub connected_at: Option<DateTime<Utc>>,
}

/// The call is over; the outcome is required.
#[derive(Debug, Clone)]
pub(super) struct Wrapup {
    pub call: OnCall,
    pub ended_at: DateTime<Utc>,
    pub sip_status: u16,
    pub suggested: Option<String>,
    /// Set when start-up recovery brought this wrap-up back after a restart.
    pub restored: Option<Restored>,
}

/// A wrap-up brought back after a restart ([`crate::recovery`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Restored {
    /// The record goes back to the list then if the outcome is not in (before the
    /// store's hold ends).
    pub expires_at: DateTime<Utc>,
    /// The agent has been told (and put in after-call work).
    pub announced: bool,
}

/// What the agent does once a close is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum After {
    /// Back to Ready for the next record.
    Ready,
    /// The agent let the preview expire: like an ACD offer not answered.
    Rona,
    /// The agent is gone.
    LoggedOut,
}

/// A record release being written.
#[derive(Debug, Clone)]
pub(super) struct Closing {
    /// The state to return to if the write fails.
    pub back: Box<State>,
    pub record: RecordId,
    pub next: NextStatus,
    pub after: After,
}

#[derive(Debug, Clone, Default)]
pub(super) enum State {
    #[default]
    Idle,
    /// A lease was asked of the store: `pull` names the campaign the agent asked for;
    /// `cancelled` when the agent left meanwhile.
    Leasing {
        pull: Option<CampaignId>,
        cancelled: bool,
    },
    Previewing(Previewing),
    Starting(Starting),
    Dialling(OnCall),
    Connected(OnCall),
    Wrapup(Wrapup),
    Closing(Closing),
}

impl State {
    pub fn name(&self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Leasing { .. } => "leasing",
            State::Previewing(_) => "previewing",
            State::Starting(_) => "starting",
            State::Dialling(_) => "dialling",
            State::Connected(_) => "connected",
            State::Wrapup(_) => "wrapup",
            State::Closing(_) => "closing",
        }
    }

    /// The record the agent holds in this state.
    pub fn preview(&self) -> Option<&Previewing> {
        match self {
            State::Previewing(p) => Some(p),
            State::Starting(s) => Some(&s.preview),
            State::Dialling(c) | State::Connected(c) => Some(&c.preview),
            State::Wrapup(w) => Some(&w.call.preview),
            State::Closing(c) => c.back.preview(),
            State::Idle | State::Leasing { .. } => None,
        }
    }
}

/// One agent known to the flow.
#[derive(Debug, Default)]
pub(super) struct Agent {
    /// Queues the agent serves (from the ACD); empty when unknown (pull only).
    pub queues: Vec<String>,
    /// Ready in the ACD: records are pushed.
    pub ready: bool,
    pub state: State,
    /// After a push found nothing: when to ask again.
    pub retry_at: Option<DateTime<Utc>>,
    /// Rotates the order campaigns are tried in, so one campaign does not starve others.
    pub rotation: usize,
    /// The deadline registered in the flow's timer set.
    pub timer: Option<DateTime<Utc>>,
    /// What start-up recovery has to tell the agent when next seen (their login).
    pub notices: Vec<Notification>,
}

impl Agent {
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        match &self.state {
            State::Previewing(p) => Some(p.deadline()),
            State::Wrapup(w) => w.restored.map(|r| r.expires_at),
            State::Idle if self.ready => self.retry_at,
            _ => None,
        }
    }
}
