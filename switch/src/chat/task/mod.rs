//! The task that owns every live chat. It alone changes a [`Room`]; the API and the
//! distributor reach it by messages.

use super::customer::{check_name, ToCustomer};
use super::error::ChatError;
use super::files;
use super::message::{Message, Role, TextRules};
use super::metrics::ChatMetrics;
use super::room::{Phase, Room};
use super::{ChatView, Command};
use crate::config::ChatConfig;
use crate::distributor::Distributor;
use crate::distributor_error::DistributorError;
use crate::store::{Store, StoredMessage};
use acd::{AgentId, Event, InteractionId};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tracing::Instrument;

mod actions;
mod attach;
mod collab;
mod view;

/// The low byte of every chat interaction id: no shard has it, so the ACD's orders for
/// chats go nowhere in the call engine, and ids never meet a call's.
const CHAT_TAG: u8 = 0xff;

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub(super) struct Task {
    config: ChatConfig,
    rules: TextRules,
    distributor: Distributor,
    store: Store,
    next: u64,
    rooms: HashMap<u64, Room>,
    /// ACD interactions of transfers and conferences -> their chat.
    legs: HashMap<u64, u64>,
    links: HashMap<u64, mpsc::UnboundedSender<ToCustomer>>,
    metrics: Arc<ChatMetrics>,
}

impl Task {
    pub(super) fn new(
        config: ChatConfig,
        distributor: Distributor,
        store: Store,
        next: u64,
        metrics: Arc<ChatMetrics>,
    ) -> Task {
        let rules = TextRules {
            max_chars: config.max_message_chars,
            cards: config.card_numbers,
        };
        Task {
            config,
            rules,
            distributor,
            store,
            next,
            rooms: HashMap::new(),
            legs: HashMap::new(),
            links: HashMap::new(),
            metrics,
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut actions = self.distributor.subscribe_actions();
        loop {
            tokio::select! {
                command = rx.recv() => match command {
                    Some(c) => self.command(c).await,
                    None => break,
                },
                action = actions.recv() => match action {
                    Ok(a) => self.action(a).await,
                    Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "chat task missed ACD actions"),
                    Err(RecvError::Closed) => break,
                },
            }
        }
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Join {
                name,
                dn,
                link,
                reply,
            } => {
                let span = tracing::info_span!("chat_join", queue = %dn);
                let _ = reply.send(self.join(name, dn, link).instrument(span).await);
            }
            Command::CustomerSays { id, text, reply } => {
                let span = tracing::info_span!("chat", interaction = id);
                let _ = reply.send(self.customer_says(id, text).instrument(span).await);
            }
            Command::CustomerLeft { id } => {
                let span = tracing::info_span!("chat", interaction = id);
                self.customer_left(id).instrument(span).await;
            }
            Command::Accept { agent, id, reply } => {
                let span = tracing::info_span!("chat", interaction = id, agent = %agent);
                let _ = reply.send(self.accept(agent, id).instrument(span).await);
            }
            Command::Decline { agent, id, reply } => {
                let span = tracing::info_span!("chat", interaction = id, agent = %agent);
                let _ = reply.send(self.decline(agent, id).instrument(span).await);
            }
            Command::AgentSays {
                agent,
                id,
                text,
                reply,
            } => {
                let span = tracing::info_span!("chat", interaction = id, agent = %agent);
                let _ = reply.send(self.agent_says(agent, id, text).instrument(span).await);
            }
            Command::End { agent, id, reply } => {
                let span = tracing::info_span!("chat", interaction = id, agent = %agent);
                let _ = reply.send(self.agent_ends(agent, id).instrument(span).await);
            }
            Command::Of { agent, reply } => {
                let _ = reply.send(self.of_agent(&agent).await);
            }
            Command::Invite {
                agent,
                id,
                kind,
                target,
                reply,
            } => {
                let span = tracing::info_span!("chat", interaction = id, agent = %agent);
                let _ = reply.send(self.invite(agent, id, kind, target).instrument(span).await);
            }
            Command::Leave { agent, id, reply } => {
                let span = tracing::info_span!("chat", interaction = id, agent = %agent);
                let _ = reply.send(self.leave(agent, id).instrument(span).await);
            }
            Command::Attachable { from, id, reply } => {
                let _ = reply.send(self.attachable(&from, id));
            }
            Command::Attach {
                from,
                id,
                file,
                reply,
            } => {
                let span = tracing::info_span!("chat_file", interaction = id, file = %file.id);
                let _ = reply.send(self.attach(from, id, file).instrument(span).await);
            }
            Command::Involves { agent, id, reply } => {
                let _ = reply.send(self.involves(&agent, id));
            }
            Command::WrapUp {
                agent,
                id,
                codes,
                reply,
            } => {
                let span = tracing::info_span!("chat", interaction = id, agent = %agent);
                let _ = reply.send(self.wrap_up(agent, id, codes).instrument(span).await);
            }
        }
    }

    fn room(&self, id: u64) -> Result<&Room, ChatError> {
        self.rooms.get(&id).ok_or(ChatError::NotFound)
    }

    fn room_mut(&mut self, id: u64) -> Result<&mut Room, ChatError> {
        self.rooms.get_mut(&id).ok_or(ChatError::NotFound)
    }

    fn tell(&self, id: u64, what: ToCustomer) {
        if let Some(link) = self.links.get(&id) {
            let _ = link.send(what);
        }
    }

    async fn acd(&self, event: Event) -> Result<(), ChatError> {
        self.distributor.request(event).await.map_err(|e| match e {
            DistributorError::Stopped => ChatError::Stopped,
            DistributorError::Refused(e) => ChatError::Acd(e.to_string()),
        })
    }

    /// Stores a transcript line (a store failure is logged: the chat goes on).
    async fn record(&self, id: u64, m: &Message) {
        let stored = StoredMessage {
            sender: m.sender.clone(),
            role: m.role.as_str().to_string(),
            text: m.text.clone(),
            at_ms: m.at_ms,
        };
        if let Err(e) = self.store.insert_chat_message(id, &stored).await {
            tracing::error!(error = %e, "chat message not stored");
        }
    }

    /// The text as it will be stored and shown, counted.
    fn checked(&self, text: &str) -> Result<String, ChatError> {
        match self.rules.check(text) {
            Ok(t) => {
                self.metrics.message(t != text.trim());
                Ok(t)
            }
            Err(e) => {
                self.metrics.refused();
                Err(e)
            }
        }
    }

    /// Forgets a chat for good.
    fn forget(&mut self, id: u64) {
        if self.rooms.remove(&id).is_some() {
            self.metrics.finished();
        }
        self.legs.retain(|_, chat| *chat != id);
        self.links.remove(&id);
    }

    /// A system notice: stored, shown to the customer and the agent.
    async fn notice(&self, id: u64, text: String) {
        let m = Message {
            sender: "System".into(),
            role: Role::System,
            text,
            at_ms: now_ms(),
            attachment: None,
        };
        self.record(id, &m).await;
        self.tell(id, ToCustomer::Message { message: m.clone() });
        self.to_agent(id, &m);
    }

    /// A line for the desktops of the agents in the chat (on `/api/events`).
    fn to_agent(&self, id: u64, m: &Message) {
        self.to_agents(id, m, None);
    }

    /// A line for the desktops of the agent working the chat and its conference guest,
    /// but `except` (who wrote it).
    fn to_agents(&self, id: u64, m: &Message, except: Option<&AgentId>) {
        let Some(room) = self.rooms.get(&id) else {
            return;
        };
        let owner = match &room.phase {
            Phase::Active { agent, .. } | Phase::Ended { agent: Some(agent) } => Some(agent),
            _ => None,
        };
        let guest = room.guest.as_ref().map(|g| &g.agent);
        for agent in owner.into_iter().chain(guest) {
            if Some(agent) == except {
                continue;
            }
            self.distributor.publish(json!({
                "type": "chat_message", "interaction": id, "agent": agent, "message": m,
            }));
        }
    }

    async fn join(
        &mut self,
        name: String,
        dn: String,
        link: mpsc::UnboundedSender<ToCustomer>,
    ) -> Result<u64, ChatError> {
        let name = check_name(&name).ok_or(ChatError::BadName)?;
        let dn = dn.trim().to_string();
        if acd::check_dn(&dn).is_err() || !self.distributor.is_queue(&dn) {
            return Err(ChatError::UnknownDn(dn));
        }
        let queue = acd::Dn::new(&dn);
        let q = queue.clone();
        let queue_name = self
            .distributor
            .read(move |e, _| e.queue_config(&q).map(|c| c.name.clone()))
            .await
            .flatten()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| dn.clone());
        let id = crate::orders::interaction_id(CHAT_TAG, self.next);
        self.next += 1;
        let now = now_ms();
        if let Err(e) = self.store.insert_chat(id, &dn, &name, now).await {
            tracing::error!(error = %e, "chat not stored");
        }
        let token = files::new_token();
        if let Err(e) = self
            .store
            .set_chat_token(id, &files::token_digest(&token))
            .await
        {
            tracing::error!(error = %e, "chat token not stored");
        }
        self.rooms.insert(
            id,
            Room::new(id, queue.clone(), queue_name.clone(), name.clone(), now),
        );
        let _ = link.send(ToCustomer::Joined {
            interaction: id,
            queue: dn.clone(),
            queue_name,
            name: name.clone(),
            token,
        });
        self.links.insert(id, link);
        let mut arrival = acd::Arrival::new(id, queue, acd::Channel::Chat);
        arrival.caller.name = name;
        if let Err(e) = self.acd(Event::InteractionArrived(arrival)).await {
            self.rooms.remove(&id);
            self.links.remove(&id);
            return Err(e);
        }
        self.metrics.started();
        tracing::info!(interaction = id, "chat arrived");
        Ok(id)
    }

    async fn customer_says(&mut self, id: u64, text: String) -> Result<(), ChatError> {
        let room = self.room(id)?;
        if matches!(room.phase, Phase::Ended { .. }) {
            return Err(ChatError::NotActive);
        }
        let text = self.checked(&text)?;
        let m = Message {
            sender: room.customer.clone(),
            role: Role::Customer,
            text,
            at_ms: now_ms(),
            attachment: None,
        };
        self.record(id, &m).await;
        self.tell(id, ToCustomer::Message { message: m.clone() });
        self.to_agent(id, &m);
        Ok(())
    }

    async fn customer_left(&mut self, id: u64) {
        let Some(room) = self.rooms.get(&id) else {
            return;
        };
        if matches!(room.phase, Phase::Ended { .. }) {
            self.links.remove(&id);
            return;
        }
        let customer = room.customer.clone();
        self.notice(id, format!("{customer} left the chat")).await;
        self.links.remove(&id);
        self.finish(id, "customer").await;
    }

    /// Ends the chat with the ACD (the agent, if any, goes to After-Call-Work) and tells
    /// the agent's desktop.
    async fn finish(&mut self, id: u64, by: &str) {
        self.end_collab(id, by).await;
        let Some(room) = self.rooms.get_mut(&id) else {
            return;
        };
        let agent = room.end();
        let (queue, leg) = (room.queue.as_str().to_string(), room.leg);
        let owed = !room.owed.is_empty();
        if let Err(e) = self.store.end_chat(id, now_ms()).await {
            tracing::error!(error = %e, "chat end not stored");
        }
        if let Err(e) = self
            .acd(Event::InteractionEnded {
                interaction: InteractionId(leg),
            })
            .await
        {
            tracing::debug!(error = %e, "ACD refused the end of a chat");
        }
        match agent {
            Some(agent) => self.publish_ended(id, &agent, by, &queue, false),
            None if owed => {}
            None => self.forget(id),
        }
        tracing::info!(by, "chat ended");
    }

    async fn accept(&mut self, agent: AgentId, id: u64) -> Result<ChatView, ChatError> {
        if let Some(invite) = self.room(id)?.invite_offered_to(&agent).cloned() {
            return self.invite_accepted(agent, id, invite).await;
        }
        let room = self.room(id)?;
        room.check_offered_to(&agent)?;
        let leg = room.leg;
        self.acd(Event::OfferAccepted {
            interaction: InteractionId(leg),
            agent: agent.clone(),
        })
        .await?;
        let a = agent.clone();
        let agent_name = self
            .distributor
            .read(move |e, _| e.agent_config(&a).map(|c| c.name.clone()))
            .await
            .flatten()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| agent.as_str().to_string());
        self.room_mut(id)?
            .accepted(agent.clone(), agent_name.clone());
        self.metrics.accepted();
        if let Err(e) = self.store.set_chat_agent(id, agent.as_str()).await {
            tracing::error!(error = %e, "chat agent not stored");
        }
        self.tell(
            id,
            ToCustomer::AgentJoined {
                name: agent_name.clone(),
            },
        );
        self.notice(id, format!("{agent_name} joined the chat"))
            .await;
        tracing::info!("chat accepted");
        let room = self.room(id)?;
        Ok(self.view(room, agent_name).await)
    }

    async fn decline(&mut self, agent: AgentId, id: u64) -> Result<(), ChatError> {
        if let Some(leg) = self.room(id)?.invite_offered_to(&agent).map(|i| i.leg) {
            return self.invite_declined(agent, id, leg).await;
        }
        let room = self.room(id)?;
        room.check_offered_to(&agent)?;
        let leg = room.leg;
        self.acd(Event::OfferRejected {
            interaction: InteractionId(leg),
            agent: agent.clone(),
        })
        .await?;
        self.room_mut(id)?.offer_withdrawn(&agent);
        tracing::info!("chat declined");
        Ok(())
    }

    async fn agent_says(
        &mut self,
        agent: AgentId,
        id: u64,
        text: String,
    ) -> Result<Message, ChatError> {
        let name = self.room(id)?.party(&agent)?.name().to_string();
        let text = self.checked(&text)?;
        let m = Message {
            sender: name,
            role: Role::Agent,
            text,
            at_ms: now_ms(),
            attachment: None,
        };
        self.record(id, &m).await;
        self.tell(id, ToCustomer::Message { message: m.clone() });
        self.to_agents(id, &m, Some(&agent));
        Ok(m)
    }

    async fn agent_ends(&mut self, agent: AgentId, id: u64) -> Result<(), ChatError> {
        let name = self.room(id)?.check_end(&agent)?.to_string();
        self.notice(id, format!("{name} left the chat")).await;
        self.tell(id, ToCustomer::AgentLeft { name });
        self.tell(
            id,
            ToCustomer::Ended {
                reason: "the agent ended the chat".into(),
            },
        );
        self.links.remove(&id);
        self.finish(id, "agent").await;
        Ok(())
    }

    async fn wrap_up(
        &mut self,
        agent: AgentId,
        id: u64,
        codes: Vec<String>,
    ) -> Result<(), ChatError> {
        let room = self.room(id)?;
        room.check_wrap_up(&agent)?;
        let owed = room.owed.iter().find(|(a, _)| *a == agent).map(|(_, q)| q);
        let queue = owed.unwrap_or(&room.queue).as_str();
        let allowed = self.config.codes_of(queue);
        if let Some(bad) = codes.iter().find(|c| !allowed.contains(c)) {
            return Err(ChatError::UnknownCode(bad.clone()));
        }
        if owed.is_some() {
            // The agent who transferred the chat away: their codes go in the transcript.
            let name = self.agent_name(&agent).await;
            let m = Message {
                sender: "System".into(),
                role: Role::System,
                text: format!("{name}'s wrap-up: {}", codes.join(", ")),
                at_ms: now_ms(),
                attachment: None,
            };
            self.record(id, &m).await;
            self.room_mut(id)?.owed.retain(|(a, _)| *a != agent);
        } else {
            if let Err(e) = self.store.set_chat_wrap_up(id, &codes).await {
                tracing::error!(error = %e, "wrap-up not stored");
            }
            self.room_mut(id)?.phase = Phase::Ended { agent: None };
        }
        if self.room(id)?.done() {
            self.forget(id);
        }
        // The agent may have left After-Call-Work already (a fixed wrap-up, a state chosen
        // meanwhile, another chat still open): then there is nothing to finish.
        if let Err(e) = self.acd(Event::WrapUpDone { agent }).await {
            tracing::debug!(error = %e, "wrap-up done refused by the ACD");
        }
        tracing::info!(?codes, "chat wrapped up");
        Ok(())
    }
}
