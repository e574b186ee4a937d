//! The dialer's persistent store: campaigns, records, attempts and DNC lists, over SQLite
//! (default, one file) or PostgreSQL (shared by several nodes).
//!
//! Like the switch's store, queries are plain runtime SQL written once in the dialect
//! both engines accept (`$1` placeholders, `ON CONFLICT`, `RETURNING`) and run against
//! whichever pool the URL opened; only the DDL in `migrations` differs, and the lease
//! query adds `FOR UPDATE SKIP LOCKED` on PostgreSQL. Tables are prefixed `dialer_` and
//! versioned in `dialer_schema_version`, so the dialer can share a database with the
//! switch without touching its tables.
//!
//! Times are stored as unix milliseconds. Every write that must not interleave runs in
//! one transaction; on SQLite write transactions start with `BEGIN IMMEDIATE`, taking the
//! write lock up front, so two leasers never read the same candidate (and never fail
//! upgrading a read lock).

mod attempts;
mod campaigns;
mod dnc;
mod imports;
mod lease;
mod migrations;
mod records;
mod recovery;
mod stats;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use thiserror::Error;

use crate::campaign::{CampaignError, CampaignId, CampaignStatus};
use crate::phone::E164;
use crate::record::RecordId;

pub use dnc::DncEntry;
pub use imports::{BatchWritten, Duplicate, ImportCounts, ImportRow};
pub use lease::LeaseResult;
pub use stats::{AgentStats, CampaignStats, ExportRow};

/// Connections kept to a SQLite file: WAL lets readers run beside the one writer.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// Connections kept to PostgreSQL by one node.
const POSTGRES_MAX_CONNECTIONS: u32 = 16;
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long SQLite waits on the write lock held by another connection or process.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The node name of a store nobody named ([`Store::with_node`]): every node of a
/// single-node installation.
pub const DEFAULT_NODE: &str = "default";

/// A handle to the dialer's tables, for one node. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// Written on each call attempt this node makes; start-up recovery closes only its
    /// own node's attempts, so nodes sharing a database must have distinct names.
    node: Arc<str>,
}

/// Runs `$body` with `$pool` bound to the concrete pool, compiled once per engine.
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
    /// Opens `sqlite://path` (created if missing; `sqlite::memory:` for a private
    /// in-memory database) or `postgres://...` (the database must exist), and brings the
    /// dialer's tables up to date.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::from_pool(connect(url).await?).await
    }

    /// Uses a pool the switch already opened (its SQLite file or PostgreSQL database).
    /// SQLite pools should have a busy timeout, as [`Store::open`] sets.
    pub async fn from_sqlite_pool(pool: SqlitePool) -> Result<Store, StoreError> {
        Store::from_pool(Pool::Sqlite(pool)).await
    }

    pub async fn from_pg_pool(pool: PgPool) -> Result<Store, StoreError> {
        Store::from_pool(Pool::Postgres(pool)).await
    }

    /// Uses a pool opened with [`connect`] by someone else (the switch shares its own), and
    /// brings the dialer's tables up to date.
    pub async fn from_pool(pool: Pool) -> Result<Store, StoreError> {
        let store = Store {
            pool,
            node: Arc::from(DEFAULT_NODE),
        };
        let version = migrations::run(&store).await?;
        tracing::debug!(backend = ?store.backend(), schema_version = version, "dialer store open");
        Ok(store)
    }

    /// This store for node `node` (see [`DEFAULT_NODE`]).
    pub fn with_node(mut self, node: &str) -> Store {
        self.node = Arc::from(node);
        self
    }

    pub fn node(&self) -> &str {
        &self.node
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        migrations::current_version(self).await
    }

    /// Closes every connection of the pool (shared with whoever else holds it).
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }

    /// The statement that opens a write transaction on this engine.
    fn begin_write(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// `FOR UPDATE` on PostgreSQL (row locks); nothing on SQLite, whose write
    /// transaction already excludes other writers.
    fn for_update(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// Opens a connection pool to `sqlite://path` (the file and its directory are created if
/// missing; WAL journal, `synchronous=NORMAL`, foreign keys on, a busy timeout;
/// `sqlite::memory:` for a private in-memory database) or `postgres://...` (the database
/// must exist). The switch opens its database through this too, so both use one pool.
pub async fn connect(url: &str) -> Result<Pool, StoreError> {
    let open_error = |source| StoreError::Open {
        url: redact_url(url),
        source,
    };
    let pool = if url.starts_with("sqlite:") {
        Pool::Sqlite(open_sqlite(url).await?)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(open_error)?;
        Pool::Postgres(pool)
    } else {
        return Err(StoreError::UnsupportedUrl(redact_url(url)));
    };
    Ok(pool)
}

async fn open_sqlite(url: &str) -> Result<SqlitePool, StoreError> {
    let open_error = |source| StoreError::Open {
        url: redact_url(url),
        source,
    };
    let options = SqliteConnectOptions::from_str(url)
        .map_err(open_error)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(SQLITE_BUSY_TIMEOUT);
    if let Some(dir) = options.get_filename().parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
    }
    SqlitePoolOptions::new()
        .max_connections(SQLITE_MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options)
        .await
        .map_err(open_error)
}

/// `url` with any password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let start = scheme_end + 3;
    let rest = &url[start..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return url.to_string();
    };
    match authority[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..start],
            &authority[..colon],
            &url[start + at..]
        ),
        None => url.to_string(),
    }
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt {
            what: "timestamp",
            detail: ms.to_string(),
        })
}

/// `$first, $first+1, ...` for `n` values.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

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
    #[error("cannot migrate the dialer tables to schema version {version}: {source}")]
    Migrate { version: i64, source: sqlx::Error },
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
    #[error("the database holds an invalid {what}: {detail}")]
    Corrupt { what: &'static str, detail: String },
    #[error("no campaign {0}")]
    CampaignNotFound(CampaignId),
    #[error("no record {0}")]
    RecordNotFound(RecordId),
    #[error(transparent)]
    Campaign(#[from] CampaignError),
    #[error("campaign {campaign} is {status}, not running")]
    NotRunning {
        campaign: CampaignId,
        status: CampaignStatus,
    },
    #[error("{0} is on the do-not-call list")]
    Dnc(E164),
    #[error("record {0} is no longer leased to this agent")]
    LeaseLost(RecordId),
}

impl StoreError {
    fn corrupt(what: &'static str, detail: impl ToString) -> StoreError {
        StoreError::Corrupt {
            what,
            detail: detail.to_string(),
        }
    }
}

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
