//! Per-channel capacity: several chats at once, channels that do not mix.

mod common;

use acd::{Action, AgentState, Arrival, Capacity, Channel, Event};
use common::{offers, Harness};

fn chat(h: &mut Harness, id: u64) {
    h.ev(Event::InteractionArrived(Arrival::new(
        id,
        "8000",
        Channel::Chat,
    )))
    .unwrap();
}

fn blended(h: &mut Harness) {
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |a| {
        a.capacity = Capacity {
            voice: 1,
            chat: 3,
            ..Capacity::default()
        };
    });
}

#[test]
fn an_agent_holds_up_to_their_chat_capacity() {
    let mut h = Harness::new();
    blended(&mut h);
    h.login("a");
    for id in 1..=4 {
        chat(&mut h, id);
    }
    assert_eq!(
        offers(&h.drain()),
        vec![(1, "a".into()), (2, "a".into()), (3, "a".into())]
    );
    assert_eq!(h.state("a"), AgentState::Reserved);
    h.accept(1, "a");
    assert_eq!(h.state("a"), AgentState::Busy);
    h.accept(2, "a");
    h.accept(3, "a");
    h.end(2);
    // A slot is free: the fourth chat comes in while the agent stays Busy.
    assert_eq!(offers(&h.drain()), vec![(4, "a".into())]);
    assert_eq!(h.state("a"), AgentState::Busy);
}

#[test]
fn channels_do_not_mix() {
    let mut h = Harness::new();
    blended(&mut h);
    h.login("a");
    chat(&mut h, 1);
    h.accept(1, "a");
    h.drain();
    h.arrive(2, "8000"); // voice
    assert!(offers(&h.drain()).is_empty(), "no call while on a chat");
    h.end(1);
    // Work over (wrap-up 0): Ready, and the call comes.
    assert_eq!(offers(&h.drain()), vec![(2, "a".into())]);
    h.accept(2, "a");
    chat(&mut h, 3);
    assert!(offers(&h.drain()).is_empty(), "no chat while on a call");
}

#[test]
fn default_capacity_is_voice_only() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("v", &["8000"], |_| {});
    h.login("v");
    chat(&mut h, 1);
    assert!(offers(&h.drain()).is_empty());
    assert_eq!(h.acd.best_agent(&"8000".into(), Channel::Chat), None);
    assert_eq!(
        h.acd
            .best_agent(&"8000".into(), Channel::Voice)
            .unwrap()
            .as_str(),
        "v"
    );
}

#[test]
fn idle_agents_come_before_agents_with_a_spare_slot() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    for id in ["a", "b"] {
        h.agent(id, &["8000"], |a| {
            a.capacity.chat = 2;
        });
    }
    h.login("a");
    h.advance(1.0);
    h.login("b");
    chat(&mut h, 1);
    chat(&mut h, 2);
    chat(&mut h, 3);
    assert_eq!(
        offers(&h.drain()),
        vec![(1, "a".into()), (2, "b".into()), (3, "a".into())]
    );
}

#[test]
fn pending_not_ready_stops_new_chats() {
    let mut h = Harness::new();
    blended(&mut h);
    h.login("a");
    chat(&mut h, 1);
    h.accept(1, "a");
    h.not_ready("a", "end of shift");
    chat(&mut h, 2);
    h.drain();
    assert!(offers(&h.drain()).is_empty());
    h.end(1);
    assert_eq!(h.state("a"), AgentState::not_ready("end of shift"));
    assert!(h.drain().iter().all(|a| !matches!(a, Action::Offer { .. })));
}

#[test]
fn a_missed_chat_offer_while_busy_means_rona_after_the_work() {
    let mut h = Harness::new();
    blended(&mut h);
    h.login("a");
    chat(&mut h, 1);
    h.accept(1, "a");
    chat(&mut h, 2);
    h.drain();
    h.advance(15.0);
    assert_eq!(h.state("a"), AgentState::Busy);
    chat(&mut h, 3);
    assert!(offers(&h.drain()).is_empty(), "no offers after a miss");
    h.end(1);
    assert_eq!(h.state("a"), AgentState::Rona);
}
