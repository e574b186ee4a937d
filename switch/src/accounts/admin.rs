//! Accounts changed by an administrator (and a password changed by its owner).

use super::{
    check_fields, check_password, hash, invalid, lock, read, verify, write, Account, AccountChange,
    AccountError, AccountView, Accounts, Actor, Role, Roles,
};
use crate::store::StoreError;

impl Accounts {
    pub(super) async fn put_account(&self, account: Account) -> Result<(), StoreError> {
        self.inner.store.save_account(&account.id, &account).await?;
        write(&self.inner.directory)
            .accounts
            .insert(account.id.clone(), account);
        Ok(())
    }

    fn check_change(&self, id: &str, c: &AccountChange) -> Result<(), AccountError> {
        check_fields(
            id,
            &c.name,
            &c.teams,
            c.agent.as_deref(),
            c.extension.as_deref(),
        )
        .map_err(|(f, m)| invalid(f, m))?;
        if c.roles.is_empty() {
            return Err(invalid("roles", "must name at least one role"));
        }
        if let Some(p) = &c.password {
            check_password(p).map_err(|m| invalid("password", m))?;
        }
        let dir = read(&self.inner.directory);
        if let Some(t) = c.teams.iter().find(|t| !dir.teams.contains_key(*t)) {
            return Err(invalid("teams", format!("no team {t:?}")));
        }
        if let Some(agent) = &c.agent {
            if let Some(other) = dir
                .accounts
                .values()
                .find(|a| a.id != id && a.agent.as_ref() == Some(agent))
            {
                return Err(invalid(
                    "agent",
                    format!("agent {agent:?} belongs to account {:?}", other.id),
                ));
            }
        }
        Ok(())
    }

    /// Whether the change would leave no unlocked administrator.
    fn removes_last_admin(&self, id: &str, keeps_admin: bool) -> bool {
        let dir = read(&self.inner.directory);
        !keeps_admin
            && !dir
                .accounts
                .values()
                .any(|a| a.id != id && a.has(Role::Administrator) && !a.locked)
    }

    /// Creates (`create`) or replaces an account; the account, and whether it is new.
    pub async fn save(
        &self,
        actor: &Actor,
        id: &str,
        change: AccountChange,
        create: bool,
    ) -> Result<(AccountView, bool), AccountError> {
        self.check_change(id, &change)?;
        let existing = read(&self.inner.directory).accounts.get(id).cloned();
        let is_new = existing.is_none();
        let account = match (existing, create) {
            (Some(_), true) => return Err(AccountError::Exists(id.into())),
            (None, false) | (None, true) => {
                let Some(password) = change.password.clone() else {
                    return Err(invalid("password", "a new account needs a password"));
                };
                Account {
                    id: id.into(),
                    name: change.name,
                    password_hash: hash(password).await,
                    roles: change.roles,
                    teams: change.teams,
                    agent: change.agent,
                    extension: change.extension,
                    locked: false,
                    failures: 0,
                }
            }
            (Some(old), false) => {
                if self.removes_last_admin(id, change.roles.contains(&Role::Administrator)) {
                    return Err(AccountError::LastAdministrator);
                }
                let password_hash = match change.password.clone() {
                    Some(p) => hash(p).await,
                    None => old.password_hash.clone(),
                };
                if old.roles != change.roles {
                    let detail = format!(
                        "{} -> {}",
                        roles_text(&old.roles),
                        roles_text(&change.roles)
                    );
                    self.audit(actor, "roles_changed", id, &detail).await;
                }
                if change.password.is_some() {
                    lock(&self.inner.sessions).remove_account(id);
                    self.audit(actor, "password_changed", id, "").await;
                }
                Account {
                    password_hash,
                    name: change.name,
                    roles: change.roles,
                    teams: change.teams,
                    agent: change.agent,
                    extension: change.extension,
                    ..old
                }
            }
        };
        self.put_account(account.clone()).await?;
        let action = if is_new {
            "account_created"
        } else {
            "account_changed"
        };
        self.audit(actor, action, id, &roles_text(&account.roles))
            .await;
        Ok((account.view(), is_new))
    }

    pub async fn delete(&self, actor: &Actor, id: &str) -> Result<(), AccountError> {
        if !read(&self.inner.directory).accounts.contains_key(id) {
            return Err(AccountError::NotFound(id.into()));
        }
        if self.removes_last_admin(id, false) {
            return Err(AccountError::LastAdministrator);
        }
        self.inner.store.delete_account(id).await?;
        write(&self.inner.directory).accounts.remove(id);
        lock(&self.inner.sessions).remove_account(id);
        self.audit(actor, "account_deleted", id, "").await;
        Ok(())
    }

    pub async fn unlock(&self, actor: &Actor, id: &str) -> Result<AccountView, AccountError> {
        let mut a = read(&self.inner.directory)
            .accounts
            .get(id)
            .cloned()
            .ok_or_else(|| AccountError::NotFound(id.into()))?;
        a.locked = false;
        a.failures = 0;
        self.put_account(a.clone()).await?;
        lock(&self.inner.by_account).succeed(&id.to_string());
        self.audit(actor, "unlocked", id, "").await;
        Ok(a.view())
    }

    /// The caller changes their own password, proving the current one.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
    ) -> Result<(), AccountError> {
        check_password(new).map_err(|m| invalid("new_password", m))?;
        let a = read(&self.inner.directory)
            .accounts
            .get(&actor.account)
            .cloned()
            .ok_or_else(|| AccountError::NotFound(actor.account.clone()))?;
        if !verify(Some(a.password_hash.clone()), current.to_string()).await {
            self.audit(
                actor,
                "password_change_failed",
                &a.id,
                "wrong current password",
            )
            .await;
            return Err(AccountError::WrongPassword);
        }
        let a = Account {
            password_hash: hash(new.to_string()).await,
            ..a
        };
        self.put_account(a.clone()).await?;
        self.audit(actor, "password_changed", &a.id, "by the account itself")
            .await;
        Ok(())
    }
}

fn roles_text(roles: &Roles) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
