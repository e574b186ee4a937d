//! Writes the distributor's [`AcdRecord`]s (agent state changes, interaction events) in the
//! background, the way [`CdrWriter`](super::CdrWriter) writes CDRs: the distributor sends
//! into an unbounded channel and never waits for the database; one task writes whatever
//! has piled up as one transaction. When the distributor (the only sender) is gone the task
//! writes what is left and ends; shutting down is "drop the distributor, await the handle".

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::acd::{InteractionEvent, StateHistoryEntry};
use super::writer::{retrying, MAX_BATCH};
use super::Store;
use crate::records::AcdRecord;

/// The background task that drains the distributor's record channel into the store.
pub struct AcdRecordWriter {
    store: Store,
    rx: mpsc::UnboundedReceiver<AcdRecord>,
}

/// A batch split by table.
#[derive(Default)]
struct Rows {
    states: Vec<StateHistoryEntry>,
    events: Vec<InteractionEvent>,
}

impl Rows {
    fn add(&mut self, record: &AcdRecord) {
        match record {
            AcdRecord::State(change) => self.states.push(StateHistoryEntry::from_change(change)),
            AcdRecord::Interaction {
                id,
                queue,
                event,
                agent,
                at_ms,
            } => self.events.push(InteractionEvent {
                interaction: *id,
                queue: queue.clone(),
                event: (*event).to_string(),
                agent: agent.clone(),
                at_ms: i64::try_from(*at_ms).unwrap_or(i64::MAX),
            }),
        }
    }

    fn len(&self) -> usize {
        self.states.len() + self.events.len()
    }
}

impl AcdRecordWriter {
    /// Starts the writer on the current tokio runtime, reading what the distributor sends
    /// into `rx`. The task ends once every sender is dropped and the queue is written out.
    pub fn spawn(store: Store, rx: mpsc::UnboundedReceiver<AcdRecord>) -> JoinHandle<()> {
        tokio::spawn(AcdRecordWriter { store, rx }.run())
    }

    async fn run(mut self) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        // `recv_many` returns 0 only once all senders are gone and the queue is empty.
        while self.rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let mut rows = Rows::default();
            for record in &batch {
                rows.add(record);
            }
            write_rows(&self.store, &rows).await;
            batch.clear();
        }
        tracing::debug!("ACD records writer finished");
    }
}

/// Writes a batch with retries; if the database rejects it, row by row so that only the
/// bad rows are lost. Every lost row is logged.
async fn write_rows(store: &Store, rows: &Rows) {
    let all = || store.insert_acd_records(&rows.states, &rows.events);
    match retrying("ACD record", rows.len(), all).await {
        Ok(()) => {}
        Err(error) if error.is_rejected() => {
            tracing::warn!(count = rows.len(), %error, "ACD record batch rejected; writing one by one");
            for s in &rows.states {
                if let Err(error) = store.insert_acd_records(std::slice::from_ref(s), &[]).await {
                    tracing::error!(agent = %s.agent, at_ms = s.at_ms, %error, "agent state change lost");
                }
            }
            for e in &rows.events {
                if let Err(error) = store.insert_acd_records(&[], std::slice::from_ref(e)).await {
                    tracing::error!(interaction = e.interaction, event = %e.event, %error, "interaction event lost");
                }
            }
        }
        Err(error) => {
            tracing::error!(
                states = rows.states.len(),
                events = rows.events.len(),
                %error,
                "ACD records lost: database unavailable"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, TestDb};
    use super::*;
    use acd::{AgentId, AgentState, Cause, StateChange};

    backend_tests!(
        flushes_when_the_sender_drops,
        keeps_good_rows_next_to_a_rejected_one
    );

    fn change(n: u64) -> AcdRecord {
        AcdRecord::State(StateChange {
            agent: AgentId::new("alice"),
            from: AgentState::LoggedOut,
            to: AgentState::not_ready(format!("reason {n}")),
            at_ms: 1_700_000_000_000 + n,
            cause: Cause::Login,
        })
    }

    fn event(n: u64) -> AcdRecord {
        AcdRecord::Interaction {
            id: n,
            queue: "8000".into(),
            event: "offered",
            agent: Some("alice".into()),
            at_ms: 1_700_000_000_000 + n,
        }
    }

    async fn flushes_when_the_sender_drops(db: &TestDb) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = AcdRecordWriter::spawn(db.store.clone(), rx);
        for n in 0..700 {
            tx.send(change(n)).unwrap();
            tx.send(event(n)).unwrap();
        }
        drop(tx);
        handle.await.unwrap();
        let history = db
            .store
            .agent_state_history("alice", 10_000, 0)
            .await
            .unwrap();
        assert_eq!(history.len(), 700);
        assert_eq!(history[0].reason.as_deref(), Some("reason 699"));
        assert_eq!(history[0].cause, "login");
        let events = db.store.list_interaction_events(10_000, 0).await.unwrap();
        assert_eq!(events.len(), 700);
        assert_eq!(events[0].interaction, 699);
    }

    /// PostgreSQL text cannot hold NUL, so there that row is rejected; SQLite stores it.
    /// Either way the rows around it must be written.
    async fn keeps_good_rows_next_to_a_rejected_one(db: &TestDb) {
        let mut rows = Rows::default();
        rows.add(&change(1));
        rows.add(&AcdRecord::State(StateChange {
            agent: AgentId::new("alice"),
            from: AgentState::Ready,
            to: AgentState::not_ready("nul\0"),
            at_ms: 1_700_000_000_002,
            cause: Cause::AgentRequest,
        }));
        rows.add(&event(3));
        write_rows(&db.store, &rows).await;
        let history = db.store.agent_state_history("alice", 10, 0).await.unwrap();
        assert!(
            history.iter().any(|h| h.at_ms == 1_700_000_000_001),
            "{history:?}"
        );
        let events = db.store.list_interaction_events(10, 0).await.unwrap();
        assert_eq!(events.len(), 1);
    }

    #[tokio::test]
    async fn gives_up_on_a_closed_store_and_still_ends() {
        let db = TestDb::sqlite().await;
        db.store.close().await;
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = AcdRecordWriter::spawn(db.store.clone(), rx);
        tx.send(change(1)).unwrap();
        drop(tx);
        handle.await.unwrap();
    }
}
