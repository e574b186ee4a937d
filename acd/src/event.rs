//! Inputs from the switch.

use crate::config::Skills;
use crate::id::{AgentId, Channel, Dn, InteractionId};
use crate::state::RequestedState;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The agent logs in, starting in `initial` (desktops usually log in NotReady).
    AgentLogin {
        agent: AgentId,
        initial: RequestedState,
    },
    /// The agent (or a supervisor) chooses Ready or NotReady. From AfterCallWork this ends
    /// wrap-up; while Busy it takes effect when the work is done; while Reserved a NotReady
    /// withdraws the ringing offers.
    AgentState {
        agent: AgentId,
        state: RequestedState,
    },
    /// Ringing offers are withdrawn (their interactions go back to their queue); active
    /// interactions stay with the switch and end without wrap-up.
    AgentLogout {
        agent: AgentId,
    },
    InteractionArrived(Arrival),
    /// A new interaction of `arrival.queue` offered to `agent` only (a transfer to an agent,
    /// a conference invitation), whatever their queues, if they can take it now
    /// (else `Unavailable`). Declined or timed out, the engine forgets it and emits
    /// `DirectOfferFailed`; the switch decides where it goes then.
    DirectArrival {
        arrival: Arrival,
        agent: AgentId,
    },
    /// The agent answered (voice: their phone sent 200 OK).
    OfferAccepted {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The agent's endpoint refused (486/603): the agent goes to Rona as on a timeout.
    OfferRejected {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The interaction is over. Waiting or ringing: the caller abandoned. Active: the agent's
    /// work ends and wrap-up starts.
    InteractionEnded {
        interaction: InteractionId,
    },
    /// The agent finished after-call work (manual wrap-up, or ending a fixed one early).
    WrapUpDone {
        agent: AgentId,
    },
    /// Work outside the ACD's routing (a preview-dialer record and its call) moves the
    /// agent: Reserved (from Ready) while previewing, Busy on the call, AfterCallWork until
    /// the outcome, then Done (Ready, or the state asked for meanwhile) or Missed (Rona).
    ExternalWork {
        agent: AgentId,
        work: ExternalWork,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalWork {
    Reserved,
    Busy,
    AfterCallWork,
    Done,
    Missed,
}

/// A new interaction for a queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Arrival {
    pub id: InteractionId,
    pub queue: Dn,
    pub channel: Channel,
    /// Higher is served first; equal priorities are served in arrival order.
    #[serde(default)]
    pub priority: u32,
    #[serde(default)]
    pub caller: CallerInfo,
    /// Skills needed on top of the queue's own requirements.
    #[serde(default)]
    pub skills: Skills,
    /// How long it already waited in the contact centre before this arrival (one
    /// transferred from another queue or agent); the queue's
    /// [`TransferArrival`](crate::config::TransferArrival) says whether it keeps its
    /// place by that first arrival.
    #[serde(default)]
    pub waited_ms: u64,
}

impl Arrival {
    pub fn new(id: u64, queue: impl Into<Dn>, channel: Channel) -> Self {
        Arrival {
            id: InteractionId(id),
            queue: queue.into(),
            channel,
            priority: 0,
            caller: CallerInfo::default(),
            skills: Skills::new(),
            waited_ms: 0,
        }
    }
}

/// Who is waiting, for supervisor views. The engine stores it and does not interpret it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerInfo {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub name: String,
}
