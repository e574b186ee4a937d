//! Test databases: a fresh SQLite file per test, and when `TEST_DATABASE_URL` is set
//! (`postgres://...`) a fresh PostgreSQL schema per test in that database, so tests run
//! in parallel (with each other and with the switch's) without seeing each other's rows.
//!
//! [`backend_tests!`] turns each `async fn name(db: &TestDb)` into `sqlite::name` and
//! `postgres::name` tests; the PostgreSQL ones print a note and pass when the variable is
//! not set.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::Store;

/// The variable naming the PostgreSQL database for tests.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

pub struct TestDb {
    pub url: String,
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Schema { base_url: String, schema: String },
}

/// A name no other test (in this or a concurrent process) uses.
pub fn unique_name(prefix: &str) -> String {
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
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name("dialer_store"));
        let url = format!("sqlite://{}/dialer.db", dir.display());
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

    pub async fn postgres() -> Option<TestDb> {
        let base_url = std::env::var(TEST_DATABASE_URL).ok()?;
        let schema = unique_name("dialer_test");
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

    pub async fn cleanup(self) {
        self.store.close().await;
        if let Cleanup::Schema { base_url, schema } = &self.cleanup {
            if let Ok(admin) = sqlx::PgPool::connect(base_url).await {
                let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                let _ = sqlx::raw_sql(&drop).execute(&admin).await;
                admin.close().await;
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Dir(dir) = &self.cleanup {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Generates a SQLite and a PostgreSQL `#[tokio::test]` for each `async fn(&TestDb)`.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::store::testing::TestDb::sqlite().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
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
