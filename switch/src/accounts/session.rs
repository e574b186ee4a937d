//! Login sessions of the web pages: a random id in an HTTP-only cookie, with an idle and
//! an absolute expiry. Only the id's SHA-256 is kept. Each session has its own CSRF token,
//! which cookie-authenticated writes may carry in `X-CSRF-Token` when the browser sends no
//! `Origin`.
//!
//! Sessions live in memory: a restart asks the pages to log in again (API tokens, kept in
//! the store, survive it).

use super::secret;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The cookie's name.
pub const COOKIE: &str = "ccswitch_session";

#[derive(Debug, Clone)]
pub struct Session {
    pub account: String,
    pub csrf: String,
    pub created: Instant,
    pub last_seen: Instant,
}

#[derive(Debug)]
pub struct Sessions {
    by_digest: HashMap<String, Session>,
    idle: Duration,
    absolute: Duration,
}

impl Sessions {
    pub fn new(idle: Duration, absolute: Duration) -> Sessions {
        Sessions {
            by_digest: HashMap::new(),
            idle,
            absolute,
        }
    }

    /// A new session; returns its id (for the cookie) and the session.
    pub fn create(&mut self, now: Instant, account: &str) -> (String, Session) {
        self.expire(now);
        let id = secret::new_secret("");
        let session = Session {
            account: account.to_string(),
            csrf: secret::new_secret(""),
            created: now,
            last_seen: now,
        };
        self.by_digest.insert(secret::digest(&id), session.clone());
        (id, session)
    }

    /// The live session of `id`, its idle time restarted; `None` when unknown or expired
    /// (an expired one is removed).
    pub fn touch(&mut self, now: Instant, id: &str) -> Option<Session> {
        let key = secret::digest(id);
        let live = self
            .by_digest
            .get(&key)
            .is_some_and(|s| self.is_live(s, now));
        if !live {
            self.by_digest.remove(&key);
            return None;
        }
        let s = self.by_digest.get_mut(&key)?;
        s.last_seen = now;
        Some(s.clone())
    }

    fn is_live(&self, s: &Session, now: Instant) -> bool {
        now.saturating_duration_since(s.last_seen) < self.idle
            && now.saturating_duration_since(s.created) < self.absolute
    }

    /// Ends the session of `id`; returns it if it was there.
    pub fn remove(&mut self, id: &str) -> Option<Session> {
        self.by_digest.remove(&secret::digest(id))
    }

    /// Ends every session of `account` (its password changed, it was locked or deleted).
    pub fn remove_account(&mut self, account: &str) {
        self.by_digest.retain(|_, s| s.account != account);
    }

    /// Drops expired sessions.
    pub fn expire(&mut self, now: Instant) {
        let (idle, absolute) = (self.idle, self.absolute);
        self.by_digest.retain(|_, s| {
            now.saturating_duration_since(s.last_seen) < idle
                && now.saturating_duration_since(s.created) < absolute
        });
    }

    /// Whether `account` has a live session (someone has its desktop open).
    pub fn has_account(&self, now: Instant, account: &str) -> bool {
        self.by_digest
            .values()
            .any(|s| s.account == account && self.is_live(s, now))
    }

    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// The cookie's Max-Age: the absolute lifetime (the idle one is enforced here).
    pub fn max_age(&self) -> Duration {
        self.absolute
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_when_idle_and_absolutely() {
        let t0 = Instant::now();
        let mut s = Sessions::new(Duration::from_secs(10), Duration::from_secs(25));
        let (id, _) = s.create(t0, "1001");
        assert!(s.touch(t0 + Duration::from_secs(9), &id).is_some());
        // Used within the idle time, so still alive at 18 s ...
        assert!(s.touch(t0 + Duration::from_secs(18), &id).is_some());
        // ... but never past the absolute limit.
        assert!(s.touch(t0 + Duration::from_secs(26), &id).is_none());
        let (id2, _) = s.create(t0, "1002");
        assert!(
            s.touch(t0 + Duration::from_secs(11), &id2).is_none(),
            "idle"
        );
        assert!(s.touch(t0, "nonsense").is_none());
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn logout_and_account_removal_end_sessions() {
        let t0 = Instant::now();
        let mut s = Sessions::new(Duration::from_secs(10), Duration::from_secs(25));
        let (a, _) = s.create(t0, "1001");
        let (b, _) = s.create(t0, "1001");
        let (c, _) = s.create(t0, "1002");
        assert!(s.remove(&a).is_some());
        assert!(s.touch(t0, &a).is_none());
        s.remove_account("1001");
        assert!(s.touch(t0, &b).is_none());
        assert!(s.touch(t0, &c).is_some());
    }
}
