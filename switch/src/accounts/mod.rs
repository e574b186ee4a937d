//! Accounts, login sessions, API tokens, teams and the audit trail: who may use the web
//! pages and the API, and as what.
//!
//! [`Accounts`] is the one owner of this state. It keeps the accounts, teams and tokens in
//! memory, writes every change through to the store before answering, and records every
//! login, logout, failure, lock and change in the audit trail. A request's credential (the
//! session cookie of the pages, or a bearer API token) becomes a [`Principal`], rebuilt from
//! the current account on every request, so a role change or a lock takes effect at once.

mod account;
mod admin;
mod dialing;
mod login;
mod online;
mod open;
mod role;
mod secret;
mod session;
mod settings;
mod teams;
mod throttle;
mod tokens;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
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
    #[error("account {account:?} is still in team {team:?}")]
    TeamInUse { team: String, account: String },
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
    /// Logins by result: ok, invalid, locked, throttled.
    logins: [AtomicU64; 4],
}

/// The `result` labels of `switch_http_logins_total`, in `Inner::logins` order.
const LOGIN_RESULTS: [&str; 4] = ["ok", "invalid", "locked", "throttled"];

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

    /// Whether the SIP user `supervisor` (an account's extension, or its id) may supervise
    /// the calls of the phone `extension` (the ACD agent `agent`, when known): an
    /// administrator may; a supervisor may for the accounts of their teams.
    pub fn may_supervise(&self, supervisor: &str, agent: Option<&str>, extension: &str) -> bool {
        let dir = read(&self.inner.directory);
        let phone_of = |a: &Account, user: &str| {
            a.extension.as_deref() == Some(user) || (a.extension.is_none() && a.id == user)
        };
        let Some(sup) = dir.accounts.values().find(|a| phone_of(a, supervisor)) else {
            return false;
        };
        if sup.locked {
            return false;
        }
        if sup.roles.contains(&Role::Administrator) {
            return true;
        }
        if !sup.roles.contains(&Role::Supervisor) {
            return false;
        }
        dir.accounts.values().any(|a| {
            let is_target =
                phone_of(a, extension) || (agent.is_some() && a.agent.as_deref() == agent);
            is_target && a.id != sup.id && a.teams.iter().any(|t| sup.teams.contains(t))
        })
    }

    /// The agents of the accounts sharing a team with `p` (a chat's transfer targets).
    pub fn team_agents(&self, p: &Principal) -> std::collections::BTreeSet<String> {
        let dir = read(&self.inner.directory);
        dir.accounts
            .values()
            .filter(|a| a.teams.iter().any(|t| p.teams.contains(t)))
            .filter_map(|a| a.agent.clone())
            .collect()
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

    /// The accounts' Prometheus metrics: logins by result, open sessions.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(
            out,
            "# HELP switch_http_logins_total Logins to the web pages and API, by result."
        );
        let _ = writeln!(out, "# TYPE switch_http_logins_total counter");
        for (name, n) in LOGIN_RESULTS.iter().zip(&self.inner.logins) {
            let _ = writeln!(
                out,
                "switch_http_logins_total{{result=\"{name}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(out, "# HELP switch_http_sessions Page sessions open.");
        let _ = writeln!(out, "# TYPE switch_http_sessions gauge");
        let _ = writeln!(out, "switch_http_sessions {}", self.sessions());
    }

    /// The cookie's `Max-Age`, in seconds.
    pub fn session_max_age(&self) -> u64 {
        lock(&self.inner.sessions).max_age().as_secs()
    }
}

#[cfg(test)]
mod tests;
