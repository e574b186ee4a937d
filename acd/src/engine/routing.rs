//! Routing decisions, from both sides.
//!
//! - An interaction needs an agent (arrival, back after RONA): [`Engine::choose`] walks the
//!   queue's available set for the interaction's channel from its head. With no skill
//!   requirement beyond the queue's the head is the answer: O(log n). With extra
//!   requirements it skips agents lacking them: O(log n + k) for k skipped agents. Ring-all
//!   collects every fitting entry: O(log n + n).
//! - An agent can take work (Ready, or spare capacity): [`Engine::pull`] looks at the head
//!   of each of its queues' waiting sets for each channel it can take and picks the highest
//!   priority, then the oldest: O(m · c · log w) for m queues, c channels, w waiting, plus
//!   the interactions skipped for skills the agent lacks.
//!
//! Invariant kept by both: no waiting interaction could be offered to an available agent.

use super::Engine;
use crate::action::Action;
use crate::agent::AgentIx;
use crate::config::{Strategy, TransferArrival};
use crate::error::AcdError;
use crate::event::Arrival;
use crate::id::{Channel, InteractionId};
use crate::interaction::{Interaction, Status};
use crate::queue::{avail_keys, wait_range, AvailKey, QueueIx, WaitKey};
use crate::skill::SkillSet;
use crate::state::{AgentState, Cause};
use crate::timer::Timer;
use std::time::{Duration, Instant};

pub(super) enum Choice {
    Nobody,
    One(AgentIx),
    All(Vec<AgentIx>),
}

/// `now + d`, saturating at `now` on the (theoretical) overflow of `Instant`.
pub(super) fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or(now)
}

impl Engine {
    /// Whom queue `q` would offer an interaction of channel `c` needing `skills` to now.
    pub(super) fn choose(&self, q: QueueIx, c: Channel, skills: &SkillSet) -> Choice {
        let queue = self.queue(q);
        let fits = |k: &&AvailKey| skills.is_empty() || self.agent(k.3).skills.satisfies(skills);
        let set = &queue.available;
        let found = match queue.config.strategy {
            Strategy::RingAll => {
                let all: Vec<AgentIx> = queue.available_for(c).filter(fits).map(|k| k.3).collect();
                return if all.is_empty() {
                    Choice::Nobody
                } else {
                    Choice::All(all)
                };
            }
            Strategy::RoundRobin => {
                // Idle agents after the last one served, then from the start, then agents
                // with spare capacity.
                let after = queue.rr_last.map_or(0, |r| r.saturating_add(1));
                let wrap = (after > 0).then(|| set.range(avail_keys(c, 0, (0, 0), (0, after - 1))));
                let spare =
                    (c, 1, (0, 0), AgentIx::MIN)..=(c, u8::MAX, (u64::MAX, u64::MAX), AgentIx::MAX);
                set.range(avail_keys(c, 0, (0, after), (0, u64::MAX)))
                    .chain(wrap.into_iter().flatten())
                    .chain(set.range(spare))
                    .find(fits)
            }
            _ => queue.available_for(c).find(fits),
        };
        found.map_or(Choice::Nobody, |k| Choice::One(k.3))
    }

    /// Offers a waiting interaction to whoever its queue chooses. False if nobody fits.
    pub(super) fn route(&mut self, now: Instant, iid: InteractionId) -> bool {
        let Some(it) = self.interactions.get(&iid) else {
            return false;
        };
        match self.choose(it.queue, it.channel, &it.skills) {
            Choice::Nobody => false,
            Choice::One(a) => {
                self.offer(now, iid, &[a]);
                true
            }
            Choice::All(agents) => {
                self.offer(now, iid, &agents);
                true
            }
        }
    }

    /// Lets agent `a` take the best waiting interactions of its queues while it can.
    pub(super) fn pull(&mut self, now: Instant, a: AgentIx) {
        loop {
            let agent = self.agent(a);
            let Some((mask, _)) = agent.availability() else {
                return;
            };
            let mut best: Option<WaitKey> = None;
            for m in agent.memberships.iter().filter(|m| m.placed.is_some()) {
                let queue = self.queue(m.queue);
                for c in mask.iter() {
                    for key in queue.waiting_for(c) {
                        if best.is_some_and(|b| (key.1, key.2) >= (b.1, b.2)) {
                            break;
                        }
                        let fits = self.interactions.get(&key.3).is_some_and(|it| {
                            it.skills.is_empty() || agent.skills.satisfies(&it.skills)
                        });
                        if fits {
                            best = Some(*key);
                            break;
                        }
                    }
                }
            }
            let Some(best) = best else {
                return;
            };
            self.offer(now, best.3, &[a]);
        }
    }

    /// Rings `agents` with interaction `iid` (taking it out of the waiting set).
    pub(super) fn offer(&mut self, now: Instant, iid: InteractionId, agents: &[AgentIx]) {
        let Some(it) = self.interactions.get_mut(&iid) else {
            return;
        };
        let (q, c, key) = (it.queue, it.channel, it.wait_key());
        it.status = Status::Ringing;
        it.round = it.round.wrapping_add(1);
        let round = it.round;
        it.ringing.clear();
        it.ringing.extend_from_slice(agents);
        let queue = &mut self.queues[q.slot()];
        if queue.waiting.remove(&key) {
            self.waiting[c.index()] = self.waiting[c.index()].saturating_sub(1);
        }
        if queue.config.strategy == Strategy::RoundRobin {
            if let Some(m) = agents
                .first()
                .and_then(|f| self.agents[f.slot()].membership(q))
            {
                queue.rr_last = Some(m.rank);
            }
        }
        let deadline = later(now, queue.config.offer_timeout());
        let dn = queue.config.dn.clone();
        self.schedule(
            deadline,
            Timer::Offer {
                interaction: iid,
                round,
            },
        );
        for &a in agents {
            let agent = self.agent_mut(a);
            agent.offers.push(iid);
            agent.channel = Some(c);
            if agent.state == AgentState::Ready {
                self.set_state(now, a, AgentState::Reserved, Cause::Offered);
            }
            let agent = self.agent(a).config.id.clone();
            self.emit(Action::Offer {
                interaction: iid,
                agent,
                queue: dn.clone(),
                channel: c,
            });
            self.sync_presence(a);
        }
    }

    /// Puts an interaction whose offers all ended back in its place, then routes it again
    /// (or overflows it if it is past its maximum wait).
    pub(super) fn requeue(&mut self, now: Instant, iid: InteractionId) {
        let Some(it) = self.interactions.get_mut(&iid) else {
            return;
        };
        it.status = Status::Waiting;
        it.ringing.clear();
        if it.direct {
            self.direct_failed(iid);
            return;
        }
        if it.max_wait.as_ref().is_some_and(|(at, _)| *at <= now) {
            self.overflow(iid);
            return;
        }
        let (q, key) = (it.queue, it.wait_key());
        self.wait(q, key);
        if !self.route(now, iid) {
            self.emit_queued(iid);
        }
    }

    fn wait(&mut self, q: QueueIx, key: WaitKey) {
        if self.queues[q.slot()].waiting.insert(key) {
            self.waiting[key.0.index()] += 1;
        }
    }

    fn emit_queued(&mut self, iid: InteractionId) {
        let Some(it) = self.interactions.get(&iid) else {
            return;
        };
        let key = it.wait_key();
        let queue = self.queue(it.queue);
        let start = *wait_range(it.channel).start();
        let position = queue.waiting.range(start..=key).count();
        let action = Action::InteractionQueued {
            interaction: iid,
            queue: queue.config.dn.clone(),
            position,
        };
        self.emit(action);
    }

    /// Removes an interaction from the engine (and from its queue's waiting set).
    pub(super) fn forget(&mut self, iid: InteractionId) -> Option<Interaction> {
        let it = self.interactions.remove(&iid)?;
        let queue = &mut self.queues[it.queue.slot()];
        if it.status == Status::Waiting && queue.waiting.remove(&it.wait_key()) {
            self.waiting[it.channel.index()] = self.waiting[it.channel.index()].saturating_sub(1);
        }
        queue.live = queue.live.saturating_sub(1);
        Some(it)
    }

    fn overflow(&mut self, iid: InteractionId) {
        let Some(it) = self.forget(iid) else {
            return;
        };
        let queue = self.queue_mut(it.queue);
        queue.counters.overflowed += 1;
        let from = queue.config.dn.clone();
        if let Some((_, target)) = it.max_wait {
            self.emit(Action::Overflow {
                interaction: iid,
                queue: from,
                target,
            });
        }
    }

    pub(super) fn max_wait_reached(&mut self, _now: Instant, iid: InteractionId, seq: u64) {
        // A ringing interaction overflows when (if) it comes back to the queue.
        let due = self
            .interactions
            .get(&iid)
            .is_some_and(|it| it.seq == seq && it.status == Status::Waiting);
        if due {
            self.overflow(iid);
        }
    }

    pub(super) fn arrive(&mut self, now: Instant, arrival: Arrival) -> Result<(), AcdError> {
        let iid = arrival.id;
        if self.interactions.contains_key(&iid) {
            return Err(AcdError::DuplicateInteraction(iid));
        }
        let q = self.queue_ix(&arrival.queue)?;
        let skills = self.skills.set(&arrival.skills);
        let choice = self.choose(q, arrival.channel, &skills);
        let arrived = match self.queue(q).config.transfer_arrival {
            TransferArrival::Original => now
                .checked_sub(Duration::from_millis(arrival.waited_ms))
                .unwrap_or(now)
                .max(self.epoch),
            TransferArrival::Transfer => now,
        };
        let order = self.nanos(arrived);
        let queue = self.queue_mut(q);
        let full = queue
            .config
            .max_size
            .is_some_and(|max| queue.waiting.len() >= max as usize);
        if full && matches!(choice, Choice::Nobody) {
            queue.counters.rejected_full += 1;
            let dn = queue.config.dn.clone();
            self.emit(Action::QueueFull {
                interaction: iid,
                queue: dn,
            });
            return Ok(());
        }
        queue.counters.offered += 1;
        queue.live += 1;
        let max_wait = queue.config.max_wait.as_ref().map(|mw| {
            let at = later(now, Duration::from_secs(u64::from(mw.secs)));
            (at, mw.target.clone())
        });
        let seq = self.next_seq;
        self.next_seq += 1;
        let it = Interaction {
            id: iid,
            queue: q,
            channel: arrival.channel,
            priority: arrival.priority,
            caller: arrival.caller,
            skills,
            arrived,
            order,
            seq,
            round: 0,
            max_wait,
            status: Status::Waiting,
            ringing: Vec::new(),
            direct: false,
        };
        let key = it.wait_key();
        let max_wait_at = it.max_wait.as_ref().map(|(at, _)| *at);
        self.interactions.insert(iid, it);
        if let Some(at) = max_wait_at {
            self.schedule(
                at,
                Timer::MaxWait {
                    interaction: iid,
                    seq,
                },
            );
        }
        match choice {
            Choice::Nobody => {
                self.wait(q, key);
                self.emit_queued(iid);
            }
            Choice::One(a) => self.offer(now, iid, &[a]),
            Choice::All(agents) => self.offer(now, iid, &agents),
        }
        Ok(())
    }
}
