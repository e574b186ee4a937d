//! `[edge]`: what an untrusted source may cost (the switch's `edge` module): its request rate,
//! the failed digest attempts and scanner User-Agents that ban it and for how long, and
//! how many calls one user may have at once.

use serde::{Deserialize, Serialize};
use std::time::Duration;

use super::validate::Problems;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EdgeConfig {
    /// Requests (datagrams, TCP messages) per second one untrusted address may send; a
    /// burst of twice that. 0: no limit.
    pub requests_per_sec: u32,
    /// Failed digest attempts from one address within `auth_window_secs` that ban it
    /// (0: never).
    pub auth_failures: u32,
    pub auth_window_secs: u64,
    /// How long a ban lasts.
    pub ban_secs: u64,
    /// User-Agent substrings (any case) of scanners: their source is banned at once.
    pub scanners: Vec<String>,
    /// Most calls one user may have at once (0: no limit).
    pub calls_per_user: u32,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig {
            requests_per_sec: 500,
            auth_failures: 10,
            auth_window_secs: 60,
            ban_secs: 600,
            scanners: [
                "friendly-scanner",
                "sipvicious",
                "sipcli",
                "sip-scan",
                "vaxsipuseragent",
                "iwar",
                "sundayddr",
                "pplsip",
            ]
            .map(String::from)
            .to_vec(),
            calls_per_user: 0,
        }
    }
}

impl EdgeConfig {
    pub fn auth_window(&self) -> Duration {
        Duration::from_secs(self.auth_window_secs)
    }

    pub fn ban(&self) -> Duration {
        Duration::from_secs(self.ban_secs)
    }
}

pub(super) fn check(e: &EdgeConfig, p: &mut Problems) {
    if e.requests_per_sec > 1_000_000 {
        p.add("edge.requests_per_sec", "must be 0..=1000000");
    }
    if !(1..=86_400).contains(&e.auth_window_secs) {
        p.add("edge.auth_window_secs", "must be 1..=86400");
    }
    if !(1..=30 * 86_400).contains(&e.ban_secs) {
        p.add("edge.ban_secs", "must be 1..=2592000 (30 days)");
    }
    for (i, s) in e.scanners.iter().enumerate() {
        if s.trim().is_empty() {
            p.add(format!("edge.scanners[{i}]"), "must not be empty");
        }
    }
}
