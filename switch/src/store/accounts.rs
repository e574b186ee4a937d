//! Accounts, teams, API tokens and the audit trail.
//!
//! Accounts and teams are kept as JSON per key with tombstones, like the ACD's
//! configurations (`acd.rs`): the config file's accounts are created once, then the store
//! is the truth (a password or role changed over REST survives a restart; a deleted account
//! stays deleted). API tokens are stored by the SHA-256 of their secret. The audit trail is
//! append-only. Accounts and teams are any serde type here (the accounts module owns
//! their shape; the store only keeps the JSON).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::documents::Documents;
use super::{with_pool, Store, StoreError};

/// One API token as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredToken {
    pub id: String,
    #[serde(skip)]
    pub digest: String,
    pub name: String,
    /// The account the token acts as.
    pub account: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub at_ms: i64,
    /// The account that acted (`""` for an unknown one, e.g. a failed login's name is in
    /// `target`).
    pub actor: String,
    /// `login`, `login_failed`, `logout`, `locked`, `unlocked`, `account_created`,
    /// `account_changed`, `account_deleted`, `roles_changed`, `password_changed`,
    /// `token_created`, `token_revoked`, `team_changed`, `team_deleted`.
    pub action: String,
    pub target: String,
    /// The client's address.
    pub address: String,
    pub detail: String,
}

fn corrupt(what: &'static str, key: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: format!("{key}: {e}"),
    }
}

fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt("account", "", e))
}

type TokenRow = (
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

impl Store {
    /// Every account, tombstones as `None`.
    pub async fn load_accounts<A: DeserializeOwned>(
        &self,
    ) -> Result<Vec<(String, Option<A>)>, StoreError> {
        self.load_docs(Documents::Accounts).await
    }

    /// Creates or replaces an account.
    pub async fn save_account(&self, id: &str, account: &impl Serialize) -> Result<(), StoreError> {
        self.put_doc(Documents::Accounts, id, Some(to_json(account)?))
            .await
    }

    /// Remembers that the account was deleted.
    pub async fn delete_account(&self, id: &str) -> Result<(), StoreError> {
        self.put_doc(Documents::Accounts, id, None).await
    }

    /// Every team, tombstones as `None`.
    pub async fn load_teams<T: DeserializeOwned>(
        &self,
    ) -> Result<Vec<(String, Option<T>)>, StoreError> {
        self.load_docs(Documents::Teams).await
    }

    pub async fn save_team(&self, name: &str, team: &impl Serialize) -> Result<(), StoreError> {
        self.put_doc(Documents::Teams, name, Some(to_json(team)?))
            .await
    }

    pub async fn delete_team(&self, name: &str) -> Result<(), StoreError> {
        self.put_doc(Documents::Teams, name, None).await
    }

    pub async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO api_tokens \
                 (id, digest, name, account, created_ms, expires_ms, revoked_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&t.id)
            .bind(&t.digest)
            .bind(&t.name)
            .bind(&t.account)
            .bind(t.created_ms)
            .bind(t.expires_ms)
            .bind(t.revoked_ms)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Every token, revoked ones included, oldest first.
    pub async fn load_tokens(&self) -> Result<Vec<StoredToken>, StoreError> {
        let rows: Vec<TokenRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, digest, name, account, created_ms, expires_ms, revoked_ms \
                 FROM api_tokens ORDER BY created_ms, id",
            )
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(id, digest, name, account, created_ms, expires_ms, revoked_ms)| StoredToken {
                    id,
                    digest,
                    name,
                    account,
                    created_ms,
                    expires_ms,
                    revoked_ms,
                },
            )
            .collect())
    }

    /// Marks a token revoked; `false` when there is no such live token.
    pub async fn revoke_token(&self, id: &str, at_ms: i64) -> Result<bool, StoreError> {
        let done = with_pool!(self, pool => {
            sqlx::query("UPDATE api_tokens SET revoked_ms = $1 WHERE id = $2 AND revoked_ms IS NULL")
                .bind(at_ms)
                .bind(id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(done > 0)
    }

    pub async fn insert_audit(&self, r: &AuditRecord) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO audit (at_ms, actor, action, target, address, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(r.at_ms)
            .bind(&r.actor)
            .bind(&r.action)
            .bind(&r.target)
            .bind(&r.address)
            .bind(&r.detail)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Audit records, newest first.
    pub async fn list_audit(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let rows: Vec<(i64, String, String, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT at_ms, actor, action, target, address, detail FROM audit \
                 ORDER BY at_ms DESC, id DESC LIMIT $1 OFFSET $2",
            )
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(at_ms, actor, action, target, address, detail)| AuditRecord {
                    at_ms,
                    actor,
                    action,
                    target,
                    address,
                    detail,
                },
            )
            .collect())
    }

    pub async fn count_audit(&self) -> Result<i64, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM audit").fetch_one(pool).await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{backend_tests, TestDb};
    use serde_json::{json, Value};

    fn account(id: &str) -> Value {
        json!({"id": id, "roles": ["agent"], "locked": false, "failures": 0})
    }

    async fn accounts_round_trip(db: &TestDb) {
        let s = &db.store;
        let mut a = account("1001");
        s.save_account("1001", &a).await.unwrap();
        s.save_account("1002", &account("1002")).await.unwrap();
        a["locked"] = json!(true);
        a["failures"] = json!(5);
        s.save_account("1001", &a).await.unwrap();
        s.delete_account("1002").await.unwrap();
        let rows: Vec<(String, Option<Value>)> = s.load_accounts().await.unwrap();
        assert_eq!(rows, vec![("1001".into(), Some(a)), ("1002".into(), None)]);
        let team = json!({"name": "sales", "queues": ["8000"]});
        s.save_team("sales", &team).await.unwrap();
        let teams: Vec<(String, Option<Value>)> = s.load_teams().await.unwrap();
        assert_eq!(teams, vec![("sales".into(), Some(team))]);
    }

    async fn tokens_and_audit(db: &TestDb) {
        let s = &db.store;
        let t = StoredToken {
            id: "t1".into(),
            digest: "d1".into(),
            name: "CRM".into(),
            account: "admin".into(),
            created_ms: 5,
            expires_ms: Some(10),
            revoked_ms: None,
        };
        s.insert_token(&t).await.unwrap();
        assert_eq!(s.load_tokens().await.unwrap(), vec![t.clone()]);
        assert!(s.revoke_token("t1", 7).await.unwrap());
        assert!(!s.revoke_token("t1", 8).await.unwrap(), "already revoked");
        assert_eq!(s.load_tokens().await.unwrap()[0].revoked_ms, Some(7));
        for (i, action) in ["login_failed", "login"].iter().enumerate() {
            s.insert_audit(&AuditRecord {
                at_ms: i as i64,
                actor: "1001".into(),
                action: action.to_string(),
                target: "1001".into(),
                address: "127.0.0.1".into(),
                detail: String::new(),
            })
            .await
            .unwrap();
        }
        let list = s.list_audit(10, 0).await.unwrap();
        assert_eq!(list[0].action, "login");
        assert_eq!(s.count_audit().await.unwrap(), 2);
    }

    backend_tests!(accounts_round_trip, tokens_and_audit);
}
