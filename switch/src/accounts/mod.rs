//! Accounts, login sessions, API tokens, teams and the audit trail: who may use the web
//! pages and the API, and as what.
//!
//! [`Accounts`] is the one owner of this state. It keeps the accounts, teams and tokens in
//! memory, writes every change through to the store before answering, and records every
//! login, logout, failure, lock and change in the audit trail. A request's credential (the
//! session cookie of the pages, or a bearer API token) becomes a [`Principal`], rebuilt from
//! the current account on every request, so a role change or a lock takes effect at once.

mod account;
mod dialing;
mod role;
mod secret;
mod session;
mod settings;
mod throttle;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::store::{AuditRecord, Store, StoreError, StoredToken};

pub use account::{check_fields, check_password, check_team_name, Account, AccountView, Team};
pub use dialing::{DialPlanRules, DialRule};
pub use role::{Role, Roles, Scope};
use session::Sessions;
pub use session::COOKIE;
pub use settings::{AccountSeed, AuthConfig, Seeds};
use throttle::Throttle;

/// The file in the data directory that receives the generated administrator password.
pub const ADMIN_PASSWORD_FILE: &str = "admin-password";
/// The id of the administrator account made at first start.
pub const ADMIN: &str = "admin";
/// How API token secrets start (so secret scanners can find leaked ones).
pub const TOKEN_PREFIX: &str = "cct_";

/// Who is calling: an account, as of this request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account: String,
    pub name: String,
    pub roles: Roles,
    pub teams: std::collections::BTreeSet<String>,
    pub agent: Option<String>,
    pub extension: Option<String>,
    pub via: Via,
}

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The pages' session cookie; writes must be same-origin (see `api::guard`).
    Session { csrf: String },
    /// A bearer API token.
    Token { id: String },
}

impl Principal {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn is_admin(&self) -> bool {
        self.has(Role::Administrator)
    }
}

/// Why a credential was not accepted.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CredentialError {
    #[error("the session has expired or was ended; log in again")]
    SessionExpired,
    #[error("the API token is not valid (unknown, revoked or expired)")]
    BadToken,
    #[error("the account is locked")]
    Locked,
    #[error("the Authorization header must be \"Bearer <token>\"")]
    BadHeader,
}

/// Why a login failed.
#[derive(Debug, Error)]
pub enum LoginError {
    #[error("wrong user or password")]
    Invalid,
    #[error("the account is locked after too many failed logins; an administrator can unlock it")]
    Locked,
    #[error("too many failed logins; try again in {} s", .0.as_secs().max(1))]
    TooMany(Duration),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an account change was refused.
#[derive(Debug, Error)]
pub enum AccountError {
    #[error("no account {0:?}")]
    NotFound(String),
    #[error("account {0:?} already exists")]
    Exists(String),
    #[error("no team {0:?}")]
    NoTeam(String),
    #[error("no token {0:?}")]
    NoToken(String),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the current password is wrong")]
    WrongPassword,
    #[error("the last administrator cannot be removed or lose the role")]
    LastAdministrator,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> AccountError {
    AccountError::Invalid {
        field,
        message: message.into(),
    }
}

/// A new or replaced account, as an administrator sends it.
#[derive(Debug, Clone)]
pub struct AccountChange {
    pub name: String,
    /// Required for a new account; `None` keeps the password of an existing one.
    pub password: Option<String>,
    pub roles: Roles,
    pub teams: std::collections::BTreeSet<String>,
    pub agent: Option<String>,
    pub extension: Option<String>,
}

/// A token as returned once, at creation: the secret is never shown again.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewToken {
    #[serde(flatten)]
    pub token: StoredToken,
    pub secret: String,
}

/// Who did something from where, for the audit trail.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub account: String,
    pub address: String,
}

#[derive(Default)]
struct Directory {
    accounts: BTreeMap<String, Account>,
    teams: BTreeMap<String, Team>,
    /// By digest of the secret.
    tokens: HashMap<String, StoredToken>,
}

struct Inner {
    store: Store,
    config: AuthConfig,
    directory: RwLock<Directory>,
    sessions: Mutex<Sessions>,
    by_account: Mutex<Throttle<String>>,
    by_address: Mutex<Throttle<IpAddr>>,
}

/// The accounts service; cheap to clone.
#[derive(Clone)]
pub struct Accounts {
    inner: Arc<Inner>,
}

/// What [`Accounts::open`] made at first start.
#[derive(Debug, Default)]
pub struct Opened {
    /// The generated administrator password, when the administrator was created now.
    pub admin_password: Option<String>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

fn lock<T>(l: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    l.lock().unwrap_or_else(|e| e.into_inner())
}

/// Argon2 off the async threads: it takes tens of milliseconds by design.
async fn hash(password: String) -> String {
    tokio::task::spawn_blocking(move || secret::hash_password(&password))
        .await
        .unwrap_or_default()
}

async fn verify(hash: Option<String>, password: String) -> bool {
    tokio::task::spawn_blocking(move || match hash {
        Some(h) => secret::verify_password(&h, &password),
        None => {
            secret::verify_nothing(&password);
            false
        }
    })
    .await
    .unwrap_or(false)
}

impl Accounts {
    /// Loads accounts, teams and tokens from the store; creates the config file's accounts
    /// and teams the store has never seen; creates the administrator `admin` with a
    /// generated password (written to `data_dir/admin-password`) when no account has the
    /// administrator role.
    pub async fn open(store: Store, config: Seeds<'_>) -> Result<(Accounts, Opened), StoreError> {
        let mut dir = Directory::default();
        let rows: Vec<(String, Option<Account>)> = store.load_accounts().await?;
        let seen: std::collections::HashSet<String> = rows.iter().map(|(k, _)| k.clone()).collect();
        for (id, account) in rows {
            if let Some(a) = account {
                dir.accounts.insert(id, a);
            }
        }
        let team_rows: Vec<(String, Option<Team>)> = store.load_teams().await?;
        let seen_teams: std::collections::HashSet<String> =
            team_rows.iter().map(|(k, _)| k.clone()).collect();
        for (name, team) in team_rows {
            if let Some(t) = team {
                dir.teams.insert(name, t);
            }
        }
        for t in config.teams {
            if !seen_teams.contains(&t.name) {
                store.save_team(&t.name, t).await?;
                dir.teams.insert(t.name.clone(), t.clone());
            }
        }
        for seed in config.accounts {
            if seen.contains(&seed.id) {
                continue;
            }
            let account = seeded(seed, &config).await;
            store.save_account(&account.id, &account).await?;
            dir.accounts.insert(account.id.clone(), account);
        }
        let mut opened = Opened::default();
        let has_admin = dir.accounts.values().any(|a| a.has(Role::Administrator));
        if !has_admin {
            let password = secret::new_password();
            let account = Account {
                id: ADMIN.into(),
                name: "Administrator".into(),
                password_hash: hash(password.clone()).await,
                roles: [Role::Administrator].into(),
                teams: Default::default(),
                agent: None,
                extension: None,
                locked: false,
                failures: 0,
            };
            write_admin_password(config.data_dir, &password);
            store.save_account(&account.id, &account).await?;
            dir.accounts.insert(account.id.clone(), account);
            opened.admin_password = Some(password);
        }
        for t in store.load_tokens().await? {
            dir.tokens.insert(t.digest.clone(), t);
        }
        let a = config.auth;
        let inner = Inner {
            store,
            sessions: Mutex::new(Sessions::new(a.session_idle, a.session_max)),
            by_account: Mutex::new(Throttle::new(a.backoff_after, a.backoff_max)),
            by_address: Mutex::new(Throttle::new(a.address_backoff_after, a.backoff_max)),
            config: a.clone(),
            directory: RwLock::new(dir),
        };
        Ok((
            Accounts {
                inner: Arc::new(inner),
            },
            opened,
        ))
    }

    pub fn config(&self) -> &AuthConfig {
        &self.inner.config
    }

    async fn audit(&self, actor: &Actor, action: &str, target: &str, detail: &str) {
        let record = AuditRecord {
            at_ms: now_ms(),
            actor: actor.account.clone(),
            action: action.into(),
            target: target.into(),
            address: actor.address.clone(),
            detail: detail.into(),
        };
        tracing::info!(
            actor = %record.actor,
            action = %record.action,
            target = %record.target,
            address = %record.address,
            detail = %record.detail,
            "audit"
        );
        if let Err(e) = self.inner.store.insert_audit(&record).await {
            tracing::error!(error = %e, action, "audit record not stored");
        }
    }

    /// Checks `user` / `password` from `address`; on success starts a session and returns
    /// its id (the cookie's value), its CSRF token and the account.
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<(String, String, AccountView), LoginError> {
        let now = Instant::now();
        let from = Actor {
            account: String::new(),
            address: address.to_string(),
        };
        let key = user.to_string();
        let wait = lock(&self.inner.by_address)
            .check(now, &address)
            .err()
            .or_else(|| lock(&self.inner.by_account).check(now, &key).err());
        if let Some(wait) = wait {
            self.audit(&from, "login_refused", user, "back-off").await;
            return Err(LoginError::TooMany(wait));
        }
        let account = read(&self.inner.directory).accounts.get(user).cloned();
        let ok = verify(
            account.as_ref().map(|a| a.password_hash.clone()),
            password.to_string(),
        )
        .await;
        let Some(mut account) = account else {
            lock(&self.inner.by_address).fail(now, &address);
            lock(&self.inner.by_account).fail(now, &key);
            self.audit(&from, "login_failed", user, "unknown account")
                .await;
            return Err(LoginError::Invalid);
        };
        if account.locked {
            self.audit(&from, "login_failed", user, "account locked")
                .await;
            return Err(LoginError::Locked);
        }
        if !ok {
            lock(&self.inner.by_address).fail(now, &address);
            lock(&self.inner.by_account).fail(now, &key);
            account.failures += 1;
            let locks = account.failures >= self.inner.config.lock_after;
            account.locked = locks;
            self.put_account(account.clone()).await?;
            self.audit(
                &from,
                "login_failed",
                user,
                &format!("wrong password ({} in a row)", account.failures),
            )
            .await;
            if locks {
                lock(&self.inner.sessions).remove_account(user);
                self.audit(&from, "locked", user, "too many failed logins")
                    .await;
                return Err(LoginError::Locked);
            }
            return Err(LoginError::Invalid);
        }
        lock(&self.inner.by_account).succeed(&key);
        if account.failures > 0 {
            account.failures = 0;
            self.put_account(account.clone()).await?;
        }
        let (id, session) = lock(&self.inner.sessions).create(now, user);
        let actor = Actor {
            account: user.into(),
            address: from.address,
        };
        self.audit(&actor, "login", user, "").await;
        Ok((id, session.csrf, account.view()))
    }

    /// Ends the session of cookie value `id`.
    pub async fn logout(&self, id: &str, address: IpAddr) -> bool {
        let session = lock(&self.inner.sessions).remove(id);
        match session {
            Some(s) => {
                let actor = Actor {
                    account: s.account.clone(),
                    address: address.to_string(),
                };
                self.audit(&actor, "logout", &s.account, "").await;
                true
            }
            None => false,
        }
    }

    /// The caller behind a session cookie value or a bearer token: `Ok(None)` when
    /// neither was given.
    pub fn authenticate(
        &self,
        cookie: Option<&str>,
        bearer: Option<&str>,
    ) -> Result<Option<Principal>, CredentialError> {
        if let Some(token) = bearer {
            let digest = secret::digest(token);
            let dir = read(&self.inner.directory);
            let t = dir.tokens.get(&digest).ok_or(CredentialError::BadToken)?;
            let live = t.revoked_ms.is_none() && t.expires_ms.is_none_or(|e| e > now_ms());
            if !live {
                return Err(CredentialError::BadToken);
            }
            let a = dir
                .accounts
                .get(&t.account)
                .ok_or(CredentialError::BadToken)?;
            if a.locked {
                return Err(CredentialError::Locked);
            }
            return Ok(Some(principal(a, Via::Token { id: t.id.clone() })));
        }
        let Some(id) = cookie else {
            return Ok(None);
        };
        let session = lock(&self.inner.sessions)
            .touch(Instant::now(), id)
            .ok_or(CredentialError::SessionExpired)?;
        let dir = read(&self.inner.directory);
        match dir.accounts.get(&session.account) {
            Some(a) if a.locked => Err(CredentialError::Locked),
            Some(a) => Ok(Some(principal(a, Via::Session { csrf: session.csrf }))),
            None => Err(CredentialError::SessionExpired),
        }
    }

    /// The agents and queues `p` may see.
    pub fn scope(&self, p: &Principal) -> Scope {
        if p.is_admin() {
            return Scope::All;
        }
        let dir = read(&self.inner.directory);
        let mut agents = std::collections::BTreeSet::new();
        let mut queues = std::collections::BTreeSet::new();
        if p.has(Role::Agent) || p.has(Role::Supervisor) {
            if let Some(a) = &p.agent {
                agents.insert(a.clone());
            }
            for t in &p.teams {
                if let Some(team) = dir.teams.get(t) {
                    queues.extend(team.queues.iter().cloned());
                }
            }
        }
        if p.has(Role::Supervisor) {
            for a in dir.accounts.values() {
                if let Some(agent) = &a.agent {
                    if a.teams.iter().any(|t| p.teams.contains(t)) {
                        agents.insert(agent.clone());
                    }
                }
            }
        }
        Scope::Limited { agents, queues }
    }

    /// Whether `p` may have the switch call `number` for them.
    pub fn may_dial(&self, p: &Principal, number: &str) -> bool {
        self.inner.config.dialing.allows(&p.roles, number)
    }

    /// The account whose ACD agent is `agent`, if any.
    pub fn account_of_agent(&self, agent: &str) -> Option<AccountView> {
        read(&self.inner.directory)
            .accounts
            .values()
            .find(|a| a.agent.as_deref() == Some(agent))
            .map(Account::view)
    }

    pub fn list(&self) -> Vec<AccountView> {
        read(&self.inner.directory)
            .accounts
            .values()
            .map(Account::view)
            .collect()
    }

    pub fn get(&self, id: &str) -> Option<AccountView> {
        read(&self.inner.directory)
            .accounts
            .get(id)
            .map(Account::view)
    }

    async fn put_account(&self, account: Account) -> Result<(), StoreError> {
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

    /// Creates (`create`) or replaces an account.
    pub async fn save(
        &self,
        actor: &Actor,
        id: &str,
        change: AccountChange,
        create: bool,
    ) -> Result<AccountView, AccountError> {
        self.check_change(id, &change)?;
        let existing = read(&self.inner.directory).accounts.get(id).cloned();
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
        let is_new = !read(&self.inner.directory).accounts.contains_key(id);
        self.put_account(account.clone()).await?;
        let action = if is_new {
            "account_created"
        } else {
            "account_changed"
        };
        self.audit(actor, action, id, &roles_text(&account.roles))
            .await;
        Ok(account.view())
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

    pub fn teams(&self) -> Vec<Team> {
        read(&self.inner.directory)
            .teams
            .values()
            .cloned()
            .collect()
    }

    pub async fn save_team(&self, actor: &Actor, team: Team) -> Result<Team, AccountError> {
        check_team_name(&team.name).map_err(|m| invalid("name", m))?;
        for dn in &team.queues {
            acd::check_dn(dn).map_err(|m| invalid("queues", format!("{dn:?}: {m}")))?;
        }
        self.inner.store.save_team(&team.name, &team).await?;
        write(&self.inner.directory)
            .teams
            .insert(team.name.clone(), team.clone());
        let queues: Vec<&str> = team.queues.iter().map(String::as_str).collect();
        self.audit(actor, "team_changed", &team.name, &queues.join(","))
            .await;
        Ok(team)
    }

    pub async fn delete_team(&self, actor: &Actor, name: &str) -> Result<(), AccountError> {
        {
            let dir = read(&self.inner.directory);
            if !dir.teams.contains_key(name) {
                return Err(AccountError::NoTeam(name.into()));
            }
            if let Some(a) = dir.accounts.values().find(|a| a.teams.contains(name)) {
                return Err(invalid(
                    "name",
                    format!("account {:?} is still in team {name:?}", a.id),
                ));
            }
        }
        self.inner.store.delete_team(name).await?;
        write(&self.inner.directory).teams.remove(name);
        self.audit(actor, "team_deleted", name, "").await;
        Ok(())
    }

    /// Every token (secrets are never kept, so none is shown).
    pub fn tokens(&self) -> Vec<StoredToken> {
        let mut list: Vec<StoredToken> = read(&self.inner.directory)
            .tokens
            .values()
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        list
    }

    /// A new token acting as `account`; its secret is in the answer and nowhere else.
    pub async fn create_token(
        &self,
        actor: &Actor,
        account: &str,
        name: &str,
        expires_in: Option<Duration>,
    ) -> Result<NewToken, AccountError> {
        acd::check_name(name).map_err(|m| invalid("name", m))?;
        if name.is_empty() {
            return Err(invalid("name", "must not be empty"));
        }
        if !read(&self.inner.directory).accounts.contains_key(account) {
            return Err(invalid("account", format!("no account {account:?}")));
        }
        let secret = secret::new_secret(TOKEN_PREFIX);
        let created_ms = now_ms();
        let token = StoredToken {
            id: secret::new_secret("")[..16].to_string(),
            digest: secret::digest(&secret),
            name: name.into(),
            account: account.into(),
            created_ms,
            expires_ms: expires_in.map(|d| {
                created_ms.saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            }),
            revoked_ms: None,
        };
        self.inner.store.insert_token(&token).await?;
        write(&self.inner.directory)
            .tokens
            .insert(token.digest.clone(), token.clone());
        self.audit(
            actor,
            "token_created",
            &token.id,
            &format!("{name} as {account}"),
        )
        .await;
        Ok(NewToken { token, secret })
    }

    pub async fn revoke_token(&self, actor: &Actor, id: &str) -> Result<(), AccountError> {
        let at = now_ms();
        if !self.inner.store.revoke_token(id, at).await? {
            return Err(AccountError::NoToken(id.into()));
        }
        if let Some(t) = write(&self.inner.directory)
            .tokens
            .values_mut()
            .find(|t| t.id == id)
        {
            t.revoked_ms = Some(at);
        }
        self.audit(actor, "token_revoked", id, "").await;
        Ok(())
    }

    pub async fn audit_trail(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<AuditRecord>), StoreError> {
        let list = self.inner.store.list_audit(limit, offset).await?;
        Ok((self.inner.store.count_audit().await?, list))
    }

    /// Sessions open now (a gauge for `/metrics`).
    pub fn sessions(&self) -> usize {
        let mut s = lock(&self.inner.sessions);
        s.expire(Instant::now());
        s.len()
    }

    /// The cookie's `Max-Age`, in seconds.
    pub fn session_max_age(&self) -> u64 {
        lock(&self.inner.sessions).max_age().as_secs()
    }
}

fn roles_text(roles: &Roles) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn principal(a: &Account, via: Via) -> Principal {
    Principal {
        account: a.id.clone(),
        name: a.name.clone(),
        roles: a.roles.clone(),
        teams: a.teams.clone(),
        agent: a.agent.clone(),
        extension: a.extension.clone(),
        via,
    }
}

/// The account a config entry describes, its password hashed (from the entry, or its
/// extension's SIP password).
async fn seeded(seed: &AccountSeed, config: &Seeds<'_>) -> Account {
    let password_hash = match (&seed.password_hash, &seed.password) {
        (Some(h), _) => h.clone(),
        (None, Some(p)) => hash(p.clone()).await,
        (None, None) => {
            let sip = seed
                .extension
                .as_ref()
                .and_then(|x| (config.sip_password)(x))
                .unwrap_or_else(secret::new_password);
            hash(sip).await
        }
    };
    Account {
        id: seed.id.clone(),
        name: seed.name.clone(),
        password_hash,
        roles: seed.roles.clone(),
        teams: seed.teams.clone(),
        agent: seed.agent.clone(),
        extension: seed.extension.clone(),
        locked: false,
        failures: 0,
    }
}

/// Writes the generated password to `data_dir/admin-password`, readable by the owner only.
fn write_admin_password(data_dir: &Path, password: &str) {
    let path = data_dir.join(ADMIN_PASSWORD_FILE);
    let result = (|| -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        writeln!(f, "{password}")
    })();
    if let Err(e) = result {
        tracing::error!(path = %path.display(), error = %e, "cannot write the administrator password file");
    }
}

#[cfg(test)]
mod tests;
