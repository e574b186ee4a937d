//! One `switch` process under test: its config, ports, log, HTTP API and shutdown.

use crate::http::{http_request_with, HttpResponse};
use serde_json::Value;
use std::collections::HashMap;
use std::fs::File;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

mod login;
mod process;
pub use login::{Credential, Session};
use process::spawn;

/// How long a switch may take to answer `GET /api/health` after it was started.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a switch may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// Lines of the switch log quoted in failure messages.
const LOG_TAIL_LINES: usize = 60;

/// A switch configuration under construction. The harness fills in everything that must
/// be unique per instance (`[sip] listen`, `[http] listen`, `[media] rtp_ports`,
/// `data_dir`); a test adds the rest.
///
/// ```no_run
/// let switch = e2e::SwitchConfig::new()
///     .trusted(&["127.0.0.1/32"])
///     .sip("invite_timeout_secs", 2)
///     .user("1001", "pass1001")
///     .static_user("2000", "sip:2000@127.0.0.1:5070;transport=tcp")
///     .start();
/// ```
#[derive(Clone, Debug, Default)]
pub struct SwitchConfig {
    table: toml::Table,
    users: Vec<toml::Table>,
    /// Listen on SIP over TLS and HTTPS too (see [`SwitchConfig::tls`]).
    tls: bool,
}

impl SwitchConfig {
    pub fn new() -> SwitchConfig {
        SwitchConfig::default()
    }

    /// Sets `[section] key = value` (`section` may be "" for a top-level key).
    pub fn set(mut self, section: &str, key: &str, value: impl Into<toml::Value>) -> Self {
        let table = if section.is_empty() {
            &mut self.table
        } else {
            match self
                .table
                .entry(section)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
            {
                toml::Value::Table(t) => t,
                other => panic!("config key {section} is {other}, not a table"),
            }
        };
        table.insert(key.to_string(), value.into());
        self
    }

    /// Sets `[sip] key = value`, e.g. `.sip("invite_timeout_secs", 2)`.
    pub fn sip(self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.set("sip", key, value)
    }

    /// Sets `[media] key = value`.
    pub fn media(self, key: &str, value: impl Into<toml::Value>) -> Self {
        self.set("media", key, value)
    }

    /// Adds a SIP over TLS listener and HTTPS (`[tls] https_listen`) on free ports, with
    /// the switch's self-signed certificate in its data dir (see [`Switch::tls_ca`]).
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// `[sip] trusted`: sources that need no digest authentication.
    pub fn trusted(self, cidrs: &[&str]) -> Self {
        let list: Vec<toml::Value> = cidrs.iter().map(|c| toml::Value::from(*c)).collect();
        self.sip("trusted", list)
    }

    /// A user with a digest password.
    pub fn user(mut self, id: &str, password: &str) -> Self {
        self.user_entry(id)
            .insert("password".into(), toml::Value::from(password));
        self
    }

    /// A static contact for user `id`: added to the user if already configured, else a
    /// password-less user (a gateway) is created with it.
    pub fn static_contact(mut self, id: &str, contact: &str) -> Self {
        self.user_entry(id)
            .insert("contact".into(), toml::Value::from(contact));
        self
    }

    /// Same as [`SwitchConfig::static_contact`]: a user reachable at a fixed contact.
    pub fn static_user(self, id: &str, contact: &str) -> Self {
        self.static_contact(id, contact)
    }

    fn user_entry(&mut self, id: &str) -> &mut toml::Table {
        let pos = self
            .users
            .iter()
            .position(|u| u.get("id").and_then(toml::Value::as_str) == Some(id));
        let pos = pos.unwrap_or_else(|| {
            let mut t = toml::Table::new();
            t.insert("id".into(), toml::Value::from(id));
            self.users.push(t);
            self.users.len() - 1
        });
        &mut self.users[pos]
    }

    /// Merges raw TOML: tables are merged key by key (later wins), `[[users]]` entries are
    /// appended. Panics on a TOML syntax error (a bug in the test).
    pub fn extra(mut self, text: &str) -> Self {
        let extra: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => panic!("extra switch config is not TOML: {e}\n{text}"),
        };
        for (key, value) in extra {
            match (key.as_str(), value) {
                ("users", toml::Value::Array(users)) => {
                    for u in users {
                        match u {
                            toml::Value::Table(t) => self.users.push(t),
                            other => panic!("users entry is not a table: {other}"),
                        }
                    }
                }
                (_, toml::Value::Table(t)) => {
                    for (k, v) in t {
                        self = self.set(&key, &k, v);
                    }
                }
                (_, v) => {
                    self.table.insert(key, v);
                }
            }
        }
        self
    }

    /// The TOML text for one instance, with the harness's per-instance keys filled in
    /// where the test did not set them.
    fn render(&self, ports: &Ports, data_dir: &Path) -> String {
        let mut cfg = self.clone();
        let defaults: [(&str, &str, toml::Value); 4] = [
            ("", "data_dir", data_dir.display().to_string().into()),
            (
                "sip",
                "listen",
                toml::Value::Array(
                    [
                        format!("udp:127.0.0.1:{}", ports.sip),
                        format!("tcp:127.0.0.1:{}", ports.sip),
                    ]
                    .into_iter()
                    .chain(self.tls.then(|| format!("tls:127.0.0.1:{}", ports.tls)))
                    .map(toml::Value::from)
                    .collect(),
                ),
            ),
            ("http", "listen", format!("127.0.0.1:{}", ports.http).into()),
            (
                "media",
                "rtp_ports",
                format!("{}-{}", ports.rtp.0, ports.rtp.1).into(),
            ),
        ];
        if self.tls {
            cfg = cfg.set("tls", "https_listen", format!("127.0.0.1:{}", ports.https));
        }
        for (section, key, value) in defaults {
            let present = if section.is_empty() {
                cfg.table.contains_key(key)
            } else {
                cfg.table
                    .get(section)
                    .and_then(toml::Value::as_table)
                    .is_some_and(|t| t.contains_key(key))
            };
            if !present {
                cfg = cfg.set(section, key, value);
            }
        }
        let mut table = cfg.table;
        if !cfg.users.is_empty() {
            let users = cfg.users.into_iter().map(toml::Value::Table).collect();
            table.insert("users".into(), toml::Value::Array(users));
        }
        match toml::to_string(&table) {
            Ok(s) => s,
            Err(e) => panic!("cannot print switch config: {e}"),
        }
    }

    /// Writes the config into a fresh temp dir, starts the switch and waits until its HTTP
    /// API answers. Panics (with the switch log) when it does not start.
    pub fn start(self) -> Switch {
        let bin = switch_bin();
        let mut last_log = String::new();
        // A start can lose a race for a port picked by `free_port`; try again with new ones.
        for _ in 0..3 {
            match Switch::try_start(&self, &bin) {
                Ok(s) => return s,
                Err(log) if log.contains("in use") => last_log = log,
                Err(log) => panic!("switch did not start:\n{log}"),
            }
        }
        panic!("switch did not start (ports kept being taken):\n{last_log}")
    }
}

struct Ports {
    sip: u16,
    http: u16,
    /// SIP over TLS and HTTPS, used when the config asks for TLS.
    tls: u16,
    https: u16,
    rtp: (u16, u16),
}

/// A distinct even-aligned block of 200 RTP ports in 30000..=59999 for each switch this
/// process starts (derived from the pid and a counter, so parallel test binaries rarely
/// overlap; the switch skips ports someone else holds anyway).
fn rtp_block() -> (u16, u16) {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    const BLOCKS: u32 = 150;
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let slot = (std::process::id().wrapping_mul(37).wrapping_add(n)) % BLOCKS;
    let first = 30000 + slot * 200;
    (first as u16, (first + 199) as u16)
}

/// The switch binary: `SWITCH_BIN`, else `$CARGO_TARGET_DIR/debug/switch`, else
/// `<workspace>/target/debug/switch`.
pub fn switch_bin() -> PathBuf {
    let bin = match std::env::var_os("SWITCH_BIN") {
        Some(p) => PathBuf::from(p),
        None => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .map(|p| {
                    if p.is_relative() {
                        crate::workspace_root().join(p)
                    } else {
                        p
                    }
                })
                .unwrap_or_else(|| crate::workspace_root().join("target"));
            target.join("debug").join("switch")
        }
    };
    if !bin.is_file() {
        panic!(
            "switch binary not found at {}: run `cargo build -p switch` first",
            bin.display()
        );
    }
    bin
}

/// A running switch. Stopped with SIGTERM (then SIGKILL) when dropped; when the test is
/// failing, the log's path and tail are printed and its directory is kept.
pub struct Switch {
    child: Option<Child>,
    dir: PathBuf,
    log: PathBuf,
    sip_port: u16,
    http: SocketAddr,
    /// SIP over TLS and HTTPS addresses, when started with [`SwitchConfig::tls`].
    tls: Option<(SocketAddr, SocketAddr)>,
    rtp: (u16, u16),
    /// The administrator's API token, sent with every request of the helpers below.
    token: Option<String>,
    /// The instance's `data_dir`.
    data_dir: PathBuf,
}

impl Switch {
    /// Waits for the switch to end every call and release the media ports.
    pub fn assert_idle(&self) {
        self.wait_for(
            "no live calls and no media sessions",
            Duration::from_secs(5),
            || {
                let m = self.metrics();
                m["switch_calls_active"] == 0.0 && m["switch_media_sessions_active"] == 0.0
            },
        );
        let calls = self.calls();
        assert!(calls.is_empty(), "calls still listed: {calls:?}");
    }

    /// Starts a switch with the harness defaults plus `extra` raw TOML (merged, see
    /// [`SwitchConfig::extra`]).
    pub fn start(extra: &str) -> Switch {
        SwitchConfig::new().extra(extra).start()
    }

    /// One attempt; `Err(log)` when the process exits or never gets ready.
    fn try_start(config: &SwitchConfig, bin: &Path) -> Result<Switch, String> {
        let dir = crate::temp_dir("switch");
        let ports = Ports {
            sip: crate::free_port(),
            http: crate::free_port(),
            tls: crate::free_port(),
            https: crate::free_port(),
            rtp: rtp_block(),
        };
        let data_dir = match config.table.get("data_dir").and_then(toml::Value::as_str) {
            Some(d) => PathBuf::from(d),
            None => dir.join("data"),
        };
        let config_path = dir.join("switch.toml");
        let text = config.render(&ports, &dir.join("data"));
        std::fs::write(&config_path, &text)
            .map_err(|e| format!("writing {}: {e}", config_path.display()))?;
        let log = dir.join("switch.log");
        let out = File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let child = spawn(bin, &config_path, &dir, out)?;
        let mut switch = Switch {
            child: Some(child),
            dir,
            log,
            sip_port: ports.sip,
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, ports.http)),
            tls: config.tls.then_some((
                SocketAddr::from((Ipv4Addr::LOCALHOST, ports.tls)),
                SocketAddr::from((Ipv4Addr::LOCALHOST, ports.https)),
            )),
            rtp: ports.rtp,
            token: None,
            data_dir,
        };
        match switch.wait_ready() {
            Ok(()) => {
                switch.token = switch.admin_token();
                Ok(switch)
            }
            Err(e) => {
                let log = switch.log();
                if switch.child.is_none() {
                    let _ = std::fs::remove_dir_all(&switch.dir);
                }
                Err(format!("{e}\nconfig:\n{text}\nlog:\n{log}"))
            }
        }
    }

    /// The process id, while the switch runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn sip_port(&self) -> u16 {
        self.sip_port
    }

    /// `127.0.0.1:<sip port>` (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.sip_port))
    }

    /// SIP over TLS; panics unless started with [`SwitchConfig::tls`].
    pub fn tls_addr(&self) -> SocketAddr {
        match self.tls {
            Some((sip, _)) => sip,
            None => panic!("the switch was started without SwitchConfig::tls"),
        }
    }

    /// HTTPS and WSS; panics unless started with [`SwitchConfig::tls`].
    pub fn https_addr(&self) -> SocketAddr {
        match self.tls {
            Some((_, https)) => https,
            None => panic!("the switch was started without SwitchConfig::tls"),
        }
    }

    /// The certificate the switch generated for itself (a phone's CA file).
    pub fn tls_ca(&self) -> PathBuf {
        self.data_dir.join("tls").join("cert.pem")
    }

    /// The event stream at `path` (`/api/events`, `/api/events?agent=ID`), returned once the
    /// switch has sent its snapshot: it subscribes before sending it, so no event published
    /// from then on is missed (the handshake's answer alone does not say the subscription
    /// is taken).
    pub fn events(&self, path: &str) -> crate::ws::EventStream {
        self.events_as(&self.admin(), path)
    }

    /// [`Switch::events`] as `who`.
    pub fn events_as(&self, who: &Credential, path: &str) -> crate::ws::EventStream {
        let headers = who.headers("GET");
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let stream = match crate::ws::EventStream::connect_with(self.http_addr(), path, &headers) {
            Ok(s) => s,
            Err(e) => self.fail(&format!("cannot open {path}: {e}")),
        };
        if stream
            .wait_for(Duration::from_secs(5), |e| e["type"] == "snapshot")
            .is_none()
        {
            self.fail(&format!("no snapshot on {path}: {:?}", stream.ended()));
        }
        stream
    }

    pub fn http_addr(&self) -> SocketAddr {
        self.http
    }

    /// The instance's `[media] rtp_ports` block, inclusive.
    pub fn rtp_ports(&self) -> (u16, u16) {
        self.rtp
    }

    /// The instance's `data_dir` (the database, the generated administrator password).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The instance's directory (config, log, data).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The whole log so far (stdout and stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last lines of the log, with its path, for failure messages.
    pub fn log_tail(&self) -> String {
        format!(
            "--- switch log {} (last {LOG_TAIL_LINES} lines) ---\n{}",
            self.log.display(),
            crate::tail_file(&self.log, LOG_TAIL_LINES)
        )
    }

    /// Panics with `msg` and the tail of the switch log.
    pub fn fail(&self, msg: &str) -> ! {
        panic!("{msg}\n{}", self.log_tail())
    }

    /// `GET path`, any status. Panics if the switch does not answer.
    pub fn get(&self, path: &str) -> HttpResponse {
        self.request_as(&self.admin(), "GET", path, None)
    }

    /// `GET path` expecting 200 and a JSON body.
    pub fn http(&self, path: &str) -> Value {
        let r = self.get(path);
        if r.status != 200 {
            self.fail(&format!("GET {path}: status {} body {}", r.status, r.body));
        }
        match serde_json::from_str(&r.body) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("GET {path}: body is not JSON ({e}): {}", r.body)),
        }
    }

    /// `POST path` with a JSON `body` (or none), any status. Panics if the switch does not
    /// answer.
    pub fn post(&self, path: &str, body: Option<&str>) -> HttpResponse {
        self.request_as(&self.admin(), "POST", path, body)
    }

    /// `POST path` with a JSON `body` (or none), expecting 200 and a JSON answer.
    pub fn post_json(&self, path: &str, body: Option<&str>) -> Value {
        let r = self.post(path, body);
        if r.status != 200 {
            self.fail(&format!(
                "POST {path} {}: status {} body {}",
                body.unwrap_or(""),
                r.status,
                r.body
            ));
        }
        match serde_json::from_str(&r.body) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("POST {path}: body is not JSON ({e}): {}", r.body)),
        }
    }

    /// `METHOD path` with a JSON `body` (or none), any status. Panics if the switch does
    /// not answer.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> HttpResponse {
        self.request_as(&self.admin(), method, path, body)
    }

    /// `METHOD path` with a JSON `body` (or none), expecting status `expect` and a JSON
    /// answer (`null` for an empty body).
    pub fn request_json(&self, method: &str, path: &str, body: Option<&str>, expect: u16) -> Value {
        let r = self.request(method, path, body);
        self.expect_json(
            &format!("{method} {path} {}", body.unwrap_or("")),
            r,
            expect,
        )
    }

    /// `POST path` with a raw `body` of `content_type` (a CSV file...), expecting status
    /// `expect` and a JSON answer.
    pub fn post_raw(&self, path: &str, content_type: &str, body: &[u8], expect: u16) -> Value {
        self.send_raw("POST", path, content_type, body, expect)
    }

    /// `METHOD path` with a raw `body` of `content_type` (a WAV...), expecting status
    /// `expect` and a JSON answer.
    pub fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
        expect: u16,
    ) -> Value {
        let headers = self.admin().headers(method);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let r = match http_request_with(
            self.http,
            method,
            path,
            &headers,
            Some((content_type, body)),
        ) {
            Ok(r) => r,
            Err(e) => self.fail(&format!("{method} {path} failed: {e}")),
        };
        self.expect_json(&format!("{method} {path} ({content_type})"), r, expect)
    }

    fn expect_json(&self, what: &str, r: HttpResponse, expect: u16) -> Value {
        if r.status != expect {
            self.fail(&format!(
                "{what}: status {} (expected {expect}) body {}",
                r.status, r.body
            ));
        }
        if r.body.trim().is_empty() {
            return Value::Null;
        }
        match serde_json::from_str(&r.body) {
            Ok(v) => v,
            Err(e) => self.fail(&format!("{what}: body is not JSON ({e}): {}", r.body)),
        }
    }

    /// `/metrics` as `name -> value`; labelled series are keyed with their labels as
    /// printed, e.g. `x_total{side="a"}`.
    pub fn metrics(&self) -> HashMap<String, f64> {
        let r = self.get("/metrics");
        if r.status != 200 {
            self.fail(&format!("GET /metrics: status {}", r.status));
        }
        parse_metrics(&r.body)
    }

    /// One metric's value; panics when `/metrics` lacks it.
    pub fn metric(&self, name: &str) -> f64 {
        match self.metrics().get(name) {
            Some(v) => *v,
            None => self.fail(&format!("/metrics has no {name}")),
        }
    }

    /// `/api/cdrs` rows, newest first.
    pub fn cdrs(&self) -> Vec<Value> {
        let v = self.http("/api/cdrs?limit=1000");
        v["cdrs"].as_array().cloned().unwrap_or_default()
    }

    /// `/api/calls`: live calls.
    pub fn calls(&self) -> Vec<Value> {
        self.http("/api/calls")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `/api/registrations`: live bindings (registered and static).
    pub fn registrations(&self) -> Vec<Value> {
        self.http("/api/registrations")
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Polls `cond` until it holds or `timeout` passes; returns whether it held.
    /// An agent's state name from `GET /api/agents/{id}` ("ready", "busy", …; "?" if none).
    pub fn agent_state(&self, id: &str) -> String {
        self.http(&format!("/api/agents/{id}"))["agent"]["state"]["state"]
            .as_str()
            .unwrap_or("?")
            .to_string()
    }

    pub fn wait_until(&self, timeout: Duration, cond: impl FnMut() -> bool) -> bool {
        crate::wait_until(timeout, cond)
    }

    /// Like [`Switch::wait_until`] but panics (naming `what`, with the log tail) on timeout.
    pub fn wait_for(&self, what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
        if !crate::wait_until(timeout, cond) {
            self.fail(&format!("timed out after {timeout:?} waiting for {what}"));
        }
    }

    /// Waits until exactly `n` CDRs exist and returns them (newest first). Panics with the
    /// rows seen and the log tail otherwise.
    pub fn wait_cdrs(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let mut rows = Vec::new();
        crate::wait_until(timeout, || {
            rows = self.cdrs();
            rows.len() >= n
        });
        // A moment more, to catch a row too many.
        std::thread::sleep(Duration::from_millis(100));
        rows = self.cdrs();
        if rows.len() != n {
            self.fail(&format!(
                "expected {n} CDRs, found {}: {}",
                rows.len(),
                serde_json::to_string_pretty(&rows).unwrap_or_default()
            ));
        }
        rows
    }

    /// The one CDR this switch wrote (waits up to 5 s for it).
    pub fn expect_cdr(&self) -> Value {
        self.wait_cdrs(1, Duration::from_secs(5)).remove(0)
    }

    /// Asserts that `cdr[field] == expected`, quoting the row and log on failure.
    pub fn assert_field(&self, cdr: &Value, field: &str, expected: impl Into<Value>) {
        let expected = expected.into();
        if cdr[field] != expected {
            self.fail(&format!(
                "CDR field {field}: expected {expected}, got {}\nrow: {cdr}",
                cdr[field]
            ));
        }
    }

    /// Stops the switch: SIGTERM, up to 5 s to exit, then SIGKILL. Returns its exit status
    /// (`None` when it was already stopped).
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("switch did not stop within {STOP_TIMEOUT:?} of SIGTERM; killing it");
        let _ = child.kill();
        child.wait().ok()
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: plain kill(2) on our own child's pid; it has not been reaped yet, so
        // the pid cannot have been reused.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

impl Drop for Switch {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "switch files kept in {}\n{}",
                self.dir.display(),
                self.log_tail()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Parses the Prometheus text format: `name value` or `name{labels} value` per line.
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.trim().to_string(), value.parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_merges_builder_and_extra() {
        let cfg = SwitchConfig::new()
            .trusted(&["127.0.0.1/32"])
            .user("2000", "pw")
            .static_contact("2000", "sip:2000@127.0.0.1:5070")
            .static_user("gw", "sip:gw@127.0.0.1:5080")
            .extra("[sip]\ninvite_timeout_secs = 2\n[[users]]\nid = \"1001\"\npassword = \"p\"\n");
        let ports = Ports {
            sip: 5999,
            http: 8999,
            tls: 5998,
            https: 8998,
            rtp: (30000, 30199),
        };
        let text = cfg.render(&ports, Path::new("/tmp/x"));
        let t: toml::Table = text.parse().unwrap();
        assert_eq!(t["data_dir"].as_str(), Some("/tmp/x"));
        assert_eq!(t["sip"]["invite_timeout_secs"].as_integer(), Some(2));
        assert_eq!(t["sip"]["trusted"][0].as_str(), Some("127.0.0.1/32"));
        assert_eq!(t["sip"]["listen"][1].as_str(), Some("tcp:127.0.0.1:5999"));
        assert_eq!(t["http"]["listen"].as_str(), Some("127.0.0.1:8999"));
        assert_eq!(t["media"]["rtp_ports"].as_str(), Some("30000-30199"));
        let users = t["users"].as_array().unwrap();
        assert_eq!(users.len(), 3);
        assert_eq!(users[0]["password"].as_str(), Some("pw"));
        assert_eq!(
            users[0]["contact"].as_str(),
            Some("sip:2000@127.0.0.1:5070")
        );
        assert!(users[1].get("password").is_none());
        assert_eq!(users[2]["id"].as_str(), Some("1001"));
        assert_eq!(
            t["sip"]["listen"].as_array().map(Vec::len),
            Some(2),
            "no TLS unless asked"
        );
        assert!(t.get("tls").is_none());
        let t: toml::Table = cfg
            .tls()
            .render(&ports, Path::new("/tmp/x"))
            .parse()
            .unwrap();
        assert_eq!(t["sip"]["listen"][2].as_str(), Some("tls:127.0.0.1:5998"));
        assert_eq!(t["tls"]["https_listen"].as_str(), Some("127.0.0.1:8998"));
    }

    #[test]
    fn rtp_blocks_are_even_and_in_range() {
        for _ in 0..300 {
            let (first, last) = rtp_block();
            assert_eq!(first % 2, 0);
            assert!((30000..=59999).contains(&first) && last <= 59999 && last == first + 199);
        }
    }

    #[test]
    fn metrics_text_parses() {
        let m = parse_metrics(
            "# HELP a x\n# TYPE a counter\na 3\nb{side=\"a\"} 1.5\n\nbad line here x\n",
        );
        assert_eq!(m["a"], 3.0);
        assert_eq!(m["b{side=\"a\"}"], 1.5);
        assert_eq!(m.len(), 2);
    }
}
