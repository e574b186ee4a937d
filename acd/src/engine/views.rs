//! Read-only queries: configuration, agent and interaction views, statistics.

use super::Engine;
use crate::config::{AgentConfig, QueueConfig};
use crate::event::CallerInfo;
use crate::id::{AgentId, Channel, Dn, InteractionId};
use crate::interaction::Status;
use crate::queue::wait_range;
use crate::skill::SkillSet;
use crate::state::{AgentState, StateKind};
use crate::stats::{ms, AgentCounts, AgentStats, QueueStats};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// An agent as a desktop or supervisor sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: AgentId,
    pub name: String,
    pub extension: String,
    pub state: AgentState,
    pub state_since_ms: u64,
    /// The state the agent takes once the work in hand is done, if not Ready.
    pub pending: Option<AgentState>,
    pub offers: Vec<InteractionId>,
    pub interactions: Vec<InteractionId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionView {
    pub id: InteractionId,
    pub queue: Dn,
    pub channel: Channel,
    pub priority: u32,
    pub caller: CallerInfo,
    pub status: InteractionStatus,
    pub arrived_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum InteractionStatus {
    Waiting {
        position: usize,
    },
    Offered {
        agents: Vec<AgentId>,
    },
    /// `agent` is `None` if the agent logged out with it.
    Active {
        agent: Option<AgentId>,
    },
}

impl Engine {
    pub fn agent_config(&self, id: &AgentId) -> Option<&AgentConfig> {
        let a = self.agent_ix(id).ok()?;
        Some(&self.agent(a).config)
    }

    pub fn queue_config(&self, dn: &Dn) -> Option<&QueueConfig> {
        let q = self.queue_ix(dn).ok()?;
        Some(&self.queue(q).config)
    }

    pub fn agent_configs(&self) -> impl Iterator<Item = &AgentConfig> {
        self.agents.iter().filter(|a| !a.deleted).map(|a| &a.config)
    }

    pub fn queue_configs(&self) -> impl Iterator<Item = &QueueConfig> {
        self.queues.iter().filter(|q| !q.deleted).map(|q| &q.config)
    }

    pub fn agent_state(&self, id: &AgentId) -> Option<&AgentState> {
        let a = self.agent_ix(id).ok()?;
        Some(&self.agent(a).state)
    }

    pub fn agent_view(&self, id: &AgentId) -> Option<AgentView> {
        let a = self.agent(self.agent_ix(id).ok()?);
        Some(AgentView {
            id: a.config.id.clone(),
            name: a.config.name.clone(),
            extension: a.config.extension.clone(),
            state: a.state.clone(),
            state_since_ms: self.wall_ms(a.state_since),
            pending: a.pending.clone(),
            offers: a.offers.clone(),
            interactions: a.active.clone(),
        })
    }

    pub fn interaction_view(&self, id: InteractionId) -> Option<InteractionView> {
        let it = self.interactions.get(&id)?;
        let name = |a: crate::agent::AgentIx| self.agent(a).config.id.clone();
        let status = match it.status {
            Status::Waiting => InteractionStatus::Waiting {
                position: self.position(id).unwrap_or(0),
            },
            Status::Ringing => InteractionStatus::Offered {
                agents: it.ringing.iter().map(|a| name(*a)).collect(),
            },
            Status::Active(a) => InteractionStatus::Active { agent: a.map(name) },
        };
        Some(InteractionView {
            id,
            queue: self.queue(it.queue).config.dn.clone(),
            channel: it.channel,
            priority: it.priority,
            caller: it.caller.clone(),
            status,
            arrived_ms: self.wall_ms(it.arrived),
        })
    }

    /// Place of a waiting interaction among its queue's interactions of its channel (1 =
    /// next). O(position).
    pub fn position(&self, id: InteractionId) -> Option<usize> {
        let it = self.interactions.get(&id)?;
        if it.status != Status::Waiting {
            return None;
        }
        let start = *wait_range(it.channel).start();
        Some(
            self.queue(it.queue)
                .waiting
                .range(start..=it.wait_key())
                .count(),
        )
    }

    /// The agent the queue would offer an interaction of `channel` to now (the first, for
    /// ring-all), without reserving anyone: a routing decision with no side effect, e.g. for
    /// a dialplan that sends callers elsewhere when nobody is available.
    pub fn best_agent(&self, dn: &Dn, channel: Channel) -> Option<&AgentId> {
        let q = self.queue_ix(dn).ok()?;
        let a = match self.choose(q, channel, &SkillSet::default()) {
            super::routing::Choice::Nobody => return None,
            super::routing::Choice::One(a) => a,
            super::routing::Choice::All(v) => *v.first()?,
        };
        Some(&self.agent(a).config.id)
    }

    /// Queue figures at `now`. O(members + waiting).
    pub fn queue_stats(&self, now: Instant, dn: &Dn) -> Option<QueueStats> {
        let q = self.queue_ix(dn).ok()?;
        let queue = self.queue(q);
        let c = &queue.counters;
        let mut agents = AgentCounts::default();
        let mut available = 0;
        for a in &queue.members {
            let agent = self.agent(*a);
            agents.count(agent.state.kind());
            if agent.membership(q).is_some_and(|m| m.placed.is_some()) {
                available += 1;
            }
        }
        let oldest = queue
            .waiting
            .iter()
            .filter_map(|k| self.interactions.get(&k.3))
            .map(|it| it.arrived)
            .min();
        let settled = c.answered + c.abandoned;
        Some(QueueStats {
            dn: queue.config.dn.clone(),
            name: queue.config.name.clone(),
            waiting: queue.waiting.len(),
            longest_wait_ms: oldest.map_or(0, |t| ms(now.saturating_duration_since(t))),
            offered: c.offered,
            answered: c.answered,
            abandoned: c.abandoned,
            overflowed: c.overflowed,
            rejected_full: c.rejected_full,
            rona: c.rona,
            average_speed_of_answer_ms: ms(c.answer_wait).checked_div(c.answered).unwrap_or(0),
            service_level_secs: queue.config.service_level_secs,
            answered_within_service_level: c.answered_in_sl,
            service_level_pct: (settled > 0)
                .then(|| 100.0 * c.answered_in_sl as f64 / settled as f64),
            agents,
            available,
        })
    }

    /// Agent figures at `now`, including the time in the current state.
    pub fn agent_stats(&self, now: Instant, id: &AgentId) -> Option<AgentStats> {
        let a = self.agent(self.agent_ix(id).ok()?);
        let mut times = a.times.clone();
        times.add(a.state.kind(), now.saturating_duration_since(a.state_since));
        Some(AgentStats {
            agent: a.config.id.clone(),
            state: a.state.clone(),
            state_since_ms: self.wall_ms(a.state_since),
            handled: a.handled,
            talk_ms: ms(times.get(StateKind::Busy)),
            after_call_work_ms: ms(times.get(StateKind::AfterCallWork)),
            not_ready_ms: ms(times.get(StateKind::NotReady)),
            ready_ms: ms(times.get(StateKind::Ready)),
            reserved_ms: ms(times.get(StateKind::Reserved)),
            rona_ms: ms(times.get(StateKind::Rona)),
        })
    }
}
