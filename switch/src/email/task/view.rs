//! The task's reads and small keeps: a thread as the desktop shows it (with the e-mail
//! queues it may go to and the agent's draft), drafts, and inbound originals.

use super::{now_ms, store_err, Phase, Task};
use crate::email::reply::{safe_rich_text, ReplyKind};
use crate::email::{DraftBody, EmailError, EmailView, MessageView, QueueRef};
use crate::store::StoredDraft;
use acd::AgentId;

/// The most Cc addresses a draft keeps.
const DRAFT_CC: usize = 50;

impl Task {
    pub(super) async fn view(
        &self,
        thread: u64,
        viewer: Option<&AgentId>,
    ) -> Result<EmailView, EmailError> {
        let t = self.thread(thread).await?;
        let mut messages = Vec::new();
        for m in self.store.thread_emails(thread).await.map_err(store_err)? {
            let files = self.store.email_files(m.id).await.map_err(store_err)?;
            messages.push(MessageView {
                has_original: !m.original.is_empty(),
                email: m,
                files,
            });
        }
        let history = self
            .store
            .email_threads_of(&t.customer, 20)
            .await
            .map_err(store_err)?
            .into_iter()
            .filter(|h| h.id != thread)
            .collect();
        let live = self.live.get(&thread);
        let (state, agent) = match live.map(|l| &l.phase) {
            Some(Phase::Queued) => ("queued", None),
            Some(Phase::Offered(a)) => ("offered", Some(a.as_str().to_string())),
            Some(Phase::Working(a)) => ("working", Some(a.as_str().to_string())),
            None => match self.owed.keys().find(|(th, _)| *th == thread) {
                Some((_, a)) => ("wrap_up", Some(a.as_str().to_string())),
                None => ("closed", Some(t.agent.clone()).filter(|a| !a.is_empty())),
            },
        };
        let queue = live.map_or(t.queue.clone(), |l| l.queue.clone());
        let reply_all_cc = self.reply_all_cc(&t.customer, &messages);
        let draft = match viewer {
            Some(a) => self
                .store
                .email_draft(thread, a.as_str())
                .await
                .map_err(store_err)?,
            None => None,
        };
        Ok(EmailView {
            interaction: live.map(|l| l.interaction),
            state,
            agent,
            queue_name: self.queue_name(&queue).await,
            wrap_up_codes: self.config.chat.codes_of(&queue).to_vec(),
            transfer_queues: self.transfer_queues(&queue).await,
            reply_all_cc,
            draft,
            messages,
            history,
            thread: t,
        })
    }

    /// Whom a reply to all adds as Cc (as `reply::build` does): the last inbound mail's
    /// other recipients, but the customer and our own addresses.
    fn reply_all_cc(&self, customer: &str, messages: &[MessageView]) -> Vec<String> {
        let Some(last) = messages.iter().rev().find(|m| m.email.direction == "in") else {
            return Vec::new();
        };
        let ours = self.rules().map(|r| r.ours).unwrap_or_default();
        let mut out: Vec<String> = Vec::new();
        for a in last.email.to.split(',').chain(last.email.cc.split(',')) {
            let a = a.trim().to_ascii_lowercase();
            if !a.is_empty()
                && !a.eq_ignore_ascii_case(customer)
                && !ours.iter().any(|o| o.eq_ignore_ascii_case(&a))
                && !out.contains(&a)
            {
                out.push(a);
            }
        }
        out
    }

    /// The other e-mail queues (fed by a mailbox, known to the ACD) a thread in `queue`
    /// may be transferred to, in the configuration's order.
    async fn transfer_queues(&self, queue: &str) -> Vec<QueueRef> {
        let mut out: Vec<QueueRef> = Vec::new();
        for m in &self.config.email.mailboxes {
            if m.queue == queue
                || out.iter().any(|q| q.dn == m.queue)
                || !self.distributor.is_queue(&m.queue)
            {
                continue;
            }
            out.push(QueueRef {
                dn: m.queue.clone(),
                name: self.queue_name(&m.queue).await,
            });
        }
        out
    }

    /// Keep (`Some`) or remove (`None`) the working agent's draft.
    pub(super) async fn draft(
        &mut self,
        agent: AgentId,
        thread: u64,
        body: Option<DraftBody>,
    ) -> Result<Option<StoredDraft>, EmailError> {
        self.working(&agent, thread)?;
        let Some(b) = body else {
            self.store
                .delete_email_draft(thread, agent.as_str())
                .await
                .map_err(store_err)?;
            return Ok(None);
        };
        if b.cc.len() > DRAFT_CC {
            return Err(EmailError::BadReply(format!(
                "a draft keeps at most {DRAFT_CC} Cc addresses"
            )));
        }
        let d = StoredDraft {
            kind: match b.kind {
                ReplyKind::Quick => "quick",
                ReplyKind::Standard => "standard",
                ReplyKind::All => "all",
            }
            .into(),
            text: b.text,
            // Given back into the editor: only what a reply may hold.
            html: safe_rich_text(&b.html),
            cc: b
                .cc
                .iter()
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect(),
            saved_ms: now_ms(),
        };
        self.store
            .save_email_draft(thread, agent.as_str(), &d)
            .await
            .map_err(store_err)?;
        Ok(Some(d))
    }

    /// The agent's work on the thread ended: their draft goes.
    pub(super) async fn drop_draft(&self, thread: u64, agent: &AgentId) {
        if let Err(e) = self.store.delete_email_draft(thread, agent.as_str()).await {
            tracing::warn!(thread, error = %e, "e-mail draft not removed");
        }
    }

    /// An inbound mail's raw bytes under `data_dir/email/raw-ID.eml` (whole, then renamed
    /// into place), before its row; returns the file's name ("" when not kept).
    pub(super) async fn keep_original(&self, raw: Option<&[u8]>) -> Result<String, EmailError> {
        let Some(raw) = raw else {
            return Ok(String::new());
        };
        let io = |e: std::io::Error| EmailError::Store(e.to_string());
        tokio::fs::create_dir_all(&self.files).await.map_err(io)?;
        let name = format!("raw-{}.eml", hex::encode(rand::random::<[u8; 12]>()));
        let tmp = self.files.join(format!("{name}.part"));
        tokio::fs::write(&tmp, raw).await.map_err(io)?;
        tokio::fs::rename(&tmp, self.files.join(&name))
            .await
            .map_err(io)?;
        Ok(name)
    }
}
