//! An interaction as the engine holds it between arrival and its end (or overflow).

use crate::agent::AgentIx;
use crate::event::CallerInfo;
use crate::id::{Channel, Dn, InteractionId};
use crate::queue::{QueueIx, WaitKey};
use crate::skill::SkillSet;
use std::cmp::Reverse;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// In its queue's waiting set.
    Waiting,
    /// Offered to the agents in `ringing`; not in the waiting set.
    Ringing,
    /// Accepted; `None` once the agent logged out with it.
    Active(Option<AgentIx>),
}

pub(crate) struct Interaction {
    pub id: InteractionId,
    pub queue: QueueIx,
    pub channel: Channel,
    pub priority: u32,
    pub caller: CallerInfo,
    /// Requirements on top of the queue's.
    pub skills: SkillSet,
    /// Its arrival (for one transferred in, maybe its first arrival before the transfer).
    pub arrived: Instant,
    /// `arrived` in nanoseconds since the engine's epoch: its place in the queue.
    pub order: u64,
    /// Arrival order, engine-wide; also the generation its max-wait timer names.
    pub seq: u64,
    /// Offer round, matched by its offer timer.
    pub round: u32,
    /// When it overflows, and where to.
    pub max_wait: Option<(Instant, Dn)>,
    pub status: Status,
    pub ringing: Vec<AgentIx>,
    /// Offered to this one agent (a transfer or conference invitation): never waits in the
    /// queue; a failed offer ends it with `DirectOfferFailed`.
    pub direct: bool,
}

impl Interaction {
    pub fn wait_key(&self) -> WaitKey {
        (
            self.channel,
            Reverse(self.priority),
            (self.order, self.seq),
            self.id,
        )
    }
}
