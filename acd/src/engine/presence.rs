//! Keeping each queue's set of available agents in step with agent state.
//!
//! After anything changes an agent (state, work in hand, skills, memberships, a queue's
//! strategy), the flow calls [`Engine::settle`]: the agent's entries are brought to what its
//! state calls for, and an agent who can take work pulls the best waiting interaction. Cost:
//! O(m · c · log n) for m memberships, c channels with capacity, n agents in a queue; an
//! unchanged entry costs one comparison.

use super::Engine;
use crate::agent::{AgentIx, Placement};
use std::time::Instant;

impl Engine {
    /// Syncs the agent's entries, then lets the agent pull waiting work if it can take some.
    pub(super) fn settle(&mut self, now: Instant, a: AgentIx) {
        self.sync_presence(a);
        if let Some((mask, _)) = self.agent(a).availability() {
            if mask.iter().any(|c| self.waiting[c.index()] > 0) {
                self.pull(now, a);
            }
        }
    }

    /// Puts agent `a` into exactly the available sets its state calls for.
    pub(super) fn sync_presence(&mut self, a: AgentIx) {
        let agent = &mut self.agents[a.slot()];
        let idle_ns = agent.idle_ns;
        let want = if agent.deleted {
            None
        } else {
            agent.availability()
        };
        if want.is_none() && !agent.any_placed {
            return;
        }
        let mut any = false;
        for m in agent.memberships.iter_mut() {
            let q = &mut self.queues[m.queue.slot()];
            let desired = match want {
                Some((mask, load)) if m.eligible && !q.deleted => Some(Placement {
                    mask,
                    load,
                    key: q.key(idle_ns, m),
                }),
                _ => None,
            };
            any |= desired.is_some();
            if desired == m.placed {
                continue;
            }
            if let Some(p) = m.placed.take() {
                for c in p.mask.iter() {
                    q.available.remove(&(c, p.load, p.key, a));
                }
            }
            if let Some(p) = desired {
                for c in p.mask.iter() {
                    q.available.insert((c, p.load, p.key, a));
                }
            }
            m.placed = desired;
        }
        agent.any_placed = any;
    }
}
