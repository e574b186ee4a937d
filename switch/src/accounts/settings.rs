//! The accounts' settings, as the config file gives them (`[auth]`, `[[accounts]]`,
//! `[[teams]]`; parsed in `config::auth`).

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use super::{DialPlanRules, Role, Team};

/// `[auth]`, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfig {
    /// A page session ends after this long without a request (`session_idle_secs`).
    pub session_idle: Duration,
    /// ... and this long after the login in any case (`session_max_secs`).
    pub session_max: Duration,
    /// Failed logins in a row that lock an account (`lock_after`).
    pub lock_after: u32,
    /// Failed logins in a row, per account, before each next attempt must wait
    /// (`backoff_after`): 1 s, doubling, up to `backoff_max`.
    pub backoff_after: u32,
    pub backoff_max: Duration,
    /// The same per source address (`address_backoff_after`), set higher: one office's
    /// NAT address carries many agents.
    pub address_backoff_after: u32,
    /// Whether `/metrics` answers without a login (`metrics_open`).
    pub metrics_open: bool,
    /// Whether the session cookie is marked `Secure` (`secure_cookie`): set it when the
    /// pages are served over HTTPS, by a TLS proxy in front of the switch.
    pub secure_cookie: bool,
    /// `[auth.dialing.ROLE]`: the numbers each role may have the switch call.
    pub dialing: DialPlanRules,
}

/// One `[[accounts]]` entry, typed. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct AccountSeed {
    pub id: String,
    pub name: String,
    /// Clear text from the file; hashed when the account is created. With neither this
    /// nor `password_hash`, the account takes its extension's SIP password.
    pub password: Option<String>,
    pub password_hash: Option<String>,
    pub roles: BTreeSet<Role>,
    pub teams: BTreeSet<String>,
    pub agent: Option<String>,
    pub extension: Option<String>,
}

impl fmt::Debug for AccountSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountSeed")
            .field("id", &self.id)
            .field("roles", &self.roles)
            .field("teams", &self.teams)
            .field("agent", &self.agent)
            .field("extension", &self.extension)
            .finish_non_exhaustive()
    }
}

/// What [`Accounts::open`](super::Accounts::open) starts from.
pub struct Seeds<'a> {
    pub auth: &'a AuthConfig,
    pub teams: &'a [Team],
    pub accounts: &'a [AccountSeed],
    /// Where the generated administrator password is written.
    pub data_dir: &'a Path,
    /// A SIP user's password, for accounts that log in with their extension's.
    pub sip_password: SipPasswords<'a>,
}

/// Looks up a SIP user's password by id.
pub type SipPasswords<'a> = Box<dyn Fn(&str) -> Option<String> + Send + Sync + 'a>;
