//! After a restart: wrap-ups brought back, what the agent is told at login, call
//! progress kept for recovery, and the release of an outcome that never came.

use super::*;
use crate::outcome::SWITCH_RESTARTED;
use crate::recovery::{PendingOutcome, Recovered};

fn recovered(pending: bool, next: Option<NextStatus>) -> Recovered {
    Recovered {
        agent: AGENT.into(),
        campaign: CampaignId(7),
        record: RecordId(1),
        attempt: AttemptId(41),
        number: number("+442079460001"),
        connected_at: Some(t0() - Duration::minutes(2)),
        ended_at: None,
        sip_status: None,
        outcome_pending: pending,
        outcome_until: pending.then(|| t0() + Duration::hours(1)),
        next,
    }
}

/// The flow of a node that just started, with Alice owing the outcome of record 1.
fn restored() -> Flow {
    let mut f = Flow::new(PreviewMode::Manual {});
    let mut record = lease(1, f.now).record;
    record.attempts = 1;
    let until = f.now + Duration::hours(1);
    record.status = RecordStatus::Dialling {
        agent: AGENT.into(),
        until,
    };
    f.input(Input::OutcomePending {
        agent: AGENT.into(),
        pending: Box::new(PendingOutcome {
            recovered: recovered(true, None),
            record,
            until,
        }),
    })
    .unwrap();
    assert!(
        f.drain().is_empty(),
        "nobody to tell before the agent is back"
    );
    f
}

#[test]
fn the_agent_finds_the_wrap_up_at_login_and_gives_the_outcome() {
    let mut f = restored();
    assert_eq!(f.state(), "wrapup");
    assert_eq!(f.p.session(AGENT).attempt, Some(AttemptId(41)));
    f.input(Input::AgentReady {
        agent: AGENT.into(),
        queues: vec![QUEUE.into()],
    })
    .unwrap();
    let out = f.drain();
    assert_eq!(acd_states(&out), vec![AcdState::AfterCallWork]);
    let told = events(&out);
    assert!(
        matches!(told[..], [Notification::Recovered { call }, Notification::CallEnded { sip_status: 200, .. }]
            if call.outcome_pending && call.attempt == AttemptId(41)),
        "{told:?}"
    );
    assert!(
        !out.iter().any(|o| matches!(o, Output::Lease { .. })),
        "no push before the outcome"
    );
    // Told once only.
    f.input(Input::AgentNotReady {
        agent: AGENT.into(),
    })
    .unwrap();
    assert!(events(&f.drain()).is_empty());

    f.input(Input::Outcome {
        agent: AGENT.into(),
        record: RecordId(1),
        outcome: outcome("no_answer"),
    })
    .unwrap();
    let out = f.drain();
    let c = close(&out).unwrap();
    assert_eq!(c.call.as_ref().map(|r| r.attempt), Some(AttemptId(41)));
    // The call counts once: attempt 1 of 2, so the retry rule applies.
    assert!(matches!(c.next, NextStatus::Ready { .. }), "{:?}", c.next);
    let out = f.closed(1);
    assert_eq!(acd_states(&out), vec![AcdState::Ready]);
    assert_eq!(
        f.state(),
        "leasing",
        "Ready again: the next record is asked for"
    );
}

#[test]
fn an_outcome_not_given_in_time_returns_the_record_by_the_rules() {
    let mut f = restored();
    f.advance(Duration::hours(1));
    let out = f.drain();
    let c = close(&out).unwrap();
    assert!(
        c.call.is_none() && c.outcome.is_none(),
        "the attempt keeps {SWITCH_RESTARTED}"
    );
    assert_eq!(c.next, NextStatus::Ready { at: f.now });
    assert!(
        acd_states(&f.closed(1)).is_empty(),
        "the agent never came back"
    );
    assert_eq!(f.state(), "idle");
}

#[test]
fn a_returned_record_is_news_for_the_agent_at_login() {
    let mut f = Flow::new(PreviewMode::Manual {});
    let next = NextStatus::Ready { at: t0() };
    f.input(Input::CallInterrupted {
        agent: AGENT.into(),
        recovered: recovered(false, Some(next.clone())),
    })
    .unwrap();
    assert!(f.drain().is_empty());
    f.input(Input::AgentNotReady {
        agent: AGENT.into(),
    })
    .unwrap();
    let out = f.drain();
    assert!(
        matches!(events(&out)[..], [Notification::Recovered { call }] if call.next == Some(next.clone())),
        "{out:?}"
    );
    assert!(acd_states(&out).is_empty());
}

#[test]
fn call_progress_is_saved_while_the_call_lasts() {
    let mut f = Flow::new(PreviewMode::Manual {});
    f.pull(1);
    f.input(Input::Accept {
        agent: AGENT.into(),
        record: RecordId(1),
    })
    .unwrap();
    f.drain();
    let (attempt, _) = f.attempt_ok(1);
    f.input(Input::CallConnected {
        agent: AGENT.into(),
        attempt,
    })
    .unwrap();
    let saved = |out: &[Output]| {
        out.iter()
            .find_map(|o| match o {
                Output::SaveCall(p) => Some(p.clone()),
                _ => None,
            })
            .unwrap()
    };
    let p = saved(&f.drain());
    assert_eq!(
        (p.attempt, p.connected_at, p.ended_at),
        (attempt, Some(f.now), None)
    );
    f.advance(Duration::seconds(30));
    f.input(Input::CallEnded {
        agent: AGENT.into(),
        attempt,
        sip_status: 200,
    })
    .unwrap();
    let p = saved(&f.drain());
    assert_eq!(p.ended_at, Some(f.now));
    assert_eq!(p.sip_status, Some(200));
    assert_eq!(p.connected_at, Some(f.now - Duration::seconds(30)));
}
