//! The e-mail channel: customer mails fetched from the contact centre's IMAP mailboxes
//! ([`fetch`]), parsed and made safe ([`parse`]), threaded and stored, each new thread an
//! ACD interaction of channel `email` routed like voice and chat ([`task`]: offers,
//! accept / decline, RONA by the ACD's offer timeout, After-Call-Work once answered or
//! ended); agents' replies stored in the outbox and sent through the SMTP relay with
//! retries ([`send`]), never silently lost.
//!
//! One task owns the live threads; the API and the fetchers talk to it through
//! [`Emails`]. A fetcher marks a mail `\Seen` only once [`Emails::ingest`] says it is
//! stored, and the store refuses a mail fetched twice (mailbox, UIDVALIDITY, UID), so a
//! crash between fetch and store loses nothing and duplicates nothing.

pub mod fetch;
pub mod parse;
pub mod reply;
pub mod send;
mod task;

use crate::config::Config;
use crate::distributor::Distributor;
use crate::store::{Fetched, Store, StoredDraft, StoredEmail, StoredEmailFile, StoredThread};
use acd::AgentId;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

pub use reply::{ReplyBody, ReplyFile, ReplyKind};

/// Why an e-mail request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("no e-mail thread {0}")]
    NoThread(u64),
    #[error("the e-mail is not yours")]
    NotYours,
    #[error("the e-mail is not offered to you")]
    NotOffered,
    #[error("the e-mail is not being worked on")]
    NotWorking,
    #[error("{0:?} is not an e-mail queue (e-mails go only to e-mail queues)")]
    NotEmailQueue(String),
    #[error("{0}")]
    BadReply(String),
    #[error("wrap-up code {0:?} is not one of the queue's")]
    UnknownCode(String),
    #[error("no SMTP relay is configured")]
    NoRelay,
    #[error("the ACD refused: {0}")]
    Acd(String),
    #[error("the store failed: {0}")]
    Store(String),
    #[error("the e-mail service has stopped")]
    Stopped,
}

/// One message of a thread with its files, as the desktop shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    #[serde(flatten)]
    pub email: StoredEmail,
    pub files: Vec<StoredEmailFile>,
    /// Whether its raw original is kept (`GET /api/emails/{id}/messages/{m}/original`).
    pub has_original: bool,
}

/// An e-mail queue a thread may be transferred to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueRef {
    pub dn: String,
    pub name: String,
}

/// `PUT /api/emails/{id}/draft` as sent: the reply being written, kept until it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftBody {
    pub kind: ReplyKind,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub html: String,
    #[serde(default)]
    pub cc: Vec<String>,
}

/// A thread as an agent works it.
#[derive(Debug, Clone, Serialize)]
pub struct EmailView {
    pub thread: StoredThread,
    /// The ACD interaction it is now, if it is routed or worked.
    pub interaction: Option<u64>,
    /// `queued`, `offered`, `working`, `wrap_up` or `closed`.
    pub state: &'static str,
    pub agent: Option<String>,
    pub queue_name: String,
    pub messages: Vec<MessageView>,
    /// The customer's other threads, newest first (contact history).
    pub history: Vec<StoredThread>,
    /// The wrap-up codes of the thread's queue.
    pub wrap_up_codes: Vec<String>,
    /// The other e-mail queues it may be transferred to.
    pub transfer_queues: Vec<QueueRef>,
    /// Whom a reply to all adds as Cc.
    pub reply_all_cc: Vec<String>,
    /// The viewing agent's unsent reply, if they left one.
    pub draft: Option<StoredDraft>,
}

pub(crate) enum Command {
    Ingest {
        mailbox: String,
        queue: String,
        mail: Box<parse::Inbound>,
        fetched: Fetched,
        reply: oneshot::Sender<Result<(), EmailError>>,
    },
    Accept {
        agent: AgentId,
        thread: u64,
        reply: oneshot::Sender<Result<EmailView, EmailError>>,
    },
    Decline {
        agent: AgentId,
        thread: u64,
        reply: oneshot::Sender<Result<(), EmailError>>,
    },
    View {
        agent: Option<AgentId>,
        thread: u64,
        reply: oneshot::Sender<Result<EmailView, EmailError>>,
    },
    Reply {
        agent: AgentId,
        thread: u64,
        body: Box<ReplyBody>,
        reply: oneshot::Sender<Result<EmailView, EmailError>>,
    },
    Transfer {
        agent: AgentId,
        thread: u64,
        queue: String,
        reply: oneshot::Sender<Result<(), EmailError>>,
    },
    End {
        agent: AgentId,
        thread: u64,
        reply: oneshot::Sender<Result<(), EmailError>>,
    },
    WrapUp {
        agent: AgentId,
        thread: u64,
        codes: Vec<String>,
        reply: oneshot::Sender<Result<(), EmailError>>,
    },
    Of {
        agent: AgentId,
        reply: oneshot::Sender<Vec<EmailView>>,
    },
    Draft {
        agent: AgentId,
        thread: u64,
        draft: Option<DraftBody>,
        reply: oneshot::Sender<Result<Option<StoredDraft>, EmailError>>,
    },
}

/// A handle to the e-mail service; cheap to clone.
#[derive(Clone)]
pub struct Emails {
    tx: mpsc::UnboundedSender<Command>,
}

impl Emails {
    /// Start the service: the owner task (which routes the threads still open in the
    /// store again), the outbox sender and one fetcher per configured mailbox.
    pub async fn start(config: Arc<Config>, distributor: Distributor, store: Store) -> Emails {
        let (tx, rx) = mpsc::unbounded_channel();
        let emails = Emails { tx };
        let outbox = Arc::new(Notify::new());
        let task = task::Task::new(
            config.clone(),
            distributor.clone(),
            store.clone(),
            outbox.clone(),
        );
        let actions = distributor.subscribe_actions();
        tokio::spawn(task.run(rx, actions));
        if let Some(smtp) = config.email.smtp.clone() {
            let sender = send::Sender::new(smtp, store.clone(), distributor, &config.data_dir);
            tokio::spawn(sender.run(outbox));
        }
        for mailbox in &config.email.mailboxes {
            let fetcher = fetch::Fetcher::new(
                mailbox.clone(),
                store.clone(),
                emails.clone(),
                config.chat.card_numbers,
            );
            tokio::spawn(fetcher.run());
        }
        emails
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, EmailError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(make(reply)).map_err(|_| EmailError::Stopped)?;
        rx.await.map_err(|_| EmailError::Stopped)
    }

    /// A fetched mail: stored (and routed) when this returns `Ok`.
    pub async fn ingest(
        &self,
        mailbox: &str,
        queue: &str,
        mail: parse::Inbound,
        fetched: Fetched,
    ) -> Result<(), EmailError> {
        self.call(|reply| Command::Ingest {
            mailbox: mailbox.to_string(),
            queue: queue.to_string(),
            mail: Box::new(mail),
            fetched,
            reply,
        })
        .await?
    }

    pub async fn accept(&self, agent: AgentId, thread: u64) -> Result<EmailView, EmailError> {
        self.call(|reply| Command::Accept {
            agent,
            thread,
            reply,
        })
        .await?
    }

    pub async fn decline(&self, agent: AgentId, thread: u64) -> Result<(), EmailError> {
        self.call(|reply| Command::Decline {
            agent,
            thread,
            reply,
        })
        .await?
    }

    /// The thread as `agent` may see it (`None`: a supervisor or administrator, whose
    /// scope the API checked).
    pub async fn view(&self, agent: Option<AgentId>, thread: u64) -> Result<EmailView, EmailError> {
        self.call(|reply| Command::View {
            agent,
            thread,
            reply,
        })
        .await?
    }

    pub async fn reply(
        &self,
        agent: AgentId,
        thread: u64,
        body: ReplyBody,
    ) -> Result<EmailView, EmailError> {
        self.call(|reply| Command::Reply {
            agent,
            thread,
            body: Box::new(body),
            reply,
        })
        .await?
    }

    pub async fn transfer(
        &self,
        agent: AgentId,
        thread: u64,
        queue: String,
    ) -> Result<(), EmailError> {
        self.call(|reply| Command::Transfer {
            agent,
            thread,
            queue,
            reply,
        })
        .await?
    }

    pub async fn end(&self, agent: AgentId, thread: u64) -> Result<(), EmailError> {
        self.call(|reply| Command::End {
            agent,
            thread,
            reply,
        })
        .await?
    }

    pub async fn wrap_up(
        &self,
        agent: AgentId,
        thread: u64,
        codes: Vec<String>,
    ) -> Result<(), EmailError> {
        self.call(|reply| Command::WrapUp {
            agent,
            thread,
            codes,
            reply,
        })
        .await?
    }

    /// Keep (`Some`) or remove (`None`) the working agent's draft of `thread`.
    pub async fn draft(
        &self,
        agent: AgentId,
        thread: u64,
        draft: Option<DraftBody>,
    ) -> Result<Option<StoredDraft>, EmailError> {
        self.call(|reply| Command::Draft {
            agent,
            thread,
            draft,
            reply,
        })
        .await?
    }

    /// The threads `agent` works, is offered or has to wrap up.
    pub async fn of_agent(&self, agent: AgentId) -> Result<Vec<EmailView>, EmailError> {
        self.call(|reply| Command::Of { agent, reply }).await
    }
}
