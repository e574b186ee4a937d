//! Redirect On No Answer: timeouts and rejections.

mod common;

use acd::{AcdError, Action, AgentState, CancelReason, Cause, Event, InteractionId};
use common::{cancels, offers, queued, Harness};
use std::time::Duration;

fn setup(h: &mut Harness) {
    h.queue("8000", |q| q.offer_timeout_secs = 15);
    h.agent("a", &["8000"], |_| {});
    h.agent("b", &["8000"], |_| {});
}

#[test]
fn timeout_sends_agent_to_rona_and_interaction_back_to_the_head() {
    let mut h = Harness::new();
    setup(&mut h);
    h.login("a");
    h.login_not_ready("b");
    h.arrive(1, "8000");
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
    assert_eq!(h.acd.poll_timeout(), Some(h.now + Duration::from_secs(15)));
    h.advance(5.0);
    h.arrive(2, "8000");
    assert_eq!(queued(&h.drain()), vec![(2, 1)]);

    h.advance(10.0);
    let actions = h.drain();
    assert_eq!(
        cancels(&actions),
        vec![(1, "a".into(), CancelReason::NoAnswer)]
    );
    assert!(actions.iter().any(|a| matches!(a,
        Action::AgentStateChanged(c) if c.to == AgentState::Rona && c.cause == Cause::OfferTimeout)));
    // Back at the head, ahead of the one that arrived after it.
    assert_eq!(queued(&actions), vec![(1, 1)]);
    assert_eq!(h.acd.position(InteractionId(1)), Some(1));
    assert_eq!(h.acd.position(InteractionId(2)), Some(2));
    assert_eq!(h.state("a"), AgentState::Rona);

    h.ready("b");
    assert_eq!(offers(&h.drain()), vec![(1, "b".into())]);
    h.advance(2.0);
    h.accept(1, "b");
    // It kept its waiting time: 15 s ringing a + 2 s ringing b.
    let stats = h.acd.queue_stats(h.now, &"8000".into()).unwrap();
    assert_eq!(stats.average_speed_of_answer_ms, 17_000);
    assert_eq!(stats.rona, 1);
}

#[test]
fn rona_agent_gets_nothing_until_they_choose_a_state() {
    let mut h = Harness::new();
    setup(&mut h);
    h.login("a");
    h.arrive(1, "8000");
    h.advance(15.0);
    h.drain();
    h.advance(60.0);
    assert_eq!(h.state("a"), AgentState::Rona);
    assert!(offers(&h.drain()).is_empty());
    h.arrive(2, "8000");
    assert!(offers(&h.drain()).is_empty());
    h.ready("a");
    // Interaction 1 is older: it goes first.
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
}

#[test]
fn rejection_is_rona_at_once_and_the_next_agent_rings() {
    let mut h = Harness::new();
    setup(&mut h);
    h.login("a");
    h.advance(1.0);
    h.login("b");
    h.arrive(1, "8000");
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
    h.reject(1, "a");
    let actions = h.drain();
    assert!(cancels(&actions).is_empty(), "the phone already said no");
    assert_eq!(offers(&actions), vec![(1, "b".into())]);
    assert!(actions.iter().any(|a| matches!(a,
        Action::AgentStateChanged(c) if c.to == AgentState::Rona && c.cause == Cause::OfferRejected)));
}

#[test]
fn a_late_answer_after_rona_is_refused() {
    let mut h = Harness::new();
    setup(&mut h);
    h.login("a");
    h.arrive(1, "8000");
    h.advance(15.0);
    let err = h
        .ev(Event::OfferAccepted {
            interaction: InteractionId(1),
            agent: "a".into(),
        })
        .unwrap_err();
    assert!(matches!(err, AcdError::NoSuchOffer { .. }));
    assert_eq!(h.state("a"), AgentState::Rona);
}

#[test]
fn accepted_offer_disarms_its_timer() {
    let mut h = Harness::new();
    setup(&mut h);
    h.login("a");
    h.arrive(1, "8000");
    h.accept(1, "a");
    assert_eq!(h.acd.poll_timeout(), None);
    h.advance(100.0);
    assert_eq!(h.state("a"), AgentState::Busy);
}

#[test]
fn not_ready_while_ringing_withdraws_the_offer() {
    let mut h = Harness::new();
    setup(&mut h);
    h.login("a");
    h.advance(1.0);
    h.login("b");
    h.arrive(1, "8000");
    h.drain();
    h.not_ready("a", "coffee");
    let actions = h.drain();
    assert_eq!(
        cancels(&actions),
        vec![(1, "a".into(), CancelReason::AgentNotReady)]
    );
    assert_eq!(offers(&actions), vec![(1, "b".into())]);
    assert_eq!(h.state("a"), AgentState::not_ready("coffee"));
}
