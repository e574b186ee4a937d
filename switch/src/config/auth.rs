//! `[auth]`, `[[accounts]]` and `[[teams]]`: who may log in to the desktop and the API.
//!
//! Accounts named here are created in the store the first time the switch starts with
//! them; from then on the store is the truth (changes over REST survive restarts). An
//! account without `password` / `password_hash` that has an `extension` (or an `agent`
//! whose extension is a user) logs in with that SIP user's password.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::raw::RawConfig;
use super::validate::Problems;
use crate::accounts::{
    check_fields, check_team_name, AccountSeed, AuthConfig, DialPlanRules, DialRule, Role, Team,
};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawAuth {
    pub session_idle_secs: u64,
    pub session_max_secs: u64,
    pub lock_after: u64,
    pub backoff_after: u64,
    pub backoff_max_secs: u64,
    pub address_backoff_after: u64,
    pub metrics_open: bool,
    pub secure_cookie: bool,
    pub dialing: BTreeMap<String, RawDialRule>,
}

impl Default for RawAuth {
    fn default() -> Self {
        RawAuth {
            session_idle_secs: 1800,
            session_max_secs: 43_200,
            lock_after: 10,
            backoff_after: 3,
            backoff_max_secs: 30,
            address_backoff_after: 20,
            metrics_open: true,
            secure_cookie: false,
            dialing: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawDialRule {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccount {
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_hash: String,
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub agent: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub extension: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTeam {
    pub name: String,
    #[serde(default)]
    pub queues: Vec<String>,
}

fn none_if_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

pub(super) fn auth(raw: &RawAuth, p: &mut Problems) -> Option<AuthConfig> {
    let day = 86_400 * 30;
    let idle = p.in_range::<u64>("auth.session_idle_secs", raw.session_idle_secs, 1, day);
    let max = p.in_range::<u64>("auth.session_max_secs", raw.session_max_secs, 1, day);
    let lock_after = p.in_range::<u32>("auth.lock_after", raw.lock_after, 1, 1000);
    let backoff_after = p.in_range::<u32>("auth.backoff_after", raw.backoff_after, 1, 1000);
    let backoff_max = p.in_range::<u64>("auth.backoff_max_secs", raw.backoff_max_secs, 1, 3600);
    let address = p.in_range::<u32>(
        "auth.address_backoff_after",
        raw.address_backoff_after,
        1,
        100_000,
    );
    let mut dialing = BTreeMap::new();
    for (role, rule) in &raw.dialing {
        match Role::parse(role) {
            Some(r) => {
                dialing.insert(
                    r,
                    DialRule {
                        allow: rule.allow.clone(),
                        deny: rule.deny.clone(),
                    },
                );
            }
            None => p.add(
                format!("auth.dialing.{role}"),
                "unknown role (agent, supervisor, campaign_manager, administrator)",
            ),
        }
    }
    Some(AuthConfig {
        session_idle: Duration::from_secs(idle?),
        session_max: Duration::from_secs(max?),
        lock_after: lock_after?,
        backoff_after: backoff_after?,
        backoff_max: Duration::from_secs(backoff_max?),
        address_backoff_after: address?,
        metrics_open: raw.metrics_open,
        secure_cookie: raw.secure_cookie,
        dialing: DialPlanRules(dialing),
    })
}

pub(super) fn teams(raw: &[RawTeam], p: &mut Problems) -> Vec<Team> {
    let mut out: Vec<Team> = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        if let Err(e) = check_team_name(&t.name) {
            p.add(format!("teams[{i}].name"), e);
        }
        if out.iter().any(|o| o.name == t.name) {
            p.add(
                format!("teams[{i}].name"),
                format!("duplicate team {:?}", t.name),
            );
        }
        for (j, dn) in t.queues.iter().enumerate() {
            if let Err(e) = acd::check_dn(dn) {
                p.add(format!("teams[{i}].queues[{j}]"), e);
            }
        }
        out.push(Team {
            name: t.name.clone(),
            queues: t.queues.iter().cloned().collect(),
        });
    }
    out
}

/// The accounts, with each one's extension and password defaulted from its ACD agent and
/// SIP user.
pub(super) fn accounts(raw: &RawConfig, p: &mut Problems) -> Vec<AccountSeed> {
    let mut out: Vec<AccountSeed> = Vec::new();
    for (i, a) in raw.accounts.iter().enumerate() {
        let key = |field: &str| format!("accounts[{i}].{field}");
        let mut roles = BTreeSet::new();
        for (j, r) in a.roles.iter().enumerate() {
            match Role::parse(r) {
                Some(role) => {
                    roles.insert(role);
                }
                None => p.add(
                    format!("accounts[{i}].roles[{j}]"),
                    format!(
                        "unknown role {r:?} (agent, supervisor, campaign_manager, administrator)"
                    ),
                ),
            }
        }
        if a.roles.is_empty() {
            p.add(key("roles"), "must name at least one role");
        }
        let agent = none_if_empty(&a.agent);
        let agent_config = agent
            .as_ref()
            .and_then(|id| raw.agents.iter().find(|g| g.id.as_str() == id.as_str()));
        if agent.is_some() && agent_config.is_none() {
            p.add(key("agent"), format!("no [[agents]] entry {:?}", a.agent));
        }
        let extension = none_if_empty(&a.extension).or_else(|| {
            agent_config
                .map(|g| g.extension.to_string())
                .filter(|x| !x.is_empty())
        });
        let user = extension
            .as_ref()
            .and_then(|x| raw.users.iter().find(|u| &u.id == x));
        if !a.extension.is_empty() && user.is_none() {
            p.add(
                key("extension"),
                format!("no [[users]] entry {:?}", a.extension),
            );
        }
        let password = none_if_empty(&a.password);
        let password_hash = none_if_empty(&a.password_hash);
        let sip_password = user.is_some_and(|u| !u.password.is_empty());
        if password.is_none() && password_hash.is_none() && !sip_password {
            p.add(
                key("password"),
                "needs password, password_hash, or an extension whose SIP password it takes",
            );
        }
        if let Some(h) = &password_hash {
            if argon2::PasswordHash::new(h).is_err() {
                p.add(key("password_hash"), "is not a PHC string ($argon2id$...)");
            }
        }
        let teams: BTreeSet<String> = a.teams.iter().cloned().collect();
        let name = if a.name.is_empty() {
            agent_config
                .map(|g| g.name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| a.id.clone())
        } else {
            a.name.clone()
        };
        if let Err((field, why)) =
            check_fields(&a.id, &name, &teams, agent.as_deref(), extension.as_deref())
        {
            p.add(key(field), why);
        }
        for (j, t) in a.teams.iter().enumerate() {
            if !raw.teams.iter().any(|rt| &rt.name == t) {
                p.add(
                    format!("accounts[{i}].teams[{j}]"),
                    format!("no [[teams]] entry {t:?}"),
                );
            }
        }
        if out.iter().any(|o| o.id == a.id) {
            p.add(key("id"), format!("duplicate account {:?}", a.id));
        }
        out.push(AccountSeed {
            id: a.id.clone(),
            name,
            password,
            password_hash,
            roles,
            teams,
            agent,
            extension,
        });
    }
    out
}

pub(super) fn raw_accounts(accounts: &[AccountSeed]) -> Vec<RawAccount> {
    accounts
        .iter()
        .map(|a| RawAccount {
            id: a.id.clone(),
            name: a.name.clone(),
            password: a.password.clone().unwrap_or_default(),
            password_hash: a.password_hash.clone().unwrap_or_default(),
            roles: a.roles.iter().map(|r| r.as_str().to_string()).collect(),
            teams: a.teams.iter().cloned().collect(),
            agent: a.agent.clone().unwrap_or_default(),
            extension: a.extension.clone().unwrap_or_default(),
        })
        .collect()
}

pub(super) fn raw_teams(teams: &[Team]) -> Vec<RawTeam> {
    teams
        .iter()
        .map(|t| RawTeam {
            name: t.name.clone(),
            queues: t.queues.iter().cloned().collect(),
        })
        .collect()
}

pub(super) fn raw_auth(a: &AuthConfig) -> RawAuth {
    RawAuth {
        session_idle_secs: a.session_idle.as_secs(),
        session_max_secs: a.session_max.as_secs(),
        lock_after: u64::from(a.lock_after),
        backoff_after: u64::from(a.backoff_after),
        backoff_max_secs: a.backoff_max.as_secs(),
        address_backoff_after: u64::from(a.address_backoff_after),
        metrics_open: a.metrics_open,
        secure_cookie: a.secure_cookie,
        dialing: a
            .dialing
            .0
            .iter()
            .map(|(r, rule)| {
                (
                    r.as_str().to_string(),
                    RawDialRule {
                        allow: rule.allow.clone(),
                        deny: rule.deny.clone(),
                    },
                )
            })
            .collect(),
    }
}
