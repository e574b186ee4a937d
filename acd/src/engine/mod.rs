//! The engine: one value that owns every agent, queue and waiting interaction, driven by
//! the switch in the quinn-proto style.
//!
//! - [`Engine::handle`] feeds one [`Event`] with the time it happened;
//! - [`Engine::handle_timeout`] tells the engine the time passed;
//! - [`Engine::poll_action`] drains the [`Action`]s those produced, in order;
//! - [`Engine::poll_timeout`] says when to call `handle_timeout` next.
//!
//! The engine never reads a clock. It takes `Instant`s for every deadline and duration, and
//! derives the wall-clock milliseconds it records in [`StateChange`]s from one anchor
//! (`Engine::new`, re-anchored by [`Engine::set_wall_clock`]).

mod admin;
mod direct;
mod external;
mod flow;
#[cfg(test)]
mod invariants;
mod presence;
mod routing;
mod views;

pub use views::{AgentView, InteractionStatus, InteractionView};

use crate::action::Action;
use crate::agent::{Agent, AgentIx};
use crate::error::AcdError;
use crate::event::Event;
use crate::hash::FastMap;
use crate::id::{AgentId, Dn, InteractionId};
use crate::interaction::{Interaction, Status};
use crate::queue::{Queue, QueueIx};
use crate::skill::SkillInterner;
use crate::state::{AgentState, Cause, StateChange, StateKind};
use crate::timer::{Timer, Timers};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Heaps smaller than this are never compacted.
const TIMER_COMPACT_FLOOR: usize = 1024;

pub struct Engine {
    epoch: Instant,
    epoch_wall_ms: u64,
    agents: Vec<Agent>,
    agent_ix: FastMap<AgentId, AgentIx>,
    queues: Vec<Queue>,
    queue_ix: FastMap<Dn, QueueIx>,
    /// Agents whose configuration names a DN, so a queue created later finds its members.
    wanted: FastMap<Dn, Vec<AgentIx>>,
    interactions: FastMap<InteractionId, Interaction>,
    skills: SkillInterner,
    timers: Timers,
    /// Interactions waiting (not ringing) per channel, engine-wide: an agent who becomes
    /// available looks through its queues only when some interaction of its channels waits.
    waiting: [u32; 5],
    actions: VecDeque<Action>,
    next_seq: u64,
    next_gen: u64,
}

impl Engine {
    /// An empty engine. `now` and `wall_ms` (milliseconds since the Unix epoch) are the same
    /// moment; together they convert `Instant`s into recorded timestamps.
    pub fn new(now: Instant, wall_ms: u64) -> Self {
        Engine {
            epoch: now,
            epoch_wall_ms: wall_ms,
            agents: Vec::new(),
            agent_ix: FastMap::default(),
            queues: Vec::new(),
            queue_ix: FastMap::default(),
            wanted: FastMap::default(),
            interactions: FastMap::default(),
            skills: SkillInterner::default(),
            timers: Timers::default(),
            waiting: [0; 5],
            actions: VecDeque::new(),
            next_seq: 0,
            next_gen: 0,
        }
    }

    /// Re-anchors wall-clock timestamps (after the system clock was stepped).
    pub fn set_wall_clock(&mut self, now: Instant, wall_ms: u64) {
        let since = ms(now.saturating_duration_since(self.epoch));
        self.epoch_wall_ms = wall_ms.saturating_sub(since);
    }

    /// Applies one event. On `Err` the engine is unchanged and no action was queued.
    pub fn handle(&mut self, now: Instant, event: Event) -> Result<(), AcdError> {
        match event {
            Event::AgentLogin { agent, initial } => {
                let a = self.agent_ix(&agent)?;
                self.login(now, a, initial)
            }
            Event::AgentState { agent, state } => {
                let a = self.agent_ix(&agent)?;
                self.request_state(now, a, state)
            }
            Event::AgentLogout { agent } => {
                let a = self.agent_ix(&agent)?;
                self.logout(now, a)
            }
            Event::InteractionArrived(arrival) => self.arrive(now, arrival),
            Event::DirectArrival { arrival, agent } => {
                let a = self.agent_ix(&agent)?;
                self.arrive_direct(now, arrival, a)
            }
            Event::OfferAccepted { interaction, agent } => {
                let a = self.agent_ix(&agent)?;
                self.accept(now, interaction, a)
            }
            Event::OfferRejected { interaction, agent } => {
                let a = self.agent_ix(&agent)?;
                self.reject(now, interaction, a)
            }
            Event::InteractionEnded { interaction } => self.end(now, interaction),
            Event::WrapUpDone { agent } => {
                let a = self.agent_ix(&agent)?;
                self.wrap_up_done(now, a)
            }
            Event::ExternalWork { agent, work } => {
                let a = self.agent_ix(&agent)?;
                self.external_work(now, a, work)
            }
        }
    }

    /// The next output, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`Engine::handle_timeout`] must next be called, if ever.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some((at, t)) = self.timers.peek() {
            if self.timer_live(&t) {
                return Some(at);
            }
            self.timers.pop();
        }
        None
    }

    /// Fires every timer due at `now`: RONA, end of fixed wrap-up, overflow.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((at, t)) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            match t {
                Timer::Offer { interaction, round } => {
                    self.offer_timed_out(now, interaction, round)
                }
                Timer::WrapUp { agent, gen } => self.wrap_up_timed_out(now, agent, gen),
                Timer::MaxWait { interaction, seq } => self.max_wait_reached(now, interaction, seq),
            }
        }
    }

    // ----- internal helpers shared by the submodules -----

    fn agent_ix(&self, id: &AgentId) -> Result<AgentIx, AcdError> {
        match self.agent_ix.get(id) {
            Some(a) if !self.agent(*a).deleted => Ok(*a),
            _ => Err(AcdError::UnknownAgent(id.clone())),
        }
    }

    fn queue_ix(&self, dn: &Dn) -> Result<QueueIx, AcdError> {
        match self.queue_ix.get(dn) {
            Some(q) if !self.queue(*q).deleted => Ok(*q),
            _ => Err(AcdError::UnknownQueue(dn.clone())),
        }
    }

    // Indices come only from the engine's own maps and never shrink their vectors, so
    // indexing cannot fail.
    fn agent(&self, a: AgentIx) -> &Agent {
        &self.agents[a.slot()]
    }

    fn agent_mut(&mut self, a: AgentIx) -> &mut Agent {
        &mut self.agents[a.slot()]
    }

    fn queue(&self, q: QueueIx) -> &Queue {
        &self.queues[q.slot()]
    }

    fn queue_mut(&mut self, q: QueueIx) -> &mut Queue {
        &mut self.queues[q.slot()]
    }

    fn emit(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    fn wall_ms(&self, at: Instant) -> u64 {
        self.epoch_wall_ms
            .saturating_add(ms(at.saturating_duration_since(self.epoch)))
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    fn next_gen(&mut self) -> u64 {
        self.next_gen += 1;
        self.next_gen
    }

    /// Moves agent `a` to `to`, accounting the time spent in the old state and recording the
    /// change. Does not touch the available sets: callers `settle` afterwards.
    fn set_state(&mut self, now: Instant, a: AgentIx, to: AgentState, cause: Cause) {
        let at_ms = self.wall_ms(now);
        let idle_ns = if to == AgentState::Ready {
            self.nanos(now)
        } else {
            0
        };
        let agent = self.agent_mut(a);
        if agent.state == to {
            return;
        }
        let spent = now.saturating_duration_since(agent.state_since);
        agent.times.add(agent.state.kind(), spent);
        let from = std::mem::replace(&mut agent.state, to.clone());
        agent.state_since = now;
        if to == AgentState::Ready && from.kind() != StateKind::Reserved {
            agent.idle_ns = idle_ns;
        }
        let change = StateChange {
            agent: agent.config.id.clone(),
            from,
            to,
            at_ms,
            cause,
        };
        self.emit(Action::AgentStateChanged(change));
    }

    /// Arms a timer, compacting the heap when cancelled timers dominate it.
    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timers.schedule(at, timer);
        let bound = 4 * (2 * self.interactions.len() + self.agents.len());
        if self.timers.len() > TIMER_COMPACT_FLOOR.max(bound) {
            let mut timers = std::mem::take(&mut self.timers);
            timers.retain(|t| self.timer_live(t));
            self.timers = timers;
        }
    }

    fn timer_live(&self, t: &Timer) -> bool {
        match *t {
            Timer::Offer { interaction, round } => self
                .interactions
                .get(&interaction)
                .is_some_and(|i| i.status == Status::Ringing && i.round == round),
            Timer::WrapUp { agent, gen } => self
                .agents
                .get(agent.slot())
                .is_some_and(|a| a.state == AgentState::AfterCallWork && a.wrap_gen == gen),
            // Live while the interaction exists, even when ringing: if it comes back to the
            // queue before the deadline, this timer must still fire.
            Timer::MaxWait { interaction, seq } => self
                .interactions
                .get(&interaction)
                .is_some_and(|i| i.seq == seq),
        }
    }
}

fn ms(d: Duration) -> u64 {
    crate::stats::ms(d)
}
