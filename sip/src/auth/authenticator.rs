//! The server side: minting challenges and verifying credentials (RFC 3261 §22.1–22.4).

use std::fmt;
use std::sync::PoisonError;

use super::challenge::Challenge;
use super::credentials::Credentials;
use super::nonce::{self, constant_time_eq, NonceId};
use super::replay::{Admission, ReplayGuard, SharedReplayGuard};
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
/// replay guard for `qop=auth` (see [`ReplayGuard`]), which every authenticator that can see
/// a nonce must share: [`Self::with_replay_guard`] hands several the same one.
pub struct Authenticator {
    realm: String,
    secret: [u8; 32],
    nonce_ttl_secs: u64,
    opaque: String,
    replay: SharedReplayGuard,
}

/// Stands in for the password of an unknown user, so that case costs the same hashing as a
/// wrong password.
const DUMMY_PASSWORD: &str = "unknown-user-dummy-password";

impl Authenticator {
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
            replay: ReplayGuard::shared(ReplayGuard::DEFAULT_MAX_TRACKED_NONCES),
        }
    }

    /// Uses `guard` as the replay guard, shared with the other authenticators given it: a
    /// nonce-count accepted by one of them is a replay for all.
    pub fn with_replay_guard(mut self, guard: SharedReplayGuard) -> Self {
        self.replay = guard;
        self
    }

    /// The realm challenged with.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// How many nonces the replay guard currently remembers (for metrics).
    pub fn tracked_nonces(&self) -> usize {
        self.replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .tracked()
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

    /// Checks `creds` from a request with `method` and `request_uri`. `password_lookup` gets
    /// the username exactly as sent and returns that user's password, or `None` if there is
    /// no such user.
    ///
    /// Checks, in order: realm; that the nonce is ours; opaque (when echoed); that the `uri`
    /// directive names the Request-URI (RFC 3261 §22.4, RFC 7616 §3.4.6: credentials signed
    /// for one target are worth nothing for another); that `qop=auth` is used, since every
    /// challenge offers it (RFC 7616 §3.4: the RFC 2069 form has no nonce count, so a
    /// captured request could be replayed for the nonce's whole life); the response digest,
    /// compared in constant time; then the nonce's age (`Stale` only for otherwise correct
    /// credentials, per RFC 2617 `stale` semantics); then that `nc` is greater than any
    /// accepted before for this nonce by any authenticator sharing the replay guard.
    pub fn verify(
        &self,
        now_unix_secs: u64,
        method: &str,
        request_uri: &str,
        creds: &Credentials,
        password_lookup: impl FnOnce(&str) -> Option<String>,
    ) -> AuthOutcome {
        self.replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .forget_before(now_unix_secs.saturating_sub(self.nonce_ttl_secs));
        match self.check(now_unix_secs, method, request_uri, creds, password_lookup) {
            Ok(()) => AuthOutcome::Ok {
                username: creds.username.clone(),
            },
            Err(Verdict::Stale) => AuthOutcome::Stale,
            Err(Verdict::Rejected(e)) => AuthOutcome::Rejected(e),
        }
    }

    fn check(
        &self,
        now: u64,
        method: &str,
        request_uri: &str,
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
        if !uri_matches(&creds.uri, request_uri) {
            return Err(Verdict::Rejected(AuthError::UriMismatch));
        }
        let Some(qop) = &creds.qop else {
            return Err(Verdict::Rejected(AuthError::QopRequired));
        };

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
        let admission = self
            .replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(id, qop.nc);
        match admission {
            Admission::Fresh => Ok(()),
            Admission::Replay => Err(Verdict::Rejected(AuthError::Replay)),
            Admission::Forgotten => Err(Verdict::Stale),
        }
    }

    fn is_expired(&self, id: NonceId, now: u64) -> bool {
        now.saturating_sub(id.issued_at) > self.nonce_ttl_secs
    }
}

/// The `uri` directive against the Request-URI: URI equality (RFC 3261 §19.1.4) when both
/// parse, else the exact text.
fn uri_matches(directive: &str, request_uri: &str) -> bool {
    match (crate::Uri::parse(directive), crate::Uri::parse(request_uri)) {
        (Ok(a), Ok(b)) => a.equivalent(&b),
        _ => directive == request_uri,
    }
}

/// Redacts the secret.
impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("realm", &self.realm)
            .field("secret", &"<redacted>")
            .field("nonce_ttl_secs", &self.nonce_ttl_secs)
            .field("tracked_nonces", &self.tracked_nonces())
            .finish()
    }
}

enum Verdict {
    Stale,
    Rejected(AuthError),
}
