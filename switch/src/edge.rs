//! The guarded SIP edge: what an untrusted source address may cost the switch. Each
//! address has a token bucket of requests (`edge.requests_per_sec`, a burst of twice
//! that); failed digest attempts within `edge.auth_window_secs` past `edge.auth_failures`
//! ban it for `edge.ban_secs`, and so does a scanner's User-Agent (friendly-scanner,
//! sipvicious...). A banned or limited source's datagrams are dropped unanswered at the
//! socket, before they are parsed, so a flood costs a map lookup per packet; everything is
//! counted. Addresses in `sip.trusted` are never limited. An administrator lists, adds and
//! lifts bans over REST.
//!
//! Also here: the concurrent calls of each user and each trunk (`edge.calls_per_user`,
//! `[[trunks]] max_calls`), counted node-wide since a user's calls land on any shard.
//!
//! The state is plain data behind short locks, every operation given the time: the
//! transport and the call engines call it; tests drive it with a fake clock.

pub use crate::config::EdgeConfig;
use serde::Serialize;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Why an address is banned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BanReason {
    AuthFailures,
    Scanner,
    Administrator,
}

/// A ban, as REST shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BanView {
    pub address: IpAddr,
    pub reason: BanReason,
    pub since_ms: i64,
    pub until_ms: i64,
    /// Datagrams and messages dropped since the ban began.
    pub dropped: u64,
}

#[derive(Clone, Debug)]
struct Ban {
    reason: BanReason,
    since: Instant,
    until: Instant,
    dropped: u64,
}

#[derive(Clone, Debug)]
struct Source {
    tokens: f64,
    refilled: Instant,
    failures: Vec<Instant>,
}

/// What the socket does with a source's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Banned: dropped unanswered.
    Banned,
    /// Over its request rate: dropped unanswered.
    Limited,
}

/// Counters for `/metrics`.
#[derive(Default)]
struct Counters {
    banned_drops: AtomicU64,
    limited_drops: AtomicU64,
    auth_failures: AtomicU64,
    scanners: AtomicU64,
    bans: AtomicU64,
    calls_refused: AtomicU64,
}

const SLOTS: usize = 16;

/// The edge's state, shared by the transports, the shards and the API.
pub struct Edge {
    config: EdgeConfig,
    trusted: Vec<crate::config::Cidr>,
    sources: [Mutex<HashMap<IpAddr, Source>>; SLOTS],
    bans: Mutex<HashMap<IpAddr, Ban>>,
    /// Any bans at all: the common case (none) costs one atomic load per packet.
    banned: AtomicU64,
    calls: Mutex<HashMap<String, u32>>,
    counters: Counters,
    /// `Instant` and wall clock at start, to show bans in wall-clock time.
    epoch: (Instant, i64),
    /// Where bans are announced (`/api/events`, administrators).
    publisher: std::sync::OnceLock<Publisher>,
}

type Publisher = Box<dyn Fn(serde_json::Value) + Send + Sync>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn slot(ip: &IpAddr) -> usize {
    let mut h = DefaultHasher::new();
    ip.hash(&mut h);
    (h.finish() as usize) % SLOTS
}

impl Edge {
    pub fn new(config: EdgeConfig, trusted: Vec<crate::config::Cidr>, now: Instant) -> Edge {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Edge {
            config,
            trusted,
            sources: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            bans: Mutex::new(HashMap::new()),
            banned: AtomicU64::new(0),
            calls: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            epoch: (now, wall),
            publisher: std::sync::OnceLock::new(),
        }
    }

    /// Announce bans and their lifting with `publish` (once).
    pub fn set_publisher(&self, publish: impl Fn(serde_json::Value) + Send + Sync + 'static) {
        let _ = self.publisher.set(Box::new(publish));
    }

    fn announce(&self, event: serde_json::Value) {
        if let Some(p) = self.publisher.get() {
            p(event);
        }
    }

    pub fn config(&self) -> &EdgeConfig {
        &self.config
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|n| n.contains(ip))
    }

    fn wall_ms(&self, at: Instant) -> i64 {
        let (t0, w0) = self.epoch;
        match at.checked_duration_since(t0) {
            Some(d) => w0 + d.as_millis() as i64,
            None => w0 - t0.duration_since(at).as_millis() as i64,
        }
    }

    /// Whether a message from `ip` may go on, and why not.
    pub fn admit(&self, ip: IpAddr, now: Instant) -> Verdict {
        if self.banned.load(Ordering::Relaxed) > 0 && self.is_banned(ip, now) {
            self.counters.banned_drops.fetch_add(1, Ordering::Relaxed);
            return Verdict::Banned;
        }
        let rate = f64::from(self.config.requests_per_sec);
        if rate == 0.0 || self.trusted(ip) {
            return Verdict::Pass;
        }
        let mut sources = lock(&self.sources[slot(&ip)]);
        let s = sources.entry(ip).or_insert_with(|| self.fresh(now));
        let elapsed = now.saturating_duration_since(s.refilled).as_secs_f64();
        s.tokens = (s.tokens + elapsed * rate).min(rate * 2.0);
        s.refilled = now;
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            Verdict::Pass
        } else {
            self.counters.limited_drops.fetch_add(1, Ordering::Relaxed);
            Verdict::Limited
        }
    }

    /// A source seen for the first time: a full burst, no failures.
    fn fresh(&self, now: Instant) -> Source {
        Source {
            tokens: f64::from(self.config.requests_per_sec) * 2.0,
            refilled: now,
            failures: Vec::new(),
        }
    }

    fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        let mut bans = lock(&self.bans);
        match bans.get_mut(&ip) {
            Some(b) if b.until > now => {
                b.dropped += 1;
                true
            }
            Some(_) => {
                bans.remove(&ip);
                self.banned.store(bans.len() as u64, Ordering::Relaxed);
                tracing::info!(%ip, "ban expired");
                false
            }
            None => false,
        }
    }

    /// A failed digest attempt from `ip`; `true` when it is banned for it now.
    pub fn auth_failed(&self, ip: IpAddr, now: Instant) -> bool {
        self.counters.auth_failures.fetch_add(1, Ordering::Relaxed);
        if self.trusted(ip) || self.config.auth_failures == 0 {
            return false;
        }
        let window = self.config.auth_window();
        let count = {
            let mut sources = lock(&self.sources[slot(&ip)]);
            let s = sources.entry(ip).or_insert_with(|| self.fresh(now));
            s.failures
                .retain(|t| now.saturating_duration_since(*t) < window);
            s.failures.push(now);
            s.failures.len()
        };
        if count >= self.config.auth_failures as usize {
            self.ban(ip, BanReason::AuthFailures, self.config.ban(), now);
            return true;
        }
        false
    }

    /// Whether `user_agent` is a scanner's; if so its source is banned.
    pub fn scanner(&self, ip: IpAddr, user_agent: &str, now: Instant) -> bool {
        if self.config.scanners.is_empty() || user_agent.is_empty() {
            return false;
        }
        // Every request passes here: no allocation.
        let ua = user_agent.as_bytes();
        let matches = |s: &String| {
            let s = s.as_bytes();
            !s.is_empty() && ua.windows(s.len()).any(|w| w.eq_ignore_ascii_case(s))
        };
        if !self.config.scanners.iter().any(matches) {
            return false;
        }
        self.counters.scanners.fetch_add(1, Ordering::Relaxed);
        if !self.trusted(ip) {
            self.ban(ip, BanReason::Scanner, self.config.ban(), now);
        }
        true
    }

    /// Bans `ip` for `length` (renewing a ban it has).
    pub fn ban(&self, ip: IpAddr, reason: BanReason, length: Duration, now: Instant) {
        let mut bans = lock(&self.bans);
        let fresh = !bans.contains_key(&ip);
        bans.insert(
            ip,
            Ban {
                reason,
                since: now,
                until: now + length,
                dropped: 0,
            },
        );
        self.banned.store(bans.len() as u64, Ordering::Relaxed);
        drop(bans);
        if fresh {
            self.counters.bans.fetch_add(1, Ordering::Relaxed);
        }
        lock(&self.sources[slot(&ip)]).remove(&ip);
        tracing::warn!(%ip, ?reason, secs = length.as_secs(), "source banned");
        self.announce(serde_json::json!({
            "type": "edge_banned",
            "address": ip,
            "reason": reason,
            "until_ms": self.wall_ms(now + length),
        }));
    }

    /// Lifts a ban; `false` when there was none.
    pub fn unban(&self, ip: IpAddr) -> bool {
        let mut bans = lock(&self.bans);
        let had = bans.remove(&ip).is_some();
        self.banned.store(bans.len() as u64, Ordering::Relaxed);
        if had {
            tracing::info!(%ip, "ban lifted");
            self.announce(serde_json::json!({"type": "edge_unbanned", "address": ip}));
        }
        had
    }

    /// The live bans, by address.
    pub fn bans(&self, now: Instant) -> Vec<BanView> {
        let bans = lock(&self.bans);
        let mut out: Vec<BanView> = bans
            .iter()
            .filter(|(_, b)| b.until > now)
            .map(|(ip, b)| BanView {
                address: *ip,
                reason: b.reason,
                since_ms: self.wall_ms(b.since),
                until_ms: self.wall_ms(b.until),
                dropped: b.dropped,
            })
            .collect();
        out.sort_by_key(|b| b.address);
        out
    }

    /// Counts a call of `key` (`user:ID`, `trunk:NAME`) against `limit` (0: none);
    /// `false`, counting nothing, when it would pass the limit.
    pub fn start_call(&self, key: &str, limit: u32) -> bool {
        if limit == 0 {
            return true;
        }
        let mut calls = lock(&self.calls);
        let n = calls.entry(key.to_string()).or_insert(0);
        if *n >= limit {
            self.counters.calls_refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        *n += 1;
        true
    }

    /// A call counted by [`Edge::start_call`] ended.
    pub fn end_call(&self, key: &str) {
        let mut calls = lock(&self.calls);
        if let Some(n) = calls.get_mut(key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                calls.remove(key);
            }
        }
    }

    /// Calls of `key` now.
    pub fn calls_of(&self, key: &str) -> u32 {
        lock(&self.calls).get(key).copied().unwrap_or(0)
    }

    /// Forgets sources idle for longer than the auth window (called now and then).
    pub fn sweep(&self, now: Instant) {
        let keep = self.config.auth_window().max(Duration::from_secs(10));
        for slot in &self.sources {
            lock(slot).retain(|_, s| {
                now.saturating_duration_since(s.refilled) < keep
                    || s.failures
                        .iter()
                        .any(|t| now.saturating_duration_since(*t) < keep)
            });
        }
    }

    /// `/metrics` lines.
    pub fn render_metrics(&self, out: &mut String) {
        use std::fmt::Write;
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let bans = lock(&self.bans).len();
        let _ = write!(
            out,
            "# TYPE switch_edge_dropped_total counter\n\
             switch_edge_dropped_total{{why=\"banned\"}} {}\n\
             switch_edge_dropped_total{{why=\"rate\"}} {}\n\
             # TYPE switch_edge_auth_failures_total counter\n\
             switch_edge_auth_failures_total {}\n\
             # TYPE switch_edge_scanners_total counter\n\
             switch_edge_scanners_total {}\n\
             # TYPE switch_edge_bans_total counter\n\
             switch_edge_bans_total {}\n\
             # TYPE switch_edge_bans gauge\n\
             switch_edge_bans {bans}\n\
             # TYPE switch_edge_calls_refused_total counter\n\
             switch_edge_calls_refused_total {}\n",
            get(&c.banned_drops),
            get(&c.limited_drops),
            get(&c.auth_failures),
            get(&c.scanners),
            get(&c.bans),
            get(&c.calls_refused),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn edge(now: Instant) -> Edge {
        let config = EdgeConfig {
            requests_per_sec: 10,
            auth_failures: 5,
            ..EdgeConfig::default()
        };
        Edge::new(config, vec!["10.0.0.0/8".parse().unwrap()], now)
    }

    #[test]
    fn a_source_gets_its_burst_then_its_rate() {
        let t0 = Instant::now();
        let e = edge(t0);
        let a = ip("192.0.2.1");
        let passed = (0..50).filter(|_| e.admit(a, t0) == Verdict::Pass).count();
        assert_eq!(passed, 20, "a burst of twice the rate");
        assert_eq!(e.admit(a, t0), Verdict::Limited);
        // Half a second later: five more.
        let later = t0 + Duration::from_millis(500);
        let passed = (0..50)
            .filter(|_| e.admit(a, later) == Verdict::Pass)
            .count();
        assert_eq!(passed, 5);
        // Another address, and a trusted one, are not held back.
        assert_eq!(e.admit(ip("192.0.2.2"), t0), Verdict::Pass);
        assert!((0..1000).all(|_| e.admit(ip("10.1.2.3"), t0) == Verdict::Pass));
    }

    #[test]
    fn failed_digests_ban_until_the_ban_ends_or_is_lifted() {
        let t0 = Instant::now();
        let e = edge(t0);
        let a = ip("192.0.2.1");
        for i in 0..4 {
            assert!(!e.auth_failed(a, t0 + Duration::from_secs(i)));
        }
        // Old failures leave the window.
        assert!(!e.auth_failed(a, t0 + Duration::from_secs(100)));
        for i in 0..3 {
            assert!(!e.auth_failed(a, t0 + Duration::from_secs(101 + i)));
        }
        let at = t0 + Duration::from_secs(105);
        assert!(e.auth_failed(a, at), "the fifth within the window");
        assert_eq!(e.admit(a, at), Verdict::Banned);
        assert_eq!(e.admit(ip("192.0.2.9"), at), Verdict::Pass);
        let bans = e.bans(at);
        assert_eq!(bans.len(), 1);
        assert_eq!(bans[0].reason, BanReason::AuthFailures);
        assert_eq!(bans[0].until_ms - bans[0].since_ms, 600_000);
        assert_eq!(bans[0].dropped, 1);
        // It expires.
        let after = at + Duration::from_secs(601);
        assert_eq!(e.admit(a, after), Verdict::Pass);
        assert!(e.bans(after).is_empty());
        // An administrator's ban, lifted.
        e.ban(a, BanReason::Administrator, Duration::from_secs(60), after);
        assert_eq!(e.admit(a, after), Verdict::Banned);
        assert!(e.unban(a));
        assert!(!e.unban(a));
        assert_eq!(e.admit(a, after), Verdict::Pass);
        // Trusted sources are never banned for failures.
        let t = ip("10.0.0.1");
        assert!((0..20).all(|_| !e.auth_failed(t, after)));
        let mut m = String::new();
        e.render_metrics(&mut m);
        assert!(m.contains("switch_edge_bans_total 2"), "{m}");
        assert!(
            m.contains("switch_edge_dropped_total{why=\"banned\"} 2"),
            "{m}"
        );
    }

    #[test]
    fn scanners_are_banned_at_first_sight() {
        let t0 = Instant::now();
        let e = edge(t0);
        let a = ip("198.51.100.7");
        assert!(!e.scanner(a, "Linphone/5.0", t0));
        assert!(e.scanner(a, "friendly-scanner", t0));
        assert_eq!(e.admit(a, t0), Verdict::Banned);
        assert!(e.scanner(ip("198.51.100.8"), "SIPVicious 0.3", t0));
        assert_eq!(e.bans(t0)[0].reason, BanReason::Scanner);
    }

    #[test]
    fn calls_are_counted_against_their_limit() {
        let e = edge(Instant::now());
        assert!(e.start_call("user:1001", 2));
        assert!(e.start_call("user:1001", 2));
        assert!(!e.start_call("user:1001", 2));
        assert!(e.start_call("user:1002", 2));
        e.end_call("user:1001");
        assert_eq!(e.calls_of("user:1001"), 1);
        assert!(e.start_call("user:1001", 2));
        assert!(e.start_call("trunk:gw", 0), "no limit");
        assert_eq!(e.calls_of("trunk:gw"), 0);
    }
}
