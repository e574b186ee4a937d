//! A queue as the engine holds it: its configuration, the ordered set of agents available
//! to it and the ordered set of interactions waiting in it.
//!
//! Both sets are `BTreeSet`s keyed so that the first element of a channel's range is the
//! next one to serve; routing never scans the agent population:
//!
//! - available: `(channel, load, strategy key, agent)`. Idle agents are at load 0, ahead of
//!   agents who have spare capacity on a multi-session channel (fewest sessions first).
//!   An idle agent has one entry per channel they have capacity for.
//! - waiting: `(channel, Reverse(priority), arrival sequence, id)`: highest priority first,
//!   then first come. An interaction that comes back after RONA keeps its sequence number,
//!   so it regains its place and its waiting time.

use crate::agent::{AgentIx, Membership};
use crate::config::{QueueConfig, Strategy};
use crate::id::{Channel, InteractionId};
use crate::skill::SkillSet;
use crate::stats::QueueCounters;
use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::ops::RangeInclusive;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct QueueIx(pub u32);

impl QueueIx {
    pub fn slot(self) -> usize {
        self.0 as usize
    }
}

/// A strategy's sort key: (major, minor), smaller first. Two `u64`s rather than a `u128`
/// keep the set's entries at 24 bytes.
pub(crate) type SortKey = (u64, u64);
pub(crate) type AvailKey = (Channel, u8, SortKey, AgentIx);
/// Channel, priority, then (arrival in nanoseconds since the engine's epoch, arrival
/// sequence), then the id.
pub(crate) type WaitKey = (Channel, Reverse<u32>, (u64, u64), InteractionId);

pub(crate) struct Queue {
    pub config: QueueConfig,
    /// Removed by configuration; the slot is kept for a later queue with the same DN.
    pub deleted: bool,
    pub required: SkillSet,
    pub available: BTreeSet<AvailKey>,
    pub waiting: BTreeSet<WaitKey>,
    pub members: Vec<AgentIx>,
    pub next_rank: u64,
    /// Round-robin memory: the rank of the last agent offered to.
    pub rr_last: Option<u64>,
    /// Interactions (waiting, ringing or active) that belong to this queue.
    pub live: u32,
    pub counters: QueueCounters,
}

impl Queue {
    pub fn new(config: QueueConfig, required: SkillSet) -> Self {
        Queue {
            config,
            deleted: false,
            required,
            available: BTreeSet::new(),
            waiting: BTreeSet::new(),
            members: Vec::new(),
            next_rank: 0,
            rr_last: None,
            live: 0,
            counters: QueueCounters::default(),
        }
    }

    /// Available entries of channel `c`, best first. A range with an unbounded end costs one
    /// descent of the tree instead of two.
    pub fn available_for(&self, c: Channel) -> impl Iterator<Item = &AvailKey> {
        let start = *avail_range(c).start();
        self.available.range(start..).take_while(move |k| k.0 == c)
    }

    /// Waiting interactions of channel `c`, next first.
    pub fn waiting_for(&self, c: Channel) -> impl Iterator<Item = &WaitKey> {
        let start = *wait_range(c).start();
        self.waiting.range(start..).take_while(move |k| k.0 == c)
    }

    /// The strategy's sort key for a member who became idle `idle_ns` after the epoch;
    /// smaller is served first.
    pub fn key(&self, idle_ns: u64, m: &Membership) -> SortKey {
        match self.config.strategy {
            Strategy::LongestIdle | Strategy::RingAll => (0, idle_ns),
            Strategy::RoundRobin => (0, m.rank),
            Strategy::FewestHandled => (m.handled, idle_ns),
            Strategy::BestSkill => (u64::from(u32::MAX - m.level), idle_ns),
        }
    }
}

/// Every available-set entry of channel `c`.
pub(crate) fn avail_range(c: Channel) -> RangeInclusive<AvailKey> {
    (c, 0, (0, 0), AgentIx::MIN)..=(c, u8::MAX, (u64::MAX, u64::MAX), AgentIx::MAX)
}

/// Available-set entries of channel `c` at `load` with keys in `from..=to`.
pub(crate) fn avail_keys(
    c: Channel,
    load: u8,
    from: SortKey,
    to: SortKey,
) -> RangeInclusive<AvailKey> {
    (c, load, from, AgentIx::MIN)..=(c, load, to, AgentIx::MAX)
}

/// Every waiting entry of channel `c`.
pub(crate) fn wait_range(c: Channel) -> RangeInclusive<WaitKey> {
    (c, Reverse(u32::MAX), (0, 0), InteractionId(0))
        ..=(c, Reverse(0), (u64::MAX, u64::MAX), InteractionId(u64::MAX))
}
