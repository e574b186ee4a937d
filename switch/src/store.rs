//! The switch's persistent store: one handle over SQLite (default, a file in the data
//! directory) or PostgreSQL (shared by several nodes).
//!
//! Queries are plain runtime SQL (`sqlx::query` with binds) written once in the dialect
//! both engines accept (`$1` placeholders, standard types), and run against whichever pool
//! the URL opened; only the DDL in `migrations` differs per engine. The schema is
//! created and upgraded at [`Store::open`], recorded in `schema_version`.
//!
//! CDRs are written off the call path through [`CdrWriter`]: calls hand finished records
//! to a [`CdrSink`] and never wait for the database. The ACD's records (agent state
//! history, interaction events) go the same way through [`AcdRecordWriter`]; queue and
//! agent configurations changed over REST are kept in `acd` ([`StoredAcd`]).

mod accounts;
mod acd;
mod acd_writer;
mod cdr;
mod chat;
mod chat_files;
mod documents;
mod email;
mod email_drafts;
mod im;
mod migrations;
mod recording;
mod voicemail;
mod writer;

use thiserror::Error;

pub use accounts::{AuditRecord, StoredToken};
pub use acd::{InteractionEvent, StateHistoryEntry, StoredAcd};
pub use acd_writer::AcdRecordWriter;
pub use cdr::Cdr;
pub use chat::{StoredChat, StoredMessage};
pub use chat_files::{StoredAttachment, StoredTemplate};
pub use email::{Fetched, NewThread, StoredEmail, StoredEmailFile, StoredThread};
pub use email_drafts::StoredDraft;
pub use im::{StoredIm, StoredImMessage, StoredParty};
pub use recording::Recording;
pub use voicemail::write_voicemail;
pub use writer::{CdrSink, CdrWriter};

// Connecting (pool sizes, SQLite pragmas, directory creation) is the dialer store's
// `connect`: one pool per node serves the switch's tables and the dialer's.
pub use dialer::store::{redact_url, Backend, Pool};

/// A handle to the database. Cheap to clone (the pool is shared); all clones see the same
/// connections, and [`Store::close`] closes them for all.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
}

/// Runs `$body` with `$pool` bound to the concrete pool; the body is compiled once per
/// engine, so binds and row decoding are checked against each driver.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            $crate::store::Pool::Sqlite($pool) => $body,
            $crate::store::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    ///
    /// - `sqlite://path/to/file.db` (or `sqlite:path`): the file and its parent directory
    ///   are created if missing; WAL journal, `synchronous=NORMAL`, foreign keys on.
    ///   `sqlite::memory:` gives a private in-memory database (tests).
    /// - `postgres://user:pass@host:port/db` (or `postgresql://`): the database must exist.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        let pool = dialer::store::connect(url)
            .await
            .map_err(StoreError::from)?;
        let store = Store { pool };
        let version = migrations::run(&store).await?;
        tracing::info!(
            backend = ?store.backend(),
            url = %redact_url(url),
            schema_version = version,
            "database open"
        );
        Ok(store)
    }

    /// The engine behind this store.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The pool, for modules that keep their own tables.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The schema version the database is at.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrations::current_version(self).await
    }

    /// Waits for in-flight queries, then closes every connection (SQLite checkpoints its
    /// WAL into the main file as the last one closes). Later queries fail with
    /// `PoolClosed`. Idempotent.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }

    /// Whether [`Store::close`] has been called.
    pub fn is_closed(&self) -> bool {
        with_pool!(self, pool => pool.is_closed())
    }
}

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unsupported database URL \"{0}\" (expected sqlite://PATH or postgres://...)")]
    UnsupportedUrl(String),
    #[error("cannot create the database directory {}: {source}", path.display())]
    CreateDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot migrate the database to schema version {version}: {source}")]
    Migrate { version: i64, source: sqlx::Error },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds an invalid {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

impl From<dialer::StoreError> for StoreError {
    /// Errors of [`dialer::store::connect`], the only dialer call the switch's store makes.
    fn from(e: dialer::StoreError) -> Self {
        match e {
            dialer::StoreError::UnsupportedUrl(u) => StoreError::UnsupportedUrl(u),
            dialer::StoreError::CreateDir { path, source } => {
                StoreError::CreateDir { path, source }
            }
            dialer::StoreError::Open { url, source } => StoreError::Open { url, source },
            dialer::StoreError::Query(e) => StoreError::Query(e),
            other => StoreError::Corrupt {
                what: "connection",
                detail: other.to_string(),
            },
        }
    }
}

impl StoreError {
    /// True when the database refused the statement itself (constraint, bad value), as
    /// opposed to the connection failing: retrying the same data will not help.
    pub fn is_rejected(&self) -> bool {
        matches!(self, StoreError::Query(sqlx::Error::Database(_)))
    }
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://user:secret@db:5432/switch"),
            "postgres://user:***@db:5432/switch"
        );
        assert_eq!(
            redact_url("postgres://user@db/switch"),
            "postgres://user@db/switch"
        );
        assert_eq!(
            redact_url("postgres://u:p@ss@db/x?sslmode=require"),
            "postgres://u:***@db/x?sslmode=require"
        );
        assert_eq!(redact_url("postgres://db/x?u=a@b"), "postgres://db/x?u=a@b");
        assert_eq!(
            redact_url("sqlite://./data/switch.db"),
            "sqlite://./data/switch.db"
        );
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
    }

    #[tokio::test]
    async fn rejects_unknown_schemes() {
        let err = Store::open("mysql://u:pw@h/db").await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "unsupported database URL \"mysql://u:***@h/db\" (expected sqlite://PATH or postgres://...)"
        );
    }

    #[tokio::test]
    async fn in_memory_sqlite_works() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        assert_eq!(store.backend(), Backend::Sqlite);
        assert_eq!(store.count_cdrs().await.unwrap(), 0);
        store.close().await;
        assert!(store.is_closed());
    }

    #[tokio::test]
    async fn sqlite_file_uses_wal() {
        let db = testing::TestDb::sqlite().await;
        let Pool::Sqlite(pool) = db.store.pool() else {
            panic!("expected SQLite");
        };
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(sync, 1, "NORMAL");
        db.cleanup().await;
    }
}
