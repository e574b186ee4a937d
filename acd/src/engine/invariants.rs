//! A consistency check of the engine's indexes, and a random walk that runs it after every
//! step: the sets the router reads must always say what agent and interaction state says.

use super::Engine;
use crate::agent::Placement;
use crate::interaction::Status;
use crate::queue::avail_range;
use crate::state::AgentState;
use std::collections::HashMap;

impl Engine {
    /// Panics with a description of the first inconsistency found.
    pub(crate) fn check_invariants(&self) {
        let mut live: HashMap<usize, u32> = HashMap::new();
        for (iid, it) in &self.interactions {
            assert_eq!(*iid, it.id);
            *live.entry(it.queue.slot()).or_default() += 1;
            let queue = self.queue(it.queue);
            assert!(!queue.deleted, "{iid} in a deleted queue");
            let in_set = queue.waiting.contains(&it.wait_key());
            assert_eq!(
                in_set,
                it.status == Status::Waiting,
                "{iid} waiting-set membership"
            );
            match it.status {
                Status::Ringing => {
                    assert!(!it.ringing.is_empty(), "{iid} rings nobody");
                    for a in &it.ringing {
                        assert!(self.agent(*a).offers.contains(iid), "{iid} not in offers");
                    }
                }
                Status::Active(Some(a)) => assert!(self.agent(a).active.contains(iid)),
                _ => assert!(it.ringing.is_empty()),
            }
        }
        for (slot, queue) in self.queues.iter().enumerate() {
            if queue.deleted {
                continue;
            }
            assert_eq!(
                queue.live,
                live.get(&slot).copied().unwrap_or(0),
                "live count"
            );
            for key in &queue.waiting {
                assert!(
                    self.interactions.contains_key(&key.3),
                    "dangling waiting entry"
                );
            }
            let mut entries = 0;
            for a in &queue.members {
                let m = self
                    .agent(*a)
                    .memberships
                    .iter()
                    .find(|m| m.queue.slot() == slot);
                let m = m.expect("member without membership");
                if let Some(p) = m.placed {
                    for c in p.mask.iter() {
                        assert!(queue.available.contains(&(c, p.load, p.key, *a)));
                        entries += 1;
                    }
                }
            }
            assert_eq!(entries, queue.available.len(), "stray available entries");
        }
        for (slot, agent) in self.agents.iter().enumerate() {
            let id = &agent.config.id;
            let idle_ns = agent.idle_ns;
            let want = if agent.deleted {
                None
            } else {
                agent.availability()
            };
            for m in &agent.memberships {
                let queue = self.queue(m.queue);
                assert!(queue.members.iter().any(|x| x.slot() == slot));
                let desired = match want {
                    Some((mask, load)) if m.eligible => Some(Placement {
                        mask,
                        load,
                        key: queue.key(idle_ns, m),
                    }),
                    _ => None,
                };
                assert_eq!(m.placed, desired, "{id}: placement out of date");
            }
            if !agent.any_placed {
                assert!(agent.memberships.iter().all(|m| m.placed.is_none()));
            }
            for iid in &agent.offers {
                let it = &self.interactions[iid];
                assert_eq!(it.status, Status::Ringing);
                assert!(it.ringing.iter().any(|x| x.slot() == slot));
                assert_eq!(Some(it.channel), agent.channel);
            }
            for iid in &agent.active {
                let it = &self.interactions[iid];
                assert!(matches!(it.status, Status::Active(Some(x)) if x.slot() == slot));
                assert_eq!(Some(it.channel), agent.channel);
            }
            assert_eq!(agent.channel.is_some(), agent.has_work(), "{id}: channel");
            match agent.state {
                AgentState::Reserved => {
                    assert!(!agent.offers.is_empty() && agent.active.is_empty())
                }
                AgentState::Busy => assert!(!agent.active.is_empty(), "{id}: Busy with nothing"),
                _ => assert!(!agent.has_work(), "{id}: {:?} with work", agent.state),
            }
        }
        let mut waiting = [0u32; 5];
        for it in self
            .interactions
            .values()
            .filter(|i| i.status == Status::Waiting)
        {
            waiting[it.channel.index()] += 1;
        }
        assert_eq!(waiting, self.waiting, "waiting counts");
        // Nothing waits that an available agent could take.
        for queue in self.queues.iter().filter(|q| !q.deleted) {
            for key in &queue.waiting {
                let it = &self.interactions[&key.3];
                for e in queue.available.range(avail_range(it.channel)) {
                    let agent = self.agent(e.3);
                    assert!(
                        !agent.skills.satisfies(&it.skills),
                        "{} waits while {} is available",
                        it.id,
                        agent.config.id
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod walk {
    use crate::{
        AgentConfig, Arrival, Capacity, Channel, Engine, Event, InteractionId, QueueConfig,
        RequestedState, Strategy, WrapUp,
    };
    use std::time::{Duration, Instant};

    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }

        fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
            &v[self.below(v.len() as u64) as usize]
        }
    }

    const STRATEGIES: [Strategy; 5] = [
        Strategy::LongestIdle,
        Strategy::RoundRobin,
        Strategy::FewestHandled,
        Strategy::BestSkill,
        Strategy::RingAll,
    ];
    const AGENTS: [&str; 6] = ["a", "b", "c", "d", "e", "f"];
    const QUEUES: [&str; 3] = ["q0", "q1", "q2"];

    fn queue(rng: &mut Rng, dn: &str) -> QueueConfig {
        let mut q = QueueConfig::new(dn);
        q.strategy = *rng.pick(&STRATEGIES);
        q.offer_timeout_secs = 1 + rng.below(20) as u32;
        q.wrap_up = match rng.below(3) {
            0 => WrapUp::Manual {},
            _ => WrapUp::Fixed {
                secs: rng.below(10) as u32,
            },
        };
        if rng.below(2) == 0 {
            q.max_wait = Some(crate::MaxWait {
                secs: rng.below(120) as u32,
                target: "vm".into(),
            });
        }
        if rng.below(3) == 0 {
            q.max_size = Some(rng.below(5) as u32);
        }
        if rng.below(3) == 0 {
            q.required_skills.insert("s0".into(), rng.below(3) as u8);
        }
        q
    }

    fn agent(rng: &mut Rng, id: &str) -> AgentConfig {
        let mut a = AgentConfig::new(id);
        a.queues = QUEUES
            .iter()
            .filter(|_| rng.below(3) > 0)
            .map(|q| (*q).into())
            .collect();
        for s in ["s0", "s1"] {
            if rng.below(2) == 0 {
                a.skills.insert(s.into(), rng.below(5) as u8);
            }
        }
        a.capacity = Capacity {
            voice: rng.below(2) as u8,
            chat: rng.below(4) as u8,
            ..Capacity::default()
        };
        a
    }

    fn step(rng: &mut Rng, e: &mut Engine, now: &mut Instant, next_id: &mut u64) {
        let agent: crate::AgentId = (*rng.pick(&AGENTS)).into();
        let iid = InteractionId(rng.below(*next_id + 1));
        // Answer or refuse what actually rings this agent, most of the time.
        let offered = e
            .agent_view(&agent)
            .and_then(|v| v.offers.first().copied())
            .filter(|_| rng.below(5) > 0)
            .unwrap_or(iid);
        let event = match rng.below(14) {
            0 => Event::AgentLogin {
                agent,
                initial: RequestedState::Ready,
            },
            1 => Event::AgentLogout { agent },
            2 | 3 => Event::AgentState {
                agent,
                state: RequestedState::Ready,
            },
            4 => Event::AgentState {
                agent,
                state: RequestedState::not_ready("x"),
            },
            5 | 6 => {
                *next_id += 1;
                let ch = if rng.below(2) == 0 {
                    Channel::Voice
                } else {
                    Channel::Chat
                };
                let mut a = Arrival::new(*next_id, *rng.pick(&QUEUES), ch);
                a.priority = rng.below(3) as u32;
                if rng.below(4) == 0 {
                    a.skills.insert("s1".into(), rng.below(4) as u8);
                }
                Event::InteractionArrived(a)
            }
            7 | 8 => Event::OfferAccepted {
                interaction: offered,
                agent,
            },
            9 => Event::OfferRejected {
                interaction: offered,
                agent,
            },
            10 => Event::InteractionEnded { interaction: iid },
            11 => Event::WrapUpDone { agent },
            12 => {
                *now += Duration::from_millis(rng.below(8000));
                e.handle_timeout(*now);
                return;
            }
            _ => {
                if rng.below(2) == 0 {
                    let dn = *rng.pick(&QUEUES);
                    let _ = e.upsert_queue(*now, queue(rng, dn));
                } else {
                    let _ = e.upsert_agent(*now, agent_cfg(rng));
                }
                return;
            }
        };
        let _ = e.handle(*now, event);
    }

    fn agent_cfg(rng: &mut Rng) -> AgentConfig {
        let id = *rng.pick(&AGENTS);
        agent(rng, id)
    }

    #[test]
    fn random_walks_keep_the_indexes_consistent() {
        let mut counts = [0u32; 4];
        for seed in 1..=25u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let mut now = Instant::now();
            let mut e = Engine::new(now, 0);
            for dn in QUEUES {
                let q = queue(&mut rng, dn);
                e.upsert_queue(now, q).unwrap();
            }
            for id in AGENTS {
                let a = agent(&mut rng, id);
                e.upsert_agent(now, a).unwrap();
            }
            let mut next_id = 0;
            for _ in 0..1500 {
                step(&mut rng, &mut e, &mut now, &mut next_id);
                while let Some(a) = e.poll_action() {
                    match a {
                        crate::Action::Offer { .. } => counts[0] += 1,
                        crate::Action::Overflow { .. } => counts[1] += 1,
                        crate::Action::AgentStateChanged(c) => match c.to {
                            crate::AgentState::Busy => counts[2] += 1,
                            crate::AgentState::Rona => counts[3] += 1,
                            _ => {}
                        },
                        _ => {}
                    }
                }
                e.check_invariants();
            }
        }
        // The walk must reach the interesting paths, not just bounce off errors.
        assert!(
            counts.iter().all(|n| *n > 100),
            "offers, overflows, answers, RONAs: {counts:?}"
        );
    }
}
