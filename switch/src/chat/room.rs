//! One customer chat as the chat service sees it: who the customer is, which queue, and
//! where it stands with the ACD. Transitions are plain functions, checked without I/O.

use super::collab::{Guest, Invite};
use super::error::ChatError;
use acd::AgentId;

/// Where a chat stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// In its queue (again, after a RONA or a decline).
    Waiting,
    /// Offered to an agent, not yet accepted.
    Offered { agent: AgentId },
    /// An agent accepted it; both sides write.
    Active { agent: AgentId, agent_name: String },
    /// Over; the agent (if there was one) may still submit the wrap-up.
    Ended { agent: Option<AgentId> },
}

/// One chat.
#[derive(Debug, Clone)]
pub struct Room {
    pub id: u64,
    pub queue: acd::Dn,
    pub queue_name: String,
    pub customer: String,
    pub arrived_ms: i64,
    pub phase: Phase,
    /// The ACD interaction of the main agent's part: the chat's id at first, a new one
    /// after each transfer.
    pub leg: u64,
    /// A transfer or conference invitation in flight.
    pub invite: Option<Invite>,
    /// The second agent of a conference.
    pub guest: Option<Guest>,
    /// Agents who transferred the chat away and owe its wrap-up: (agent, their queue).
    pub owed: Vec<(AgentId, acd::Dn)>,
    /// Bytes of the files sent in the chat so far (its budget is
    /// `chat.attachments.max_total_bytes`).
    pub files_bytes: u64,
}

impl Room {
    pub fn new(id: u64, queue: acd::Dn, queue_name: String, customer: String, now_ms: i64) -> Room {
        Room {
            id,
            queue,
            queue_name,
            customer,
            arrived_ms: now_ms,
            phase: Phase::Waiting,
            leg: id,
            invite: None,
            guest: None,
            owed: Vec::new(),
            files_bytes: 0,
        }
    }

    /// The ACD offered the chat to `agent`.
    pub fn offered(&mut self, agent: AgentId) {
        if matches!(self.phase, Phase::Waiting | Phase::Offered { .. }) {
            self.phase = Phase::Offered { agent };
        }
    }

    /// The offer to `agent` was withdrawn (RONA, decline, the agent went away).
    pub fn offer_withdrawn(&mut self, agent: &AgentId) {
        if matches!(&self.phase, Phase::Offered { agent: a } if a == agent) {
            self.phase = Phase::Waiting;
        }
    }

    /// Whether `agent` may accept or decline now.
    pub fn check_offered_to(&self, agent: &AgentId) -> Result<(), ChatError> {
        match &self.phase {
            Phase::Offered { agent: a } if a == agent => Ok(()),
            _ => Err(ChatError::NotOffered),
        }
    }

    pub fn accepted(&mut self, agent: AgentId, agent_name: String) {
        self.phase = Phase::Active { agent, agent_name };
    }

    /// The agent working the chat, if `agent` is it and it is active: their name.
    pub fn active_for(&self, agent: &AgentId) -> Result<&str, ChatError> {
        match &self.phase {
            Phase::Active {
                agent: a,
                agent_name,
            } if a == agent => Ok(agent_name),
            Phase::Active { .. } => Err(ChatError::NotYours),
            _ => Err(ChatError::NotActive),
        }
    }

    /// The chat ends; returns the agent who had it active (they go to wrap-up).
    pub fn end(&mut self) -> Option<AgentId> {
        let agent = match &self.phase {
            Phase::Active { agent, .. } => Some(agent.clone()),
            Phase::Ended { agent } => agent.clone(),
            _ => None,
        };
        self.phase = Phase::Ended {
            agent: agent.clone(),
        };
        agent
    }

    /// Whether `agent` may submit this chat's wrap-up.
    pub fn check_wrap_up(&self, agent: &AgentId) -> Result<(), ChatError> {
        if self.owes(agent) {
            return Ok(());
        }
        match &self.phase {
            Phase::Ended { agent: Some(a) } if a == agent => Ok(()),
            Phase::Ended { .. } => Err(ChatError::NotYours),
            Phase::Active { agent: a, .. } if a == agent => Err(ChatError::NotEnded),
            _ => Err(ChatError::NotYours),
        }
    }

    /// The agent the chat concerns now (offered, active or wrapping up).
    pub fn agent(&self) -> Option<&AgentId> {
        match &self.phase {
            Phase::Offered { agent } | Phase::Active { agent, .. } => Some(agent),
            Phase::Ended { agent } => agent.as_ref(),
            Phase::Waiting => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Room {
        Room::new(1, "8000".into(), "Sales".into(), "Ann".into(), 0)
    }

    #[test]
    fn offer_accept_end_wrap_up() {
        let alice = AgentId::new("alice");
        let bob = AgentId::new("bob");
        let mut r = room();
        assert_eq!(r.check_offered_to(&alice), Err(ChatError::NotOffered));
        r.offered(alice.clone());
        assert_eq!(r.check_offered_to(&bob), Err(ChatError::NotOffered));
        assert_eq!(r.check_offered_to(&alice), Ok(()));
        r.accepted(alice.clone(), "Alice".into());
        assert_eq!(r.active_for(&alice), Ok("Alice"));
        assert_eq!(r.active_for(&bob), Err(ChatError::NotYours));
        assert_eq!(r.check_wrap_up(&alice), Err(ChatError::NotEnded));
        assert_eq!(r.end(), Some(alice.clone()));
        assert_eq!(r.active_for(&alice), Err(ChatError::NotActive));
        assert_eq!(r.check_wrap_up(&alice), Ok(()));
        assert_eq!(r.check_wrap_up(&bob), Err(ChatError::NotYours));
    }

    #[test]
    fn a_withdrawn_offer_puts_the_chat_back_in_the_queue() {
        let alice = AgentId::new("alice");
        let mut r = room();
        r.offered(alice.clone());
        r.offer_withdrawn(&AgentId::new("bob"));
        assert_eq!(r.agent(), Some(&alice));
        r.offer_withdrawn(&alice);
        assert_eq!(r.phase, Phase::Waiting);
        assert_eq!(r.end(), None, "nobody to wrap up");
    }
}
