//! Queues and agents created, changed and removed at run time; configuration from TOML.

mod common;

use acd::{AcdError, AgentConfig, Channel, QueueConfig, Strategy, WrapUp};
use common::{offers, Harness};

#[test]
fn a_queue_created_after_its_agents_finds_them() {
    let mut h = Harness::new();
    h.agent("a", &["8000"], |_| {});
    h.login("a");
    h.queue("8000", |_| {});
    h.arrive(1, "8000");
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
}

#[test]
fn changing_an_agents_queues_moves_them() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.queue("8001", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.login("a");
    h.arrive(1, "8001");
    assert!(offers(&h.drain()).is_empty());
    h.agent("a", &["8001"], |_| {});
    assert_eq!(offers(&h.drain()), vec![(1, "a".into())]);
    h.accept(1, "a");
    h.end(1);
    h.arrive(2, "8000");
    assert!(offers(&h.drain()).is_empty());
    let stats = h.acd.queue_stats(h.now, &"8000".into()).unwrap();
    assert_eq!(stats.agents.ready, 0);
}

#[test]
fn removal_is_refused_while_in_use() {
    let mut h = Harness::new();
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.arrive(1, "8000");
    assert!(matches!(
        h.acd.remove_queue(&"8000".into()),
        Err(AcdError::QueueNotEmpty {
            interactions: 1,
            ..
        })
    ));
    h.end(1);
    h.acd.remove_queue(&"8000".into()).unwrap();
    assert!(h.acd.queue_config(&"8000".into()).is_none());
    h.login("a");
    assert_eq!(
        h.acd.remove_agent(&"a".into()),
        Err(AcdError::AgentLoggedIn("a".into()))
    );
    h.ev(acd::Event::AgentLogout { agent: "a".into() }).unwrap();
    h.acd.remove_agent(&"a".into()).unwrap();
    assert_eq!(h.acd.agent_configs().count(), 0);
    // Both come back under the same names.
    h.queue("8000", |_| {});
    h.agent("a", &["8000"], |_| {});
    h.login("a");
    h.arrive(2, "8000");
    assert_eq!(offers(&h.drain()), vec![(2, "a".into())]);
}

#[test]
fn invalid_configuration_names_the_key() {
    let mut h = Harness::new();
    let mut q = QueueConfig::new("8000");
    q.offer_timeout_secs = 0;
    let err = h.acd.upsert_queue(h.now, q).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid offer_timeout_secs: must be at least 1"
    );
    for id in ["", "<img src=x>"] {
        let err = h.acd.upsert_agent(h.now, AgentConfig::new(id)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid id: must be 1-64 of letters, digits and . _ + -"
        );
    }
    let mut a = AgentConfig::new("a");
    a.name = "A\0".into();
    let err = h.acd.upsert_agent(h.now, a).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid name: must not contain control characters"
    );
}

#[test]
fn configuration_loads_from_toml() {
    #[derive(serde::Deserialize)]
    struct File {
        queues: Vec<QueueConfig>,
        agents: Vec<AgentConfig>,
    }
    let file: File = toml::from_str(
        r#"
        [[queues]]
        dn = "8000"
        name = "Sales"
        strategy = "best_skill"
        offer_timeout_secs = 12
        wrap_up = { mode = "manual" }
        max_wait = { secs = 120, target = "8100" }
        max_size = 20
        required_skills = { sales = 2 }

        [[queues]]
        dn = "8100"
        wrap_up = { mode = "fixed", secs = 30 }

        [[agents]]
        id = "alice"
        name = "Alice"
        extension = "1001"
        skills = { sales = 7, english = 5 }
        queues = ["8000", "8100"]
        capacity = { voice = 1, chat = 3 }
        "#,
    )
    .unwrap();
    let sales = &file.queues[0];
    assert_eq!(sales.strategy, Strategy::BestSkill);
    assert_eq!(sales.wrap_up, WrapUp::Manual {});
    assert_eq!(sales.max_wait.as_ref().unwrap().target.as_str(), "8100");
    assert_eq!(file.queues[1].strategy, Strategy::LongestIdle);
    assert_eq!(file.queues[1].offer_timeout_secs, 15);
    assert_eq!(file.queues[1].wrap_up, WrapUp::Fixed { secs: 30 });
    assert_eq!(file.agents[0].capacity.chat, 3);
    assert_eq!(file.agents[0].capacity.email, 0);

    let mut h = Harness::new();
    for q in file.queues {
        h.acd.upsert_queue(h.now, q).unwrap();
    }
    for a in file.agents {
        h.acd.upsert_agent(h.now, a).unwrap();
    }
    h.login("alice");
    assert_eq!(
        h.acd
            .best_agent(&"8000".into(), Channel::Chat)
            .unwrap()
            .as_str(),
        "alice"
    );
    let json = serde_json::to_string(h.acd.queue_config(&"8000".into()).unwrap()).unwrap();
    let back: QueueConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, h.acd.queue_config(&"8000".into()).unwrap());
}

#[test]
fn the_engine_can_move_into_its_own_task() {
    fn send<T: Send + 'static>() {}
    send::<acd::Engine>();
    send::<acd::Action>();
}
