//! The call engine of one shard, sans-IO. It owns the shard's SIP transactions and call
//! sessions; its shard task (`shard.rs`) feeds it [`Input`]s with the time, and
//! carries out the [`Output`]s it polls: transmissions, media commands, ACD events,
//! published events, CDRs, reports and forwards. Nothing in here takes a lock, opens a
//! socket, spawns a task or reads a clock: the time comes with each input, randomness from
//! a seeded generator, and the registrar through [`Node`].
//!
//! A call is a [`Session`] of legs and bridges ("The call model" in DESIGN.md).

mod auth;
mod consult;
mod control;
mod dialog;
mod greeting;
mod hangup;
mod hold;
mod im;
mod in_dialog;
mod io;
mod locator;
mod mwi;
mod node;
mod originate;
mod placed;
mod queue;
mod recording;
mod register;
mod replaces;
mod ringing;
mod sdes;
mod sdp;
mod session;
mod setup;
mod sips;
mod supervise;
mod supervise_phone;
#[cfg(test)]
mod tests;
mod transfer;
mod voicemail;
mod webrtc;

pub use consult::{ConsultStep, MemberStep};
pub use control::{CallControl, CallOp, ControlError, TransferTo};
pub use im::SipIm;
pub use io::{CallChange, CallEvent, Counters, Input, Origination, OriginationEvent, Output};
pub use locator::{shard_for, shard_of_branch};
pub use node::{LocalNode, Node, NodeError, Registration};
pub use recording::RecordStep;
pub use session::{Bridge, CallState, CallView, Hold, LegView, Phase, Prompt, SuperviseMode};

use crate::config::Config;
use crate::prompts::Prompts;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use session::{LegId, Session};
use sip::transaction::{self, Event, Layer, Target, TransportKind, TxId};
use sip::validate::{self, Policy};
use sip::{Message, Method, Request, Response};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// A voicemail call's step (greeting, prompt, message) has played; its number.
    Voicemail(u32),
}

/// What a client transaction was started for.
#[derive(Clone, Copy, Debug)]
enum TxRole {
    /// The INVITE of this leg (a fork to a callee, or to an agent's phone).
    Invite(LegId),
    /// A request relayed from leg `from` (server transaction `server`) to its peer.
    Relay { server: TxId, from: LegId },
    /// A BYE (or another request) whose answer changes nothing.
    Fire,
    /// An INVITE whose session has ended; see [`Cx::orphans`].
    Orphan,
}

/// What the engine is made with.
pub struct Setup {
    pub shard: u8,
    /// How many shards the node has (for the locator).
    pub shards: usize,
    pub config: Arc<Config>,
    pub prompts: Arc<Prompts>,
    pub node: Box<dyn Node>,
    /// Our address per transport, for Via and Contact.
    pub locals: HashMap<TransportKind, SocketAddr>,
    /// Seeds tags, branches and Call-IDs.
    pub seed: u64,
    /// The time the engine starts, and the wall clock at that time (unix ms).
    pub now: Instant,
    pub unix_ms: i64,
}

pub struct Engine {
    cx: Cx,
    sessions: HashMap<u64, Session>,
}

/// Everything of the engine but its sessions, so a session and the rest can be borrowed
/// at once (no taking calls out of the map and putting them back).
struct Cx {
    shard: u8,
    shards: usize,
    config: Arc<Config>,
    prompts: Arc<Prompts>,
    node: Box<dyn Node>,
    locals: HashMap<TransportKind, SocketAddr>,
    layer: Layer,
    policy: Policy,
    out: VecDeque<Output>,
    rng: StdRng,
    /// Some user records a share of their calls (`[[users]] record_percent`): only then
    /// does an answer look the parties up.
    users_record: bool,
    /// A monotonic instant and the wall clock then, to stamp CDRs.
    wall: (Instant, i64),
    /// (Call-ID, our tag) of each leg -> session.
    dialogs: HashMap<(String, String), u64>,
    /// ACD interactions held by this shard -> session.
    interactions: HashMap<u64, u64>,
    /// The caller's INVITE server transactions -> session, to match CANCEL and timeouts.
    invites: HashMap<TxId, u64>,
    tx_owner: HashMap<TxId, (u64, TxRole)>,
    /// INVITEs of finished sessions still waiting for their final answer, with their
    /// request and target so a late 2xx can be ACKed and released.
    orphans: HashMap<TxId, (Request, Target)>,
    /// Our ACKs of relayed re-INVITEs' 2xx, by client transaction, repeated when the 2xx
    /// is (until the session ends).
    reinvite_acks: HashMap<TxId, (Vec<u8>, Target)>,
    timers: BinaryHeap<Reverse<(Instant, u64, CallTimer)>>,
    next_call: u64,
    next_interaction: u64,
    draining: bool,
    counters: Counters,
    locator: locator::Locator,
    /// SDES-SRTP keys of the sessions' endpoints.
    sdes: sdes::Sdes,
}

impl Engine {
    pub fn new(setup: Setup) -> Engine {
        let cfg = &setup.config.sip;
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
        let users_record = setup.config.users.iter().any(|u| u.record_percent > 0);
        Engine {
            cx: Cx {
                shard: setup.shard,
                shards: setup.shards.max(1),
                config: setup.config,
                prompts: setup.prompts,
                node: setup.node,
                locals: setup.locals,
                layer,
                policy,
                out: VecDeque::new(),
                rng: StdRng::seed_from_u64(setup.seed),
                users_record,
                wall: (setup.now, setup.unix_ms),
                dialogs: HashMap::new(),
                interactions: HashMap::new(),
                invites: HashMap::new(),
                tx_owner: HashMap::new(),
                orphans: HashMap::new(),
                reinvite_acks: HashMap::new(),
                timers: BinaryHeap::new(),
                next_call: 1,
                next_interaction: 1,
                draining: false,
                counters: Counters::default(),
                locator: locator::Locator::default(),
                sdes: sdes::Sdes::default(),
            },
            sessions: HashMap::new(),
        }
    }

    /// Take one input at `now`. Its effects are then waiting in [`Engine::poll_output`].
    pub fn handle_input(&mut self, now: Instant, input: Input) {
        match input {
            Input::Bytes { data, source } => self.handle_bytes(now, &data, source),
            Input::Message { msg, source } => self.handle_message(now, msg, source),
            Input::Tick => self.handle_timeout(now),
            Input::Acd(order) => self.handle_acd(now, order),
            Input::Originate(o) => self.originate(now, o),
            Input::Media(event) => self.handle_media(now, event),
            Input::Shutdown => self.shutdown(now),
            Input::TransportFailed(target) => self.cx.layer.transport_failed(target),
        }
        self.process(now);
    }

    /// The next effect of the inputs taken so far.
    pub fn poll_output(&mut self) -> Option<Output> {
        if let Some(t) = self.cx.layer.poll_transmit() {
            return Some(Output::Transmit(t));
        }
        self.cx.out.pop_front()
    }

    /// When [`Input::Tick`] is next due.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let call = self.cx.timers.peek().map(|Reverse((at, _, _))| *at);
        match (self.cx.layer.poll_timeout(), call) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Re-anchor the wall clock (unix ms at `now`), e.g. after the system clock was set.
    pub fn set_wall_clock(&mut self, now: Instant, unix_ms: i64) {
        self.cx.wall = (now, unix_ms);
    }

    /// A mailbox changed (REST): NOTIFY its phones.
    pub fn notify_mailbox(&mut self, now: Instant, mailbox: &str) {
        self.cx.notify_mwi(now, mailbox);
    }

    /// An IM for a phone user (SIP MESSAGE to its contacts).
    pub fn send_im(&mut self, now: Instant, m: &SipIm) {
        self.cx.send_im(now, m);
    }

    pub fn calls(&self) -> Vec<CallView> {
        let mut v: Vec<CallView> = self.sessions.values().map(Session::view).collect();
        v.sort_by_key(|c| (c.started_ms, c.relay));
        v
    }

    pub fn active_calls(&self) -> usize {
        self.sessions.len()
    }

    pub fn counters(&self) -> Counters {
        let mut c = self.cx.counters;
        c.transactions = self.cx.layer.stats();
        c
    }

    /// No call left and no request of ours (a BYE) waiting for its answer: shutdown may
    /// stop. Finished transactions lingering to absorb retransmissions do not count.
    pub fn is_idle(&self) -> bool {
        self.sessions.is_empty() && self.cx.tx_owner.is_empty()
    }

    pub fn shard(&self) -> u8 {
        self.cx.shard
    }

    fn handle_bytes(&mut self, now: Instant, data: &[u8], source: Target) {
        match sip::parse_datagram(data) {
            Ok(msg) => self.handle_message(now, msg, source),
            Err(sip::WireError::KeepAlive) => {}
            Err(e) => {
                self.cx.counters.parse_errors += 1;
                tracing::debug!(%e, from = %source.addr, "unparseable message");
                if let Some(resp) = validate::reject_unparseable(data, &e) {
                    self.cx.layer.send_stateless_bytes(resp, source);
                }
            }
        }
    }

    fn handle_message(&mut self, now: Instant, mut msg: Message, source: Target) {
        // A scanner (friendly-scanner & co.) gets no answer, and its address a ban.
        if let Message::Request(r) = &msg {
            let ua = r.headers.get("User-Agent").unwrap_or("");
            if self.cx.node.edge().scanner(source.addr.ip(), ua, now) {
                return;
            }
        }
        if let Some(shard) = self.hunt_supervised(now, &mut msg) {
            self.cx
                .out
                .push_back(Output::Forward { shard, msg, source });
            return;
        }
        if let Some(shard) = self
            .cx
            .locator
            .owner(now, &msg, self.cx.shard, self.cx.shards)
        {
            // A request in one of this shard's own dialogs stays here, whatever the
            // locator remembers of its Call-ID (a spiral's two dialogs share one).
            if !self.cx.owns_dialog(&msg) {
                self.cx
                    .out
                    .push_back(Output::Forward { shard, msg, source });
                return;
            }
        }
        self.cx.layer.handle_message(now, msg, source);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.cx.layer.handle_timeout(now);
        while let Some(Reverse((at, id, kind))) = self.cx.timers.peek().copied() {
            if at > now {
                break;
            }
            self.cx.timers.pop();
            self.with(now, id, |cx, s| match kind {
                CallTimer::Ring => cx.ring_timeout(now, s),
                CallTimer::Media => cx.probe_media(s),
                CallTimer::Session => cx.session_check(now, s),
                CallTimer::Announce => cx.announce(s),
                CallTimer::Voicemail(step) => cx.voicemail_step(now, s, step),
                CallTimer::Hangup => cx.hangup_all(
                    now,
                    s,
                    crate::records::Cause::Normal,
                    crate::records::HangupSide::Switch,
                    200,
                ),
            });
        }
        self.cx.locator.expire(now);
    }

    /// End every call: BYE to answered legs, final answers and CANCELs to ringing ones.
    fn shutdown(&mut self, now: Instant) {
        self.cx.draining = true;
        // In session order, not the map's (random) order, so the outputs follow from the
        // inputs and the seed alone.
        let mut ids: Vec<u64> = self.sessions.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            self.with(now, id, |cx, s| {
                cx.hangup_all(
                    now,
                    s,
                    crate::records::Cause::Shutdown,
                    crate::records::HangupSide::Switch,
                    503,
                )
            });
        }
    }

    /// Run `f` on session `id`, then forget the session if `f` ended it.
    fn with(&mut self, now: Instant, id: u64, f: impl FnOnce(&mut Cx, &mut Session)) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        f(&mut self.cx, s);
        if matches!(s.phase, Phase::Ended(_)) {
            if let Some(s) = self.sessions.remove(&id) {
                self.cx.finish(now, s);
            }
        }
    }

    /// Keep a new session and carry on with it.
    fn adopt(&mut self, now: Instant, s: Session, f: impl FnOnce(&mut Cx, &mut Session)) {
        let id = s.id;
        self.sessions.insert(id, s);
        self.with(now, id, f);
    }

    fn process(&mut self, now: Instant) {
        while let Some(ev) = self.cx.layer.poll_event() {
            match ev {
                Event::Request {
                    tx,
                    request,
                    source,
                } => self.on_request(now, tx, request, source),
                Event::Ack {
                    request, source, ..
                } => self.on_ack(now, request, source),
                Event::Cancel { invite, .. } => {
                    if let Some(id) = self.cx.invites.get(&invite).copied() {
                        self.with(now, id, |cx, s| cx.on_cancel(now, s, invite));
                    }
                }
                Event::Response { tx, response } => self.on_response(now, tx, response),
                Event::Timeout { tx } => self.on_timeout(now, tx),
                Event::TransportFailed { tx } => {
                    self.client_failed(now, tx, failure_response(503, "Service Unavailable"))
                }
            }
        }
    }

    fn on_request(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        // The transaction layer has checked the headers it keys on (validate_headers).
        if let Err(rej) = validate::validate_policy(&req, &self.cx.policy) {
            self.cx.counters.rejected += 1;
            let tag = self.cx.new_tag();
            let resp = validate::response_for(&req, &rej, Some(&tag));
            self.cx.layer.respond(now, tx, resp);
            return;
        }
        if self.cx.refuse_sips_over_plain(now, tx, &req, source) {
            return;
        }
        if let Some(tag) = to_tag(&req.headers) {
            let call_id = req.headers.call_id().unwrap_or_default().to_string();
            let key = (call_id, tag);
            match self.cx.dialogs.get(&key).copied() {
                Some(id) => self.with(now, id, |cx, s| cx.in_dialog(now, s, tx, req)),
                None if req.method == Method::Subscribe
                    && self
                        .cx
                        .node
                        .mailboxes()
                        .subscription(&key.0, &key.1)
                        .is_some() =>
                {
                    self.cx.subscribe(now, tx, req, source)
                }
                None => self.cx.reply(now, tx, &req, 481, None),
            }
            return;
        }
        match req.method {
            Method::Invite if self.cx.draining => self.cx.reply(now, tx, &req, 503, None),
            Method::Invite if req.headers.get("Replaces").is_some() => {
                // RFC 3891: the locator brought it to the shard that would own the dialog.
                self.replace(now, tx, req, source)
            }
            Method::Invite if req.headers.get("Join").is_some() => {
                self.cx
                    .reply(now, tx, &req, 481, Some("Joined Dialog Not Found"))
            }
            Method::Invite => self.new_call(now, tx, req, source),
            Method::Register => self.cx.register(now, tx, req, source),
            Method::Subscribe => self.cx.subscribe(now, tx, req, source),
            Method::Message => self.cx.message(now, tx, req, source),
            Method::Options => {
                let tag = self.cx.new_tag();
                let mut resp = req.response(200, None, Some(&tag));
                self.cx.add_capabilities(&mut resp);
                self.cx.layer.respond(now, tx, resp);
            }
            Method::Bye | Method::Update | Method::Prack | Method::Info => {
                self.cx.reply(now, tx, &req, 481, None)
            }
            Method::Other(_) => self.cx.reply(now, tx, &req, 501, None),
            _ => {
                let tag = self.cx.new_tag();
                let mut resp = req.response(405, None, Some(&tag));
                self.cx.add_capabilities(&mut resp);
                self.cx.layer.respond(now, tx, resp);
            }
        }
    }

    /// An ACK outside any transaction: the ACK of our 2xx.
    fn on_ack(&mut self, now: Instant, req: Request, _source: Target) {
        let Some(tag) = to_tag(&req.headers) else {
            return;
        };
        let key = (req.headers.call_id().unwrap_or_default().to_string(), tag);
        let Some(id) = self.cx.dialogs.get(&key).copied() else {
            return;
        };
        self.with(now, id, |cx, s| cx.on_ack(s, req));
    }

    fn on_response(&mut self, now: Instant, tx: TxId, resp: Response) {
        let Some((id, role)) = self.cx.tx_owner.get(&tx).copied() else {
            // A relayed re-INVITE's 2xx again: our ACK was lost, send it again.
            if (200..300).contains(&resp.code) {
                if let Some((ack, target)) = self.cx.reinvite_acks.get(&tx).cloned() {
                    self.cx.layer.send_stateless_bytes(ack, target);
                }
            }
            return;
        };
        if resp.code >= 200 && !matches!(role, TxRole::Invite(_)) {
            self.cx.tx_owner.remove(&tx);
        }
        match role {
            TxRole::Invite(leg) => self.with(now, id, |cx, s| cx.leg_response(now, s, leg, resp)),
            TxRole::Relay { server, from } => {
                if resp.code >= 200 {
                    self.with(now, id, |cx, s| {
                        cx.relay_response(now, s, tx, server, from, resp)
                    })
                }
            }
            TxRole::Fire => {}
            TxRole::Orphan => {
                if resp.code >= 200 {
                    if let Some((request, target)) = self.cx.orphans.remove(&tx) {
                        self.cx.tx_owner.remove(&tx);
                        if resp.code < 300 {
                            self.cx
                                .release_late_answer(now, id, &request, &resp, target);
                        }
                    }
                }
            }
        }
    }

    fn on_timeout(&mut self, now: Instant, tx: TxId) {
        if let Some(id) = self.cx.invites.get(&tx).copied() {
            // Our 2xx to the caller was never ACKed (RFC 3261 §13.3.1.4): end the call.
            self.with(now, id, |cx, s| {
                cx.hangup_all(
                    now,
                    s,
                    crate::records::Cause::Failed,
                    crate::records::HangupSide::Switch,
                    408,
                )
            });
            return;
        }
        self.client_failed(now, tx, timeout_response());
    }

    /// Client transaction `tx` ended without an answer: its owner takes `resp` (a 408
    /// for a timeout, a 503 for a transport failure) as the answer.
    fn client_failed(&mut self, now: Instant, tx: TxId, resp: Response) {
        if let Some((id, role)) = self.cx.tx_owner.remove(&tx) {
            match role {
                TxRole::Invite(leg) => {
                    self.with(now, id, |cx, s| cx.leg_response(now, s, leg, resp))
                }
                TxRole::Relay { server, .. } => {
                    if let Some(req) = self.cx.layer.server_request(server).cloned() {
                        self.cx.reply(now, server, &req, resp.code, None);
                    }
                }
                TxRole::Fire => {}
                TxRole::Orphan => {
                    self.cx.orphans.remove(&tx);
                }
            }
        }
    }

    fn handle_media(&mut self, now: Instant, event: media::graph::MediaEvent) {
        use media::graph::MediaEvent;
        let relay = match &event {
            MediaEvent::Allocated { relay, .. }
            | MediaEvent::AllocationFailed { relay }
            | MediaEvent::Activity { relay, .. } => *relay,
            MediaEvent::EndpointAdded { endpoint, .. }
            | MediaEvent::EndpointFailed { endpoint }
            | MediaEvent::Digit { endpoint, .. }
            | MediaEvent::WebRtcConnected { endpoint }
            | MediaEvent::WebRtcGone { endpoint } => endpoint.relay,
            MediaEvent::Silence { relay } => *relay,
        };
        // One relay per session, named by the session's id.
        self.with(now, relay.0, |cx, s| cx.on_media(now, s, event));
    }
}

impl Cx {
    /// Whether `msg` is a request in one of this shard's dialogs.
    fn owns_dialog(&self, msg: &Message) -> bool {
        let Message::Request(r) = msg else {
            return false;
        };
        to_tag(&r.headers).is_some_and(|tag| {
            let call_id = r.headers.call_id().unwrap_or_default().to_string();
            self.dialogs.contains_key(&(call_id, tag))
        })
    }

    fn add_capabilities(&self, resp: &mut Response) {
        resp.headers.push("Allow", ALLOW);
        resp.headers.push("Accept", "application/sdp");
        resp.headers
            .push("Server", self.config.sip.user_agent.clone());
    }

    /// Answer `req` with `code` (no body).
    fn reply(&mut self, now: Instant, tx: TxId, req: &Request, code: u16, reason: Option<&str>) {
        self.reply_warning(now, tx, req, code, reason, None);
    }

    /// [`Cx::reply`] with a `Warning` header value when given.
    fn reply_warning(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        code: u16,
        reason: Option<&str>,
        warning: Option<&str>,
    ) {
        let tag = self.new_tag();
        let mut resp = req.response(code, reason, Some(&tag));
        if let Some(w) = warning {
            resp.headers.push("Warning", w.to_string());
        }
        resp.headers
            .push("Server", self.config.sip.user_agent.clone());
        self.layer.respond(now, tx, resp);
    }

    /// Via header value for a request leaving over `transport`.
    fn via_host(&self, transport: TransportKind) -> (String, &'static str) {
        let addr = self
            .locals
            .get(&transport)
            .or_else(|| self.locals.values().next())
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

    fn schedule(&mut self, at: Instant, id: u64, kind: CallTimer) {
        self.timers.push(Reverse((at, id, kind)));
    }

    fn new_session_id(&mut self) -> u64 {
        let id = self.next_call;
        self.next_call += 1;
        id
    }

    fn new_interaction(&mut self) -> u64 {
        let n = self.next_interaction;
        self.next_interaction += 1;
        crate::orders::interaction_id(self.shard, n)
    }

    /// A tag for our From/To headers (48 random bits).
    fn new_tag(&mut self) -> String {
        format!("{:012x}", self.rng.gen::<u64>() & 0xffff_ffff_ffff)
    }

    /// A Via branch (RFC 3261 magic cookie and 64 random bits).
    fn new_branch(&mut self) -> String {
        // Names this shard, so answers come back here (see `locator::shard_of_branch`).
        format!(
            "z9hG4bKccs{:02x}-{:016x}",
            self.shard,
            self.rng.gen::<u64>()
        )
    }

    /// A Call-ID for our legs that names this shard (`ccsNN-...`), so the transports bring
    /// every message of it here.
    fn new_call_id(&mut self) -> String {
        format!("ccs{:02x}-{:016x}", self.shard, self.rng.gen::<u64>())
    }

    /// The wall clock at `now`, unix milliseconds.
    fn unix_ms(&self, now: Instant) -> i64 {
        let (at, ms) = self.wall;
        if now >= at {
            ms + (now - at).as_millis() as i64
        } else {
            ms - (at - now).as_millis() as i64
        }
    }

    fn emit(&mut self, out: Output) {
        self.out.push_back(out);
    }

    fn media(&mut self, command: media::graph::MediaCommand) {
        self.out.push_back(Output::Media(command));
    }
}

/// Methods we handle, for Allow headers.
pub const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, MESSAGE, NOTIFY, REFER, SUBSCRIBE";

/// How often an answered call's RTP activity is checked: a fraction of the no-media limit,
/// so a call is ended within about 1.25 times that limit, and never more often than 2/s.
fn media_check_interval(limit: Duration) -> Duration {
    (limit / 4).clamp(Duration::from_millis(500), Duration::from_secs(5))
}

fn to_tag(headers: &sip::Headers) -> Option<String> {
    headers.to().ok().and_then(|t| t.tag().map(str::to_string))
}

/// A stand-in 408 for a transaction that timed out.
fn timeout_response() -> Response {
    failure_response(408, "Request Timeout")
}

/// A stand-in final response for a transaction that got none.
fn failure_response(code: u16, reason: &str) -> Response {
    Response {
        code,
        reason: reason.into(),
        headers: sip::Headers::new(),
        body: Vec::new(),
    }
}

/// Resolve a SIP URI with an IP-literal host to a target; names are not resolved here.
/// A `sips:` URI, or `transport=tls`, goes over TLS, by default to port 5061 (RFC 3261
/// §19.1.2, §26.2).
pub fn uri_target(uri: &sip::Uri) -> Option<Target> {
    let ip: std::net::IpAddr = uri.host_unbracketed().parse().ok()?;
    let transport = match uri.transport().and_then(|t| TransportKind::from_token(&t)) {
        _ if uri.scheme == sip::Scheme::Sips => TransportKind::Tls,
        Some(t) => t,
        None => TransportKind::Udp,
    };
    let default_port = match transport {
        TransportKind::Tls => 5061,
        _ => 5060,
    };
    Some(Target {
        transport,
        addr: SocketAddr::new(ip, uri.port.unwrap_or(default_port)),
    })
}

/// The transport of a config entry (listen address, trunk, static contact).
pub fn transport_kind(t: crate::config::Transport) -> TransportKind {
    match t {
        crate::config::Transport::Udp => TransportKind::Udp,
        crate::config::Transport::Tcp => TransportKind::Tcp,
        crate::config::Transport::Tls => TransportKind::Tls,
    }
}
