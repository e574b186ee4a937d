//! Dialling: countdown, early calls, numbers, declines, calling window, DNC.

use super::*;

#[test]
fn countdown_dials_the_first_number_when_it_ends() {
    let mut f = Flow::new(PreviewMode::Countdown { seconds: 10 });
    let out = f.pull(1);
    assert_eq!(acd_states(&out), [AcdState::Reserved]);
    let Some(Notification::Preview(view)) = events(&out).first().copied() else {
        panic!("no preview in {out:?}");
    };
    assert_eq!(view.dial_at, Some(t0() + Duration::seconds(10)));
    assert_eq!(view.case_info.len(), 0);
    assert_eq!(view.phones.len(), 2);
    assert_eq!(f.p.poll_timeout(), Some(t0() + Duration::seconds(10)));

    f.advance(Duration::seconds(9));
    assert!(f.drain().is_empty());
    f.advance(Duration::seconds(1));
    let out = f.drain();
    let start = start_attempt(&out).expect("countdown dials");
    assert_eq!(start.number, number("+442079460001"));
    assert_eq!(start.lease_until, f.now + Duration::hours(4));
    assert_eq!(f.state(), "starting");

    let (attempt, out) = f.attempt_ok(1);
    assert!(out.iter().any(|o| matches!(o,
        Output::Originate { attempt: a, number: n, .. } if *a == attempt && *n == number("+442079460001"))));
    assert_eq!(acd_states(&out), [AcdState::Busy]);
    assert_eq!(f.state(), "dialling");
    assert_eq!(f.p.poll_timeout(), None, "no countdown once dialling");
}

#[test]
fn early_call_beats_the_countdown() {
    let mut f = Flow::new(PreviewMode::Countdown { seconds: 30 });
    f.pull(1);
    f.advance(Duration::seconds(5));
    f.input(Input::Call {
        agent: AGENT.into(),
        record: RecordId(1),
        number: NumberChoice::Index(1),
    })
    .unwrap();
    let out = f.drain();
    assert_eq!(start_attempt(&out).unwrap().number, number("+447700900002"));
    assert_eq!(start_attempt(&out).unwrap().phone_type, PhoneType::Mobile);
    let (attempt, _) = f.attempt_ok(1);
    f.advance(Duration::seconds(60));
    assert!(f.drain().is_empty(), "countdown must not dial again");
    // The call runs: connected, ended, wrap-up.
    f.input(Input::CallConnected {
        agent: AGENT.into(),
        attempt,
    })
    .unwrap();
    f.input(Input::CallEnded {
        agent: AGENT.into(),
        attempt,
        sip_status: 200,
    })
    .unwrap();
    let out = f.drain();
    assert_eq!(acd_states(&out), [AcdState::AfterCallWork]);
    assert_eq!(f.state(), "wrapup");
}

#[test]
fn new_number_is_validated_and_added() {
    let mut f = Flow::new(PreviewMode::Manual {});
    f.pull(1);
    let bad = f.input(Input::Call {
        agent: AGENT.into(),
        record: RecordId(1),
        number: NumberChoice::New {
            number: "12ab".into(),
            kind: PhoneType::Work,
        },
    });
    assert!(matches!(bad, Err(PreviewError::InvalidNumber(_))));
    let bad = f.input(Input::Call {
        agent: AGENT.into(),
        record: RecordId(1),
        number: NumberChoice::Index(5),
    });
    assert_eq!(bad, Err(PreviewError::PhoneIndex { index: 5, count: 2 }));
    assert_eq!(f.state(), "previewing");
    f.input(Input::Call {
        agent: AGENT.into(),
        record: RecordId(1),
        number: NumberChoice::New {
            number: "+44 161 496 0003".into(),
            kind: PhoneType::Work,
        },
    })
    .unwrap();
    let out = f.drain();
    let start = start_attempt(&out).unwrap();
    assert!(start.new_phone);
    assert_eq!(start.number, number("+441614960003"));
}

#[test]
fn decline_call_later_returns_the_record_with_a_retry_time() {
    let mut f = Flow::new(PreviewMode::Countdown { seconds: 30 });
    f.pull(1);
    f.input(Input::Decline {
        agent: AGENT.into(),
        record: RecordId(1),
        decline: Decline::CallLater { retry_at: None },
    })
    .unwrap();
    let out = f.drain();
    let c = close(&out).unwrap();
    assert_eq!(
        c.next,
        NextStatus::Ready {
            at: t0() + Duration::minutes(60)
        }
    );
    assert!(c.dnc.is_empty() && c.call.is_none());
    assert_eq!(f.state(), "closing");
    f.advance(Duration::seconds(40));
    assert!(f.drain().is_empty(), "no dial after a decline");
    let out = f.closed(1);
    assert_eq!(acd_states(&out), [AcdState::Ready]);
    assert_eq!(f.state(), "idle");
}

#[test]
fn decline_do_not_call_closes_the_record_and_lists_its_numbers() {
    let mut f = Flow::new(PreviewMode::Manual {});
    f.pull(1);
    f.input(Input::Decline {
        agent: AGENT.into(),
        record: RecordId(1),
        decline: Decline::DoNotCall,
    })
    .unwrap();
    let out = f.drain();
    let c = close(&out).unwrap();
    assert_eq!(c.next, NextStatus::DoNotCall);
    assert_eq!(
        c.dnc,
        vec![number("+442079460001"), number("+447700900002")]
    );
}

#[test]
fn calling_window_is_enforced() {
    let mut f = Flow::new(PreviewMode::Manual {});
    // 22:00 in London: closed until 09:00 next day.
    f.now = "2024-01-10T22:00:00Z".parse().unwrap();
    f.pull(1);
    let err = f
        .input(Input::Accept {
            agent: AGENT.into(),
            record: RecordId(1),
        })
        .unwrap_err();
    let opens: DateTime<Utc> = "2024-01-11T09:00:00Z".parse().unwrap();
    assert_eq!(err, PreviewError::OutsideWindow { opens_at: opens });
    assert!(start_attempt(&f.drain()).is_none());

    // A countdown ending outside the window gives the record back until it opens.
    let mut f = Flow::new(PreviewMode::Countdown { seconds: 5 });
    f.now = "2024-01-10T20:59:58Z".parse().unwrap();
    f.pull(1);
    f.advance(Duration::seconds(5));
    let out = f.drain();
    assert!(start_attempt(&out).is_none());
    assert_eq!(close(&out).unwrap().next, NextStatus::Ready { at: opens });
    assert!(events(&out)
        .iter()
        .any(|e| matches!(e, Notification::DialRefused { .. })));
}

#[test]
fn dnc_numbers_are_never_dialled() {
    let mut f = Flow::new(PreviewMode::Countdown { seconds: 5 });
    f.input(Input::RequestNext {
        agent: AGENT.into(),
        campaign: CampaignId(7),
    })
    .unwrap();
    f.drain();
    let mut l = lease(1, f.now);
    l.blocked = vec![number("+442079460001")];
    f.input(Input::Leased {
        agent: AGENT.into(),
        lease: l,
    })
    .unwrap();
    assert_eq!(
        f.input(Input::Call {
            agent: AGENT.into(),
            record: RecordId(1),
            number: NumberChoice::Index(0)
        }),
        Err(PreviewError::NumberBlocked(number("+442079460001")))
    );
    // The countdown picks the first number that is not blocked...
    f.advance(Duration::seconds(5));
    let out = f.drain();
    assert_eq!(start_attempt(&out).unwrap().number, number("+447700900002"));
    // ...and when the store finds it on the list meanwhile, nothing is dialled.
    f.input(Input::AttemptStarted {
        agent: AGENT.into(),
        record: RecordId(1),
        result: Err(SaveError::Dnc(number("+447700900002"))),
    })
    .unwrap();
    let out = f.drain();
    assert!(!out.iter().any(|o| matches!(o, Output::Originate { .. })));
    assert_eq!(f.state(), "previewing");
    assert_eq!(
        f.input(Input::Accept {
            agent: AGENT.into(),
            record: RecordId(1)
        }),
        Err(PreviewError::NoCallableNumber)
    );
}

#[test]
fn dial_on_accept_dials_a_pulled_record_at_once() {
    let mut f = Flow::new(PreviewMode::DialOnAccept {});
    let out = f.pull(1);
    assert!(start_attempt(&out).is_some());
    assert_eq!(acd_states(&out), [AcdState::Reserved]);
}
