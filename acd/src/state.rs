//! Agent states and the record of a state change.

use crate::id::AgentId;
use serde::{Deserialize, Serialize};

/// Where an agent is. Serialized as `{"state":"not_ready","reason":"lunch"}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AgentState {
    LoggedOut,
    NotReady {
        reason: String,
    },
    Ready,
    /// At least one offer is ringing the agent and nothing is active yet.
    Reserved,
    /// At least one interaction is active.
    Busy,
    /// Wrap-up after the last interaction ended.
    AfterCallWork,
    /// Redirected On No Answer: the agent missed or rejected an offer and receives nothing
    /// until they choose a state.
    Rona,
}

impl AgentState {
    pub fn kind(&self) -> StateKind {
        match self {
            AgentState::LoggedOut => StateKind::LoggedOut,
            AgentState::NotReady { .. } => StateKind::NotReady,
            AgentState::Ready => StateKind::Ready,
            AgentState::Reserved => StateKind::Reserved,
            AgentState::Busy => StateKind::Busy,
            AgentState::AfterCallWork => StateKind::AfterCallWork,
            AgentState::Rona => StateKind::Rona,
        }
    }

    pub fn is_logged_in(&self) -> bool {
        !matches!(self, AgentState::LoggedOut)
    }

    pub fn not_ready(reason: impl Into<String>) -> Self {
        AgentState::NotReady {
            reason: reason.into(),
        }
    }
}

/// The state without its data, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    LoggedOut,
    NotReady,
    Ready,
    Reserved,
    Busy,
    AfterCallWork,
    Rona,
}

/// A state the agent (or a supervisor) may ask for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RequestedState {
    Ready,
    NotReady { reason: String },
}

impl RequestedState {
    pub fn not_ready(reason: impl Into<String>) -> Self {
        RequestedState::NotReady {
            reason: reason.into(),
        }
    }

    pub(crate) fn into_state(self) -> AgentState {
        match self {
            RequestedState::Ready => AgentState::Ready,
            RequestedState::NotReady { reason } => AgentState::NotReady { reason },
        }
    }
}

/// Why a state changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    Login,
    Logout,
    /// `AgentState` from the agent or a supervisor.
    AgentRequest,
    /// The engine offered an interaction.
    Offered,
    OfferAccepted,
    /// The offer rang for the queue's offer timeout (RONA).
    OfferTimeout,
    /// The agent's phone rejected the offer (486/603).
    OfferRejected,
    /// The offer was withdrawn: answered elsewhere or abandoned by the caller.
    OfferCancelled,
    InteractionEnded,
    /// A fixed wrap-up ran out.
    WrapUpTimer,
    WrapUpDone,
    /// Work outside the ACD's routing (preview dialer).
    External,
}

/// One state change, ready to persist: wall-clock milliseconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    pub agent: AgentId,
    pub from: AgentState,
    pub to: AgentState,
    pub at_ms: u64,
    pub cause: Cause,
}
