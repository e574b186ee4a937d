//! Agent lifecycle, state-change records, refused events.

mod common;

use acd::{
    AcdError, Action, AgentState, CancelReason, Cause, Event, InteractionId, RequestedState,
    StateChange,
};
use common::{cancels, offers, Harness, WALL0};

fn changes(actions: &[Action]) -> Vec<StateChange> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::AgentStateChanged(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_change_is_recorded_with_time_and_cause() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.advance(2.0);
    h.login_not_ready("a");
    h.advance(3.0);
    h.ready("a");
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.advance(1.5);
    h.end(1);
    let got: Vec<(AgentState, AgentState, u64, Cause)> = changes(&h.drain())
        .into_iter()
        .map(|c| {
            assert_eq!(c.agent.as_str(), "a");
            (c.from, c.to, c.at_ms - WALL0, c.cause)
        })
        .collect();
    let nr = AgentState::not_ready("login");
    assert_eq!(
        got,
        vec![
            (AgentState::LoggedOut, nr.clone(), 2000, Cause::Login),
            (nr, AgentState::Ready, 5000, Cause::AgentRequest),
            (
                AgentState::Ready,
                AgentState::Reserved,
                5000,
                Cause::Offered
            ),
            (
                AgentState::Reserved,
                AgentState::Busy,
                5000,
                Cause::OfferAccepted
            ),
            (
                AgentState::Busy,
                AgentState::Ready,
                6500,
                Cause::InteractionEnded
            ),
        ]
    );
}

#[test]
fn state_changes_serialize_for_persistence() {
    let c = StateChange {
        agent: "a".into(),
        from: AgentState::not_ready("lunch"),
        to: AgentState::Ready,
        at_ms: 5,
        cause: Cause::AgentRequest,
    };
    let json = serde_json::to_string(&c).unwrap();
    assert_eq!(
        json,
        r#"{"agent":"a","from":{"state":"not_ready","reason":"lunch"},"to":{"state":"ready"},"at_ms":5,"cause":"agent_request"}"#
    );
    assert_eq!(serde_json::from_str::<StateChange>(&json).unwrap(), c);
}

#[test]
fn refused_events_leave_no_trace() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    let ready = RequestedState::Ready;
    assert_eq!(
        h.ev(Event::AgentState {
            agent: "a".into(),
            state: ready.clone()
        }),
        Err(AcdError::NotLoggedIn("a".into()))
    );
    assert_eq!(
        h.ev(Event::AgentLogout { agent: "a".into() }),
        Err(AcdError::NotLoggedIn("a".into()))
    );
    assert_eq!(
        h.ev(Event::AgentLogin {
            agent: "zed".into(),
            initial: ready.clone()
        }),
        Err(AcdError::UnknownAgent("zed".into()))
    );
    h.login("a");
    assert_eq!(
        h.ev(Event::AgentLogin {
            agent: "a".into(),
            initial: ready
        }),
        Err(AcdError::AlreadyLoggedIn("a".into()))
    );
    h.arrive(1, "8000");
    h.drain();
    assert_eq!(
        h.ev(Event::InteractionArrived(acd::Arrival::new(
            1,
            "8000",
            acd::Channel::Voice
        ))),
        Err(AcdError::DuplicateInteraction(InteractionId(1)))
    );
    assert_eq!(
        h.ev(Event::InteractionArrived(acd::Arrival::new(
            2,
            "9999",
            acd::Channel::Voice
        ))),
        Err(AcdError::UnknownQueue("9999".into()))
    );
    assert_eq!(
        h.ev(Event::InteractionEnded {
            interaction: InteractionId(7)
        }),
        Err(AcdError::UnknownInteraction(InteractionId(7)))
    );
    assert!(h.drain().is_empty());
}

#[test]
fn logout_while_ringing_sends_the_interaction_back() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.agent("b", &["8000"], |_| {});
    h.login("a");
    h.advance(1.0);
    h.login_not_ready("b");
    h.arrive(1, "8000");
    h.drain();
    h.ev(Event::AgentLogout { agent: "a".into() }).unwrap();
    let actions = h.drain();
    assert_eq!(
        cancels(&actions),
        vec![(1, "a".into(), CancelReason::AgentLoggedOut)]
    );
    assert_eq!(h.state("a"), AgentState::LoggedOut);
    assert_eq!(h.acd.position(InteractionId(1)), Some(1));
    h.ready("b");
    assert_eq!(offers(&h.drain()), vec![(1, "b".into())]);
}

#[test]
fn logout_while_busy_leaves_the_call_to_end_quietly() {
    let mut h = Harness::new();
    h.queue("8000", |q| q.wrap_up = acd::WrapUp::Manual {});
    h.agent("a", &["8000"], |_| {});
    h.login("a");
    h.arrive(1, "8000");
    h.accept(1, "a");
    h.ev(Event::AgentLogout { agent: "a".into() }).unwrap();
    h.drain();
    h.end(1);
    assert!(h.drain().is_empty());
    assert_eq!(h.state("a"), AgentState::LoggedOut);
    assert_eq!(
        h.acd.queue_stats(h.now, &"8000".into()).unwrap().answered,
        1
    );
}

#[test]
fn not_ready_reason_changes_are_recorded() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.login_not_ready("a");
    h.not_ready("a", "lunch");
    h.not_ready("a", "lunch");
    let got: Vec<AgentState> = changes(&h.drain()).into_iter().map(|c| c.to).collect();
    assert_eq!(
        got,
        vec![
            AgentState::not_ready("login"),
            AgentState::not_ready("lunch")
        ]
    );
}
