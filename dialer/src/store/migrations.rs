//! The dialer's schema, versioned in `dialer_schema_version` apart from the switch's own
//! `schema_version`. Migrations run in one transaction, on PostgreSQL under an advisory
//! lock so nodes starting together do not race. Never edit a released migration: append.
//!
//! Every integer column is `BIGINT` on PostgreSQL (decoded as `i64` on both engines);
//! JSON values (a campaign's settings, a record's numbers and fields) are `TEXT`.

use super::{with_pool, Backend, Store, StoreError};

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
}

/// DDL shared by both engines once the identity column is spelled per engine.
macro_rules! tables {
    ($id:literal) => {
        [
            concat!(
                "CREATE TABLE IF NOT EXISTS dialer_campaigns (
                    id ",
                $id,
                ",
                    name TEXT NOT NULL,
                    status TEXT NOT NULL,
                    spec TEXT NOT NULL,
                    created_ms BIGINT NOT NULL,
                    updated_ms BIGINT NOT NULL
                )"
            ),
            concat!(
                "CREATE TABLE IF NOT EXISTS dialer_records (
                    id ",
                $id,
                ",
                    campaign_id BIGINT NOT NULL REFERENCES dialer_campaigns (id) ON DELETE CASCADE,
                    external_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    time_zone TEXT,
                    phones TEXT NOT NULL,
                    fields TEXT NOT NULL,
                    status TEXT NOT NULL,
                    priority BIGINT NOT NULL,
                    next_at BIGINT,
                    agent TEXT,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    last_result TEXT,
                    updated_ms BIGINT NOT NULL,
                    UNIQUE (campaign_id, external_id)
                )"
            ),
            "CREATE INDEX IF NOT EXISTS dialer_records_due
                ON dialer_records (campaign_id, priority, next_at, id) WHERE next_at IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS dialer_records_status
                ON dialer_records (campaign_id, status)",
            "CREATE INDEX IF NOT EXISTS dialer_records_leases
                ON dialer_records (next_at) WHERE status IN ('leased', 'dialling')",
            concat!(
                "CREATE TABLE IF NOT EXISTS dialer_attempts (
                    id ",
                $id,
                ",
                    record_id BIGINT NOT NULL REFERENCES dialer_records (id) ON DELETE CASCADE,
                    campaign_id BIGINT NOT NULL,
                    agent TEXT NOT NULL,
                    number TEXT NOT NULL,
                    phone_type TEXT NOT NULL,
                    started_ms BIGINT NOT NULL,
                    connected_ms BIGINT,
                    ended_ms BIGINT,
                    sip_status BIGINT,
                    call_result TEXT,
                    dispositions TEXT NOT NULL DEFAULT '[]',
                    notes TEXT NOT NULL DEFAULT '',
                    dnc BIGINT NOT NULL DEFAULT 0
                )"
            ),
            "CREATE INDEX IF NOT EXISTS dialer_attempts_record ON dialer_attempts (record_id, id)",
            "CREATE INDEX IF NOT EXISTS dialer_attempts_campaign ON dialer_attempts (campaign_id, id)",
            "CREATE TABLE IF NOT EXISTS dialer_dnc (
                number TEXT NOT NULL,
                campaign_id BIGINT NOT NULL,
                added_ms BIGINT NOT NULL,
                source TEXT NOT NULL,
                PRIMARY KEY (number, campaign_id)
            )",
        ]
    };
}

const SQLITE_V1: [&str; 9] = tables!("INTEGER PRIMARY KEY AUTOINCREMENT");
const POSTGRES_V1: [&str; 9] = tables!("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY");

/// Version 2, the same on both engines: which import wrote a record and from which line
/// (to report a file's duplicate external ids), and which node made an attempt and when
/// start-up recovery closed it (the switch restarted during the call).
const V2: [&str; 5] = [
    "ALTER TABLE dialer_records ADD COLUMN import_tag BIGINT",
    "ALTER TABLE dialer_records ADD COLUMN import_line BIGINT",
    "ALTER TABLE dialer_attempts ADD COLUMN node TEXT NOT NULL DEFAULT 'default'",
    "ALTER TABLE dialer_attempts ADD COLUMN recovered_ms BIGINT",
    "CREATE INDEX IF NOT EXISTS dialer_attempts_open
        ON dialer_attempts (node, id) WHERE call_result IS NULL",
];

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "campaigns, records, attempts, dnc",
        sqlite: &SQLITE_V1,
        postgres: &POSTGRES_V1,
    },
    Migration {
        version: 2,
        description: "import tags and lines, attempt nodes and recovery",
        sqlite: &V2,
        postgres: &V2,
    },
];

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS dialer_schema_version (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_ms BIGINT NOT NULL
)";

/// Key of the PostgreSQL advisory lock held while migrating ("dial"), distinct from the
/// switch's.
const MIGRATION_LOCK: i64 = 0x6469_616c;

const SELECT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM dialer_schema_version";
const INSERT_VERSION: &str =
    "INSERT INTO dialer_schema_version (version, description, applied_ms) VALUES ($1, $2, $3)";

pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies every migration the database lacks; returns the resulting version.
pub(super) async fn run(store: &Store) -> Result<i64, StoreError> {
    let migrate_error = |version| move |source| StoreError::Migrate { version, source };
    let backend = store.backend();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let current: i64 = with_pool!(store, pool => {
        let mut tx = pool.begin_with(store.begin_write()).await.map_err(migrate_error(0))?;
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(migrate_error(0))?;
        }
        sqlx::raw_sql(CREATE_VERSION_TABLE)
            .execute(&mut *tx)
            .await
            .map_err(migrate_error(0))?;
        let current: i64 = sqlx::query_scalar(SELECT_VERSION)
            .fetch_one(&mut *tx)
            .await
            .map_err(migrate_error(0))?;
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            let ddl = match backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            for statement in ddl {
                sqlx::raw_sql(statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(migrate_error(m.version))?;
            }
            sqlx::query(INSERT_VERSION)
                .bind(m.version)
                .bind(m.description)
                .bind(now_ms)
                .execute(&mut *tx)
                .await
                .map_err(migrate_error(m.version))?;
        }
        tx.commit().await.map_err(migrate_error(latest_version()))?;
        current
    });
    if current > latest_version() {
        tracing::warn!(
            database_version = current,
            known_version = latest_version(),
            "dialer schema is newer than this build"
        );
        return Ok(current);
    }
    Ok(latest_version())
}

pub(super) async fn current_version(store: &Store) -> Result<i64, StoreError> {
    let version: i64 = with_pool!(store, pool => {
        sqlx::query_scalar(SELECT_VERSION).fetch_one(pool).await?
    });
    Ok(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_and_both_engines_have_ddl() {
        let mut previous = 0;
        for m in MIGRATIONS {
            assert!(m.version > previous);
            assert_eq!(m.sqlite.len(), m.postgres.len());
            previous = m.version;
        }
        assert_eq!(latest_version(), previous);
    }
}
