//! API tokens for integrations (a CRM, a wallboard): made, listed and revoked by an
//! administrator; only their digest is kept.

use std::time::Duration;

use super::{
    invalid, now_ms, read, secret, write, AccountError, Accounts, Actor, NewToken, TOKEN_PREFIX,
};
use crate::store::StoredToken;

impl Accounts {
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
}
