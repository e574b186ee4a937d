//! The way into the shards: every shard's input channel, the rule that names the shard of
//! a Call-ID, and the round robin for calls the switch places. The transports, the
//! distributor and the API hold a router; the shards are handed their receivers by
//! `server.rs`, which creates the channels, so nothing is bound late.

use crate::engine::{CallOp, CallView, ControlError, Origination, OriginationEvent};
use crate::orders::AcdOrder;
use sip::transaction::Target;
use sip::Message;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
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
    Acd(AcdOrder),
    /// Place a call for an agent; its progress goes to `report`.
    Originate {
        origination: Origination,
        report: mpsc::UnboundedSender<OriginationEvent>,
    },
    /// Call control on one of this shard's calls (REST hold, transfer, consult, ...).
    Call {
        call: String,
        op: CallOp,
        reply: oneshot::Sender<Result<CallView, ControlError>>,
    },
    /// A mailbox changed outside the engine (REST): tell its phones.
    Mwi {
        mailbox: String,
    },
    /// An IM for a phone user: sent as SIP MESSAGE.
    SipMessage(crate::engine::SipIm),
    /// End every call, wait for the BYEs to be answered (bounded), then stop.
    Shutdown(oneshot::Sender<()>),
    /// The transports could not reach `target`: fail what waits on it.
    TransportFailed {
        target: Target,
    },
}

/// Queue depth per shard; beyond it datagrams are dropped (UDP peers retransmit).
pub const QUEUE: usize = 65536;

#[derive(Clone)]
pub struct Router {
    senders: Arc<[mpsc::Sender<ShardInput>]>,
    /// Round-robin cursor for calls the switch originates.
    next: Arc<AtomicUsize>,
}

impl Router {
    /// A router for `n` shards and the receivers to hand to them, in shard order.
    pub fn new(n: usize) -> (Router, Vec<mpsc::Receiver<ShardInput>>) {
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..n).map(|_| mpsc::channel(QUEUE)).unzip();
        (
            Router {
                senders: senders.into(),
                next: Arc::new(AtomicUsize::new(0)),
            },
            receivers,
        )
    }

    pub fn len(&self) -> usize {
        self.senders.len()
    }

    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// The shard of a Call-ID (see [`crate::engine::shard_for`]).
    pub fn shard_for(&self, call_id: Option<&[u8]>) -> usize {
        match call_id {
            Some(cid) => crate::engine::shard_for(cid, self.senders.len()),
            None => 0,
        }
    }

    /// The shard a datagram goes to: a response to the shard whose branch it carries, else
    /// by Call-ID.
    pub fn shard_of_datagram(&self, data: &[u8]) -> usize {
        let n = self.senders.len();
        peek_response_branch(data)
            .and_then(|b| crate::engine::shard_of_branch(b, n))
            .unwrap_or_else(|| self.shard_for(peek_call_id(data)))
    }

    /// [`Router::shard_of_datagram`] for a parsed message (from TCP).
    pub fn shard_of_message(&self, msg: &sip::Message) -> usize {
        let n = self.senders.len();
        if let sip::Message::Response(r) = msg {
            let branch = r
                .headers
                .top_via()
                .ok()
                .and_then(|v| v.branch().map(str::to_string));
            if let Some(shard) =
                branch.and_then(|b| crate::engine::shard_of_branch(b.as_bytes(), n))
            {
                return shard;
            }
        }
        self.shard_for(msg.headers().call_id().map(str::as_bytes))
    }

    pub fn send(&self, shard: usize, input: ShardInput) {
        if let Some(s) = self.senders.get(shard) {
            if s.try_send(input).is_err() {
                tracing::warn!(shard, "shard queue full: message dropped");
            }
        }
    }

    /// Tells every shard that `target` cannot be reached (which shards have requests
    /// waiting on it is theirs to know; the event is rare).
    pub fn transport_failed(&self, target: Target) {
        for shard in 0..self.senders.len() {
            self.send(shard, ShardInput::TransportFailed { target });
        }
    }

    /// An ACD order to the shard holding its interaction.
    pub fn order(&self, order: AcdOrder) {
        let shard = order
            .interaction()
            .map_or(0, crate::orders::shard_of_interaction);
        self.send(shard, ShardInput::Acd(order));
    }

    /// Place a call for an agent on the next shard (round robin).
    pub fn originate(
        &self,
        origination: Origination,
        report: mpsc::UnboundedSender<OriginationEvent>,
    ) {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % self.senders.len().max(1);
        self.send(
            n,
            ShardInput::Originate {
                origination,
                report,
            },
        );
    }

    pub async fn calls(&self) -> Vec<CallView> {
        let mut out = Vec::new();
        for s in self.senders.iter() {
            let (tx, rx) = oneshot::channel();
            if s.send(ShardInput::Calls(tx)).await.is_ok() {
                if let Ok(v) = rx.await {
                    out.extend(v);
                }
            }
        }
        out
    }

    /// Call control on the live call `call`, on the shard that owns it ([`Router::ask`]).
    pub async fn call_op(&self, call: &str, op: CallOp) -> Result<CallView, ControlError> {
        self.ask(call, |reply| ShardInput::Call {
            call: call.to_string(),
            op: op.clone(),
            reply,
        })
        .await
    }

    /// Asks the shard whose number `call` names (as its SIP is routed) first, then the
    /// others: a call that arrived with Replaces or Join lives on the shard of the dialog
    /// it names, which the locator forwarded it to.
    async fn ask(
        &self,
        call: &str,
        make: impl Fn(oneshot::Sender<Result<CallView, ControlError>>) -> ShardInput,
    ) -> Result<CallView, ControlError> {
        let first = self.shard_for(Some(call.as_bytes()));
        let others = (0..self.senders.len()).filter(|i| *i != first);
        for shard in std::iter::once(first).chain(others) {
            let Some(s) = self.senders.get(shard) else {
                continue;
            };
            let (tx, rx) = oneshot::channel();
            if s.send(make(tx)).await.is_err() {
                continue;
            }
            match rx.await {
                Ok(Err(ControlError::NoCall(_))) | Err(_) => continue,
                Ok(result) => return result,
            }
        }
        Err(ControlError::NoCall(call.to_string()))
    }

    pub async fn shutdown(&self) {
        let mut waits = Vec::new();
        for s in self.senders.iter() {
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

/// The branch of a response's top Via, in raw bytes without a full parse: our branches
/// name the shard whose transaction the response answers.
pub fn peek_response_branch(data: &[u8]) -> Option<&[u8]> {
    if !data.starts_with(b"SIP/2.0 ") {
        return None;
    }
    for line in data.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"via") || name.eq_ignore_ascii_case(b"v") {
            let at = line
                .windows(7)
                .position(|w| w.eq_ignore_ascii_case(b"branch="))?;
            let value = &line[at + 7..];
            let end = value
                .iter()
                .position(|&b| b == b';' || b == b',' || b == b' ')
                .unwrap_or(value.len());
            return Some(&value[..end]);
        }
    }
    None
}

/// Find the Call-ID value in raw bytes without a full parse, to pick the shard.
pub fn peek_call_id(data: &[u8]) -> Option<&[u8]> {
    for line in data.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"call-id") || name.eq_ignore_ascii_case(b"i") {
            return Some(line[colon + 1..].trim_ascii());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peeks_the_branch_of_a_response() {
        let resp = b"SIP/2.0 200 OK\r\nv: SIP/2.0/UDP h;rport;branch=z9hG4bKccs01-ab;x\r\nVia: SIP/2.0/UDP o;branch=z9hG4bKccs00-cd\r\n\r\n";
        assert_eq!(peek_response_branch(resp), Some(&b"z9hG4bKccs01-ab"[..]));
        assert_eq!(
            peek_response_branch(b"INVITE x SIP/2.0\r\nVia: a;branch=z9hG4bKccs01-x\r\n\r\n"),
            None
        );
        assert_eq!(
            crate::engine::shard_of_branch(b"z9hG4bKccs01-ab", 2),
            Some(1)
        );
        assert_eq!(
            crate::engine::shard_of_branch(b"z9hG4bKccs03-ab", 2),
            Some(1)
        );
        assert_eq!(crate::engine::shard_of_branch(b"z9hG4bK776asdhds", 2), None);
        assert_eq!(crate::engine::shard_of_branch(b"z9hG4bKccsZZ-1", 2), None);
    }

    #[test]
    fn peeks_call_id_in_any_form() {
        assert_eq!(
            peek_call_id(b"INVITE x SIP/2.0\r\nVia: a\r\nCall-ID:  abc@h \r\n\r\n"),
            Some(&b"abc@h"[..])
        );
        assert_eq!(peek_call_id(b"BYE x SIP/2.0\ni : q1\n\n"), Some(&b"q1"[..]));
        assert_eq!(peek_call_id(b"BYE x SIP/2.0\r\n\r\nCall-ID: body"), None);
    }
}
