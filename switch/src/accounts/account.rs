//! An account: who may log in to the desktop or the API, with which roles and teams.
//!
//! An agent's account links to its ACD agent (`agent`) and the SIP user its phone registers
//! as (`extension`): click-to-call and preview calls are placed from that extension only.
//! The password is kept as an argon2id hash (PHC string) and never leaves the switch: the
//! JSON the API shows is [`AccountView`].

use super::role::{Role, Roles};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    pub name: String,
    /// argon2id, PHC string format.
    pub password_hash: String,
    pub roles: Roles,
    pub teams: BTreeSet<String>,
    /// The ACD agent this account acts as.
    #[serde(default)]
    pub agent: Option<String>,
    /// The SIP user (phone) of this account.
    #[serde(default)]
    pub extension: Option<String>,
    /// Locked after too many failed logins; an administrator unlocks it.
    #[serde(default)]
    pub locked: bool,
    /// Failed logins since the last success.
    #[serde(default)]
    pub failures: u32,
}

/// An account as the API shows it: everything but the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    pub id: String,
    pub name: String,
    pub roles: Roles,
    pub teams: BTreeSet<String>,
    pub agent: Option<String>,
    pub extension: Option<String>,
    pub locked: bool,
}

impl Account {
    pub fn view(&self) -> AccountView {
        AccountView {
            id: self.id.clone(),
            name: self.name.clone(),
            roles: self.roles.clone(),
            teams: self.teams.clone(),
            agent: self.agent.clone(),
            extension: self.extension.clone(),
            locked: self.locked,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

/// A team: a name, and the queues its supervisors look after. Accounts name their teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub name: String,
    #[serde(default)]
    pub queues: BTreeSet<String>,
}

/// What an account's fields must look like; `Err((field, why))`.
pub fn check_fields(
    id: &str,
    name: &str,
    teams: &BTreeSet<String>,
    agent: Option<&str>,
    extension: Option<&str>,
) -> Result<(), (&'static str, String)> {
    acd::check_agent_id(id).map_err(|e| ("id", e.to_string()))?;
    acd::check_name(name).map_err(|e| ("name", e.to_string()))?;
    for t in teams {
        check_team_name(t).map_err(|e| ("teams", e))?;
    }
    if let Some(a) = agent {
        acd::check_agent_id(a).map_err(|e| ("agent", e.to_string()))?;
    }
    if let Some(x) = extension {
        acd::check_agent_id(x).map_err(|e| ("extension", e.to_string()))?;
    }
    Ok(())
}

/// A team name: 1-64 of letters, digits and `. _ + -`.
pub fn check_team_name(name: &str) -> Result<(), String> {
    acd::check_agent_id(name).map_err(|e| format!("team {name:?}: {e}"))
}

/// Passwords: 8-256 characters. Longer ones are refused rather than cut (argon2 would take
/// them, but a megabyte "password" is a denial-of-service attempt).
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 8 {
        return Err("must be at least 8 characters".into());
    }
    if n > 256 {
        return Err("must be at most 256 characters".into());
    }
    Ok(())
}
