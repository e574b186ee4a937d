//! Work outside the ACD's routing (the preview dialer) moves the agent through Reserved,
//! Busy and AfterCallWork; queues offer them nothing meanwhile.

mod common;

use acd::{AcdError, AgentState, Event, ExternalWork};
use common::{offers, Harness};

fn work(h: &mut Harness, agent: &str, work: ExternalWork) -> Result<(), AcdError> {
    h.ev(Event::ExternalWork {
        agent: agent.into(),
        work,
    })
}

fn state(h: &Harness, agent: &str) -> AgentState {
    h.acd.agent_state(&agent.into()).cloned().unwrap()
}

#[test]
fn preview_work_blocks_offers_until_done() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.login("a");
    work(&mut h, "a", ExternalWork::Reserved).unwrap();
    assert_eq!(state(&h, "a"), AgentState::Reserved);
    h.arrive(1, "8000");
    assert!(offers(&h.drain()).is_empty(), "no offer while previewing");
    work(&mut h, "a", ExternalWork::Busy).unwrap();
    assert_eq!(state(&h, "a"), AgentState::Busy);
    work(&mut h, "a", ExternalWork::AfterCallWork).unwrap();
    assert_eq!(state(&h, "a"), AgentState::AfterCallWork);
    assert!(offers(&h.drain()).is_empty());
    work(&mut h, "a", ExternalWork::Done).unwrap();
    assert_eq!(
        state(&h, "a"),
        AgentState::Reserved,
        "pulls the waiting call at once"
    );
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
}

#[test]
fn missed_preview_is_rona_and_refused_when_not_ready() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    assert!(matches!(
        work(&mut h, "a", ExternalWork::Reserved),
        Err(AcdError::NotLoggedIn(_))
    ));
    h.login("a");
    work(&mut h, "a", ExternalWork::Reserved).unwrap();
    work(&mut h, "a", ExternalWork::Missed).unwrap();
    assert_eq!(state(&h, "a"), AgentState::Rona);
    // Done after the agent left the external work changes nothing.
    work(&mut h, "a", ExternalWork::Done).unwrap();
    assert_eq!(state(&h, "a"), AgentState::Rona);
    h.ev(Event::AgentState {
        agent: "a".into(),
        state: acd::RequestedState::not_ready("lunch"),
    })
    .unwrap();
    assert!(matches!(
        work(&mut h, "a", ExternalWork::Reserved),
        Err(AcdError::Busy(_))
    ));
}
