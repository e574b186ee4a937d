//! Writes CDRs (and the index rows of call recordings) in the background so no call ever
//! waits on the database.
//!
//! Calls hold a [`CdrSink`] and `record` finished calls into an unbounded queue. One task
//! drains the queue: whatever has piled up (within [`LINGER`] of the first) is written as
//! one statement, so the rate of database commits adapts to load. When every sink is gone
//! the task writes what is left and ends; shutting down is "drop the sinks, await the
//! handle".

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Cdr, Recording, Store, StoreError};

/// What calls hand in.
#[derive(Debug)]
enum Item {
    Cdr(Cdr),
    Recording(Recording),
}

/// Most records written in one transaction.
pub(super) const MAX_BATCH: usize = 500;
/// How long the first record of a batch waits for others: under load one write (one
/// round trip to the database's thread) carries many calls' CDRs instead of one each.
const LINGER: Duration = Duration::from_millis(25);
/// Tries for a batch that fails for connection-level reasons.
const ATTEMPTS: u32 = 4;
/// Wait before the first retry; doubles after each.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(100);

/// Where calls hand in finished CDRs. Cheap to clone; never blocks.
#[derive(Debug, Clone)]
pub struct CdrSink {
    tx: mpsc::UnboundedSender<Item>,
}

impl CdrSink {
    /// Queues a CDR for writing. Returns at once; a failure to store it is logged by the
    /// writer, never reported to the caller.
    pub fn record(&self, cdr: Cdr) {
        if let Err(mpsc::error::SendError(Item::Cdr(cdr))) = self.tx.send(Item::Cdr(cdr)) {
            // Only when the writer task died (it lives while any sink does).
            tracing::error!(call_id = %cdr.call_id, "CDR writer is not running; CDR lost");
        }
    }

    /// Queues a finished recording's index row, as [`CdrSink::record`].
    pub fn recording(&self, row: Recording) {
        if self.tx.send(Item::Recording(row)).is_err() {
            tracing::error!("CDR writer is not running; recording index row lost");
        }
    }
}

/// The background task that owns the queue's receiving end.
pub struct CdrWriter {
    store: Store,
    rx: mpsc::UnboundedReceiver<Item>,
}

impl CdrWriter {
    /// Starts the writer on the current tokio runtime. The task ends after every
    /// [`CdrSink`] clone has been dropped and the queue is written out.
    pub fn spawn(store: Store) -> (CdrSink, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = tokio::spawn(CdrWriter { store, rx }.run());
        (CdrSink { tx }, handle)
    }

    async fn run(mut self) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        let (mut cdrs, mut recordings) = (Vec::new(), Vec::new());
        // `recv_many` returns 0 only once all senders are gone and the queue is empty.
        while self.rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            if batch.len() < MAX_BATCH {
                tokio::time::sleep(LINGER).await;
                while batch.len() < MAX_BATCH {
                    match self.rx.try_recv() {
                        Ok(item) => batch.push(item),
                        Err(_) => break,
                    }
                }
            }
            for item in batch.drain(..) {
                match item {
                    Item::Cdr(c) => cdrs.push(c),
                    Item::Recording(r) => recordings.push(r),
                }
            }
            if !cdrs.is_empty() {
                write_batch(&self.store, &cdrs).await;
                cdrs.clear();
            }
            if !recordings.is_empty() {
                let store = &self.store;
                let rows = &recordings;
                if let Err(error) =
                    retrying("recording", rows.len(), || store.insert_recordings(rows)).await
                {
                    for r in rows {
                        tracing::error!(id = %r.id, call_id = %r.call_id, %error, "recording index row lost");
                    }
                }
                recordings.clear();
            }
        }
        tracing::debug!("CDR writer finished");
    }
}

/// Writes a batch, retrying connection failures with backoff. If the database rejects the
/// batch itself (one bad row fails the whole transaction), the rows are written one by
/// one so only the bad ones are lost. Every lost CDR is logged with its Call-ID.
async fn write_batch(store: &Store, batch: &[Cdr]) {
    match retrying("CDR", batch.len(), || store.insert_cdrs(batch)).await {
        Ok(()) => {}
        Err(error) if error.is_rejected() => {
            tracing::warn!(count = batch.len(), %error, "CDR batch rejected; writing one by one");
            write_one_by_one(store, batch).await;
        }
        Err(error) => {
            for cdr in batch {
                tracing::error!(call_id = %cdr.call_id, %error, "CDR lost: database unavailable");
            }
        }
    }
}

/// Runs `write` until it succeeds, is rejected by the database (retrying the same rows
/// cannot help), or has failed for connection-level reasons `ATTEMPTS` times with a
/// doubling delay in between. Returns the last error; `what` and `count` are for the log.
pub(super) async fn retrying<F, Fut>(
    what: &str,
    count: usize,
    mut write: F,
) -> Result<(), StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), StoreError>>,
{
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempt = 1;
    loop {
        let error = match write().await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if error.is_rejected() || attempt >= ATTEMPTS {
            return Err(error);
        }
        tracing::warn!(
            what,
            count,
            attempt,
            retry_in_ms = delay.as_millis() as u64,
            %error,
            "store write failed; retrying"
        );
        tokio::time::sleep(delay).await;
        delay *= 2;
        attempt += 1;
    }
}

async fn write_one_by_one(store: &Store, batch: &[Cdr]) {
    for cdr in batch {
        if let Err(error) = store.insert_cdr(cdr).await {
            log_lost(cdr, &error);
        }
    }
}

fn log_lost(cdr: &Cdr, error: &StoreError) {
    tracing::error!(call_id = %cdr.call_id, %error, "CDR lost: the database rejected it");
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, sample_cdr, TestDb};
    use super::*;

    backend_tests!(
        flushes_when_sinks_drop,
        keeps_good_cdrs_next_to_a_rejected_one
    );

    async fn flushes_when_sinks_drop(db: &TestDb) {
        let (sink, handle) = CdrWriter::spawn(db.store.clone());
        let clones: Vec<CdrSink> = (0..4).map(|_| sink.clone()).collect();
        for (i, s) in clones.iter().enumerate() {
            for n in 0..300 {
                s.record(sample_cdr(i as i64 * 1000 + n));
            }
        }
        drop(clones);
        sink.record(sample_cdr(99_999));
        drop(sink);
        handle.await.unwrap();
        assert_eq!(db.store.count_cdrs().await.unwrap(), 1201);
        assert_eq!(
            db.store.list_cdrs(1, 0).await.unwrap(),
            [sample_cdr(99_999)]
        );
    }

    /// PostgreSQL text cannot hold NUL, so there that row is rejected; SQLite stores it.
    /// Either way the CDRs around it must be written.
    async fn keeps_good_cdrs_next_to_a_rejected_one(db: &TestDb) {
        let mut bad = sample_cdr(2);
        bad.from_uri = "sip:nul\0@example.com".to_string();
        write_batch(&db.store, &[sample_cdr(1), bad, sample_cdr(3)]).await;
        let stored = db.store.list_cdrs(10, 0).await.unwrap();
        assert!(
            stored.contains(&sample_cdr(1)) && stored.contains(&sample_cdr(3)),
            "{stored:?}"
        );
    }

    #[tokio::test]
    async fn gives_up_on_a_closed_store() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.close().await;
        let (sink, handle) = CdrWriter::spawn(store);
        sink.record(sample_cdr(1));
        drop(sink);
        // Retries with backoff, logs the loss, and still ends.
        handle.await.unwrap();
    }

    #[tokio::test]
    async fn ends_at_once_without_cdrs() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let (sink, handle) = CdrWriter::spawn(store.clone());
        drop(sink);
        handle.await.unwrap();
        store.close().await;
    }
}
