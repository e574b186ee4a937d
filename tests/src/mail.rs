//! Real mail servers for the e-mail tests: Dovecot (Debian `dovecot-imapd`) as the
//! contact centre's mailbox, on a private port and directory, with one user; and
//! aiosmtpd (PyPI) as the SMTP relay, keeping what it receives in a Maildir. Both are
//! started by the test and stopped when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether python3 has aiosmtpd (CI installs it; elsewhere the test is skipped).
pub fn has_aiosmtpd() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must have the Python package aiosmtpd installed");
    }
    if !ok {
        eprintln!("skipped: python3 -m aiosmtpd not available");
    }
    ok
}

/// A CA `name`-ca.pem and a certificate it signs for 127.0.0.1 (`name`.pem, `name`.key).
pub fn ca_and_leaf(dir: &std::path::Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let p = |f: &str| dir.join(format!("{name}{f}"));
    let (ca, ca_key, csr, cert, key, ext) = (
        p("-ca.pem"),
        p("-ca.key"),
        p(".csr"),
        p(".pem"),
        p(".key"),
        p(".ext"),
    );
    std::fs::write(
        &ext,
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let run = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("openssl: {e}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let s = |v: &'static str| std::ffi::OsStr::new(v);
    run(&[
        s("req"),
        s("-x509"),
        s("-newkey"),
        s("rsa:2048"),
        s("-nodes"),
        s("-days"),
        s("1"),
        s("-subj"),
        s("/CN=Relay test CA"),
        s("-keyout"),
        ca_key.as_os_str(),
        s("-out"),
        ca.as_os_str(),
    ]);
    run(&[
        s("req"),
        s("-newkey"),
        s("rsa:2048"),
        s("-nodes"),
        s("-subj"),
        s("/CN=127.0.0.1"),
        s("-keyout"),
        key.as_os_str(),
        s("-out"),
        csr.as_os_str(),
    ]);
    run(&[
        s("x509"),
        s("-req"),
        s("-in"),
        csr.as_os_str(),
        s("-CA"),
        ca.as_os_str(),
        s("-CAkey"),
        ca_key.as_os_str(),
        s("-CAcreateserial"),
        s("-days"),
        s("1"),
        s("-extfile"),
        ext.as_os_str(),
        s("-out"),
        cert.as_os_str(),
    ]);
    (ca, cert, key)
}

/// A Dovecot IMAP server with some mailboxes (user, password); the first is the one
/// [`Dovecot::deliver`] and [`Dovecot::unseen`] use.
pub struct Dovecot {
    dir: PathBuf,
    pub addr: SocketAddr,
    /// IMAPS (TLS from the first byte), when started with a certificate.
    pub tls_addr: Option<SocketAddr>,
    pub user: String,
    pub password: String,
}

impl Dovecot {
    /// Start it; `None` (test skipped) where Dovecot is not installed.
    pub fn start(users: &[(&str, &str)]) -> Option<Dovecot> {
        Dovecot::start_with(users, None)
    }

    /// [`Dovecot::start`], also serving IMAPS with `tls` (certificate and key PEM files)
    /// on [`Dovecot::tls_addr`].
    pub fn start_with(users: &[(&str, &str)], tls: Option<(&Path, &Path)>) -> Option<Dovecot> {
        let (user, password) = users
            .first()
            .copied()
            .unwrap_or(("support@example.com", "secret"));
        if !crate::require("dovecot") {
            return None;
        }
        let dir = crate::temp_dir("dovecot");
        let port = crate::free_port();
        let tls_port = tls.map(|_| crate::free_port());
        let d = dir.display();
        // Dovecot's auth process (user dovecot) reads the passwd file in it.
        let _ = Command::new("chmod").arg("755").arg(&dir).status();
        let (ssl, imaps) = match (tls, tls_port) {
            (Some((cert, key)), Some(p)) => (
                format!(
                    "ssl = yes\nssl_cert = <{}\nssl_key = <{}\n",
                    cert.display(),
                    key.display()
                ),
                format!("address = 127.0.0.1\n    port = {p}"),
            ),
            _ => ("ssl = no\n".to_string(), "port = 0".to_string()),
        };
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap_or_else(|e| panic!("{d}/{sub}: {e}"));
        }
        // Mail files belong to the `mail` system user (Dovecot refuses uid 0).
        let _ = Command::new("chown")
            .args(["-R", "mail:mail"])
            .arg(dir.join("home"))
            .status();
        let conf = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\n\
             protocols = imap\nlisten = 127.0.0.1\n{ssl}disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\nfirst_valid_uid = 1\n\
             mail_location = maildir:{d}/home/%u/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = uid=mail gid=mail home={d}/home/%u\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  inet_listener imaps {{\n    {imaps}\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        std::fs::write(dir.join("dovecot.conf"), conf).unwrap_or_else(|e| panic!("{e}"));
        let passwd: String = users
            .iter()
            .map(|(u, p)| format!("{u}:{{PLAIN}}{p}\n"))
            .collect();
        std::fs::write(dir.join("passwd"), passwd).unwrap_or_else(|e| panic!("{e}"));
        let status = Command::new("dovecot")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .status()
            .unwrap_or_else(|e| panic!("running dovecot: {e}"));
        assert!(status.success(), "dovecot did not start: {status}");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let up = crate::wait_until(Duration::from_secs(10), || TcpStream::connect(addr).is_ok());
        assert!(
            up,
            "dovecot is not listening on {addr}\n{}",
            crate::tail_file(&dir.join("dovecot.log"), 20)
        );
        Some(Dovecot {
            dir,
            addr,
            tls_addr: tls_port.map(|p| SocketAddr::from(([127, 0, 0, 1], p))),
            user: user.into(),
            password: password.into(),
        })
    }

    /// Deliver `raw` into the INBOX (IMAP APPEND, as a delivery agent would put it there).
    pub fn deliver(&self, raw: &str) {
        let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
        let mut s = TcpStream::connect(self.addr).unwrap_or_else(|e| panic!("IMAP: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let mut r = BufReader::new(s.try_clone().unwrap_or_else(|e| panic!("{e}")));
        line(&mut r);
        write!(s, "a1 LOGIN \"{}\" \"{}\"\r\n", self.user, self.password).ok();
        expect_ok(&mut r, "a1");
        write!(s, "a2 APPEND INBOX {{{}}}\r\n", raw.len()).ok();
        let cont = line(&mut r);
        assert!(cont.starts_with('+'), "IMAP APPEND: {cont}");
        s.write_all(raw.as_bytes()).ok();
        s.write_all(b"\r\n").ok();
        expect_ok(&mut r, "a2");
        write!(s, "a3 LOGOUT\r\n").ok();
    }

    /// Clear `\Seen` on every mail of the INBOX (another client, or a crash before the
    /// flag was set).
    pub fn mark_unseen(&self) {
        let mut s = TcpStream::connect(self.addr).unwrap_or_else(|e| panic!("IMAP: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        write!(
            s,
            "a1 LOGIN \"{}\" \"{}\"\r\na2 SELECT INBOX\r\na3 STORE 1:* -FLAGS (\\Seen)\r\na4 LOGOUT\r\n",
            self.user, self.password
        )
        .ok();
        let mut all = String::new();
        let _ = s.read_to_string(&mut all);
        assert!(all.contains("a3 OK"), "IMAP STORE: {all}");
    }

    /// How many mails of the INBOX are not `\Seen` yet.
    pub fn unseen(&self) -> usize {
        let mut s = TcpStream::connect(self.addr).unwrap_or_else(|e| panic!("IMAP: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        write!(
            s,
            "a1 LOGIN \"{}\" \"{}\"\r\na2 EXAMINE INBOX\r\na3 SEARCH UNSEEN\r\na4 LOGOUT\r\n",
            self.user, self.password
        )
        .ok();
        let mut all = String::new();
        let _ = s.read_to_string(&mut all);
        all.lines()
            .find_map(|l| l.strip_prefix("* SEARCH"))
            .map_or(0, |ids| ids.split_whitespace().count())
    }

    pub fn log(&self) -> String {
        crate::tail_file(&self.dir.join("dovecot.log"), 30)
    }
}

fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    r.read_line(&mut l)
        .unwrap_or_else(|e| panic!("IMAP read: {e}"));
    l
}

fn expect_ok(r: &mut BufReader<TcpStream>, tag: &str) {
    loop {
        let l = line(r);
        assert!(!l.is_empty(), "IMAP closed waiting for {tag}");
        if l.starts_with(tag) {
            assert!(l.starts_with(&format!("{tag} OK")), "IMAP {tag}: {l}");
            return;
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.join("dovecot.conf"))
            .arg("stop")
            .status();
    }
}

/// An SMTP relay (aiosmtpd) keeping each message it accepts as a file.
pub struct SmtpSink {
    child: Child,
    dir: PathBuf,
    pub addr: SocketAddr,
}

impl SmtpSink {
    /// Listen on `port` (a fixed one, so a test can start it after the switch).
    pub fn start(port: u16) -> SmtpSink {
        let dir = crate::temp_dir("smtp");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(addr.to_string())
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir.join("Maildir"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 -m aiosmtpd: {e}"));
        let up = crate::wait_until(Duration::from_secs(10), || TcpStream::connect(addr).is_ok());
        assert!(up, "aiosmtpd is not listening on {addr}");
        SmtpSink { child, dir, addr }
    }

    /// A relay that requires AUTH (PLAIN or LOGIN) as `user` / `password` before it takes
    /// a message; with `tls` (certificate and key PEM files) it also requires STARTTLS
    /// first, else AUTH is offered in the clear (a loopback test).
    pub fn start_with_auth(
        port: u16,
        user: &str,
        password: &str,
        tls: Option<(&Path, &Path)>,
    ) -> SmtpSink {
        const RELAY: &str = r#"
import signal, sys
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword
port, maildir, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), sys.argv[4].encode()
def check(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == user and data.password == password
    return AuthResult(success=ok, handled=False)
tls = {}
if len(sys.argv) > 6:
    import ssl
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(sys.argv[5], sys.argv[6])
    tls = dict(tls_context=context, require_starttls=True)
relay = Controller(Mailbox(maildir), hostname="127.0.0.1", port=port, authenticator=check,
                   auth_required=True, auth_require_tls=bool(tls), **tls)
relay.start()
signal.sigwait([signal.SIGTERM, signal.SIGINT])
relay.stop()
"#;
        let dir = crate::temp_dir("smtp");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let child = Command::new("python3")
            .args(["-c", RELAY, &port.to_string()])
            .arg(dir.join("Maildir"))
            .args([user, password])
            .args(
                tls.map(|(c, k)| [c.as_os_str(), k.as_os_str()])
                    .into_iter()
                    .flatten(),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 aiosmtpd relay: {e}"));
        let up = crate::wait_until(Duration::from_secs(10), || TcpStream::connect(addr).is_ok());
        assert!(up, "the AUTH relay is not listening on {addr}");
        SmtpSink { child, dir, addr }
    }

    /// The Maildir it keeps what it receives in.
    pub fn maildir(&self) -> PathBuf {
        self.dir.join("Maildir")
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|d| std::fs::read_dir(self.dir.join("Maildir").join(d)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort_by_key(|p| modified(p));
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }
}

fn modified(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .unwrap_or(std::time::UNIX_EPOCH)
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
