//! Store tests, run on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::testing::{backend_tests, TestDb};
use super::*;
use crate::campaign::{Campaign, CampaignCommand, CampaignSpec};
use crate::outcome::{NextStatus, Outcome};
use crate::phone::{Phone, PhoneType};
use crate::preview::{CallReport, CloseRecord, Lease, StartAttempt};
use crate::record::{NewRecord, RecordStatus};

mod imports;
mod recovery;

fn t0() -> DateTime<Utc> {
    "2024-01-10T12:00:00Z".parse().unwrap()
}

fn spec() -> CampaignSpec {
    serde_json::from_str(r#"{"name":"Renewals","queue":"8100","default_country_code":"44"}"#)
        .unwrap()
}

fn number(i: usize) -> E164 {
    E164::parse(&format!("+4420794{i:05}"), None).unwrap()
}

fn new_record(i: usize) -> NewRecord {
    NewRecord {
        external_id: format!("ext-{i}"),
        name: format!("Contact {i}"),
        time_zone: None,
        phones: vec![Phone {
            number: number(i),
            kind: PhoneType::Home,
        }],
        fields: BTreeMap::from([("n".to_string(), i.to_string())]),
    }
}

async fn running_campaign(store: &Store, records: usize) -> Campaign {
    let c = store.create_campaign(&spec(), t0()).await.unwrap();
    let batch: Vec<NewRecord> = (0..records).map(new_record).collect();
    store.upsert_records(c.id, &batch, t0()).await.unwrap();
    store
        .command_campaign(c.id, CampaignCommand::Load, t0())
        .await
        .unwrap();
    store
        .command_campaign(c.id, CampaignCommand::Start, t0())
        .await
        .unwrap()
}

async fn lease(store: &Store, c: CampaignId, agent: &str, now: DateTime<Utc>) -> Option<Lease> {
    match store
        .lease_next(c, agent, now, now + Duration::minutes(10))
        .await
        .unwrap()
    {
        LeaseResult::Leased(l) => Some(*l),
        LeaseResult::Empty => None,
    }
}

fn close(c: &Campaign, l: &Lease, agent: &str, next: NextStatus, at: DateTime<Utc>) -> CloseRecord {
    CloseRecord {
        agent: agent.into(),
        campaign: c.id,
        record: l.record.id,
        call: None,
        outcome: None,
        next,
        dnc: Vec::new(),
        dnc_scope: c.spec.dnc_scope,
        at,
    }
}

async fn campaigns_life_cycle(db: &TestDb) {
    let s = &db.store;
    assert_eq!(s.schema_version().await.unwrap(), 2);
    let c = s.create_campaign(&spec(), t0()).await.unwrap();
    assert_eq!(c.status, CampaignStatus::Stopped);
    assert_eq!(s.campaign(c.id).await.unwrap(), Some(c.clone()));
    let mut changed = spec();
    changed.max_attempts = 7;
    let c2 = s.update_campaign(c.id, &changed, t0()).await.unwrap();
    assert_eq!(c2.spec.max_attempts, 7);
    assert!(matches!(
        s.command_campaign(c.id, CampaignCommand::Start, t0()).await,
        Err(StoreError::Campaign(_))
    ));
    let loaded = s
        .command_campaign(c.id, CampaignCommand::Load, t0())
        .await
        .unwrap();
    assert_eq!(loaded.status, CampaignStatus::Loaded);
    assert!(matches!(
        s.command_campaign(CampaignId(999_999), CampaignCommand::Load, t0())
            .await,
        Err(StoreError::CampaignNotFound(_))
    ));
    changed.name = String::new();
    assert!(matches!(
        s.update_campaign(c.id, &changed, t0()).await,
        Err(StoreError::Campaign(_))
    ));
    assert_eq!(s.campaigns().await.unwrap().len(), 1);
}

async fn reimport_is_idempotent(db: &TestDb) {
    let s = &db.store;
    let c = s.create_campaign(&spec(), t0()).await.unwrap();
    let batch: Vec<NewRecord> = (0..250).map(new_record).collect();
    let counts = s.upsert_records(c.id, &batch, t0()).await.unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            inserted: 250,
            updated: 0
        }
    );
    let counts = s.upsert_records(c.id, &batch, t0()).await.unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            inserted: 0,
            updated: 250
        }
    );
    assert_eq!(s.count_records(c.id).await.unwrap(), 250);
    // Duplicates within a batch: the later row wins.
    let mut dup = vec![new_record(900), new_record(900)];
    dup[1].name = "Later".into();
    let counts = s.upsert_records(c.id, &dup, t0()).await.unwrap();
    assert_eq!(
        counts,
        ImportCounts {
            inserted: 1,
            updated: 0
        }
    );
    let r = s
        .record_by_external_id(c.id, "ext-900")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.name, "Later");
    assert_eq!(r.status, RecordStatus::Ready { retry_at: None });
    assert_eq!(r.fields.get("n").map(String::as_str), Some("900"));
}

async fn leasing_follows_the_rules(db: &TestDb) {
    let s = &db.store;
    let c = running_campaign(s, 3).await;
    let a = lease(s, c.id, "alice", t0()).await.unwrap();
    assert_eq!(a.record.external_id, "ext-0");
    assert!(matches!(a.record.status, RecordStatus::Leased { ref agent, .. } if agent == "alice"));
    let b = lease(s, c.id, "bob", t0()).await.unwrap();
    assert_eq!(b.record.external_id, "ext-1");
    // A number on the global DNC list closes its record at lease time.
    s.add_dnc(None, &[number(2)], "test", t0()).await.unwrap();
    assert!(lease(s, c.id, "carol", t0()).await.is_none());
    let r2 = s
        .record_by_external_id(c.id, "ext-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r2.status, RecordStatus::DoNotCall);
    // Alice's lease expires: the record goes to the next agent.
    let later = t0() + Duration::minutes(11);
    let again = lease(s, c.id, "carol", later).await.unwrap();
    assert_eq!(again.record.id, a.record.id);
    // Alice's writes now fail.
    let err = s
        .close_record(&close(&c, &a, "alice", NextStatus::Done, later))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost(_)));
    // Paused: nothing is leased.
    s.command_campaign(c.id, CampaignCommand::Pause, later)
        .await
        .unwrap();
    assert!(matches!(
        s.lease_next(c.id, "dave", later, later).await,
        Err(StoreError::NotRunning { .. })
    ));
}

async fn window_and_callbacks(db: &TestDb) {
    let s = &db.store;
    let c = running_campaign(s, 2).await;
    // 22:00 UTC: outside 09:00-21:00: records are put off to 09:00 next day.
    let night: DateTime<Utc> = "2024-01-10T22:00:00Z".parse().unwrap();
    assert!(lease(s, c.id, "alice", night).await.is_none());
    let r = s
        .record_by_external_id(c.id, "ext-0")
        .await
        .unwrap()
        .unwrap();
    let opens: DateTime<Utc> = "2024-01-11T09:00:00Z".parse().unwrap();
    assert_eq!(
        r.status,
        RecordStatus::Ready {
            retry_at: Some(opens)
        }
    );
    // Next morning: a personal callback for bob is only leased by bob, and goes first.
    let l = lease(s, c.id, "alice", opens).await.unwrap();
    let cb_at = opens + Duration::hours(1);
    let next = NextStatus::Callback {
        at: cb_at,
        agent: Some("bob".into()),
    };
    s.close_record(&close(&c, &l, "alice", next, opens))
        .await
        .unwrap();
    let after = cb_at + Duration::minutes(1);
    let other = lease(s, c.id, "alice", after).await.unwrap();
    assert_ne!(other.record.id, l.record.id);
    let mine = lease(s, c.id, "bob", after).await.unwrap();
    assert_eq!(mine.record.id, l.record.id);
}

async fn attempts_and_outcomes(db: &TestDb) {
    let s = &db.store;
    let c = running_campaign(s, 1).await;
    let l = lease(s, c.id, "alice", t0()).await.unwrap();
    let mut start = StartAttempt {
        agent: "alice".into(),
        campaign: c.id,
        record: l.record.id,
        number: number(500),
        phone_type: PhoneType::Mobile,
        new_phone: true,
        at: t0(),
        lease_until: t0() + Duration::hours(4),
    };
    s.add_dnc(Some(c.id), &[number(500)], "test", t0())
        .await
        .unwrap();
    assert!(matches!(
        s.start_attempt(&start).await,
        Err(StoreError::Dnc(_))
    ));
    start.agent = "bob".into();
    assert!(matches!(
        s.start_attempt(&start).await,
        Err(StoreError::LeaseLost(_))
    ));
    start.agent = "alice".into();
    start.number = number(501);
    let attempt = s.start_attempt(&start).await.unwrap();
    let r = s.record(l.record.id).await.unwrap().unwrap();
    assert_eq!(r.attempts, 1);
    assert_eq!(r.phones.len(), 2, "the new number is kept");
    assert!(matches!(r.status, RecordStatus::Dialling { .. }));
    let end = t0() + Duration::minutes(5);
    let mut closing = close(&c, &l, "alice", NextStatus::DoNotCall, end);
    closing.call = Some(CallReport {
        attempt,
        connected_at: Some(t0() + Duration::seconds(20)),
        ended_at: end,
        sip_status: 200,
    });
    closing.outcome = Some(Outcome {
        call_result: "success".into(),
        dnc: true,
        dispositions: vec!["sale".into()],
        notes: "done".into(),
        callback: None,
    });
    closing.dnc = vec![number(0), number(501)];
    s.close_record(&closing).await.unwrap();
    let r = s.record(l.record.id).await.unwrap().unwrap();
    assert_eq!(r.status, RecordStatus::DoNotCall);
    assert_eq!(r.last_result.as_deref(), Some("success"));
    let history = s.attempts(l.record.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].sip_status, Some(200));
    assert_eq!(history[0].dispositions, vec!["sale".to_string()]);
    assert!(history[0].dnc);
    assert!(
        s.is_dnc(CampaignId(424_242), &number(501)).await.unwrap(),
        "global scope"
    );
    let entries = s.dnc_entries(&number(500)).await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].campaign, Some(c.id));
    assert!(s.remove_dnc(Some(c.id), &number(500)).await.unwrap());
    assert!(!s.remove_dnc(Some(c.id), &number(500)).await.unwrap());

    let stats = s.stats(c.id).await.unwrap();
    assert_eq!(stats.total_records, 1);
    assert_eq!(stats.records["do_not_call"], 1);
    assert_eq!(stats.records["ready"], 0);
    assert_eq!((stats.attempts, stats.connected), (1, 1));
    assert_eq!(stats.results["success"], 1);
    assert_eq!(stats.agents["alice"].talk_seconds, 280);
    let rows = s.export_page(c.id, RecordId(0), 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].agent.as_deref(), Some("alice"));
    assert_eq!(rows[0].number.as_deref(), Some(number(501).as_str()));
    assert!(s
        .export_page(c.id, rows[0].record, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(s.complete_if_exhausted(c.id, end).await.unwrap().is_some());
}

async fn concurrent_leases_never_hand_a_record_twice(db: &TestDb) {
    const RECORDS: usize = 300;
    const TASKS: usize = 50;
    let c = running_campaign(&db.store, RECORDS).await;
    let store = Arc::new(db.store.clone());
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let agent = format!("agent-{t}");
            let mut got = Vec::new();
            while let Some(l) = lease(&store, c.id, &agent, t0()).await {
                got.push(l.record.id);
            }
            got
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.unwrap() {
            assert!(seen.insert(id), "record {id} leased twice");
        }
    }
    assert_eq!(seen.len(), RECORDS);
    assert_eq!(
        db.store.stats(c.id).await.unwrap().records["leased"],
        RECORDS as i64
    );
}

async fn expired_leases_are_swept(db: &TestDb) {
    let s = &db.store;
    let c = running_campaign(s, 2).await;
    lease(s, c.id, "alice", t0()).await.unwrap();
    assert_eq!(
        s.expire_leases(t0() + Duration::minutes(5)).await.unwrap(),
        0
    );
    assert_eq!(
        s.expire_leases(t0() + Duration::minutes(10)).await.unwrap(),
        1
    );
    assert_eq!(s.stats(c.id).await.unwrap().records["ready"], 2);
    assert!(s.complete_if_exhausted(c.id, t0()).await.unwrap().is_none());
}

async fn nothing_is_lost_when_a_node_dies(db: &TestDb) {
    let c = running_campaign(&db.store, 2).await;
    let held = lease(&db.store, c.id, "alice", t0()).await.unwrap();
    // The node dies holding a lease: a new process opens the same database.
    let reopened = Store::open(&db.url).await.unwrap();
    let r = reopened.record(held.record.id).await.unwrap().unwrap();
    assert!(matches!(r.status, RecordStatus::Leased { .. }));
    let other = lease(&reopened, c.id, "bob", t0()).await.unwrap();
    assert_ne!(other.record.id, held.record.id);
    let back = lease(&reopened, c.id, "bob", t0() + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(
        back.record.id, held.record.id,
        "the expired lease returns to the list"
    );
    reopened.close().await;
}

backend_tests!(
    nothing_is_lost_when_a_node_dies,
    campaigns_life_cycle,
    reimport_is_idempotent,
    leasing_follows_the_rules,
    window_and_callbacks,
    attempts_and_outcomes,
    concurrent_leases_never_hand_a_record_twice,
    expired_leases_are_swept,
);

#[tokio::test]
async fn rejects_unknown_schemes_and_redacts() {
    let err = Store::open("mysql://u:pw@h/db").await.unwrap_err();
    assert!(err.to_string().contains("mysql://u:***@h/db"));
    assert_eq!(redact_url("postgres://u@h/x"), "postgres://u@h/x");
}

#[tokio::test]
async fn in_memory_sqlite_and_shared_pool() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let Pool::Sqlite(pool) = store.pool().clone() else {
        panic!("expected SQLite");
    };
    // Opening on an existing pool migrates nothing twice.
    let again = Store::from_sqlite_pool(pool).await.unwrap();
    assert_eq!(again.schema_version().await.unwrap(), 2);
}
