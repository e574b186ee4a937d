//! Transfer and conference against a real distributor and store: who is offered what, who
//! may write, end and wrap up, and where each agent's ACD state goes.

use super::collab::{Kind, Target};
use super::*;
use crate::config::{CardPolicy, TransferFallback};
use crate::router::Router;
use crate::store::testing::TestDb;
use acd::{AcdError, AgentState, Event, RequestedState};
use std::time::Duration;

struct Setup {
    chats: Chats,
    distributor: Distributor,
    db: TestDb,
    id: u64,
    rx: mpsc::UnboundedReceiver<ToCustomer>,
}

fn alice() -> AgentId {
    AgentId::new("alice")
}

fn bob() -> AgentId {
    AgentId::new("bob")
}

/// Queues 8000 (Sales, wrap-up required) with alice and 8001 (Support) with bob; a chat
/// from Ann accepted by alice.
async fn setup(fallback: TransferFallback, offer_timeout_secs: u32) -> Setup {
    let db = TestDb::sqlite().await;
    let (records, _records_rx) = mpsc::unbounded_channel();
    let (router, _) = Router::new(0);
    let mut queues = Vec::new();
    for (dn, name) in [("8000", "Sales"), ("8001", "Support")] {
        let mut q = acd::QueueConfig::new(dn);
        q.name = name.into();
        q.offer_timeout_secs = offer_timeout_secs;
        q.wrap_up = acd::WrapUp::Manual {};
        q.wrap_up_required = dn == "8000";
        queues.push(q);
    }
    let mut agents = Vec::new();
    for (id, name, dn) in [("alice", "Alice A", "8000"), ("bob", "Bob B", "8001")] {
        let mut a = acd::AgentConfig::new(id);
        a.name = name.into();
        a.queues.push(dn.into());
        a.capacity.chat = 2;
        agents.push(a);
    }
    let distributor = match Distributor::spawn(queues, agents, records, router) {
        Ok(d) => d,
        Err(e) => panic!("distributor: {e}"),
    };
    let config = ChatConfig {
        card_numbers: CardPolicy::Mask,
        max_message_chars: 1000,
        wrap_up_codes: [
            ("8000".to_string(), vec!["Sale".to_string()]),
            ("8001".to_string(), vec!["Fixed".to_string()]),
        ]
        .into(),
        transfer_fallback: fallback,
        attachments: crate::chat::attachment::FileRules {
            types: vec!["pdf".into()],
            max_total_bytes: 1000,
        },
    };
    let chats = Chats::spawn(config, distributor.clone(), db.store.clone())
        .await
        .unwrap();
    distributor
        .request(Event::AgentLogin {
            agent: alice(),
            initial: RequestedState::Ready,
        })
        .await
        .unwrap();
    let (link, rx) = mpsc::unbounded_channel();
    let id = chats.join("Ann".into(), "8000".into(), link).await.unwrap();
    wait_state(&distributor, "alice", AgentState::Reserved).await;
    chats
        .customer_says(id, "my order is late".into())
        .await
        .unwrap();
    chats.accept(alice(), id).await.unwrap();
    distributor
        .request(Event::AgentLogin {
            agent: bob(),
            initial: RequestedState::Ready,
        })
        .await
        .unwrap();
    Setup {
        chats,
        distributor,
        db,
        id,
        rx,
    }
}

async fn state(d: &Distributor, agent: &str) -> AgentState {
    let a = AgentId::new(agent);
    d.read(move |e, _| e.agent_state(&a).cloned())
        .await
        .flatten()
        .unwrap()
}

async fn wait_state(d: &Distributor, agent: &str, want: AgentState) {
    for _ in 0..200 {
        if state(d, agent).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{agent} is {:?}, not {want:?}", state(d, agent).await);
}

/// Everything the customer was sent so far.
fn seen(rx: &mut mpsc::UnboundedReceiver<ToCustomer>) -> Vec<ToCustomer> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn texts(seen: &[ToCustomer]) -> Vec<String> {
    seen.iter()
        .filter_map(|m| match m {
            ToCustomer::Message { message } => Some(message.text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_transfer_to_an_agent_hands_the_whole_chat_over_once_accepted() {
    let mut s = setup(TransferFallback::Agent, 30).await;
    let to_bob = Target::Agent(bob());
    assert_eq!(
        s.chats
            .invite(bob(), s.id, Kind::Transfer, to_bob.clone())
            .await,
        Err(ChatError::NotYours)
    );
    s.chats
        .invite(alice(), s.id, Kind::Transfer, to_bob.clone())
        .await
        .unwrap();
    wait_state(&s.distributor, "bob", AgentState::Reserved).await;
    // Until bob accepts, alice has the chat.
    s.chats
        .agent_says(alice(), s.id, "one moment".into())
        .await
        .unwrap();
    let view = s.chats.accept(bob(), s.id).await.unwrap();
    assert_eq!(view.agent_name, "Bob B");
    let lines: Vec<_> = view.messages.iter().map(|m| m.text.as_str()).collect();
    assert!(lines.contains(&"my order is late"), "{lines:?}");
    assert!(
        lines.contains(&"Alice A transferred the chat to Bob B"),
        "{lines:?}"
    );
    wait_state(&s.distributor, "alice", AgentState::AfterCallWork).await;
    assert_eq!(state(&s.distributor, "bob").await, AgentState::Busy);
    assert_eq!(
        s.chats
            .agent_says(alice(), s.id, "still here?".into())
            .await,
        Err(ChatError::NotYours)
    );
    s.chats
        .agent_says(bob(), s.id, "Bob here".into())
        .await
        .unwrap();
    let seen = seen(&mut s.rx);
    assert!(seen.contains(&ToCustomer::AgentJoined {
        name: "Bob B".into()
    }));
    assert!(texts(&seen).contains(&"Bob here".to_string()));
    // Sales requires the wrap-up: alice is refused Ready until she submits hers.
    let ready = Event::AgentState {
        agent: alice(),
        state: RequestedState::Ready,
    };
    assert!(matches!(
        s.distributor.request(ready.clone()).await,
        Err(crate::distributor_error::DistributorError::Refused(
            AcdError::WrapUpPending(_)
        ))
    ));
    let alice_views = s.chats.of_agent(alice()).await.unwrap();
    assert!(alice_views[0].ended && alice_views[0].wrap_up_codes == ["Sale"]);
    s.chats
        .wrap_up(alice(), s.id, vec!["Sale".into()])
        .await
        .unwrap();
    wait_state(&s.distributor, "alice", AgentState::Ready).await;
    // Bob ends; the transcript names bob and keeps both wrap-ups.
    s.chats.end(bob(), s.id).await.unwrap();
    // The chat is still Sales': bob wraps up with its codes.
    s.chats
        .wrap_up(bob(), s.id, vec!["Sale".into()])
        .await
        .unwrap();
    let stored = s.db.store.chat(s.id).await.unwrap().unwrap();
    assert_eq!(stored.agent.as_deref(), Some("bob"));
    assert_eq!(stored.wrap_up, ["Sale"]);
    let lines = s.db.store.chat_messages(s.id).await.unwrap();
    assert!(lines.iter().any(|l| l.text == "Alice A's wrap-up: Sale"));
    s.db.cleanup().await;
}

#[tokio::test]
async fn a_declined_transfer_comes_back_to_the_agent() {
    let s = setup(TransferFallback::Agent, 30).await;
    s.chats
        .invite(alice(), s.id, Kind::Transfer, Target::Agent(bob()))
        .await
        .unwrap();
    wait_state(&s.distributor, "bob", AgentState::Reserved).await;
    let mut events = s.distributor.subscribe();
    s.chats.decline(bob(), s.id).await.unwrap();
    let failed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let e = events.recv().await.unwrap();
            if e.contains("chat_invite_failed") {
                return e.to_string();
            }
        }
    })
    .await
    .unwrap();
    assert!(failed.contains("Bob B declined"), "{failed}");
    assert_eq!(state(&s.distributor, "alice").await, AgentState::Busy);
    s.chats
        .agent_says(alice(), s.id, "back with me".into())
        .await
        .unwrap();
    assert_eq!(
        s.chats.accept(bob(), s.id).await.map(|_| ()),
        Err(ChatError::NotOffered)
    );
    s.db.cleanup().await;
}

#[tokio::test]
async fn an_unanswered_transfer_goes_to_the_queue_when_so_configured() {
    let s = setup(TransferFallback::Queue, 1).await;
    s.chats
        .invite(alice(), s.id, Kind::Transfer, Target::Agent(bob()))
        .await
        .unwrap();
    wait_state(&s.distributor, "bob", AgentState::Reserved).await;
    // Bob lets it ring out: the chat goes back to Sales, alice leaves it for her wrap-up.
    wait_state(&s.distributor, "alice", AgentState::AfterCallWork).await;
    assert_eq!(
        s.chats.agent_says(alice(), s.id, "x".into()).await,
        Err(ChatError::NotActive)
    );
    s.db.cleanup().await;
}

#[tokio::test]
async fn a_queue_transfer_requeues_the_chat_for_the_next_agent() {
    let mut s = setup(TransferFallback::Agent, 30).await;
    s.chats
        .invite(alice(), s.id, Kind::Transfer, Target::Queue("8001".into()))
        .await
        .unwrap();
    wait_state(&s.distributor, "bob", AgentState::Reserved).await;
    assert_eq!(
        state(&s.distributor, "alice").await,
        AgentState::AfterCallWork
    );
    let view = s.chats.accept(bob(), s.id).await.unwrap();
    assert_eq!(
        (view.queue.as_str(), view.wrap_up_codes.as_slice()),
        ("8001", &["Fixed".to_string()][..])
    );
    assert!(view.messages.iter().any(|m| m.text == "my order is late"));
    let seen = texts(&seen(&mut s.rx));
    assert!(
        seen.iter()
            .any(|t| t.starts_with("You are being transferred")),
        "{seen:?}"
    );
    assert!(seen.contains(&"Alice A transferred the chat to Support".to_string()));
    s.db.cleanup().await;
}

#[tokio::test]
async fn a_conference_guest_writes_and_leaves_and_the_chat_goes_on() {
    let mut s = setup(TransferFallback::Agent, 30).await;
    s.chats
        .invite(alice(), s.id, Kind::Conference, Target::Agent(bob()))
        .await
        .unwrap();
    wait_state(&s.distributor, "bob", AgentState::Reserved).await;
    let view = s.chats.accept(bob(), s.id).await.unwrap();
    assert!(view.guest);
    assert_eq!(view.agents, ["alice", "bob"]);
    assert_eq!(state(&s.distributor, "alice").await, AgentState::Busy);
    assert_eq!(state(&s.distributor, "bob").await, AgentState::Busy);
    s.chats
        .agent_says(bob(), s.id, "Bob from billing".into())
        .await
        .unwrap();
    assert_eq!(s.chats.end(bob(), s.id).await, Err(ChatError::GuestOnly));
    assert_eq!(
        s.chats.leave(alice(), s.id).await,
        Err(ChatError::NotAGuest)
    );
    s.chats.leave(bob(), s.id).await.unwrap();
    // No wrap-up for the guest: Ready again.
    wait_state(&s.distributor, "bob", AgentState::Ready).await;
    s.chats
        .agent_says(alice(), s.id, "still here".into())
        .await
        .unwrap();
    let seen = texts(&seen(&mut s.rx));
    for line in [
        "Bob B joined the chat",
        "Bob from billing",
        "Bob B left the chat",
        "still here",
    ] {
        assert!(seen.contains(&line.to_string()), "{line} not in {seen:?}");
    }
    s.chats.end(alice(), s.id).await.unwrap();
    assert_eq!(
        s.chats.wrap_up(bob(), s.id, vec![]).await,
        Err(ChatError::NotYours)
    );
    s.chats
        .wrap_up(alice(), s.id, vec!["Sale".into()])
        .await
        .unwrap();
    wait_state(&s.distributor, "alice", AgentState::Ready).await;
    s.db.cleanup().await;
}

#[tokio::test]
async fn the_customer_leaving_ends_a_conference_for_both() {
    let s = setup(TransferFallback::Agent, 30).await;
    s.chats
        .invite(alice(), s.id, Kind::Conference, Target::Agent(bob()))
        .await
        .unwrap();
    wait_state(&s.distributor, "bob", AgentState::Reserved).await;
    s.chats.accept(bob(), s.id).await.unwrap();
    s.chats.customer_left(s.id);
    wait_state(&s.distributor, "alice", AgentState::AfterCallWork).await;
    wait_state(&s.distributor, "bob", AgentState::Ready).await;
    assert!(s.chats.of_agent(bob()).await.unwrap().is_empty());
    assert!(s.chats.of_agent(alice()).await.unwrap()[0].ended);
    s.db.cleanup().await;
}
