//! Back-off for failed logins, per account and per source address.
//!
//! After `free` failures in a row a key must wait before its next attempt: 1 s, then
//! doubling with each further failure, up to `max`. An attempt made while waiting is
//! refused without looking at the password (so guessing cannot go faster than the back-off)
//! and does not count as a failure. A success clears the key; a key whose last failure is
//! older than [`QUIET`] starts again from nothing, and keys not seen for an hour are
//! forgotten.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

const FORGET_AFTER: Duration = Duration::from_secs(3600);
/// Failures further apart than this are not "in a row".
pub const QUIET: Duration = Duration::from_secs(900);

#[derive(Debug)]
pub struct Throttle<K> {
    entries: HashMap<K, Entry>,
    free: u32,
    max: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    not_before: Instant,
    last: Instant,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(free: u32, max: Duration) -> Throttle<K> {
        Throttle {
            entries: HashMap::new(),
            free,
            max,
        }
    }

    /// `Err(wait)` when `key` must wait before trying again.
    pub fn check(&self, now: Instant, key: &K) -> Result<(), Duration> {
        match self.entries.get(key) {
            Some(e) if e.not_before > now => Err(e.not_before - now),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the failures in a row.
    pub fn fail(&mut self, now: Instant, key: &K) -> u32 {
        if self.entries.len() > 100_000 {
            self.entries
                .retain(|_, e| now.saturating_duration_since(e.last) < FORGET_AFTER);
        }
        let e = self.entries.entry(key.clone()).or_insert(Entry {
            failures: 0,
            not_before: now,
            last: now,
        });
        if now.saturating_duration_since(e.last) > QUIET {
            e.failures = 0;
        }
        e.failures += 1;
        e.last = now;
        if e.failures >= self.free {
            let doublings = (e.failures - self.free).min(16);
            let wait = Duration::from_secs(1u64 << doublings).min(self.max);
            e.not_before = now + wait;
        }
        e.failures
    }

    pub fn succeed(&mut self, key: &K) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_after_the_free_failures_and_doubles() {
        let t0 = Instant::now();
        let mut t: Throttle<&str> = Throttle::new(3, Duration::from_secs(5));
        for _ in 0..2 {
            t.fail(t0, &"a");
            assert!(t.check(t0, &"a").is_ok());
        }
        t.fail(t0, &"a");
        assert_eq!(t.check(t0, &"a"), Err(Duration::from_secs(1)));
        assert!(t.check(t0 + Duration::from_secs(1), &"a").is_ok());
        t.fail(t0, &"a");
        assert_eq!(t.check(t0, &"a"), Err(Duration::from_secs(2)));
        for _ in 0..10 {
            t.fail(t0, &"a");
        }
        assert_eq!(t.check(t0, &"a"), Err(Duration::from_secs(5)), "capped");
        // Another key is not affected; a success clears.
        assert!(t.check(t0, &"b").is_ok());
        t.succeed(&"a");
        assert!(t.check(t0, &"a").is_ok());
    }
}
