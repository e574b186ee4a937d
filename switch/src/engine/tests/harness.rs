//! The test harness: an [`Engine`] driven by hand with a fake clock, no socket. Peers are
//! plain addresses; what the engine transmits to each is parsed and queued for the test to
//! take ([`Harness::req`], [`Harness::resp`]); a fake media plane answers `Allocate` and
//! `Probe`; every other output is kept in [`Harness::outputs`]. Requests from peers are
//! written as SIP text ([`Dlg`]), answers to the engine's requests built from them
//! ([`Harness::reply`]).

use crate::config::Config;
use crate::engine::{Engine, Input, LocalNode, Output, Setup};
use crate::prompts::Prompts;
use crate::store::Cdr;
use media::graph::{MediaCommand, MediaEvent};
use sip::transaction::{Target, TransportKind};
use sip::{Message, Method, Request, Response};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

pub use super::peer::Dlg;

/// Our SIP domain (the demo config's) and the switch's own address.
pub const DOMAIN: &str = "127.0.0.1";
pub const SWITCH: SocketAddr = addr(1, 5060);
/// The switch's HTTP listener, where SIP over WebSocket arrives.
pub const SWITCH_WS: SocketAddr = addr(1, 8080);
/// What the fake media plane binds every relay to.
pub const RELAY_IP: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
pub const PORT_A: u16 = 20000;
pub const PORT_B: u16 = 20002;

/// The port the fake media plane binds for an added endpoint (2, 3, ...).
pub const fn endpoint_port(side: u8) -> u16 {
    PORT_A + 2 * side as u16
}

/// Phones: 1001, 1002 (and its second phone), 1003.
pub const ALICE: SocketAddr = addr(11, 5060);
pub const BOB: SocketAddr = addr(12, 5060);
pub const BOB2: SocketAddr = addr(13, 5060);
pub const CAROL: SocketAddr = addr(14, 5060);

/// The RTP ports the phones put in their SDP.
pub const ALICE_RTP: u16 = 4000;
pub const BOB_RTP: u16 = 5000;
pub const CAROL_RTP: u16 = 6000;

/// The demo config's queue DN and its ready feature code.
pub const QUEUE: &str = "8000";
pub const READY_CODE: &str = "*21";

pub const fn addr(last: u8, port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)), port)
}

pub fn ws(addr: SocketAddr) -> Target {
    Target {
        transport: TransportKind::Ws,
        addr,
    }
}

pub fn tls(addr: SocketAddr) -> Target {
    Target {
        transport: TransportKind::Tls,
        addr,
    }
}

pub fn udp(addr: SocketAddr) -> Target {
    Target {
        transport: TransportKind::Udp,
        addr,
    }
}

pub fn prompts() -> Arc<Prompts> {
    static PROMPTS: OnceLock<Arc<Prompts>> = OnceLock::new();
    PROMPTS
        .get_or_init(|| Arc::new(Prompts::load().expect("prompts decode")))
        .clone()
}

/// How to build a [`Harness`].
pub struct Opts {
    pub shard: u8,
    pub shards: usize,
    pub seed: u64,
    pub config: Config,
    /// Static registrations: user, phone address (contact `sip:user@address`).
    pub bindings: Vec<(&'static str, SocketAddr)>,
    /// (supervisor, extension): who may supervise whose calls from their phone.
    pub supervises: Vec<(&'static str, &'static str)>,
    /// WebSocket clients (address, user) whose connection proves their user.
    pub ws_users: Vec<(SocketAddr, &'static str)>,
    /// Phones whose SIP comes and goes over TLS (their static bindings too).
    pub tls_phones: Vec<SocketAddr>,
}

impl Default for Opts {
    /// The demo config with 127.0.0.0/8 trusted (no digest), session timers as the demo
    /// has them (1800 s, only for callers that support them), 60 s ring and no-media
    /// limits; 1001, 1002 and 1003 registered at their phones.
    fn default() -> Opts {
        let mut config = Config::demo();
        config.sip.trusted = vec!["127.0.0.0/8".parse().expect("cidr")];
        // Calls that fail, fail: the voicemail tests turn it on.
        config.voicemail.enabled = false;
        Opts {
            shard: 0,
            shards: 1,
            seed: 1,
            config,
            bindings: vec![("1001", ALICE), ("1002", BOB), ("1003", CAROL)],
            supervises: Vec::new(),
            ws_users: Vec::new(),
            tls_phones: Vec::new(),
        }
    }
}

pub struct Harness {
    pub engine: Engine,
    /// The fake clock: the engine sees only this.
    pub now: Instant,
    /// What the engine transmitted and the test has not taken yet: (destination, message).
    pub sent: VecDeque<(SocketAddr, Message)>,
    /// Every media command, in order.
    pub media: Vec<MediaCommand>,
    /// Every output that is neither a transmission nor a media command, in order.
    pub outputs: VecDeque<Output>,
    /// Every output, printed, in order (for the determinism test).
    pub log: Vec<String>,
    /// What the media plane answers a `Probe` with.
    pub idle_for: Duration,
    /// Whether the media plane answers `Allocate` (else the test feeds the answer).
    pub allocate: bool,
    /// The node's voicemail boxes, as the engine sees them.
    pub mailboxes: crate::voicemail::Mailboxes,
    /// What the engine asked of the greeting files.
    pub greeting_jobs: tokio::sync::mpsc::UnboundedReceiver<crate::voicemail::greeting::Job>,
    pending: VecDeque<Input>,
    pub(super) branches: u64,
    /// The last bytes a peer sent, to repeat them.
    last: Option<(SocketAddr, Vec<u8>)>,
    /// Peers on a WebSocket (`Opts::ws_users`).
    ws_peers: Vec<SocketAddr>,
    /// Peers on TLS (`Opts::tls_phones`).
    tls_peers: Vec<SocketAddr>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with(Opts::default())
    }

    pub fn with(opts: Opts) -> Harness {
        Harness::at(opts, Instant::now())
    }

    /// A harness whose clock starts at `t0` (two harnesses at the same `t0` see the same
    /// instants).
    pub fn at(opts: Opts, t0: Instant) -> Harness {
        let queues: Vec<&str> = opts.config.queues.iter().map(|q| q.dn.as_str()).collect();
        let mut node = LocalNode::new(&opts.config.sip.domain, &queues);
        let (jobs, greeting_jobs) = tokio::sync::mpsc::unbounded_channel();
        node.mailboxes = node.mailboxes.with_greetings(HashMap::new(), jobs);
        let mailboxes = node.mailboxes.clone();
        for (sup, ext) in &opts.supervises {
            node.supervises.insert((sup.to_string(), ext.to_string()));
        }
        let ws_peers = opts.ws_users.iter().map(|(a, _)| *a).collect();
        for (phone, user) in &opts.ws_users {
            node.connections.insert(ws(*phone), user.to_string());
        }
        for (user, phone) in &opts.bindings {
            let target = match opts.tls_phones.contains(phone) {
                true => tls(*phone),
                false => udp(*phone),
            };
            node.registrar
                .add_static(user, format!("sip:{user}@{phone}"), target);
        }
        let tls_peers = opts.tls_phones.clone();
        let engine = Engine::new(Setup {
            shard: opts.shard,
            shards: opts.shards,
            config: Arc::new(opts.config),
            prompts: prompts(),
            node: Box::new(node),
            locals: HashMap::from([(TransportKind::Udp, SWITCH), (TransportKind::Ws, SWITCH_WS)]),
            seed: opts.seed,
            now: t0,
            unix_ms: 1_700_000_000_000,
        });
        Harness {
            engine,
            now: t0,
            sent: VecDeque::new(),
            media: Vec::new(),
            outputs: VecDeque::new(),
            log: Vec::new(),
            idle_for: Duration::ZERO,
            allocate: true,
            mailboxes,
            greeting_jobs,
            pending: VecDeque::new(),
            branches: 0,
            last: None,
            ws_peers,
            tls_peers,
        }
    }

    /// Feed one input at the current time and carry out everything it leads to, as the
    /// shard task does (media answers are fed back before the next input).
    pub fn input(&mut self, input: Input) {
        self.pending.push_back(input);
        while let Some(input) = self.pending.pop_front() {
            self.engine.handle_input(self.now, input);
            while let Some(out) = self.engine.poll_output() {
                self.output(out);
            }
        }
    }

    fn output(&mut self, out: Output) {
        match out {
            Output::Transmit(t) => {
                let text = String::from_utf8_lossy(&t.data).into_owned();
                self.log.push(format!("Transmit {:?}\n{text}", t.target));
                let msg = sip::parse_datagram(&t.data).unwrap_or_else(|e| {
                    panic!("the engine sent an unparseable message ({e}):\n{text}")
                });
                // Each test peer has one transport: UDP, a WebSocket from `ws_users`, or TLS
                // from `tls_phones`.
                let expected = if self.ws_peers.contains(&t.target.addr) {
                    TransportKind::Ws
                } else if self.tls_peers.contains(&t.target.addr) {
                    TransportKind::Tls
                } else {
                    TransportKind::Udp
                };
                assert_eq!(t.target.transport, expected, "to {}", t.target.addr);
                self.sent.push_back((t.target.addr, msg));
            }
            Output::Media(command) => {
                self.log.push(format!("Media {command:?}"));
                match command {
                    MediaCommand::Allocate { relay } if self.allocate => {
                        self.pending.push_back(Input::Media(MediaEvent::Allocated {
                            relay,
                            ip: RELAY_IP,
                            ports: [PORT_A, PORT_B],
                        }))
                    }
                    MediaCommand::AddEndpoint { endpoint } => {
                        self.pending
                            .push_back(Input::Media(MediaEvent::EndpointAdded {
                                endpoint,
                                port: endpoint_port(endpoint.side.0),
                            }))
                    }
                    MediaCommand::Probe { relay } => {
                        self.pending.push_back(Input::Media(MediaEvent::Activity {
                            relay,
                            idle_for: self.idle_for,
                        }))
                    }
                    _ => {}
                }
                self.media.push(command);
            }
            other => {
                self.log.push(format!("{other:?}"));
                self.outputs.push_back(other);
            }
        }
    }

    /// SIP text arriving over the WebSocket of the client at `from`.
    pub fn send_ws(&mut self, from: SocketAddr, data: impl Into<Vec<u8>>) {
        self.input(Input::Bytes {
            data: data.into(),
            source: ws(from),
        });
    }

    /// SIP text (or any bytes) arriving from `from`.
    pub fn send(&mut self, from: SocketAddr, data: impl Into<Vec<u8>>) {
        let data = data.into();
        self.last = Some((from, data.clone()));
        let source = match self.tls_peers.contains(&from) {
            true => tls(from),
            false => udp(from),
        };
        self.input(Input::Bytes { data, source });
    }

    /// The last message a peer sent, again (a UDP retransmission).
    pub fn resend(&mut self) {
        let (from, data) = self.last.clone().expect("nothing sent yet");
        self.send(from, data);
    }

    /// Let `d` pass, feeding [`Input::Tick`] each time the engine's timeout comes due.
    pub fn advance(&mut self, d: Duration) {
        let until = self.now + d;
        let mut ticks = 0;
        while let Some(at) = self.engine.poll_timeout() {
            if at > until {
                break;
            }
            ticks += 1;
            assert!(ticks < 100_000, "the engine's timeout does not move on");
            self.now = self.now.max(at);
            self.input(Input::Tick);
        }
        self.now = until;
    }

    /// A fresh Via branch for a peer's request.
    pub fn branch(&mut self) -> String {
        self.branches += 1;
        format!("z9hG4bKpeer{}", self.branches)
    }

    // --- What peers receive ---------------------------------------------------------------

    fn dump(&self) -> String {
        self.sent
            .iter()
            .map(|(to, m)| format!("  to {to}: {}", summary(m)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Take the first message to `to` that `pred` accepts; panic if there is none.
    pub fn take(&mut self, to: SocketAddr, what: &str, pred: impl Fn(&Message) -> bool) -> Message {
        match self.sent.iter().position(|(a, m)| *a == to && pred(m)) {
            Some(i) => self
                .sent
                .remove(i)
                .map(|(_, m)| m)
                .unwrap_or_else(|| unreachable!()),
            None => panic!("no {what} sent to {to}; waiting:\n{}", self.dump()),
        }
    }

    /// Take the first `method` request sent to `to`.
    pub fn req(&mut self, to: SocketAddr, method: &str) -> Request {
        let m = Method::from_token(method);
        match self.take(
            to,
            method,
            |msg| matches!(msg, Message::Request(r) if r.method == m),
        ) {
            Message::Request(r) => r,
            Message::Response(_) => unreachable!(),
        }
    }

    /// Take the first response with `code` sent to `to` (of any method).
    pub fn resp(&mut self, to: SocketAddr, code: u16) -> Response {
        let what = format!("{code} response");
        match self.take(
            to,
            &what,
            |msg| matches!(msg, Message::Response(r) if r.code == code),
        ) {
            Message::Response(r) => r,
            Message::Request(_) => unreachable!(),
        }
    }

    /// Take the first response with `code` to a `method` request sent to `to`.
    pub fn resp_to(&mut self, to: SocketAddr, code: u16, method: &str) -> Response {
        let m = Method::from_token(method);
        let what = format!("{code} response to {method}");
        let msg = self.take(to, &what, |msg| match msg {
            Message::Response(r) => r.code == code && cseq_method(&r.headers) == Some(m.clone()),
            Message::Request(_) => false,
        });
        match msg {
            Message::Response(r) => r,
            Message::Request(_) => unreachable!(),
        }
    }

    /// How many messages waiting for `to` `pred` accepts.
    pub fn count(&self, to: SocketAddr, pred: impl Fn(&Message) -> bool) -> usize {
        self.sent
            .iter()
            .filter(|(a, m)| *a == to && pred(m))
            .count()
    }

    /// How many `method` requests wait for `to`.
    pub fn count_req(&self, to: SocketAddr, method: &str) -> usize {
        let m = Method::from_token(method);
        self.count(
            to,
            |msg| matches!(msg, Message::Request(r) if r.method == m),
        )
    }

    /// Take everything waiting for `to`.
    pub fn drain(&mut self, to: SocketAddr) -> Vec<Message> {
        let (mine, rest): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.sent)
            .into_iter()
            .partition(|(a, _)| *a == to);
        self.sent = rest;
        mine.into_iter().map(|(_, m)| m).collect()
    }

    /// Forget every message waiting (retransmissions, 100 Trying...).
    pub fn clear(&mut self) {
        self.sent.clear();
    }

    /// Assert nothing but provisional responses and retransmissions the test does not care
    /// about waits for `to`: no request of `method`.
    pub fn assert_no_req(&self, to: SocketAddr, method: &str) {
        assert_eq!(
            self.count_req(to, method),
            0,
            "unexpected {method} to {to}; waiting:\n{}",
            self.dump()
        );
    }

    /// Answer `req` (received by the phone at `from`) with `code`, the phone's To tag and
    /// Contact (the URI the request was sent to), and an SDP body if given.
    pub fn reply(
        &mut self,
        from: SocketAddr,
        req: &Request,
        code: u16,
        tag: &str,
        sdp: Option<&str>,
    ) {
        let mut resp = req.response(code, None, Some(tag));
        if (101..300).contains(&code) {
            resp.headers.push("Contact", format!("<{}>", req.uri));
        }
        if let Some(sdp) = sdp {
            resp.headers.push("Content-Type", "application/sdp");
            resp.body = sdp.as_bytes().to_vec();
        }
        self.send(from, resp.to_bytes());
    }

    // --- Other outputs --------------------------------------------------------------------

    /// Take the first output `pred` picks; panic if there is none.
    pub fn take_output<T>(&mut self, what: &str, pred: impl Fn(&Output) -> Option<T>) -> T {
        let Some(i) = self.outputs.iter().position(|o| pred(o).is_some()) else {
            panic!("no {what} output; outputs: {:#?}", self.outputs);
        };
        let out = self.outputs.remove(i).unwrap_or_else(|| unreachable!());
        pred(&out).unwrap_or_else(|| unreachable!())
    }

    /// The one CDR written so far (taken).
    pub fn cdr(&mut self) -> Cdr {
        let cdr = self.take_output("CDR", |o| match o {
            Output::Cdr(c) => Some(c.clone()),
            _ => None,
        });
        assert!(
            !self.outputs.iter().any(|o| matches!(o, Output::Cdr(_))),
            "more than one CDR: {:#?}",
            self.outputs
        );
        cdr
    }

    /// Take every ACD event so far, in order.
    pub fn acd_events(&mut self) -> Vec<acd::Event> {
        let mut events = Vec::new();
        self.outputs.retain(|o| match o {
            Output::Acd(e) => {
                events.push(e.clone());
                false
            }
            _ => true,
        });
        events
    }

    /// Take every origination report so far, in order.
    pub fn reports(&mut self) -> Vec<crate::engine::OriginationEvent> {
        let mut events = Vec::new();
        self.outputs.retain(|o| match o {
            Output::Report(e) => {
                events.push(e.clone());
                false
            }
            _ => true,
        });
        events
    }

    /// Take every published call event's state so far, in order.
    pub fn published(&mut self) -> Vec<&'static str> {
        let mut states = Vec::new();
        self.outputs.retain(|o| match o {
            Output::Publish(e) => {
                states.push(e.state);
                false
            }
            _ => true,
        });
        states
    }

    /// The media commands so far, printed, and forgotten.
    pub fn take_media(&mut self) -> Vec<String> {
        std::mem::take(&mut self.media)
            .iter()
            .map(|c| format!("{c:?}"))
            .collect()
    }
}

/// A phone's SDP: PCMU and telephone-event at `ip:port`.
pub fn sdp(ip: IpAddr, port: u16) -> String {
    format!(
        "v=0\r\no=phone 1 1 IN IP4 {ip}\r\ns=call\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
    )
}

/// The SDP of the phone at `phone` with RTP port `port`.
pub fn sdp_at(phone: SocketAddr, port: u16) -> String {
    sdp(phone.ip(), port)
}

/// The connection address and first audio port of an SDP body.
pub fn audio(body: &[u8]) -> (IpAddr, u16) {
    let text = std::str::from_utf8(body).expect("utf-8 SDP");
    let ip = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("c=IN IP4 "))
        .unwrap_or_else(|| panic!("no c= line in {text}"))
        .parse()
        .expect("c= address");
    let port = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("m=audio "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no m=audio line in {text}"))
        .parse()
        .expect("m= port");
    (ip, port)
}

/// Assert a message's SDP points at the relay's `port` (and is SDP).
pub fn assert_relay_sdp(headers: &sip::Headers, body: &[u8], port: u16) {
    assert_eq!(headers.get("Content-Type"), Some("application/sdp"));
    assert_eq!(
        audio(body),
        (RELAY_IP, port),
        "SDP:\n{}",
        String::from_utf8_lossy(body)
    );
}

/// The tag of a From or To value.
pub fn tag_of(headers: &sip::Headers, name: &str) -> Option<String> {
    let na = sip::NameAddr::parse(headers.get(name)?).ok()?;
    na.tag().map(str::to_string)
}

pub fn cseq_method(headers: &sip::Headers) -> Option<Method> {
    headers.cseq().ok().map(|c| c.method)
}

pub fn cseq_num(headers: &sip::Headers) -> u32 {
    headers.cseq().expect("CSeq").seq
}

fn summary(m: &Message) -> String {
    let cseq = m.headers().get("CSeq").unwrap_or_default();
    match m {
        Message::Request(r) => format!("{} {} ({cseq})", r.method, r.uri),
        Message::Response(r) => format!("{} {} ({cseq})", r.code, r.reason),
    }
}

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A call from 1001 (ALICE) to 1002 (BOB) with `extra` INVITE headers, answered and ACKed
/// both ways; every message and media command so far taken. Returns the caller's and the
/// callee's dialogs.
pub fn connect(h: &mut Harness, extra: &str) -> (Dlg, Dlg) {
    let (a, b, _) = connect_ok(h, extra);
    (a, b)
}

/// [`connect`], also returning the caller's 200.
pub fn connect_ok(h: &mut Harness, extra: &str) -> (Dlg, Dlg, Response) {
    let mut a = h.call(
        ALICE,
        "1001",
        "1002",
        Some(&sdp_at(ALICE, ALICE_RTP)),
        extra,
    );
    let inv = h.req(BOB, "INVITE");
    let b = Dlg::callee(BOB, &inv, "bob");
    h.reply(BOB, &inv, 180, "bob", None);
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    h.req(BOB, "ACK");
    a.answered(&ok);
    a.ack(h, None);
    h.clear();
    h.take_media();
    (a, b, ok)
}

impl Harness {
    /// Call control on `call` (its id in the call list), its outputs carried out.
    pub fn control(
        &mut self,
        call: &str,
        leg: usize,
        command: crate::engine::CallControl,
    ) -> Result<crate::engine::CallView, crate::engine::ControlError> {
        let result = self.engine.control(self.now, call, leg, command);
        self.input(Input::Tick);
        result
    }

    /// Any call control on `call`, its outputs carried out (media answers included).
    pub fn call_op(
        &mut self,
        call: &str,
        op: crate::engine::CallOp,
    ) -> Result<crate::engine::CallView, crate::engine::ControlError> {
        let result = self.engine.call_op(self.now, call, op);
        self.input(Input::Tick);
        result
    }
}

/// What the switch sent itself (an attended transfer's INVITE with Replaces, the answers
/// and requests of that dialog), fed back in as if from the network, until nothing is left.
pub fn spiral(h: &mut Harness) {
    for _ in 0..20 {
        let msgs = h.drain(SWITCH);
        if msgs.is_empty() {
            return;
        }
        for m in msgs {
            let bytes = match m {
                sip::Message::Request(r) => r.to_bytes(),
                sip::Message::Response(r) => r.to_bytes(),
            };
            h.send(SWITCH, bytes);
        }
    }
    panic!("the switch keeps talking to itself");
}
