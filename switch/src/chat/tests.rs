//! The chat service against a real distributor and store (no HTTP): a chat is offered,
//! accepted, written both ways, ended and wrapped up; an unaccepted offer is a RONA; the
//! refusals.

use super::*;
use crate::config::CardPolicy;
use crate::router::Router;
use crate::store::testing::TestDb;
use acd::{AgentState, Event, RequestedState};
use std::time::Duration;

struct Setup {
    chats: Chats,
    distributor: Distributor,
    db: TestDb,
}

async fn setup(offer_timeout_secs: u32) -> Setup {
    let db = TestDb::sqlite().await;
    let (records, _records_rx) = mpsc::unbounded_channel();
    let (router, _) = Router::new(0);
    let mut queue = acd::QueueConfig::new("8000");
    queue.name = "Sales".into();
    queue.offer_timeout_secs = offer_timeout_secs;
    queue.wrap_up = acd::WrapUp::Manual {};
    let mut alice = acd::AgentConfig::new("alice");
    alice.name = "Alice A".into();
    alice.queues.push("8000".into());
    alice.capacity.chat = 2;
    let distributor = match Distributor::spawn(vec![queue], vec![alice], records, router) {
        Ok(d) => d,
        Err(e) => panic!("distributor: {e}"),
    };
    let config = ChatConfig {
        card_numbers: CardPolicy::Mask,
        max_message_chars: 1000,
        wrap_up_codes: [("8000".to_string(), vec!["Sale".to_string()])].into(),
        transfer_fallback: Default::default(),
        attachments: crate::chat::attachment::FileRules {
            types: vec!["pdf".into()],
            max_total_bytes: 1000,
        },
    };
    let chats = match Chats::spawn(config, distributor.clone(), db.store.clone()).await {
        Ok(c) => c,
        Err(e) => panic!("chats: {e}"),
    };
    distributor
        .request(Event::AgentLogin {
            agent: "alice".into(),
            initial: RequestedState::Ready,
        })
        .await
        .unwrap();
    Setup {
        chats,
        distributor,
        db,
    }
}

async fn state(d: &Distributor) -> AgentState {
    d.read(|e, _| e.agent_state(&"alice".into()).cloned())
        .await
        .flatten()
        .unwrap()
}

/// Waits until alice is in `want` (the chat task follows the engine asynchronously).
async fn wait_state(d: &Distributor, want: AgentState) {
    for _ in 0..200 {
        if state(d).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("alice is {:?}, not {want:?}", state(d).await);
}

async fn next(rx: &mut mpsc::UnboundedReceiver<ToCustomer>) -> ToCustomer {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(m)) => m,
        other => panic!("nothing for the customer: {other:?}"),
    }
}

#[tokio::test]
async fn a_chat_is_offered_accepted_written_ended_and_wrapped_up() {
    let s = setup(30).await;
    let (link, mut rx) = mpsc::unbounded_channel();
    assert_eq!(
        s.chats
            .join("Ann".into(), "9999".into(), link.clone())
            .await,
        Err(ChatError::UnknownDn("9999".into()))
    );
    assert_eq!(
        s.chats.join(" ".into(), "8000".into(), link.clone()).await,
        Err(ChatError::BadName)
    );
    let id = s
        .chats
        .join("Ann".into(), "8000".into(), link)
        .await
        .unwrap();
    assert_eq!(id & 0xff, 0xff, "chat ids carry the chat tag");
    assert!(matches!(next(&mut rx).await, ToCustomer::Joined { .. }));
    wait_state(&s.distributor, AgentState::Reserved).await;
    let alice = AgentId::new("alice");
    assert_eq!(
        s.chats.agent_says(alice.clone(), id, "hi".into()).await,
        Err(ChatError::NotActive)
    );
    s.chats
        .customer_says(id, "card 4111111111111111".into())
        .await
        .unwrap();
    let view = s.chats.accept(alice.clone(), id).await.unwrap();
    assert_eq!(view.customer, "Ann");
    assert_eq!(view.agent_name, "Alice A");
    assert_eq!(view.wrap_up_codes, ["Sale"]);
    assert_eq!(view.messages[0].text, "card ************1111");
    assert_eq!(state(&s.distributor).await, AgentState::Busy);
    let too_long = "y".repeat(1001);
    assert!(matches!(
        s.chats.agent_says(alice.clone(), id, too_long).await,
        Err(ChatError::TooLong { chars: 1001, .. })
    ));
    let m = s
        .chats
        .agent_says(alice.clone(), id, "hello Ann".into())
        .await
        .unwrap();
    assert_eq!((m.sender.as_str(), m.role), ("Alice A", Role::Agent));
    assert_eq!(
        s.chats.wrap_up(alice.clone(), id, vec![]).await,
        Err(ChatError::NotEnded)
    );
    s.chats.end(alice.clone(), id).await.unwrap();
    wait_state(&s.distributor, AgentState::AfterCallWork).await;
    assert_eq!(
        s.chats
            .wrap_up(alice.clone(), id, vec!["Nope".into()])
            .await,
        Err(ChatError::UnknownCode("Nope".into()))
    );
    s.chats
        .wrap_up(alice.clone(), id, vec!["Sale".into()])
        .await
        .unwrap();
    wait_state(&s.distributor, AgentState::Ready).await;
    // The customer saw every line (masked) and the end.
    let mut seen = Vec::new();
    loop {
        match next(&mut rx).await {
            ToCustomer::Ended { .. } => break,
            ToCustomer::Message { message } => seen.push(message.text),
            _ => {}
        }
    }
    assert!(
        seen.contains(&"card ************1111".to_string()),
        "{seen:?}"
    );
    assert!(seen.contains(&"hello Ann".to_string()), "{seen:?}");
    let stored = s.db.store.chat(id).await.unwrap().unwrap();
    assert_eq!(stored.agent.as_deref(), Some("alice"));
    assert_eq!(stored.wrap_up, ["Sale"]);
    let lines = s.db.store.chat_messages(id).await.unwrap();
    assert!(lines.iter().all(|l| !l.text.contains("4111111111111111")));
    assert_eq!(lines.last().map(|l| l.role.as_str()), Some("system"));
    s.db.cleanup().await;
}

#[tokio::test]
async fn an_offer_not_accepted_in_time_is_a_rona_and_the_chat_waits_again() {
    let s = setup(1).await;
    let (link, mut rx) = mpsc::unbounded_channel();
    let id = s
        .chats
        .join("Bo".into(), "8000".into(), link)
        .await
        .unwrap();
    wait_state(&s.distributor, AgentState::Reserved).await;
    wait_state(&s.distributor, AgentState::Rona).await;
    let alice = AgentId::new("alice");
    assert_eq!(
        s.chats.accept(alice.clone(), id).await.err(),
        Some(ChatError::NotOffered)
    );
    // Back in the queue: the customer hears their position.
    loop {
        if let ToCustomer::Queued { position } = next(&mut rx).await {
            assert_eq!(position, 1);
            break;
        }
    }
    s.chats.customer_left(id);
    s.db.cleanup().await;
}

#[tokio::test]
async fn a_declined_offer_is_a_rona_and_a_waiting_customer_may_leave() {
    let s = setup(30).await;
    let (link, _rx) = mpsc::unbounded_channel();
    let id = s
        .chats
        .join("Cy".into(), "8000".into(), link)
        .await
        .unwrap();
    wait_state(&s.distributor, AgentState::Reserved).await;
    let alice = AgentId::new("alice");
    assert_eq!(
        s.chats.decline(AgentId::new("bob"), id).await,
        Err(ChatError::NotOffered)
    );
    s.chats.decline(alice.clone(), id).await.unwrap();
    wait_state(&s.distributor, AgentState::Rona).await;
    assert!(s.chats.of_agent(alice.clone()).await.unwrap().is_empty());
    s.chats.customer_left(id);
    // Gone from the service: nothing to accept, the stored chat has its end.
    for _ in 0..100 {
        if s.db
            .store
            .chat(id)
            .await
            .unwrap()
            .and_then(|c| c.ended_ms)
            .is_some()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(s
        .db
        .store
        .chat(id)
        .await
        .unwrap()
        .unwrap()
        .ended_ms
        .is_some());
    assert_eq!(
        s.chats.accept(alice, id).await.err(),
        Some(ChatError::NotFound)
    );
    assert_eq!(
        s.chats.customer_says(id, "hello?".into()).await,
        Err(ChatError::NotFound)
    );
    s.db.cleanup().await;
}
