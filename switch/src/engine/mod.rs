//! The call engine of one shard. It owns the shard's SIP transactions and calls; the shard
//! task ([`crate::shard`]) feeds it datagrams and timer ticks and sends what it produces.
//! Everything here is synchronous: state changes happen in one place, in message order.

mod auth;
mod call;
mod dialog;
mod fork;
mod hangup;
mod originate;
mod queue;

pub use originate::{Origination, OriginationEvent};
mod register;
mod relay;

pub use call::{CallView, LegView};

use crate::config::Config;
use crate::metrics::Metrics;
use crate::registrar::Registrar;
use crate::store::CdrSink;
use call::{Call, Side};
use media::MediaEngine;
use sip::transaction::{self, Event, Layer, Target, TransportKind, TxId};
use sip::validate::{self, Policy};
use sip::{Message, Method, Request, Response};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// What every shard shares. Read-only except the registrar (behind its lock), the media
/// engine (its own atomics) and the metrics (atomics).
pub struct Shared {
    pub config: Arc<Config>,
    pub registrar: Arc<RwLock<Registrar>>,
    pub media: Arc<MediaEngine>,
    pub cdrs: CdrSink,
    pub metrics: Arc<Metrics>,
    pub distributor: crate::distributor::Distributor,
    pub prompts: Arc<crate::prompts::Prompts>,
    /// Our address per transport, for Via and Contact.
    pub locals: HashMap<TransportKind, SocketAddr>,
    /// Digest verifier of every shard: one replay guard per node, so a nonce count used on
    /// one shard is a replay on all of them.
    pub auth: sip::auth::Authenticator,
}

/// Why a call-level timer fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum CallTimer {
    /// Nobody answered within `sip.invite_timeout_secs`.
    Ring,
    /// Periodic check of RTP activity.
    Media,
    /// The caller's session refresh is due (RFC 4028).
    Session,
    /// A waiting caller's next position announcement.
    Announce,
    /// A feature code's confirmation has played: hang up.
    Hangup,
}

/// What a client transaction was started for.
#[derive(Clone, Copy, Debug)]
enum TxRole {
    /// The INVITE to fork `n` of the B leg.
    Fork(usize),
    /// A request relayed from `from` (server transaction `server`) to the other leg.
    Relay { server: TxId, from: Side },
    /// A BYE (or another request) whose answer changes nothing.
    Fire,
    /// A fork's INVITE whose call has ended; see [`Engine::orphans`].
    Orphan,
    /// The INVITE to phone `n` of the agent an originated call rings first.
    AgentLeg(usize),
}

pub struct Engine {
    shard: u8,
    shared: Arc<Shared>,
    layer: Layer,
    policy: Policy,
    calls: HashMap<u64, Call>,
    /// (Call-ID, our tag) of each leg -> call and side.
    dialogs: HashMap<(String, String), (u64, Side)>,
    /// ACD interactions held by this shard -> call.
    interactions: HashMap<u64, u64>,
    /// A-leg INVITE server transactions -> call, to match CANCEL and timeouts.
    invites: HashMap<TxId, u64>,
    tx_owner: HashMap<TxId, (u64, TxRole)>,
    /// INVITEs of finished calls still waiting for their final answer, with their request
    /// and target so a late 2xx can be ACKed and released.
    orphans: HashMap<TxId, (Request, Target)>,
    /// Our ACKs of relayed re-INVITEs' 2xx, by client transaction, repeated when the 2xx
    /// is (until the call ends).
    reinvite_acks: HashMap<TxId, (Vec<u8>, Target)>,
    timers: BinaryHeap<Reverse<(Instant, u64, CallTimer)>>,
    next_call: u64,
    published: transaction::Stats,
    draining: bool,
}

impl Engine {
    pub fn new(shard: u8, shared: Arc<Shared>) -> Engine {
        let cfg = &shared.config.sip;
        let layer = Layer::new(transaction::Config {
            t1: cfg.t1(),
            t2: cfg.t2(),
            t4: cfg.t4(),
        });
        let supported = if cfg.session_expires > 0 {
            vec!["timer".to_string()]
        } else {
            Vec::new()
        };
        let policy = Policy {
            supported,
            accept_body: vec![
                "application/sdp".into(),
                "text/plain".into(),
                "application/dtmf-relay".into(),
            ],
            registrar: true,
            proxy_like: true,
        };
        Engine {
            shard,
            shared,
            layer,
            policy,
            calls: HashMap::new(),
            dialogs: HashMap::new(),
            invites: HashMap::new(),
            interactions: HashMap::new(),
            tx_owner: HashMap::new(),
            orphans: HashMap::new(),
            reinvite_acks: HashMap::new(),
            timers: BinaryHeap::new(),
            next_call: 1,
            published: transaction::Stats::default(),
            draining: false,
        }
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Feed one datagram or framed stream message.
    pub fn handle_bytes(&mut self, now: Instant, data: &[u8], source: Target) {
        match sip::parse_datagram(data) {
            Ok(msg) => self.handle_message(now, msg, source),
            Err(sip::WireError::KeepAlive) => {}
            Err(e) => {
                self.shared.metrics.inc_parse_error();
                tracing::debug!(%e, from = %source.addr, "unparseable message");
                if let Some(resp) = validate::reject_unparseable(data, &e) {
                    self.layer.send_stateless_bytes(resp, source);
                }
            }
        }
    }

    pub fn handle_message(&mut self, now: Instant, msg: Message, source: Target) {
        self.layer.handle_message(now, msg, source);
        self.process(now);
    }

    /// Next instant [`Engine::handle_timeout`] is due.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let call = self.timers.peek().map(|Reverse((at, _, _))| *at);
        match (self.layer.poll_timeout(), call) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.layer.handle_timeout(now);
        while let Some(Reverse((at, call, kind))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            match kind {
                CallTimer::Ring => self.ring_timeout(now, call),
                CallTimer::Media => self.media_check(now, call),
                CallTimer::Session => self.session_check(now, call),
                CallTimer::Announce => self.announce(call),
                CallTimer::Hangup => self.hangup_all(now, call, "normal", "switch", 200),
            }
        }
        self.process(now);
    }

    pub fn poll_transmit(&mut self) -> Option<transaction::Transmit> {
        self.layer.poll_transmit()
    }

    pub fn calls(&self) -> Vec<CallView> {
        let mut v: Vec<CallView> = self.calls.values().map(Call::view).collect();
        v.sort_by_key(|c| c.started_ms);
        v
    }

    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// No call left and no request of ours (a BYE) waiting for its answer: shutdown may
    /// stop. Finished transactions lingering to absorb retransmissions do not count.
    pub fn is_idle(&self) -> bool {
        self.calls.is_empty() && self.tx_owner.is_empty()
    }

    /// End every call: BYE to answered legs, final answers and CANCELs to ringing ones.
    pub fn shutdown(&mut self, now: Instant) {
        self.draining = true;
        let keys: Vec<u64> = self.calls.keys().copied().collect();
        for k in keys {
            self.hangup_all(now, k, "shutdown", "switch", 503);
        }
        self.process(now);
    }

    fn process(&mut self, now: Instant) {
        while let Some(ev) = self.layer.poll_event() {
            match ev {
                Event::Request {
                    tx,
                    request,
                    source,
                } => self.on_request(now, tx, request, source),
                Event::Ack {
                    request, source, ..
                } => self.on_ack(now, request, source),
                Event::Cancel { invite, .. } => self.on_cancel(now, invite),
                Event::Response { tx, response } => self.on_response(now, tx, response),
                Event::Timeout { tx } => self.on_timeout(now, tx),
            }
        }
        let s = self.layer.stats();
        self.shared
            .metrics
            .add_transaction_stats(&self.published, &s);
        self.published = s;
    }

    fn on_request(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        // The transaction layer has checked the headers it keys on (validate_headers).
        if let Err(rej) = validate::validate_policy(&req, &self.policy) {
            self.shared.metrics.inc_rejected();
            let resp = validate::response_for(&req, &rej, Some(&call::new_tag()));
            self.layer.respond(now, tx, resp);
            return;
        }
        let to_tag = req
            .headers
            .to()
            .ok()
            .and_then(|t| t.tag().map(str::to_string));
        if let Some(tag) = to_tag {
            let key = (req.headers.call_id().unwrap_or_default().to_string(), tag);
            match self.dialogs.get(&key).copied() {
                Some((call, side)) => self.in_dialog(now, call, side, tx, req),
                None => self.reply(now, tx, &req, 481, None),
            }
            return;
        }
        match req.method {
            Method::Invite if self.draining => self.reply(now, tx, &req, 503, None),
            Method::Invite => self.new_call(now, tx, req, source),
            Method::Register => self.register(now, tx, req, source),
            Method::Options => {
                let mut resp = req.response(200, None, Some(&call::new_tag()));
                self.add_capabilities(&mut resp);
                self.layer.respond(now, tx, resp);
            }
            Method::Bye | Method::Update | Method::Prack | Method::Info => {
                self.reply(now, tx, &req, 481, None)
            }
            Method::Other(_) => self.reply(now, tx, &req, 501, None),
            _ => {
                let mut resp = req.response(405, None, Some(&call::new_tag()));
                self.add_capabilities(&mut resp);
                self.layer.respond(now, tx, resp);
            }
        }
    }

    fn add_capabilities(&self, resp: &mut Response) {
        resp.headers.push("Allow", ALLOW);
        resp.headers.push("Accept", "application/sdp");
        resp.headers
            .push("Server", self.config().sip.user_agent.clone());
    }

    /// Answer `req` with `code` (no body).
    fn reply(&mut self, now: Instant, tx: TxId, req: &Request, code: u16, reason: Option<&str>) {
        let mut resp = req.response(code, reason, Some(&call::new_tag()));
        resp.headers
            .push("Server", self.config().sip.user_agent.clone());
        self.layer.respond(now, tx, resp);
    }

    fn on_timeout(&mut self, now: Instant, tx: TxId) {
        if let Some(call) = self.invites.get(&tx).copied() {
            // Our 2xx to the caller was never ACKed (RFC 3261 §13.3.1.4): end the call.
            self.hangup_all(now, call, "failed", "switch", 408);
            return;
        }
        if let Some((call, role)) = self.tx_owner.remove(&tx) {
            match role {
                TxRole::Fork(n) => self.fork_final(now, call, n, 408),
                TxRole::AgentLeg(n) => self.agent_leg_timeout(now, call, n),
                TxRole::Relay { server, from } => self.relay_failed(now, call, server, from),
                TxRole::Fire => {}
                TxRole::Orphan => {
                    self.orphans.remove(&tx);
                }
            }
        }
    }

    /// Via header value for a request leaving over `transport`.
    fn via_host(&self, transport: TransportKind) -> (String, &'static str) {
        let addr = self
            .shared
            .locals
            .get(&transport)
            .or_else(|| self.shared.locals.values().next())
            .copied()
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)));
        (addr.to_string(), transport.via_token())
    }

    fn contact_header(&self, transport: TransportKind) -> String {
        let (host, _) = self.via_host(transport);
        match transport {
            TransportKind::Udp => format!("<sip:switch@{host}>"),
            t => format!(
                "<sip:switch@{host};transport={}>",
                t.via_token().to_ascii_lowercase()
            ),
        }
    }

    fn send_request(&mut self, now: Instant, req: Request, target: Target) -> Option<TxId> {
        match self.layer.send_request(now, req, target) {
            Ok(tx) => Some(tx),
            Err(e) => {
                tracing::warn!(%e, "could not start client transaction");
                None
            }
        }
    }

    fn schedule(&mut self, at: Instant, call: u64, kind: CallTimer) {
        self.timers.push(Reverse((at, call, kind)));
    }

    fn new_call_id(&mut self) -> u64 {
        let id = self.next_call;
        self.next_call += 1;
        id
    }

    pub fn shard(&self) -> u8 {
        self.shard
    }
}

/// Methods we handle, for Allow headers.
pub const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, MESSAGE, NOTIFY, REFER";

/// How often an answered call's RTP activity is checked: a fraction of the no-media limit,
/// so a call is ended within about 1.25 times that limit, and never more often than 2/s.
fn media_check_interval(limit: Duration) -> Duration {
    (limit / 4).clamp(Duration::from_millis(500), Duration::from_secs(5))
}

/// Resolve a SIP URI with an IP-literal host to a target; names are not resolved here.
pub fn uri_target(uri: &sip::Uri) -> Option<Target> {
    let ip: std::net::IpAddr = uri.host_unbracketed().parse().ok()?;
    let transport = uri
        .transport()
        .and_then(|t| TransportKind::from_token(&t))
        .unwrap_or(TransportKind::Udp);
    Some(Target {
        transport,
        addr: SocketAddr::new(ip, uri.port.unwrap_or(5060)),
    })
}
