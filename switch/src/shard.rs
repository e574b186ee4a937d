//! Shards: each is one task owning one [`Engine`] — the transactions and calls whose Call-ID
//! hashes to it — so a dialog's messages are handled in order and without locks.

use crate::engine::{CallView, Engine, Shared};
use crate::transport::Outbound;
use sip::transaction::Target;
use sip::Message;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

pub enum ShardInput {
    Bytes {
        data: Vec<u8>,
        source: Target,
    },
    Message {
        msg: Message,
        source: Target,
    },
    Calls(oneshot::Sender<Vec<CallView>>),
    /// An order from the ACD for an interaction or feature call on this shard.
    Acd(crate::distributor::AcdOrder),
    /// Place a call for an agent (click-to-call, preview dialer).
    Originate(crate::engine::Origination),
    /// End every call, wait for the BYEs to be answered (bounded), then stop.
    Shutdown(oneshot::Sender<()>),
}

pub struct Shards {
    senders: Vec<mpsc::Sender<ShardInput>>,
    /// Round-robin cursor for calls the switch originates.
    next: std::sync::atomic::AtomicUsize,
}

/// Queue depth per shard; beyond it datagrams are dropped (UDP peers retransmit).
const QUEUE: usize = 65536;

impl Shards {
    pub fn spawn(n: usize, shared: Arc<Shared>, outbound: Arc<Outbound>) -> Arc<Shards> {
        let mut senders = Vec::with_capacity(n);
        for i in 0..n {
            let (tx, rx) = mpsc::channel(QUEUE);
            senders.push(tx);
            let engine = Engine::new(i as u8, shared.clone());
            let out = outbound.clone();
            tokio::spawn(run(engine, rx, out));
        }
        Arc::new(Shards {
            senders,
            next: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    pub fn len(&self) -> usize {
        self.senders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// The shard of a Call-ID. B-leg Call-IDs we create name their shard (`ccsNN-...`), so
    /// both legs of a call land on the same one.
    pub fn shard_for(&self, call_id: Option<&[u8]>) -> usize {
        let n = self.senders.len().max(1);
        let Some(cid) = call_id else { return 0 };
        if cid.len() > 5 && cid.starts_with(b"ccs") && cid[5] == b'-' {
            if let Ok(s) = std::str::from_utf8(&cid[3..5]) {
                if let Ok(i) = u8::from_str_radix(s, 16) {
                    return usize::from(i) % n;
                }
            }
        }
        let mut h = DefaultHasher::new();
        cid.hash(&mut h);
        (h.finish() as usize) % n
    }

    pub fn send(&self, shard: usize, input: ShardInput) {
        if let Some(s) = self.senders.get(shard) {
            if s.try_send(input).is_err() {
                tracing::warn!(shard, "shard queue full: message dropped");
            }
        }
    }

    /// Place a call for an agent on the least recently used shard (round robin).
    pub fn originate(&self, o: crate::engine::Origination) {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % self.senders.len().max(1);
        self.send(n, ShardInput::Originate(o));
    }

    pub async fn calls(&self) -> Vec<CallView> {
        let mut out = Vec::new();
        for s in &self.senders {
            let (tx, rx) = oneshot::channel();
            if s.send(ShardInput::Calls(tx)).await.is_ok() {
                if let Ok(v) = rx.await {
                    out.extend(v);
                }
            }
        }
        out
    }

    pub async fn shutdown(&self) {
        let mut waits = Vec::new();
        for s in &self.senders {
            let (tx, rx) = oneshot::channel();
            if s.send(ShardInput::Shutdown(tx)).await.is_ok() {
                waits.push(rx);
            }
        }
        for w in waits {
            let _ = w.await;
        }
    }
}

/// How long shutdown waits for BYE answers before giving up.
const DRAIN: Duration = Duration::from_secs(3);

async fn run(mut engine: Engine, mut rx: mpsc::Receiver<ShardInput>, out: Arc<Outbound>) {
    let mut stopping: Option<(Instant, oneshot::Sender<()>)> = None;
    loop {
        let mut deadline = engine.poll_timeout();
        if let Some((since, _)) = &stopping {
            // While draining, wake at the drain limit even if no timer is due before it.
            let limit = *since + DRAIN;
            deadline = Some(deadline.map_or(limit, |d| d.min(limit)));
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            input = rx.recv() => {
                let Some(input) = input else { break };
                handle(&mut engine, input, &mut stopping);
                // Take what else is queued before flushing, to batch under load.
                for _ in 0..64 {
                    match rx.try_recv() {
                        Ok(input) => handle(&mut engine, input, &mut stopping),
                        Err(_) => break,
                    }
                }
            }
            _ = sleep => engine.handle_timeout(Instant::now()),
        }
        while let Some(t) = engine.poll_transmit() {
            out.send(t);
        }
        if let Some((since, _)) = &stopping {
            if engine.is_idle() || since.elapsed() > DRAIN {
                if let Some((_, done)) = stopping.take() {
                    let _ = done.send(());
                }
                break;
            }
        }
    }
}

fn handle(
    engine: &mut Engine,
    input: ShardInput,
    stopping: &mut Option<(Instant, oneshot::Sender<()>)>,
) {
    let now = Instant::now();
    match input {
        ShardInput::Bytes { data, source } => engine.handle_bytes(now, &data, source),
        ShardInput::Message { msg, source } => engine.handle_message(now, msg, source),
        ShardInput::Acd(order) => engine.handle_acd(now, order),
        ShardInput::Originate(o) => engine.originate(now, o),
        ShardInput::Calls(reply) => {
            let _ = reply.send(engine.calls());
        }
        ShardInput::Shutdown(done) => {
            engine.shutdown(now);
            *stopping = Some((now, done));
        }
    }
}
