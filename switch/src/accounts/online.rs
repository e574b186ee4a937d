//! Who is on line: accounts with a live page session, and the people one account may see
//! in the team directory.

use super::{lock, read, AccountView, Accounts, Principal, Role};
use std::time::Instant;

impl Accounts {
    /// Whether `account` has a live login session (a desktop open).
    pub fn online(&self, account: &str) -> bool {
        lock(&self.inner.sessions).has_account(Instant::now(), account)
    }

    /// The agents and supervisors `p` may see in the directory: everyone for an
    /// administrator, else the accounts sharing one of `p`'s teams (not `p` itself).
    pub fn directory_people(&self, p: &Principal) -> Vec<AccountView> {
        read(&self.inner.directory)
            .accounts
            .values()
            .filter(|a| a.id != p.account)
            .filter(|a| a.has(Role::Agent) || a.has(Role::Supervisor))
            .filter(|a| p.is_admin() || a.teams.iter().any(|t| p.teams.contains(t)))
            .map(|a| a.view())
            .collect()
    }
}
