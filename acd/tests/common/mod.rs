//! A fake clock and shorthands around the engine, as the switch would drive it.
#![allow(dead_code)]

use acd::{
    Action, AgentConfig, AgentState, Arrival, CancelReason, Channel, Engine, Event, InteractionId,
    QueueConfig, RequestedState, Strategy,
};
use std::time::{Duration, Instant};

pub const WALL0: u64 = 1_700_000_000_000;

pub struct Harness {
    pub acd: Engine,
    pub t0: Instant,
    pub now: Instant,
}

impl Harness {
    pub fn new() -> Self {
        let t0 = Instant::now();
        Harness {
            acd: Engine::new(t0, WALL0),
            t0,
            now: t0,
        }
    }

    /// Moves the clock, firing every timer on its way, in order, at its own deadline.
    pub fn advance(&mut self, secs: f64) {
        let target = self.now + Duration::from_secs_f64(secs);
        while let Some(t) = self.acd.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.acd.handle_timeout(self.now);
        }
        self.now = target;
    }

    pub fn elapsed_ms(&self) -> u64 {
        (self.now - self.t0).as_millis() as u64
    }

    pub fn queue(&mut self, dn: &str, f: impl FnOnce(&mut QueueConfig)) {
        let mut q = QueueConfig::new(dn);
        f(&mut q);
        self.acd.upsert_queue(self.now, q).unwrap();
    }

    pub fn strategy_queue(&mut self, dn: &str, s: Strategy) {
        self.queue(dn, |q| q.strategy = s);
    }

    pub fn agent(&mut self, id: &str, queues: &[&str], f: impl FnOnce(&mut AgentConfig)) {
        let mut a = AgentConfig::new(id);
        a.queues = queues.iter().map(|q| (*q).into()).collect();
        f(&mut a);
        self.acd.upsert_agent(self.now, a).unwrap();
    }

    pub fn ev(&mut self, e: Event) -> Result<(), acd::AcdError> {
        self.acd.handle(self.now, e)
    }

    pub fn login(&mut self, id: &str) {
        self.ev(Event::AgentLogin {
            agent: id.into(),
            initial: RequestedState::Ready,
        })
        .unwrap();
    }

    pub fn login_not_ready(&mut self, id: &str) {
        self.ev(Event::AgentLogin {
            agent: id.into(),
            initial: RequestedState::not_ready("login"),
        })
        .unwrap();
    }

    pub fn ready(&mut self, id: &str) {
        self.ev(Event::AgentState {
            agent: id.into(),
            state: RequestedState::Ready,
        })
        .unwrap();
    }

    pub fn not_ready(&mut self, id: &str, reason: &str) {
        self.ev(Event::AgentState {
            agent: id.into(),
            state: RequestedState::not_ready(reason),
        })
        .unwrap();
    }

    pub fn arrive(&mut self, id: u64, dn: &str) {
        self.ev(Event::InteractionArrived(Arrival::new(
            id,
            dn,
            Channel::Voice,
        )))
        .unwrap();
    }

    pub fn arrive_with(&mut self, id: u64, dn: &str, f: impl FnOnce(&mut Arrival)) {
        let mut a = Arrival::new(id, dn, Channel::Voice);
        f(&mut a);
        self.ev(Event::InteractionArrived(a)).unwrap();
    }

    pub fn accept(&mut self, id: u64, agent: &str) {
        self.ev(Event::OfferAccepted {
            interaction: InteractionId(id),
            agent: agent.into(),
        })
        .unwrap();
    }

    pub fn reject(&mut self, id: u64, agent: &str) {
        self.ev(Event::OfferRejected {
            interaction: InteractionId(id),
            agent: agent.into(),
        })
        .unwrap();
    }

    pub fn end(&mut self, id: u64) {
        self.ev(Event::InteractionEnded {
            interaction: InteractionId(id),
        })
        .unwrap();
    }

    /// Arrival, accept by whoever is offered, end, then one second passes (so agents who
    /// finish one after the other have distinct idle times): returns the agent.
    pub fn handle_one(&mut self, id: u64, dn: &str) -> String {
        self.drain();
        self.arrive(id, dn);
        let offers = offers(&self.drain());
        assert_eq!(offers.len(), 1, "expected one offer for {id}: {offers:?}");
        let agent = offers[0].1.clone();
        self.accept(id, &agent);
        self.end(id);
        self.advance(1.0);
        self.drain();
        agent
    }

    pub fn drain(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.acd.poll_action()).collect()
    }

    pub fn state(&self, id: &str) -> AgentState {
        self.acd.agent_state(&id.into()).cloned().unwrap()
    }
}

/// `(interaction, agent)` of every Offer.
pub fn offers(actions: &[Action]) -> Vec<(u64, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Offer {
                interaction, agent, ..
            } => Some((interaction.0, agent.to_string())),
            _ => None,
        })
        .collect()
}

/// `(interaction, agent, reason)` of every CancelOffer.
pub fn cancels(actions: &[Action]) -> Vec<(u64, String, CancelReason)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::CancelOffer {
                interaction,
                agent,
                reason,
            } => Some((interaction.0, agent.to_string(), *reason)),
            _ => None,
        })
        .collect()
}

/// `(interaction, position)` of every InteractionQueued.
pub fn queued(actions: &[Action]) -> Vec<(u64, usize)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::InteractionQueued {
                interaction,
                position,
                ..
            } => Some((interaction.0, *position)),
            _ => None,
        })
        .collect()
}
