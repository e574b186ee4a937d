//! The transaction layer of RFC 3261 §17 (with the RFC 6026 Accepted states), sans-IO in
//! the quinn-proto style: feed it messages and the time, then drain what it wants to send
//! ([`Layer::poll_transmit`]), what the TU must see ([`Layer::poll_event`]) and when to wake
//! it next ([`Layer::poll_timeout`]).
//!
//! One `Layer` owns every transaction of one shard. The switch shards by Call-ID, so all
//! transactions of a dialog live in one layer and their messages stay in order.

pub mod client;
mod key;
mod server;
mod timer;

pub use client::{make_ack, make_cancel, TxError};
pub use key::{ClientKey, ServerKey};

use crate::message::{Message, Method, Request, Response};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use timer::{TimerKind, Timers};

/// Transport kinds. Only UDP retransmits; the others are reliable (RFC 3261 §17).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransportKind {
    Udp,
    Tcp,
    Tls,
    /// SIP over WebSocket (RFC 7118), plain.
    Ws,
    /// SIP over secure WebSocket (RFC 7118).
    Wss,
}

impl TransportKind {
    pub fn is_reliable(self) -> bool {
        self != TransportKind::Udp
    }

    /// Whether requests to a peer on this transport can only go over a connection the
    /// peer opened (RFC 7118 §5: a WebSocket client is not reachable by a new connection).
    pub fn is_client_only(self) -> bool {
        matches!(self, TransportKind::Ws | TransportKind::Wss)
    }

    /// Token for Via headers.
    pub fn via_token(self) -> &'static str {
        match self {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
            TransportKind::Tls => "TLS",
            TransportKind::Ws => "WS",
            TransportKind::Wss => "WSS",
        }
    }

    pub fn from_token(t: &str) -> Option<TransportKind> {
        match t.to_ascii_lowercase().as_str() {
            "udp" => Some(TransportKind::Udp),
            "tcp" => Some(TransportKind::Tcp),
            "tls" => Some(TransportKind::Tls),
            "ws" => Some(TransportKind::Ws),
            "wss" => Some(TransportKind::Wss),
            _ => None,
        }
    }
}

/// Where a message comes from or goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    pub transport: TransportKind,
    pub addr: SocketAddr,
}

/// Bytes to send, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    pub target: Target,
    pub data: Vec<u8>,
}

/// Timer base values (RFC 3261 §17.1.1.1 and Table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    pub t1: Duration,
    pub t2: Duration,
    pub t4: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

/// Identifies one transaction of a [`Layer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TxId(pub u64);

/// What the transaction user must handle.
#[derive(Debug, Clone)]
pub enum Event {
    /// A new request (not a retransmission). Answer it with [`Layer::respond`].
    Request {
        tx: TxId,
        request: Request,
        source: Target,
    },
    /// An ACK that belongs to no INVITE transaction: the ACK of a 2xx (RFC 3261 §17.1.1.3).
    /// `tx` is the accepted INVITE server transaction it acknowledged, when there was one.
    Ack {
        tx: Option<TxId>,
        request: Request,
        source: Target,
    },
    /// A CANCEL matched INVITE server transaction `invite`, which was still unanswered; the
    /// CANCEL was answered 200 here. The TU should answer the INVITE 487.
    Cancel { invite: TxId, request: Request },
    /// A response for client transaction `tx`. 2xx retransmissions of an INVITE are passed
    /// up too so the TU can repeat its ACK.
    Response { tx: TxId, response: Response },
    /// A client transaction got no final response (timer B or F), or a server INVITE
    /// transaction got no ACK for its final response (timer H, or L after a 2xx).
    Timeout { tx: TxId },
    /// The transport could not deliver client transaction `tx`'s request (no connection
    /// could be made, a TLS handshake failed, a WebSocket client is gone): the TU should
    /// take it as a 503 (RFC 3261 §8.1.3.1). See [`Layer::transport_failed`].
    TransportFailed { tx: TxId },
}

/// Counters for /metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub server_created: u64,
    pub client_created: u64,
    pub retransmissions_sent: u64,
    pub retransmissions_absorbed: u64,
    pub stray_responses: u64,
    pub timeouts: u64,
    /// Requests refused before a transaction was made (missing or broken Via, From, To,
    /// Call-ID or CSeq): answered statelessly, or dropped when an ACK.
    pub rejected_stateless: u64,
}

/// Every transaction of one shard.
pub struct Layer {
    config: Config,
    next_id: u64,
    servers: HashMap<TxId, server::ServerTx>,
    server_keys: HashMap<ServerKey, TxId>,
    /// Accepted INVITE server transactions by (Call-ID, CSeq number) to match their ACK.
    accepted: HashMap<(String, u32), TxId>,
    clients: HashMap<TxId, client::ClientTx>,
    client_keys: HashMap<ClientKey, TxId>,
    timers: Timers,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: Stats,
}

impl Layer {
    pub fn new(config: Config) -> Self {
        Layer {
            config,
            next_id: 1,
            servers: HashMap::new(),
            server_keys: HashMap::new(),
            accepted: HashMap::new(),
            clients: HashMap::new(),
            client_keys: HashMap::new(),
            timers: Timers::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
        }
    }

    pub fn config(&self) -> Config {
        self.config
    }

    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Live transactions (server, client).
    pub fn len(&self) -> (usize, usize) {
        (self.servers.len(), self.clients.len())
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty() && self.clients.is_empty()
    }

    fn alloc_id(&mut self) -> TxId {
        let id = TxId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Feed a parsed message that arrived from `source`.
    pub fn handle_message(&mut self, now: Instant, message: Message, source: Target) {
        match message {
            Message::Request(r) => self.handle_request(now, r, source),
            Message::Response(r) => self.handle_response(now, r),
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The next instant [`Layer::handle_timeout`] must be called.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.timers.next()
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((tx, kind)) = self.timers.pop_due(now) {
            match kind {
                TimerKind::Server(t) => self.server_timer(now, tx, t),
                TimerKind::Client(t) => self.client_timer(now, tx, t),
            }
        }
    }

    /// Send a message outside any transaction: the ACK for a 2xx, or a stateless response.
    /// The transport could not reach `target`: every client transaction still waiting
    /// for its final response from there ends now with [`Event::TransportFailed`] rather
    /// than at timer B or F (RFC 3261 §17.1.4).
    pub fn transport_failed(&mut self, target: Target) {
        let mut failed: Vec<TxId> = self
            .clients
            .iter()
            .filter(|(_, tx)| {
                tx.target == target
                    && matches!(tx.state, client::State::Calling | client::State::Proceeding)
            })
            .map(|(id, _)| *id)
            .collect();
        failed.sort();
        for id in failed {
            self.stats.timeouts += 1;
            self.events.push_back(Event::TransportFailed { tx: id });
            self.remove_client(id);
        }
    }

    pub fn send_stateless(&mut self, message: &Message, target: Target) {
        self.transmits.push_back(Transmit {
            target,
            data: message.to_bytes(),
        });
    }

    /// Send bytes already printed (an ACK kept for repetition, a best-effort 400).
    pub fn send_stateless_bytes(&mut self, data: Vec<u8>, target: Target) {
        self.transmits.push_back(Transmit { target, data });
    }

    fn schedule(&mut self, tx: TxId, kind: TimerKind, at: Instant) {
        self.timers.schedule(tx, kind, at);
    }
}

/// A new RFC 3261 branch parameter (magic cookie plus 64 random bits).
pub fn new_branch() -> String {
    format!("z9hG4bK{:016x}", rand::random::<u64>())
}

/// Whether a method's server transactions are INVITE transactions.
fn is_invite(m: &Method) -> bool {
    *m == Method::Invite
}

#[cfg(test)]
mod tests;
