//! The server side: minting challenges and verifying credentials (RFC 3261 §22.1–22.4).

use std::collections::BTreeMap;
use std::fmt;

use super::challenge::Challenge;
use super::credentials::Credentials;
use super::nonce::{self, constant_time_eq, NonceId};
use super::{Algorithm, AuthError};

/// What [`Authenticator::verify`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The credentials are good for `username` (exactly as the client sent it).
    Ok { username: String },
    /// The credentials were right but the nonce has outlived its lifetime (or its replay
    /// record was dropped): re-challenge with `stale = true`, and the client retries without
    /// asking its user again.
    Stale,
    /// Refused. The reason is for logs only: answer the peer with a plain fresh challenge
    /// whatever it is, so the peer cannot tell an unknown user from a wrong password.
    Rejected(AuthError),
}

/// Mints challenges and verifies credentials for one realm.
///
/// Nonces are stateless (see the `nonce` module): any authenticator with the same realm and
/// secret accepts them, so several nodes can share a secret. The one piece of state is the
/// replay guard for `qop=auth`: the highest `nc` accepted per nonce. It is per process, holds
/// only nonces within their lifetime, and is capped at [`Self::DEFAULT_MAX_TRACKED_NONCES`]
/// (see [`Self::with_max_tracked_nonces`]).
pub struct Authenticator {
    realm: String,
    secret: [u8; 32],
    nonce_ttl_secs: u64,
    opaque: String,
    /// Highest `nc` accepted per nonce, ordered by issue time so expiry and eviction take the
    /// oldest first.
    highest_nc: BTreeMap<NonceId, u32>,
    max_tracked_nonces: usize,
    /// When the cap forced out a live entry, the newest issue time so dropped. A nonce issued
    /// at or before it with no entry may have been used already, so it is answered `Stale`
    /// rather than accepted with its history forgotten.
    forgotten_through: Option<u64>,
}

/// Stands in for the password of an unknown user, so that case costs the same hashing as a
/// wrong password.
const DUMMY_PASSWORD: &str = "unknown-user-dummy-password";

impl Authenticator {
    /// Cap on the replay guard: enough for tens of thousands of authenticated nonces in one
    /// lifetime, at a few dozen bytes each.
    pub const DEFAULT_MAX_TRACKED_NONCES: usize = 65_536;

    /// An authenticator for `realm`, keying nonces with `secret`, which should be random and
    /// kept out of logs. Nonces older than `nonce_ttl_secs` are stale.
    ///
    /// Control characters cannot be carried in a challenge's quoted realm, so they are removed
    /// here; the realm challenged with and the realm checked are then always the same.
    pub fn new(realm: String, secret: [u8; 32], nonce_ttl_secs: u64) -> Self {
        let realm = if super::params::is_printable(&realm) {
            realm
        } else {
            realm
                .chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect()
        };
        let opaque = nonce::opaque(&secret, &realm);
        Authenticator {
            realm,
            secret,
            nonce_ttl_secs,
            opaque,
            highest_nc: BTreeMap::new(),
            max_tracked_nonces: Self::DEFAULT_MAX_TRACKED_NONCES,
            forgotten_through: None,
        }
    }

    /// Sets the replay guard's cap (at least 1).
    pub fn with_max_tracked_nonces(mut self, max: usize) -> Self {
        self.max_tracked_nonces = max.max(1);
        self
    }

    /// The realm challenged with.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// How many nonces the replay guard currently remembers (for metrics).
    pub fn tracked_nonces(&self) -> usize {
        self.highest_nc.len()
    }

    /// One `WWW-Authenticate` / `Proxy-Authenticate` value per algorithm, SHA-256 first, then
    /// MD5 (RFC 8760 §2.4: preferred first; clients use the first they support). Both carry
    /// the same fresh nonce and offer `qop="auth"`; `stale` adds `stale=true`.
    pub fn challenges(&self, now_unix_secs: u64, stale: bool) -> Vec<String> {
        self.challenges_for(now_unix_secs, stale, &[Algorithm::Sha256, Algorithm::Md5])
    }

    /// Like [`Authenticator::challenges`] with the algorithms chosen by the caller, in order:
    /// some deployed clients give up on a challenge set that names an algorithm they lack.
    pub fn challenges_for(
        &self,
        now_unix_secs: u64,
        stale: bool,
        algorithms: &[Algorithm],
    ) -> Vec<String> {
        let id = NonceId {
            issued_at: now_unix_secs,
            salt: rand::random(),
        };
        let nonce = nonce::mint(&self.secret, &self.realm, id);
        algorithms
            .iter()
            .map(|&algorithm| {
                Challenge {
                    realm: self.realm.clone(),
                    nonce: nonce.clone(),
                    opaque: Some(self.opaque.clone()),
                    algorithm,
                    qop: vec!["auth".to_owned()],
                    stale,
                }
                .to_string()
            })
            .collect()
    }

    /// Checks `creds` from a request with `method`. `password_lookup` gets the username
    /// exactly as sent and returns that user's password, or `None` if there is no such user.
    ///
    /// Checks, in order: realm; that the nonce is ours; opaque (when echoed); the response
    /// digest, compared in constant time; then the nonce's age (`Stale` only for otherwise
    /// correct credentials, per RFC 2617 `stale` semantics); then, with `qop=auth`, that `nc`
    /// is greater than any accepted before for this nonce (so `nc` must start at 1).
    ///
    /// Without `qop` (RFC 2069 clients) there is no `nc`, so a captured request can be
    /// replayed for as long as its nonce lives; the nonce lifetime is the only bound. That is
    /// the weaker protection RFC 2617 describes; keep `nonce_ttl_secs` short if it matters.
    ///
    /// The `uri` directive is not compared with the request's Request-URI here; proxies may
    /// rewrite the latter, so that policy belongs to the caller.
    pub fn verify(
        &mut self,
        now_unix_secs: u64,
        method: &str,
        creds: &Credentials,
        password_lookup: impl FnOnce(&str) -> Option<String>,
    ) -> AuthOutcome {
        self.forget_expired(now_unix_secs);
        match self.check(now_unix_secs, method, creds, password_lookup) {
            Ok(()) => AuthOutcome::Ok {
                username: creds.username.clone(),
            },
            Err(Verdict::Stale) => AuthOutcome::Stale,
            Err(Verdict::Rejected(e)) => AuthOutcome::Rejected(e),
        }
    }

    fn check(
        &mut self,
        now: u64,
        method: &str,
        creds: &Credentials,
        password_lookup: impl FnOnce(&str) -> Option<String>,
    ) -> Result<(), Verdict> {
        if creds.realm != self.realm {
            return Err(Verdict::Rejected(AuthError::RealmMismatch));
        }
        let id = nonce::verify(&self.secret, &self.realm, &creds.nonce)
            .ok_or(Verdict::Rejected(AuthError::BadNonce))?;
        if creds.opaque.as_ref().is_some_and(|o| *o != self.opaque) {
            return Err(Verdict::Rejected(AuthError::OpaqueMismatch));
        }

        let password = password_lookup(&creds.username);
        let known = password.is_some();
        let expected =
            creds.expected_response(method, password.as_deref().unwrap_or(DUMMY_PASSWORD));
        let matches = constant_time_eq(
            expected.as_bytes(),
            creds.response.to_ascii_lowercase().as_bytes(),
        );
        if !known {
            return Err(Verdict::Rejected(AuthError::UnknownUser));
        }
        if !matches {
            return Err(Verdict::Rejected(AuthError::BadResponse));
        }

        if self.is_expired(id, now) {
            return Err(Verdict::Stale);
        }
        let Some(qop) = &creds.qop else {
            return Ok(());
        };
        match self.highest_nc.get(&id) {
            Some(&highest) if qop.nc <= highest => Err(Verdict::Rejected(AuthError::Replay)),
            Some(_) => {
                self.highest_nc.insert(id, qop.nc);
                Ok(())
            }
            None if self.forgotten_through.is_some_and(|t| id.issued_at <= t) => {
                Err(Verdict::Stale)
            }
            None if qop.nc == 0 => Err(Verdict::Rejected(AuthError::Replay)),
            None => {
                self.track(id, qop.nc);
                Ok(())
            }
        }
    }

    fn is_expired(&self, id: NonceId, now: u64) -> bool {
        now.saturating_sub(id.issued_at) > self.nonce_ttl_secs
    }

    /// Drops replay records of nonces past their lifetime: those are answered `Stale` by age
    /// alone, so their records are no longer needed.
    fn forget_expired(&mut self, now: u64) {
        while let Some((&id, _)) = self.highest_nc.first_key_value() {
            if !self.is_expired(id, now) {
                break;
            }
            self.highest_nc.pop_first();
        }
    }

    /// Records a first use, evicting the oldest record when at the cap.
    fn track(&mut self, id: NonceId, nc: u32) {
        while self.highest_nc.len() >= self.max_tracked_nonces {
            match self.highest_nc.pop_first() {
                Some((evicted, _)) => {
                    self.forgotten_through = Some(
                        self.forgotten_through
                            .map_or(evicted.issued_at, |t| t.max(evicted.issued_at)),
                    );
                }
                None => break,
            }
        }
        self.highest_nc.insert(id, nc);
    }
}

/// Redacts the secret.
impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("realm", &self.realm)
            .field("secret", &"<redacted>")
            .field("nonce_ttl_secs", &self.nonce_ttl_secs)
            .field("tracked_nonces", &self.highest_nc.len())
            .field("max_tracked_nonces", &self.max_tracked_nonces)
            .field("forgotten_through", &self.forgotten_through)
            .finish()
    }
}

enum Verdict {
    Stale,
    Rejected(AuthError),
}
