//! Agent-to-agent IM sessions and their transcripts: one row per session (both parties,
//! the interaction an IM consult came from, status and times) and one per message
//! (sender's id and name, text, time), in the order they were written. Texts arrive here
//! already checked and masked by the IM service.

use super::{with_pool, Store, StoreError};
use serde::Serialize;
use sqlx::Row;

/// A party as stored: account id (desktop) or SIP user (phone), and the name shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredParty {
    pub id: String,
    pub name: String,
    pub phone: bool,
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredIm {
    pub id: u64,
    pub from: StoredParty,
    pub to: StoredParty,
    pub interaction: Option<u64>,
    /// `invited`, `connected`, `declined`, `timed_out` or `ended`.
    pub status: String,
    pub created_ms: i64,
    pub ended_ms: Option<i64>,
    pub ended_by: Option<String>,
}

/// One line of a session's transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredImMessage {
    /// The sender's account id or SIP user.
    pub from: String,
    /// The sender's name as shown.
    pub sender: String,
    pub text: String,
    pub at_ms: i64,
}

const SELECT: &str = "SELECT id, from_id, from_name, from_phone, to_id, to_name, to_phone, \
    interaction, status, created_ms, ended_ms, ended_by FROM im_sessions";

impl Store {
    pub async fn insert_im_session(&self, s: &StoredIm) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO im_sessions (id, from_id, from_name, from_phone, to_id, to_name, \
                 to_phone, interaction, status, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(s.id as i64)
            .bind(&s.from.id)
            .bind(&s.from.name)
            .bind(s.from.phone)
            .bind(&s.to.id)
            .bind(&s.to.name)
            .bind(s.to.phone)
            .bind(s.interaction.map(|i| i as i64))
            .bind(&s.status)
            .bind(s.created_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// The session's new status; `ended` (with `ended_ms`, `ended_by`) once over.
    pub async fn set_im_status(
        &self,
        id: u64,
        status: &str,
        ended_ms: Option<i64>,
        ended_by: Option<&str>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE im_sessions SET status = $1, ended_ms = COALESCE(ended_ms, $2), \
                 ended_by = COALESCE(ended_by, $3) WHERE id = $4",
            )
            .bind(status)
            .bind(ended_ms)
            .bind(ended_by)
            .bind(id as i64)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn insert_im_message(
        &self,
        session: u64,
        m: &StoredImMessage,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO im_messages (session, from_id, sender, body, at_ms) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session as i64)
            .bind(&m.from)
            .bind(&m.sender)
            .bind(&m.text)
            .bind(m.at_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn im_session(&self, id: u64) -> Result<Option<StoredIm>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
                .bind(id as i64)
                .fetch_optional(pool)
                .await?;
            match row {
                None => Ok(None),
                Some(r) => Ok(Some(StoredIm {
                    id: r.try_get::<i64, _>("id")? as u64,
                    from: StoredParty {
                        id: r.try_get("from_id")?,
                        name: r.try_get("from_name")?,
                        phone: r.try_get("from_phone")?,
                    },
                    to: StoredParty {
                        id: r.try_get("to_id")?,
                        name: r.try_get("to_name")?,
                        phone: r.try_get("to_phone")?,
                    },
                    interaction: r.try_get::<Option<i64>, _>("interaction")?.map(|i| i as u64),
                    status: r.try_get("status")?,
                    created_ms: r.try_get("created_ms")?,
                    ended_ms: r.try_get("ended_ms")?,
                    ended_by: r.try_get("ended_by")?,
                })),
            }
        })
    }

    /// The session's transcript, in the order it was written.
    pub async fn im_messages(&self, session: u64) -> Result<Vec<StoredImMessage>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT from_id, sender, body, at_ms FROM im_messages WHERE session = $1 ORDER BY id",
            )
            .bind(session as i64)
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(StoredImMessage {
                        from: r.try_get("from_id")?,
                        sender: r.try_get("sender")?,
                        text: r.try_get("body")?,
                        at_ms: r.try_get("at_ms")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    /// The highest session id stored (new ids continue after it).
    pub async fn max_im_id(&self) -> Result<Option<u64>, StoreError> {
        let max: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(id) FROM im_sessions").fetch_one(pool).await?
        });
        Ok(max.map(|m| m as u64))
    }

    /// At start-up: sessions a previous run left open are over (nobody holds them now).
    pub async fn end_open_im_sessions(&self, now_ms: i64) -> Result<u64, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE im_sessions SET status = 'ended', ended_ms = $1, ended_by = 'restart' \
                 WHERE status IN ('invited', 'connected')",
            )
            .bind(now_ms)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, TestDb};
    use super::*;

    backend_tests!(
        im_session_and_transcript_round_trip,
        open_sessions_end_at_restart
    );

    fn session(id: u64, to_phone: bool) -> StoredIm {
        StoredIm {
            id,
            from: StoredParty {
                id: "1001".into(),
                name: "Dana".into(),
                phone: false,
            },
            to: StoredParty {
                id: "1002".into(),
                name: "Eli".into(),
                phone: to_phone,
            },
            interaction: Some(u64::MAX - 1),
            status: "invited".into(),
            created_ms: 1000,
            ended_ms: None,
            ended_by: None,
        }
    }

    fn line(from: &str, sender: &str, text: &str, at_ms: i64) -> StoredImMessage {
        StoredImMessage {
            from: from.into(),
            sender: sender.into(),
            text: text.into(),
            at_ms,
        }
    }

    async fn im_session_and_transcript_round_trip(db: &TestDb) {
        let s = &db.store;
        assert_eq!(s.max_im_id().await.unwrap(), None);
        s.insert_im_session(&session(7, false)).await.unwrap();
        s.insert_im_message(7, &line("1001", "Dana", "hi Eli", 1000))
            .await
            .unwrap();
        s.set_im_status(7, "connected", None, None).await.unwrap();
        s.insert_im_message(7, &line("1002", "Eli", "hi Dana", 1000))
            .await
            .unwrap();
        s.set_im_status(7, "ended", Some(2000), Some("1002"))
            .await
            .unwrap();
        s.set_im_status(7, "ended", Some(3000), Some("1001"))
            .await
            .unwrap();
        let got = s.im_session(7).await.unwrap().unwrap();
        let mut want = session(7, false);
        want.status = "ended".into();
        want.ended_ms = Some(2000);
        want.ended_by = Some("1002".into());
        assert_eq!(got, want, "the first end counts");
        let lines = s.im_messages(7).await.unwrap();
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["hi Eli", "hi Dana"],
            "same timestamp: written order"
        );
        assert_eq!(lines[1].sender, "Eli");
        assert_eq!(s.max_im_id().await.unwrap(), Some(7));
        assert!(s.im_session(8).await.unwrap().is_none());
        assert!(s.im_messages(8).await.unwrap().is_empty());
    }

    async fn open_sessions_end_at_restart(db: &TestDb) {
        db.store.insert_im_session(&session(1, true)).await.unwrap();
        let mut done = session(2, false);
        done.status = "declined".into();
        db.store.insert_im_session(&done).await.unwrap();
        db.store
            .insert_im_message(1, &line("1001", "Dana", "**** 1111", 5))
            .await
            .unwrap();
        let again = Store::open(&db.url).await.unwrap();
        assert_eq!(again.end_open_im_sessions(9).await.unwrap(), 1);
        let one = again.im_session(1).await.unwrap().unwrap();
        assert_eq!(one.status, "ended");
        assert!(one.to.phone);
        assert_eq!(one.ended_by.as_deref(), Some("restart"));
        assert_eq!(
            again.im_session(2).await.unwrap().unwrap().status,
            "declined"
        );
        assert_eq!(again.im_messages(1).await.unwrap()[0].text, "**** 1111");
        again.close().await;
    }
}
