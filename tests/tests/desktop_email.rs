//! The e-mail channel in the agent desktop, in headless Chromium against the real binary,
//! Dovecot (the mailboxes support@ → queue 8100 and billing@ → 8101) and aiosmtpd (the
//! relay). The browser part, `tests/browser/email.mjs`, delivers the customer's mails by
//! IMAP APPEND and drives the desktop: the pop-up (e-mail icon, customer, address,
//! queue), Accept, the mail, a quick reply, the wrap-up; the customer's answer offered
//! into the same thread, earlier messages shown and hidden, View original; a draft kept
//! across a reload; a standard reply (template, bold, bulleted list, Cc, two files, one of
//! 3 MB; a file
//! the server refuses first); contact history; a transfer to the other e-mail queue; a
//! mail declined (RONA), offered again, the whole toolbar, the 10-file limit, ended
//! without a reply.
//! Here: what the relay received (the quick reply as text; the standard reply multipart
//! with the HTML, the Cc and the file) and where the transferred thread waits.
//! Screenshots are left in `target/screenshots/email/`.

use e2e::mail::{has_aiosmtpd, Dovecot, SmtpSink};
use e2e::{free_port, SwitchConfig};
use serde_json::json;
use std::time::Duration;

fn config(imap: u16, smtp: u16) -> String {
    format!(
        r#"
[[queues]]
dn = "8100"
name = "Support mail"
offer_timeout_secs = 60
wrap_up = {{ mode = "manual" }}
[[queues]]
dn = "8101"
name = "Billing mail"
wrap_up = {{ mode = "manual" }}
[[agents]]
id = "1001"
name = "Dana Agent"
extension = "1001"
queues = ["8100"]
capacity = {{ voice = 1, email = 2 }}
[[agents]]
id = "1002"
name = "Eli Agent"
extension = "1002"
queues = ["8101"]
[[accounts]]
id = "1001"
name = "Dana Agent"
roles = ["agent"]
agent = "1001"
extension = "1001"
[chat]
wrap_up_codes = {{ "8100" = ["Resolved", "Refund"], "8101" = ["Billed"] }}
[email]
[[email.mailboxes]]
name = "support"
host = "127.0.0.1"
port = {imap}
tls = "none"
user = "support@example.com"
password = "secret"
queue = "8100"
poll_secs = 5
[[email.mailboxes]]
name = "billing"
host = "127.0.0.1"
port = {imap}
tls = "none"
user = "billing@example.com"
password = "secret2"
queue = "8101"
poll_secs = 5
[email.smtp]
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = "support@example.com"
from_name = "Example Support"
"#
    )
}

/// The message with quoted-printable undone (soft line breaks, `=XX`), so the HTML part
/// reads as sent whichever encoding the relay's client chose for it.
fn unquote(mail: &str) -> String {
    let joined = mail.replace("=\r\n", "").replace("=\n", "");
    let b = joined.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'=' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn an_agent_works_e_mail_in_the_desktop() {
    if !has_aiosmtpd() {
        return;
    }
    let Some(tools) = e2e::browser_tools(&[]) else {
        return;
    };
    let Some(dovecot) = Dovecot::start(&[
        ("support@example.com", "secret"),
        ("billing@example.com", "secret2"),
    ]) else {
        return;
    };
    let relay = SmtpSink::start(free_port());
    let switch = SwitchConfig::new()
        .user("1001", "pass1001")
        .extra(&config(dovecot.addr.port(), relay.addr.port()))
        .start();
    let body = json!({"title": "Thanks",
        "text": "Dear {customer},\n\nthank you for writing.\n\nKind regards,\n{agent}"})
    .to_string();
    let r = switch.request("POST", "/api/chat/templates", Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);

    // The script delivers the customer's mails itself (IMAP APPEND to support@).
    std::env::set_var("IMAP_PORT", dovecot.addr.port().to_string());
    std::env::set_var("IMAP_USER", &dovecot.user);
    std::env::set_var("IMAP_PASSWORD", &dovecot.password);
    std::env::set_var("RELAY_MAILDIR", relay.maildir());
    let result = e2e::run_browser_script(&switch, &tools, "email.mjs", "email");

    // The relay has the quick reply (plain text) and the standard one (multipart: the
    // HTML with the bold text and the list, the Cc, the file).
    let sent = relay.messages();
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let quick = &sent[0];
    assert!(
        quick.contains("We refund the second charge today.") && !quick.contains("text/html"),
        "{quick}"
    );
    let rich = &unquote(&sent[1]);
    for needle in [
        "multipart/",
        "text/html",
        "<b>",
        "<ul>",
        "<li>",
        "Cc: boss@example.org",
        "notes.txt",
        "statement.csv",
        // notes.txt, base64
        "UmVmdW5kIHJlZmVyZW5jZSBSLTIyOTEK",
        "Dear Ada Lovelace",
        "Dana Agent",
        "In-Reply-To: <a2@example.org>",
    ] {
        assert!(rich.contains(needle), "{needle:?} missing from\n{rich}");
    }
    // The transferred thread waits in the billing queue; its draft went with the work.
    let moved = result["transferred"].as_u64().unwrap_or_default();
    let v = switch.http(&format!("/api/emails/{moved}"));
    assert_eq!(v["thread"]["queue"], "8101", "{v:#}");
    assert_eq!(v["state"], "queued", "{v:#}");
    assert!(
        switch.wait_until(Duration::from_secs(5), || dovecot.unseen() == 0),
        "mails left unseen\n{}",
        dovecot.log()
    );
}
