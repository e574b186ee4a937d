//! Outputs for the switch, drained with [`Engine::poll_action`](crate::Engine::poll_action)
//! in the order they happened.

use crate::id::{AgentId, Channel, Dn, InteractionId};
use crate::state::StateChange;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Ring this agent. Ring-all queues emit one per agent; the first `OfferAccepted` wins and
    /// the others get `CancelOffer`.
    Offer {
        interaction: InteractionId,
        agent: AgentId,
        queue: Dn,
        channel: Channel,
    },
    /// Stop ringing this agent.
    CancelOffer {
        interaction: InteractionId,
        agent: AgentId,
        reason: CancelReason,
    },
    /// The interaction waited past its queue's maximum: route it to `target` (the engine has
    /// forgotten it; if the target is another queue, send a new `InteractionArrived`).
    Overflow {
        interaction: InteractionId,
        queue: Dn,
        target: Dn,
    },
    /// The queue is at its maximum size: answer busy. The engine did not keep it.
    QueueFull {
        interaction: InteractionId,
        queue: Dn,
    },
    /// The interaction waits in its queue at `position` (1 = next), counted among interactions
    /// of its channel. Emitted on arrival and again whenever it returns to the queue (RONA).
    InteractionQueued {
        interaction: InteractionId,
        queue: Dn,
        position: usize,
    },
    /// The caller left before an agent answered. The engine has forgotten the interaction.
    InteractionAbandoned {
        interaction: InteractionId,
        queue: Dn,
        waited_ms: u64,
    },
    AgentStateChanged(StateChange),
    /// A direct offer (`Event::DirectArrival`) was declined, timed out or withdrawn. The
    /// engine has forgotten the interaction.
    DirectOfferFailed {
        interaction: InteractionId,
        queue: Dn,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// Another agent accepted first (ring-all).
    AnsweredElsewhere,
    /// The caller hung up.
    Abandoned,
    /// The offer timed out (RONA).
    NoAnswer,
    /// The agent went NotReady while ringing.
    AgentNotReady,
    AgentLoggedOut,
}
