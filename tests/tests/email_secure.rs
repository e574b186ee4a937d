//! The e-mail channel with secured and authenticated servers: replies through a relay that
//! requires AUTH (aiosmtpd with an authenticator, PLAIN or LOGIN) — with the right
//! credentials (`email.smtp.user` / `password_file`) the reply goes out; with a wrong
//! password the relay's permanent refusal marks it failed at once and the agent hears
//! `email_failed` with the reason, nothing retried silently — and one that requires
//! STARTTLS, trusted by `email.smtp.ca`; a mailbox read over IMAPS (`tls = "tls"`,
//! trusted by the mailbox's `ca`).

use e2e::mail::{has_aiosmtpd, Dovecot, SmtpSink};
use e2e::{free_port, Credential, Switch, SwitchConfig};
use std::time::Duration;

/// `tls`: the relay's `tls` setting and the CA file to trust for it.
fn switch(
    dovecot: &Dovecot,
    smtp: u16,
    password_file: &std::path::Path,
    tls: Option<(&str, &std::path::Path)>,
) -> Switch {
    let imap = dovecot.addr.port();
    let pw = password_file.display();
    let tls = match tls {
        Some((mode, ca)) => format!("tls = \"{mode}\"\nca = \"{}\"", ca.display()),
        None => "tls = \"none\"".to_string(),
    };
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
{tls}
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
            e["thread"] == thread
                && ["email_sent", "email_failed", "email_retry"]
                    .contains(&e["type"].as_str().unwrap_or(""))
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
    let sink = SmtpSink::start_with_auth(port, "relay", "relay-pass", None);
    let dir = e2e::temp_dir("relay-secret");
    let secret = dir.join("smtp.pass");

    std::fs::write(&secret, "not-the-password\n").unwrap_or_else(|e| panic!("{e}"));
    let refused = switch(&dovecot, port, &secret, None);
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
    let ok = switch(&dovecot, port, &secret, None);
    let verdict = answer(&ok, &dovecot, "second");
    assert_eq!(verdict["type"], "email_sent", "{verdict}");
    let sent = sink.messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("On it."), "{}", sent[0]);
}

/// A relay that requires STARTTLS before AUTH, with a certificate the switch trusts by
/// `email.smtp.ca` (a CA made here with openssl): the reply goes out encrypted; with a CA
/// that does not vouch for the relay the handshake fails and nothing is sent.
#[test]
fn replies_go_out_over_starttls_to_a_relay_the_ca_vouches_for() {
    if !has_aiosmtpd() || !e2e::require("openssl") {
        return;
    }
    let Some(dovecot) = Dovecot::start(&[("support@example.com", "secret")]) else {
        return;
    };
    let dir = e2e::temp_dir("relay-tls");
    let (ca, cert, key) = e2e::mail::ca_and_leaf(&dir, "relay");
    let (other_ca, _, _) = e2e::mail::ca_and_leaf(&dir, "other");
    let port = free_port();
    let sink = SmtpSink::start_with_auth(port, "relay", "relay-pass", Some((&cert, &key)));
    let secret = dir.join("smtp.pass");
    std::fs::write(&secret, "relay-pass\n").unwrap_or_else(|e| panic!("{e}"));

    let trusting = switch(&dovecot, port, &secret, Some(("starttls", &ca)));
    let verdict = answer(&trusting, &dovecot, "secure");
    assert_eq!(verdict["type"], "email_sent", "{verdict}");
    assert_eq!(sink.messages().len(), 1);
    drop(trusting);

    let wary = switch(&dovecot, port, &secret, Some(("starttls", &other_ca)));
    let verdict = answer(&wary, &dovecot, "untrusted");
    assert!(
        verdict["type"] == "email_retry" || verdict["type"] == "email_failed",
        "{verdict}"
    );
    assert!(
        verdict["error"]
            .as_str()
            .is_some_and(|e| e.contains("certificate")),
        "{verdict}"
    );
    assert_eq!(
        sink.messages().len(),
        1,
        "nothing sent to an untrusted relay"
    );
}

/// A mailbox read over IMAPS, its certificate trusted by the mailbox's `ca`: a mail
/// delivered there reaches a Ready agent; with a CA that does not vouch for the server,
/// nothing is fetched.
#[test]
fn a_mailbox_is_read_over_imaps_from_a_server_the_ca_vouches_for() {
    if !has_aiosmtpd() || !e2e::require("openssl") {
        return;
    }
    let dir = e2e::temp_dir("imaps");
    let (ca, cert, key) = e2e::mail::ca_and_leaf(&dir, "imap");
    let (other_ca, _, _) = e2e::mail::ca_and_leaf(&dir, "other");
    let Some(dovecot) =
        Dovecot::start_with(&[("support@example.com", "secret")], Some((&cert, &key)))
    else {
        return;
    };
    let imaps = dovecot.tls_addr.map(|a| a.port()).unwrap_or_default();
    let start = |ca: &std::path::Path| {
        SwitchConfig::new()
            .extra(&format!(
                r#"
[[queues]]
dn = "8100"
name = "Support mail"
[[agents]]
id = "1001"
extension = "1001"
queues = ["8100"]
capacity = {{ voice = 1, email = 1 }}
[email]
[[email.mailboxes]]
name = "support"
host = "127.0.0.1"
port = {imaps}
tls = "tls"
ca = "{}"
user = "support@example.com"
password = "secret"
queue = "8100"
[email.smtp]
host = "127.0.0.1"
port = {}
tls = "none"
from = "support@example.com"
"#,
                ca.display(),
                free_port()
            ))
            .start()
    };
    // A CA that does not vouch for the server: the handshake fails, nothing is read.
    let wary = start(&other_ca);
    dovecot.deliver("From: Ada <ada@example.org>\nTo: support@example.com\nSubject: Secure\nMessage-ID: <s1@example.org>\n\nHello\n");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(dovecot.unseen(), 1, "fetched from an untrusted server");
    assert!(
        wary.log_tail().contains("mailbox connection failed"),
        "{}",
        wary.log_tail()
    );
    drop(wary);

    let trusting = start(&ca);
    let events = trusting.events("/api/events");
    trusting.post_json("/api/agents/1001/login", Some(r#"{"state":"ready"}"#));
    let offer = events.wait_for(Duration::from_secs(20), |e| {
        e["type"] == "email_offer" && e["subject"] == "Secure"
    });
    assert!(offer.is_some(), "no offer over IMAPS\n{}", dovecot.log());
    assert!(trusting.wait_until(Duration::from_secs(5), || dovecot.unseen() == 0));
}
