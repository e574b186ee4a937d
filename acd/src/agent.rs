//! An agent as the engine holds it: configuration, state, the work in hand, and where the
//! agent sits in each of its queues' sets of available agents.

use crate::config::AgentConfig;
use crate::id::{Channel, ChannelMask, InteractionId};
use crate::queue::QueueIx;
use crate::skill::SkillSet;
use crate::state::AgentState;
use crate::stats::StateTimes;
use std::time::Instant;

/// Dense index of an agent slot. Slots are never reused for another id, so an index stays
/// meaningful inside timers and sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct AgentIx(pub u32);

impl AgentIx {
    pub const MIN: AgentIx = AgentIx(0);
    pub const MAX: AgentIx = AgentIx(u32::MAX);

    pub fn slot(self) -> usize {
        self.0 as usize
    }
}

pub(crate) struct Agent {
    pub config: AgentConfig,
    /// Removed by configuration; the slot is kept for a later agent with the same id.
    pub deleted: bool,
    pub skills: SkillSet,
    pub state: AgentState,
    pub state_since: Instant,
    /// When the agent last became Ready after work or a pause (not after a withdrawn
    /// offer), in nanoseconds since the engine's epoch: the longest-idle key.
    pub idle_ns: u64,
    /// The state to take instead of Ready once the current work (and wrap-up) is done:
    /// NotReady asked for while Busy, or Rona after missing an offer while Busy.
    pub pending: Option<AgentState>,
    /// Interactions ringing this agent.
    pub offers: Vec<InteractionId>,
    /// Interactions the agent accepted that have not ended.
    pub active: Vec<InteractionId>,
    /// The channel of the work in hand (channels do not mix); `None` when there is none.
    pub channel: Option<Channel>,
    /// Generation of the current wrap-up, matched by its timer.
    pub wrap_gen: u64,
    /// Wrap-ups of queues with `wrap_up_required` still to submit: Ready is refused until 0.
    pub wraps_owed: u32,
    pub memberships: Vec<Membership>,
    /// False only when no membership is placed: lets a sync with nothing to remove stop early.
    pub any_placed: bool,
    pub times: StateTimes,
    pub handled: u64,
}

impl Agent {
    pub fn new(config: AgentConfig, skills: SkillSet, now: Instant) -> Self {
        Agent {
            config,
            deleted: false,
            skills,
            state: AgentState::LoggedOut,
            state_since: now,
            idle_ns: 0,
            pending: None,
            offers: Vec::new(),
            active: Vec::new(),
            channel: None,
            wrap_gen: 0,
            wraps_owed: 0,
            memberships: Vec::new(),
            any_placed: false,
            times: StateTimes::default(),
            handled: 0,
        }
    }

    pub fn load(&self) -> usize {
        self.offers.len() + self.active.len()
    }

    pub fn has_work(&self) -> bool {
        !self.offers.is_empty() || !self.active.is_empty()
    }

    /// Forgets the work channel once nothing is in hand.
    pub fn clear_channel_if_idle(&mut self) {
        if !self.has_work() {
            self.channel = None;
        }
    }

    /// For which channels, and at which load, the agent can take a new offer now.
    ///
    /// Ready: every channel with capacity, at load 0. Reserved or Busy on channel `c`: `c`
    /// only, while below `c`'s capacity and no state is pending. Otherwise nothing.
    pub fn availability(&self) -> Option<(ChannelMask, u8)> {
        let cap = &self.config.capacity;
        match self.state {
            AgentState::Ready if !self.has_work() => {
                let mut mask = ChannelMask::default();
                for c in Channel::ALL {
                    if cap.of(c) > 0 {
                        mask.0 |= c.bit();
                    }
                }
                (!mask.is_empty()).then_some((mask, 0))
            }
            AgentState::Reserved | AgentState::Busy if self.pending.is_none() => {
                let c = self.channel?;
                let load = u8::try_from(self.load()).unwrap_or(u8::MAX);
                (load < cap.of(c)).then_some((ChannelMask::single(c), load))
            }
            _ => None,
        }
    }

    pub fn membership(&self, q: QueueIx) -> Option<&Membership> {
        self.memberships.iter().find(|m| m.queue == q)
    }

    pub fn membership_mut(&mut self, q: QueueIx) -> Option<&mut Membership> {
        self.memberships.iter_mut().find(|m| m.queue == q)
    }
}

/// The agent's standing in one queue.
pub(crate) struct Membership {
    pub queue: QueueIx,
    /// Order of joining the queue: the round-robin order.
    pub rank: u64,
    /// Sum of levels in the queue's required skills: the best-skill order.
    pub level: u32,
    /// Interactions of this queue the agent accepted: the fewest-handled order.
    pub handled: u64,
    /// Whether the agent meets the queue's required skills.
    pub eligible: bool,
    /// The entries this agent has in the queue's available set, exactly as inserted.
    pub placed: Option<Placement>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    pub mask: ChannelMask,
    pub load: u8,
    pub key: crate::queue::SortKey,
}
