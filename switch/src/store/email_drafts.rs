//! The agent's unsent reply to an e-mail thread: one per thread and agent, saved by the
//! desktop when the agent leaves the editor and given back with the thread, removed once
//! the reply is sent (or the agent's work on the thread ends).

use super::{with_pool, Store, StoreError};
use serde::Serialize;
use sqlx::Row;

/// A draft as kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredDraft {
    /// `quick`, `standard` or `all`.
    pub kind: String,
    pub text: String,
    pub html: String,
    pub cc: Vec<String>,
    pub saved_ms: i64,
}

impl Store {
    /// Keep `draft` as `agent`'s draft of `thread` (replacing the one before).
    pub async fn save_email_draft(
        &self,
        thread: u64,
        agent: &str,
        draft: &StoredDraft,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO email_drafts (thread, agent, kind, text_body, html_body, cc_addrs, \
                 saved_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (thread, agent) DO UPDATE SET kind = $3, text_body = $4, \
                 html_body = $5, cc_addrs = $6, saved_ms = $7",
            )
            .bind(thread as i64)
            .bind(agent)
            .bind(&draft.kind)
            .bind(&draft.text)
            .bind(&draft.html)
            .bind(draft.cc.join(", "))
            .bind(draft.saved_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn email_draft(
        &self,
        thread: u64,
        agent: &str,
    ) -> Result<Option<StoredDraft>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT kind, text_body, html_body, cc_addrs, saved_ms FROM email_drafts \
                 WHERE thread = $1 AND agent = $2",
            )
            .bind(thread as i64)
            .bind(agent)
            .fetch_optional(pool)
            .await?;
            let Some(r) = row else { return Ok(None) };
            let cc: String = r.try_get("cc_addrs")?;
            Ok(Some(StoredDraft {
                kind: r.try_get("kind")?,
                text: r.try_get("text_body")?,
                html: r.try_get("html_body")?,
                cc: cc
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect(),
                saved_ms: r.try_get("saved_ms")?,
            }))
        })
    }

    pub async fn delete_email_draft(&self, thread: u64, agent: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM email_drafts WHERE thread = $1 AND agent = $2")
                .bind(thread as i64)
                .bind(agent)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{backend_tests, TestDb};
    use crate::store::NewThread;

    backend_tests!(a_draft_is_kept_per_agent_replaced_and_removed);

    async fn a_draft_is_kept_per_agent_replaced_and_removed(db: &TestDb) {
        let s = &db.store;
        let new = NewThread {
            mailbox: "support",
            queue: "8100",
            customer: "ada@example.org",
            customer_name: "Ada",
            subject: "Help",
        };
        let t = s.insert_thread(&new, 1_000).await.unwrap();
        assert_eq!(s.email_draft(t, "1001").await.unwrap(), None);
        let mut d = StoredDraft {
            kind: "standard".into(),
            text: String::new(),
            html: "<p><b>Dear</b> Ada</p>".into(),
            cc: vec!["boss@example.org".into(), "cfo@example.org".into()],
            saved_ms: 2_000,
        };
        s.save_email_draft(t, "1001", &d).await.unwrap();
        assert_eq!(s.email_draft(t, "1001").await.unwrap(), Some(d.clone()));
        assert_eq!(s.email_draft(t, "1002").await.unwrap(), None);
        d.kind = "quick".into();
        d.text = "Thanks".into();
        d.cc.clear();
        d.saved_ms = 3_000;
        s.save_email_draft(t, "1001", &d).await.unwrap();
        assert_eq!(s.email_draft(t, "1001").await.unwrap(), Some(d));
        s.delete_email_draft(t, "1001").await.unwrap();
        assert_eq!(s.email_draft(t, "1001").await.unwrap(), None);
    }
}
