//! The engine's deadlines. Cancelled timers are not removed: each timer names the
//! generation of the thing it guards (an offer round, a wrap-up, an interaction's life) and
//! the engine drops it when it comes due and no longer matches. The heap is compacted when
//! stale entries outnumber live ones, so churn cannot grow it without bound.

use crate::agent::AgentIx;
use crate::id::InteractionId;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// The offer round `round` of an interaction rings out: RONA.
    Offer {
        interaction: InteractionId,
        round: u32,
    },
    /// A fixed wrap-up started as generation `gen` ends.
    WrapUp { agent: AgentIx, gen: u64 },
    /// The interaction (with sequence `seq`) has waited its queue's maximum.
    MaxWait {
        interaction: InteractionId,
        seq: u64,
    },
}

#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Timer)>>,
}

impl Timers {
    pub fn schedule(&mut self, at: Instant, timer: Timer) {
        self.heap.push(Reverse((at, timer)));
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn peek(&self) -> Option<(Instant, Timer)> {
        self.heap.peek().map(|Reverse(t)| *t)
    }

    pub fn pop(&mut self) -> Option<(Instant, Timer)> {
        self.heap.pop().map(|Reverse(t)| t)
    }

    /// Keeps only the timers `live` accepts.
    pub fn retain(&mut self, mut live: impl FnMut(&Timer) -> bool) {
        self.heap.retain(|Reverse((_, t))| live(t));
    }
}
