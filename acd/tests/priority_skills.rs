//! Priorities and skill requirements, from the interaction's side and the agent's side.

mod common;

use acd::{AgentState, InteractionId};
use common::{offers, Harness};

#[test]
fn higher_priority_is_served_first_then_arrival_order() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.arrive(1, "8000");
    h.arrive_with(2, "8000", |a| a.priority = 5);
    h.arrive(3, "8000");
    h.arrive_with(4, "8000", |a| a.priority = 5);
    assert_eq!(h.acd.position(InteractionId(4)), Some(2));
    assert_eq!(h.acd.position(InteractionId(3)), Some(4));
    h.drain();
    h.login("a");
    let mut served = Vec::new();
    for _ in 0..4 {
        let (id, agent) = offers(&h.drain())[0].clone();
        served.push(id);
        h.accept(id, &agent);
        h.end(id);
    }
    assert_eq!(served, [2, 4, 1, 3]);
}

#[test]
fn an_agent_in_several_queues_takes_the_oldest_of_equal_priority() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.queue("8001", |_| {});
    h.agent("a", &["8000", "8001"], |_| {});
    h.arrive(1, "8001");
    h.advance(1.0);
    h.arrive(2, "8000");
    h.advance(1.0);
    h.arrive_with(3, "8000", |a| a.priority = 1);
    h.drain();
    h.login("a");
    assert_eq!(offers(&h.drain()), vec![(3, "a".into())]);
    h.accept(3, "a");
    h.end(3);
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
}

fn linguists(h: &mut Harness) {
    h.queue("8000", |_| {});
    h.agent("en", &["8000"], |a| {
        a.skills.insert("english".into(), 5);
    });
    h.agent("fr", &["8000"], |a| {
        a.skills.insert("french".into(), 3);
    });
}

#[test]
fn interaction_skills_select_among_available_agents() {
    let mut h = Harness::new();
    linguists(&mut h);
    h.login("en");
    h.advance(1.0);
    h.login("fr");
    // en has been idle longer, but only fr speaks French.
    h.arrive_with(1, "8000", |a| {
        a.skills.insert("french".into(), 2);
    });
    assert_eq!(offers(&h.drain()), vec![(1, "fr".into())]);
    // Nobody has French at 4: it waits even though en is Ready.
    h.arrive_with(2, "8000", |a| {
        a.skills.insert("french".into(), 4);
    });
    assert!(offers(&h.drain()).is_empty());
    assert_eq!(h.state("en"), AgentState::Ready);
    // An ordinary interaction behind it still reaches en.
    h.arrive(3, "8000");
    assert_eq!(offers(&h.drain()), vec![(3, "en".into())]);
    // A fluent agent arrives: they pull the French interaction.
    h.agent("fr2", &["8000"], |a| {
        a.skills.insert("french".into(), 5);
    });
    h.login("fr2");
    assert_eq!(offers(&h.drain()), vec![(2, "fr2".into())]);
}

#[test]
fn an_agent_becoming_ready_skips_interactions_they_cannot_take() {
    let mut h = Harness::new();
    linguists(&mut h);
    h.arrive_with(1, "8000", |a| {
        a.skills.insert("french".into(), 1);
    });
    h.arrive(2, "8000");
    h.drain();
    h.login("en");
    assert_eq!(offers(&h.drain()), vec![(2, "en".into())]);
    h.login("fr");
    assert_eq!(offers(&h.drain()), vec![(1, "fr".into())]);
}

#[test]
fn queue_required_skills_keep_unskilled_members_out() {
    let mut h = Harness::new();
    h.queue("8000", |q| {
        q.required_skills.insert("billing".into(), 2);
    });
    h.agent("novice", &["8000"], |a| {
        a.skills.insert("billing".into(), 1);
    });
    h.agent("none", &["8000"], |_| {});
    h.login("novice");
    h.login("none");
    h.arrive(1, "8000");
    assert!(offers(&h.drain()).is_empty());
    assert_eq!(
        h.acd.queue_stats(h.now, &"8000".into()).unwrap().available,
        0
    );
    // Training at run time: the agent qualifies and pulls the waiting interaction.
    h.agent("novice", &["8000"], |a| {
        a.skills.insert("billing".into(), 2);
    });
    assert_eq!(offers(&h.drain()), vec![(1, "novice".into())]);
}

#[test]
fn unknown_required_skill_waits_rather_than_failing() {
    let mut h = Harness::new();
    linguists(&mut h);
    h.login("en");
    h.arrive_with(1, "8000", |a| {
        a.skills.insert("klingon".into(), 1);
    });
    assert!(offers(&h.drain()).is_empty());
    assert_eq!(h.acd.position(InteractionId(1)), Some(1));
}

/// A transferred interaction (`waited_ms`) keeps its place by its first arrival where the
/// queue says so, and waits behind everyone where it does not.
#[test]
fn a_transferred_interaction_waits_by_its_first_arrival_or_its_transfer() {
    for (mode, expected) in [
        (acd::TransferArrival::Original, [1, 3, 2]),
        (acd::TransferArrival::Transfer, [1, 2, 3]),
    ] {
        let mut h = Harness::new();
        h.queue("8000", |q| q.transfer_arrival = mode);
        h.agent("a", &["8000"], |_| {});
        h.advance(100.0);
        h.arrive(1, "8000");
        h.advance(10.0);
        h.arrive(2, "8000");
        h.advance(10.0);
        // Waited 15 s elsewhere: it first arrived 5 s after 1, 5 s before 2.
        h.arrive_with(3, "8000", |a| a.waited_ms = 15_000);
        let arrived = h
            .acd
            .interaction_view(InteractionId(3))
            .map(|v| v.arrived_ms);
        let first = match mode {
            acd::TransferArrival::Original => h.elapsed_ms() - 15_000,
            acd::TransferArrival::Transfer => h.elapsed_ms(),
        };
        assert_eq!(arrived, Some(common::WALL0 + first), "{mode:?}");
        h.drain();
        h.login("a");
        let mut served = Vec::new();
        for _ in 0..3 {
            let (id, agent) = offers(&h.drain())[0].clone();
            served.push(id);
            h.accept(id, &agent);
            h.end(id);
        }
        assert_eq!(served, expected, "{mode:?}");
    }
}
