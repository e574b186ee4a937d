//! Direct offers: an interaction offered to one named agent rather than routed by its
//! queue (a chat transferred to an agent, a conference invitation). The agent must be able
//! to take it now (Ready, or spare capacity for the channel); the interaction never waits
//! in the queue, and a declined or timed-out offer ends it with
//! [`Action::DirectOfferFailed`], so the switch decides where it goes instead.

use super::Engine;
use crate::action::Action;
use crate::agent::AgentIx;
use crate::error::AcdError;
use crate::event::Arrival;
use crate::id::InteractionId;
use crate::interaction::{Interaction, Status};
use std::time::Instant;

impl Engine {
    pub(super) fn arrive_direct(
        &mut self,
        now: Instant,
        arrival: Arrival,
        a: AgentIx,
    ) -> Result<(), AcdError> {
        let iid = arrival.id;
        if self.interactions.contains_key(&iid) {
            return Err(AcdError::DuplicateInteraction(iid));
        }
        let q = self.queue_ix(&arrival.queue)?;
        let agent = self.agent(a);
        let fits = agent
            .availability()
            .is_some_and(|(mask, _)| mask.iter().any(|c| c == arrival.channel));
        if !fits {
            return Err(AcdError::Unavailable(agent.config.id.clone()));
        }
        let skills = self.skills.set(&arrival.skills);
        let queue = self.queue_mut(q);
        queue.counters.offered += 1;
        queue.live += 1;
        let seq = self.next_seq;
        self.next_seq += 1;
        self.interactions.insert(
            iid,
            Interaction {
                id: iid,
                queue: q,
                channel: arrival.channel,
                priority: arrival.priority,
                caller: arrival.caller,
                skills,
                arrived: now,
                order: self.nanos(now),
                seq,
                round: 0,
                max_wait: None,
                status: Status::Waiting,
                ringing: Vec::new(),
                direct: true,
            },
        );
        self.offer(now, iid, &[a]);
        Ok(())
    }

    /// A direct offer ended without an answer: the interaction is forgotten.
    pub(super) fn direct_failed(&mut self, iid: InteractionId) {
        let Some(it) = self.forget(iid) else {
            return;
        };
        let queue = self.queue(it.queue).config.dn.clone();
        self.emit(Action::DirectOfferFailed {
            interaction: iid,
            queue,
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{AgentConfig, QueueConfig, WrapUp};
    use crate::state::{AgentState, RequestedState};
    use crate::{AcdError, Action, Arrival, Channel, Engine, Event, InteractionId};
    use std::time::{Duration, Instant};

    fn engine(now: Instant) -> Engine {
        let mut e = Engine::new(now, 0);
        let mut q = QueueConfig::new("8000");
        q.wrap_up = WrapUp::Manual {};
        q.wrap_up_required = true;
        e.upsert_queue(now, q).unwrap();
        // Bob is in no queue: a direct offer reaches him all the same.
        for (id, queues) in [("alice", vec!["8000".into()]), ("bob", vec![])] {
            let mut a = AgentConfig::new(id);
            a.queues = queues;
            a.capacity.chat = 2;
            e.upsert_agent(now, a).unwrap();
            e.handle(
                now,
                Event::AgentLogin {
                    agent: id.into(),
                    initial: RequestedState::Ready,
                },
            )
            .unwrap();
        }
        e
    }

    fn drain(e: &mut Engine) -> Vec<Action> {
        std::iter::from_fn(|| e.poll_action()).collect()
    }

    fn direct(id: u64, agent: &str) -> Event {
        Event::DirectArrival {
            arrival: Arrival::new(id, "8000", Channel::Chat),
            agent: agent.into(),
        }
    }

    fn state(e: &Engine, id: &str) -> AgentState {
        e.agent_view(&id.into()).unwrap().state
    }

    #[test]
    fn a_direct_offer_rings_only_that_agent_and_is_accepted() {
        let t = Instant::now();
        let mut e = engine(t);
        drain(&mut e);
        e.handle(t, direct(7, "bob")).unwrap();
        let offers: Vec<_> = drain(&mut e)
            .into_iter()
            .filter_map(|a| match a {
                Action::Offer { agent, .. } => Some(agent),
                _ => None,
            })
            .collect();
        assert_eq!(offers, vec!["bob".into()]);
        e.handle(
            t,
            Event::OfferAccepted {
                interaction: InteractionId(7),
                agent: "bob".into(),
            },
        )
        .unwrap();
        assert_eq!(state(&e, "bob"), AgentState::Busy);
        assert_eq!(state(&e, "alice"), AgentState::Ready);
    }

    #[test]
    fn a_declined_or_timed_out_direct_offer_fails_instead_of_queueing() {
        let t = Instant::now();
        let mut e = engine(t);
        e.handle(t, direct(7, "bob")).unwrap();
        drain(&mut e);
        e.handle(
            t,
            Event::OfferRejected {
                interaction: InteractionId(7),
                agent: "bob".into(),
            },
        )
        .unwrap();
        let actions = drain(&mut e);
        assert!(actions.contains(&Action::DirectOfferFailed {
            interaction: InteractionId(7),
            queue: "8000".into()
        }));
        assert!(
            !actions.iter().any(|a| matches!(a, Action::Offer { .. })),
            "alice is Ready in 8000 but a direct offer never goes to the queue"
        );
        assert!(e.interaction_view(InteractionId(7)).is_none());
        // Timed out: the same.
        e.handle(t, direct(8, "alice")).unwrap();
        drain(&mut e);
        let later = t + Duration::from_secs(60);
        e.handle_timeout(later);
        assert!(drain(&mut e).contains(&Action::DirectOfferFailed {
            interaction: InteractionId(8),
            queue: "8000".into()
        }));
    }

    #[test]
    fn an_agent_without_room_is_unavailable() {
        let t = Instant::now();
        let mut e = engine(t);
        e.handle(
            t,
            Event::AgentState {
                agent: "bob".into(),
                state: RequestedState::NotReady {
                    reason: "break".into(),
                },
            },
        )
        .unwrap();
        assert_eq!(
            e.handle(t, direct(7, "bob")),
            Err(AcdError::Unavailable("bob".into()))
        );
    }

    #[test]
    fn ready_is_refused_until_a_required_wrap_up_is_submitted() {
        let t = Instant::now();
        let mut e = engine(t);
        e.handle(
            t,
            Event::InteractionArrived(Arrival::new(1, "8000", Channel::Chat)),
        )
        .unwrap();
        e.handle(
            t,
            Event::OfferAccepted {
                interaction: InteractionId(1),
                agent: "alice".into(),
            },
        )
        .unwrap();
        e.handle(
            t,
            Event::InteractionEnded {
                interaction: InteractionId(1),
            },
        )
        .unwrap();
        assert_eq!(state(&e, "alice"), AgentState::AfterCallWork);
        let ready = Event::AgentState {
            agent: "alice".into(),
            state: RequestedState::Ready,
        };
        assert_eq!(
            e.handle(t, ready.clone()),
            Err(AcdError::WrapUpPending("alice".into()))
        );
        // Not Ready meanwhile is allowed, and Ready is still refused from there.
        e.handle(
            t,
            Event::AgentState {
                agent: "alice".into(),
                state: RequestedState::NotReady {
                    reason: "break".into(),
                },
            },
        )
        .unwrap();
        assert_eq!(
            e.handle(t, ready.clone()),
            Err(AcdError::WrapUpPending("alice".into()))
        );
        e.handle(
            t,
            Event::WrapUpDone {
                agent: "alice".into(),
            },
        )
        .unwrap();
        e.handle(t, ready).unwrap();
        assert_eq!(state(&e, "alice"), AgentState::Ready);
    }
}
