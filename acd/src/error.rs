//! What the engine says when an event or a call does not fit its state. None of these leave
//! the engine changed: the event was refused as a whole.

use crate::id::{AgentId, Dn, InteractionId};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    #[error("unknown queue {0}")]
    UnknownQueue(Dn),
    #[error("unknown interaction {0}")]
    UnknownInteraction(InteractionId),
    #[error("interaction {0} is already known")]
    DuplicateInteraction(InteractionId),
    #[error("agent {0} is logged out")]
    NotLoggedIn(AgentId),
    #[error("agent {0} is already logged in")]
    AlreadyLoggedIn(AgentId),
    /// Accept/reject for an offer that is not (or no longer) ringing that agent: it timed out,
    /// was cancelled, or another agent answered first. The switch should release the leg.
    #[error("interaction {interaction} is not offered to agent {agent}")]
    NoSuchOffer {
        interaction: InteractionId,
        agent: AgentId,
    },
    #[error("agent {0} is busy with other work")]
    Busy(AgentId),
    #[error("agent {0} must submit the wrap-up first")]
    WrapUpPending(AgentId),
    #[error("agent {0} cannot take this interaction now")]
    Unavailable(AgentId),
    #[error("agent {0} is not in after-call work")]
    NotInWrapUp(AgentId),
    #[error("queue {dn} still holds {interactions} interaction(s)")]
    QueueNotEmpty { dn: Dn, interactions: u32 },
    #[error("agent {0} must log out first")]
    AgentLoggedIn(AgentId),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A configuration value that cannot be used, naming its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {key}: {reason}")]
pub struct ConfigError {
    pub key: &'static str,
    pub reason: &'static str,
}

impl ConfigError {
    pub(crate) fn new(key: &'static str, reason: &'static str) -> Self {
        ConfigError { key, reason }
    }
}
