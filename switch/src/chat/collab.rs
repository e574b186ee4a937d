//! Two agents on one chat: a transfer (to a queue, or to an agent who must accept) and a
//! three-way conference. The rules of the seeds: the first agent starts and ends the
//! conference and alone applies wrap-up; the second agent (the guest) may leave and the
//! chat goes on; when the customer leaves the interaction ends for everyone. Each agent's
//! part is its own ACD interaction (a "leg"), so capacity and states stay the ACD's.

use super::error::ChatError;
use super::room::{Phase, Room};
use acd::AgentId;
use serde::Serialize;

/// What the first agent asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Transfer,
    Conference,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Transfer => "transfer",
            Kind::Conference => "conference",
        }
    }
}

/// Where the chat (or the invitation) goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Agent(AgentId),
    Queue(acd::Dn),
}

/// A transfer to an agent or a conference invitation, offered and not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invite {
    pub kind: Kind,
    /// The ACD interaction offered to the target.
    pub leg: u64,
    pub from: AgentId,
    pub from_name: String,
    pub target: Target,
    /// The agent it rings now.
    pub offered: Option<AgentId>,
    /// The target declined (rather than let it time out).
    pub declined: bool,
}

/// The second agent of a conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    pub agent: AgentId,
    pub name: String,
    pub leg: u64,
}

/// Who an agent is in a chat they write in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party<'a> {
    Owner(&'a str),
    Guest(&'a str),
}

impl Party<'_> {
    pub fn name(&self) -> &str {
        match self {
            Party::Owner(n) | Party::Guest(n) => n,
        }
    }
}

impl Room {
    /// Whether `agent` transferred this chat away and still owes its wrap-up.
    pub fn owes(&self, agent: &AgentId) -> bool {
        self.owed.iter().any(|(a, _)| a == agent)
    }

    /// `agent` as a writer of the active chat: its owner or its conference guest.
    pub fn party(&self, agent: &AgentId) -> Result<Party<'_>, ChatError> {
        if let Some(g) = self.guest.as_ref().filter(|g| &g.agent == agent) {
            return Ok(Party::Guest(&g.name));
        }
        self.active_for(agent).map(Party::Owner)
    }

    /// Whether the owner `agent` may now transfer the chat or invite to a conference, to
    /// `target`.
    pub fn check_invite(
        &self,
        agent: &AgentId,
        kind: Kind,
        target: &Target,
    ) -> Result<(), ChatError> {
        match self.party(agent)? {
            Party::Guest(_) => return Err(ChatError::GuestOnly),
            Party::Owner(_) => {}
        }
        if self.invite.is_some() {
            return Err(ChatError::InviteInFlight);
        }
        if self.guest.is_some() {
            return Err(ChatError::InConference);
        }
        if matches!(target, Target::Agent(a) if a == agent) {
            return Err(ChatError::SelfTarget);
        }
        let _ = kind;
        Ok(())
    }

    /// The invitation `agent` is offered now, if any.
    pub fn invite_offered_to(&self, agent: &AgentId) -> Option<&Invite> {
        self.invite
            .as_ref()
            .filter(|i| i.offered.as_ref() == Some(agent))
    }

    /// Whether only the owner may end it: a guest gets `GuestOnly`.
    pub fn check_end(&self, agent: &AgentId) -> Result<&str, ChatError> {
        match self.party(agent)? {
            Party::Owner(n) => Ok(n),
            Party::Guest(_) => Err(ChatError::GuestOnly),
        }
    }

    /// The guest `agent` leaves; their leg.
    pub fn guest_leaves(&mut self, agent: &AgentId) -> Result<Guest, ChatError> {
        match &self.guest {
            Some(g) if &g.agent == agent => self.guest.take().ok_or(ChatError::NotAGuest),
            _ => Err(ChatError::NotAGuest),
        }
    }

    /// The chat is done with: ended, its owner wrapped up, nobody owes a wrap-up.
    pub fn done(&self) -> bool {
        matches!(self.phase, Phase::Ended { agent: None }) && self.owed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active() -> (Room, AgentId, AgentId) {
        let alice = AgentId::new("alice");
        let bob = AgentId::new("bob");
        let mut r = Room::new(1, "8000".into(), "Sales".into(), "Ann".into(), 0);
        r.offered(alice.clone());
        r.accepted(alice.clone(), "Alice".into());
        (r, alice, bob)
    }

    #[test]
    fn only_the_owner_invites_once_and_not_themselves() {
        let (mut r, alice, bob) = active();
        let to_bob = Target::Agent(bob.clone());
        assert_eq!(
            r.check_invite(&alice, Kind::Transfer, &Target::Agent(alice.clone())),
            Err(ChatError::SelfTarget)
        );
        assert_eq!(
            r.check_invite(&bob, Kind::Transfer, &to_bob),
            Err(ChatError::NotYours)
        );
        assert_eq!(r.check_invite(&alice, Kind::Transfer, &to_bob), Ok(()));
        r.invite = Some(Invite {
            kind: Kind::Transfer,
            leg: 2,
            from: alice.clone(),
            from_name: "Alice".into(),
            target: to_bob.clone(),
            offered: Some(bob.clone()),
            declined: false,
        });
        assert_eq!(r.invite_offered_to(&bob).map(|i| i.leg), Some(2));
        assert_eq!(r.invite_offered_to(&alice), None);
        assert_eq!(
            r.check_invite(&alice, Kind::Conference, &Target::Queue("8000".into())),
            Err(ChatError::InviteInFlight)
        );
    }

    #[test]
    fn a_guest_writes_and_leaves_but_never_ends_or_invites() {
        let (mut r, alice, bob) = active();
        r.guest = Some(Guest {
            agent: bob.clone(),
            name: "Bob".into(),
            leg: 2,
        });
        assert_eq!(r.party(&bob), Ok(Party::Guest("Bob")));
        assert_eq!(r.party(&alice), Ok(Party::Owner("Alice")));
        assert_eq!(r.check_end(&bob), Err(ChatError::GuestOnly));
        assert_eq!(r.check_end(&alice), Ok("Alice"));
        assert_eq!(
            r.check_invite(&bob, Kind::Transfer, &Target::Queue("8000".into())),
            Err(ChatError::GuestOnly)
        );
        assert_eq!(
            r.check_invite(&alice, Kind::Transfer, &Target::Queue("8000".into())),
            Err(ChatError::InConference)
        );
        assert_eq!(r.check_wrap_up(&bob), Err(ChatError::NotYours));
        assert_eq!(r.guest_leaves(&alice), Err(ChatError::NotAGuest));
        assert_eq!(r.guest_leaves(&bob).map(|g| g.leg), Ok(2));
        assert_eq!(r.party(&bob), Err(ChatError::NotYours));
        assert_eq!(r.party(&alice), Ok(Party::Owner("Alice")));
    }

    #[test]
    fn a_transferring_agent_owes_the_wrap_up_until_submitted() {
        let (mut r, alice, bob) = active();
        r.owed.push((alice.clone(), "8000".into()));
        r.accepted(bob.clone(), "Bob".into());
        assert_eq!(r.check_wrap_up(&alice), Ok(()));
        assert_eq!(r.check_wrap_up(&bob), Err(ChatError::NotEnded));
        assert_eq!(r.end(), Some(bob.clone()));
        assert!(!r.done());
        r.phase = Phase::Ended { agent: None };
        assert!(!r.done(), "alice still owes hers");
        r.owed.clear();
        assert!(r.done());
    }
}
