//! The automatic call distributor as a service: one task owns the sans-IO [`acd::Engine`]
//! (agents, queues, offers), takes events from the shards and the API, and turns the
//! engine's actions into orders for the shard that holds each interaction, events for the
//! desktops' stream, and records for the store.

use crate::distributor_error::DistributorError;
use crate::router::{Router, ShardInput};
use acd::{Action, AgentConfig, AgentId, Dn, Event, InteractionId, QueueConfig};
use serde_json::json;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, oneshot};

pub use crate::orders::{AcdOrder, Feature, FeatureOutcome};
pub use crate::records::AcdRecord;

type Reply<T> = oneshot::Sender<Result<T, DistributorError>>;
type Reader = Box<dyn FnOnce(&acd::Engine, Instant) + Send>;

enum Input {
    Event(Event, Option<Reply<()>>),
    Position(u64),
    Feature {
        shard: usize,
        call: u64,
        user: String,
        feature: Feature,
    },
    UpsertQueue(QueueConfig, Reply<()>),
    UpsertAgent(AgentConfig, Reply<()>),
    RemoveQueue(Dn, Reply<()>),
    RemoveAgent(AgentId, Reply<()>),
    Read(Reader),
    /// End the task (shutdown): its records sender goes with it, so the writer drains.
    Stop,
}

/// A cheap handle to the distributor task.
#[derive(Clone)]
pub struct Distributor {
    tx: mpsc::UnboundedSender<Input>,
    queue_dns: Arc<RwLock<HashSet<String>>>,
    events: broadcast::Sender<Arc<str>>,
    states: broadcast::Sender<acd::StateChange>,
    actions: broadcast::Sender<Action>,
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Distributor {
    /// Start the task with the configured queues and agents. Orders go to the shards
    /// through `router`; records go to `records` (the store's writer).
    pub fn spawn(
        queues: Vec<QueueConfig>,
        agents: Vec<AgentConfig>,
        records: mpsc::UnboundedSender<AcdRecord>,
        router: Router,
    ) -> Result<Distributor, String> {
        let now = Instant::now();
        let mut engine = acd::Engine::new(now, wall_ms());
        let mut dns = HashSet::new();
        for q in queues {
            dns.insert(q.dn.as_str().to_string());
            let dn = q.dn.clone();
            engine
                .upsert_queue(now, q)
                .map_err(|e| format!("queues {dn}: {e}"))?;
        }
        for a in agents {
            let id = a.id.clone();
            engine
                .upsert_agent(now, a)
                .map_err(|e| format!("agents {id}: {e}"))?;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let (events, _) = broadcast::channel(4096);
        let (states, _) = broadcast::channel(4096);
        let (actions, _) = broadcast::channel(4096);
        let handle = Distributor {
            tx,
            queue_dns: Arc::new(RwLock::new(dns)),
            events: events.clone(),
            states: states.clone(),
            actions: actions.clone(),
        };
        let task = Task {
            states,
            actions,
            engine,
            router,
            queue_dns: handle.queue_dns.clone(),
            events,
            records,
        };
        tokio::spawn(task.run(rx));
        Ok(handle)
    }

    /// Whether `dn` is a queue's DN (the dialplan asks this for every call).
    pub fn is_queue(&self, dn: &str) -> bool {
        self.queue_dns
            .read()
            .map(|s| s.contains(dn))
            .unwrap_or(false)
    }

    /// Fire-and-forget event from a shard.
    pub fn send(&self, event: Event) {
        let _ = self.tx.send(Input::Event(event, None));
    }

    /// An event from the API, with the engine's verdict.
    pub async fn request(&self, event: Event) -> Result<(), DistributorError> {
        self.call(|r| Input::Event(event, Some(r))).await
    }

    pub fn ask_position(&self, interaction: u64) {
        let _ = self.tx.send(Input::Position(interaction));
    }

    pub fn feature(&self, shard: usize, call: u64, user: String, feature: Feature) {
        let _ = self.tx.send(Input::Feature {
            shard,
            call,
            user,
            feature,
        });
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Input) -> Result<T, DistributorError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .map_err(|_| DistributorError::Stopped)?;
        rx.await.map_err(|_| DistributorError::Stopped)?
    }

    pub async fn upsert_queue(&self, q: QueueConfig) -> Result<(), DistributorError> {
        self.call(|r| Input::UpsertQueue(q, r)).await
    }

    pub async fn upsert_agent(&self, a: AgentConfig) -> Result<(), DistributorError> {
        self.call(|r| Input::UpsertAgent(a, r)).await
    }

    pub async fn remove_queue(&self, dn: Dn) -> Result<(), DistributorError> {
        self.call(|r| Input::RemoveQueue(dn, r)).await
    }

    pub async fn remove_agent(&self, id: AgentId) -> Result<(), DistributorError> {
        self.call(|r| Input::RemoveAgent(id, r)).await
    }

    /// Run `f` on the engine inside the task and return its result (views, statistics).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&acd::Engine, Instant) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let reader: Reader = Box::new(move |e, now| {
            let _ = tx.send(f(e, now));
        });
        self.tx.send(Input::Read(reader)).ok()?;
        rx.await.ok()
    }

    /// The stream of events for desktops and wallboards (JSON text).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<str>> {
        self.events.subscribe()
    }

    /// Stop the distributor task at shutdown, whoever still holds a handle.
    pub fn stop(&self) {
        let _ = self.tx.send(Input::Stop);
    }

    /// Typed agent state changes (for the preview dialer).
    pub fn subscribe_states(&self) -> broadcast::Receiver<acd::StateChange> {
        self.states.subscribe()
    }

    /// Every action the engine takes, typed, as it happens: channels served outside the
    /// shards (web chat) follow their interactions' offers and queue positions here.
    pub fn subscribe_actions(&self) -> broadcast::Receiver<Action> {
        self.actions.subscribe()
    }

    /// Publish an event that did not come from the ACD engine (calls, dialer).
    pub fn publish(&self, event: serde_json::Value) {
        let _ = self.events.send(Arc::from(event.to_string()));
    }

    /// Publish a typed event (a call's), serialised once, straight to text, and only when
    /// someone listens: with no desktop or supervisor connected a call costs no JSON.
    pub fn publish_typed<T: serde::Serialize>(&self, event: &T) {
        if self.events.receiver_count() == 0 {
            return;
        }
        match serde_json::to_string(event) {
            Ok(text) => {
                let _ = self.events.send(Arc::from(text));
            }
            Err(e) => tracing::warn!(%e, "unpublishable event"),
        }
    }
}

struct Task {
    states: broadcast::Sender<acd::StateChange>,
    actions: broadcast::Sender<Action>,
    engine: acd::Engine,
    router: Router,
    queue_dns: Arc<RwLock<HashSet<String>>>,
    events: broadcast::Sender<Arc<str>>,
    records: mpsc::UnboundedSender<AcdRecord>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Input>) {
        loop {
            let deadline = self.engine.poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                input = rx.recv() => {
                    match input {
                        None | Some(Input::Stop) => break,
                        Some(input) => self.handle(input),
                    }
                }
                _ = sleep => {
                    let now = Instant::now();
                    self.engine.set_wall_clock(now, wall_ms());
                    self.engine.handle_timeout(now);
                }
            }
            self.drain_actions();
        }
    }

    fn handle(&mut self, input: Input) {
        let now = Instant::now();
        self.engine.set_wall_clock(now, wall_ms());
        match input {
            Input::Event(event, reply) => {
                let noted = match &event {
                    Event::OfferAccepted { interaction, agent } => {
                        Some((interaction.0, "answered", Some(agent.clone())))
                    }
                    Event::InteractionEnded { interaction } => Some((interaction.0, "ended", None)),
                    Event::OfferRejected { interaction, agent } => {
                        Some((interaction.0, "rejected", Some(agent.clone())))
                    }
                    _ => None,
                };
                let queue = noted
                    .as_ref()
                    .and_then(|(i, _, _)| self.engine.interaction_view(InteractionId(*i)))
                    .map(|v| v.queue);
                let result = self.engine.handle(now, event).map_err(Into::into);
                if let (Ok(()), Some((id, what, agent)), Some(queue)) = (&result, noted, queue) {
                    self.publish(json!({"type": "interaction", "interaction": id, "queue": queue, "event": what, "agent": agent}));
                    self.record_interaction(id, &queue, what, agent.as_ref(), wall_ms());
                }
                if let Err(e) = &result {
                    tracing::debug!(error = %e, "ACD refused an event");
                }
                if let Some(r) = reply {
                    let _ = r.send(result);
                }
            }
            Input::Position(id) => {
                let iid = InteractionId(id);
                if let Some(position) = self.engine.position(iid) {
                    let expected_wait_secs = self.expected_wait(now, iid, position);
                    self.router.order(AcdOrder::Queued {
                        interaction: id,
                        position,
                        expected_wait_secs,
                    });
                }
            }
            Input::Feature {
                shard,
                call,
                user,
                feature,
            } => {
                let outcome = self.feature(now, &user, feature);
                self.router.send(
                    shard,
                    ShardInput::Acd(AcdOrder::FeatureDone { call, outcome }),
                );
            }
            Input::UpsertQueue(q, r) => {
                let dn = q.dn.as_str().to_string();
                let res = self.engine.upsert_queue(now, q).map_err(Into::into);
                if res.is_ok() {
                    if let Ok(mut s) = self.queue_dns.write() {
                        s.insert(dn);
                    }
                }
                let _ = r.send(res);
            }
            Input::UpsertAgent(a, r) => {
                let _ = r.send(self.engine.upsert_agent(now, a).map_err(Into::into));
            }
            Input::RemoveQueue(dn, r) => {
                let res = self
                    .engine
                    .remove_queue(&dn)
                    .map(|_| ())
                    .map_err(Into::into);
                if res.is_ok() {
                    if let Ok(mut s) = self.queue_dns.write() {
                        s.remove(dn.as_str());
                    }
                }
                let _ = r.send(res);
            }
            Input::RemoveAgent(id, r) => {
                let _ = r.send(
                    self.engine
                        .remove_agent(&id)
                        .map(|_| ())
                        .map_err(Into::into),
                );
            }
            Input::Read(f) => f(&self.engine, now),
            Input::Stop => {}
        }
    }

    /// The agent whose extension (or id) is `user`.
    fn agent_of(&self, user: &str) -> Option<AgentId> {
        self.engine
            .agent_configs()
            .find(|a| a.extension == user)
            .or_else(|| self.engine.agent_configs().find(|a| a.id.as_str() == user))
            .map(|a| a.id.clone())
    }

    fn feature(&mut self, now: Instant, user: &str, feature: Feature) -> FeatureOutcome {
        let Some(agent) = self.agent_of(user) else {
            return FeatureOutcome::Refused;
        };
        let logged_in = self
            .engine
            .agent_state(&agent)
            .is_some_and(|s| s.is_logged_in());
        let (event, outcome) = match feature {
            Feature::Ready | Feature::NotReady => {
                let state = if feature == Feature::Ready {
                    acd::RequestedState::Ready
                } else {
                    acd::RequestedState::not_ready("phone")
                };
                let outcome = if feature == Feature::Ready {
                    FeatureOutcome::Ready
                } else {
                    FeatureOutcome::NotReady
                };
                if logged_in {
                    (Event::AgentState { agent, state }, outcome)
                } else {
                    (
                        Event::AgentLogin {
                            agent,
                            initial: state,
                        },
                        outcome,
                    )
                }
            }
            Feature::Logout => (Event::AgentLogout { agent }, FeatureOutcome::LoggedOut),
        };
        match self.engine.handle(now, event) {
            Ok(()) => outcome,
            Err(e) => {
                tracing::info!(%user, error = %e, "feature code refused");
                FeatureOutcome::Refused
            }
        }
    }

    /// Expected wait: position times the queue's average speed of answer, when known.
    fn expected_wait(&self, now: Instant, id: InteractionId, position: usize) -> Option<u64> {
        let view = self.engine.interaction_view(id)?;
        let stats = self.engine.queue_stats(now, &view.queue)?;
        if stats.answered == 0 {
            return None;
        }
        Some(stats.average_speed_of_answer_ms * position as u64 / 1000)
    }

    fn publish(&self, value: serde_json::Value) {
        let _ = self.events.send(Arc::from(value.to_string()));
    }

    fn drain_actions(&mut self) {
        let now = Instant::now();
        while let Some(action) = self.engine.poll_action() {
            let at_ms = wall_ms();
            if self.actions.receiver_count() > 0 {
                let _ = self.actions.send(action.clone());
            }
            match action {
                Action::Offer {
                    interaction,
                    agent,
                    queue,
                    channel,
                } => {
                    let extension = self
                        .engine
                        .agent_config(&agent)
                        .map(|a| a.phone().to_string())
                        .unwrap_or_default();
                    let (queue_name, record_percent) = self
                        .engine
                        .queue_config(&queue)
                        .map(|q| (q.name.clone(), q.record_percent))
                        .unwrap_or_default();
                    // The queue's name too: an agent outside its teams' queues has no
                    // snapshot of the queue to name it from.
                    self.publish(json!({"type": "offer", "interaction": interaction.0, "agent": agent, "queue": queue, "queue_name": queue_name, "channel": channel}));
                    self.record_interaction(interaction.0, &queue, "offered", Some(&agent), at_ms);
                    // Drawn per offer; a RONA'd call may draw again, which keeps the share.
                    let record = record_percent >= 100
                        || (record_percent > 0 && rand::random::<u8>() % 100 < record_percent);
                    if channel == acd::Channel::Voice {
                        self.router.order(AcdOrder::Offer {
                            interaction: interaction.0,
                            agent,
                            extension,
                            queue,
                            queue_name,
                            record,
                        });
                    }
                }
                Action::CancelOffer {
                    interaction,
                    agent,
                    reason,
                } => {
                    self.publish(json!({"type": "offer_cancelled", "interaction": interaction.0, "agent": agent, "reason": reason}));
                    self.router.order(AcdOrder::CancelOffer {
                        interaction: interaction.0,
                        agent,
                    });
                }
                Action::Overflow {
                    interaction,
                    queue,
                    target,
                } => {
                    self.publish(json!({"type": "overflow", "interaction": interaction.0, "queue": queue, "target": target}));
                    self.record_interaction(interaction.0, &queue, "overflowed", None, at_ms);
                    self.router.order(AcdOrder::Overflow {
                        interaction: interaction.0,
                        target,
                    });
                }
                Action::QueueFull { interaction, queue } => {
                    self.publish(
                        json!({"type": "queue_full", "interaction": interaction.0, "queue": queue}),
                    );
                    self.record_interaction(interaction.0, &queue, "rejected_full", None, at_ms);
                    self.router.order(AcdOrder::QueueFull {
                        interaction: interaction.0,
                    });
                }
                Action::InteractionQueued {
                    interaction,
                    queue,
                    position,
                } => {
                    self.publish(json!({"type": "queued", "interaction": interaction.0, "queue": queue, "position": position}));
                    let expected_wait_secs = self.expected_wait(now, interaction, position);
                    self.router.order(AcdOrder::Queued {
                        interaction: interaction.0,
                        position,
                        expected_wait_secs,
                    });
                }
                Action::InteractionAbandoned {
                    interaction,
                    queue,
                    waited_ms,
                } => {
                    self.publish(json!({"type": "abandoned", "interaction": interaction.0, "queue": queue, "waited_ms": waited_ms}));
                    self.record_interaction(interaction.0, &queue, "abandoned", None, at_ms);
                }
                Action::DirectOfferFailed { interaction, queue } => {
                    self.publish(json!({"type": "direct_offer_failed", "interaction": interaction.0, "queue": queue}));
                    self.record_interaction(interaction.0, &queue, "direct_failed", None, at_ms);
                }
                Action::AgentStateChanged(change) => {
                    self.publish(json!({"type": "agent_state", "change": &change}));
                    let _ = self.states.send(change.clone());
                    let _ = self.records.send(AcdRecord::State(change));
                }
            }
        }
    }

    fn record_interaction(
        &self,
        id: u64,
        queue: &Dn,
        event: &'static str,
        agent: Option<&AgentId>,
        at_ms: u64,
    ) {
        let _ = self.records.send(AcdRecord::Interaction {
            id,
            queue: queue.as_str().to_string(),
            event,
            agent: agent.map(|a| a.as_str().to_string()),
            at_ms,
        });
    }
}
