//! Statistics: counters the engine keeps as events happen, and the serializable views it
//! builds from them on request.
//!
//! Counters are cumulative since the queue or agent was created; the switch takes
//! differences for intervals.

use crate::id::{AgentId, Dn};
use crate::state::{AgentState, StateKind};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Clone, Debug, Default)]
pub(crate) struct QueueCounters {
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub overflowed: u64,
    pub rejected_full: u64,
    pub rona: u64,
    pub answered_in_sl: u64,
    pub answer_wait: Duration,
}

/// Time an agent spent in each state.
#[derive(Clone, Debug, Default)]
pub(crate) struct StateTimes([Duration; 7]);

impl StateTimes {
    fn slot(kind: StateKind) -> usize {
        match kind {
            StateKind::LoggedOut => 0,
            StateKind::NotReady => 1,
            StateKind::Ready => 2,
            StateKind::Reserved => 3,
            StateKind::Busy => 4,
            StateKind::AfterCallWork => 5,
            StateKind::Rona => 6,
        }
    }

    pub fn add(&mut self, kind: StateKind, d: Duration) {
        if let Some(t) = self.0.get_mut(Self::slot(kind)) {
            *t = t.saturating_add(d);
        }
    }

    pub fn get(&self, kind: StateKind) -> Duration {
        self.0.get(Self::slot(kind)).copied().unwrap_or_default()
    }
}

pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A queue's figures at one moment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueStats {
    pub dn: Dn,
    pub name: String,
    /// Interactions waiting for an agent (not counting those ringing one).
    pub waiting: usize,
    /// How long the oldest waiting interaction has waited (its wait counts from arrival,
    /// through any RONA).
    pub longest_wait_ms: u64,
    /// Interactions the queue took in (not counting `rejected_full`).
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub overflowed: u64,
    /// Turned away because the queue was at its maximum size.
    pub rejected_full: u64,
    /// Offers that rang out or were rejected.
    pub rona: u64,
    /// Average wait of answered interactions, arrival to answer.
    pub average_speed_of_answer_ms: u64,
    pub service_level_secs: u32,
    pub answered_within_service_level: u64,
    /// `answered_within_service_level / (answered + abandoned)` in percent; `None` before
    /// anything was answered or abandoned.
    pub service_level_pct: Option<f64>,
    /// Member agents by state (members lacking the queue's required skills included).
    pub agents: AgentCounts,
    /// Members who can take a new interaction of some channel from this queue now.
    pub available: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCounts {
    pub logged_out: u32,
    pub not_ready: u32,
    pub ready: u32,
    pub reserved: u32,
    pub busy: u32,
    pub after_call_work: u32,
    pub rona: u32,
}

impl AgentCounts {
    pub(crate) fn count(&mut self, kind: StateKind) {
        let n = match kind {
            StateKind::LoggedOut => &mut self.logged_out,
            StateKind::NotReady => &mut self.not_ready,
            StateKind::Ready => &mut self.ready,
            StateKind::Reserved => &mut self.reserved,
            StateKind::Busy => &mut self.busy,
            StateKind::AfterCallWork => &mut self.after_call_work,
            StateKind::Rona => &mut self.rona,
        };
        *n = n.saturating_add(1);
    }
}

/// An agent's figures at one moment; the times include the state the agent is in now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStats {
    pub agent: AgentId,
    pub state: AgentState,
    pub state_since_ms: u64,
    /// Interactions accepted.
    pub handled: u64,
    /// Time Busy (with at least one active interaction).
    pub talk_ms: u64,
    pub after_call_work_ms: u64,
    pub not_ready_ms: u64,
    pub ready_ms: u64,
    pub reserved_ms: u64,
    pub rona_ms: u64,
}
