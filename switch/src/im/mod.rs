//! Agent-to-agent instant messages (the desktop's "IM" and "internal interactions"): an
//! agent invites another agent or a supervisor with a first message; the invited party
//! accepts, declines or lets the invitation time out (`im.invite_timeout_secs`), and the
//! sender is told which; then both write until one ends the session. An invitation may
//! name a live interaction of the sender's (an IM consult): the consulted party sees its
//! case data read-only. A party with no desktop session but a phone (a SIP user) is
//! reached by SIP MESSAGE (RFC 3428), and a MESSAGE from a phone to an agent's extension
//! or id shows in that agent's IM window.
//!
//! One task ([`Ims::spawn`], `task.rs`) owns every live [`session::Session`]; the API and
//! the shards reach it by messages. Texts follow the chat's rules (length, card masking)
//! before anything is stored or shown. Sessions and messages are kept in the store. The
//! parties' desktops get `im_invite`, `im_accepted`, `im_declined`, `im_timeout`,
//! `im_message` and `im_ended` on `/api/events`, addressed by `"to"` (account ids) and
//! shown to those accounts only. [`presence`] publishes the directory's `presence`
//! events.

pub mod presence;
pub mod session;
mod task;

pub use session::{ImError, Party, Session};

use crate::accounts::Accounts;
use crate::config::Config;
use crate::distributor::Distributor;
use crate::engine::SipIm;
use crate::registrar::Registrar;
use crate::router::Router;
use crate::store::{Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, oneshot};

type Reply<T> = oneshot::Sender<Result<T, ImError>>;

/// One line of a session as the desktop shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImMessage {
    /// The sender's account id (or SIP user).
    pub from: String,
    /// The sender's name.
    pub sender: String,
    pub text: String,
    pub at_ms: i64,
}

/// A session as the API and the desktop show it.
#[derive(Debug, Clone, Serialize)]
pub struct ImView {
    pub id: u64,
    pub from: Party,
    pub to: Party,
    pub interaction: Option<u64>,
    /// `invited`, `connected`, `declined`, `timed_out` or `ended`.
    pub status: &'static str,
    pub created_ms: i64,
    pub ended_by: Option<String>,
    pub messages: Vec<ImMessage>,
    /// The interaction's case data, read-only, for an IM consult.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<Value>,
}

/// Who asks: an account and its name (and its ACD agent, for an IM consult).
#[derive(Debug, Clone)]
pub struct Asker {
    pub account: String,
    pub name: String,
    pub agent: Option<String>,
    pub extension: Option<String>,
}

enum Command {
    Invite {
        from: Asker,
        to: String,
        text: String,
        interaction: Option<u64>,
        reply: Reply<ImView>,
    },
    Accept {
        who: String,
        id: u64,
        reply: Reply<ImView>,
    },
    Decline {
        who: String,
        id: u64,
        reply: Reply<ImView>,
    },
    Say {
        who: String,
        id: u64,
        text: String,
        reply: Reply<ImMessage>,
    },
    End {
        who: String,
        id: u64,
        reply: Reply<ImView>,
    },
    Done {
        who: String,
        id: u64,
        reply: Reply<()>,
    },
    Mine {
        who: String,
        reply: oneshot::Sender<Vec<ImView>>,
    },
    FromPhone(SipIm),
}

/// What the IM task works with.
pub struct Setup {
    pub config: Arc<Config>,
    pub store: Store,
    pub distributor: Distributor,
    pub accounts: Accounts,
    pub router: Router,
    pub registrar: Arc<RwLock<Registrar>>,
    /// MESSAGEs from phones, from the shards.
    pub from_phones: mpsc::UnboundedReceiver<SipIm>,
}

/// A cheap handle to the IM task.
#[derive(Clone)]
pub struct Ims {
    tx: mpsc::UnboundedSender<Command>,
}

impl Ims {
    /// Starts the task; sessions a previous run left open are ended, new ids continue
    /// after the stored ones.
    pub async fn spawn(setup: Setup) -> Result<Ims, StoreError> {
        let now = chrono::Utc::now().timestamp_millis();
        let ended = setup.store.end_open_im_sessions(now).await?;
        if ended > 0 {
            tracing::info!(ended, "IM sessions of the previous run ended");
        }
        let next = setup.store.max_im_id().await?.map_or(1, |id| id + 1);
        let (tx, rx) = mpsc::unbounded_channel();
        let task = task::Task::new(setup, next);
        tokio::spawn(task.run(rx));
        Ok(Ims { tx })
    }

    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ImError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(make(tx)).map_err(|_| ImError::Stopped)?;
        rx.await.map_err(|_| ImError::Stopped)?
    }

    /// `from` invites `to` (an account id, an agent id, an extension or a SIP user).
    pub async fn invite(
        &self,
        from: Asker,
        to: String,
        text: String,
        interaction: Option<u64>,
    ) -> Result<ImView, ImError> {
        self.call(|reply| Command::Invite {
            from,
            to,
            text,
            interaction,
            reply,
        })
        .await
    }

    pub async fn accept(&self, who: String, id: u64) -> Result<ImView, ImError> {
        self.call(|reply| Command::Accept { who, id, reply }).await
    }

    pub async fn decline(&self, who: String, id: u64) -> Result<ImView, ImError> {
        self.call(|reply| Command::Decline { who, id, reply }).await
    }

    pub async fn say(&self, who: String, id: u64, text: String) -> Result<ImMessage, ImError> {
        self.call(|reply| Command::Say {
            who,
            id,
            text,
            reply,
        })
        .await
    }

    pub async fn end(&self, who: String, id: u64) -> Result<ImView, ImError> {
        self.call(|reply| Command::End { who, id, reply }).await
    }

    /// Mark Done: the party closes its window (ending the session first if it is live).
    pub async fn done(&self, who: String, id: u64) -> Result<(), ImError> {
        self.call(|reply| Command::Done { who, id, reply }).await
    }

    /// The sessions `who` takes part in and has not marked done.
    pub async fn mine(&self, who: String) -> Result<Vec<ImView>, ImError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::Mine { who, reply })
            .map_err(|_| ImError::Stopped)?;
        rx.await.map_err(|_| ImError::Stopped)
    }

    /// A MESSAGE from a phone (normally fed by the shards through `Setup::from_phones`).
    pub fn from_phone(&self, m: SipIm) {
        let _ = self.tx.send(Command::FromPhone(m));
    }
}
