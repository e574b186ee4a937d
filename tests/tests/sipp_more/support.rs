//! Helpers shared by the SIPp end-to-end tests beyond the basic calls (`sipp_more.rs`,
//! `shutdown.rs`): a switch trusting loopback, the answered call as the API lists it, the
//! `<log>` lines and message traces of a SIPp run, and time between traced messages.

#![allow(dead_code)] // each test binary uses its own subset

use e2e::{SippResult, Switch, SwitchConfig};
use serde_json::Value;
use std::collections::HashMap;
use std::time::Duration;

/// A switch trusting loopback, with callee 2000 at a static contact on `uas_port`.
pub fn trusting_config(uas_port: u16) -> SwitchConfig {
    SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{uas_port}"))
}

/// Waits until the switch lists one answered call with both legs, and returns it.
pub fn answered_call(switch: &Switch) -> Value {
    let mut calls = Vec::new();
    switch.wait_for("an answered call", Duration::from_secs(5), || {
        calls = switch.calls();
        calls.len() == 1
            && calls[0]["state"] == "answered"
            && calls[0]["legs"].as_array().is_some_and(|l| l.len() == 2)
    });
    calls.remove(0)
}

/// The `key=value` words of the scenario's `<log>` line starting with `prefix` (the first
/// word, when it has no `=`, is kept under the key `""`). Panics when no line matches.
pub fn logged(r: &SippResult, prefix: &str, switch: &Switch) -> HashMap<String, String> {
    let Some(line) = r
        .logs
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))
    else {
        switch.fail(&format!(
            "sipp {} logged no line starting with {prefix:?}\n{}",
            r.name,
            r.report()
        ));
    };
    line[prefix.len()..]
        .split_whitespace()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (String::new(), w.to_string()),
        })
        .collect()
}

/// `fields[key]` parsed as a number; panics (with the report) when absent or not a number.
pub fn port_field(fields: &HashMap<String, String>, key: &str, r: &SippResult) -> u16 {
    match fields.get(key).and_then(|v| v.parse().ok()) {
        Some(p) => p,
        None => panic!(
            "no numeric {key} in logged {fields:?} of sipp {}\n{}",
            r.name,
            r.report()
        ),
    }
}

/// Panics unless `port` lies in the switch's RTP range.
pub fn assert_switch_port(switch: &Switch, port: u16, what: &str) {
    let (lo, hi) = switch.rtp_ports();
    if !(lo..=hi).contains(&port) {
        switch.fail(&format!(
            "{what}: port {port} is not in the switch's RTP range {lo}-{hi}"
        ));
    }
}

/// One SIP message in a SIPp `-trace_msg` file.
#[derive(Debug)]
pub struct Traced {
    pub sent: bool,
    /// When SIPp sent or received it (its trace's stamp), in ms since the epoch.
    pub at_ms: Option<i64>,
    pub text: String,
}

impl Traced {
    pub fn start_line(&self) -> &str {
        self.text.lines().next().unwrap_or_default().trim_end()
    }

    /// The first header `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.text.split("\r\n\r\n").next().unwrap_or_default();
        head.split("\r\n").skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    /// The body, as long as Content-Length says.
    pub fn body(&self) -> String {
        let Some((_, body)) = self.text.split_once("\r\n\r\n") else {
            return String::new();
        };
        let len = self
            .header("Content-Length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(body.len());
        body.get(..len).unwrap_or(body).to_string()
    }

    /// The port of the first `m=` line of an SDP body.
    pub fn sdp_port(&self) -> Option<u16> {
        self.body()
            .lines()
            .find_map(|l| l.strip_prefix("m=audio "))
            .and_then(|rest| rest.split(' ').next())
            .and_then(|p| p.parse().ok())
    }
}

/// The messages of a SIPp run, in order.
pub fn trace(r: &SippResult) -> Vec<Traced> {
    const SEPARATOR: &str = "\n-----------------------------------------------";
    format!("\n{}", r.messages)
        .split(SEPARATOR)
        .filter_map(|block| {
            // " <timestamp>\nUDP message sent (N bytes):\n\n<message>\n"
            let mut parts = block.splitn(3, '\n');
            let at_ms = stamp_ms(parts.next()?);
            let kind = parts.next()?;
            let sent = kind.contains("message sent");
            if !sent && !kind.contains("message received") {
                return None;
            }
            let text = parts.next()?.trim_start_matches('\n').to_string();
            Some(Traced { sent, at_ms, text })
        })
        .collect()
}

/// A SIPp trace stamp (`2026-12-06 19:09:36.545153`, local time) in ms since the epoch
/// (taken as UTC: only differences between stamps of one SIPp matter).
pub fn stamp_ms(stamp: &str) -> Option<i64> {
    let (date, time) = stamp.trim().split_once(' ')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>().ok());
    let (h, mi, sec) = (t.next()??, t.next()??, t.next()??);
    let ms = format!("{frac:0<3}").get(..3)?.parse::<i64>().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms)
}

/// Milliseconds between two traced messages of one SIPp (`later` minus `earlier`).
pub fn ms_between(earlier: &Traced, later: &Traced, r: &SippResult, switch: &Switch) -> i64 {
    match (earlier.at_ms, later.at_ms) {
        (Some(a), Some(b)) => b - a,
        _ => switch.fail(&format!(
            "sipp {}: no time stamp on {:?} or {:?}\n{}",
            r.name,
            earlier.start_line(),
            later.start_line(),
            r.report()
        )),
    }
}

/// The first message SIPp `sent` (or received) whose start line begins with `start`.
pub fn traced<'a>(
    msgs: &'a [Traced],
    sent: bool,
    start: &str,
    r: &SippResult,
    switch: &Switch,
) -> &'a Traced {
    match msgs
        .iter()
        .find(|m| m.sent == sent && m.start_line().starts_with(start))
    {
        Some(m) => m,
        None => switch.fail(&format!(
            "sipp {} {} no {start:?}\n{}",
            r.name,
            if sent { "sent" } else { "received" },
            r.report()
        )),
    }
}
