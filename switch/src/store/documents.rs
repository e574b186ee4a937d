//! Tables of JSON documents by key, where a deletion is kept as a tombstone (a row whose
//! document is NULL): queue and agent configurations changed over REST, accounts, teams.
//! A document laid over the config file's entry at start-up wins; a tombstone keeps a
//! config-file entry deleted.

use serde::de::DeserializeOwned;

use super::{with_pool, Store, StoreError};

/// The document tables, which differ only in names.
#[derive(Clone, Copy)]
pub(super) enum Documents {
    Queues,
    Agents,
    Accounts,
    Teams,
}

impl Documents {
    /// (table, key column, document column).
    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Documents::Queues => ("acd_queues", "dn", "config"),
            Documents::Agents => ("acd_agents", "id", "config"),
            Documents::Accounts => ("accounts", "id", "data"),
            Documents::Teams => ("teams", "name", "data"),
        }
    }

    fn what(self) -> &'static str {
        match self {
            Documents::Queues => "acd_queues row",
            Documents::Agents => "acd_agents row",
            Documents::Accounts => "accounts row",
            Documents::Teams => "teams row",
        }
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Store {
    /// Saves `document` (JSON) under `key`; `None` saves a tombstone.
    pub(super) async fn put_doc(
        &self,
        table: Documents,
        key: &str,
        document: Option<String>,
    ) -> Result<(), StoreError> {
        let (name, key_col, doc_col) = table.names();
        let sql = format!(
            "INSERT INTO {name} ({key_col}, {doc_col}, updated_ms) VALUES ($1, $2, $3) \
             ON CONFLICT ({key_col}) DO UPDATE SET {doc_col} = excluded.{doc_col}, \
             updated_ms = excluded.updated_ms"
        );
        with_pool!(self, pool => {
            sqlx::query(&sql)
                .bind(key)
                .bind(document)
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Every row, tombstones as `None`, in the order they were last changed. A document
    /// that does not parse is an error naming it: starting without it would silently bring
    /// back the config file's version.
    pub(super) async fn load_docs<K, T>(
        &self,
        table: Documents,
    ) -> Result<Vec<(K, Option<T>)>, StoreError>
    where
        K: From<String>,
        T: DeserializeOwned,
    {
        let (name, key_col, doc_col) = table.names();
        let sql = format!(
            "SELECT {key_col} AS key, {doc_col} AS doc FROM {name} ORDER BY updated_ms, {key_col}"
        );
        let rows: Vec<(String, Option<String>)> = with_pool!(self, pool => {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|(key, doc)| {
                let doc = match doc {
                    None => None,
                    Some(json) => {
                        Some(
                            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                                what: table.what(),
                                detail: format!("{key}: {e}"),
                            })?,
                        )
                    }
                };
                Ok((K::from(key), doc))
            })
            .collect()
    }
}
