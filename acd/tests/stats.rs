//! Queue and agent statistics.

mod common;

use acd::{AgentCounts, InteractionId, InteractionStatus, QueueStats, WrapUp};
use common::Harness;

#[test]
fn queue_figures_follow_the_traffic() {
    let mut h = Harness::new();
    h.queue("8000", |q| {
        q.name = "Sales".into();
        q.service_level_secs = 20;
        q.wrap_up = WrapUp::Manual {};
    });
    for id in ["a", "b", "c", "d"] {
        h.agent(id, &["8000"], |_| {});
    }
    h.login_not_ready("c");
    // 1: answered after 10 s (within SL); 2: answered after 30 s; 3: abandoned; 4: waiting.
    for id in 1..=4 {
        h.arrive(id, "8000");
    }
    h.advance(10.0);
    h.login("a");
    h.accept(1, "a");
    h.advance(20.0);
    h.login("b");
    h.accept(2, "b");
    h.end(3);
    h.advance(5.0);
    h.end(1); // a to after-call work

    let s = h.acd.queue_stats(h.now, &"8000".into()).unwrap();
    assert_eq!(
        s,
        QueueStats {
            dn: "8000".into(),
            name: "Sales".into(),
            waiting: 1,
            longest_wait_ms: 35_000,
            offered: 4,
            answered: 2,
            abandoned: 1,
            overflowed: 0,
            rejected_full: 0,
            rona: 0,
            average_speed_of_answer_ms: 20_000,
            service_level_secs: 20,
            answered_within_service_level: 1,
            service_level_pct: Some(100.0 / 3.0),
            agents: AgentCounts {
                logged_out: 1,
                not_ready: 1,
                busy: 1,
                after_call_work: 1,
                ..AgentCounts::default()
            },
            available: 0,
        }
    );
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["agents"]["after_call_work"], 1);

    h.ready("c");
    let view = h.acd.interaction_view(InteractionId(4)).unwrap();
    assert!(
        matches!(view.status, InteractionStatus::Offered { ref agents } if agents[0].as_str() == "c")
    );
}

#[test]
fn available_counts_ready_members() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    for id in ["a", "b", "c"] {
        h.agent(id, &["8000"], |_| {});
        h.login(id);
    }
    h.not_ready("b", "break");
    let s = h.acd.queue_stats(h.now, &"8000".into()).unwrap();
    assert_eq!((s.available, s.agents.ready, s.agents.not_ready), (2, 2, 1));
    assert_eq!(s.service_level_pct, None);
}

#[test]
fn agent_times_add_up_per_state() {
    let mut h = Harness::new();
    h.queue("8000", |q| q.wrap_up = WrapUp::Fixed { secs: 7 });
    h.agent("a", &["8000"], |_| {});
    h.login_not_ready("a");
    h.advance(60.0);
    h.ready("a");
    h.advance(5.0);
    h.arrive(1, "8000");
    h.advance(2.0);
    h.accept(1, "a");
    h.advance(90.0);
    h.end(1);
    h.advance(7.0);
    h.advance(3.0);
    let s = h.acd.agent_stats(h.now, &"a".into()).unwrap();
    assert_eq!(s.handled, 1);
    assert_eq!(s.not_ready_ms, 60_000);
    assert_eq!(s.reserved_ms, 2_000);
    assert_eq!(s.talk_ms, 90_000);
    assert_eq!(s.after_call_work_ms, 7_000);
    assert_eq!(s.ready_ms, 8_000); // 5 s before the offer, 3 s now
    assert_eq!(s.state_since_ms - common::WALL0, h.elapsed_ms() - 3_000);
}
