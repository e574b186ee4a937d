//! Schema migrations, run by [`Store::open`](super::Store::open).
//!
//! Each migration has a version, and DDL for each engine (only types and identity columns
//! differ). `schema_version` records what has been applied. Migrations run in one
//! transaction; on PostgreSQL under an advisory lock, so nodes starting together do not
//! race. Never edit a released migration: append a new one.

use super::{with_pool, Backend, Store, StoreError};

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static [&'static str],
    postgres: &'static [&'static str],
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "cdrs",
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS cdrs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            call_id TEXT NOT NULL,
            from_uri TEXT NOT NULL,
            to_uri TEXT NOT NULL,
            from_user TEXT NOT NULL,
            to_user TEXT NOT NULL,
            start_ms INTEGER NOT NULL,
            answer_ms INTEGER,
            end_ms INTEGER NOT NULL,
            ring_secs REAL NOT NULL,
            talk_secs REAL NOT NULL,
            status INTEGER NOT NULL,
            cause TEXT NOT NULL,
            hangup_side TEXT NOT NULL
        )",
            "CREATE INDEX IF NOT EXISTS cdrs_newest ON cdrs (start_ms DESC, id DESC)",
            "CREATE INDEX IF NOT EXISTS cdrs_call_id ON cdrs (call_id)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS cdrs (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            call_id TEXT NOT NULL,
            from_uri TEXT NOT NULL,
            to_uri TEXT NOT NULL,
            from_user TEXT NOT NULL,
            to_user TEXT NOT NULL,
            start_ms BIGINT NOT NULL,
            answer_ms BIGINT,
            end_ms BIGINT NOT NULL,
            ring_secs DOUBLE PRECISION NOT NULL,
            talk_secs DOUBLE PRECISION NOT NULL,
            status INTEGER NOT NULL,
            cause TEXT NOT NULL,
            hangup_side TEXT NOT NULL
        )",
            "CREATE INDEX IF NOT EXISTS cdrs_newest ON cdrs (start_ms DESC, id DESC)",
            "CREATE INDEX IF NOT EXISTS cdrs_call_id ON cdrs (call_id)",
        ],
    },
    Migration {
        version: 2,
        description: "acd queues and agents changed over REST",
        // `config` is the whole configuration as JSON; NULL marks a deletion (tombstone).
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS acd_queues (
                dn TEXT PRIMARY KEY,
                config TEXT,
                updated_ms INTEGER NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS acd_agents (
                id TEXT PRIMARY KEY,
                config TEXT,
                updated_ms INTEGER NOT NULL
            )",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS acd_queues (
                dn TEXT PRIMARY KEY,
                config TEXT,
                updated_ms BIGINT NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS acd_agents (
                id TEXT PRIMARY KEY,
                config TEXT,
                updated_ms BIGINT NOT NULL
            )",
        ],
    },
    Migration {
        version: 3,
        description: "agent state history and interaction events",
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS agent_state_history (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                agent TEXT NOT NULL,
                from_state TEXT NOT NULL,
                to_state TEXT NOT NULL,
                reason TEXT,
                cause TEXT NOT NULL,
                at_ms INTEGER NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS agent_state_history_agent
                ON agent_state_history (agent, at_ms DESC, id DESC)",
            "CREATE TABLE IF NOT EXISTS interaction_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                interaction INTEGER NOT NULL,
                queue TEXT NOT NULL,
                event TEXT NOT NULL,
                agent TEXT,
                at_ms INTEGER NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS interaction_events_newest
                ON interaction_events (at_ms DESC, id DESC)",
            "CREATE INDEX IF NOT EXISTS interaction_events_interaction
                ON interaction_events (interaction)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS agent_state_history (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                agent TEXT NOT NULL,
                from_state TEXT NOT NULL,
                to_state TEXT NOT NULL,
                reason TEXT,
                cause TEXT NOT NULL,
                at_ms BIGINT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS agent_state_history_agent
                ON agent_state_history (agent, at_ms DESC, id DESC)",
            "CREATE TABLE IF NOT EXISTS interaction_events (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                interaction BIGINT NOT NULL,
                queue TEXT NOT NULL,
                event TEXT NOT NULL,
                agent TEXT,
                at_ms BIGINT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS interaction_events_newest
                ON interaction_events (at_ms DESC, id DESC)",
            "CREATE INDEX IF NOT EXISTS interaction_events_interaction
                ON interaction_events (interaction)",
        ],
    },
    Migration {
        version: 4,
        description: "accounts, teams, API tokens and the audit trail",
        // `data` is the whole account / team as JSON; NULL marks a deletion (tombstone),
        // so an account the config file also names stays deleted after a restart.
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS accounts (
                id TEXT PRIMARY KEY,
                data TEXT,
                updated_ms INTEGER NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS teams (
                name TEXT PRIMARY KEY,
                data TEXT,
                updated_ms INTEGER NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS api_tokens (
                id TEXT PRIMARY KEY,
                digest TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                account TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                expires_ms INTEGER,
                revoked_ms INTEGER
            )",
            "CREATE TABLE IF NOT EXISTS audit (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at_ms INTEGER NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                address TEXT NOT NULL,
                detail TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS audit_newest ON audit (at_ms DESC, id DESC)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS accounts (
                id TEXT PRIMARY KEY,
                data TEXT,
                updated_ms BIGINT NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS teams (
                name TEXT PRIMARY KEY,
                data TEXT,
                updated_ms BIGINT NOT NULL
            )",
            "CREATE TABLE IF NOT EXISTS api_tokens (
                id TEXT PRIMARY KEY,
                digest TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                account TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                expires_ms BIGINT,
                revoked_ms BIGINT
            )",
            "CREATE TABLE IF NOT EXISTS audit (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at_ms BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                address TEXT NOT NULL,
                detail TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS audit_newest ON audit (at_ms DESC, id DESC)",
        ],
    },
    Migration {
        version: 5,
        description: "call recordings",
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS recordings (
                id TEXT PRIMARY KEY,
                call_id TEXT NOT NULL,
                from_user TEXT NOT NULL,
                to_user TEXT NOT NULL,
                agent TEXT,
                started_ms INTEGER NOT NULL,
                ended_ms INTEGER NOT NULL,
                file TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS recordings_newest ON recordings (started_ms DESC)",
            "CREATE INDEX IF NOT EXISTS recordings_call ON recordings (call_id)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS recordings (
                id TEXT PRIMARY KEY,
                call_id TEXT NOT NULL,
                from_user TEXT NOT NULL,
                to_user TEXT NOT NULL,
                agent TEXT,
                started_ms BIGINT NOT NULL,
                ended_ms BIGINT NOT NULL,
                file TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS recordings_newest ON recordings (started_ms DESC)",
            "CREATE INDEX IF NOT EXISTS recordings_call ON recordings (call_id)",
        ],
    },
    Migration {
        version: 6,
        description: "voicemail messages",
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS voicemail (
                id TEXT PRIMARY KEY,
                mailbox TEXT NOT NULL,
                from_user TEXT NOT NULL,
                from_name TEXT NOT NULL,
                at_ms INTEGER NOT NULL,
                duration_ms INTEGER NOT NULL,
                status TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS voicemail_mailbox ON voicemail (mailbox, at_ms)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS voicemail (
                id TEXT PRIMARY KEY,
                mailbox TEXT NOT NULL,
                from_user TEXT NOT NULL,
                from_name TEXT NOT NULL,
                at_ms BIGINT NOT NULL,
                duration_ms BIGINT NOT NULL,
                status TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS voicemail_mailbox ON voicemail (mailbox, at_ms)",
        ],
    },
    Migration {
        version: 7,
        description: "web chats and their transcripts",
        // `wrap_up` is the JSON array of the codes the agent chose.
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS chats (
                id INTEGER PRIMARY KEY,
                queue TEXT NOT NULL,
                customer TEXT NOT NULL,
                agent TEXT,
                started_ms INTEGER NOT NULL,
                ended_ms INTEGER,
                wrap_up TEXT
            )",
            "CREATE TABLE IF NOT EXISTS chat_messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                chat INTEGER NOT NULL REFERENCES chats (id),
                sender TEXT NOT NULL,
                role TEXT NOT NULL,
                body TEXT NOT NULL,
                at_ms INTEGER NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS chat_messages_chat ON chat_messages (chat, id)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS chats (
                id BIGINT PRIMARY KEY,
                queue TEXT NOT NULL,
                customer TEXT NOT NULL,
                agent TEXT,
                started_ms BIGINT NOT NULL,
                ended_ms BIGINT,
                wrap_up TEXT
            )",
            "CREATE TABLE IF NOT EXISTS chat_messages (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                chat BIGINT NOT NULL REFERENCES chats (id),
                sender TEXT NOT NULL,
                role TEXT NOT NULL,
                body TEXT NOT NULL,
                at_ms BIGINT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS chat_messages_chat ON chat_messages (chat, id)",
        ],
    },
    Migration {
        version: 8,
        description: "CDRs per leg pair, linked by session",
        sqlite: &[
            "ALTER TABLE cdrs ADD COLUMN session_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE cdrs ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX IF NOT EXISTS cdrs_session ON cdrs (session_id, seq)",
        ],
        postgres: &[
            "ALTER TABLE cdrs ADD COLUMN IF NOT EXISTS session_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE cdrs ADD COLUMN IF NOT EXISTS seq INTEGER NOT NULL DEFAULT 0",
            "CREATE INDEX IF NOT EXISTS cdrs_session ON cdrs (session_id, seq)",
        ],
    },
    // 10, not 9: the chat transfer work takes 9 (renumber on merge if needed).
    Migration {
        version: 10,
        description: "chat attachments' index and predefined responses (templates)",
        // `queues` is the JSON array of the DNs a template applies to (empty: all).
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS chat_attachments (
                id TEXT PRIMARY KEY,
                chat INTEGER NOT NULL REFERENCES chats (id),
                sender TEXT NOT NULL,
                role TEXT NOT NULL,
                name TEXT NOT NULL,
                ext TEXT NOT NULL,
                size INTEGER NOT NULL,
                at_ms INTEGER NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS chat_attachments_chat ON chat_attachments (chat, at_ms)",
            "CREATE TABLE IF NOT EXISTS chat_templates (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                queues TEXT NOT NULL,
                updated_ms INTEGER NOT NULL
            )",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS chat_attachments (
                id TEXT PRIMARY KEY,
                chat BIGINT NOT NULL REFERENCES chats (id),
                sender TEXT NOT NULL,
                role TEXT NOT NULL,
                name TEXT NOT NULL,
                ext TEXT NOT NULL,
                size BIGINT NOT NULL,
                at_ms BIGINT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS chat_attachments_chat ON chat_attachments (chat, at_ms)",
            "CREATE TABLE IF NOT EXISTS chat_templates (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                queues TEXT NOT NULL,
                updated_ms BIGINT NOT NULL
            )",
        ],
    },
    // ---- IM (agent-to-agent instant messages) ----
    Migration {
        version: 11,
        description: "agent-to-agent IM sessions and their transcripts",
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS im_sessions (
                id INTEGER PRIMARY KEY,
                from_id TEXT NOT NULL,
                from_name TEXT NOT NULL,
                from_phone BOOLEAN NOT NULL,
                to_id TEXT NOT NULL,
                to_name TEXT NOT NULL,
                to_phone BOOLEAN NOT NULL,
                interaction INTEGER,
                status TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                ended_ms INTEGER,
                ended_by TEXT
            )",
            "CREATE TABLE IF NOT EXISTS im_messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                session INTEGER NOT NULL REFERENCES im_sessions (id),
                from_id TEXT NOT NULL,
                sender TEXT NOT NULL,
                body TEXT NOT NULL,
                at_ms INTEGER NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS im_messages_session ON im_messages (session, id)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS im_sessions (
                id BIGINT PRIMARY KEY,
                from_id TEXT NOT NULL,
                from_name TEXT NOT NULL,
                from_phone BOOLEAN NOT NULL,
                to_id TEXT NOT NULL,
                to_name TEXT NOT NULL,
                to_phone BOOLEAN NOT NULL,
                interaction BIGINT,
                status TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                ended_ms BIGINT,
                ended_by TEXT
            )",
            "CREATE TABLE IF NOT EXISTS im_messages (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                session BIGINT NOT NULL REFERENCES im_sessions (id),
                from_id TEXT NOT NULL,
                sender TEXT NOT NULL,
                body TEXT NOT NULL,
                at_ms BIGINT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS im_messages_session ON im_messages (session, id)",
        ],
    },
    Migration {
        version: 12,
        description: "the digest of each chat's customer token (attachments over HTTP)",
        sqlite: &["ALTER TABLE chats ADD COLUMN customer_token TEXT"],
        postgres: &["ALTER TABLE chats ADD COLUMN IF NOT EXISTS customer_token TEXT"],
    },
    // ---- e-mail (threads of customer mails, in and out, and their attachments) ----
    // `direction`: in | out; `status`: received, or for replies queued | sent | failed
    // (the outbox: `attempts`, `next_attempt_ms`, `error`). Inbound mails keep where
    // they were fetched (`mailbox`, `uidvalidity`, `uid`: unique, so a mail fetched again
    // after a crash is not stored twice).
    Migration {
        version: 13,
        description: "e-mail threads, messages and attachments",
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS email_threads (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                mailbox TEXT NOT NULL,
                queue TEXT NOT NULL,
                customer TEXT NOT NULL,
                customer_name TEXT NOT NULL,
                subject TEXT NOT NULL,
                state TEXT NOT NULL,
                agent TEXT NOT NULL,
                created_ms INTEGER NOT NULL,
                updated_ms INTEGER NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS email_threads_customer ON email_threads (customer, id)",
            "CREATE TABLE IF NOT EXISTS email_messages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                thread INTEGER NOT NULL REFERENCES email_threads (id),
                direction TEXT NOT NULL,
                mailbox TEXT NOT NULL,
                uidvalidity INTEGER,
                uid INTEGER,
                message_id TEXT NOT NULL,
                in_reply_to TEXT NOT NULL,
                refs TEXT NOT NULL,
                from_addr TEXT NOT NULL,
                from_name TEXT NOT NULL,
                to_addrs TEXT NOT NULL,
                cc_addrs TEXT NOT NULL,
                subject TEXT NOT NULL,
                text_body TEXT NOT NULL,
                html_body TEXT NOT NULL,
                at_ms INTEGER NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                next_attempt_ms INTEGER,
                error TEXT NOT NULL,
                agent TEXT NOT NULL
            )",
            "CREATE UNIQUE INDEX IF NOT EXISTS email_messages_fetched ON email_messages (mailbox, uidvalidity, uid)",
            "CREATE INDEX IF NOT EXISTS email_messages_thread ON email_messages (thread, id)",
            "CREATE INDEX IF NOT EXISTS email_messages_message_id ON email_messages (message_id)",
            "CREATE INDEX IF NOT EXISTS email_messages_outbox ON email_messages (status, next_attempt_ms)",
            "CREATE TABLE IF NOT EXISTS email_attachments (
                id TEXT PRIMARY KEY,
                message INTEGER NOT NULL REFERENCES email_messages (id),
                name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size INTEGER NOT NULL,
                content_id TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS email_attachments_message ON email_attachments (message)",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS email_threads (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                mailbox TEXT NOT NULL,
                queue TEXT NOT NULL,
                customer TEXT NOT NULL,
                customer_name TEXT NOT NULL,
                subject TEXT NOT NULL,
                state TEXT NOT NULL,
                agent TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                updated_ms BIGINT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS email_threads_customer ON email_threads (customer, id)",
            "CREATE TABLE IF NOT EXISTS email_messages (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                thread BIGINT NOT NULL REFERENCES email_threads (id),
                direction TEXT NOT NULL,
                mailbox TEXT NOT NULL,
                uidvalidity BIGINT,
                uid BIGINT,
                message_id TEXT NOT NULL,
                in_reply_to TEXT NOT NULL,
                refs TEXT NOT NULL,
                from_addr TEXT NOT NULL,
                from_name TEXT NOT NULL,
                to_addrs TEXT NOT NULL,
                cc_addrs TEXT NOT NULL,
                subject TEXT NOT NULL,
                text_body TEXT NOT NULL,
                html_body TEXT NOT NULL,
                at_ms BIGINT NOT NULL,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                next_attempt_ms BIGINT,
                error TEXT NOT NULL,
                agent TEXT NOT NULL
            )",
            "CREATE UNIQUE INDEX IF NOT EXISTS email_messages_fetched ON email_messages (mailbox, uidvalidity, uid)",
            "CREATE INDEX IF NOT EXISTS email_messages_thread ON email_messages (thread, id)",
            "CREATE INDEX IF NOT EXISTS email_messages_message_id ON email_messages (message_id)",
            "CREATE INDEX IF NOT EXISTS email_messages_outbox ON email_messages (status, next_attempt_ms)",
            "CREATE TABLE IF NOT EXISTS email_attachments (
                id TEXT PRIMARY KEY,
                message BIGINT NOT NULL REFERENCES email_messages (id),
                name TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size BIGINT NOT NULL,
                content_id TEXT NOT NULL
            )",
            "CREATE INDEX IF NOT EXISTS email_attachments_message ON email_attachments (message)",
        ],
    },
    // The agent's unsent reply to a thread (one per thread and agent; `kind` quick |
    // standard | all, `cc` comma-separated), and where an inbound mail's raw bytes are
    // kept for "View original" (a file id under `data_dir/email/`; empty: not kept).
    Migration {
        version: 14,
        description: "e-mail drafts and the originals of inbound mails",
        sqlite: &[
            "CREATE TABLE IF NOT EXISTS email_drafts (
                thread INTEGER NOT NULL REFERENCES email_threads (id),
                agent TEXT NOT NULL,
                kind TEXT NOT NULL,
                text_body TEXT NOT NULL,
                html_body TEXT NOT NULL,
                cc_addrs TEXT NOT NULL,
                saved_ms INTEGER NOT NULL,
                PRIMARY KEY (thread, agent)
            )",
            "ALTER TABLE email_messages ADD COLUMN original TEXT NOT NULL DEFAULT ''",
        ],
        postgres: &[
            "CREATE TABLE IF NOT EXISTS email_drafts (
                thread BIGINT NOT NULL REFERENCES email_threads (id),
                agent TEXT NOT NULL,
                kind TEXT NOT NULL,
                text_body TEXT NOT NULL,
                html_body TEXT NOT NULL,
                cc_addrs TEXT NOT NULL,
                saved_ms BIGINT NOT NULL,
                PRIMARY KEY (thread, agent)
            )",
            "ALTER TABLE email_messages ADD COLUMN IF NOT EXISTS original TEXT NOT NULL DEFAULT ''",
        ],
    },
];

const CREATE_SCHEMA_VERSION_SQLITE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_ms INTEGER NOT NULL
)";

const CREATE_SCHEMA_VERSION_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_ms BIGINT NOT NULL
)";

/// Arbitrary key of the PostgreSQL advisory lock held while migrating ("ccsw").
const MIGRATION_LOCK: i64 = 0x6363_7377;

const SELECT_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
const INSERT_VERSION: &str =
    "INSERT INTO schema_version (version, description, applied_ms) VALUES ($1, $2, $3)";

/// The newest version this build knows.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

impl Migration {
    fn ddl(&self, backend: Backend) -> &'static [&'static str] {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

/// Applies every migration the database lacks; returns the resulting version.
pub(super) async fn run(store: &Store) -> Result<i64, StoreError> {
    let migrate_error = |version| move |source| StoreError::Migrate { version, source };
    let backend = store.backend();
    let create_version_table = match backend {
        Backend::Sqlite => CREATE_SCHEMA_VERSION_SQLITE,
        Backend::Postgres => CREATE_SCHEMA_VERSION_POSTGRES,
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let current: i64 = with_pool!(store, pool => {
        let mut tx = pool.begin().await.map_err(migrate_error(0))?;
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK)
                .execute(&mut *tx)
                .await
                .map_err(migrate_error(0))?;
        }
        sqlx::raw_sql(create_version_table)
            .execute(&mut *tx)
            .await
            .map_err(migrate_error(0))?;
        let current: i64 = sqlx::query_scalar(SELECT_VERSION)
            .fetch_one(&mut *tx)
            .await
            .map_err(migrate_error(0))?;
        for m in MIGRATIONS.iter().filter(|m| m.version > current) {
            for statement in m.ddl(backend) {
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
    let latest = latest_version();
    if current > latest {
        // A newer build migrated this database. Migrations only add, so keep going, but
        // say so: a mixed-version cluster should be short-lived.
        tracing::warn!(
            database_version = current,
            known_version = latest,
            "database schema is newer than this build"
        );
        return Ok(current);
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        tracing::info!(
            version = m.version,
            description = m.description,
            "applied migration"
        );
    }
    Ok(latest)
}

/// The version recorded in `schema_version`.
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
            assert!(m.version > previous, "migration {} out of order", m.version);
            assert!(!m.sqlite.is_empty() && !m.postgres.is_empty());
            previous = m.version;
        }
        assert_eq!(latest_version(), previous);
    }
}
