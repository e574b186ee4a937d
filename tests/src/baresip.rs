//! Drive headless baresip softphones (Debian `baresip-core`) from end-to-end tests.
//!
//! [`Baresip::start`] writes a config directory (`config`, `accounts`, `contacts`), starts
//! `baresip -f DIR -n 127.0.0.1 -v -s -t SECS` with stdout and stderr in `DIR/baresip.log`,
//! and connects to its `ctrl_tcp` module: netstring-framed JSON on a TCP port, commands in
//! (`{"command":"dial","params":"sip:..","token":".."}`), responses and events out
//! (`{"response":true,"ok":true,"token":..}`, `{"event":true,"type":"CALL_ESTABLISHED",..}`).
//! That is how a test dials, hangs up and quits while the phone runs, and waits for call
//! events, with no terminal.
//!
//! Audio: the `aufile` module sends a WAV file (8 kHz mono 16-bit, see [`write_tone_wav`]);
//! no player module is loaded, so received audio is decoded and dropped. Codec: `g711`
//! (PCMU only, via the account's `audio_codecs`). No video modules.
//!
//! Ports: baresip binds its SIP port for UDP and TCP and the next port for TLS, so the helper
//! picks a port whose successor is free too; the RTP range is probed free as well. If
//! baresip still fails to bind (another process won the race), start is retried on new ports.

use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// The modules a phone needs; checked to exist in the module directory.
const MODULES: [&str; 6] = [
    "g711.so",
    "aufile.so",
    "account.so",
    "contact.so",
    "menu.so",
    "ctrl_tcp.so",
];

/// Directories where distributions put baresip's modules.
const MODULE_DIRS: [&str; 4] = [
    "/usr/lib/baresip/modules",
    "/usr/lib/x86_64-linux-gnu/baresip/modules",
    "/usr/lib/aarch64-linux-gnu/baresip/modules",
    "/usr/local/lib/baresip/modules",
];

/// Whether `baresip` is an executable on `PATH`.
pub fn is_installed() -> bool {
    crate::tool("baresip").is_some()
}

/// baresip's module directory: `$BARESIP_MODULES`, or the first of the usual places that
/// holds every module in [`MODULES`].
pub fn module_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("BARESIP_MODULES") {
        return Ok(PathBuf::from(d));
    }
    MODULE_DIRS
        .iter()
        .map(PathBuf::from)
        .find(|d| MODULES.iter().all(|m| d.join(m).is_file()))
        .with_context(|| {
            format!("no baresip module directory with {MODULES:?} in {MODULE_DIRS:?}; set BARESIP_MODULES")
        })
}

/// Writes a WAV file baresip's `aufile` reads: 8 kHz, mono, 16-bit PCM, a sine tone of
/// `freq_hz` at a quarter of full scale, `secs` long.
pub fn write_tone_wav(path: &Path, secs: u32, freq_hz: f64) -> std::io::Result<()> {
    crate::page::write_tone_wav(path, 8000, secs, freq_hz)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_tcp_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A port `p` on 127.0.0.1 free for UDP and TCP, with `p + 1` free for TCP: what baresip
/// binds for `sip_listen 127.0.0.1:p` (UDP and TCP on `p`, TLS on `p + 1`).
pub fn free_sip_port() -> Result<u16> {
    for _ in 0..100 {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let p = udp.local_addr()?.port();
        if p == u16::MAX {
            continue;
        }
        let ok = TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok()
            && TcpListener::bind((Ipv4Addr::LOCALHOST, p + 1)).is_ok();
        if ok {
            return Ok(p);
        }
    }
    bail!("no free SIP port pair on 127.0.0.1")
}

/// `len` consecutive UDP ports on 127.0.0.1, starting at an even port, free a moment ago
/// (for RTP ranges). Returns `(first, last)`.
pub fn free_udp_range(len: u16) -> Result<(u16, u16)> {
    for _ in 0..200 {
        // 20000..30000: below the harness's switch RTP blocks (30000..) and Linux's
        // ephemeral range (32768..), where other sockets' ports come from.
        let first = (20_000 + rand::random::<u16>() % (10_000 - len)) & !1;
        let last = first + len - 1;
        let all_free = (first..=last)
            .map(|p| UdpSocket::bind((Ipv4Addr::LOCALHOST, p)))
            .collect::<Result<Vec<_>, _>>()
            .is_ok();
        if all_free {
            return Ok((first, last));
        }
    }
    bail!("no {len} free consecutive UDP ports on 127.0.0.1")
}

/// What one phone is: its account and where its files go.
#[derive(Clone, Debug)]
pub struct Phone {
    /// Short name for messages ("A", "B").
    pub name: String,
    /// SIP user and digest username.
    pub user: String,
    pub password: String,
    /// The switch's SIP address (UDP); also the account's domain and registrar.
    pub registrar: SocketAddr,
    /// Answer incoming calls at once (`answermode=auto`).
    pub auto_answer: bool,
    /// WAV file sent as the microphone (see [`write_tone_wav`]).
    pub audio_source: PathBuf,
    /// Config directory; created; its `baresip.log` holds the phone's output.
    pub dir: PathBuf,
    /// `-t`: baresip quits by itself after this long, so a phone never outlives a test that
    /// was killed.
    pub max_secs: u32,
    /// Extra `(user, uri)` entries for the `contacts` file.
    pub contacts: Vec<(String, String)>,
    /// Send every request via this proxy (`outbound=` account parameter), e.g.
    /// `sip:127.0.0.1:5080`; `None`: straight to the registrar.
    pub outbound_proxy: Option<String>,
    /// SIP over TLS: `registrar` is then the switch's TLS address, every request goes over
    /// TLS to it, and the switch's certificate is checked against this PEM file
    /// (`sip_cafile`). `None`: UDP.
    pub tls_ca: Option<PathBuf>,
    /// The account's `mediaenc` (e.g. `srtp-mand`: SDES-SRTP, RTP/SAVP only), loading
    /// baresip's `srtp.so`; `None`: plain RTP.
    pub mediaenc: Option<String>,
}

/// A running baresip with a `ctrl_tcp` connection.
pub struct Baresip {
    name: String,
    child: Child,
    log: PathBuf,
    sip_port: u16,
    ctrl: TcpStream,
    rx: Receiver<Value>,
    /// Every event received so far, oldest first.
    events: Vec<Value>,
    next_token: u64,
}

impl Baresip {
    /// Writes the config and starts the phone; returns once `ctrl_tcp` accepts commands.
    /// Retries on fresh ports if baresip exits at start-up (a port was taken meanwhile).
    pub fn start(phone: &Phone) -> Result<Baresip> {
        let mut last_err = None;
        for _ in 0..3 {
            match Self::try_start(phone) {
                Ok(b) => return Ok(b),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("baresip did not start")))
    }

    fn try_start(phone: &Phone) -> Result<Baresip> {
        fs::create_dir_all(&phone.dir)
            .with_context(|| format!("creating {}", phone.dir.display()))?;
        let sip_port = free_sip_port()?;
        let ctrl_port = free_tcp_port()?;
        let rtp = free_udp_range(20)?;
        write_config(phone, sip_port, ctrl_port, rtp)?;

        let log = phone.dir.join("baresip.log");
        let out = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new("baresip");
        cmd.arg("-f")
            .arg(&phone.dir)
            .args(["-n", "127.0.0.1", "-v", "-s", "-t"])
            .arg(phone.max_secs.to_string())
            .current_dir(&phone.dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        kill_with_parent(&mut cmd);
        let mut child = cmd.spawn().context("spawning baresip")?;

        let deadline = Instant::now() + Duration::from_secs(5);
        let ctrl = loop {
            if let Some(status) = child.try_wait()? {
                let text = fs::read_to_string(&log).unwrap_or_default();
                bail!(
                    "baresip {} exited at start-up ({status}):\n{text}",
                    phone.name
                );
            }
            match TcpStream::connect((Ipv4Addr::LOCALHOST, ctrl_port)) {
                Ok(s) => break s,
                Err(e) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!(
                        "baresip {}: ctrl_tcp port {ctrl_port} never opened: {e}",
                        phone.name
                    );
                }
                Err(_) => thread::sleep(Duration::from_millis(30)),
            }
        };
        let (tx, rx) = mpsc::channel();
        let reader = ctrl.try_clone()?;
        thread::spawn(move || read_netstrings(reader, tx));
        Ok(Baresip {
            name: phone.name.clone(),
            child,
            log,
            sip_port,
            ctrl,
            rx,
            events: Vec::new(),
            next_token: 1,
        })
    }

    /// The phone's SIP port on 127.0.0.1.
    pub fn sip_port(&self) -> u16 {
        self.sip_port
    }

    /// Sends a `ctrl_tcp` command (`dial`, `hangup`, `quit`, ...; the menu module's long
    /// names) and waits for its response. Events that arrive meanwhile are kept.
    pub fn command(&mut self, command: &str, params: &str, timeout: Duration) -> Result<Value> {
        let token = format!("e2e{}", self.next_token);
        self.next_token += 1;
        let body =
            serde_json::json!({"command": command, "params": params, "token": token}).to_string();
        self.ctrl
            .write_all(format!("{}:{},", body.len(), body).as_bytes())
            .with_context(|| format!("baresip {}: sending {command}", self.name))?;
        let deadline = Instant::now() + timeout;
        loop {
            let msg = self.recv_until(deadline).with_context(|| {
                format!("baresip {}: no response to {command} {params}", self.name)
            })?;
            if msg["response"] == true && msg["token"] == token.as_str() {
                if msg["ok"] == true {
                    return Ok(msg);
                }
                bail!("baresip {}: {command} {params} failed: {msg}", self.name);
            }
        }
    }

    /// Dials `uri` (`/dial`).
    pub fn dial(&mut self, uri: &str) -> Result<()> {
        self.command("dial", uri, Duration::from_secs(5)).map(drop)
    }

    /// Hangs up the current call (`/hangup`): a BYE for an answered call.
    pub fn hangup(&mut self) -> Result<()> {
        self.command("hangup", "", Duration::from_secs(5)).map(drop)
    }

    /// Waits for an event of type `ty` (`REGISTER_OK`, `CALL_ESTABLISHED`, `CALL_CLOSED`,
    /// ...), including ones already received. Returns the event.
    pub fn wait_event(&mut self, ty: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = self.event_types();
            if let Some(e) = self.events.iter().find(|e| e["type"] == ty) {
                return Ok(e.clone());
            }
            self.recv_until(deadline).with_context(|| {
                format!(
                    "baresip {}: no {ty} event; events so far: [{}]",
                    self.name,
                    seen.join(", ")
                )
            })?;
        }
    }

    /// Types of the events received so far, oldest first (drains what has arrived).
    pub fn event_types(&mut self) -> Vec<String> {
        while let Ok(msg) = self.rx.try_recv() {
            self.keep(msg);
        }
        self.events
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("?").to_owned())
            .collect()
    }

    /// Receives one message before `deadline`, recording it if it is an event.
    fn recv_until(&mut self, deadline: Instant) -> Result<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(msg) => {
                self.keep(msg.clone());
                Ok(msg)
            }
            Err(RecvTimeoutError::Timeout) => bail!("timed out"),
            Err(RecvTimeoutError::Disconnected) => bail!("ctrl_tcp connection closed"),
        }
    }

    fn keep(&mut self, msg: Value) {
        if msg["event"] == true {
            self.events.push(msg);
        }
    }

    /// Everything the phone printed so far (SIP trace included).
    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| strip_ansi(&String::from_utf8_lossy(&b)))
            .unwrap_or_else(|e| format!("(cannot read {}: {e})", self.log.display()))
    }

    /// Quits gracefully (`/quit`: un-registers, ends calls), killing the process if it has
    /// not exited within `timeout`.
    pub fn quit(&mut self, timeout: Duration) -> Result<()> {
        let body = r#"{"command":"quit","params":"","token":"quit"}"#;
        let _ = self
            .ctrl
            .write_all(format!("{}:{},", body.len(), body).as_bytes());
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        bail!(
            "baresip {} did not quit within {timeout:?}; killed",
            self.name
        )
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn write_config(phone: &Phone, sip_port: u16, ctrl_port: u16, rtp: (u16, u16)) -> Result<()> {
    let modules = module_dir()?;
    let config = format!(
        "# Written by e2e::baresip for a headless test phone.\n\
         poll_method\t\tepoll\n\
         sip_listen\t\t127.0.0.1:{sip_port}\n\
         call_local_timeout\t30\n\
         call_max_calls\t\t4\n\
         audio_source\t\taufile,{wav}\n\
         ausrc_srate\t\t8000\n\
         ausrc_channels\t\t1\n\
         rtp_ports\t\t{rtp_lo}-{rtp_hi}\n\
         module_path\t\t{modules}\n\
         module\t\t\tg711.so\n\
         module\t\t\taufile.so\n\
         module_app\t\taccount.so\n\
         module_app\t\tcontact.so\n\
         module_app\t\tmenu.so\n\
         module_app\t\tctrl_tcp.so\n\
         ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}\n{cafile}{srtp}",
        srtp = if phone.mediaenc.is_some() {
            "module\t\t\tsrtp.so\n"
        } else {
            ""
        },
        wav = phone.audio_source.display(),
        rtp_lo = rtp.0,
        rtp_hi = rtp.1,
        modules = modules.display(),
        cafile = match &phone.tls_ca {
            Some(ca) => format!("sip_cafile\t\t{}\n", ca.display()),
            None => String::new(),
        },
    );
    let answermode = if phone.auto_answer { "auto" } else { "manual" };
    let proxy = match (&phone.outbound_proxy, &phone.tls_ca) {
        (Some(uri), _) => Some(uri.clone()),
        (None, Some(_)) => Some(format!("sip:{};transport=tls", phone.registrar)),
        (None, None) => None,
    };
    let outbound = match proxy {
        Some(uri) => format!(";outbound=\"{uri}\""),
        None => String::new(),
    };
    let transport = if phone.tls_ca.is_some() {
        ";transport=tls"
    } else {
        ""
    };
    let accounts = format!(
        "<sip:{user}@{reg}{transport}>;auth_pass={pass};answermode={answermode};regint=60;\
         audio_codecs=PCMU{outbound}{mediaenc}\n",
        mediaenc = phone
            .mediaenc
            .as_ref()
            .map_or(String::new(), |m| format!(";mediaenc={m}")),
        user = phone.user,
        reg = phone.registrar,
        pass = phone.password,
    );
    let mut contacts = String::new();
    for (user, uri) in &phone.contacts {
        contacts.push_str(&format!("\"{user}\" <{uri}>\n"));
    }
    for (name, text) in [
        ("config", config),
        ("accounts", accounts),
        ("contacts", contacts),
    ] {
        let path = phone.dir.join(name);
        fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// `text` without ANSI colour sequences (`ESC [ ... m`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads `len:json,` netstrings until the connection closes, sending each parsed message.
fn read_netstrings(mut s: TcpStream, tx: mpsc::Sender<Value>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        while let Some(colon) = buf.iter().position(|&b| b == b':') {
            let Some(len) = std::str::from_utf8(&buf[..colon])
                .ok()
                .and_then(|l| l.trim().parse::<usize>().ok())
            else {
                return; // not a netstring stream; give up rather than guess
            };
            let end = colon + 1 + len;
            if buf.len() <= end {
                break; // wait for the rest and the trailing ','
            }
            let msg = serde_json::from_slice(&buf[colon + 1..end]).unwrap_or_else(|_| {
                Value::String(String::from_utf8_lossy(&buf[colon + 1..end]).into())
            });
            buf.drain(..=end);
            if tx.send(msg).is_err() {
                return;
            }
        }
    }
}

/// On Linux, have the kernel kill the child if the test process dies first.
pub fn kill_with_parent(cmd: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec here.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}
