//! Loading accounts at start: the store's, then the config file's new ones, then the
//! administrator with a generated password when there is none.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use super::session::Sessions;
use super::throttle::Throttle;
use super::{
    hash, secret, Account, AccountSeed, Accounts, Directory, Inner, Opened, Role, Seeds, Team,
    ADMIN, ADMIN_PASSWORD_FILE,
};
use crate::store::{Store, StoreError};

impl Accounts {
    /// Loads accounts, teams and tokens from the store; creates the config file's accounts
    /// and teams the store has never seen; creates the administrator `admin` with a
    /// generated password (written to `data_dir/admin-password`) when no account has the
    /// administrator role.
    pub async fn open(store: Store, config: Seeds<'_>) -> Result<(Accounts, Opened), StoreError> {
        let mut dir = Directory::default();
        let rows: Vec<(String, Option<Account>)> = store.load_accounts().await?;
        let seen: HashSet<String> = rows.iter().map(|(k, _)| k.clone()).collect();
        for (id, account) in rows {
            if let Some(a) = account {
                dir.accounts.insert(id, a);
            }
        }
        let team_rows: Vec<(String, Option<Team>)> = store.load_teams().await?;
        let seen_teams: HashSet<String> = team_rows.iter().map(|(k, _)| k.clone()).collect();
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
            logins: Default::default(),
        };
        Ok((
            Accounts {
                inner: Arc::new(inner),
            },
            opened,
        ))
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
