//! After-call work: fixed (automatic return to Ready) and manual.

mod common;

use acd::{AcdError, Action, AgentState, Cause, Event, WrapUp};
use common::{offers, Harness};

fn setup(h: &mut Harness, wrap: WrapUp) {
    h.queue("8000", |q| q.wrap_up = wrap);
    h.agent("a", &["8000"], |_| {});
    h.login("a");
}

fn causes(actions: &[Action]) -> Vec<(AgentState, Cause)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::AgentStateChanged(c) => Some((c.to.clone(), c.cause)),
            _ => None,
        })
        .collect()
}

#[test]
fn fixed_wrap_up_returns_to_ready_by_itself() {
    let mut h = Harness::new();
    setup(&mut h, WrapUp::Fixed { secs: 10 });
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.advance(30.0);
    h.end(1);
    assert_eq!(h.state("a"), AgentState::AfterCallWork);
    h.arrive(2, "8000");
    h.drain();
    h.advance(9.9);
    assert_eq!(h.state("a"), AgentState::AfterCallWork);
    h.advance(0.1);
    let actions = h.drain();
    assert_eq!(
        causes(&actions),
        vec![
            (AgentState::Ready, Cause::WrapUpTimer),
            (AgentState::Reserved, Cause::Offered)
        ]
    );
    // The waiting interaction is offered the moment the agent is Ready.
    assert_eq!(offers(&actions), vec![(2, "a".into())]);
    let stats = h.acd.agent_stats(h.now, &"a".into()).unwrap();
    assert_eq!(stats.talk_ms, 30_000);
    assert_eq!(stats.after_call_work_ms, 10_000);
    assert_eq!(stats.handled, 1);
}

#[test]
fn zero_wrap_up_goes_straight_to_ready() {
    let mut h = Harness::new();
    setup(&mut h, WrapUp::Fixed { secs: 0 });
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.drain();
    h.end(1);
    assert_eq!(
        causes(&h.drain()),
        vec![(AgentState::Ready, Cause::InteractionEnded)]
    );
}

#[test]
fn manual_wrap_up_waits_for_the_agent() {
    let mut h = Harness::new();
    setup(&mut h, WrapUp::Manual {});
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.end(1);
    h.arrive(2, "8000");
    h.advance(3600.0);
    assert_eq!(h.state("a"), AgentState::AfterCallWork);
    assert_eq!(h.acd.poll_timeout(), None);
    h.drain();
    h.ev(Event::WrapUpDone { agent: "a".into() }).unwrap();
    let actions = h.drain();
    assert_eq!(causes(&actions)[0], (AgentState::Ready, Cause::WrapUpDone));
    assert_eq!(offers(&actions), vec![(2, "a".into())]);
    assert!(matches!(
        h.ev(Event::WrapUpDone { agent: "a".into() }),
        Err(AcdError::NotInWrapUp(_))
    ));
}

#[test]
fn choosing_ready_ends_manual_wrap_up_as_in_the_demo() {
    let mut h = Harness::new();
    setup(&mut h, WrapUp::Manual {});
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.end(1);
    h.drain();
    h.ready("a");
    assert_eq!(
        causes(&h.drain()),
        vec![(AgentState::Ready, Cause::AgentRequest)]
    );
}

#[test]
fn not_ready_asked_during_the_call_applies_after_wrap_up() {
    let mut h = Harness::new();
    setup(&mut h, WrapUp::Fixed { secs: 5 });
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.not_ready("a", "lunch");
    assert_eq!(h.state("a"), AgentState::Busy);
    assert_eq!(
        h.acd.agent_view(&"a".into()).unwrap().pending,
        Some(AgentState::not_ready("lunch"))
    );
    h.end(1);
    h.arrive(2, "8000");
    h.drain();
    h.advance(5.0);
    assert_eq!(h.state("a"), AgentState::not_ready("lunch"));
    assert!(offers(&h.drain()).is_empty());
}

#[test]
fn a_stale_wrap_up_timer_does_not_cut_the_next_wrap_up_short() {
    let mut h = Harness::new();
    setup(&mut h, WrapUp::Fixed { secs: 10 });
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.end(1); // wrap-up until t+10
    h.advance(2.0);
    h.ev(Event::WrapUpDone { agent: "a".into() }).unwrap();
    h.arrive(2, "8000");
    h.accept(2, "a");
    h.advance(3.0);
    h.end(2); // wrap-up until t+15
    h.advance(5.0); // t+10: the first timer comes due and must be ignored
    assert_eq!(h.state("a"), AgentState::AfterCallWork);
    h.advance(5.0);
    assert_eq!(h.state("a"), AgentState::Ready);
}
