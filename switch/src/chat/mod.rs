//! The web chat channel: customers write from `/chat/` over a WebSocket, agents answer
//! from the desktop over REST, and every chat is an interaction of channel `chat` that the
//! same ACD engine routes as calls (queue by ACD DN, capacity per channel, offers and
//! RONA, After-Call-Work and wrap-up).
//!
//! One task ([`Chats::spawn`]) owns every live chat ([`room::Room`]); the API talks to it
//! by messages and it talks to the distributor the same way: it sends the ACD events
//! (arrival, accept, reject, end, wrap-up done) and follows the engine's actions (offers,
//! withdrawn offers, queue positions) on the distributor's action stream. Texts are
//! checked ([`message::TextRules`]: at most `chat.max_message_chars`, card numbers masked
//! or refused, [`masking`]) before anything is stored or shown. Transcripts are kept in
//! the store, so they outlive the process; agents get their chats' lines as
//! `chat_message` events on `/api/events`. Files sent in a chat are checked by
//! [`attachment`]'s rules, kept in the data directory ([`files`]) and admitted by the task
//! against the chat's budget; they show in the transcript as entries with an attachment.

pub mod attachment;
pub mod collab;
#[cfg(test)]
mod collab_tests;
pub mod customer;
pub mod error;
pub mod files;
pub mod masking;
pub mod message;
pub mod metrics;
pub mod room;
mod task;
pub mod template;
#[cfg(test)]
mod tests;

pub use customer::{FromCustomer, ToCustomer};
pub use error::ChatError;
pub use message::{Message, Role};

use crate::config::ChatConfig;
use crate::distributor::Distributor;
use crate::store::Store;
use acd::AgentId;
use serde::Serialize;
use tokio::sync::{mpsc, oneshot};

type Reply<T> = oneshot::Sender<Result<T, ChatError>>;

/// A chat as an agent's desktop shows it when it is accepted.
#[derive(Debug, Clone, Serialize)]
pub struct ChatView {
    pub interaction: u64,
    pub customer: String,
    pub queue: String,
    pub queue_name: String,
    pub agent_name: String,
    pub arrived_ms: i64,
    pub messages: Vec<Message>,
    pub wrap_up_codes: Vec<String>,
    /// Over, waiting for the agent's wrap-up.
    pub ended: bool,
    /// The caller is the conference's guest (they may leave, not end it).
    pub guest: bool,
    /// The agents in the chat now: its agent first, then the conference guest.
    pub agents: Vec<String>,
}

enum Command {
    Join {
        name: String,
        dn: String,
        link: mpsc::UnboundedSender<ToCustomer>,
        reply: Reply<u64>,
    },
    CustomerSays {
        id: u64,
        text: String,
        reply: Reply<()>,
    },
    CustomerLeft {
        id: u64,
    },
    Accept {
        agent: AgentId,
        id: u64,
        reply: Reply<ChatView>,
    },
    Decline {
        agent: AgentId,
        id: u64,
        reply: Reply<()>,
    },
    AgentSays {
        agent: AgentId,
        id: u64,
        text: String,
        reply: Reply<Message>,
    },
    End {
        agent: AgentId,
        id: u64,
        reply: Reply<()>,
    },
    WrapUp {
        agent: AgentId,
        id: u64,
        codes: Vec<String>,
        reply: Reply<()>,
    },
    /// A transfer or a conference invitation.
    Invite {
        agent: AgentId,
        id: u64,
        kind: collab::Kind,
        target: collab::Target,
        reply: Reply<()>,
    },
    /// A conference guest leaves.
    Leave {
        agent: AgentId,
        id: u64,
        reply: Reply<()>,
    },
    /// Whether `from` may send a file now: their name and the bytes the chat's files use.
    Attachable {
        from: files::Sender,
        id: u64,
        reply: Reply<(String, u64)>,
    },
    /// A checked file, written to its temporary name: admitted (budget), renamed, indexed
    /// and announced; or refused (the caller removes the temporary file).
    Attach {
        from: files::Sender,
        id: u64,
        file: files::NewFile,
        reply: Reply<Message>,
    },
    /// Whether the live chat has `agent` in it (its agent, guest, or one owing the wrap-up).
    Involves {
        agent: AgentId,
        id: u64,
        reply: oneshot::Sender<bool>,
    },
    /// The chats an agent works or has still to wrap up (a desktop that reloads).
    Of {
        agent: AgentId,
        reply: oneshot::Sender<Vec<ChatView>>,
    },
}

/// A cheap handle to the chat task.
#[derive(Clone)]
pub struct Chats {
    tx: mpsc::UnboundedSender<Command>,
    metrics: std::sync::Arc<metrics::ChatMetrics>,
}

impl Chats {
    /// Starts the task. New chat ids continue after the highest stored one.
    pub async fn spawn(
        config: ChatConfig,
        distributor: Distributor,
        store: Store,
    ) -> Result<Chats, crate::store::StoreError> {
        let next = store.max_chat_id().await?.map_or(1, |id| (id >> 8) + 1);
        let (tx, rx) = mpsc::unbounded_channel();
        let metrics = std::sync::Arc::new(metrics::ChatMetrics::default());
        let task = task::Task::new(config, distributor, store, next, metrics.clone());
        tokio::spawn(task.run(rx));
        Ok(Chats { tx, metrics })
    }

    /// The channel's counters, for `/metrics`.
    pub fn metrics(&self) -> &metrics::ChatMetrics {
        &self.metrics
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ChatError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| ChatError::Stopped)?;
        rx.await.map_err(|_| ChatError::Stopped)?
    }

    /// A customer opens a chat to ACD DN `dn`; what the service says to them goes to `link`.
    pub async fn join(
        &self,
        name: String,
        dn: String,
        link: mpsc::UnboundedSender<ToCustomer>,
    ) -> Result<u64, ChatError> {
        self.call(|reply| Command::Join {
            name,
            dn,
            link,
            reply,
        })
        .await
    }

    pub async fn customer_says(&self, id: u64, text: String) -> Result<(), ChatError> {
        self.call(|reply| Command::CustomerSays { id, text, reply })
            .await
    }

    /// The customer pressed Disconnect or their socket closed.
    pub fn customer_left(&self, id: u64) {
        let _ = self.tx.send(Command::CustomerLeft { id });
    }

    pub async fn accept(&self, agent: AgentId, id: u64) -> Result<ChatView, ChatError> {
        self.call(|reply| Command::Accept { agent, id, reply })
            .await
    }

    pub async fn decline(&self, agent: AgentId, id: u64) -> Result<(), ChatError> {
        self.call(|reply| Command::Decline { agent, id, reply })
            .await
    }

    pub async fn agent_says(
        &self,
        agent: AgentId,
        id: u64,
        text: String,
    ) -> Result<Message, ChatError> {
        self.call(|reply| Command::AgentSays {
            agent,
            id,
            text,
            reply,
        })
        .await
    }

    pub async fn end(&self, agent: AgentId, id: u64) -> Result<(), ChatError> {
        self.call(|reply| Command::End { agent, id, reply }).await
    }

    /// The chats `agent` works or has still to wrap up, oldest first.
    pub async fn of_agent(&self, agent: AgentId) -> Result<Vec<ChatView>, ChatError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Of { agent, reply })
            .map_err(|_| ChatError::Stopped)?;
        rx.await.map_err(|_| ChatError::Stopped)
    }

    /// Transfers the chat (to a queue at once; to an agent once they accept) or invites
    /// to a conference (`kind`).
    pub async fn invite(
        &self,
        agent: AgentId,
        id: u64,
        kind: collab::Kind,
        target: collab::Target,
    ) -> Result<(), ChatError> {
        self.call(|reply| Command::Invite {
            agent,
            id,
            kind,
            target,
            reply,
        })
        .await
    }

    /// The conference guest leaves the chat; it goes on.
    pub async fn leave(&self, agent: AgentId, id: u64) -> Result<(), ChatError> {
        self.call(|reply| Command::Leave { agent, id, reply }).await
    }

    /// Whether `from` may send a file into chat `id` now: their name as the transcript
    /// shows it and the bytes the chat's files already use.
    pub async fn attachable(
        &self,
        from: files::Sender,
        id: u64,
    ) -> Result<(String, u64), ChatError> {
        self.call(|reply| Command::Attachable { from, id, reply })
            .await
    }

    /// Admits, indexes and announces a checked file; returns its transcript entry.
    pub async fn attach(
        &self,
        from: files::Sender,
        id: u64,
        file: files::NewFile,
    ) -> Result<Message, ChatError> {
        self.call(|reply| Command::Attach {
            from,
            id,
            file,
            reply,
        })
        .await
    }

    /// Whether the live chat `id` has `agent` in it now (false when it is not live).
    pub async fn involves(&self, agent: AgentId, id: u64) -> bool {
        let (reply, rx) = oneshot::channel();
        if self
            .tx
            .send(Command::Involves { agent, id, reply })
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    pub async fn wrap_up(
        &self,
        agent: AgentId,
        id: u64,
        codes: Vec<String>,
    ) -> Result<(), ChatError> {
        self.call(|reply| Command::WrapUp {
            agent,
            id,
            codes,
            reply,
        })
        .await
    }
}
