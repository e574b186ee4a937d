//! E-mail threads: one row per thread (the customer's address and name, its mailbox and
//! queue, open or closed, the agent who has it), one per message in or out (headers that
//! thread it, bodies already masked, where an inbound one was fetched, an outbound one's
//! place in the outbox), and an index of attachments (the bytes are files under
//! `data_dir/email/`).

use super::{with_pool, Store, StoreError};
use serde::Serialize;
use sqlx::Row;

/// A thread as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredThread {
    pub id: u64,
    pub mailbox: String,
    pub queue: String,
    pub customer: String,
    pub customer_name: String,
    pub subject: String,
    /// `open` or `closed`.
    pub state: String,
    /// The agent who has (or last had) it; empty before one accepts it.
    pub agent: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEmail {
    pub id: u64,
    pub thread: u64,
    /// `in` (from the customer) or `out` (a reply).
    pub direction: String,
    pub message_id: String,
    pub in_reply_to: String,
    /// The References header's ids, space-separated.
    pub references: String,
    pub from: String,
    pub from_name: String,
    /// Addresses, comma-separated.
    pub to: String,
    pub cc: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub at_ms: i64,
    /// `received`, or for replies `queued`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub next_attempt_ms: Option<i64>,
    pub error: String,
    /// The agent who wrote a reply.
    pub agent: String,
    /// An inbound mail's raw bytes: the id of their file under `data_dir/email/`, empty
    /// when not kept (a reply, or a mail that held a card number).
    #[serde(skip)]
    pub original: String,
}

/// Where an inbound mail was fetched: its mailbox's UIDVALIDITY and its UID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    pub uidvalidity: u32,
    pub uid: u32,
}

/// An attachment as indexed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEmailFile {
    /// Random hex id; also the file's name under `data_dir/email/`.
    pub id: String,
    pub message: u64,
    pub name: String,
    pub content_type: String,
    pub size: u64,
    /// Its Content-ID for an inline image (`cid:`), else empty.
    pub content_id: String,
}

const THREAD: &str = "SELECT id, mailbox, queue, customer, customer_name, subject, state, \
    agent, created_ms, updated_ms FROM email_threads";
const MESSAGE: &str = "SELECT id, thread, direction, message_id, in_reply_to, refs, from_addr, \
    from_name, to_addrs, cc_addrs, subject, text_body, html_body, at_ms, status, attempts, \
    next_attempt_ms, error, agent, original FROM email_messages";

fn thread_of<R: Row>(r: &R) -> Result<StoredThread, sqlx::Error>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'q> i64: sqlx::Decode<'q, R::Database> + sqlx::Type<R::Database>,
    for<'q> String: sqlx::Decode<'q, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredThread {
        id: r.try_get::<i64, _>("id")? as u64,
        mailbox: r.try_get("mailbox")?,
        queue: r.try_get("queue")?,
        customer: r.try_get("customer")?,
        customer_name: r.try_get("customer_name")?,
        subject: r.try_get("subject")?,
        state: r.try_get("state")?,
        agent: r.try_get("agent")?,
        created_ms: r.try_get("created_ms")?,
        updated_ms: r.try_get("updated_ms")?,
    })
}

fn message_of<R: Row>(r: &R) -> Result<StoredEmail, sqlx::Error>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'q> i64: sqlx::Decode<'q, R::Database> + sqlx::Type<R::Database>,
    for<'q> Option<i64>: sqlx::Decode<'q, R::Database> + sqlx::Type<R::Database>,
    for<'q> String: sqlx::Decode<'q, R::Database> + sqlx::Type<R::Database>,
{
    Ok(StoredEmail {
        id: r.try_get::<i64, _>("id")? as u64,
        thread: r.try_get::<i64, _>("thread")? as u64,
        direction: r.try_get("direction")?,
        message_id: r.try_get("message_id")?,
        in_reply_to: r.try_get("in_reply_to")?,
        references: r.try_get("refs")?,
        from: r.try_get("from_addr")?,
        from_name: r.try_get("from_name")?,
        to: r.try_get("to_addrs")?,
        cc: r.try_get("cc_addrs")?,
        subject: r.try_get("subject")?,
        text: r.try_get("text_body")?,
        html: r.try_get("html_body")?,
        at_ms: r.try_get("at_ms")?,
        status: r.try_get("status")?,
        attempts: r.try_get::<i64, _>("attempts")? as u32,
        next_attempt_ms: r.try_get("next_attempt_ms")?,
        error: r.try_get("error")?,
        agent: r.try_get("agent")?,
        original: r.try_get("original")?,
    })
}

/// What a new thread starts with.
pub struct NewThread<'a> {
    pub mailbox: &'a str,
    pub queue: &'a str,
    pub customer: &'a str,
    pub customer_name: &'a str,
    pub subject: &'a str,
}

impl Store {
    /// Whether the mail at `at` of `mailbox` is stored already (fetched before a crash).
    pub async fn email_fetched(&self, mailbox: &str, at: Fetched) -> Result<bool, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT id FROM email_messages WHERE mailbox = $1 AND uidvalidity = $2 AND uid = $3",
            )
            .bind(mailbox)
            .bind(i64::from(at.uidvalidity))
            .bind(i64::from(at.uid))
            .fetch_optional(pool)
            .await?;
            Ok(row.is_some())
        })
    }

    /// The open or closed thread one of `ids` (Message-IDs a mail answers) belongs to.
    pub async fn thread_of_ids(&self, ids: &[String]) -> Result<Option<u64>, StoreError> {
        for id in ids.iter().rev().filter(|i| !i.is_empty()) {
            let found: Option<i64> = with_pool!(self, pool => {
                sqlx::query("SELECT thread FROM email_messages WHERE message_id = $1 LIMIT 1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?
                    .map(|r| r.try_get::<i64, _>("thread"))
                    .transpose()?
            });
            if let Some(t) = found {
                return Ok(Some(t as u64));
            }
        }
        Ok(None)
    }

    pub async fn insert_thread(&self, t: &NewThread<'_>, now_ms: i64) -> Result<u64, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "INSERT INTO email_threads (mailbox, queue, customer, customer_name, subject, \
                 state, agent, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $5, 'open', '', $6, $6) RETURNING id",
            )
            .bind(t.mailbox)
            .bind(t.queue)
            .bind(t.customer)
            .bind(t.customer_name)
            .bind(t.subject)
            .bind(now_ms)
            .fetch_one(pool)
            .await?;
            Ok(row.try_get::<i64, _>("id")? as u64)
        })
    }

    /// Store one message of a thread with its attachments' index, in one transaction;
    /// `fetched`: where an inbound mail came from. Returns its id.
    pub async fn insert_email(
        &self,
        m: &StoredEmail,
        mailbox: &str,
        fetched: Option<Fetched>,
        files: &[StoredEmailFile],
    ) -> Result<u64, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(
                "INSERT INTO email_messages (thread, direction, mailbox, uidvalidity, uid, \
                 message_id, in_reply_to, refs, from_addr, from_name, to_addrs, cc_addrs, \
                 subject, text_body, html_body, at_ms, status, attempts, next_attempt_ms, \
                 error, agent, original) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22) RETURNING id",
            )
            .bind(m.thread as i64)
            .bind(&m.direction)
            .bind(mailbox)
            .bind(fetched.map(|f| i64::from(f.uidvalidity)))
            .bind(fetched.map(|f| i64::from(f.uid)))
            .bind(&m.message_id)
            .bind(&m.in_reply_to)
            .bind(&m.references)
            .bind(&m.from)
            .bind(&m.from_name)
            .bind(&m.to)
            .bind(&m.cc)
            .bind(&m.subject)
            .bind(&m.text)
            .bind(&m.html)
            .bind(m.at_ms)
            .bind(&m.status)
            .bind(i64::from(m.attempts))
            .bind(m.next_attempt_ms)
            .bind(&m.error)
            .bind(&m.agent)
            .bind(&m.original)
            .fetch_one(&mut *tx)
            .await?;
            let id = row.try_get::<i64, _>("id")?;
            for f in files {
                sqlx::query(
                    "INSERT INTO email_attachments (id, message, name, content_type, size, \
                     content_id) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&f.id)
                .bind(id)
                .bind(&f.name)
                .bind(&f.content_type)
                .bind(f.size as i64)
                .bind(&f.content_id)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE email_threads SET updated_ms = $1 WHERE id = $2")
                .bind(m.at_ms)
                .bind(m.thread as i64)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(id as u64)
        })
    }

    pub async fn email_thread(&self, id: u64) -> Result<Option<StoredThread>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(&format!("{THREAD} WHERE id = $1"))
                .bind(id as i64)
                .fetch_optional(pool)
                .await?;
            Ok(row.as_ref().map(thread_of).transpose()?)
        })
    }

    /// Threads still open (to route again after a restart), oldest first.
    pub async fn open_email_threads(&self) -> Result<Vec<StoredThread>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&format!("{THREAD} WHERE state = 'open' ORDER BY id"))
                .fetch_all(pool)
                .await?;
            Ok(rows.iter().map(thread_of).collect::<Result<_, _>>()?)
        })
    }

    /// A customer's threads, newest first (contact history).
    pub async fn email_threads_of(
        &self,
        customer: &str,
        limit: u32,
    ) -> Result<Vec<StoredThread>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&format!(
                "{THREAD} WHERE customer = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(customer)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            Ok(rows.iter().map(thread_of).collect::<Result<_, _>>()?)
        })
    }

    pub async fn update_email_thread(
        &self,
        id: u64,
        state: &str,
        agent: &str,
        queue: &str,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE email_threads SET state = $1, agent = $2, queue = $3, updated_ms = $4 \
                 WHERE id = $5",
            )
            .bind(state)
            .bind(agent)
            .bind(queue)
            .bind(now_ms)
            .bind(id as i64)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A thread's messages, oldest first.
    pub async fn thread_emails(&self, thread: u64) -> Result<Vec<StoredEmail>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&format!("{MESSAGE} WHERE thread = $1 ORDER BY id"))
                .bind(thread as i64)
                .fetch_all(pool)
                .await?;
            Ok(rows.iter().map(message_of).collect::<Result<_, _>>()?)
        })
    }

    pub async fn email(&self, id: u64) -> Result<Option<StoredEmail>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(&format!("{MESSAGE} WHERE id = $1"))
                .bind(id as i64)
                .fetch_optional(pool)
                .await?;
            Ok(row.as_ref().map(message_of).transpose()?)
        })
    }

    /// The outbox: replies queued whose next attempt is due by `now_ms`, oldest first.
    pub async fn due_emails(&self, now_ms: i64) -> Result<Vec<StoredEmail>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&format!(
                "{MESSAGE} WHERE status = 'queued' AND next_attempt_ms <= $1 ORDER BY id"
            ))
            .bind(now_ms)
            .fetch_all(pool)
            .await?;
            Ok(rows.iter().map(message_of).collect::<Result<_, _>>()?)
        })
    }

    /// A reply's outbox state after an attempt: `sent`, `queued` again (`next` then,
    /// `error` why not yet) or `failed`.
    pub async fn email_attempted(
        &self,
        id: u64,
        status: &str,
        attempts: u32,
        next: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE email_messages SET status = $1, attempts = $2, next_attempt_ms = $3, \
                 error = $4 WHERE id = $5",
            )
            .bind(status)
            .bind(i64::from(attempts))
            .bind(next)
            .bind(error)
            .bind(id as i64)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn email_files(&self, message: u64) -> Result<Vec<StoredEmailFile>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, message, name, content_type, size, content_id FROM email_attachments \
                 WHERE message = $1 ORDER BY name, id",
            )
            .bind(message as i64)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(StoredEmailFile {
                        id: r.try_get("id")?,
                        message: r.try_get::<i64, _>("message")? as u64,
                        name: r.try_get("name")?,
                        content_type: r.try_get("content_type")?,
                        size: r.try_get::<i64, _>("size")? as u64,
                        content_id: r.try_get("content_id")?,
                    })
                })
                .collect::<Result<_, sqlx::Error>>()
                .map_err(StoreError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{backend_tests, TestDb};

    backend_tests!(a_thread_keeps_its_mails_in_order_and_each_fetch_once);

    fn mail(thread: u64, direction: &str, message_id: &str, at_ms: i64) -> StoredEmail {
        StoredEmail {
            id: 0,
            thread,
            direction: direction.into(),
            message_id: message_id.into(),
            in_reply_to: String::new(),
            references: String::new(),
            from: "ada@example.org".into(),
            from_name: "Ada".into(),
            to: "support@example.com".into(),
            cc: String::new(),
            subject: "Help".into(),
            text: "Hello".into(),
            html: String::new(),
            at_ms,
            status: if direction == "in" {
                "received"
            } else {
                "queued"
            }
            .into(),
            attempts: 0,
            next_attempt_ms: (direction == "out").then_some(at_ms),
            error: String::new(),
            agent: String::new(),
            original: if direction == "in" {
                "raw1".into()
            } else {
                String::new()
            },
        }
    }

    async fn a_thread_keeps_its_mails_in_order_and_each_fetch_once(db: &TestDb) {
        let s = &db.store;
        let new = NewThread {
            mailbox: "support",
            queue: "8100",
            customer: "ada@example.org",
            customer_name: "Ada",
            subject: "Help",
        };
        let t = s.insert_thread(&new, 1_000).await.unwrap();
        let at = Fetched {
            uidvalidity: 7,
            uid: 1,
        };
        assert!(!s.email_fetched("support", at).await.unwrap());
        let file = StoredEmailFile {
            id: "ab12".into(),
            message: 0,
            name: "bill.pdf".into(),
            content_type: "application/pdf".into(),
            size: 3,
            content_id: String::new(),
        };
        let first = s
            .insert_email(
                &mail(t, "in", "<1@example.org>", 1_000),
                "support",
                Some(at),
                &[file],
            )
            .await
            .unwrap();
        assert!(s.email_fetched("support", at).await.unwrap());
        // The same fetch again (a crash before \Seen): refused by the unique index.
        assert!(s
            .insert_email(
                &mail(t, "in", "<1@example.org>", 1_000),
                "support",
                Some(at),
                &[]
            )
            .await
            .is_err());
        let reply = s
            .insert_email(
                &mail(t, "out", "<r1@example.com>", 2_000),
                "support",
                None,
                &[],
            )
            .await
            .unwrap();
        let ids = vec!["<x@y>".to_string(), "<r1@example.com>".to_string()];
        assert_eq!(s.thread_of_ids(&ids).await.unwrap(), Some(t));
        assert_eq!(s.thread_of_ids(&["<no@where>".into()]).await.unwrap(), None);
        let all = s.thread_emails(t).await.unwrap();
        assert_eq!(
            all.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![first, reply]
        );
        assert_eq!(s.email_files(first).await.unwrap()[0].name, "bill.pdf");
        assert_eq!(all[0].original, "raw1");
        assert_eq!(all[1].original, "");
        // The outbox.
        assert_eq!(s.due_emails(1_999).await.unwrap().len(), 0);
        assert_eq!(s.due_emails(2_000).await.unwrap()[0].id, reply);
        s.email_attempted(reply, "queued", 1, Some(5_000), "connection refused")
            .await
            .unwrap();
        assert!(s.due_emails(4_999).await.unwrap().is_empty());
        s.email_attempted(reply, "sent", 2, None, "").await.unwrap();
        assert_eq!(s.email(reply).await.unwrap().unwrap().status, "sent");
        assert!(s.due_emails(i64::MAX).await.unwrap().is_empty());
        // Open threads and history.
        assert_eq!(s.open_email_threads().await.unwrap().len(), 1);
        s.update_email_thread(t, "closed", "1001", "8100", 3_000)
            .await
            .unwrap();
        assert!(s.open_email_threads().await.unwrap().is_empty());
        let history = s.email_threads_of("ada@example.org", 10).await.unwrap();
        assert_eq!(
            (history[0].state.as_str(), history[0].agent.as_str()),
            ("closed", "1001")
        );
    }
}
