//! Running SIPp headless: a scenario from `sipp-scenarios/` (or a built-in one) with
//! private ports, a global timeout so nothing hangs, and its error, message and `<log>`
//! traces in a temp dir for the failure message.
//!
//! SIPp runs in the foreground as our child with `-nostdin` (it needs no terminal that
//! way; its screen goes to a file), so a callee can be killed when the test ends.

use crate::{Proto, Switch};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Default global timeout of one SIPp run (`-timeout`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of each trace quoted in failure messages.
const TRACE_TAIL_LINES: usize = 80;

/// `sipp-scenarios/NAME.xml` in the workspace.
pub fn scenario_path(name: &str) -> PathBuf {
    crate::workspace_root()
        .join("sipp-scenarios")
        .join(format!("{name}.xml"))
}

#[derive(Clone, Debug)]
enum Source {
    File(PathBuf),
    Builtin(String),
}

/// One SIPp invocation under construction.
///
/// The caller side needs [`Sipp::remote`]; a callee (UAS) side has none and is started with
/// [`Sipp::spawn`], which returns once SIPp listens on its port. Keys every scenario in
/// `sipp-scenarios/` may use: `[caller]` (From user, default `sipp`, set with
/// [`Sipp::caller`]) and `[service]` (Request-URI / To user, `-s`, [`Sipp::service`]).
#[derive(Clone, Debug)]
pub struct Sipp {
    name: String,
    source: Source,
    remote: Option<SocketAddr>,
    port: Option<u16>,
    tcp: bool,
    calls: u32,
    rate: Option<f64>,
    limit: Option<u32>,
    timeout: Duration,
    pause_ms: Option<u64>,
    service: Option<String>,
    keys: Vec<(String, String)>,
    auth: Option<(String, String)>,
    args: Vec<String>,
}

impl Sipp {
    /// The scenario file `sipp-scenarios/NAME.xml`.
    pub fn scenario(name: &str) -> Sipp {
        let path = scenario_path(name);
        if !path.is_file() {
            panic!("no SIPp scenario {}", path.display());
        }
        Sipp::new(name, Source::File(path))
    }

    /// A scenario file anywhere.
    pub fn scenario_file(path: &Path) -> Sipp {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into());
        Sipp::new(&name, Source::File(path.to_path_buf()))
    }

    /// A scenario built into SIPp (`-sn uac`, `-sn uas`, ...).
    pub fn builtin(name: &str) -> Sipp {
        Sipp::new(name, Source::Builtin(name.to_string()))
    }

    fn new(name: &str, source: Source) -> Sipp {
        Sipp {
            name: name.to_string(),
            source,
            remote: None,
            port: None,
            tcp: false,
            calls: 1,
            rate: None,
            limit: None,
            timeout: DEFAULT_TIMEOUT,
            pause_ms: None,
            service: None,
            keys: Vec::new(),
            auth: None,
            args: Vec::new(),
        }
    }

    /// Where requests go (the switch); omit for a callee.
    pub fn remote(mut self, addr: SocketAddr) -> Self {
        self.remote = Some(addr);
        self
    }

    /// Local SIP port (`-p`); a free one is picked when not set.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// One TCP connection for all calls (`-t t1`) instead of UDP.
    pub fn tcp(mut self) -> Self {
        self.tcp = true;
        self
    }

    /// Calls to place or answer before SIPp exits (`-m`, default 1).
    pub fn calls(mut self, n: u32) -> Self {
        self.calls = n;
        self
    }

    /// New calls per second (`-r`).
    pub fn rate(mut self, cps: f64) -> Self {
        self.rate = Some(cps);
        self
    }

    /// Most calls open at once (`-l`).
    pub fn limit(mut self, n: u32) -> Self {
        self.limit = Some(n);
        self
    }

    /// Global timeout (`-timeout`, with `-timeout_error`); default 30 s.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Length of each `<pause/>` without attributes (`-d`).
    pub fn pause_ms(mut self, ms: u64) -> Self {
        self.pause_ms = Some(ms);
        self
    }

    /// Request-URI user, `[service]` (`-s`).
    pub fn service(mut self, user: &str) -> Self {
        self.service = Some(user.to_string());
        self
    }

    /// The From user, `[caller]`.
    /// A caller scenario aimed at `switch`, calling 2000 as 1001 (the tests' usual pair).
    pub fn caller_to(scenario: &str, switch: &crate::Switch) -> Sipp {
        Sipp::scenario(scenario)
            .remote(switch.sip_addr())
            .service("2000")
            .caller("1001")
    }

    pub fn caller(self, user: &str) -> Self {
        self.key("caller", user)
    }

    /// Sets `[name]` to `value` in the scenario (`-key`).
    pub fn key(mut self, name: &str, value: &str) -> Self {
        self.keys.retain(|(k, _)| k != name);
        self.keys.push((name.to_string(), value.to_string()));
        self
    }

    /// Digest credentials for `[authentication]` (`-au`, `-ap`).
    pub fn auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// Any other SIPp argument.
    pub fn arg(mut self, a: &str) -> Self {
        self.args.push(a.to_string());
        self
    }

    /// Runs to completion (or the timeout) and returns what happened.
    pub fn run(self) -> SippResult {
        self.spawn().wait()
    }

    /// Starts SIPp in the background. A callee (no remote) is waited for until it listens.
    pub fn spawn(self) -> SippProcess {
        let Some(bin) = crate::tool("sipp") else {
            panic!("sipp is not installed (check with e2e::require(\"sipp\") first)");
        };
        let dir = crate::temp_dir(&format!("sipp-{}", self.name));
        let port = self.port.unwrap_or_else(crate::free_port);
        let mut cmd = Command::new(bin);
        match &self.source {
            Source::File(p) => cmd.arg("-sf").arg(p),
            Source::Builtin(n) => cmd.arg("-sn").arg(n),
        };
        if let Some(r) = self.remote {
            cmd.arg(r.to_string());
        }
        let timeout_s = self.timeout.as_secs().max(1);
        cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-t", if self.tcp { "t1" } else { "u1" }])
            .args(["-m", &self.calls.to_string()])
            .args(["-timeout", &format!("{timeout_s}s"), "-timeout_error"])
            .arg("-nostdin")
            .arg("-trace_err")
            .arg("-error_file")
            .arg(dir.join("errors.log"))
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(dir.join("messages.log"))
            .arg("-trace_logs")
            .arg("-log_file")
            .arg(dir.join("logs.log"))
            .arg("-trace_screen")
            .arg("-screen_file")
            .arg(dir.join("screen.log"));
        if let Some(r) = self.rate {
            cmd.args(["-r", &r.to_string()]);
        }
        if let Some(l) = self.limit {
            cmd.args(["-l", &l.to_string()]);
        }
        if let Some(d) = self.pause_ms {
            cmd.args(["-d", &d.to_string()]);
        }
        if let Some(s) = &self.service {
            cmd.args(["-s", s]);
        }
        if let Some((u, p)) = &self.auth {
            cmd.args(["-au", u, "-ap", p]);
        }
        let mut keys = self.keys.clone();
        if !keys.iter().any(|(k, _)| k == "caller") {
            keys.push(("caller".into(), "sipp".into()));
        }
        for (k, v) in &keys {
            cmd.args(["-key", k, v]);
        }
        cmd.args(&self.args);
        let stdout = dir.join("stdout.log");
        let out = match std::fs::File::create(&stdout) {
            Ok(f) => f,
            Err(e) => panic!("creating {}: {e}", stdout.display()),
        };
        let err = match out.try_clone() {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        };
        let command_line = format!("{cmd:?}");
        let child = match cmd
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => panic!("cannot start sipp: {e}"),
        };
        let mut process = SippProcess {
            name: self.name.clone(),
            child: Some(child),
            dir,
            port,
            command_line,
            deadline: Instant::now() + self.timeout + Duration::from_secs(5),
        };
        if self.remote.is_none() {
            let proto = if self.tcp { Proto::Tcp } else { Proto::Udp };
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            if !crate::wait_listening(proto, addr, Duration::from_secs(5)) {
                let r = process.finish();
                panic!(
                    "sipp {} did not listen on {addr}\n{}",
                    self.name,
                    r.report()
                );
            }
        }
        process
    }
}

/// A SIPp run in progress; killed when dropped.
pub struct SippProcess {
    name: String,
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    command_line: String,
    deadline: Instant,
}

impl SippProcess {
    /// The local SIP port SIPp uses.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// Whether SIPp is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Waits for SIPp to exit (killing it if it outlives its own timeout) and collects its
    /// traces.
    pub fn wait(mut self) -> SippResult {
        self.finish()
    }

    /// Kills SIPp now (a callee that should have got nothing, say) and collects its
    /// traces, which SIPp writes message by message.
    pub fn stop(mut self) -> SippResult {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
        }
        self.finish()
    }

    fn finish(&mut self) -> SippResult {
        let mut status = None;
        let mut killed = false;
        if let Some(mut child) = self.child.take() {
            loop {
                match child.try_wait() {
                    Ok(Some(s)) => {
                        status = s.code();
                        break;
                    }
                    Ok(None) if Instant::now() < self.deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        killed = true;
                        break;
                    }
                }
            }
        }
        let read = |f: &str| std::fs::read_to_string(self.dir.join(f)).unwrap_or_default();
        SippResult {
            name: self.name.clone(),
            command_line: self.command_line.clone(),
            status,
            killed,
            dir: self.dir.clone(),
            stdout: read("stdout.log"),
            errors: read("errors.log"),
            messages: read("messages.log"),
            logs: read("logs.log"),
            screen: read("screen.log"),
        }
    }
}

impl Drop for SippProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What a SIPp run left behind.
#[derive(Debug)]
pub struct SippResult {
    pub name: String,
    pub command_line: String,
    /// Exit code: 0 every call succeeded, 1 some failed, 97/99 other ends, 255 fatal or
    /// global timeout; `None` when killed.
    pub status: Option<i32>,
    /// The harness killed it after its timeout passed.
    pub killed: bool,
    /// Where the traces are.
    pub dir: PathBuf,
    pub stdout: String,
    /// `-trace_err`: unexpected messages and errors.
    pub errors: String,
    /// `-trace_msg`: every message sent and received.
    pub messages: String,
    /// `-trace_logs`: the scenario's `<log>` actions.
    pub logs: String,
    /// `-trace_screen`: the final statistics screen.
    pub screen: String,
}

impl SippResult {
    /// SIPp exited 0: every call followed the scenario.
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// A readable account of the run: command, status, error trace, `<log>` lines and the
    /// tail of the message trace.
    pub fn report(&self) -> String {
        format!(
            "--- sipp {} exited {:?}{} (traces in {}) ---\n{}\n--- sipp errors ---\n{}\n\
             --- sipp logs ---\n{}\n--- sipp messages (tail) ---\n{}\n--- sipp output (tail) ---\n{}",
            self.name,
            self.status,
            if self.killed { ", killed after its timeout" } else { "" },
            self.dir.display(),
            self.command_line,
            crate::tail(&self.errors, TRACE_TAIL_LINES),
            crate::tail(&self.logs, TRACE_TAIL_LINES),
            crate::tail(&self.messages, TRACE_TAIL_LINES),
            crate::tail(&self.stdout, 15),
        )
    }

    /// Panics with the SIPp report and the switch log unless SIPp exited 0.
    pub fn assert_success(&self, switch: &Switch) {
        if !self.success() {
            switch.fail(&format!("sipp {} failed\n{}", self.name, self.report()));
        }
    }

    /// Panics unless the scenario's `<log>` output has a line equal to `line`.
    pub fn assert_logged(&self, line: &str, switch: &Switch) {
        if !self.logs.lines().any(|l| l.trim() == line) {
            switch.fail(&format!(
                "sipp {} did not log {line:?}\n{}",
                self.name,
                self.report()
            ));
        }
    }
}

impl Drop for SippResult {
    /// Traces are removed after a passing test and kept (their path is in the report)
    /// after a failing one.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
