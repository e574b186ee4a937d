//! Each queue strategy picks the agent it promises.

mod common;

use acd::{AgentState, CancelReason, Channel, Strategy};
use common::{cancels, offers, Harness};

fn three_agents(h: &mut Harness, dn: &str) {
    for id in ["a", "b", "c"] {
        h.agent(id, &[dn], |_| {});
    }
}

#[test]
fn longest_idle_is_the_default_and_rotates_by_idle_time() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    three_agents(&mut h, "8000");
    h.login("b");
    h.advance(1.0);
    h.login("a");
    h.advance(1.0);
    h.login("c");
    h.advance(1.0);
    assert_eq!(
        h.acd
            .best_agent(&"8000".into(), Channel::Voice)
            .map(|a| a.to_string()),
        Some("b".into())
    );
    assert_eq!(h.handle_one(1, "8000"), "b");
    // b is Ready again but now the most recently idle.
    assert_eq!(h.handle_one(2, "8000"), "a");
    assert_eq!(h.handle_one(3, "8000"), "c");
    assert_eq!(h.handle_one(4, "8000"), "b");
}

#[test]
fn withdrawn_offer_keeps_the_agents_idle_place() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    three_agents(&mut h, "8000");
    for id in ["a", "b", "c"] {
        h.login(id);
        h.advance(1.0);
    }
    h.arrive(1, "8000");
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
    h.end(1); // caller gives up while a's phone rings
    assert_eq!(h.state("a"), AgentState::Ready);
    assert_eq!(h.handle_one(2, "8000"), "a");
}

#[test]
fn round_robin_continues_after_the_last_agent_served() {
    let mut h = Harness::new();
    h.strategy_queue("8000", Strategy::RoundRobin);
    three_agents(&mut h, "8000");
    for id in ["c", "b", "a"] {
        h.login(id);
    }
    // Join order (a, b, c) decides, not idle time.
    assert_eq!(h.handle_one(1, "8000"), "a");
    assert_eq!(h.handle_one(2, "8000"), "b");
    assert_eq!(h.handle_one(3, "8000"), "c");
    assert_eq!(h.handle_one(4, "8000"), "a");
    // b is away: the rotation skips to c, then wraps to a.
    h.not_ready("b", "break");
    assert_eq!(h.handle_one(5, "8000"), "c");
    assert_eq!(h.handle_one(6, "8000"), "a");
    h.ready("b");
    assert_eq!(h.handle_one(7, "8000"), "b");
}

#[test]
fn round_robin_memory_is_per_queue() {
    let mut h = Harness::new();
    h.strategy_queue("8000", Strategy::RoundRobin);
    h.strategy_queue("8001", Strategy::RoundRobin);
    three_agents(&mut h, "8000");
    h.agent("a", &["8000", "8001"], |_| {});
    h.agent("b", &["8000", "8001"], |_| {});
    for id in ["a", "b", "c"] {
        h.login(id);
    }
    assert_eq!(h.handle_one(1, "8000"), "a");
    assert_eq!(h.handle_one(2, "8000"), "b");
    // 8001 has its own memory: it starts with a.
    assert_eq!(h.handle_one(3, "8001"), "a");
    assert_eq!(h.handle_one(4, "8000"), "c");
}

#[test]
fn fewest_handled_counts_answers_from_this_queue() {
    let mut h = Harness::new();
    h.strategy_queue("8000", Strategy::FewestHandled);
    h.queue("9000", |_| {});
    three_agents(&mut h, "8000");
    h.agent("a", &["8000", "9000"], |_| {});
    h.login("a");
    h.advance(1.0);
    h.login("b");
    h.advance(1.0);
    h.login("c");
    h.advance(1.0);
    // Calls from another queue do not count.
    assert_eq!(h.handle_one(1, "9000"), "a");
    // All at 0 in 8000: the longest idle (b; a just finished) is first.
    assert_eq!(h.handle_one(2, "8000"), "b");
    assert_eq!(h.handle_one(3, "8000"), "c");
    assert_eq!(h.handle_one(4, "8000"), "a");
    // All at 1: b has been idle longest.
    assert_eq!(h.handle_one(5, "8000"), "b");
    h.not_ready("c", "break");
    // a (1) before b (2).
    assert_eq!(h.handle_one(6, "8000"), "a");
}

#[test]
fn best_skill_prefers_the_highest_level() {
    let mut h = Harness::new();
    h.queue("8000", |q| {
        q.strategy = Strategy::BestSkill;
        q.required_skills.insert("sales".into(), 1);
    });
    for (id, level) in [("a", 3), ("b", 7), ("c", 5)] {
        h.agent(id, &["8000"], |a| {
            a.skills.insert("sales".into(), level);
        });
        h.login(id);
    }
    assert_eq!(h.handle_one(1, "8000"), "b");
    assert_eq!(h.handle_one(2, "8000"), "b");
    h.not_ready("b", "lunch");
    assert_eq!(h.handle_one(3, "8000"), "c");
    // Equal levels: longest idle wins.
    h.agent("d", &["8000"], |a| {
        a.skills.insert("sales".into(), 5);
    });
    h.login("d");
    h.advance(0.5);
    assert_eq!(h.handle_one(4, "8000"), "c");
    assert_eq!(h.handle_one(5, "8000"), "d");
}

#[test]
fn ring_all_offers_everyone_and_the_first_answer_wins() {
    let mut h = Harness::new();
    h.strategy_queue("8000", Strategy::RingAll);
    three_agents(&mut h, "8000");
    for id in ["a", "b", "c"] {
        h.login(id);
    }
    h.arrive(1, "8000");
    let mut offered: Vec<String> = offers(&h.drain()).into_iter().map(|o| o.1).collect();
    offered.sort();
    assert_eq!(offered, ["a", "b", "c"]);
    for id in ["a", "b", "c"] {
        assert_eq!(h.state(id), AgentState::Reserved);
    }
    h.accept(1, "b");
    let mut cancelled = cancels(&h.drain());
    cancelled.sort_by(|x, y| x.1.cmp(&y.1));
    assert_eq!(
        cancelled,
        vec![
            (1, "a".into(), CancelReason::AnsweredElsewhere),
            (1, "c".into(), CancelReason::AnsweredElsewhere)
        ]
    );
    assert_eq!(h.state("a"), AgentState::Ready);
    assert_eq!(h.state("b"), AgentState::Busy);
    assert_eq!(h.state("c"), AgentState::Ready);
    // A late answer from a loser is refused.
    assert!(h
        .ev(acd::Event::OfferAccepted {
            interaction: acd::InteractionId(1),
            agent: "a".into()
        })
        .is_err());
}

#[test]
fn ring_all_rona_puts_every_ringing_agent_in_rona() {
    let mut h = Harness::new();
    h.queue("8000", |q| {
        q.strategy = Strategy::RingAll;
        q.offer_timeout_secs = 10;
    });
    three_agents(&mut h, "8000");
    h.login("a");
    h.login("b");
    h.arrive(1, "8000");
    assert_eq!(offers(&h.drain()).len(), 2);
    h.advance(10.0);
    let actions = h.drain();
    assert_eq!(cancels(&actions).len(), 2);
    assert_eq!(h.state("a"), AgentState::Rona);
    assert_eq!(h.state("b"), AgentState::Rona);
    // c joins: the interaction rings c alone.
    h.login("c");
    assert_eq!(offers(&h.drain()), vec![(1, "c".into())]);
}

#[test]
fn ring_all_rejection_by_one_leaves_the_others_ringing() {
    let mut h = Harness::new();
    h.strategy_queue("8000", Strategy::RingAll);
    three_agents(&mut h, "8000");
    h.login("a");
    h.login("b");
    h.arrive(1, "8000");
    h.drain();
    h.reject(1, "a");
    assert_eq!(h.state("a"), AgentState::Rona);
    assert_eq!(h.state("b"), AgentState::Reserved);
    assert!(offers(&h.drain()).is_empty());
    h.accept(1, "b");
    assert_eq!(h.state("b"), AgentState::Busy);
}

#[test]
fn changing_the_strategy_at_run_time_reorders_available_agents() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    for (id, level) in [("a", 1), ("b", 9)] {
        h.agent(id, &["8000"], |a| {
            a.skills.insert("sales".into(), level);
        });
        h.login(id);
        h.advance(1.0);
    }
    assert_eq!(
        h.acd
            .best_agent(&"8000".into(), Channel::Voice)
            .unwrap()
            .as_str(),
        "a"
    );
    h.queue("8000", |q| {
        q.strategy = Strategy::BestSkill;
        q.required_skills.insert("sales".into(), 0);
    });
    assert_eq!(
        h.acd
            .best_agent(&"8000".into(), Channel::Voice)
            .unwrap()
            .as_str(),
        "b"
    );
}
