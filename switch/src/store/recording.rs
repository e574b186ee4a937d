//! The index of call recordings: one row per recording (the WAV itself is a file in the
//! data directory's `recordings/`), written when the recording ends.

use serde::Serialize;
use sqlx::Row;

use super::{with_pool, Store, StoreError};

/// One finished recording of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recording {
    pub id: String,
    /// The call's id, as the call list and the CDRs name it.
    pub call_id: String,
    pub from_user: String,
    pub to_user: String,
    /// The ACD agent of the call, when it had one.
    pub agent: Option<String>,
    pub started_ms: i64,
    pub ended_ms: i64,
    /// The WAV's file name in the recordings directory.
    pub file: String,
}

const INSERT: &str = "INSERT INTO recordings (id, call_id, from_user, to_user, agent, \
     started_ms, ended_ms, file) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const COLUMNS: &str = "id, call_id, from_user, to_user, agent, started_ms, ended_ms, file";

impl Store {
    /// Stores the index rows of finished recordings, all or none.
    pub async fn insert_recordings(&self, rows: &[Recording]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for r in rows {
                sqlx::query(INSERT)
                    .bind(&r.id)
                    .bind(&r.call_id)
                    .bind(&r.from_user)
                    .bind(&r.to_user)
                    .bind(&r.agent)
                    .bind(r.started_ms)
                    .bind(r.ended_ms)
                    .bind(&r.file)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Recordings newest first, at most `limit` after `offset`.
    pub async fn list_recordings(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Recording>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings ORDER BY started_ms DESC, id DESC LIMIT $1 OFFSET $2"
        );
        with_pool!(self, pool => {
            let rows = sqlx::query(&sql)
                .bind(limit.max(0))
                .bind(offset.max(0))
                .fetch_all(pool)
                .await?;
            rows.iter().map(|row| Ok(Recording {
                id: row.try_get("id")?,
                call_id: row.try_get("call_id")?,
                from_user: row.try_get("from_user")?,
                to_user: row.try_get("to_user")?,
                agent: row.try_get("agent")?,
                started_ms: row.try_get("started_ms")?,
                ended_ms: row.try_get("ended_ms")?,
                file: row.try_get("file")?,
            })).collect()
        })
    }

    /// One recording's index row.
    pub async fn recording(&self, id: &str) -> Result<Option<Recording>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM recordings WHERE id = $1");
        with_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
            row.map(|row| Ok(Recording {
                id: row.try_get("id")?,
                call_id: row.try_get("call_id")?,
                from_user: row.try_get("from_user")?,
                to_user: row.try_get("to_user")?,
                agent: row.try_get("agent")?,
                started_ms: row.try_get("started_ms")?,
                ended_ms: row.try_get("ended_ms")?,
                file: row.try_get("file")?,
            })).transpose()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{backend_tests, TestDb};
    use super::*;

    backend_tests!(recordings_are_indexed_newest_first);

    async fn recordings_are_indexed_newest_first(db: &TestDb) {
        let store = &db.store;
        let row = |id: &str, at: i64| Recording {
            id: id.into(),
            call_id: format!("call-{id}"),
            from_user: "1001".into(),
            to_user: "8000".into(),
            agent: Some("a1".into()),
            started_ms: at,
            ended_ms: at + 5000,
            file: format!("{id}.wav"),
        };
        store
            .insert_recordings(&[row("r1", 1000), row("r2", 2000)])
            .await
            .unwrap();
        let listed = store.list_recordings(10, 0).await.unwrap();
        assert_eq!(
            listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["r2", "r1"]
        );
        assert_eq!(store.recording("r1").await.unwrap(), Some(row("r1", 1000)));
        assert_eq!(store.recording("nope").await.unwrap(), None);
        // The same id twice is refused whole.
        assert!(store
            .insert_recordings(&[row("r3", 3000), row("r1", 1)])
            .await
            .is_err());
        assert_eq!(store.list_recordings(10, 0).await.unwrap().len(), 2);
    }
}
