//! The runtime over a real store with a fake clock: pushes, countdown dial, events.

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::campaign::PreviewMode;
use crate::record::{NewRecord, RecordStatus};
use crate::store::testing::TestDb;

fn t0() -> DateTime<Utc> {
    "2024-01-10T12:00:00Z".parse().unwrap()
}

async fn setup(db: &TestDb, mode: PreviewMode) -> (Dialer, Campaign) {
    let dialer = Dialer::new(db.store.clone(), PreviewConfig::default())
        .await
        .unwrap();
    let mut spec: CampaignSpec =
        serde_json::from_str(r#"{"name":"Push","queue":"8100","default_country_code":"44"}"#)
            .unwrap();
    spec.preview = mode;
    let c = dialer.create_campaign(&spec, t0()).await.unwrap();
    let records: Vec<NewRecord> = (0..2)
        .map(|i| {
            serde_json::from_value(json!({
                "external_id": format!("R{i}"), "name": "N", "time_zone": null,
                "phones": [{"number": format!("+44207946000{i}"), "type": "home"}], "fields": {}
            }))
            .unwrap()
        })
        .collect();
    db.store.upsert_records(c.id, &records, t0()).await.unwrap();
    (dialer, c)
}

fn originates(events: &[DialerEvent]) -> Vec<(AttemptId, E164)> {
    events
        .iter()
        .filter_map(|e| match e {
            DialerEvent::Originate {
                attempt, number, ..
            } => Some((*attempt, number.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn start_pushes_to_ready_agents_and_the_countdown_dials() {
    let db = TestDb::sqlite().await;
    let (dialer, c) = setup(&db, PreviewMode::Countdown { seconds: 15 }).await;
    let mut rx = dialer.subscribe();
    let ready = Input::AgentReady {
        agent: "alice".into(),
        queues: vec!["8100".into()],
    };
    dialer.handle(t0(), ready).await.unwrap();
    let loaded = dialer
        .command(c.id, CampaignCommand::Load, t0())
        .await
        .unwrap();
    assert_eq!(loaded.status, crate::campaign::CampaignStatus::Loaded);
    dialer
        .command(c.id, CampaignCommand::Start, t0())
        .await
        .unwrap();
    // Told about load and start, then a record pushed: Reserved + preview.
    let mut seen = Vec::new();
    while let Ok(e) = rx.try_recv() {
        seen.push(e);
    }
    let statuses: Vec<_> = seen
        .iter()
        .filter_map(|e| match e {
            DialerEvent::Notify {
                event: Notification::CampaignStatus { status, .. },
                ..
            } => Some(*status),
            _ => None,
        })
        .collect();
    use crate::campaign::CampaignStatus as S;
    assert_eq!(statuses, [S::Loaded, S::Running]);
    let json = serde_json::to_value(&seen).unwrap();
    let preview = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "preview")
        .expect("a preview event");
    assert_eq!(preview["type"], "notify");
    assert_eq!(preview["agent"], "alice");
    assert_eq!(preview["phones"][0]["number"], "+442079460000");
    assert!(
        preview["dial_at"].is_string(),
        "the countdown is shown: {preview}"
    );
    assert!(seen.contains(&DialerEvent::AgentState {
        agent: "alice".into(),
        state: AcdState::Reserved
    }));
    assert_eq!(dialer.session("alice").state, "previewing");
    assert_eq!(dialer.poll_timeout(), Some(t0() + Duration::seconds(15)));

    // The countdown ends: the attempt is written, then the switch is asked to call.
    let events = dialer.handle_timeout(t0() + Duration::seconds(15)).await;
    let calls = originates(&events);
    assert_eq!(calls.len(), 1, "{events:?}");
    let (attempt, number) = calls[0].clone();
    assert_eq!(number.as_str(), "+442079460000");
    let record = dialer.session("alice").preview.unwrap().record;
    let stored = db.store.record(record).await.unwrap().unwrap();
    assert!(matches!(stored.status, RecordStatus::Dialling { .. }));
    assert_eq!(stored.attempts, 1);

    // Events serialise for the desktops.
    let json = serde_json::to_value(&events).unwrap();
    assert!(json
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["type"] == "originate"));
    let notify = json
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "notify")
        .unwrap();
    assert_eq!(notify["event"], "dialling");
    assert_eq!(notify["agent"], "alice");

    // The call ends busy; the outcome returns the record with a retry time and the
    // next record is pushed at once.
    let end = t0() + Duration::seconds(40);
    let ended = Input::CallEnded {
        agent: "alice".into(),
        attempt,
        sip_status: 486,
    };
    dialer.handle(end, ended).await.unwrap();
    let outcome = crate::outcome::Outcome {
        call_result: "busy".into(),
        dnc: false,
        dispositions: vec![],
        notes: String::new(),
        callback: None,
    };
    let input = Input::Outcome {
        agent: "alice".into(),
        record,
        outcome,
    };
    let events = dialer.handle(end, input).await.unwrap();
    assert!(events.contains(&DialerEvent::AgentState {
        agent: "alice".into(),
        state: AcdState::Ready
    }));
    let stored = db.store.record(record).await.unwrap().unwrap();
    assert_eq!(
        stored.status,
        RecordStatus::Ready {
            retry_at: Some(end + Duration::minutes(30))
        }
    );
    let next = dialer.session("alice").preview.unwrap();
    assert_ne!(next.record, record, "the other record was pushed");
    db.cleanup().await;
}

#[tokio::test]
async fn exhausted_campaigns_complete_and_agents_are_told() {
    let db = TestDb::sqlite().await;
    let (dialer, c) = setup(&db, PreviewMode::Manual {}).await;
    dialer
        .command(c.id, CampaignCommand::Load, t0())
        .await
        .unwrap();
    dialer
        .command(c.id, CampaignCommand::Start, t0())
        .await
        .unwrap();
    for _ in 0..2 {
        let next = Input::RequestNext {
            agent: "bob".into(),
            campaign: c.id,
        };
        dialer.handle(t0(), next).await.unwrap();
        let record = dialer.session("bob").preview.unwrap().record;
        let decline = Input::Decline {
            agent: "bob".into(),
            record,
            decline: crate::outcome::Decline::DoNotCall,
        };
        dialer.handle(t0(), decline).await.unwrap();
    }
    let next = Input::RequestNext {
        agent: "bob".into(),
        campaign: c.id,
    };
    let events = dialer.handle(t0(), next).await.unwrap();
    assert!(events.iter().any(|e| matches!(
        e,
        DialerEvent::Notify {
            event: Notification::NoRecord { .. },
            ..
        }
    )));
    let stored = db.store.campaign(c.id).await.unwrap().unwrap();
    assert_eq!(stored.status, crate::campaign::CampaignStatus::Completed);
    assert_eq!(
        dialer.campaign(c.id).map(|c| c.status),
        Some(crate::campaign::CampaignStatus::Completed)
    );
    db.cleanup().await;
}

/// A node killed during a connected call: the dialer that starts next on the same
/// database closes the attempt, keeps the outcome for the agent, tells them at login,
/// and takes their outcome (before the fix the record stayed `dialling` for the call
/// lease and the outcome was refused as not the agent's record).
#[tokio::test]
async fn a_restart_during_a_call_leaves_the_outcome_to_the_agent() {
    let db = TestDb::sqlite().await;
    let (dialer, c) = setup(&db, PreviewMode::DialOnAccept {}).await;
    for cmd in [CampaignCommand::Load, CampaignCommand::Start] {
        dialer.command(c.id, cmd, t0()).await.unwrap();
    }
    let pull = Input::RequestNext {
        agent: "alice".into(),
        campaign: c.id,
    };
    let events = dialer.handle(t0(), pull).await.unwrap();
    let (attempt, _) = originates(&events)[0].clone();
    let connected = Input::CallConnected {
        agent: "alice".into(),
        attempt,
    };
    dialer.handle(t0(), connected).await.unwrap();
    let record = dialer.session("alice").preview.map(|p| p.record).unwrap();
    drop(dialer); // killed: nothing more is written

    let dialer = Dialer::new(db.store.clone(), PreviewConfig::default())
        .await
        .unwrap();
    let Some(DialerEvent::Recovered { calls }) = dialer.recovery_event() else {
        panic!("no recovery event");
    };
    assert_eq!(calls.len(), 1);
    assert!(calls[0].outcome_pending && calls[0].record == record);
    assert_eq!(dialer.session("alice").state, "wrapup");
    let ready = Input::AgentReady {
        agent: "alice".into(),
        queues: vec!["8100".into()],
    };
    let events = dialer.handle(t0(), ready).await.unwrap();
    assert!(events.iter().any(|e| matches!(e,
        DialerEvent::Notify { event: Notification::Recovered { call }, .. } if call.record == record)));
    assert!(events.iter().any(|e| matches!(
        e,
        DialerEvent::AgentState {
            state: AcdState::AfterCallWork,
            ..
        }
    )));
    let outcome = Input::Outcome {
        agent: "alice".into(),
        record,
        outcome: serde_json::from_value(json!({"call_result": "success"})).unwrap(),
    };
    dialer.handle(t0(), outcome).await.unwrap();
    let r = db.store.record(record).await.unwrap().unwrap();
    assert_eq!(r.status, RecordStatus::Done);
    let attempts = db.store.attempts(record).await.unwrap();
    assert_eq!(attempts[0].call_result.as_deref(), Some("success"));
    assert!(attempts[0].recovered_at.is_some() && attempts[0].connected_at.is_some());
    db.cleanup().await;
}
