//! `[email]`: the e-mail channel. `[[email.mailboxes]]` are the contact centre's IMAP
//! mailboxes, each feeding a queue; `[email.smtp]` is the relay replies go out through.
//! Bodies follow the chat's card-number rule (`chat.card_numbers`).
//!
//! ```toml
//! [[email.mailboxes]]
//! name = "support"            # names the mailbox in the store and the logs
//! host = "imap.example.com"
//! port = 993
//! tls = "tls"                 # "tls" (implicit, 993) or "none" (loopback, tests)
//! user = "support@example.com"
//! password_file = "/etc/ccswitch/support.pass"   # or password = "..."
//! folder = "INBOX"
//! queue = "8100"              # the e-mail queue its new threads go to
//! poll_secs = 60              # when the server has no IDLE, or IDLE fails
//! ca = "/etc/ccswitch/imap-ca.pem"   # optional: trust this instead of the system roots
//!
//! [email.smtp]
//! host = "smtp.example.com"
//! port = 587
//! tls = "starttls"            # "starttls", "tls" or "none"
//! user = "support@example.com"
//! password_file = "/etc/ccswitch/smtp.pass"
//! from = "support@example.com"
//! from_name = "Example Support"
//! ca = "/etc/ccswitch/relay-ca.pem"   # optional: trust this instead of the system roots
//! ```

use super::validate::Problems;
use serde::{Deserialize, Serialize};

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    /// Plain TCP (loopback and tests only; the server's log warns).
    None,
    /// STARTTLS after the greeting (SMTP).
    StartTls,
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
}

impl MailTls {
    fn name(self) -> &'static str {
        match self {
            MailTls::None => "none",
            MailTls::StartTls => "starttls",
            MailTls::Tls => "tls",
        }
    }
}

/// One IMAP mailbox, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: MailTls,
    pub user: String,
    /// The password itself (read from `password_file` at start-up when given).
    pub password: String,
    pub password_file: Option<String>,
    pub folder: String,
    pub queue: String,
    pub poll_secs: u64,
    /// A PEM file of the certificate(s) to trust for the server instead of the system's
    /// roots.
    pub ca: Option<String>,
}

/// The SMTP relay, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub tls: MailTls,
    pub user: Option<String>,
    pub password: String,
    pub password_file: Option<String>,
    pub from: String,
    pub from_name: String,
    /// A PEM file of the certificate(s) to trust for the relay instead of the system's
    /// roots (a relay with a private CA or a self-signed certificate).
    pub ca: Option<String>,
}

/// `[email]`, validated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmailConfig {
    pub mailboxes: Vec<Mailbox>,
    pub smtp: Option<Smtp>,
    /// Most attachments on one reply, and their total size.
    pub max_attachments: usize,
    pub max_attachment_bytes: u64,
}

impl EmailConfig {
    /// The queues that take e-mail.
    pub fn is_email_queue(&self, dn: &str) -> bool {
        self.mailboxes.iter().any(|m| m.queue == dn)
    }
}

/// `[[email.mailboxes]]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawMailbox {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub tls: String,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    pub folder: String,
    pub queue: String,
    pub poll_secs: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
}

/// `[email.smtp]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawSmtp {
    pub host: String,
    pub port: u16,
    pub tls: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
    pub from: String,
    pub from_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
}

/// `[email]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawEmail {
    pub mailboxes: Vec<RawMailbox>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp: Option<RawSmtp>,
    pub max_attachments: u64,
    pub max_attachment_bytes: u64,
}

impl Default for RawEmail {
    fn default() -> Self {
        RawEmail {
            mailboxes: Vec::new(),
            smtp: None,
            max_attachments: 10,
            max_attachment_bytes: 25 * 1024 * 1024,
        }
    }
}

fn tls_of(v: &str, smtp: bool) -> Option<MailTls> {
    match v {
        "none" => Some(MailTls::None),
        "tls" => Some(MailTls::Tls),
        "starttls" if smtp => Some(MailTls::StartTls),
        _ => None,
    }
}

/// A password written inline or in a file (read now; its first line).
fn secret(
    inline: &Option<String>,
    file: &Option<String>,
    key: &str,
    p: &mut Problems,
) -> Option<String> {
    match (inline, file) {
        (Some(_), Some(_)) => {
            p.add(key, "give password or password_file, not both");
            None
        }
        (Some(pw), None) => Some(pw.clone()),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(s) => Some(s.lines().next().unwrap_or_default().to_string()),
            Err(e) => {
                p.add(format!("{key}_file"), format!("cannot read {path:?}: {e}"));
                None
            }
        },
        (None, None) => Some(String::new()),
    }
}

fn mailbox(i: usize, m: &RawMailbox, p: &mut Problems) -> Option<Mailbox> {
    let key = |k: &str| format!("email.mailboxes[{i}].{k}");
    let before = p.len();
    if m.name.is_empty() || acd::check_name(&m.name).is_err() {
        p.add(key("name"), "must be a short name (letters, digits, - _ .)");
    }
    if m.host.is_empty() {
        p.add(key("host"), "must name the IMAP server");
    }
    let tls = tls_of(&m.tls, false);
    if tls.is_none() {
        p.add(key("tls"), "must be \"tls\" or \"none\"");
    }
    if m.user.is_empty() {
        p.add(key("user"), "must not be empty");
    }
    if let Err(e) = acd::check_dn(&m.queue) {
        p.add(key("queue"), e);
    }
    if !(5..=3600).contains(&m.poll_secs) {
        p.add(key("poll_secs"), "must be 5..=3600");
    }
    let password = secret(&m.password, &m.password_file, &key("password"), p);
    let port = match (m.port, tls) {
        (0, Some(MailTls::None)) => 143,
        (0, _) => 993,
        (port, _) => port,
    };
    (p.len() == before).then(|| Mailbox {
        name: m.name.clone(),
        host: m.host.clone(),
        port,
        tls: tls.unwrap_or(MailTls::Tls),
        user: m.user.clone(),
        password: password.unwrap_or_default(),
        password_file: m.password_file.clone(),
        folder: if m.folder.is_empty() {
            "INBOX".into()
        } else {
            m.folder.clone()
        },
        queue: m.queue.clone(),
        poll_secs: m.poll_secs,
        ca: m.ca.clone().filter(|c| !c.is_empty()),
    })
}

fn smtp(s: &RawSmtp, p: &mut Problems) -> Option<Smtp> {
    let before = p.len();
    if s.host.is_empty() {
        p.add("email.smtp.host", "must name the SMTP relay");
    }
    let tls = tls_of(&s.tls, true);
    if tls.is_none() {
        p.add(
            "email.smtp.tls",
            "must be \"starttls\", \"tls\" or \"none\"",
        );
    }
    if !s.from.contains('@') {
        p.add("email.smtp.from", "must be the address replies come from");
    }
    let password = secret(&s.password, &s.password_file, "email.smtp.password", p);
    let port = match (s.port, tls) {
        (0, Some(MailTls::Tls)) => 465,
        (0, Some(MailTls::None)) => 25,
        (0, _) => 587,
        (port, _) => port,
    };
    (p.len() == before).then(|| Smtp {
        host: s.host.clone(),
        port,
        tls: tls.unwrap_or(MailTls::StartTls),
        user: s.user.clone().filter(|u| !u.is_empty()),
        password: password.unwrap_or_default(),
        password_file: s.password_file.clone(),
        from: s.from.clone(),
        from_name: s.from_name.clone(),
        ca: s.ca.clone().filter(|c| !c.is_empty()),
    })
}

pub(super) fn email(raw: &RawEmail, p: &mut Problems) -> Option<EmailConfig> {
    let before = p.len();
    let mut mailboxes = Vec::new();
    for (i, m) in raw.mailboxes.iter().enumerate() {
        let m = RawMailbox {
            poll_secs: if m.poll_secs == 0 { 60 } else { m.poll_secs },
            ..m.clone()
        };
        if let Some(m) = mailbox(i, &m, p) {
            if mailboxes.iter().any(|o: &Mailbox| o.name == m.name) {
                p.add(format!("email.mailboxes[{i}].name"), "is used twice");
            }
            mailboxes.push(m);
        }
    }
    let smtp = raw.smtp.as_ref().and_then(|s| smtp(s, p));
    if !raw.mailboxes.is_empty() && raw.smtp.is_none() {
        p.add("email.smtp", "mailboxes need a relay to answer through");
    }
    if !(1..=100).contains(&raw.max_attachments) {
        p.add("email.max_attachments", "must be 1..=100");
    }
    if !(1..=1024 * 1024 * 1024).contains(&raw.max_attachment_bytes) {
        p.add("email.max_attachment_bytes", "must be 1..=1073741824");
    }
    (p.len() == before).then_some(EmailConfig {
        mailboxes,
        smtp,
        max_attachments: raw.max_attachments as usize,
        max_attachment_bytes: raw.max_attachment_bytes,
    })
}

/// Back to the file's form (`--print-config`); passwords read from files stay in them.
pub(super) fn raw_email(c: &EmailConfig) -> RawEmail {
    let pw = |inline: &str, file: &Option<String>| match file {
        Some(_) => None,
        None => Some(inline.to_string()).filter(|p| !p.is_empty()),
    };
    RawEmail {
        mailboxes: c
            .mailboxes
            .iter()
            .map(|m| RawMailbox {
                name: m.name.clone(),
                host: m.host.clone(),
                port: m.port,
                tls: m.tls.name().into(),
                user: m.user.clone(),
                password: pw(&m.password, &m.password_file),
                password_file: m.password_file.clone(),
                folder: m.folder.clone(),
                queue: m.queue.clone(),
                poll_secs: m.poll_secs,
                ca: m.ca.clone(),
            })
            .collect(),
        smtp: c.smtp.as_ref().map(|s| RawSmtp {
            host: s.host.clone(),
            port: s.port,
            tls: s.tls.name().into(),
            user: s.user.clone(),
            password: pw(&s.password, &s.password_file),
            password_file: s.password_file.clone(),
            from: s.from.clone(),
            from_name: s.from_name.clone(),
            ca: s.ca.clone(),
        }),
        max_attachments: c.max_attachments as u64,
        max_attachment_bytes: c.max_attachment_bytes,
    }
}
