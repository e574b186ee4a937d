//! Test databases: a fresh SQLite file per test, and when `TEST_DATABASE_URL` is set
//! (`postgres://...`) a fresh PostgreSQL schema per test in that database, so tests run
//! in parallel without seeing each other's rows.
//!
//! [`backend_tests!`] turns each `async fn name(db: &TestDb)` into `sqlite::name` and
//! `postgres::name` tests; the PostgreSQL ones print a note and pass when the variable is
//! not set.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Cdr, Store};

/// The variable naming the PostgreSQL database for tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

pub struct TestDb {
    /// The URL the store was opened with; open it again to test persistence.
    pub url: String,
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Remove this directory (holds the SQLite file, its WAL and SHM).
    Dir(PathBuf),
    /// Drop this schema, connecting with the base URL.
    Schema { base_url: String, schema: String },
}

/// A name no other test (in this or a concurrent process) uses.
fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A store on a new SQLite file in a directory that does not exist yet (so opening
    /// must create it).
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name("ccswitch_store"));
        let url = format!("sqlite://{}/nested/switch.db", dir.display());
        let store = match Store::open(&url).await {
            Ok(store) => store,
            Err(e) => panic!("opening {url}: {e}"),
        };
        TestDb {
            url,
            store,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A store on a new schema of the `TEST_DATABASE_URL` database, or `None` when the
    /// variable is not set.
    pub async fn postgres() -> Option<TestDb> {
        let base_url = std::env::var(TEST_DATABASE_URL).ok()?;
        let schema = unique_name("ccswitch_test");
        let admin = match sqlx::PgPool::connect(&base_url).await {
            Ok(pool) => pool,
            Err(e) => panic!("{TEST_DATABASE_URL}={base_url}: {e}"),
        };
        if let Err(e) = sqlx::raw_sql(&format!("CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
        {
            panic!("creating schema {schema}: {e}");
        }
        admin.close().await;
        let separator = if base_url.contains('?') { '&' } else { '?' };
        let url = format!("{base_url}{separator}options[search_path]={schema}");
        let store = match Store::open(&url).await {
            Ok(store) => store,
            Err(e) => panic!("opening {url}: {e}"),
        };
        Some(TestDb {
            url,
            store,
            cleanup: Cleanup::Schema { base_url, schema },
        })
    }

    /// Closes the store and removes what the test created. (A failed test leaves its
    /// schema behind; a test database is disposable.)
    pub async fn cleanup(self) {
        self.store.close().await;
        match &self.cleanup {
            Cleanup::Dir(_) => {} // removed on drop
            Cleanup::Schema { base_url, schema } => {
                if let Ok(admin) = sqlx::PgPool::connect(base_url).await {
                    let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                    let _ = sqlx::raw_sql(&drop).execute(&admin).await;
                    admin.close().await;
                }
            }
        }
    }
}

impl Drop for TestDb {
    /// Removes a SQLite test directory even when the test panicked.
    fn drop(&mut self) {
        if let Cleanup::Dir(dir) = &self.cleanup {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A CDR with every field set; `n` varies the call id and the times (later `n` = newer).
pub fn sample_cdr(n: i64) -> Cdr {
    let start_ms = 1_700_000_000_000 + n * 1000;
    Cdr {
        session_id: format!("session-{n}"),
        seq: 0,
        call_id: format!("call-{n}@test"),
        from_uri: format!("sip:1001@127.0.0.1;tag={n}"),
        to_uri: "sip:1002@127.0.0.1".to_string(),
        from_user: "1001".to_string(),
        to_user: "1002".to_string(),
        start_ms,
        answer_ms: (n % 2 == 0).then_some(start_ms + 2500),
        end_ms: start_ms + 62_750,
        ring_secs: 2.5,
        talk_secs: if n % 2 == 0 { 60.25 } else { 0.0 },
        status: if n % 2 == 0 { 200 } else { 486 },
        cause: if n % 2 == 0 {
            crate::records::Cause::Normal
        } else {
            crate::records::Cause::Busy
        },
        hangup_side: crate::records::HangupSide::Caller,
    }
}

/// Generates a SQLite and a PostgreSQL `#[tokio::test]` for each `async fn(&TestDb)`.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = $crate::store::testing::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = $crate::store::testing::TestDb::postgres().await else {
                        println!(
                            "skipping {}: set {} to a postgres:// URL to run it",
                            stringify!($name),
                            $crate::store::testing::TEST_DATABASE_URL
                        );
                        return;
                    };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}
pub(crate) use backend_tests;
