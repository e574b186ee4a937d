//! The task that owns every live IM session. It alone changes a [`Session`]; the API and
//! the shards reach it by messages. It stores each change, publishes the parties'
//! events, sends MESSAGEs to phones, and times invitations out.

use super::session::{ImError, Party, Phase, Session};
use super::{Asker, Command, ImMessage, ImView, Setup};
use crate::accounts::{AccountView, Accounts, Role};
use crate::chat::message::TextRules;
use crate::config::Config;
use crate::distributor::Distributor;
use crate::engine::SipIm;
use crate::registrar::Registrar;
use crate::router::{Router, ShardInput};
use crate::store::{Store, StoredIm, StoredImMessage, StoredParty};
use acd::{AgentId, InteractionId, InteractionStatus};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tracing::Instrument;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

struct Live {
    session: Session,
    messages: Vec<ImMessage>,
    case: Option<Value>,
    /// Parties that marked it done (their window is closed).
    done: HashSet<String>,
}

pub(super) struct Task {
    config: Arc<Config>,
    rules: TextRules,
    timeout: Duration,
    store: Store,
    distributor: Distributor,
    accounts: Accounts,
    router: Router,
    registrar: Arc<RwLock<Registrar>>,
    from_phones: Option<mpsc::UnboundedReceiver<SipIm>>,
    next: u64,
    live: HashMap<u64, Live>,
}

impl Task {
    pub(super) fn new(s: Setup, next: u64) -> Task {
        let rules = TextRules {
            max_chars: s.config.chat.max_message_chars,
            cards: s.config.chat.card_numbers,
        };
        Task {
            rules,
            timeout: Duration::from_secs(s.config.im.invite_timeout_secs),
            config: s.config,
            store: s.store,
            distributor: s.distributor,
            accounts: s.accounts,
            router: s.router,
            registrar: s.registrar,
            from_phones: Some(s.from_phones),
            next,
            live: HashMap::new(),
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let mut phones = self.from_phones.take();
        loop {
            let deadline = self
                .live
                .values()
                .filter_map(|l| l.session.poll_timeout())
                .min();
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d.into()).await,
                    None => std::future::pending().await,
                }
            };
            let phone = async {
                match phones.as_mut() {
                    Some(p) => p.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                command = rx.recv() => match command {
                    Some(c) => self.command(c).await,
                    None => break,
                },
                m = phone => match m {
                    Some(m) => self.phone_says(m).await,
                    None => phones = None,
                },
                _ = sleep => self.tick(Instant::now()).await,
            }
        }
    }

    async fn command(&mut self, c: Command) {
        match c {
            Command::Invite {
                from,
                to,
                text,
                interaction,
                reply,
            } => {
                let span = tracing::info_span!("im_invite", from = %from.account, to = %to);
                let r = self
                    .invite(from, to, text, interaction)
                    .instrument(span)
                    .await;
                let _ = reply.send(r);
            }
            Command::Accept { who, id, reply } => {
                let _ = reply.send(self.answer(&who, id, true).await);
            }
            Command::Decline { who, id, reply } => {
                let _ = reply.send(self.answer(&who, id, false).await);
            }
            Command::Say {
                who,
                id,
                text,
                reply,
            } => {
                let _ = reply.send(self.say(&who, id, &text).await);
            }
            Command::End { who, id, reply } => {
                let _ = reply.send(self.end(&who, id).await);
            }
            Command::Done { who, id, reply } => {
                let _ = reply.send(self.done(&who, id).await);
            }
            Command::Mine { who, reply } => {
                let mut list: Vec<ImView> = self
                    .live
                    .values()
                    .filter(|l| l.session.party(&who).is_some() && !l.done.contains(&who))
                    .map(|l| view(l, &who))
                    .collect();
                list.sort_by_key(|v| v.id);
                let _ = reply.send(list);
            }
            Command::FromPhone(m) => self.phone_says(m).await,
        }
    }

    /// Who `to` names: an account (by id, ACD agent or extension) on its desktop, else
    /// its phone; or a SIP user's phone.
    fn resolve(&self, to: &str) -> Result<Party, ImError> {
        let to = to.trim();
        if let Some(a) = self.account_named(to) {
            if !(a.roles.contains(&Role::Agent) || a.roles.contains(&Role::Supervisor)) {
                return Err(ImError::UnknownTarget(to.to_string()));
            }
            let name = if a.name.is_empty() {
                a.id.clone()
            } else {
                a.name.clone()
            };
            if self.accounts.online(&a.id) {
                return Ok(Party::desktop(a.id, name));
            }
            if let Some(ext) = a.extension.as_deref().filter(|x| self.is_phone(x)) {
                return Ok(Party::phone(ext, name));
            }
            return Err(ImError::Unreachable(to.to_string()));
        }
        if self.is_phone(to) {
            return Ok(Party::phone(to, to));
        }
        Err(ImError::UnknownTarget(to.to_string()))
    }

    fn account_named(&self, id: &str) -> Option<AccountView> {
        self.accounts.get(id).or_else(|| {
            self.accounts
                .list()
                .into_iter()
                .find(|a| a.agent.as_deref() == Some(id) || a.extension.as_deref() == Some(id))
        })
    }

    /// A SIP user of this switch with a registered (or static) contact.
    fn is_phone(&self, user: &str) -> bool {
        self.config.user(user).is_some()
            && self
                .registrar
                .read()
                .map(|r| !r.lookup(Instant::now(), user).is_empty())
                .unwrap_or(false)
    }

    /// The case data of `interaction` if it is live and `agent`'s.
    async fn case(&self, agent: Option<&str>, interaction: u64) -> Result<Value, ImError> {
        let not_yours = || ImError::NotYourInteraction(interaction);
        let agent = AgentId::new(agent.ok_or_else(not_yours)?);
        let a = agent.clone();
        let found = self
            .distributor
            .read(move |e, _| {
                let v = e.interaction_view(InteractionId(interaction))?;
                let mine =
                    matches!(&v.status, InteractionStatus::Active { agent: Some(x) } if *x == a);
                let queue_name = e.queue_config(&v.queue).map(|q| q.name.clone());
                mine.then_some((v, queue_name))
            })
            .await
            .flatten();
        let (v, queue_name) = found.ok_or_else(not_yours)?;
        let customer = if v.caller.name.is_empty() {
            v.caller.number.clone()
        } else {
            v.caller.name.clone()
        };
        let mut case = json!({
            "interaction": interaction,
            "channel": v.channel,
            "queue": v.queue,
            "queue_name": queue_name.unwrap_or_default(),
            "customer": customer,
            "caller_number": v.caller.number,
        });
        if v.channel == acd::Channel::Chat {
            let lines = self
                .store
                .chat_messages(interaction)
                .await
                .unwrap_or_default();
            case["transcript"] = json!(lines);
        }
        Ok(case)
    }

    async fn invite(
        &mut self,
        from: Asker,
        to: String,
        text: String,
        interaction: Option<u64>,
    ) -> Result<ImView, ImError> {
        let text = self.rules.check(&text)?;
        let target = self.resolve(&to)?;
        if target.id == from.account && !target.phone {
            return Err(ImError::ToSelf);
        }
        let mut case = match interaction {
            Some(i) => Some(self.case(from.agent.as_deref(), i).await?),
            None => None,
        };
        if let Some(c) = case.as_mut().filter(|c| c["channel"] == "voice") {
            // Whom "Start voice consult" rings: the consulted party's phone.
            let phone = self
                .account_named(&target.id)
                .and_then(|a| a.extension.or(a.agent))
                .unwrap_or_else(|| target.id.clone());
            c["consult_target"] = json!(phone);
        }
        let sender = Party::desktop(from.account.clone(), from.name.clone());
        let id = self.next;
        self.next += 1;
        let created = now_ms();
        let session = Session::invite(
            id,
            sender.clone(),
            target,
            interaction,
            Instant::now(),
            self.timeout,
            created,
        );
        if let Err(e) = self.store.insert_im_session(&stored(&session)).await {
            tracing::error!(error = %e, "IM session not stored");
        }
        let mut live = Live {
            session,
            messages: Vec::new(),
            case,
            done: HashSet::new(),
        };
        let m = ImMessage {
            from: sender.id.clone(),
            sender: sender.name.clone(),
            text,
            at_ms: created,
        };
        self.record(id, &m).await;
        live.messages.push(m.clone());
        if live.session.to.phone {
            self.to_phone(&from, &live.session.to.id, &m.text);
        }
        let kind = if live.session.to.phone {
            "im_message"
        } else {
            "im_invite"
        };
        self.live.insert(id, live);
        self.publish(id, kind, Some(&m));
        tracing::info!(session = id, "IM invitation");
        self.view_for(id, &from.account)
    }

    async fn answer(&mut self, who: &str, id: u64, accept: bool) -> Result<ImView, ImError> {
        let live = self.live.get_mut(&id).ok_or(ImError::NotFound)?;
        let now = Instant::now();
        let r = if accept {
            live.session.accept(now, who)
        } else {
            live.session.decline(now, who)
        };
        if live.session.phase == Phase::TimedOut {
            self.lapsed(id).await;
        }
        r?;
        let status = self.status_of(id);
        let ended = (!accept).then(now_ms);
        self.store_status(id, status, ended, None).await;
        self.publish(id, if accept { "im_accepted" } else { "im_declined" }, None);
        self.view_for(id, who)
    }

    async fn say(&mut self, who: &str, id: u64, text: &str) -> Result<ImMessage, ImError> {
        let live = self.live.get_mut(&id).ok_or(ImError::NotFound)?;
        let party = live.session.check_send(Instant::now(), who)?;
        let text = self.rules.check(text)?;
        let m = ImMessage {
            from: party.id.clone(),
            sender: party.name.clone(),
            text,
            at_ms: now_ms(),
        };
        let peer = live.session.peer_of(who).cloned();
        live.messages.push(m.clone());
        self.record(id, &m).await;
        if let Some(peer) = peer.filter(|p| p.phone) {
            let asker = self.asker(who);
            self.to_phone(&asker, &peer.id, &m.text);
        }
        self.publish(id, "im_message", Some(&m));
        Ok(m)
    }

    async fn end(&mut self, who: &str, id: u64) -> Result<ImView, ImError> {
        let live = self.live.get_mut(&id).ok_or(ImError::NotFound)?;
        live.session.end(Instant::now(), who)?;
        self.store_status(id, "ended", Some(now_ms()), Some(who))
            .await;
        self.publish(id, "im_ended", None);
        tracing::info!(session = id, by = who, "IM session ended");
        self.view_for(id, who)
    }

    async fn done(&mut self, who: &str, id: u64) -> Result<(), ImError> {
        let live = self.live.get(&id).ok_or(ImError::NotFound)?;
        if live.session.party(who).is_none() {
            return Err(ImError::NotAParty);
        }
        if !live.session.phase.is_over() {
            self.end(who, id).await?;
        }
        let Some(live) = self.live.get_mut(&id) else {
            return Ok(());
        };
        live.done.insert(who.to_string());
        let s = &live.session;
        let all_done = [&s.from, &s.to]
            .iter()
            .all(|p| p.phone || live.done.contains(&p.id));
        if all_done {
            self.live.remove(&id);
        }
        Ok(())
    }

    /// A MESSAGE from a phone to an account's extension, agent id or account id: into the
    /// connected session between them, else a new one.
    async fn phone_says(&mut self, m: SipIm) {
        let span = tracing::info_span!("im_from_phone", from = %m.from, to = %m.to);
        self.phone_says_in(m).instrument(span).await
    }

    async fn phone_says_in(&mut self, m: SipIm) {
        let Some(account) = self.account_named(&m.to) else {
            tracing::info!("MESSAGE for nobody with a desktop; dropped");
            return;
        };
        let text = match self.rules.check(&m.text) {
            Ok(t) => t,
            Err(e) => {
                tracing::info!(error = %e, "MESSAGE text refused");
                return;
            }
        };
        let existing = self
            .live
            .values()
            .find(|l| {
                l.session.phase == Phase::Connected
                    && l.session.party(&account.id).is_some_and(|p| !p.phone)
                    && l.session.party(&m.from).is_some_and(|p| p.phone)
            })
            .map(|l| l.session.id);
        let at = now_ms();
        let id = match existing {
            Some(id) => id,
            None => {
                let id = self.next;
                self.next += 1;
                let name = if account.name.is_empty() {
                    account.id.clone()
                } else {
                    account.name.clone()
                };
                let session = Session::invite(
                    id,
                    Party::phone(m.from.clone(), m.from.clone()),
                    Party::desktop(account.id.clone(), name),
                    None,
                    Instant::now(),
                    self.timeout,
                    at,
                );
                if let Err(e) = self.store.insert_im_session(&stored(&session)).await {
                    tracing::error!(error = %e, "IM session not stored");
                }
                self.live.insert(
                    id,
                    Live {
                        session,
                        messages: Vec::new(),
                        case: None,
                        done: HashSet::new(),
                    },
                );
                id
            }
        };
        let line = ImMessage {
            from: m.from.clone(),
            sender: m.from.clone(),
            text,
            at_ms: at,
        };
        self.record(id, &line).await;
        if let Some(l) = self.live.get_mut(&id) {
            l.messages.push(line.clone());
        }
        self.publish(id, "im_message", Some(&line));
        tracing::info!(session = id, "MESSAGE from a phone");
    }

    async fn tick(&mut self, now: Instant) {
        let lapsed: Vec<u64> = self
            .live
            .iter_mut()
            .filter_map(|(id, l)| l.session.handle_timeout(now).then_some(*id))
            .collect();
        for id in lapsed {
            self.lapsed(id).await;
        }
    }

    /// An invitation timed out: stored, both told.
    async fn lapsed(&mut self, id: u64) {
        self.store_status(id, "timed_out", Some(now_ms()), None)
            .await;
        self.publish(id, "im_timeout", None);
        tracing::info!(session = id, "IM invitation timed out");
    }

    fn status_of(&self, id: u64) -> &'static str {
        self.live
            .get(&id)
            .map_or("ended", |l| l.session.phase.status())
    }

    fn asker(&self, account: &str) -> Asker {
        let a = self.accounts.get(account);
        Asker {
            account: account.to_string(),
            name: a.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            agent: a.as_ref().and_then(|a| a.agent.clone()),
            extension: a.and_then(|a| a.extension),
        }
    }

    /// A MESSAGE to a phone, from the sender's extension (else its account id).
    fn to_phone(&self, from: &Asker, user: &str, text: &str) {
        let from_user = from
            .extension
            .clone()
            .unwrap_or_else(|| from.account.clone());
        self.router.send(
            0,
            ShardInput::SipMessage(SipIm {
                from: from_user,
                from_name: from.name.clone(),
                to: user.to_string(),
                text: text.to_string(),
            }),
        );
    }

    async fn record(&self, id: u64, m: &ImMessage) {
        let line = StoredImMessage {
            from: m.from.clone(),
            sender: m.sender.clone(),
            text: m.text.clone(),
            at_ms: m.at_ms,
        };
        if let Err(e) = self.store.insert_im_message(id, &line).await {
            tracing::error!(error = %e, "IM message not stored");
        }
    }

    async fn store_status(&self, id: u64, status: &str, ended: Option<i64>, by: Option<&str>) {
        if let Err(e) = self.store.set_im_status(id, status, ended, by).await {
            tracing::error!(error = %e, "IM status not stored");
        }
    }

    fn view_for(&self, id: u64, who: &str) -> Result<ImView, ImError> {
        self.live
            .get(&id)
            .map(|l| view(l, who))
            .ok_or(ImError::NotFound)
    }

    /// `{"type": kind, "to": [desktop parties], "session": view, "message"?}`, one per
    /// desktop party (each sees the case data only if it is the consulted one).
    fn publish(&self, id: u64, kind: &str, message: Option<&ImMessage>) {
        let Some(l) = self.live.get(&id) else {
            return;
        };
        for p in [&l.session.from, &l.session.to] {
            if p.phone {
                continue;
            }
            let mut ev = json!({
                "type": kind,
                "to": [p.id],
                "session": view(l, &p.id),
            });
            if let Some(m) = message {
                ev["message"] = json!(m);
            }
            self.distributor.publish(ev);
        }
    }
}

/// The session as `who` sees it: the case data only for the consulted party.
fn view(l: &Live, who: &str) -> ImView {
    let s = &l.session;
    ImView {
        id: s.id,
        from: s.from.clone(),
        to: s.to.clone(),
        interaction: s.interaction,
        status: s.phase.status(),
        created_ms: s.created_ms,
        ended_by: s.ended_by.clone(),
        messages: l.messages.clone(),
        case: s.party(who).and(l.case.clone()),
    }
}

fn stored(s: &Session) -> StoredIm {
    let party = |p: &Party| StoredParty {
        id: p.id.clone(),
        name: p.name.clone(),
        phone: p.phone,
    };
    StoredIm {
        id: s.id,
        from: party(&s.from),
        to: party(&s.to),
        interaction: s.interaction,
        status: s.phase.status().to_string(),
        created_ms: s.created_ms,
        ended_ms: None,
        ended_by: None,
    }
}
