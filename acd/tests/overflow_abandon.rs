//! Overflow on maximum wait, busy on maximum size, and callers who give up.

mod common;

use acd::{AcdError, Action, AgentState, CancelReason, Event, InteractionId, MaxWait};
use common::{cancels, offers, queued, Harness};

fn overflow_queue(h: &mut Harness, secs: u32) {
    h.queue("8000", |q| {
        q.max_wait = Some(MaxWait {
            secs,
            target: "7000".into(),
        });
        q.offer_timeout_secs = 15;
    });
    h.agent("a", &["8000"], |_| {});
}

fn overflows(actions: &[Action]) -> Vec<(u64, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Overflow {
                interaction,
                target,
                ..
            } => Some((interaction.0, target.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn waiting_past_the_maximum_overflows_to_the_target() {
    let mut h = Harness::new();
    overflow_queue(&mut h, 60);
    h.arrive(1, "8000");
    h.advance(30.0);
    h.arrive(2, "8000");
    h.drain();
    h.advance(30.0);
    assert_eq!(overflows(&h.drain()), vec![(1, "7000".into())]);
    h.advance(30.0);
    assert_eq!(overflows(&h.drain()), vec![(2, "7000".into())]);
    let stats = h.acd.queue_stats(h.now, &"8000".into()).unwrap();
    assert_eq!((stats.offered, stats.overflowed, stats.waiting), (2, 2, 0));
    // The engine forgot it: the switch re-presents it to the target.
    assert_eq!(
        h.ev(Event::InteractionEnded {
            interaction: InteractionId(1)
        }),
        Err(AcdError::UnknownInteraction(InteractionId(1)))
    );
}

#[test]
fn answered_in_time_never_overflows() {
    let mut h = Harness::new();
    overflow_queue(&mut h, 60);
    h.arrive(1, "8000");
    h.advance(10.0);
    h.login("a");
    h.accept(1, "a");
    h.advance(120.0);
    assert!(overflows(&h.drain()).is_empty());
}

#[test]
fn an_interaction_ringing_at_its_deadline_overflows_when_it_comes_back() {
    let mut h = Harness::new();
    overflow_queue(&mut h, 20);
    h.arrive(1, "8000");
    h.advance(10.0);
    h.login("a");
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
    h.advance(10.0); // deadline passes while a's phone rings
    assert!(overflows(&h.drain()).is_empty());
    h.advance(5.0); // RONA at 25 s
    let actions = h.drain();
    assert_eq!(
        cancels(&actions),
        vec![(1, "a".into(), CancelReason::NoAnswer)]
    );
    assert_eq!(overflows(&actions), vec![(1, "7000".into())]);
}

#[test]
fn zero_maximum_wait_overflows_when_nobody_is_available() {
    let mut h = Harness::new();
    overflow_queue(&mut h, 0);
    h.arrive(1, "8000");
    h.advance(0.0);
    assert_eq!(overflows(&h.drain()), vec![(1, "7000".into())]);
}

#[test]
fn a_full_queue_answers_busy() {
    let mut h = Harness::new();
    h.queue("8000", |q| q.max_size = Some(2));
    h.agent("a", &["8000"], |_| {});
    h.arrive(1, "8000");
    h.arrive(2, "8000");
    h.drain();
    h.arrive(3, "8000");
    let actions = h.drain();
    assert!(matches!(&actions[..], [Action::QueueFull { interaction, .. }] if interaction.0 == 3));
    assert_eq!(
        h.acd
            .queue_stats(h.now, &"8000".into())
            .unwrap()
            .rejected_full,
        1
    );
    // Id 3 was not kept: it may be presented again.
    h.login("a");
    h.arrive(3, "8000");
    assert_eq!(queued(&h.drain()), vec![(3, 2)]);
}

#[test]
fn size_zero_accepts_only_what_an_agent_can_take_now() {
    let mut h = Harness::new();
    h.queue("8000", |q| q.max_size = Some(0));
    h.agent("a", &["8000"], |_| {});
    h.login("a");
    h.arrive(1, "8000");
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
    h.arrive(2, "8000");
    assert!(matches!(&h.drain()[..], [Action::QueueFull { .. }]));
}

#[test]
fn hanging_up_while_waiting_is_an_abandon() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.arrive(1, "8000");
    h.arrive(2, "8000");
    h.advance(12.0);
    h.drain();
    h.end(1);
    let actions = h.drain();
    assert!(matches!(&actions[..],
        [Action::InteractionAbandoned { interaction, waited_ms: 12_000, .. }] if interaction.0 == 1));
    assert_eq!(h.acd.position(InteractionId(2)), Some(1));
    let stats = h.acd.queue_stats(h.now, &"8000".into()).unwrap();
    assert_eq!((stats.abandoned, stats.waiting), (1, 1));
    h.login("a");
    assert_eq!(offers(&h.drain()), vec![(2, "a".into())]);
}

#[test]
fn hanging_up_while_ringing_cancels_the_offer() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.login("a");
    h.arrive(1, "8000");
    h.drain();
    h.end(1);
    let actions = h.drain();
    assert_eq!(
        cancels(&actions),
        vec![(1, "a".into(), CancelReason::Abandoned)]
    );
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::InteractionAbandoned { .. })));
    assert_eq!(h.state("a"), AgentState::Ready);
    assert_eq!(h.acd.poll_timeout(), None);
}
