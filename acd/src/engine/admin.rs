//! Creating, changing and removing queues and agents while the engine runs.
//!
//! Changes apply at once to routing (memberships, skills, strategy, capacity) and to new
//! interactions (timeouts, wrap-up mode, maximum wait and size); an interaction already
//! waiting keeps the overflow deadline it arrived with.

use super::Engine;
use crate::agent::{Agent, AgentIx, Membership};
use crate::config::{AgentConfig, QueueConfig};
use crate::error::AcdError;
use crate::id::{AgentId, Dn};
use crate::queue::{Queue, QueueIx};
use crate::state::AgentState;
use std::time::Instant;

impl Engine {
    /// Creates the queue, or changes it if its DN exists. Agents whose configuration names the
    /// DN become its members.
    pub fn upsert_queue(&mut self, now: Instant, config: QueueConfig) -> Result<(), AcdError> {
        config.validate()?;
        let required = self.skills.set(&config.required_skills);
        let q = match self.queue_ix.get(&config.dn).copied() {
            Some(q) if !self.queue(q).deleted => {
                let queue = self.queue_mut(q);
                if queue.config.strategy != config.strategy {
                    queue.rr_last = None;
                }
                queue.config = config;
                queue.required = required;
                for a in queue.members.clone() {
                    self.refresh_membership(a, q);
                }
                q
            }
            Some(q) => {
                self.queues[q.slot()] = Queue::new(config, required);
                q
            }
            None => {
                let q = QueueIx(u32::try_from(self.queues.len()).unwrap_or(u32::MAX));
                self.queue_ix.insert(config.dn.clone(), q);
                self.queues.push(Queue::new(config, required));
                q
            }
        };
        let dn = self.queue(q).config.dn.clone();
        for a in self.wanted.get(&dn).cloned().unwrap_or_default() {
            if self.agent(a).membership(q).is_none() {
                self.link(a, q);
            }
        }
        for a in self.queue(q).members.clone() {
            self.settle(now, a);
        }
        Ok(())
    }

    /// Removes an empty queue (no interaction waiting, ringing or active in it).
    pub fn remove_queue(&mut self, dn: &Dn) -> Result<QueueConfig, AcdError> {
        let q = self.queue_ix(dn)?;
        let live = self.queue(q).live;
        if live > 0 {
            return Err(AcdError::QueueNotEmpty {
                dn: dn.clone(),
                interactions: live,
            });
        }
        for a in std::mem::take(&mut self.queue_mut(q).members) {
            self.unlink(a, q);
        }
        let queue = self.queue_mut(q);
        queue.deleted = true;
        queue.available.clear();
        queue.waiting.clear();
        Ok(queue.config.clone())
    }

    /// Creates the agent (logged out), or changes it if its id exists: skills, memberships
    /// and capacity take effect at once, whatever the agent's state.
    pub fn upsert_agent(&mut self, now: Instant, config: AgentConfig) -> Result<(), AcdError> {
        config.validate()?;
        let skills = self.skills.set(&config.skills);
        let a = match self.agent_ix.get(&config.id).copied() {
            Some(a) if !self.agent(a).deleted => {
                self.unwant(a);
                let agent = self.agent_mut(a);
                agent.config = config;
                agent.skills = skills;
                a
            }
            Some(a) => {
                self.agents[a.slot()] = Agent::new(config, skills, now);
                a
            }
            None => {
                let a = AgentIx(u32::try_from(self.agents.len()).unwrap_or(u32::MAX));
                self.agent_ix.insert(config.id.clone(), a);
                self.agents.push(Agent::new(config, skills, now));
                a
            }
        };
        let dns = self.agent(a).config.queues.clone();
        for dn in &dns {
            let wanted = self.wanted.entry(dn.clone()).or_default();
            if !wanted.contains(&a) {
                wanted.push(a);
            }
        }
        // Leave queues no longer named, refresh the rest, join the new ones.
        let stale: Vec<QueueIx> = self
            .agent(a)
            .memberships
            .iter()
            .map(|m| m.queue)
            .filter(|q| !dns.contains(&self.queue(*q).config.dn))
            .collect();
        for q in stale {
            self.unlink(a, q);
        }
        for q in self
            .agent(a)
            .memberships
            .iter()
            .map(|m| m.queue)
            .collect::<Vec<_>>()
        {
            self.refresh_membership(a, q);
        }
        for dn in &dns {
            if let Ok(q) = self.queue_ix(dn) {
                if self.agent(a).membership(q).is_none() {
                    self.link(a, q);
                }
            }
        }
        self.settle(now, a);
        Ok(())
    }

    /// Removes a logged-out agent.
    pub fn remove_agent(&mut self, id: &AgentId) -> Result<AgentConfig, AcdError> {
        let a = self.agent_ix(id)?;
        if self.agent(a).state != AgentState::LoggedOut {
            return Err(AcdError::AgentLoggedIn(id.clone()));
        }
        self.unwant(a);
        for q in self
            .agent(a)
            .memberships
            .iter()
            .map(|m| m.queue)
            .collect::<Vec<_>>()
        {
            self.unlink(a, q);
        }
        let agent = self.agent_mut(a);
        agent.deleted = true;
        Ok(agent.config.clone())
    }

    /// Makes agent `a` a member of queue `q` (not yet placed: the caller settles).
    fn link(&mut self, a: AgentIx, q: QueueIx) {
        let queue = &mut self.queues[q.slot()];
        let agent = &mut self.agents[a.slot()];
        let rank = queue.next_rank;
        queue.next_rank += 1;
        queue.members.push(a);
        agent.memberships.push(Membership {
            queue: q,
            rank,
            level: agent.skills.level_in(&queue.required),
            handled: 0,
            eligible: agent.skills.satisfies(&queue.required),
            placed: None,
        });
    }

    fn unlink(&mut self, a: AgentIx, q: QueueIx) {
        let queue = &mut self.queues[q.slot()];
        let agent = &mut self.agents[a.slot()];
        if let Some(p) = agent.membership(q).and_then(|m| m.placed) {
            for c in p.mask.iter() {
                queue.available.remove(&(c, p.load, p.key, a));
            }
        }
        agent.memberships.retain(|m| m.queue != q);
        queue.members.retain(|m| *m != a);
    }

    /// Recomputes what membership in `q` depends on (the agent's skills, the queue's
    /// requirements). The next sync re-keys the agent's entries.
    fn refresh_membership(&mut self, a: AgentIx, q: QueueIx) {
        let queue = &self.queues[q.slot()];
        let agent = &mut self.agents[a.slot()];
        let level = agent.skills.level_in(&queue.required);
        let eligible = agent.skills.satisfies(&queue.required);
        if let Some(m) = agent.membership_mut(q) {
            m.level = level;
            m.eligible = eligible;
        }
        self.sync_presence(a);
    }

    /// Forgets which DNs agent `a` named (before its configuration changes).
    fn unwant(&mut self, a: AgentIx) {
        for dn in self.agent(a).config.queues.clone() {
            if let Some(w) = self.wanted.get_mut(&dn) {
                w.retain(|x| *x != a);
                if w.is_empty() {
                    self.wanted.remove(&dn);
                }
            }
        }
    }
}
