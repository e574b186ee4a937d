//! Shared set-up and helpers of the preview-dialer end-to-end tests.
#![allow(dead_code)]

use e2e::{free_port, EventStream, Sipp, SippProcess, SippResult, Switch, SwitchConfig};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const QUEUE: &str = "8100";
pub const AGENT: &str = "3001";
/// The contact's number as the CSV has it (national, UK) and as E.164.
pub const NATIONAL: &str = "07700 900123";
pub const NUMBER: &str = "+447700900123";
/// The contact's second number (test of the DNC decline).
pub const HOME_NATIONAL: &str = "020 7946 0321";
pub const HOME: &str = "+442079460321";

// ------------------------------------------------------------------------------ set-up

/// Ports of the two SIPp peers: the agent's phone (user 3001's static contact) and the
/// trunk gateway the contact's number is sent to.
pub struct Peers {
    pub agent_port: u16,
    pub trunk_port: u16,
}

impl Peers {
    pub fn new() -> Peers {
        Peers {
            agent_port: free_port(),
            trunk_port: free_port(),
        }
    }

    pub fn agent_addr(&self) -> String {
        format!("127.0.0.1:{}", self.agent_port)
    }

    pub fn trunk_addr(&self) -> String {
        format!("127.0.0.1:{}", self.trunk_port)
    }
}

/// A switch trusting loopback with queue 8100, agent 3001 (extension 3001, member of 8100)
/// whose phone is a static contact, and a trunk "pstn" taking every "+" number.
pub fn dialer_switch(peers: &Peers) -> Switch {
    dialer_switch_with(peers, "")
}

/// [`dialer_switch`] with more TOML (`[auth.dialing.agent]` rules, say).
pub fn dialer_switch_with(peers: &Peers, extra: &str) -> Switch {
    let toml = format!(
        "[[queues]]\ndn = \"{QUEUE}\"\nname = \"Outbound\"\n\
         [[agents]]\nid = \"{AGENT}\"\nname = \"Agent {AGENT}\"\nextension = \"{AGENT}\"\nqueues = [\"{QUEUE}\"]\n\
         [[trunks]]\nname = \"pstn\"\naddress = \"{}\"\nprefixes = [\"+\"]\n",
        peers.trunk_addr()
    );
    SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user(AGENT, &format!("sip:{AGENT}@{}", peers.agent_addr()))
        .extra(&toml)
        .extra(extra)
        .start()
}

/// How long the agent's phone (`uas_autoanswer`) holds its 200 after the INVITE.
pub const AGENT_ANSWER_DELAY_MS: i64 = 500;

/// The agent's phone (answers the origination's INVITE after [`AGENT_ANSWER_DELAY_MS`],
/// without ringing; its media address is a fresh [`RtpSink`]) and the contact (rings 1 s,
/// answers, talks `talk_ms`, hangs up).
pub fn spawn_peers(peers: &Peers, talk_ms: u64) -> (SippProcess, SippProcess, RtpSink) {
    let sink = RtpSink::new();
    let phone = Sipp::scenario("uas_autoanswer")
        .port(peers.agent_port)
        .key("rtp_port", &sink.port().to_string())
        .timeout(Duration::from_secs(40))
        .spawn();
    let contact = Sipp::scenario("uas_contact_bye")
        .port(peers.trunk_port)
        .pause_ms(talk_ms)
        .timeout(Duration::from_secs(40))
        .spawn();
    (phone, contact, sink)
}

/// A UDP socket standing for the agent phone's media: counts the RTP packets the switch
/// sends it and notes their payload types.
pub struct RtpSink {
    pub port: u16,
    pub packets: Arc<AtomicU64>,
    pub payload_types: Arc<Mutex<BTreeSet<u8>>>,
    pub stop: Arc<AtomicBool>,
    pub reader: Option<JoinHandle<()>>,
}

impl RtpSink {
    pub fn new() -> RtpSink {
        let socket = match UdpSocket::bind("127.0.0.1:0") {
            Ok(s) => s,
            Err(e) => panic!("cannot bind an RTP sink: {e}"),
        };
        let port = socket.local_addr().map_or(0, |a| a.port());
        let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
        let packets = Arc::new(AtomicU64::new(0));
        let payload_types = Arc::new(Mutex::new(BTreeSet::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, pts, flag) = (packets.clone(), payload_types.clone(), stop.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !flag.load(Ordering::Relaxed) {
                if let Ok(n) = socket.recv(&mut buf) {
                    // RTP version 2, a whole header.
                    if n >= 12 && buf[0] >> 6 == 2 {
                        count.fetch_add(1, Ordering::Relaxed);
                        pts.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(buf[1] & 0x7f);
                    }
                }
            }
        });
        RtpSink {
            port,
            packets,
            payload_types,
            stop,
            reader: Some(reader),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn packets(&self) -> u64 {
        self.packets.load(Ordering::Relaxed)
    }

    pub fn payload_types(&self) -> BTreeSet<u8> {
        self.payload_types
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for RtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
    }
}

/// The desktop's event stream of agent 3001, returned once the switch has sent its
/// snapshot: the switch subscribes before it sends it, so from then on no event is missed
/// (the handshake's answer alone does not say the subscription is taken).
pub fn events(switch: &Switch) -> EventStream {
    switch.events(&format!("/api/events?agent={AGENT}"))
}

// ------------------------------------------------------------------------------ REST

/// A campaign of queue 8100 (UK numbers, calling window open all day every day so the
/// test passes at any hour) with `preview` as its preview mode; returns its id.
pub fn create_campaign(switch: &Switch, preview: Value) -> i64 {
    let spec = json!({
        "name": "Renewals e2e",
        "description": "end-to-end test",
        "queue": QUEUE,
        "preview": preview,
        "case_fields": [{"key": "policy", "label": "Policy"}],
        "record_fields": [{"key": "name", "label": "Name"}, {"key": "attempts"}],
        "call_results": [
            {"code": "success", "label": "Success", "action": "done"},
            {"code": "no_answer", "label": "No answer", "action": "retry", "after_minutes": 30},
            {"code": "callback", "label": "Call back", "action": "callback"},
            {"code": "wrong_number", "label": "Wrong number", "action": "failed"}
        ],
        "dispositions": [
            {"code": "sale", "label": "Sale"},
            {"code": "upsell", "label": "Upsell"},
            {"code": "no_interest", "label": "Not interested"}
        ],
        "window": {"start": "00:00", "end": "24:00"},
        "time_zone": "Europe/London",
        "default_country_code": "44",
        "max_attempts": 3
    });
    let c = switch.request_json("POST", "/api/campaigns", Some(&spec.to_string()), 201);
    assert_eq!(c["status"], "stopped", "new campaign: {c:#}");
    assert_eq!(c["preview"], preview, "new campaign: {c:#}");
    match c["id"].as_i64() {
        Some(id) => id,
        None => switch.fail(&format!("campaign without id: {c}")),
    }
}

/// `POST /api/campaigns/{id}/import` with a CSV body; returns the import report.
pub fn import(switch: &Switch, campaign: i64, csv: &str) -> Value {
    switch.post_raw(
        &format!("/api/campaigns/{campaign}/import"),
        "text/csv",
        csv.as_bytes(),
        200,
    )
}

/// Loads and starts the campaign.
pub fn load_and_start(switch: &Switch, campaign: i64) {
    for (cmd, status) in [("load", "loaded"), ("start", "running")] {
        let c = switch.request_json(
            "POST",
            &format!("/api/campaigns/{campaign}/{cmd}"),
            None,
            200,
        );
        assert_eq!(c["status"], status, "{cmd}: {c:#}");
    }
}

pub fn login_ready(switch: &Switch) {
    let v = switch.post_json(
        &format!("/api/agents/{AGENT}/login"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(v["agent"]["state"]["state"], "ready", "login: {v:#}");
}

/// The agent's ACD state name (`ready`, `reserved`, `busy`, `after_call_work`, ...).
pub fn acd_state(switch: &Switch) -> String {
    let v = switch.http(&format!("/api/agents/{AGENT}"));
    v["agent"]["state"]["state"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

pub fn wait_acd_state(switch: &Switch, want: &str, timeout: Duration) {
    let mut last = String::new();
    if !e2e::wait_until(timeout, || {
        last = acd_state(switch);
        last == want
    }) {
        switch.fail(&format!(
            "agent {AGENT}: ACD state {last:?}, expected {want:?} within {timeout:?}"
        ));
    }
}

pub fn session(switch: &Switch) -> Value {
    switch.http(&format!("/api/agents/{AGENT}/session"))
}

/// Waits until the dialer session satisfies `cond`; returns it.
pub fn wait_session(
    switch: &Switch,
    what: &str,
    timeout: Duration,
    cond: impl Fn(&Value) -> bool,
) -> Value {
    let mut s = Value::Null;
    if !e2e::wait_until(timeout, || {
        s = session(switch);
        cond(&s)
    }) {
        switch.fail(&format!(
            "agent session never showed {what} within {timeout:?}: {s:#}"
        ));
    }
    s
}

/// `GET /api/campaigns/{c}/records/{r}`: `{"record": .., "attempts": [..]}`.
pub fn record(switch: &Switch, campaign: i64, record: i64) -> Value {
    switch.http(&format!("/api/campaigns/{campaign}/records/{record}"))
}

pub fn agent_action(campaign: i64, record: i64, action: &str) -> String {
    format!("/api/agents/{AGENT}/campaigns/{campaign}/records/{record}/{action}")
}

pub fn wait_campaign_status(switch: &Switch, campaign: i64, want: &str) {
    let mut last = Value::Null;
    if !e2e::wait_until(Duration::from_secs(5), || {
        last = switch.http(&format!("/api/campaigns/{campaign}"));
        last["status"] == want
    }) {
        switch.fail(&format!("campaign never became {want}: {last:#}"));
    }
}

// ------------------------------------------------------------------------------ checks

/// The desktop notifications of the stream (`{"type":"preview","event":{..}}`), as their
/// `event` objects, in order.
pub fn preview_events(stream: &EventStream) -> Vec<Value> {
    stream
        .events()
        .into_iter()
        .filter(|e| e["type"] == "preview" && e["agent"] == AGENT)
        .map(|e| e["event"].clone())
        .collect()
}

/// The originated call's progress events (`{"type":"call",..}`), in order.
pub fn call_events(stream: &EventStream) -> Vec<Value> {
    stream
        .events()
        .into_iter()
        .filter(|e| e["type"] == "call")
        .collect()
}

pub fn names(events: &[Value], key: &str) -> Vec<String> {
    events
        .iter()
        .map(|e| e[key].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Whether `want` appears in `seen` in this order (other items may come between).
pub fn in_order(seen: &[String], want: &[&str]) -> bool {
    let mut it = seen.iter();
    want.iter().all(|w| it.any(|s| s == w))
}

/// The value of `key=` in a SIPp log line starting with `prefix` (up to the next ` key=`
/// of the line, so values may hold spaces).
pub fn logged(result: &SippResult, prefix: &str, key: &str) -> Option<String> {
    let line = result.logs.lines().find(|l| l.starts_with(prefix))?;
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[start..];
    let end = rest
        .match_indices(' ')
        .find(|(i, _)| {
            let tail = &rest[i + 1..];
            tail.split_once('=').is_some_and(|(k, _)| {
                !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            })
        })
        .map_or(rest.len(), |(i, _)| i);
    Some(rest[..end].to_string())
}

/// When SIPp first sent (`"sent"`) or received (`"received"`) a message whose start line
/// begins with `start`, as its message trace prints the time (`2026-01-02 03:04:05.678901`,
/// fixed width, so two of them compare as strings).
pub fn trace_time(messages: &str, direction: &str, start: &str) -> Option<String> {
    let mut time = "";
    let mut matched_direction = false;
    let mut want_start_line = false;
    for line in messages.lines() {
        if line.starts_with("-----") {
            time = line.trim_start_matches('-').trim();
            want_start_line = false;
        } else if line.contains(" message ") && (line.contains("sent") || line.contains("received"))
        {
            matched_direction = line.contains(&format!("message {direction}"));
            want_start_line = true;
        } else if want_start_line && !line.trim().is_empty() {
            want_start_line = false;
            if matched_direction && line.trim_start().starts_with(start) {
                return Some(time.to_string());
            }
        }
    }
    None
}

/// A SIPp message-trace stamp (`2026-12-06 19:09:36.545153`, the machine's clock) in ms.
pub fn trace_ms(stamp: &Option<String>) -> Option<i64> {
    rfc3339_ms(&format!("{}Z", stamp.as_deref()?.replace(' ', "T")))
}

/// Asserts that a SIPp peer got no SIP message at all.
/// A countdown campaign (`seconds`) holding the one record `row` (values for
/// `external_id,name,phone_mobile`), started with the agent Ready; the campaign and the
/// agent's session once the record is on screen.
pub fn previewing(switch: &Switch, seconds: u32, row: &str) -> (i64, Value) {
    let campaign = create_campaign(switch, json!({"mode": "countdown", "seconds": seconds}));
    let report = import(
        switch,
        campaign,
        &format!("external_id,name,phone_mobile\n{row}\n"),
    );
    assert_eq!(report["inserted"], 1, "import report: {report:#}");
    login_ready(switch);
    load_and_start(switch, campaign);
    let s = wait_session(switch, "a record in preview", Duration::from_secs(5), |s| {
        s["state"] == "previewing"
    });
    (campaign, s)
}

/// Nothing of a refused dial reached SIP or media: no call, no CDR, neither SIPp saw a
/// message, no RTP at the agent's phone.
pub fn assert_nothing_dialled(
    switch: &Switch,
    phone: SippProcess,
    contact: SippProcess,
    sink: &RtpSink,
) {
    assert!(switch.calls().is_empty(), "calls: {:?}", switch.calls());
    assert!(switch.cdrs().is_empty(), "CDRs: {:?}", switch.cdrs());
    assert_untouched(&contact.stop(), "the contact (trunk)", switch);
    assert_untouched(&phone.stop(), "the agent's phone", switch);
    assert_eq!(sink.packets(), 0, "RTP reached the agent's phone");
}

pub fn assert_untouched(result: &SippResult, who: &str, switch: &Switch) {
    if !result.messages.trim().is_empty() {
        switch.fail(&format!(
            "{who} must not have been called, but SIPp saw:\n{}",
            result.report()
        ));
    }
}

/// Milliseconds since the epoch of an RFC 3339 time (`2026-01-02T03:04:05.678Z`,
/// fractions of any length, `Z` or `+hh:mm`).
pub fn rfc3339_ms(s: &str) -> Option<i64> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let (clock, offset_min) = if let Some(c) = time.strip_suffix('Z') {
        (c, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(at);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, mi) = off[1..].split_once(':')?;
        (
            c,
            sign * (h.parse::<i64>().ok()? * 60 + mi.parse::<i64>().ok()?),
        )
    };
    let (hms, frac) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.split(':').map(|p| p.parse::<i64>());
    let (h, mi, sec) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let ms = format!("{frac:0<3}")[..3].parse::<i64>().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + sec * 1000 + ms - offset_min * 60_000)
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn time_ms(switch: &Switch, v: &Value, what: &str) -> i64 {
    match v.as_str().and_then(rfc3339_ms) {
        Some(ms) => ms,
        None => switch.fail(&format!("{what} is not an RFC 3339 time: {v}")),
    }
}

// ------------------------------------------------------------------------------ tests
