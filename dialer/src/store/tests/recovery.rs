//! Start-up recovery in the store, on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL:
//! what a node that was killed during calls finds and does when it starts again.

use super::*;
use crate::outcome::SWITCH_RESTARTED;
use crate::preview::CallProgress;
use crate::record::{Attempt, AttemptId};

/// Leases the campaign's next record to `agent` at `at` and starts a call on it.
async fn call(s: &Store, c: &Campaign, agent: &str, at: DateTime<Utc>) -> (Lease, AttemptId) {
    let l = lease(s, c.id, agent, at).await.unwrap();
    let attempt = s
        .start_attempt(&StartAttempt {
            agent: agent.into(),
            campaign: c.id,
            record: l.record.id,
            number: l.record.phones[0].number.clone(),
            phone_type: l.record.phones[0].kind,
            new_phone: false,
            at,
            lease_until: at + Duration::hours(4),
        })
        .await
        .unwrap();
    (l, attempt)
}

async fn last_attempt(s: &Store, l: &Lease) -> Attempt {
    s.attempts(l.record.id).await.unwrap().pop().unwrap()
}

async fn status(s: &Store, l: &Lease) -> RecordStatus {
    s.record(l.record.id).await.unwrap().unwrap().status
}

async fn a_killed_node_recovers_its_open_calls_at_start_up(db: &TestDb) {
    let s = &db.store;
    let c = running_campaign(s, 5).await;
    // Dave's call on another campaign's record was left open long ago; the record has
    // moved on to Erin since (its lease ended).
    let other = running_campaign(s, 1).await;
    let (dave, _) = call(s, &other, "dave", t0()).await;
    let t = t0() + Duration::hours(4) + Duration::minutes(1);
    let erin = lease(s, other.id, "erin", t).await.unwrap();
    assert_eq!(erin.record.id, dave.record.id);
    // Alice's call is on (connected); Bob's rings; Carol's ended, wrap-up not in.
    let (alice, a1) = call(s, &c, "alice", t).await;
    s.save_call(&CallProgress {
        attempt: a1,
        connected_at: Some(t + Duration::seconds(5)),
        ended_at: None,
        sip_status: None,
    })
    .await
    .unwrap();
    let (bob, _) = call(s, &c, "bob", t).await;
    let (carol, a3) = call(s, &c, "carol", t).await;
    for progress in [
        (Some(t + Duration::seconds(3)), None, None),
        (None, Some(t + Duration::seconds(40)), Some(200)),
    ] {
        s.save_call(&CallProgress {
            attempt: a3,
            connected_at: progress.0,
            ended_at: progress.1,
            sip_status: progress.2,
        })
        .await
        .unwrap();
    }
    // Another node's call is none of this node's business.
    let node_b = s.clone().with_node("node-b");
    let (frank, _) = call(&node_b, &c, "frank", t).await;

    // The node is killed; it starts again (a new process on the same database).
    let now = t + Duration::minutes(1);
    let hold = Duration::hours(1);
    let store = Store::open(&db.url).await.unwrap();
    let recovery = store.recover(now, hold).await.unwrap();
    let closed: Vec<(&str, bool, Option<NextStatus>)> = recovery
        .closed
        .iter()
        .map(|r| (r.agent.as_str(), r.outcome_pending, r.next.clone()))
        .collect();
    assert_eq!(
        closed,
        vec![
            ("dave", false, None),
            ("alice", true, None),
            ("bob", false, Some(NextStatus::Ready { at: now })),
            ("carol", true, None),
        ]
    );
    let pending: Vec<&str> = recovery
        .pending
        .iter()
        .map(|p| p.recovered.agent.as_str())
        .collect();
    assert_eq!(pending, ["alice", "carol"]);
    assert_eq!(recovery.pending[0].until, now + hold);
    assert_eq!(recovery.pending[0].record.attempts, 1);
    assert_eq!(recovery.pending[1].recovered.sip_status, Some(200));

    // Every attempt of this node has a result that says what happened, and when.
    for l in [&alice, &bob, &carol, &dave] {
        let a = last_attempt(&store, l).await;
        assert_eq!(a.call_result.as_deref(), Some(SWITCH_RESTARTED), "{a:?}");
        assert_eq!(a.recovered_at, Some(now));
    }
    assert_eq!(
        last_attempt(&store, &alice).await.connected_at,
        Some(t + Duration::seconds(5))
    );
    assert_eq!(last_attempt(&store, &bob).await.connected_at, None);
    assert!(last_attempt(&store, &frank).await.call_result.is_none());
    // Bob's record is callable at once, not frozen for the call lease.
    assert_eq!(
        status(&store, &bob).await,
        RecordStatus::Ready {
            retry_at: Some(now)
        }
    );
    let r = store.record(bob.record.id).await.unwrap().unwrap();
    assert_eq!(r.last_result.as_deref(), Some(SWITCH_RESTARTED));
    assert_eq!(
        status(&store, &alice).await,
        RecordStatus::Dialling {
            agent: "alice".into(),
            until: now + hold
        }
    );
    assert!(
        matches!(status(&store, &erin).await, RecordStatus::Leased { agent, .. } if agent == "erin")
    );

    // Nothing is handed out twice: the held records stay with their agents.
    let mut leased = Vec::new();
    while let Some(l) = lease(&store, c.id, "zed", now).await {
        leased.push(l.record.id);
    }
    leased.sort();
    let mut want = vec![bob.record.id];
    want.extend(
        store
            .export_page(c.id, RecordId(0), 10)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.attempts == 0)
            .map(|r| r.record),
    );
    want.sort();
    assert_eq!(
        leased, want,
        "the returned record and the never-called ones"
    );

    // A second restart finds the pending outcomes again, closes nothing more.
    let again = store
        .recover(now + Duration::minutes(1), hold)
        .await
        .unwrap();
    assert!(again.closed.is_empty());
    assert_eq!(again.pending.len(), 2);

    // Alice gives her outcome: it replaces switch_restarted; what recovery kept of the
    // call stays.
    let mut closing = close(&c, &alice, "alice", NextStatus::Done, now);
    closing.call = Some(CallReport {
        attempt: a1,
        connected_at: Some(now),
        ended_at: now,
        sip_status: 200,
    });
    closing.outcome = Some(Outcome {
        call_result: "success".into(),
        dnc: false,
        dispositions: Vec::new(),
        notes: "after the restart".into(),
        callback: None,
    });
    store.close_record(&closing).await.unwrap();
    let a = last_attempt(&store, &alice).await;
    assert_eq!(a.call_result.as_deref(), Some("success"));
    assert_eq!(a.connected_at, Some(t + Duration::seconds(5)));
    assert_eq!(a.ended_at, None, "the end of the call is not known");
    assert_eq!(a.recovered_at, Some(now));
    assert_eq!(status(&store, &alice).await, RecordStatus::Done);

    // Carol never comes back: once the hold ends, her record is in the list again.
    let after_hold = now + hold + Duration::seconds(1);
    let mut leased = Vec::new();
    while let Some(l) = lease(&store, c.id, "yves", after_hold).await {
        leased.push(l.record.id);
    }
    assert!(leased.contains(&carol.record.id), "{leased:?}");
    assert!(!leased.contains(&alice.record.id), "{leased:?}");
    let stats = store.stats(c.id).await.unwrap();
    assert_eq!(stats.results[SWITCH_RESTARTED], 2, "{stats:?}");
    assert_eq!(stats.results["success"], 1, "{stats:?}");
    store.close().await;
}

async fn the_campaign_rules_decide_where_a_cut_call_goes(db: &TestDb) {
    let s = &db.store;
    // One attempt allowed: a cut call that did not connect uses it up.
    let mut one = spec();
    one.max_attempts = 1;
    let c = s.create_campaign(&one, t0()).await.unwrap();
    s.upsert_records(c.id, &[new_record(1)], t0())
        .await
        .unwrap();
    s.command_campaign(c.id, CampaignCommand::Load, t0())
        .await
        .unwrap();
    let c = s
        .command_campaign(c.id, CampaignCommand::Start, t0())
        .await
        .unwrap();
    let (l, _) = call(s, &c, "alice", t0()).await;
    let recovery = s.recover(t0(), Duration::hours(1)).await.unwrap();
    assert_eq!(recovery.closed[0].next, Some(NextStatus::Failed));
    assert_eq!(status(s, &l).await, RecordStatus::Failed);
}

backend_tests!(
    a_killed_node_recovers_its_open_calls_at_start_up,
    the_campaign_rules_decide_where_a_cut_call_goes,
);
