//! Wrap-up and the record's next status, pushes, expiry, failures, refusals.

use super::*;

#[test]
fn outcome_is_required_before_the_next_record() {
    let mut f = Flow::new(PreviewMode::Manual {});
    f.pull(1);
    f.input(Input::Accept {
        agent: AGENT.into(),
        record: RecordId(1),
    })
    .unwrap();
    f.drain();
    let (attempt, _) = f.attempt_ok(1);
    assert_eq!(
        f.input(Input::Outcome {
            agent: AGENT.into(),
            record: RecordId(1),
            outcome: outcome("success")
        }),
        Err(PreviewError::CallInProgress)
    );
    f.input(Input::CallEnded {
        agent: AGENT.into(),
        attempt,
        sip_status: 486,
    })
    .unwrap();
    let out = f.drain();
    assert!(events(&out).iter().any(|e| matches!(e,
        Notification::CallEnded { suggested_result: Some(s), .. } if s == "busy")));
    assert_eq!(
        f.input(Input::RequestNext {
            agent: AGENT.into(),
            campaign: CampaignId(7)
        }),
        Err(PreviewError::OutcomeRequired(RecordId(1)))
    );
    // A bad outcome is refused and the agent stays in wrap-up.
    let mut bad = outcome("busy");
    bad.dispositions.clear();
    assert!(matches!(
        f.input(Input::Outcome {
            agent: AGENT.into(),
            record: RecordId(1),
            outcome: bad
        }),
        Err(PreviewError::Outcome(_))
    ));
    assert_eq!(f.state(), "wrapup");
    f.input(Input::Outcome {
        agent: AGENT.into(),
        record: RecordId(1),
        outcome: outcome("busy"),
    })
    .unwrap();
    let out = f.drain();
    let c = close(&out).unwrap();
    assert_eq!(
        c.next,
        NextStatus::Ready {
            at: t0() + Duration::minutes(30)
        }
    );
    let call = c.call.as_ref().unwrap();
    assert_eq!(
        (call.attempt, call.sip_status, call.connected_at),
        (attempt, 486, None)
    );
    f.closed(1);
    f.input(Input::RequestNext {
        agent: AGENT.into(),
        campaign: CampaignId(7),
    })
    .unwrap();
}

#[test]
fn retry_exhaustion_and_callbacks() {
    let mut f = Flow::new(PreviewMode::Manual {});
    // Record already called once: with max_attempts 2 a busy now fails it.
    f.input(Input::RequestNext {
        agent: AGENT.into(),
        campaign: CampaignId(7),
    })
    .unwrap();
    f.drain();
    let mut l = lease(1, f.now);
    l.record.attempts = 1;
    f.input(Input::Leased {
        agent: AGENT.into(),
        lease: l,
    })
    .unwrap();
    f.input(Input::Accept {
        agent: AGENT.into(),
        record: RecordId(1),
    })
    .unwrap();
    let (attempt, _) = f.attempt_ok(1);
    f.input(Input::CallEnded {
        agent: AGENT.into(),
        attempt,
        sip_status: 486,
    })
    .unwrap();
    f.input(Input::Outcome {
        agent: AGENT.into(),
        record: RecordId(1),
        outcome: outcome("busy"),
    })
    .unwrap();
    assert_eq!(close(&f.drain()).unwrap().next, NextStatus::Failed);
    f.closed(1);

    // A callback for the same agent.
    f.pull(2);
    f.input(Input::Accept {
        agent: AGENT.into(),
        record: RecordId(2),
    })
    .unwrap();
    let (attempt, _) = f.attempt_ok(2);
    f.input(Input::CallConnected {
        agent: AGENT.into(),
        attempt,
    })
    .unwrap();
    f.advance(Duration::minutes(3));
    f.input(Input::CallEnded {
        agent: AGENT.into(),
        attempt,
        sip_status: 200,
    })
    .unwrap();
    let mut o = outcome("callback");
    let at = f.now + Duration::days(1);
    o.callback = Some(Callback {
        at,
        same_agent: true,
    });
    f.input(Input::Outcome {
        agent: AGENT.into(),
        record: RecordId(2),
        outcome: o,
    })
    .unwrap();
    let out = f.drain();
    let c = close(&out).unwrap();
    assert_eq!(
        c.next,
        NextStatus::Callback {
            at,
            agent: Some(AGENT.into())
        }
    );
    assert_eq!(c.call.as_ref().unwrap().connected_at, Some(t0()));
}

#[test]
fn records_are_pushed_to_ready_agents_on_start_and_after_each_outcome() {
    let mut f = Flow {
        p: Preview::new(PreviewConfig::default()),
        now: t0(),
        next_attempt: 0,
    };
    f.input(Input::AgentReady {
        agent: AGENT.into(),
        queues: vec![QUEUE.into()],
    })
    .unwrap();
    f.input(Input::AgentReady {
        agent: "bob".into(),
        queues: vec!["9999".into()],
    })
    .unwrap();
    f.input(Input::Campaign(campaign(
        PreviewMode::Manual {},
        CampaignStatus::Loaded,
    )))
    .unwrap();
    let out = f.drain();
    assert_eq!(out.len(), 1, "only alice serves the queue: {out:?}");
    assert!(
        matches!(&out[0], Output::Notify { agent, event: Notification::CampaignStatus { status: CampaignStatus::Loaded, .. } } if agent == AGENT)
    );
    f.input(Input::Campaign(campaign(
        PreviewMode::Manual {},
        CampaignStatus::Running,
    )))
    .unwrap();
    let out = f.drain();
    assert!(matches!(
        &out[0],
        Output::Notify {
            event: Notification::CampaignStatus {
                status: CampaignStatus::Running,
                ..
            },
            ..
        }
    ));
    assert!(matches!(&out[1], Output::Lease { agent, .. } if agent == AGENT));
    // Nothing to call: ask again after the idle retry.
    f.input(Input::NoRecord {
        agent: AGENT.into(),
    })
    .unwrap();
    assert!(f.drain().is_empty());
    f.advance(Duration::seconds(30));
    assert!(matches!(&f.drain()[..], [Output::Lease { .. }]));
    f.input(Input::Leased {
        agent: AGENT.into(),
        lease: lease(1, f.now),
    })
    .unwrap();
    f.drain();
    f.input(Input::Decline {
        agent: AGENT.into(),
        record: RecordId(1),
        decline: Decline::CallLater { retry_at: None },
    })
    .unwrap();
    f.drain();
    let out = f.closed(1);
    assert_eq!(acd_states(&out), [AcdState::Ready]);
    assert!(
        matches!(out.last(), Some(Output::Lease { .. })),
        "next record pushed: {out:?}"
    );
}

#[test]
fn an_expired_preview_goes_back_and_the_agent_is_rona() {
    let mut f = Flow::new(PreviewMode::Manual {});
    f.pull(1);
    assert_eq!(
        f.p.poll_timeout(),
        Some(t0() + Duration::minutes(10) - Duration::seconds(5))
    );
    f.advance(Duration::minutes(10));
    let out = f.drain();
    assert_eq!(close(&out).unwrap().next, NextStatus::Ready { at: f.now });
    let out = f.closed(1);
    assert_eq!(acd_states(&out), [AcdState::Rona]);
    assert!(events(&out)
        .iter()
        .any(|e| matches!(e, Notification::PreviewExpired { .. })));
}

#[test]
fn failed_writes_keep_the_agent_where_it_was() {
    let mut f = Flow::new(PreviewMode::Manual {});
    f.pull(1);
    f.input(Input::Accept {
        agent: AGENT.into(),
        record: RecordId(1),
    })
    .unwrap();
    let (attempt, _) = f.attempt_ok(1);
    f.input(Input::CallEnded {
        agent: AGENT.into(),
        attempt,
        sip_status: 200,
    })
    .unwrap();
    f.input(Input::Outcome {
        agent: AGENT.into(),
        record: RecordId(1),
        outcome: outcome("success"),
    })
    .unwrap();
    f.drain();
    f.input(Input::RecordClosed {
        agent: AGENT.into(),
        record: RecordId(1),
        result: Err(SaveError::Store("disk full".into())),
    })
    .unwrap();
    assert_eq!(f.state(), "wrapup", "the outcome can be sent again");
    f.input(Input::Outcome {
        agent: AGENT.into(),
        record: RecordId(1),
        outcome: outcome("success"),
    })
    .unwrap();
    assert_eq!(close(&f.drain()).unwrap().next, NextStatus::Done);
    // A lost lease frees the agent.
    f.input(Input::RecordClosed {
        agent: AGENT.into(),
        record: RecordId(1),
        result: Err(SaveError::LeaseLost),
    })
    .unwrap();
    assert_eq!(f.state(), "idle");
}

#[test]
fn wrong_inputs_are_refused() {
    let mut f = Flow::new(PreviewMode::Manual {});
    assert_eq!(
        f.input(Input::RequestNext {
            agent: AGENT.into(),
            campaign: CampaignId(99)
        }),
        Err(PreviewError::UnknownCampaign(CampaignId(99)))
    );
    f.input(Input::Campaign(campaign(
        PreviewMode::Manual {},
        CampaignStatus::Paused,
    )))
    .unwrap();
    assert!(matches!(
        f.input(Input::RequestNext {
            agent: AGENT.into(),
            campaign: CampaignId(7)
        }),
        Err(PreviewError::CampaignNotRunning { .. })
    ));
    f.input(Input::Campaign(campaign(
        PreviewMode::Manual {},
        CampaignStatus::Running,
    )))
    .unwrap();
    f.pull(1);
    assert_eq!(
        f.input(Input::Accept {
            agent: AGENT.into(),
            record: RecordId(2)
        }),
        Err(PreviewError::NotYourRecord(RecordId(2)))
    );
    assert!(matches!(
        f.input(Input::RequestNext {
            agent: AGENT.into(),
            campaign: CampaignId(7)
        }),
        Err(PreviewError::WrongState {
            state: "previewing",
            ..
        })
    ));
    assert_eq!(
        f.input(Input::CallEnded {
            agent: AGENT.into(),
            attempt: AttemptId(1),
            sip_status: 200
        }),
        Err(PreviewError::UnknownAttempt(AttemptId(1)))
    );
    assert_eq!(f.state(), "previewing");
}

#[test]
fn a_lease_after_logout_is_given_back() {
    let mut f = Flow::new(PreviewMode::Manual {});
    f.input(Input::RequestNext {
        agent: AGENT.into(),
        campaign: CampaignId(7),
    })
    .unwrap();
    f.drain();
    f.input(Input::AgentLoggedOut {
        agent: AGENT.into(),
    })
    .unwrap();
    f.input(Input::Leased {
        agent: AGENT.into(),
        lease: lease(1, f.now),
    })
    .unwrap();
    let out = f.drain();
    assert_eq!(close(&out).unwrap().next, NextStatus::Ready { at: f.now });
    assert!(acd_states(&out).is_empty());
    assert_eq!(f.state(), "idle");
}
