//! Logging in and out, and turning a request's credential into a [`Principal`].

use std::net::IpAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{
    lock, now_ms, read, secret, verify, Account, AccountView, Accounts, Actor, CredentialError,
    LoginError, Principal, Via,
};

impl Accounts {
    /// Checks `user` / `password` from `address`; on success starts a session and returns
    /// its id (the cookie's value), its CSRF token and the account.
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        address: IpAddr,
    ) -> Result<(String, String, AccountView), LoginError> {
        let result = self.check_login(user, password, address).await;
        let i = match &result {
            Ok(_) => 0,
            Err(LoginError::Invalid | LoginError::Store(_)) => 1,
            Err(LoginError::Locked) => 2,
            Err(LoginError::TooMany(_)) => 3,
        };
        self.inner.logins[i].fetch_add(1, Ordering::Relaxed);
        result
    }

    async fn check_login(
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
