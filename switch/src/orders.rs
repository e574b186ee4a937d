//! Messages between the distributor and the shards' call engines (a leaf module: both
//! import it, it imports neither).

use acd::{AgentId, Dn};
use serde::Serialize;

/// What the distributor tells the shard holding an interaction to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdOrder {
    /// Ring `agent` (at the SIP user `extension`) for this interaction.
    Offer {
        interaction: u64,
        agent: AgentId,
        extension: String,
        queue: Dn,
        queue_name: String,
        /// Record the call from the agent's answer (the queue's `record_percent`).
        record: bool,
    },
    /// Stop ringing `agent`.
    CancelOffer { interaction: u64, agent: AgentId },
    /// Take the interaction elsewhere: `target` goes through the dialplan again.
    Overflow { interaction: u64, target: Dn },
    /// The queue is full: the caller gets busy.
    QueueFull { interaction: u64 },
    /// Where the interaction waits, and the expected wait, for announcements.
    Queued {
        interaction: u64,
        position: usize,
        expected_wait_secs: Option<u64>,
    },
    /// The answer to a feature code dialled from `call` (a shard-local call id).
    FeatureDone { call: u64, outcome: FeatureOutcome },
}

impl AcdOrder {
    /// The shard an order is for: interactions name theirs in their low 8 bits.
    pub fn interaction(&self) -> Option<u64> {
        match self {
            AcdOrder::Offer { interaction, .. }
            | AcdOrder::CancelOffer { interaction, .. }
            | AcdOrder::Overflow { interaction, .. }
            | AcdOrder::QueueFull { interaction }
            | AcdOrder::Queued { interaction, .. } => Some(*interaction),
            AcdOrder::FeatureDone { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureOutcome {
    Ready,
    NotReady,
    LoggedOut,
    /// The caller is no agent, or the change was refused.
    Refused,
}

/// A feature code an agent dials from the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Ready,
    NotReady,
    Logout,
}

/// The shard that holds an interaction (its id's low 8 bits, see
/// [`interaction_id`]).
pub fn shard_of_interaction(interaction: u64) -> usize {
    (interaction & 0xff) as usize
}

/// An interaction id made by shard `shard` from its own counter: unique across the node
/// without anything shared, since the shard is in the low 8 bits.
pub fn interaction_id(shard: u8, n: u64) -> u64 {
    (n << 8) | u64::from(shard)
}
