use super::super::testing::{backend_tests, TestDb};
use super::super::Store;
use super::*;
use ::acd::{AgentState, Cause, Strategy};

backend_tests!(
    configs_round_trip_with_tombstones,
    saving_again_replaces,
    history_newest_first_per_agent,
    interaction_events_page_and_keep_big_ids,
    interaction_events_of_some_queues_and_agents,
    acd_data_survives_reopen,
);

fn queue(dn: &str, name: &str) -> QueueConfig {
    let mut q = QueueConfig::new(dn);
    q.name = name.to_string();
    q.strategy = Strategy::RoundRobin;
    q.required_skills.insert("english".into(), 3);
    q
}

fn agent(id: &str, queues: &[&str]) -> AgentConfig {
    let mut a = AgentConfig::new(id);
    a.name = format!("Agent {id}");
    a.queues = queues.iter().map(Dn::new).collect();
    a.capacity.chat = 3;
    a
}

fn entry(agent: &str, at_ms: i64, to: &str) -> StateHistoryEntry {
    StateHistoryEntry {
        agent: agent.to_string(),
        from_state: "ready".to_string(),
        to_state: to.to_string(),
        reason: (to == "not_ready").then(|| "lunch".to_string()),
        cause: "agent_request".to_string(),
        at_ms,
    }
}

fn event(interaction: u64, at_ms: i64, what: &str) -> InteractionEvent {
    InteractionEvent {
        interaction,
        queue: "8000".to_string(),
        event: what.to_string(),
        agent: (what != "abandoned").then(|| "alice".to_string()),
        at_ms,
    }
}

async fn configs_round_trip_with_tombstones(db: &TestDb) {
    let s = &db.store;
    assert_eq!(s.load_acd_changes().await.unwrap(), StoredAcd::default());
    s.save_queue_config(&queue("8000", "Sales")).await.unwrap();
    s.delete_queue_config("8001").await.unwrap();
    s.save_agent_config(&agent("alice", &["8000"]))
        .await
        .unwrap();
    s.delete_agent_config("bob").await.unwrap();
    let stored = s.load_acd_changes().await.unwrap();
    assert_eq!(
        stored.queues,
        [
            (Dn::new("8000"), Some(queue("8000", "Sales"))),
            (Dn::new("8001"), None)
        ]
    );
    assert_eq!(
        stored.agents,
        [
            (AgentId::new("alice"), Some(agent("alice", &["8000"]))),
            (AgentId::new("bob"), None)
        ]
    );
}

async fn saving_again_replaces(db: &TestDb) {
    let s = &db.store;
    s.save_queue_config(&queue("8000", "Sales")).await.unwrap();
    s.save_queue_config(&queue("8000", "Support"))
        .await
        .unwrap();
    s.delete_agent_config("alice").await.unwrap();
    s.save_agent_config(&agent("alice", &[])).await.unwrap();
    let stored = s.load_acd_changes().await.unwrap();
    assert_eq!(
        stored.queues,
        [(Dn::new("8000"), Some(queue("8000", "Support")))]
    );
    assert_eq!(
        stored.agents,
        [(AgentId::new("alice"), Some(agent("alice", &[])))]
    );
    // Deleting after a save leaves only the tombstone.
    s.delete_queue_config("8000").await.unwrap();
    assert_eq!(
        s.load_acd_changes().await.unwrap().queues,
        [(Dn::new("8000"), None)]
    );
}

async fn history_newest_first_per_agent(db: &TestDb) {
    let s = &db.store;
    s.insert_acd_records(
        &[
            entry("alice", 1_000, "ready"),
            entry("bob", 1_500, "ready"),
            entry("alice", 2_000, "not_ready"),
            // Same time as the previous: the later insert counts as newer.
            entry("alice", 2_000, "ready"),
        ],
        &[],
    )
    .await
    .unwrap();
    s.insert_acd_records(&[], &[]).await.unwrap();
    let alice = s.agent_state_history("alice", 10, 0).await.unwrap();
    assert_eq!(
        alice,
        [
            entry("alice", 2_000, "ready"),
            entry("alice", 2_000, "not_ready"),
            entry("alice", 1_000, "ready"),
        ]
    );
    assert_eq!(
        s.agent_state_history("alice", 1, 1).await.unwrap(),
        [entry("alice", 2_000, "not_ready")]
    );
    assert_eq!(s.agent_state_history("bob", 10, 0).await.unwrap().len(), 1);
    assert!(s
        .agent_state_history("carol", 10, 0)
        .await
        .unwrap()
        .is_empty());
}

async fn interaction_events_page_and_keep_big_ids(db: &TestDb) {
    let s = &db.store;
    let big = u64::MAX - 5;
    let events: Vec<_> = (0..10)
        .map(|n| event(n, 1_000 + n as i64, "offered"))
        .chain([event(big, 5_000, "abandoned")])
        .collect();
    s.insert_acd_records(&[], &events).await.unwrap();
    let newest = s.list_interaction_events(2, 0).await.unwrap();
    assert_eq!(
        newest,
        [event(big, 5_000, "abandoned"), event(9, 1_009, "offered")]
    );
    let page = s.list_interaction_events(3, 2).await.unwrap();
    let ids: Vec<u64> = page.iter().map(|e| e.interaction).collect();
    assert_eq!(ids, [8, 7, 6]);
    assert!(s.list_interaction_events(5, 20).await.unwrap().is_empty());
}

async fn interaction_events_of_some_queues_and_agents(db: &TestDb) {
    let s = &db.store;
    let mut other_queue = event(2, 2, "offered");
    other_queue.queue = "9000".into();
    other_queue.agent = Some("bob".into());
    let mut bob_in_sales = event(3, 3, "answered");
    bob_in_sales.agent = Some("bob".into());
    let mut carol_elsewhere = event(4, 4, "answered");
    carol_elsewhere.queue = "7000".into();
    carol_elsewhere.agent = Some("carol".into());
    s.insert_acd_records(
        &[],
        &[
            event(1, 1, "offered"),
            other_queue,
            bob_in_sales,
            carol_elsewhere,
        ],
    )
    .await
    .unwrap();
    let ids = |v: Vec<InteractionEvent>| v.iter().map(|e| e.interaction).collect::<Vec<_>>();
    let sales = s
        .list_interaction_events_of(10, 0, &["8000".into()], &[])
        .await
        .unwrap();
    assert_eq!(ids(sales), [3, 1]);
    let sales_or_carol = s
        .list_interaction_events_of(10, 0, &["8000".into()], &["carol".into()])
        .await
        .unwrap();
    assert_eq!(ids(sales_or_carol), [4, 3, 1]);
    let paged = s
        .list_interaction_events_of(1, 1, &["8000".into(), "9000".into()], &[])
        .await
        .unwrap();
    assert_eq!(ids(paged), [2]);
    assert!(s
        .list_interaction_events_of(10, 0, &[], &[])
        .await
        .unwrap()
        .is_empty());
}

async fn acd_data_survives_reopen(db: &TestDb) {
    db.store
        .save_queue_config(&queue("8000", "Sales"))
        .await
        .unwrap();
    db.store
        .insert_acd_records(&[entry("alice", 1, "ready")], &[event(1, 1, "ended")])
        .await
        .unwrap();
    db.store.close().await;
    let reopened = Store::open(&db.url).await.unwrap();
    assert_eq!(reopened.load_acd_changes().await.unwrap().queues.len(), 1);
    assert_eq!(
        reopened
            .agent_state_history("alice", 10, 0)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        reopened.list_interaction_events(10, 0).await.unwrap().len(),
        1
    );
    reopened.close().await;
}

#[test]
fn stored_changes_lie_over_the_config_file() {
    let file_queues = vec![
        queue("8000", "Sales"),
        queue("8001", "Support"),
        queue("8002", "Billing"),
    ];
    let file_agents = vec![agent("alice", &["8000"]), agent("bob", &["8001"])];
    let stored = StoredAcd {
        queues: vec![
            (Dn::new("8001"), None),
            (Dn::new("9000"), Some(queue("9000", "New"))),
            (Dn::new("8000"), Some(queue("8000", "Sales (changed)"))),
            (Dn::new("7777"), None),
        ],
        agents: vec![
            (AgentId::new("bob"), Some(agent("bob", &["9000"]))),
            (AgentId::new("alice"), None),
            (AgentId::new("carol"), Some(agent("carol", &[]))),
        ],
    };
    let (queues, agents) = stored.apply(file_queues, file_agents);
    let dns: Vec<_> = queues
        .iter()
        .map(|q| (q.dn.as_str(), q.name.as_str()))
        .collect();
    assert_eq!(
        dns,
        [
            ("8000", "Sales (changed)"),
            ("8002", "Billing"),
            ("9000", "New")
        ]
    );
    assert_eq!(agents, [agent("bob", &["9000"]), agent("carol", &[])]);
}

#[test]
fn saved_configurations_that_are_no_longer_valid_are_passed_over() {
    let mut renamed = agent("alice", &["8000"]);
    renamed.name = "Alice\0".into();
    let stored = StoredAcd {
        queues: vec![(Dn::new("80 00"), Some(queue("80 00", "Bad")))],
        agents: vec![
            (AgentId::new("alice"), Some(renamed)),
            (AgentId::new("<img src=x>"), Some(agent("<img src=x>", &[]))),
        ],
    };
    let (queues, agents) = stored.apply(
        vec![queue("8000", "Sales")],
        vec![agent("alice", &["8000"])],
    );
    assert_eq!(queues, [queue("8000", "Sales")]);
    // The file's entry stands where the saved one is invalid.
    assert_eq!(agents, [agent("alice", &["8000"])]);
}

#[test]
fn history_entries_name_states_and_causes_in_snake_case() {
    let e = StateHistoryEntry::from_change(&StateChange {
        agent: AgentId::new("alice"),
        from: AgentState::AfterCallWork,
        to: AgentState::not_ready("coffee"),
        at_ms: 42,
        cause: Cause::WrapUpDone,
    });
    assert_eq!(
        e,
        StateHistoryEntry {
            agent: "alice".into(),
            from_state: "after_call_work".into(),
            to_state: "not_ready".into(),
            reason: Some("coffee".into()),
            cause: "wrap_up_done".into(),
            at_ms: 42,
        }
    );
}
