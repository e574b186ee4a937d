//! Routing decisions per second.
//!
//! Every agent is Ready and a member of `MEMBERSHIPS` queues; interactions arrive round the
//! queues. Three measurements, one routing decision per iteration:
//!
//! - `best_agent`: the read-only decision (which agent would this queue offer to).
//! - `offer_cycle`: an arrival that is offered (decision + reserving the agent in all its
//!   queues + timer), then abandoned while ringing (the agent is released again).
//! - `call_cycle`: arrival, offer, accept, end with no wrap-up: the agent goes back to Ready
//!   with a new idle time, so longest-idle rotates through the queue.
//!
//! Sizes grow the agent count at a fixed 1,000 queues (5, 50, 500 agents per queue) to show
//! how the cost grows with n; `strategy/*` repeat `call_cycle` at 10,000 x 1,000.

use acd::{
    AgentConfig, Arrival, Channel, Dn, Engine, Event, InteractionId, QueueConfig, RequestedState,
    Strategy, WrapUp,
};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::time::{Duration, Instant};

const MEMBERSHIPS: usize = 5;
const QUEUES: usize = 1_000;

struct Setup {
    engine: Engine,
    dns: Vec<Dn>,
    now: Instant,
    next: u64,
}

fn setup(agents: usize, queues: usize, strategy: Strategy) -> Setup {
    let now = Instant::now();
    let mut engine = Engine::new(now, 0);
    let dns: Vec<Dn> = (0..queues).map(|q| Dn::new(format!("q{q}"))).collect();
    for dn in &dns {
        let mut q = QueueConfig::new(dn.clone());
        q.strategy = strategy;
        q.wrap_up = WrapUp::Fixed { secs: 0 };
        q.required_skills.insert("sales".into(), 1);
        engine.upsert_queue(now, q).expect("queue");
    }
    for i in 0..agents {
        let mut a = AgentConfig::new(format!("agent{i}"));
        a.skills.insert("sales".into(), (i % 10 + 1) as u8);
        // Spread memberships so that every queue gets agents * MEMBERSHIPS / queues.
        a.queues = (0..MEMBERSHIPS)
            .map(|k| dns[(i * MEMBERSHIPS + k) % queues].clone())
            .collect();
        engine.upsert_agent(now, a).expect("agent");
        let login = Event::AgentLogin {
            agent: format!("agent{i}").into(),
            initial: RequestedState::Ready,
        };
        engine.handle(now, login).expect("login");
    }
    while engine.poll_action().is_some() {}
    Setup {
        engine,
        dns,
        now,
        next: 0,
    }
}

impl Setup {
    fn tick(&mut self) -> (InteractionId, Dn) {
        self.next += 1;
        self.now += Duration::from_micros(1);
        let dn = self.dns[self.next as usize % self.dns.len()].clone();
        (InteractionId(self.next), dn)
    }

    /// Arrival -> Offer; returns the agent offered.
    fn arrive(&mut self) -> (InteractionId, acd::AgentId) {
        let (iid, dn) = self.tick();
        let arrival = Arrival {
            id: iid,
            ..Arrival::new(0, dn, Channel::Voice)
        };
        self.engine
            .handle(self.now, Event::InteractionArrived(arrival))
            .expect("arrival");
        let mut offered = None;
        while let Some(a) = self.engine.poll_action() {
            if let acd::Action::Offer { agent, .. } = a {
                offered = Some(agent);
            }
        }
        (iid, offered.expect("an agent is always available"))
    }

    fn end(&mut self, iid: InteractionId) {
        let end = Event::InteractionEnded { interaction: iid };
        self.engine.handle(self.now, end).expect("end");
        while self.engine.poll_action().is_some() {}
    }
}

fn sizes(c: &mut Criterion) {
    let mut g = c.benchmark_group("decision");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .throughput(Throughput::Elements(1));
    for agents in [1_000, 10_000, 100_000] {
        let label = format!("{agents}x{QUEUES}");
        let mut s = setup(agents, QUEUES, Strategy::LongestIdle);
        g.bench_function(BenchmarkId::new("best_agent", &label), |b| {
            b.iter(|| {
                let (_, dn) = s.tick();
                black_box(s.engine.best_agent(&dn, Channel::Voice).is_some())
            })
        });
        g.bench_function(BenchmarkId::new("offer_cycle", &label), |b| {
            b.iter(|| {
                let (iid, _) = s.arrive();
                s.end(iid);
            })
        });
        g.bench_function(BenchmarkId::new("call_cycle", &label), |b| {
            b.iter(|| {
                let (iid, agent) = s.arrive();
                let accept = Event::OfferAccepted {
                    interaction: iid,
                    agent,
                };
                s.engine.handle(s.now, accept).expect("accept");
                s.end(iid);
            })
        });
    }
    g.finish();
}

fn strategies(c: &mut Criterion) {
    let mut g = c.benchmark_group("strategy");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .throughput(Throughput::Elements(1));
    for strategy in [
        Strategy::LongestIdle,
        Strategy::RoundRobin,
        Strategy::FewestHandled,
        Strategy::BestSkill,
    ] {
        let mut s = setup(10_000, QUEUES, strategy);
        g.bench_function(format!("{strategy:?}/call_cycle/10000x1000"), |b| {
            b.iter(|| {
                let (iid, agent) = s.arrive();
                let accept = Event::OfferAccepted {
                    interaction: iid,
                    agent,
                };
                s.engine.handle(s.now, accept).expect("accept");
                s.end(iid);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, sizes, strategies);
criterion_main!(benches);
