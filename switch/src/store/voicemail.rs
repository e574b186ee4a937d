//! Voicemail messages' index rows (the WAVs are files), written by the mailboxes' writer
//! ([`Store::apply_voicemail`]) and loaded at start-up.

use sqlx::Row;

use super::{with_pool, Store, StoreError};
use crate::voicemail::{Change, Message, Status};

impl Store {
    /// Applies one change of the mailboxes.
    pub async fn apply_voicemail(&self, change: &Change) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            match change {
                Change::Added(m) => {
                    sqlx::query(
                        "INSERT INTO voicemail (id, mailbox, from_user, from_name, at_ms, \
                         duration_ms, status) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&m.id)
                    .bind(&m.mailbox)
                    .bind(&m.from_user)
                    .bind(&m.from_name)
                    .bind(m.at_ms)
                    .bind(m.duration_ms)
                    .bind(m.status.as_str())
                    .execute(pool)
                    .await?;
                }
                Change::Status { id, status } => {
                    sqlx::query("UPDATE voicemail SET status = $1 WHERE id = $2")
                        .bind(status.as_str())
                        .bind(id)
                        .execute(pool)
                        .await?;
                }
                Change::Deleted { id } => {
                    sqlx::query("DELETE FROM voicemail WHERE id = $1")
                        .bind(id)
                        .execute(pool)
                        .await?;
                }
            }
        });
        Ok(())
    }

    /// Every stored message, oldest first.
    pub async fn voicemail_messages(&self) -> Result<Vec<Message>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, mailbox, from_user, from_name, at_ms, duration_ms, status \
                 FROM voicemail ORDER BY at_ms, id",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Message {
                        id: r.try_get("id")?,
                        mailbox: r.try_get("mailbox")?,
                        from_user: r.try_get("from_user")?,
                        from_name: r.try_get("from_name")?,
                        at_ms: r.try_get("at_ms")?,
                        duration_ms: r.try_get("duration_ms")?,
                        status: Status::parse(&r.try_get::<String, _>("status")?),
                    })
                })
                .collect()
        })
    }
}

/// Writes the mailboxes' changes in order until every sender is gone.
pub async fn write_voicemail(store: Store, mut rx: tokio::sync::mpsc::UnboundedReceiver<Change>) {
    while let Some(change) = rx.recv().await {
        let result =
            super::writer::retrying("voicemail", 1, || store.apply_voicemail(&change)).await;
        if let Err(error) = result {
            tracing::error!(?change, %error, "voicemail change lost");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, TestDb};
    use super::*;

    backend_tests!(messages_survive_a_reload);

    async fn messages_survive_a_reload(db: &TestDb) {
        let store = &db.store;
        let m = Message {
            id: "m1".into(),
            mailbox: "1002".into(),
            from_user: "1001".into(),
            from_name: "Alice".into(),
            at_ms: 10,
            duration_ms: 4200,
            status: Status::New,
        };
        store
            .apply_voicemail(&Change::Added(m.clone()))
            .await
            .unwrap();
        store
            .apply_voicemail(&Change::Status {
                id: "m1".into(),
                status: Status::Saved,
            })
            .await
            .unwrap();
        let loaded = store.voicemail_messages().await.unwrap();
        assert_eq!(
            loaded,
            vec![Message {
                status: Status::Saved,
                ..m
            }]
        );
        store
            .apply_voicemail(&Change::Deleted { id: "m1".into() })
            .await
            .unwrap();
        assert!(store.voicemail_messages().await.unwrap().is_empty());
    }
}
