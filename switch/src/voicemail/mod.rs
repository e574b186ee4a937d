//! Voicemail: each user's mailbox of messages (new or saved), and who wants to hear of
//! changes (RFC 3842 message-summary subscriptions). One [`Mailboxes`] per node, shared by
//! every shard's call engine (it deposits messages, answers `*97`, sends MWI NOTIFYs) and
//! the REST API (list, download, mark read, delete): the index lives in memory behind a
//! lock held only for map operations, and every change is written to the store in the
//! background ([`Change`]), so no call waits on the database. WAV files live in
//! `data_dir/voicemail/USER/ID.wav`; a user's own greeting beside them ([`greeting`]).

pub mod greeting;
mod summary;

pub use greeting::Greeting;
pub use summary::summary_body;

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Whether a message has been heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Saved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Saved => "saved",
        }
    }

    pub fn parse(s: &str) -> Status {
        if s == "saved" {
            Status::Saved
        } else {
            Status::New
        }
    }
}

/// One voicemail message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub id: String,
    /// The mailbox's user.
    pub mailbox: String,
    /// Who left it: the caller's user and display name.
    pub from_user: String,
    pub from_name: String,
    pub at_ms: i64,
    pub duration_ms: i64,
    pub status: Status,
}

impl Message {
    /// The WAV's path below the data directory.
    pub fn file(&self) -> String {
        format!("voicemail/{}/{}.wav", self.mailbox, self.id)
    }
}

/// A change for the store.
#[derive(Clone, Debug)]
pub enum Change {
    Added(Message),
    Status { id: String, status: Status },
    Deleted { id: String },
}

/// The dialog of a subscription, as the engine's dialogs hold it (we are its UAS).
#[derive(Clone, Debug)]
pub struct SubscriptionDialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    pub local_uri: String,
    pub remote_uri: String,
    pub remote_target: sip::Uri,
    pub route_set: Vec<String>,
    pub local_cseq: u32,
    pub target: sip::transaction::Target,
}

/// An RFC 3842 subscription to a mailbox's summary: the dialog its NOTIFYs go in.
#[derive(Clone, Debug)]
pub struct Subscription {
    pub mailbox: String,
    pub dialog: SubscriptionDialog,
    /// Unix seconds when it lapses unless refreshed.
    pub expires_unix: u64,
}

#[derive(Default)]
struct Inner {
    boxes: HashMap<String, Vec<Message>>,
    subscriptions: Vec<Subscription>,
    greetings: HashMap<String, Greeting>,
}

/// The node's mailboxes (cheap to clone: shared).
#[derive(Clone, Default)]
pub struct Mailboxes {
    inner: Arc<Mutex<Inner>>,
    changes: Option<mpsc::UnboundedSender<Change>>,
    greeting_jobs: Option<mpsc::UnboundedSender<greeting::Job>>,
}

impl Mailboxes {
    /// Mailboxes holding `messages` (loaded from the store), whose changes go to `changes`.
    pub fn new(
        messages: Vec<Message>,
        changes: Option<mpsc::UnboundedSender<Change>>,
    ) -> Mailboxes {
        let mut inner = Inner::default();
        for m in messages {
            inner.boxes.entry(m.mailbox.clone()).or_default().push(m);
        }
        for list in inner.boxes.values_mut() {
            list.sort_by_key(|m| m.at_ms);
        }
        Mailboxes {
            inner: Arc::new(Mutex::new(inner)),
            changes,
            greeting_jobs: None,
        }
    }

    /// With the greetings found at start-up, and where the engine's greeting jobs go.
    pub fn with_greetings(
        mut self,
        greetings: HashMap<String, Greeting>,
        jobs: mpsc::UnboundedSender<greeting::Job>,
    ) -> Mailboxes {
        self.with(|i| i.greetings = greetings);
        self.greeting_jobs = Some(jobs);
        self
    }

    /// The same mailboxes without the senders of their changes and jobs: for the tasks
    /// that take those in, so the channels close when everyone else is gone.
    pub fn detached(&self) -> Mailboxes {
        Mailboxes {
            inner: self.inner.clone(),
            changes: None,
            greeting_jobs: None,
        }
    }

    /// The mailbox's own greeting, if it has one.
    pub fn greeting(&self, mailbox: &str) -> Option<Arc<[i16]>> {
        self.with(|i| i.greetings.get(mailbox).map(|g| g.samples.clone()))
    }

    /// Sets or clears the mailbox's greeting; the previous one.
    pub fn set_greeting(&self, mailbox: &str, greeting: Option<Greeting>) -> Option<Greeting> {
        self.with(|i| match greeting {
            Some(g) => i.greetings.insert(mailbox.to_string(), g),
            None => i.greetings.remove(mailbox),
        })
    }

    /// Hands the greeting files a job (from the call engine, which does no I/O).
    pub fn greeting_job(&self, job: greeting::Job) {
        if let greeting::Job::Remove { mailbox } = &job {
            self.set_greeting(mailbox, None);
        }
        match &self.greeting_jobs {
            Some(tx) if tx.send(job).is_ok() => {}
            _ => tracing::error!("voicemail greeting files are not looked after"),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut inner)
    }

    fn record(&self, change: Change) {
        if let Some(tx) = &self.changes {
            if tx.send(change).is_err() {
                tracing::error!("voicemail store writer is gone; a change is not stored");
            }
        }
    }

    /// A new message in its mailbox.
    pub fn add(&self, message: Message) {
        self.with(|i| {
            i.boxes
                .entry(message.mailbox.clone())
                .or_default()
                .push(message.clone())
        });
        self.record(Change::Added(message));
    }

    /// The mailbox's messages, oldest first.
    pub fn list(&self, mailbox: &str) -> Vec<Message> {
        self.with(|i| i.boxes.get(mailbox).cloned().unwrap_or_default())
    }

    /// One message of a mailbox.
    pub fn get(&self, mailbox: &str, id: &str) -> Option<Message> {
        self.with(|i| i.boxes.get(mailbox)?.iter().find(|m| m.id == id).cloned())
    }

    /// (new, saved) counts.
    pub fn counts(&self, mailbox: &str) -> (usize, usize) {
        self.with(|i| {
            let list = i.boxes.get(mailbox).map(Vec::as_slice).unwrap_or_default();
            let new = list.iter().filter(|m| m.status == Status::New).count();
            (new, list.len() - new)
        })
    }

    /// Marks a message; `false` when there is no such message.
    pub fn set_status(&self, mailbox: &str, id: &str, status: Status) -> bool {
        let found = self.with(|i| {
            let m = i.boxes.get_mut(mailbox)?.iter_mut().find(|m| m.id == id)?;
            m.status = status;
            Some(())
        });
        if found.is_some() {
            self.record(Change::Status {
                id: id.to_string(),
                status,
            });
        }
        found.is_some()
    }

    /// Deletes a message; `false` when there is no such message.
    pub fn delete(&self, mailbox: &str, id: &str) -> bool {
        let found = self.with(|i| {
            let list = i.boxes.get_mut(mailbox)?;
            let at = list.iter().position(|m| m.id == id)?;
            list.remove(at);
            Some(())
        });
        if found.is_some() {
            self.record(Change::Deleted { id: id.to_string() });
        }
        found.is_some()
    }

    /// Adds or refreshes (same Call-ID and tags) a subscription; `expires_unix` 0 ends it.
    pub fn subscribe(&self, sub: Subscription) {
        self.with(|i| {
            i.subscriptions.retain(|s| {
                !(s.dialog.call_id == sub.dialog.call_id
                    && s.dialog.local_tag == sub.dialog.local_tag)
            });
            if sub.expires_unix > 0 {
                i.subscriptions.push(sub);
            }
        });
    }

    /// The live subscription whose dialog is (`call_id`, our `tag`).
    pub fn subscription(&self, call_id: &str, tag: &str) -> Option<Subscription> {
        self.with(|i| {
            i.subscriptions
                .iter()
                .find(|s| s.dialog.call_id == call_id && s.dialog.local_tag == tag)
                .cloned()
        })
    }

    /// The mailbox's live subscriptions, each with the CSeq of its next NOTIFY taken (in
    /// `local_cseq`); lapsed ones are dropped.
    pub fn notify_dialogs(&self, mailbox: &str, now_unix: u64) -> Vec<SubscriptionDialog> {
        self.with(|i| {
            i.subscriptions.retain(|s| s.expires_unix > now_unix);
            i.subscriptions
                .iter_mut()
                .filter(|s| s.mailbox == mailbox)
                .map(|s| {
                    s.dialog.local_cseq += 1;
                    s.dialog.clone()
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: &str, at: i64) -> Message {
        Message {
            id: id.into(),
            mailbox: "1002".into(),
            from_user: "1001".into(),
            from_name: "Alice".into(),
            at_ms: at,
            duration_ms: 4000,
            status: Status::New,
        }
    }

    #[test]
    fn messages_are_counted_marked_and_deleted() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let boxes = Mailboxes::new(vec![message("b", 2), message("a", 1)], Some(tx));
        assert_eq!(
            boxes
                .list("1002")
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(boxes.counts("1002"), (2, 0));
        assert!(boxes.set_status("1002", "a", Status::Saved));
        assert_eq!(boxes.counts("1002"), (1, 1));
        assert!(boxes.delete("1002", "b"));
        assert!(!boxes.delete("1002", "b"));
        assert_eq!(boxes.counts("1002"), (0, 1));
        assert_eq!(boxes.counts("1003"), (0, 0));
        assert!(matches!(rx.try_recv(), Ok(Change::Status { .. })));
        assert!(matches!(rx.try_recv(), Ok(Change::Deleted { .. })));
        assert_eq!(message("x", 1).file(), "voicemail/1002/x.wav");
    }
}
