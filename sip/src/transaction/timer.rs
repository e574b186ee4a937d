//! Deadline queue for transaction timers. Cancelled timers are not removed from the heap;
//! each transaction remembers the one deadline it expects per kind and stale entries are
//! skipped when they come due.

use super::TxId;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServerTimer {
    /// G: retransmit a non-2xx final response of an INVITE (UDP).
    G,
    /// H: give up waiting for the ACK of a non-2xx final response.
    H,
    /// I: linger in Confirmed to absorb ACK retransmissions.
    I,
    /// J: linger in Completed (non-INVITE) to absorb request retransmissions.
    J,
    /// L (RFC 6026): linger in Accepted to absorb INVITE retransmissions.
    L,
    /// Retransmit a 2xx until its ACK arrives (RFC 3261 §13.3.1.4, UDP).
    Retransmit2xx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientTimer {
    /// A: retransmit the INVITE (UDP).
    A,
    /// B: INVITE transaction timeout.
    B,
    /// D: linger in Completed to re-ACK retransmitted final responses.
    D,
    /// E: retransmit a non-INVITE request (UDP).
    E,
    /// F: non-INVITE transaction timeout.
    F,
    /// K: linger in Completed (non-INVITE).
    K,
    /// M (RFC 6026): linger in Accepted to pass 2xx retransmissions to the TU.
    M,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    Server(ServerTimer),
    Client(ClientTimer),
}

#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(Instant, TxId, TimerKind)>>,
    armed: HashMap<(TxId, TimerKind), Instant>,
}

impl Timers {
    pub fn schedule(&mut self, tx: TxId, kind: TimerKind, at: Instant) {
        self.armed.insert((tx, kind), at);
        self.heap.push(Reverse((at, tx, kind)));
    }

    pub fn cancel(&mut self, tx: TxId, kind: TimerKind) {
        self.armed.remove(&(tx, kind));
    }

    pub fn cancel_all(&mut self, tx: TxId, kinds: &[TimerKind]) {
        for k in kinds {
            self.armed.remove(&(tx, *k));
        }
    }

    pub fn next(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, tx, kind))) = self.heap.peek().copied() {
            if self.armed.get(&(tx, kind)) == Some(&at) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    pub fn pop_due(&mut self, now: Instant) -> Option<(TxId, TimerKind)> {
        while let Some(Reverse((at, tx, kind))) = self.heap.peek().copied() {
            if at > now {
                return None;
            }
            self.heap.pop();
            if self.armed.get(&(tx, kind)) == Some(&at) {
                self.armed.remove(&(tx, kind));
                return Some((tx, kind));
            }
        }
        None
    }
}
