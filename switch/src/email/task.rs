//! The owner of the live e-mail threads. A thread is open from the customer's mail until
//! an agent answers or ends it; while open it is one ACD interaction of channel `email`
//! (a new interaction for each routing: a transfer, a restart, the customer writing again
//! after the answer). The agent's desktop hears `email_offer`, `email_message` (the
//! customer wrote again into a thread the agent has), `email_ended`, and the sender's
//! `email_sent` / `email_failed`.

use super::parse::Inbound;
use super::reply::{self, Rules};
use super::{Command, EmailError, EmailView};
use crate::config::Config;
use crate::distributor::Distributor;
use crate::distributor_error::DistributorError;
use crate::store::{Fetched, NewThread, Store, StoreError, StoredEmail, StoredEmailFile};
use acd::{Action, AgentId, Event, InteractionId};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, Notify};

mod view;

/// The low byte of e-mail interaction ids (see `orders::interaction_id`).
const EMAIL_TAG: u8 = 0xfe;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn store_err(e: StoreError) -> EmailError {
    EmailError::Store(e.to_string())
}

/// Where an open thread stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    Queued,
    Offered(AgentId),
    Working(AgentId),
}

#[derive(Debug, Clone)]
struct Live {
    interaction: u64,
    queue: String,
    phase: Phase,
}

pub(super) struct Task {
    config: Arc<Config>,
    distributor: Distributor,
    store: Store,
    outbox: Arc<Notify>,
    next: u64,
    live: HashMap<u64, Live>,
    by_interaction: HashMap<u64, u64>,
    /// Threads answered or ended whose agent owes the wrap-up: the agent and the queue.
    owed: HashMap<(u64, AgentId), String>,
    files: PathBuf,
}

impl Task {
    pub(super) fn new(
        config: Arc<Config>,
        distributor: Distributor,
        store: Store,
        outbox: Arc<Notify>,
    ) -> Task {
        let files = config.data_dir.join("email");
        Task {
            config,
            distributor,
            store,
            outbox,
            // Unique across restarts: ids are never reused while the ACD may know them.
            next: now_ms() as u64,
            live: HashMap::new(),
            by_interaction: HashMap::new(),
            owed: HashMap::new(),
            files,
        }
    }

    pub(super) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command>,
        mut actions: broadcast::Receiver<Action>,
    ) {
        self.route_open_threads().await;
        loop {
            tokio::select! {
                c = rx.recv() => match c {
                    Some(c) => self.command(c).await,
                    None => break,
                },
                a = actions.recv() => match a {
                    Ok(a) => self.action(a).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "e-mail task lagged behind the ACD");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    }

    /// After a restart: every thread still open waits in its queue again.
    async fn route_open_threads(&mut self) {
        match self.store.open_email_threads().await {
            Ok(threads) => {
                for t in threads {
                    let waited = (now_ms() - t.created_ms).max(0) as u64;
                    if let Err(e) = self.arrive(t.id, &t.queue, &t.customer_name, waited).await {
                        tracing::error!(thread = t.id, error = %e, "open e-mail not routed");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "open e-mails not read"),
        }
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Ingest {
                mailbox,
                queue,
                mail,
                fetched,
                reply,
            } => {
                let _ = reply.send(self.ingest(&mailbox, &queue, *mail, fetched).await);
            }
            Command::Accept {
                agent,
                thread,
                reply,
            } => {
                let _ = reply.send(self.accept(agent, thread).await);
            }
            Command::Decline {
                agent,
                thread,
                reply,
            } => {
                let _ = reply.send(self.decline(agent, thread).await);
            }
            Command::View {
                agent,
                thread,
                reply,
            } => {
                let r = match self.may_see(agent.as_ref(), thread).await {
                    Ok(()) => self.view(thread, agent.as_ref()).await,
                    Err(e) => Err(e),
                };
                let _ = reply.send(r);
            }
            Command::Reply {
                agent,
                thread,
                body,
                reply,
            } => {
                let _ = reply.send(self.reply(agent, thread, *body).await);
            }
            Command::Transfer {
                agent,
                thread,
                queue,
                reply,
            } => {
                let _ = reply.send(self.transfer(agent, thread, queue).await);
            }
            Command::End {
                agent,
                thread,
                reply,
            } => {
                let r = self.working(&agent, thread);
                let r = match r {
                    Ok(()) => self.finish(thread, &agent, "ended").await,
                    Err(e) => Err(e),
                };
                let _ = reply.send(r);
            }
            Command::WrapUp {
                agent,
                thread,
                codes,
                reply,
            } => {
                let _ = reply.send(self.wrap_up(agent, thread, codes).await);
            }
            Command::Of { agent, reply } => {
                let mut mine: Vec<u64> = self
                    .live
                    .iter()
                    .filter(|(_, l)| {
                        matches!(&l.phase, Phase::Offered(a) | Phase::Working(a) if *a == agent)
                    })
                    .map(|(t, _)| *t)
                    .collect();
                let owed: Vec<u64> = self
                    .owed
                    .keys()
                    .filter(|(t, a)| *a == agent && !mine.contains(t))
                    .map(|(t, _)| *t)
                    .collect();
                mine.extend(owed);
                let mut views = Vec::new();
                for t in mine {
                    if let Ok(v) = self.view(t, Some(&agent)).await {
                        views.push(v);
                    }
                }
                views.sort_by_key(|v| v.thread.id);
                let _ = reply.send(views);
            }
            Command::Draft {
                agent,
                thread,
                draft,
                reply,
            } => {
                let _ = reply.send(self.draft(agent, thread, draft).await);
            }
        }
    }

    async fn acd(&self, event: Event) -> Result<(), EmailError> {
        self.distributor.request(event).await.map_err(|e| match e {
            DistributorError::Stopped => EmailError::Stopped,
            DistributorError::Refused(e) => EmailError::Acd(e.to_string()),
        })
    }

    /// Thread `thread` arrives in `queue` as a new interaction.
    async fn arrive(
        &mut self,
        thread: u64,
        queue: &str,
        name: &str,
        waited_ms: u64,
    ) -> Result<(), EmailError> {
        let interaction = crate::orders::interaction_id(EMAIL_TAG, self.next);
        self.next += 1;
        let mut arrival = acd::Arrival::new(interaction, acd::Dn::new(queue), acd::Channel::Email);
        arrival.caller.name = name.to_string();
        arrival.waited_ms = waited_ms;
        self.live.insert(
            thread,
            Live {
                interaction,
                queue: queue.to_string(),
                phase: Phase::Queued,
            },
        );
        self.by_interaction.insert(interaction, thread);
        if let Err(e) = self.acd(Event::InteractionArrived(arrival)).await {
            self.forget(thread);
            return Err(e);
        }
        tracing::info!(thread, interaction, %queue, "e-mail routed");
        Ok(())
    }

    fn forget(&mut self, thread: u64) {
        if let Some(l) = self.live.remove(&thread) {
            self.by_interaction.remove(&l.interaction);
        }
    }

    /// Store a fetched mail in its thread (a new one, or the one it answers) and route or
    /// announce it.
    async fn ingest(
        &mut self,
        mailbox: &str,
        queue: &str,
        mail: Inbound,
        fetched: Fetched,
    ) -> Result<(), EmailError> {
        if self
            .store
            .email_fetched(mailbox, fetched)
            .await
            .map_err(store_err)?
        {
            return Ok(());
        }
        let mut answers = mail.references.clone();
        answers.extend(mail.in_reply_to.iter().cloned());
        let known = self
            .store
            .thread_of_ids(&answers)
            .await
            .map_err(store_err)?;
        let now = now_ms();
        let (thread, new) = match known {
            Some(t) => (t, false),
            None => {
                let subject = if mail.subject.is_empty() {
                    "(no subject)"
                } else {
                    mail.subject.as_str()
                };
                let t = NewThread {
                    mailbox,
                    queue,
                    customer: &mail.from,
                    customer_name: &mail.from_name,
                    subject,
                };
                (
                    self.store.insert_thread(&t, now).await.map_err(store_err)?,
                    true,
                )
            }
        };
        let files = self.keep_files(&mail).await?;
        let original = self.keep_original(mail.original.as_deref()).await?;
        let stored = StoredEmail {
            id: 0,
            thread,
            direction: "in".into(),
            message_id: mail.message_id.clone(),
            in_reply_to: mail.in_reply_to.first().cloned().unwrap_or_default(),
            references: mail.references.join(" "),
            from: mail.from.clone(),
            from_name: mail.from_name.clone(),
            to: mail.to.join(", "),
            cc: mail.cc.join(", "),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            at_ms: now,
            status: "received".into(),
            attempts: 0,
            next_attempt_ms: None,
            error: String::new(),
            agent: String::new(),
            original,
        };
        let id = self
            .store
            .insert_email(&stored, mailbox, Some(fetched), &files)
            .await
            .map_err(store_err)?;
        tracing::info!(
            thread,
            message = id,
            new,
            masked = mail.masked,
            dropped = mail.dropped.len(),
            "e-mail stored"
        );
        match self.live.get(&thread).map(|l| l.phase.clone()) {
            Some(Phase::Working(agent)) | Some(Phase::Offered(agent)) => {
                self.distributor.publish(json!({
                    "type": "email_message", "thread": thread, "agent": agent, "message": id,
                }));
            }
            Some(_) => {}
            None => {
                // New, or the customer wrote again after the answer: routed (again).
                let t = self.store.email_thread(thread).await.map_err(store_err)?;
                let (queue, name) = t
                    .map(|t| (t.queue, t.customer_name))
                    .unwrap_or_else(|| (queue.to_string(), mail.from_name.clone()));
                if !new {
                    self.store
                        .update_email_thread(thread, "open", "", &queue, now)
                        .await
                        .map_err(store_err)?;
                }
                self.arrive(thread, &queue, &name, 0).await?;
            }
        }
        Ok(())
    }

    /// Write a mail's files under `data_dir/email/` (whole, then renamed into place).
    async fn keep_files(&self, mail: &Inbound) -> Result<Vec<StoredEmailFile>, EmailError> {
        let mut out = Vec::new();
        if mail.files.is_empty() {
            return Ok(out);
        }
        tokio::fs::create_dir_all(&self.files)
            .await
            .map_err(|e| EmailError::Store(e.to_string()))?;
        for f in &mail.files {
            let id = hex::encode(rand::random::<[u8; 12]>());
            let tmp = self.files.join(format!("{id}.part"));
            tokio::fs::write(&tmp, &f.bytes)
                .await
                .map_err(|e| EmailError::Store(e.to_string()))?;
            tokio::fs::rename(&tmp, self.files.join(&id))
                .await
                .map_err(|e| EmailError::Store(e.to_string()))?;
            out.push(StoredEmailFile {
                id,
                message: 0,
                name: f.name.clone(),
                content_type: f.content_type.clone(),
                size: f.bytes.len() as u64,
                content_id: f.content_id.clone(),
            });
        }
        Ok(out)
    }

    /// The ACD's actions on e-mail interactions.
    async fn action(&mut self, action: Action) {
        match action {
            Action::Offer {
                interaction,
                agent,
                queue,
                channel: acd::Channel::Email,
            } => {
                let Some(&thread) = self.by_interaction.get(&interaction.0) else {
                    return;
                };
                if let Some(l) = self.live.get_mut(&thread) {
                    l.phase = Phase::Offered(agent.clone());
                }
                let t = self.store.email_thread(thread).await.ok().flatten();
                let Some(t) = t else { return };
                let queue_name = self.queue_name(queue.as_str()).await;
                self.distributor.publish(json!({
                    "type": "email_offer", "interaction": interaction.0, "thread": thread,
                    "agent": agent, "queue": queue, "queue_name": queue_name,
                    "channel": "email", "customer": display_name(&t.customer_name, &t.customer),
                    "address": t.customer, "subject": t.subject, "arrived_ms": t.updated_ms,
                }));
            }
            Action::CancelOffer {
                interaction, agent, ..
            } => {
                let Some(&thread) = self.by_interaction.get(&interaction.0) else {
                    return;
                };
                if let Some(l) = self.live.get_mut(&thread) {
                    if l.phase == Phase::Offered(agent.clone()) {
                        l.phase = Phase::Queued;
                    }
                }
            }
            Action::QueueFull { interaction, .. } | Action::Overflow { interaction, .. } => {
                // E-mail waits: a full or overflowing queue leaves the thread open, to be
                // routed again at the next start.
                if let Some(&thread) = self.by_interaction.get(&interaction.0) {
                    tracing::warn!(
                        thread,
                        "e-mail queue full: the thread waits for a restart or an agent"
                    );
                }
            }
            _ => {}
        }
    }

    async fn queue_name(&self, dn: &str) -> String {
        let q = acd::Dn::new(dn);
        self.distributor
            .read(move |e, _| e.queue_config(&q).map(|c| c.name.clone()))
            .await
            .flatten()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| dn.to_string())
    }

    /// The stored thread, or why not.
    async fn thread(&self, thread: u64) -> Result<crate::store::StoredThread, EmailError> {
        self.store
            .email_thread(thread)
            .await
            .map_err(store_err)?
            .ok_or(EmailError::NoThread(thread))
    }

    fn live(&self, thread: u64) -> Result<&Live, EmailError> {
        self.live.get(&thread).ok_or(EmailError::NoThread(thread))
    }

    fn working(&self, agent: &AgentId, thread: u64) -> Result<(), EmailError> {
        match &self.live(thread)?.phase {
            Phase::Working(a) if a == agent => Ok(()),
            _ => Err(EmailError::NotWorking),
        }
    }

    async fn may_see(&self, agent: Option<&AgentId>, thread: u64) -> Result<(), EmailError> {
        let Some(agent) = agent else {
            return Ok(());
        };
        if let Some(l) = self.live.get(&thread) {
            if matches!(&l.phase, Phase::Offered(a) | Phase::Working(a) if a == agent) {
                return Ok(());
            }
        }
        if self.owed.contains_key(&(thread, agent.clone())) {
            return Ok(());
        }
        match self.store.email_thread(thread).await.map_err(store_err)? {
            Some(t) if t.agent == agent.as_str() => Ok(()),
            Some(_) => Err(EmailError::NotYours),
            None => Err(EmailError::NoThread(thread)),
        }
    }

    async fn accept(&mut self, agent: AgentId, thread: u64) -> Result<EmailView, EmailError> {
        let l = self.live(thread)?;
        if l.phase != Phase::Offered(agent.clone()) {
            return Err(EmailError::NotOffered);
        }
        let (interaction, queue) = (l.interaction, l.queue.clone());
        self.acd(Event::OfferAccepted {
            interaction: InteractionId(interaction),
            agent: agent.clone(),
        })
        .await?;
        if let Some(l) = self.live.get_mut(&thread) {
            l.phase = Phase::Working(agent.clone());
        }
        self.store
            .update_email_thread(thread, "open", agent.as_str(), &queue, now_ms())
            .await
            .map_err(store_err)?;
        tracing::info!(thread, %agent, "e-mail accepted");
        self.view(thread, Some(&agent)).await
    }

    async fn decline(&mut self, agent: AgentId, thread: u64) -> Result<(), EmailError> {
        let l = self.live(thread)?;
        if l.phase != Phase::Offered(agent.clone()) {
            return Err(EmailError::NotOffered);
        }
        let interaction = l.interaction;
        self.acd(Event::OfferRejected {
            interaction: InteractionId(interaction),
            agent,
        })
        .await?;
        if let Some(l) = self.live.get_mut(&thread) {
            l.phase = Phase::Queued;
        }
        Ok(())
    }

    fn rules(&self) -> Option<Rules<'_>> {
        let smtp = self.config.email.smtp.as_ref()?;
        let mut ours: Vec<String> = self
            .config
            .email
            .mailboxes
            .iter()
            .map(|m| m.user.to_ascii_lowercase())
            .collect();
        ours.push(smtp.from.to_ascii_lowercase());
        Some(Rules {
            email: &self.config.email,
            files: &self.config.chat.attachments,
            cards: self.config.chat.card_numbers,
            ours,
            from: smtp.from.clone(),
            from_name: smtp.from_name.clone(),
        })
    }

    async fn reply(
        &mut self,
        agent: AgentId,
        thread: u64,
        body: reply::ReplyBody,
    ) -> Result<EmailView, EmailError> {
        self.working(&agent, thread)?;
        let t = self.thread(thread).await?;
        let mails = self.store.thread_emails(thread).await.map_err(store_err)?;
        let last = mails.iter().rev().find(|m| m.direction == "in");
        let rules = self.rules().ok_or(EmailError::NoRelay)?;
        let files = reply::files(&body, &rules)?;
        let out = reply::build(&body, &t, last, agent.as_str(), &rules, now_ms())?;
        let kept: Vec<_> = files
            .iter()
            .map(|f| super::parse::InFile {
                name: f.name.clone(),
                content_type: f.content_type.clone(),
                bytes: f.bytes.clone(),
                content_id: String::new(),
            })
            .collect();
        let holder = Inbound {
            files: kept,
            ..empty_inbound()
        };
        let stored_files = self.keep_files(&holder).await?;
        self.store
            .insert_email(&out, &t.mailbox, None, &stored_files)
            .await
            .map_err(store_err)?;
        self.outbox.notify_one();
        tracing::info!(thread, %agent, kind = ?body.kind, "reply queued");
        // Send is the end of the agent's work on it: wrap-up follows.
        self.finish(thread, &agent, "answered").await?;
        self.view(thread, Some(&agent)).await
    }

    /// The agent is done (`how`: answered or ended): the interaction ends, After-Call-Work
    /// follows, the thread is closed until the customer writes again.
    async fn finish(&mut self, thread: u64, agent: &AgentId, how: &str) -> Result<(), EmailError> {
        let l = self.live(thread)?;
        let (interaction, queue) = (l.interaction, l.queue.clone());
        if let Err(e) = self
            .acd(Event::InteractionEnded {
                interaction: InteractionId(interaction),
            })
            .await
        {
            tracing::debug!(error = %e, "ACD refused the end of an e-mail");
        }
        self.forget(thread);
        self.drop_draft(thread, agent).await;
        self.owed.insert((thread, agent.clone()), queue.clone());
        self.store
            .update_email_thread(thread, "closed", agent.as_str(), &queue, now_ms())
            .await
            .map_err(store_err)?;
        self.distributor.publish(json!({
            "type": "email_ended", "thread": thread, "agent": agent, "how": how,
            "wrap_up_codes": self.config.chat.codes_of(&queue),
        }));
        Ok(())
    }

    async fn wrap_up(
        &mut self,
        agent: AgentId,
        thread: u64,
        codes: Vec<String>,
    ) -> Result<(), EmailError> {
        let Some(queue) = self.owed.get(&(thread, agent.clone())).cloned() else {
            return Err(EmailError::NotWorking);
        };
        let allowed = self.config.chat.codes_of(&queue);
        if let Some(bad) = codes.iter().find(|c| !allowed.contains(c)) {
            return Err(EmailError::UnknownCode(bad.clone()));
        }
        self.owed.remove(&(thread, agent.clone()));
        if let Err(e) = self.acd(Event::WrapUpDone { agent }).await {
            tracing::debug!(error = %e, "wrap-up done refused by the ACD");
        }
        tracing::info!(thread, ?codes, "e-mail wrapped up");
        Ok(())
    }

    /// To another e-mail queue only: the agent's part ends (wrap-up), the thread waits in
    /// that queue as a new interaction.
    async fn transfer(
        &mut self,
        agent: AgentId,
        thread: u64,
        queue: String,
    ) -> Result<(), EmailError> {
        self.working(&agent, thread)?;
        if !self.config.email.is_email_queue(&queue) || !self.distributor.is_queue(&queue) {
            return Err(EmailError::NotEmailQueue(queue));
        }
        let l = self.live(thread)?;
        let interaction = l.interaction;
        if let Err(e) = self
            .acd(Event::InteractionEnded {
                interaction: InteractionId(interaction),
            })
            .await
        {
            tracing::debug!(error = %e, "ACD refused the end of a transferred e-mail");
        }
        self.by_interaction.remove(&interaction);
        let t = self.thread(thread).await?;
        self.store
            .update_email_thread(thread, "open", "", &queue, now_ms())
            .await
            .map_err(store_err)?;
        self.distributor.publish(json!({
            "type": "email_ended", "thread": thread, "agent": agent, "how": "transferred",
            "wrap_up_codes": self.config.chat.codes_of(&t.queue),
        }));
        let waited = (now_ms() - t.created_ms).max(0) as u64;
        self.forget(thread);
        self.drop_draft(thread, &agent).await;
        // The transferring agent owes a wrap-up (the ACD put them in After-Call-Work).
        self.owed.insert((thread, agent), t.queue.clone());
        self.arrive(thread, &queue, &t.customer_name, waited)
            .await?;
        Ok(())
    }
}

fn display_name(name: &str, address: &str) -> String {
    if name.trim().is_empty() {
        address.to_string()
    } else {
        name.to_string()
    }
}

fn empty_inbound() -> Inbound {
    Inbound {
        message_id: String::new(),
        in_reply_to: Vec::new(),
        references: Vec::new(),
        from: String::new(),
        from_name: String::new(),
        to: Vec::new(),
        cc: Vec::new(),
        subject: String::new(),
        text: String::new(),
        html: String::new(),
        date_ms: None,
        files: Vec::new(),
        dropped: Vec::new(),
        masked: false,
        original: None,
    }
}
