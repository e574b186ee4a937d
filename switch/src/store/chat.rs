//! Web chats and their transcripts: one row per chat (queue, customer, agent, times,
//! wrap-up codes) and one per message (sender's name, role, text, time), in the order they
//! were written. Texts arrive here already checked and masked by the chat service.

use super::{with_pool, Store, StoreError};
use serde::Serialize;
use sqlx::Row;

/// A chat as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredChat {
    pub id: u64,
    pub queue: String,
    pub customer: String,
    pub agent: Option<String>,
    pub started_ms: i64,
    pub ended_ms: Option<i64>,
    pub wrap_up: Vec<String>,
}

/// A transcript line as stored; `role` is `customer`, `agent` or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredMessage {
    pub sender: String,
    pub role: String,
    pub text: String,
    pub at_ms: i64,
}

/// Ids are u64 (the shard-tagged interaction ids); the columns are signed 64-bit.
fn db_id(id: u64) -> i64 {
    id as i64
}

impl Store {
    /// A new chat, waiting in `queue`.
    pub async fn insert_chat(
        &self,
        id: u64,
        queue: &str,
        customer: &str,
        started_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("INSERT INTO chats (id, queue, customer, started_ms) VALUES ($1, $2, $3, $4)")
                .bind(db_id(id))
                .bind(queue)
                .bind(customer)
                .bind(started_ms)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The agent who accepted the chat.
    pub async fn set_chat_agent(&self, id: u64, agent: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE chats SET agent = $1 WHERE id = $2")
                .bind(agent)
                .bind(db_id(id))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn end_chat(&self, id: u64, ended_ms: i64) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE chats SET ended_ms = $1 WHERE id = $2 AND ended_ms IS NULL")
                .bind(ended_ms)
                .bind(db_id(id))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn set_chat_wrap_up(&self, id: u64, codes: &[String]) -> Result<(), StoreError> {
        let json = serde_json::to_string(codes).map_err(|e| StoreError::Corrupt {
            what: "wrap-up codes",
            detail: e.to_string(),
        })?;
        with_pool!(self, pool => {
            sqlx::query("UPDATE chats SET wrap_up = $1 WHERE id = $2")
                .bind(json)
                .bind(db_id(id))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Appends a line to the chat's transcript.
    pub async fn insert_chat_message(
        &self,
        chat: u64,
        m: &StoredMessage,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO chat_messages (chat, sender, role, body, at_ms) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(db_id(chat))
            .bind(&m.sender)
            .bind(&m.role)
            .bind(&m.text)
            .bind(m.at_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn chat(&self, id: u64) -> Result<Option<StoredChat>, StoreError> {
        let row = with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT id, queue, customer, agent, started_ms, ended_ms, wrap_up FROM chats WHERE id = $1",
            )
            .bind(db_id(id))
            .fetch_optional(pool)
            .await?;
            match row {
                None => None,
                Some(r) => Some((
                    r.try_get::<i64, _>("id")?,
                    r.try_get::<String, _>("queue")?,
                    r.try_get::<String, _>("customer")?,
                    r.try_get::<Option<String>, _>("agent")?,
                    r.try_get::<i64, _>("started_ms")?,
                    r.try_get::<Option<i64>, _>("ended_ms")?,
                    r.try_get::<Option<String>, _>("wrap_up")?,
                )),
            }
        });
        let Some((id, queue, customer, agent, started_ms, ended_ms, wrap_up)) = row else {
            return Ok(None);
        };
        let wrap_up = match wrap_up {
            None => Vec::new(),
            Some(text) => serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                what: "wrap-up codes",
                detail: e.to_string(),
            })?,
        };
        Ok(Some(StoredChat {
            id: id as u64,
            queue,
            customer,
            agent,
            started_ms,
            ended_ms,
            wrap_up,
        }))
    }

    /// The chat's transcript, in the order it was written.
    pub async fn chat_messages(&self, chat: u64) -> Result<Vec<StoredMessage>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT sender, role, body, at_ms FROM chat_messages WHERE chat = $1 ORDER BY id",
            )
            .bind(db_id(chat))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(StoredMessage {
                        sender: r.try_get("sender")?,
                        role: r.try_get("role")?,
                        text: r.try_get("body")?,
                        at_ms: r.try_get("at_ms")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// The highest chat id stored (new ids continue after it, so transcripts of earlier
    /// runs keep theirs).
    pub async fn max_chat_id(&self) -> Result<Option<u64>, StoreError> {
        let max: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(id) FROM chats").fetch_one(pool).await?
        });
        Ok(max.map(|m| m as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, TestDb};
    use super::*;

    backend_tests!(transcript_round_trips_in_order, chats_survive_reopen);

    fn line(sender: &str, role: &str, text: &str, at_ms: i64) -> StoredMessage {
        StoredMessage {
            sender: sender.into(),
            role: role.into(),
            text: text.into(),
            at_ms,
        }
    }

    async fn transcript_round_trips_in_order(db: &TestDb) {
        let s = &db.store;
        let id = (7u64 << 8) | 0xff;
        s.insert_chat(id, "8000", "Ann", 1000).await.unwrap();
        assert_eq!(s.max_chat_id().await.unwrap(), Some(id));
        s.insert_chat_message(id, &line("Ann", "customer", "hello", 1001))
            .await
            .unwrap();
        s.set_chat_agent(id, "1001").await.unwrap();
        s.insert_chat_message(id, &line("Demo User 1001", "agent", "hi Ann", 1001))
            .await
            .unwrap();
        s.end_chat(id, 2000).await.unwrap();
        s.end_chat(id, 3000).await.unwrap();
        s.set_chat_wrap_up(id, &["Sale".into(), "Complaint".into()])
            .await
            .unwrap();
        let chat = s.chat(id).await.unwrap().unwrap();
        assert_eq!(chat.agent.as_deref(), Some("1001"));
        assert_eq!(chat.ended_ms, Some(2000), "the first end counts");
        assert_eq!(chat.wrap_up, vec!["Sale".to_string(), "Complaint".into()]);
        let lines = s.chat_messages(id).await.unwrap();
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["hello", "hi Ann"],
            "same timestamp: written order"
        );
        assert_eq!(lines[1].role, "agent");
        assert!(s.chat(1).await.unwrap().is_none());
        assert!(s.chat_messages(1).await.unwrap().is_empty());
    }

    async fn chats_survive_reopen(db: &TestDb) {
        db.store.insert_chat(511, "8000", "Bo", 5).await.unwrap();
        db.store
            .insert_chat_message(511, &line("Bo", "customer", "**** 1111", 6))
            .await
            .unwrap();
        let again = Store::open(&db.url).await.unwrap();
        assert_eq!(again.max_chat_id().await.unwrap(), Some(511));
        assert_eq!(again.chat_messages(511).await.unwrap()[0].text, "**** 1111");
        again.close().await;
    }
}
