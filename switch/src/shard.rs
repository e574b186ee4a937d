//! Shards: each is one task driving one sans-IO [`Engine`] — the transactions and calls
//! whose Call-ID the [`Router`] names it for — so a dialog's messages are handled in order
//! and without locks. The task is the engine's I/O: it feeds it inputs with the time and
//! carries out its outputs (transport, media hub, distributor, CDR writer, reports).

use crate::distributor::Distributor;
use crate::engine::{
    Counters, Engine, Input, Node, NodeError, Origination, OriginationEvent, Output, Registration,
};
use crate::metrics::Metrics;
use crate::registrar::{Binding, Registrar};
use crate::router::{Router, ShardInput};
use crate::store::CdrSink;
use crate::transport::Outbound;
use media::MediaHub;
use sip::auth::Authenticator;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The node as each shard's engine sees it: the shared registrar, the distributor's queue
/// DNs and the node's digest verifier.
pub struct SharedNode {
    pub registrar: Arc<RwLock<Registrar>>,
    pub distributor: Distributor,
    pub auth: Authenticator,
    pub mailboxes: crate::voicemail::Mailboxes,
    pub accounts: crate::accounts::Accounts,
    pub edge: Arc<crate::edge::Edge>,
    /// The SIP WebSocket connections, for the users their API sessions prove.
    pub websockets: Arc<crate::sip_websocket::WsPool>,
}

impl Node for SharedNode {
    fn lookup(&self, now: Instant, user: &str) -> Vec<Binding> {
        match self.registrar.read() {
            Ok(r) => r.lookup(now, user),
            Err(_) => Vec::new(),
        }
    }

    fn register(&mut self, now: Instant, r: Registration<'_>) -> Result<Vec<Binding>, NodeError> {
        let mut reg = self.registrar.write().map_err(|_| NodeError::Unavailable)?;
        r.apply(&mut reg, now)
    }

    fn is_queue(&self, dn: &str) -> bool {
        self.distributor.is_queue(dn)
    }

    fn auth(&self) -> &Authenticator {
        &self.auth
    }

    fn mailboxes(&self) -> &crate::voicemail::Mailboxes {
        &self.mailboxes
    }

    fn may_supervise(&self, supervisor: &str, agent: Option<&str>, extension: &str) -> bool {
        self.accounts.may_supervise(supervisor, agent, extension)
    }

    fn edge(&self) -> &crate::edge::Edge {
        &self.edge
    }

    fn connection_user(&self, source: sip::transaction::Target) -> Option<String> {
        self.websockets.user_of(source)
    }
}

/// What a shard task carries out its engine's outputs with.
pub struct Effects {
    pub router: Router,
    pub outbound: Arc<Outbound>,
    pub media: Arc<media::MediaEngine>,
    pub distributor: Distributor,
    pub cdrs: CdrSink,
    pub metrics: Arc<Metrics>,
    /// Where MESSAGEs from phones go (the IM service).
    pub im: Option<mpsc::UnboundedSender<crate::engine::SipIm>>,
}

/// How long shutdown waits for BYE answers before giving up.
const DRAIN: Duration = Duration::from_secs(3);

pub fn spawn(engine: Engine, rx: mpsc::Receiver<ShardInput>, effects: Effects) {
    let (reports, media_rx) = mpsc::unbounded_channel();
    let hub = MediaHub::reporting(effects.media.clone(), reports);
    let shard = Shard {
        engine,
        hub,
        effects,
        reports: HashMap::new(),
        published: Counters::default(),
        pending: VecDeque::new(),
        transmits: Vec::new(),
    };
    tokio::spawn(shard.run(rx, media_rx));
}

struct Shard {
    engine: Engine,
    hub: MediaHub,
    effects: Effects,
    /// Where each originated call's progress goes, by attempt.
    reports: HashMap<u64, mpsc::UnboundedSender<OriginationEvent>>,
    published: Counters,
    /// Inputs produced by carrying out outputs (the media hub's answers).
    pending: VecDeque<Input>,
    /// What to send once the current batch of inputs is handled: one flush per batch, so
    /// a busy shard writes in bursts and its peers' answers arrive in bursts too.
    transmits: Vec<sip::transaction::Transmit>,
}

impl Shard {
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<ShardInput>,
        mut media: mpsc::UnboundedReceiver<media::graph::MediaEvent>,
    ) {
        let mut stopping: Option<(Instant, oneshot::Sender<()>)> = None;
        loop {
            let mut deadline = self.engine.poll_timeout();
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
                    self.handle(input, &mut stopping);
                    // Take what else is queued before flushing, to batch under load.
                    for _ in 0..64 {
                        match rx.try_recv() {
                            Ok(input) => self.handle(input, &mut stopping),
                            Err(_) => break,
                        }
                    }
                }
                Some(event) = media.recv() => self.input(Instant::now(), Input::Media(event)),
                _ = sleep => self.input(Instant::now(), Input::Tick),
            }
            for t in self.transmits.drain(..) {
                self.effects.outbound.send(t);
            }
            let counters = self.engine.counters();
            if counters != self.published {
                self.effects
                    .metrics
                    .add_engine_counters(&self.published, &counters);
                self.published = counters;
            }
            if let Some((since, _)) = &stopping {
                if self.engine.is_idle() || since.elapsed() > DRAIN {
                    if let Some((_, done)) = stopping.take() {
                        let _ = done.send(());
                    }
                    break;
                }
            }
        }
    }

    fn handle(&mut self, input: ShardInput, stopping: &mut Option<(Instant, oneshot::Sender<()>)>) {
        let now = Instant::now();
        match input {
            ShardInput::Bytes { data, source } => self.input(now, Input::Bytes { data, source }),
            ShardInput::Message { msg, source } => self.input(now, Input::Message { msg, source }),
            ShardInput::Acd(order) => self.input(now, Input::Acd(order)),
            ShardInput::TransportFailed { target } => {
                self.input(now, Input::TransportFailed(target))
            }
            ShardInput::Originate {
                origination,
                report,
            } => self.originate(now, origination, report),
            ShardInput::Calls(reply) => {
                let _ = reply.send(self.calls());
            }
            ShardInput::SipMessage(m) => {
                self.engine.send_im(now, &m);
                self.drain_at(now);
            }
            ShardInput::Mwi { mailbox } => {
                self.engine.notify_mailbox(now, &mailbox);
                self.drain_at(now);
            }
            ShardInput::Call { call, op, reply } => {
                let result = self.engine.call_op(now, &call, op);
                self.drain_at(now);
                let _ = reply.send(result);
            }
            ShardInput::Shutdown(done) => {
                self.input(now, Input::Shutdown);
                *stopping = Some((now, done));
            }
        }
    }

    fn originate(
        &mut self,
        now: Instant,
        o: Origination,
        report: mpsc::UnboundedSender<OriginationEvent>,
    ) {
        self.reports.insert(o.attempt, report);
        self.input(now, Input::Originate(o));
    }

    /// The engine's calls, with their relays' packet counters.
    fn calls(&self) -> Vec<crate::engine::CallView> {
        let mut calls = self.engine.calls();
        for c in &mut calls {
            if let Some(stats) = self.hub.stats(c.relay) {
                for leg in &mut c.legs {
                    let (inbound, outbound) = match leg.side {
                        media::Side::A => (stats.a_to_b_packets, stats.b_to_a_packets),
                        media::Side::B => (stats.b_to_a_packets, stats.a_to_b_packets),
                        // Added endpoints (consultations, conferences) are not counted
                        // apart.
                        _ => (0, 0),
                    };
                    leg.packets_in = inbound;
                    leg.packets_out = outbound;
                }
            }
        }
        calls
    }

    /// Feed one input and carry out everything it leads to.
    fn input(&mut self, now: Instant, input: Input) {
        self.pending.push_back(input);
        self.drain_at(now);
    }

    /// Carry out the engine's outputs, and the inputs they lead to.
    fn drain_at(&mut self, now: Instant) {
        loop {
            while let Some(out) = self.engine.poll_output() {
                self.output(out);
            }
            let Some(input) = self.pending.pop_front() else {
                break;
            };
            self.engine.handle_input(now, input);
        }
    }

    fn output(&mut self, out: Output) {
        let fx = &self.effects;
        match out {
            Output::Transmit(t) => self.transmits.push(t),
            Output::Media(command) => {
                if let Some(event) = self.hub.apply(command) {
                    self.pending.push_back(Input::Media(event));
                }
            }
            Output::Acd(event) => fx.distributor.send(event),
            Output::AskPosition { interaction } => fx.distributor.ask_position(interaction),
            Output::Feature {
                call,
                user,
                feature,
            } => fx
                .distributor
                .feature(usize::from(self.engine.shard()), call, user, feature),
            Output::Publish(event) => fx.distributor.publish_typed(&event),
            Output::CallChanged(change) => fx.distributor.publish_typed(&change),
            Output::Cdr(cdr) => fx.cdrs.record(cdr),
            Output::Recorded(row) => fx.cdrs.recording(row),
            Output::Report(event) => {
                let attempt = event.attempt();
                let ended = matches!(event, OriginationEvent::Ended { .. });
                if let Some(r) = self.reports.get(&attempt) {
                    let _ = r.send(event);
                }
                if ended {
                    self.reports.remove(&attempt);
                }
            }
            Output::Im(m) => {
                if let Some(im) = &fx.im {
                    let _ = im.send(m);
                }
            }
            Output::Forward { shard, msg, source } => {
                fx.router.send(shard, ShardInput::Message { msg, source })
            }
        }
    }
}
