//! Chat attachments' index (the bytes are files in the data directory), the digest of each
//! chat's customer token, and the predefined responses (templates) administrators keep.

use super::{with_pool, Store, StoreError};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// A template as stored and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTemplate {
    pub id: i64,
    pub title: String,
    pub text: String,
    /// Queue DNs it applies to; empty: all (a global template).
    pub queues: Vec<String>,
    pub updated_ms: i64,
}

/// One attachment as indexed: who sent it, its checked name, extension and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAttachment {
    /// Random hex id; also the file's name under `data_dir/attachments/`.
    pub id: String,
    pub chat: u64,
    pub sender: String,
    pub role: String,
    pub name: String,
    pub ext: String,
    pub size: u64,
    pub at_ms: i64,
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt {
        what: "template queues",
        detail: e.to_string(),
    }
}

impl Store {
    pub async fn insert_attachment(&self, a: &StoredAttachment) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO chat_attachments (id, chat, sender, role, name, ext, size, at_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&a.id)
            .bind(a.chat as i64)
            .bind(&a.sender)
            .bind(&a.role)
            .bind(&a.name)
            .bind(&a.ext)
            .bind(a.size as i64)
            .bind(a.at_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A chat's attachments, oldest first.
    pub async fn attachments(&self, chat: u64) -> Result<Vec<StoredAttachment>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, chat, sender, role, name, ext, size, at_ms FROM chat_attachments \
                 WHERE chat = $1 ORDER BY at_ms, id",
            )
            .bind(chat as i64)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(StoredAttachment {
                        id: r.try_get("id")?,
                        chat: r.try_get::<i64, _>("chat")? as u64,
                        sender: r.try_get("sender")?,
                        role: r.try_get("role")?,
                        name: r.try_get("name")?,
                        ext: r.try_get("ext")?,
                        size: r.try_get::<i64, _>("size")? as u64,
                        at_ms: r.try_get("at_ms")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// Keeps the digest of a chat's customer token.
    pub async fn set_chat_token(&self, chat: u64, digest: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE chats SET customer_token = $1 WHERE id = $2")
                .bind(digest)
                .bind(chat as i64)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The digest of a chat's customer token (`None`: no such chat, or none kept).
    pub async fn chat_token(&self, chat: u64) -> Result<Option<String>, StoreError> {
        let digest: Option<Option<String>> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT customer_token FROM chats WHERE id = $1")
                .bind(chat as i64)
                .fetch_optional(pool)
                .await?
        });
        Ok(digest.flatten())
    }

    /// A new template; returns its id.
    pub async fn insert_template(
        &self,
        title: &str,
        text: &str,
        queues: &[String],
        updated_ms: i64,
    ) -> Result<i64, StoreError> {
        let queues = serde_json::to_string(queues).map_err(corrupt)?;
        let id: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO chat_templates (title, body, queues, updated_ms) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(title)
            .bind(text)
            .bind(&queues)
            .bind(updated_ms)
            .fetch_one(pool)
            .await?
        });
        Ok(id)
    }

    /// Replaces a template; `false` when there is none with that id.
    pub async fn update_template(&self, t: &StoredTemplate) -> Result<bool, StoreError> {
        let queues = serde_json::to_string(&t.queues).map_err(corrupt)?;
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE chat_templates SET title = $1, body = $2, queues = $3, updated_ms = $4 \
                 WHERE id = $5",
            )
            .bind(&t.title)
            .bind(&t.text)
            .bind(&queues)
            .bind(t.updated_ms)
            .bind(t.id)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n > 0)
    }

    /// Deletes a template; `false` when there is none with that id.
    pub async fn delete_template(&self, id: i64) -> Result<bool, StoreError> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM chat_templates WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Every template, by id.
    pub async fn templates(&self) -> Result<Vec<StoredTemplate>, StoreError> {
        let rows: Vec<(i64, String, String, String, i64)> = with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, title, body, queues, updated_ms FROM chat_templates ORDER BY id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("id")?,
                        r.try_get("title")?,
                        r.try_get("body")?,
                        r.try_get("queues")?,
                        r.try_get("updated_ms")?,
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        });
        rows.into_iter()
            .map(|(id, title, text, queues, updated_ms)| {
                Ok(StoredTemplate {
                    id,
                    title,
                    text,
                    queues: serde_json::from_str(&queues).map_err(corrupt)?,
                    updated_ms,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, TestDb};
    use super::*;

    backend_tests!(attachments_are_indexed_per_chat, templates_round_trip);

    async fn attachments_are_indexed_per_chat(db: &TestDb) {
        let s = &db.store;
        let id = (3u64 << 8) | 0xff;
        s.insert_chat(id, "8000", "Ann", 1).await.unwrap();
        let a = |n: &str, at: i64| StoredAttachment {
            id: format!("{n:0>32}"),
            chat: id,
            sender: "Ann".into(),
            role: "customer".into(),
            name: format!("{n}.pdf"),
            ext: "pdf".into(),
            size: 1234,
            at_ms: at,
        };
        s.insert_attachment(&a("b", 20)).await.unwrap();
        s.insert_attachment(&a("a", 10)).await.unwrap();
        assert!(
            s.insert_attachment(&a("a", 10)).await.is_err(),
            "ids are unique"
        );
        let got = s.attachments(id).await.unwrap();
        assert_eq!(got, vec![a("a", 10), a("b", 20)]);
        assert!(s.attachments(1).await.unwrap().is_empty());
        assert_eq!(s.chat_token(id).await.unwrap(), None);
        s.set_chat_token(id, "d1g3st").await.unwrap();
        assert_eq!(s.chat_token(id).await.unwrap().as_deref(), Some("d1g3st"));
        assert_eq!(s.chat_token(1).await.unwrap(), None, "no such chat");
        let again = Store::open(&db.url).await.unwrap();
        assert_eq!(again.attachments(id).await.unwrap().len(), 2, "kept");
        assert!(again.chat_token(id).await.unwrap().is_some(), "kept");
        again.close().await;
    }

    async fn templates_round_trip(db: &TestDb) {
        let s = &db.store;
        let a = s
            .insert_template("Greeting", "Hello {customer}", &[], 1)
            .await
            .unwrap();
        let b = s
            .insert_template("Refunds", "5 days", &["8000".into()], 2)
            .await
            .unwrap();
        assert_ne!(a, b);
        let mut all = s.templates().await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].queues, vec!["8000".to_string()]);
        all[0].text = "Hi {customer}".into();
        assert!(s.update_template(&all[0]).await.unwrap());
        assert_eq!(s.templates().await.unwrap()[0].text, "Hi {customer}");
        assert!(s.delete_template(b).await.unwrap());
        assert!(!s.delete_template(b).await.unwrap());
        let gone = StoredTemplate {
            id: b,
            ..all[0].clone()
        };
        assert!(!s.update_template(&gone).await.unwrap());
        assert_eq!(s.templates().await.unwrap().len(), 1);
    }
}
