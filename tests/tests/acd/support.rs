//! Helpers shared by the ACD end-to-end tests (`acd.rs`, `acd_more.rs`): a switch with queue
//! 8000 and its agents' phones, REST calls for agents and queue statistics, an agent's states
//! as the switch's event stream reports them, the offers an agent's SIPp phone logged, and [`RtpSink`], a UDP socket
//! standing in for a caller's media port to count the RTP the switch plays.

#![allow(dead_code)] // each test binary uses its own subset

use e2e::{EventStream, Sipp, SippProcess, SippResult, Switch, SwitchConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub const QUEUE: &str = "8000";
pub const CDR_WAIT: Duration = Duration::from_secs(5);

// ------------------------------------------------------------------------------ set-up

/// An agent of queue 8000: id = extension = SIP user, whose phone is a SIPp UAS on `port`
/// (a static contact).
pub struct AgentPhone<'a> {
    pub id: &'a str,
    pub port: u16,
}

/// Agent `id`'s phone on `port`.
pub fn at(id: &str, port: u16) -> AgentPhone<'_> {
    AgentPhone { id, port }
}

/// A switch trusting loopback with queue 8000 ("Sales") configured by `queue` (extra TOML
/// keys of its `[[queues]]` entry), the agents (members of 8000, in this order) and their
/// phones, plus `extra` raw TOML (users, `[acd]`).
pub fn acd_switch(queue: &str, agents: &[AgentPhone], extra: &str) -> Switch {
    let mut toml = format!("[[queues]]\ndn = \"{QUEUE}\"\nname = \"Sales\"\n{queue}\n");
    for a in agents {
        toml.push_str(&format!(
            "[[agents]]\nid = \"{id}\"\nname = \"Agent {id}\"\nextension = \"{id}\"\nqueues = [\"{QUEUE}\"]\n",
            id = a.id
        ));
    }
    let mut cfg = SwitchConfig::new().trusted(&["127.0.0.1/32"]).extra(&toml);
    for a in agents {
        cfg = cfg.static_user(a.id, &format!("sip:{}@127.0.0.1:{}", a.id, a.port));
    }
    if !extra.is_empty() {
        cfg = cfg.extra(extra);
    }
    cfg.start()
}

/// A SIPp phone for an agent (or any callee) listening on `port`.
pub fn phone(scenario: &str, port: u16) -> Sipp {
    Sipp::scenario(scenario).port(port)
}

/// A caller into queue 8000 as `from`, with its media address on a fresh [`RtpSink`].
pub fn queue_caller(scenario: &str, switch: &Switch, from: &str) -> (Sipp, RtpSink) {
    let sink = RtpSink::new();
    let sipp = Sipp::scenario(scenario)
        .remote(switch.sip_addr())
        .service(QUEUE)
        .caller(from)
        .key("rtp_port", &sink.port().to_string());
    (sipp, sink)
}

// ------------------------------------------------------------------------------ REST

pub fn agent(switch: &Switch, id: &str) -> Value {
    switch.http(&format!("/api/agents/{id}"))
}

/// `"ready"`, `"busy"`, ... or `"not_ready:REASON"`.
pub fn state_name(state: &Value) -> String {
    let s = state["state"].as_str().unwrap_or("?").to_string();
    match state["reason"].as_str() {
        Some(r) => format!("{s}:{r}"),
        None => s,
    }
}

pub fn agent_state(switch: &Switch, id: &str) -> String {
    state_name(&agent(switch, id)["agent"]["state"])
}

pub fn login_ready(switch: &Switch, id: &str) {
    let v = switch.post_json(
        &format!("/api/agents/{id}/login"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(state_name(&v["agent"]["state"]), "ready", "login {id}: {v}");
    // Longest-idle order follows the order of logins: keep them apart.
    thread::sleep(Duration::from_millis(30));
}

pub fn set_state(switch: &Switch, id: &str, body: &str) -> Value {
    switch.post_json(&format!("/api/agents/{id}/state"), Some(body))
}

pub fn wait_state(switch: &Switch, id: &str, want: &str, timeout: Duration) {
    let mut last = String::new();
    if !e2e::wait_until(timeout, || {
        last = agent_state(switch, id);
        last == want
    }) {
        switch.fail(&format!(
            "agent {id}: state {last:?}, expected {want:?} within {timeout:?}"
        ));
    }
}

pub fn queue_stats(switch: &Switch) -> Value {
    switch.http(&format!("/api/queues/{QUEUE}/stats"))
}

/// Asserts every `(field, value)` of the queue's statistics, quoting all of them on failure.
pub fn assert_stats(switch: &Switch, stats: &Value, expected: &[(&str, i64)]) {
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(k, v)| stats[*k].as_i64() != Some(*v))
        .map(|(k, v)| format!("{k}: expected {v}, got {}", stats[*k]))
        .collect();
    if !wrong.is_empty() {
        switch.fail(&format!(
            "queue statistics wrong: {}\nstats: {stats:#}",
            wrong.join("; ")
        ));
    }
}

/// Waits until the queue's statistics satisfy `cond`, and returns them.
pub fn wait_stats(switch: &Switch, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let mut st = Value::Null;
    if !e2e::wait_until(Duration::from_secs(5), || {
        st = queue_stats(switch);
        cond(&st)
    }) {
        switch.fail(&format!("queue statistics never showed {what}: {st:#}"));
    }
    st
}

/// Waits until no call is left, and returns the queue CDRs (oldest first).
pub fn wait_idle_cdrs(switch: &Switch, n: usize) -> Vec<Value> {
    switch.wait_for("no live calls", Duration::from_secs(5), || {
        switch.metrics()["switch_calls_active"] == 0.0
    });
    let mut rows = switch.wait_cdrs(n, CDR_WAIT);
    rows.reverse();
    rows
}

/// Agent `id`'s desktop event stream (`/api/events?agent=ID`), returned once the switch has
/// sent its snapshot: the subscription is taken before the snapshot, so every state change
/// from then on is on the stream.
pub fn agent_events(switch: &Switch, id: &str) -> EventStream {
    switch.events(&format!("/api/events?agent={id}"))
}

/// The states agent `id` went through on `stream` (`agent_state` events), in order, each
/// with when the switch's ACD entered it (`at_ms`, the switch's own clock): the state left
/// by the first change, stamped with that change's time, then every state entered.
pub fn state_changes(stream: &EventStream, id: &str) -> Vec<(String, u64)> {
    let mut seen = Vec::new();
    for e in stream.events() {
        let change = &e["change"];
        if e["type"] != "agent_state" || change["agent"] != id {
            continue;
        }
        let at = change["at_ms"].as_u64().unwrap_or(0);
        if seen.is_empty() {
            seen.push((state_name(&change["from"]), at));
        }
        seen.push((state_name(&change["to"]), at));
    }
    seen
}

pub fn names(seen: &[(String, u64)]) -> Vec<&str> {
    seen.iter().map(|(s, _)| s.as_str()).collect()
}

/// How long (ms, by the switch's clock) the agent stayed in `state` the first time it
/// entered it.
pub fn time_in(seen: &[(String, u64)], state: &str) -> Option<u64> {
    let i = seen.iter().position(|(s, _)| s == state)?;
    Some(seen.get(i + 1)?.1.saturating_sub(seen[i].1))
}

// ------------------------------------------------------------------------------ SIPp logs

/// One ACD offer as an agent's phone logged it (`uas_agent*` scenarios).
#[derive(Debug, Clone)]
pub struct Offer {
    pub queue: String,
    pub interaction: String,
    /// To user: whose phone rang.
    pub to: String,
    /// The audio port of the SDP offer (the switch's side of the agent's leg).
    pub sdp_port: u16,
    /// The From header as received.
    pub from: String,
}

impl Offer {
    /// The From display name, unquoted.
    pub fn display(&self) -> Option<&str> {
        let rest = self.from.strip_prefix('"')?;
        Some(&rest[..rest.find('"')?])
    }

    /// The From URI's user: the caller.
    pub fn caller(&self) -> Option<&str> {
        let rest = &self.from[self.from.find("<sip:")? + 5..];
        Some(&rest[..rest.find('@')?])
    }
}

pub fn offers(r: &SippResult) -> Vec<Offer> {
    r.logs
        .lines()
        .filter_map(|l| l.trim().strip_prefix("offer "))
        .filter_map(|l| {
            let (head, from) = l.split_once(" from=")?;
            let field = |k: &str| {
                head.split_whitespace()
                    .find_map(|w| w.strip_prefix(k))
                    .unwrap_or_default()
                    .to_string()
            };
            Some(Offer {
                queue: field("queue="),
                interaction: field("interaction="),
                to: field("to="),
                sdp_port: field("m=").parse().unwrap_or(0),
                from: from.to_string(),
            })
        })
        .collect()
}

pub fn logged_lines(r: &SippResult) -> Vec<&str> {
    r.logs
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Waits for a SIPp run and asserts it passed.
pub fn passed(p: SippProcess, switch: &Switch) -> SippResult {
    let r = p.wait();
    r.assert_success(switch);
    r
}

/// The methods and status lines of the messages SIPp received, in order (`-trace_msg`).
pub fn received(r: &SippResult) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = r.messages.lines();
    while let Some(l) = lines.next() {
        if l.contains("message received") {
            // The start line follows the "UDP message received [N] bytes :" line and a
            // blank line.
            if let Some(start) = lines.by_ref().map(str::trim).find(|s| !s.is_empty()) {
                let word = if start.starts_with("SIP/2.0") {
                    start.split_whitespace().nth(1).unwrap_or("?")
                } else {
                    start.split_whitespace().next().unwrap_or("?")
                };
                out.push(word.to_string());
            }
        }
    }
    out
}

// ------------------------------------------------------------------------------ RTP

/// A UDP socket standing in for a caller's media port: counts the RTP packets it receives
/// and notes their payload types and sources.
pub struct RtpSink {
    port: u16,
    state: Arc<SinkState>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct SinkState {
    packets: AtomicU64,
    payload_types: Mutex<BTreeSet<u8>>,
    sources: Mutex<BTreeSet<SocketAddr>>,
}

impl RtpSink {
    pub fn new() -> RtpSink {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind RTP sink");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("set_read_timeout");
        let port = socket.local_addr().expect("local_addr").port();
        let state = Arc::new(SinkState::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (st, flag) = (state.clone(), stop.clone());
        let handle = thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !flag.load(Ordering::Relaxed) {
                let Ok((n, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                // RTP version 2, not RTCP (payload types 72..=76 with the marker bit).
                if n >= 12 && buf[0] >> 6 == 2 && !(200..=204).contains(&buf[1]) {
                    st.packets.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut p) = st.payload_types.lock() {
                        p.insert(buf[1] & 0x7f);
                    }
                    if let Ok(mut s) = st.sources.lock() {
                        s.insert(from);
                    }
                }
            }
        });
        RtpSink {
            port,
            state,
            stop,
            handle: Some(handle),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn packets(&self) -> u64 {
        self.state.packets.load(Ordering::Relaxed)
    }

    pub fn payload_types(&self) -> Vec<u8> {
        self.state
            .payload_types
            .lock()
            .map(|p| p.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn source_ports(&self) -> Vec<u16> {
        self.state
            .sources
            .lock()
            .map(|s| s.iter().map(SocketAddr::port).collect())
            .unwrap_or_default()
    }
}

impl Drop for RtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Asserts the sink receives (almost) nothing for 500 ms: no music once bridged.
pub fn assert_silent(switch: &Switch, sink: &RtpSink, who: &str) {
    let before = sink.packets();
    thread::sleep(Duration::from_millis(500));
    let got = sink.packets() - before;
    if got > 2 {
        switch.fail(&format!(
            "{who}: {got} RTP packets in 500 ms; expected silence"
        ));
    }
}

/// How long [`assert_heard_switch`] waits for the count to reach its minimum.
const HEAR_WAIT: Duration = Duration::from_secs(2);

/// Asserts the sink got at least `min` PCMU packets, all from the switch's RTP ports. The
/// count is polled for up to [`HEAR_WAIT`]: after a call it may still rise while the sink's
/// thread reads what the socket holds (on a loaded machine), and a caller still listening
/// keeps hearing more.
pub fn assert_heard_switch(switch: &Switch, sink: &RtpSink, min: u64, who: &str) {
    e2e::wait_until(HEAR_WAIT, || sink.packets() >= min);
    let (n, pts, ports) = (sink.packets(), sink.payload_types(), sink.source_ports());
    let (lo, hi) = switch.rtp_ports();
    if n < min || pts != [0] || ports.iter().any(|p| !(lo..=hi).contains(p)) {
        switch.fail(&format!(
            "{who}: expected at least {min} PCMU (PT 0) packets from the switch's RTP ports \
             {lo}-{hi}; got {n} packets, payload types {pts:?}, from ports {ports:?}"
        ));
    }
}
