//! The e-mail channel against real mail servers: Dovecot as the contact centre's mailboxes
//! (support@ feeding queue 8100, billing@ feeding 8101) and aiosmtpd as the SMTP relay.
//! A mail dropped into the mailbox becomes an offer to a Ready agent (and is `\Seen` once
//! stored); the agent accepts, sees the card number masked, sends a quick reply, which
//! waits in the outbox while the relay is down and goes out once it is up, threaded
//! (In-Reply-To, References); the customer's answer joins the same thread; a reply to all
//! with Cc and an attachment; RONA on an unaccepted offer; transfer to another e-mail
//! queue (and not to a voice queue); after a restart an open thread is routed again and a
//! mail seen unseen again is not stored twice.

use e2e::mail::{has_aiosmtpd, Dovecot, SmtpSink};
use e2e::{free_port, Credential, Switch, SwitchConfig};
use serde_json::Value;
use std::time::Duration;

fn config(imap: u16, smtp: u16) -> String {
    format!(
        r#"
[[queues]]
dn = "8100"
name = "Support mail"
offer_timeout_secs = 4
wrap_up = {{ mode = "manual" }}
[[queues]]
dn = "8101"
name = "Billing mail"
wrap_up = {{ mode = "manual" }}
[[queues]]
dn = "8000"
name = "Voice"
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
capacity = {{ voice = 1, email = 1 }}
[[accounts]]
id = "1001"
roles = ["agent"]
agent = "1001"
extension = "1001"
[[accounts]]
id = "1002"
roles = ["agent"]
agent = "1002"
extension = "1002"
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

fn servers() -> Option<(Dovecot, u16)> {
    if !has_aiosmtpd() {
        return None;
    }
    let dovecot = Dovecot::start(&[
        ("support@example.com", "secret"),
        ("billing@example.com", "secret2"),
    ])?;
    Some((dovecot, free_port()))
}

fn start(dovecot: &Dovecot, smtp: u16) -> Switch {
    SwitchConfig::new()
        .user("1001", "pass1001")
        .user("1002", "pass1002")
        .extra(&config(dovecot.addr.port(), smtp))
        .start()
}

/// Log `agent` in Ready (reserved at once when a thread is waiting for them).
fn ready(switch: &Switch, agent: &str) {
    let v = switch.post_json(
        &format!("/api/agents/{agent}/login"),
        Some(r#"{"state":"ready"}"#),
    );
    let state = &v["agent"]["state"]["state"];
    assert!(state == "ready" || state == "reserved", "{v}");
}

fn agent_state(switch: &Switch, agent: &str) -> String {
    switch.http(&format!("/api/agents/{agent}"))["agent"]["state"]["state"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

fn offer(events: &e2e::ws::EventStream, switch: &Switch, agent: &str, subject: &str) -> Value {
    events
        .wait_for(Duration::from_secs(20), |e| {
            e["type"] == "email_offer" && e["agent"] == agent && e["subject"] == subject
        })
        .unwrap_or_else(|| switch.fail(&format!("no email_offer of {subject:?} to {agent}")))
}

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    let head = mail
        .split("\r\n\r\n")
        .next()
        .or(mail.split("\n\n").next())?;
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

const FIRST: &str = "From: Ada Lovelace <ada@example.org>\n\
    To: support@example.com\n\
    Cc: bob@example.org\n\
    Subject: My bill\n\
    Message-ID: <m1@example.org>\n\
    Date: Mon, 7 Dec 2026 10:00:00 +0000\n\
    \n\
    I was charged twice on card 4111 1111 1111 1111.\n";

#[test]
fn mails_are_routed_answered_threaded_and_transferred() {
    let Some((dovecot, smtp_port)) = servers() else {
        return;
    };
    let switch = start(&dovecot, smtp_port);
    let events = switch.events("/api/events");
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let eli = Credential::Session(switch.login("1002", "pass1002"));
    ready(&switch, "1001");

    // A mail becomes an offer; it is \Seen once stored.
    dovecot.deliver(FIRST);
    let o = offer(&events, &switch, "1001", "My bill");
    assert_eq!(o["customer"], "Ada Lovelace", "{o}");
    assert_eq!(o["address"], "ada@example.org", "{o}");
    assert_eq!(o["queue_name"], "Support mail", "{o}");
    let thread = o["thread"].as_u64().unwrap_or_default();
    assert!(
        switch.wait_until(Duration::from_secs(5), || dovecot.unseen() == 0),
        "not \\Seen\n{}",
        dovecot.log()
    );
    let path = |tail: &str| format!("/api/emails/{thread}{tail}");
    // Not Eli's.
    let r = switch.request_as(&eli, "GET", &path(""), None);
    assert_eq!(r.status, 403, "{}", r.body);
    let v = switch.request_as(&dana, "POST", &path("/accept"), None);
    assert_eq!(v.status, 200, "{}", v.body);
    let v = v.json();
    assert_eq!(v["state"], "working");
    let text = v["messages"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("**** **** **** 1111") && !text.contains("4111 1111"),
        "{text}"
    );
    assert_eq!(agent_state(&switch, "1001"), "busy");
    // The mail held a card number: its original is not kept (it would undo the masking).
    let first = v["messages"][0]["id"].as_u64().unwrap_or_default();
    assert_eq!(v["messages"][0]["has_original"], false, "{v:#}");
    let r = switch.request_as(
        &dana,
        "GET",
        &path(&format!("/messages/{first}/original")),
        None,
    );
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "no_original", "{}", r.body);
    assert_eq!(
        v["transfer_queues"],
        serde_json::json!([{"dn": "8101", "name": "Billing mail"}])
    );
    assert_eq!(v["reply_all_cc"], serde_json::json!(["bob@example.org"]));
    // A draft: the working agent's only, sanitised, given back with the thread.
    let draft = r#"{"kind":"standard","html":"<p onclick=\"x()\">Hi <b>Ada</b></p>","cc":["boss@example.org"]}"#;
    let r = switch.request_as(&eli, "PUT", &path("/draft"), Some(draft));
    assert_eq!(r.status, 409, "{}", r.body);
    let r = switch.request_as(&dana, "PUT", &path("/draft"), Some(draft));
    assert_eq!(r.status, 200, "{}", r.body);
    let r = switch.request_as(&dana, "PUT", &path("/draft"), Some(r#"{"kind":"odd"}"#));
    assert_eq!(r.status, 422, "{}", r.body);
    let v = switch.request_as(&dana, "GET", &path(""), None).json();
    assert_eq!(v["draft"]["html"], "<p>Hi <b>Ada</b></p>", "{v:#}");
    assert_eq!(v["draft"]["cc"], serde_json::json!(["boss@example.org"]));

    // A quick reply while the relay is down: retried, then sent once it is up.
    let r = switch.request_as(
        &dana,
        "POST",
        &path("/reply"),
        Some(r#"{"kind":"quick","text":"We refund the second charge today."}"#),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(r.json()["state"], "wrap_up");
    assert_eq!(r.json()["draft"], Value::Null, "sent: the draft is gone");
    assert!(
        events
            .wait_for(Duration::from_secs(5), |e| e["type"] == "email_retry"
                && e["thread"] == thread)
            .is_some(),
        "no email_retry while the relay is down"
    );
    assert_eq!(agent_state(&switch, "1001"), "after_call_work");
    let r = switch.request_as(
        &dana,
        "POST",
        &path("/wrap-up"),
        Some(r#"{"codes":["Nope"]}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    let r = switch.request_as(
        &dana,
        "POST",
        &path("/wrap-up"),
        Some(r#"{"codes":["Refund"]}"#),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(agent_state(&switch, "1001"), "ready");
    let sink = SmtpSink::start(smtp_port);
    assert!(
        events
            .wait_for(Duration::from_secs(15), |e| e["type"] == "email_sent"
                && e["thread"] == thread)
            .is_some(),
        "the reply was not sent once the relay was up"
    );
    let sent = sink.messages();
    assert_eq!(sent.len(), 1);
    let reply = &sent[0];
    assert_eq!(header(reply, "To"), Some("ada@example.org"), "{reply}");
    assert_eq!(header(reply, "Subject"), Some("Re: My bill"), "{reply}");
    assert_eq!(
        header(reply, "In-Reply-To"),
        Some("<m1@example.org>"),
        "{reply}"
    );
    assert_eq!(
        header(reply, "References"),
        Some("<m1@example.org>"),
        "{reply}"
    );
    assert!(
        header(reply, "From").is_some_and(|f| f.contains("support@example.com")),
        "{reply}"
    );
    assert!(
        reply.contains("We refund the second charge today."),
        "{reply}"
    );
    let reply_id = header(reply, "Message-ID").unwrap_or_default().to_string();
    assert!(
        reply_id.starts_with('<') && reply_id.ends_with("@example.com>"),
        "{reply}"
    );

    // The customer answers: the same thread, offered again.
    dovecot.deliver(&format!(
        "From: Ada Lovelace <ada@example.org>\nTo: support@example.com\nCc: bob@example.org\n\
         Subject: Re: My bill\nMessage-ID: <m2@example.org>\nIn-Reply-To: {reply_id}\n\
         References: <m1@example.org> {reply_id}\n\nThanks! Can I have a receipt?\n"
    ));
    let o = events.wait_for(Duration::from_secs(20), |e| {
        e["type"] == "email_offer"
            && e["thread"] == thread
            && e["agent"] == "1001"
            && e["subject"] == "My bill"
    });
    // (The first offer of this thread is in the stream too: wait for a second one.)
    let offers = events
        .events()
        .into_iter()
        .filter(|e| e["type"] == "email_offer" && e["thread"] == thread)
        .count();
    assert!(
        o.is_some()
            && switch.wait_until(Duration::from_secs(20), || {
                events
                    .events()
                    .iter()
                    .filter(|e| e["type"] == "email_offer" && e["thread"] == thread)
                    .count()
                    >= 2
            }),
        "the answer was not offered again ({offers} offers)"
    );
    let v = switch
        .request_as(&dana, "POST", &path("/accept"), None)
        .json();
    let dirs: Vec<&str> = v["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["direction"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(dirs, ["in", "out", "in"], "{v}");

    // A reply to all with Cc and an attachment: multipart, everyone but us copied.
    let r = switch.request_as(
        &dana,
        "POST",
        &path("/reply"),
        Some(
            r#"{"kind":"all","html":"<p>Here is your <b>receipt</b>.</p>","cc":["boss@example.org"],
            "attachments":[{"name":"receipt.txt","data":"UmVjZWlwdCA0Mg=="}]}"#,
        ),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    assert!(
        switch.wait_until(Duration::from_secs(15), || sink.messages().len() == 2),
        "no second mail"
    );
    let all = &sink.messages()[1];
    let cc = header(all, "Cc").unwrap_or_default();
    assert!(
        cc.contains("boss@example.org")
            && cc.contains("bob@example.org")
            && !cc.contains("support@"),
        "{all}"
    );
    assert!(
        all.contains("multipart/mixed") && all.contains("multipart/alternative"),
        "{all}"
    );
    assert!(
        all.contains("text/html") && all.contains("<b>receipt</b>"),
        "{all}"
    );
    assert!(
        // Files go base64 ("Receipt 42").
        all.contains("filename=\"receipt.txt\"") && all.contains("UmVjZWlwdCA0Mg=="),
        "{all}"
    );
    assert_eq!(
        header(all, "In-Reply-To"),
        Some("<m2@example.org>"),
        "{all}"
    );
    switch.request_as(
        &dana,
        "POST",
        &path("/wrap-up"),
        Some(r#"{"codes":["Resolved"]}"#),
    );

    // A new thread left unaccepted: RONA; taken again, transferred to billing.
    dovecot.deliver("From: Carl <carl@example.org>\nTo: support@example.com\nSubject: Invoice\nMessage-ID: <c1@example.org>\n\nWhere is my invoice?\n");
    let o = offer(&events, &switch, "1001", "Invoice");
    let second = o["thread"].as_u64().unwrap_or_default();
    assert!(
        switch.wait_until(Duration::from_secs(10), || agent_state(&switch, "1001")
            == "rona"),
        "no RONA"
    );
    switch.post_json("/api/agents/1001/state", Some(r#"{"state":"ready"}"#));
    assert!(
        switch.wait_until(Duration::from_secs(10), || {
            events
                .events()
                .iter()
                .filter(|e| e["type"] == "email_offer" && e["thread"] == second)
                .count()
                >= 2
        }),
        "not offered again after RONA"
    );
    let tpath = |tail: &str| format!("/api/emails/{second}{tail}");
    assert_eq!(
        switch
            .request_as(&dana, "POST", &tpath("/accept"), None)
            .status,
        200
    );
    let r = switch.request_as(
        &dana,
        "POST",
        &tpath("/transfer"),
        Some(r#"{"queue":"8000"}"#),
    );
    assert_eq!(r.status, 422, "not to a voice queue: {}", r.body);
    assert_eq!(r.json()["error"]["code"], "not_email_queue");
    ready(&switch, "1002");
    let r = switch.request_as(
        &dana,
        "POST",
        &tpath("/transfer"),
        Some(r#"{"queue":"8101"}"#),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let o = offer(&events, &switch, "1002", "Invoice");
    assert_eq!(o["queue_name"], "Billing mail", "{o}");
    assert_eq!(
        switch
            .request_as(&eli, "POST", &tpath("/accept"), None)
            .status,
        200
    );
    assert_eq!(
        switch.request_as(&eli, "POST", &tpath("/end"), None).status,
        204
    );
    assert_eq!(
        switch
            .request_as(
                &eli,
                "POST",
                &tpath("/wrap-up"),
                Some(r#"{"codes":["Billed"]}"#)
            )
            .status,
        204
    );
    assert_eq!(
        switch
            .request_as(&dana, "POST", &tpath("/wrap-up"), Some(r#"{"codes":[]}"#))
            .status,
        204
    );
}

#[test]
fn a_restart_routes_open_threads_again_and_stores_nothing_twice() {
    let Some((dovecot, smtp_port)) = servers() else {
        return;
    };
    let _sink = SmtpSink::start(smtp_port);
    let mut switch = start(&dovecot, smtp_port);
    // Nobody Ready: the thread waits in its queue.
    dovecot.deliver(FIRST);
    assert!(
        switch.wait_until(Duration::from_secs(15), || dovecot.unseen() == 0),
        "not fetched\n{}",
        dovecot.log()
    );
    // The mailbox shows it unseen again (another client, or a crash before \Seen).
    dovecot.mark_unseen();
    assert_eq!(dovecot.unseen(), 1);
    switch.restart();
    let events = switch.events("/api/events");
    ready(&switch, "1001");
    let o = offer(&events, &switch, "1001", "My bill");
    let thread = o["thread"].as_u64().unwrap_or_default();
    assert!(
        switch.wait_until(Duration::from_secs(15), || dovecot.unseen() == 0),
        "not seen again"
    );
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let v = switch.request_as(&dana, "POST", &format!("/api/emails/{thread}/accept"), None);
    assert_eq!(v.status, 200, "{}", v.body);
    let messages = v.json()["messages"].as_array().map_or(0, Vec::len);
    assert_eq!(messages, 1, "stored once");
}
