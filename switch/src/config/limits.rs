//! Resource limits of the listeners: SIP over TCP (`[sip] tcp_*`) and HTTP (`[http]`).
//! They bound what an idle, slow or hostile peer can hold: connections in all and per
//! address, and how long a connection may sit idle or take to deliver one message.

use std::net::SocketAddr;
use std::time::Duration;

use super::raw::{RawHttp, RawSip};
use super::validate::Problems;
use super::{HttpConfig, TcpLimits};

/// Upper bound for every connection count: far above what one process can hold open.
const MAX_CONNECTIONS: u64 = 1_000_000;
/// Upper bound for every timeout, in seconds (a day).
const MAX_SECS: u64 = 86_400;

pub(super) fn tcp(raw: &RawSip, p: &mut Problems) -> Option<TcpLimits> {
    let max = p.in_range::<usize>(
        "sip.tcp_max_connections",
        raw.tcp_max_connections,
        1,
        MAX_CONNECTIONS,
    );
    let per_ip = p.in_range::<usize>(
        "sip.tcp_max_connections_per_ip",
        raw.tcp_max_connections_per_ip,
        1,
        MAX_CONNECTIONS,
    );
    if let (Some(max), Some(per_ip)) = (max, per_ip) {
        if per_ip > max {
            p.add(
                "sip.tcp_max_connections_per_ip",
                format!("must not exceed sip.tcp_max_connections ({max})"),
            );
        }
    }
    let idle = secs(p, "sip.tcp_idle_timeout_secs", raw.tcp_idle_timeout_secs);
    let message = secs(
        p,
        "sip.tcp_message_timeout_secs",
        raw.tcp_message_timeout_secs,
    );
    Some(TcpLimits {
        max_connections: max?,
        max_per_ip: per_ip?,
        idle_timeout: idle?,
        message_timeout: message?,
    })
}

pub(super) fn http(raw: &RawHttp, p: &mut Problems) -> Option<HttpConfig> {
    let listen = match raw.listen.parse::<SocketAddr>() {
        Ok(listen) => Some(listen),
        Err(_) => {
            p.add(
                "http.listen",
                format!(
                    "\"{}\" is not an address like \"127.0.0.1:8080\"",
                    raw.listen
                ),
            );
            None
        }
    };
    let max = p.in_range::<usize>(
        "http.max_connections",
        raw.max_connections,
        1,
        MAX_CONNECTIONS,
    );
    let header = secs(p, "http.header_timeout_secs", raw.header_timeout_secs);
    let body = secs(p, "http.body_timeout_secs", raw.body_timeout_secs);
    // Event streams are pinged every 20 s: a shorter idle limit would cut quiet ones.
    let idle = p
        .in_range::<u64>(
            "http.idle_timeout_secs",
            raw.idle_timeout_secs,
            30,
            MAX_SECS,
        )
        .map(Duration::from_secs);
    let mut allowed_hosts = Vec::new();
    for (i, h) in raw.allowed_hosts.iter().enumerate() {
        let host = h.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if valid {
            allowed_hosts.push(host);
        } else {
            p.add(
                format!("http.allowed_hosts[{i}]"),
                format!("{h:?} is not a host name (no port, no scheme)"),
            );
        }
    }
    Some(HttpConfig {
        listen: listen?,
        max_connections: max?,
        header_timeout: header?,
        body_timeout: body?,
        idle_timeout: idle?,
        allowed_hosts,
    })
}

pub(super) fn raw_http(http: &HttpConfig) -> RawHttp {
    RawHttp {
        listen: http.listen.to_string(),
        max_connections: http.max_connections as u64,
        header_timeout_secs: http.header_timeout.as_secs(),
        body_timeout_secs: http.body_timeout.as_secs(),
        idle_timeout_secs: http.idle_timeout.as_secs(),
        allowed_hosts: http.allowed_hosts.clone(),
    }
}

fn secs(p: &mut Problems, key: &str, value: u64) -> Option<Duration> {
    p.in_range::<u64>(key, value, 1, MAX_SECS)
        .map(Duration::from_secs)
}
