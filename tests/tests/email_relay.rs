//! Replies through a relay that requires AUTH (aiosmtpd with an authenticator, PLAIN or
//! LOGIN): with the right credentials (`email.smtp.user` / `password_file`) the reply
//! goes out; with a wrong password the relay's permanent refusal marks it failed at once
//! and the agent hears `email_failed` with the reason, nothing retried silently.

use e2e::mail::{has_aiosmtpd, Dovecot, SmtpSink};
use e2e::{free_port, Credential, Switch, SwitchConfig};
use std::time::Duration;

fn switch(dovecot: &Dovecot, smtp: u16, password_file: &std::path::Path) -> Switch {
    let imap = dovecot.addr.port();
    let pw = password_file.display();
    SwitchConfig::new()
        .user("1001", "pass1001")
        .extra(&format!(
            r#"
[[queues]]
dn = "8100"
name = "Support mail"
[[agents]]
id = "1001"
name = "Dana Agent"
extension = "1001"
queues = ["8100"]
capacity = {{ voice = 1, email = 1 }}
[[accounts]]
id = "1001"
roles = ["agent"]
agent = "1001"
extension = "1001"
[email]
[[email.mailboxes]]
name = "support"
host = "127.0.0.1"
port = {imap}
tls = "none"
user = "support@example.com"
password = "secret"
queue = "8100"
[email.smtp]
host = "127.0.0.1"
port = {smtp}
tls = "none"
user = "relay"
password_file = "{pw}"
from = "support@example.com"
"#
        ))
        .start()
}

/// A mail delivered, offered, accepted and answered; the outbox's verdict event.
fn answer(switch: &Switch, dovecot: &Dovecot, subject: &str) -> serde_json::Value {
    let events = switch.events("/api/events");
    let v = switch.post_json("/api/agents/1001/login", Some(r#"{"state":"ready"}"#));
    assert!(v["agent"]["state"]["state"].is_string(), "{v}");
    dovecot.deliver(&format!(
        "From: Ada <ada@example.org>\nTo: support@example.com\nSubject: {subject}\n\
         Message-ID: <{subject}@example.org>\n\nHello\n"
    ));
    let offer = events
        .wait_for(Duration::from_secs(20), |e| {
            e["type"] == "email_offer" && e["subject"] == subject
        })
        .unwrap_or_else(|| switch.fail("no email_offer"));
    let thread = offer["thread"].as_u64().unwrap_or_default();
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let accepted = switch.request_as(&dana, "POST", &format!("/api/emails/{thread}/accept"), None);
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let r = switch.request_as(
        &dana,
        "POST",
        &format!("/api/emails/{thread}/reply"),
        Some(r#"{"kind":"quick","text":"On it."}"#),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    events
        .wait_for(Duration::from_secs(15), |e| {
            e["thread"] == thread && (e["type"] == "email_sent" || e["type"] == "email_failed")
        })
        .unwrap_or_else(|| switch.fail("no verdict from the outbox"))
}

#[test]
fn replies_authenticate_to_the_relay_and_a_refusal_is_reported() {
    if !has_aiosmtpd() {
        return;
    }
    let Some(dovecot) = Dovecot::start(&[("support@example.com", "secret")]) else {
        return;
    };
    let port = free_port();
    let sink = SmtpSink::start_with_auth(port, "relay", "relay-pass");
    let dir = e2e::temp_dir("relay-secret");
    let secret = dir.join("smtp.pass");

    std::fs::write(&secret, "not-the-password\n").unwrap_or_else(|e| panic!("{e}"));
    let refused = switch(&dovecot, port, &secret);
    let verdict = answer(&refused, &dovecot, "first");
    assert_eq!(verdict["type"], "email_failed", "{verdict}");
    assert_eq!(
        verdict["attempts"], 1,
        "a permanent refusal is not retried: {verdict}"
    );
    assert!(
        verdict["error"].as_str().is_some_and(|e| e.contains("535")),
        "the relay's reason: {verdict}"
    );
    assert!(sink.messages().is_empty());
    drop(refused);

    std::fs::write(&secret, "relay-pass\n").unwrap_or_else(|e| panic!("{e}"));
    let ok = switch(&dovecot, port, &secret);
    let verdict = answer(&ok, &dovecot, "second");
    assert_eq!(verdict["type"], "email_sent", "{verdict}");
    let sent = sink.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("On it."), "{}", sent[0]);
}
