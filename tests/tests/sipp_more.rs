//! More SIPp against the real switch, beyond the basic calls of `sipp.rs`: the no-media
//! timer, forking to a static and a registered contact, early media,
//! late offer, RFC 4028 session timers, in-dialog INFO and a hold from the callee, and the
//! RFC 3261 rejections 483 and 420. Each test starts its own switch and SIPp peers on private
//! ports; scenarios live in `sipp-scenarios/`.
//!
//! Besides SIPp's verdict on each scenario, the tests read what the peers saw: the
//! scenarios' `<log>` lines (`-trace_logs`) and, where a body must arrive unchanged, the
//! messages themselves (`-trace_msg`).

#[path = "sipp_more/support.rs"]
mod support;

use e2e::{free_port, require, Sipp, SippProcess, Switch};
use std::net::UdpSocket;
use std::time::Duration;
use support::*;

#[test]
fn sipp_stamps_parse() {
    assert_eq!(stamp_ms(" 1970-01-02 00:00:01.5"), Some(86_401_500));
    assert_eq!(
        stamp_ms("2000-03-01 00:00:00.000000"),
        Some(951_868_800_000)
    );
    assert_eq!(
        stamp_ms("2026-12-31 23:59:59.999999").map(|t| t + 1),
        stamp_ms("2027-01-01 00:00:00.000000")
    );
    assert_eq!(stamp_ms("UDP message sent"), None);
}

/// An answered call without any RTP is ended by the switch after
/// `media.no_media_timeout_secs`: BYE to both sides, CDR cause no_media.
#[test]
fn no_media_timeout_ends_silent_call() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_config(uas_port)
        .media("no_media_timeout_secs", 2)
        .start();
    // Neither SIPp sends RTP; both pass only when they get a BYE.
    let callee = Sipp::scenario("uas_answer").port(uas_port).spawn();
    let r = Sipp::caller_to("uac_bye_wait", &switch)
        .timeout(Duration::from_secs(15))
        .run();
    r.assert_success(&switch);
    callee.wait().assert_success(&switch);
    // The BYE comes 2 s (plus at most one check interval, 0.5 s) after the call starts,
    // timed on the caller's own trace (not from the test's side, which would add SIPp's
    // start-up and exit): not before 2 s after its INVITE went out, and within 4 s of the
    // answer (0.5 s of interval, the rest for a loaded machine).
    let msgs = trace(&r);
    let invite = traced(&msgs, true, "INVITE ", &r, &switch);
    let answer = traced(&msgs, false, "SIP/2.0 200", &r, &switch);
    let bye = traced(&msgs, false, "BYE ", &r, &switch);
    let since_invite = ms_between(invite, bye, &r, &switch);
    let since_answer = ms_between(answer, bye, &r, &switch);
    assert!(
        since_invite >= 2000 && since_answer < 4000,
        "the switch's BYE came {since_invite} ms after the INVITE, {since_answer} ms after the \
         answer; no_media_timeout_secs is 2\n{}",
        r.report()
    );

    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "no_media");
    switch.assert_field(&cdr, "hangup_side", "switch");
    switch.assert_field(&cdr, "status", 200);
    let talk = cdr["talk_secs"].as_f64().unwrap_or(-1.0);
    assert!((1.5..4.0).contains(&talk), "talk_secs: {cdr}");
    switch.assert_idle();
    let m = switch.metrics();
    assert_eq!(m["switch_calls_total"], 1.0);
    assert_eq!(m["switch_calls_answered_total"], 1.0);
    assert_eq!(m["switch_rtp_packets_relayed_total"], 0.0);
}

/// Switch, callee A (static contact of 2000: `uas_ring_answer`, answers after 1 s) and
/// callee B (registers as 2000 from a trusted address, no challenge, and handles the INVITE
/// that reaches it with the out-of-call scenario `b_ooc`, since it belongs to no call of its
/// main scenario). Returns once both contacts are bound.
fn forking_switch(b_ooc: &str) -> (Switch, SippProcess, SippProcess) {
    let a_port = free_port();
    let switch = trusting_config(a_port).start();
    let a = Sipp::scenario("uas_ring_answer")
        .port(a_port)
        .pause_ms(1000)
        .spawn();
    let b = Sipp::scenario("register_trusted")
        .remote(switch.sip_addr())
        .caller("2000")
        .service("2000")
        .pause_ms(3500)
        .arg("-oocsf")
        .arg(&e2e::scenario_path(b_ooc).display().to_string())
        .spawn();
    let b_port = b.port();
    let mut regs = Vec::new();
    switch.wait_for(
        "2000's static and registered contacts",
        Duration::from_secs(5),
        || {
            regs = switch.registrations();
            regs.len() == 2
        },
    );
    assert!(
        regs.iter()
            .any(|r| r["static_contact"] == true && r["source"] == format!("127.0.0.1:{a_port}")),
        "{regs:?}"
    );
    assert!(
        regs.iter()
            .any(|r| r["static_contact"] == false && r["source"] == format!("127.0.0.1:{b_port}")),
        "{regs:?}"
    );
    assert!(regs.iter().all(|r| r["user"] == "2000"), "{regs:?}");
    assert_eq!(switch.metric("switch_registrations"), 2.0);
    (switch, a, b)
}

/// After a forked call: one CDR for the call A answered, nothing live, B unregistered.
fn assert_forked_call_done(switch: &Switch) {
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_field(&cdr, "to_user", "2000");
    let ring = cdr["ring_secs"].as_f64().unwrap_or(0.0);
    assert!((0.9..3.0).contains(&ring), "ring_secs: {cdr}");
    switch.assert_idle();
    let m = switch.metrics();
    assert_eq!(m["switch_calls_total"], 1.0);
    assert_eq!(m["switch_calls_answered_total"], 1.0);
    // B unregistered; the static contact stays.
    assert_eq!(m["switch_registrations"], 1.0);
    let regs = switch.registrations();
    assert!(
        regs.len() == 1 && regs[0]["static_contact"] == true,
        "{regs:?}"
    );
}

/// User 2000 has a static contact (A: rings, answers after 1 s) and a registered one (B:
/// rings forever). The INVITE forks to both; A's 200 wins, B is CANCELled (200, 487, ACK).
#[test]
fn fork_to_static_and_registered_contact() {
    if !require("sipp") {
        return;
    }
    let (switch, a, b) = forking_switch("uas_ring_ooc");
    Sipp::caller_to("uac_basic", &switch)
        .pause_ms(300)
        .run()
        .assert_success(&switch);
    let a = a.wait();
    a.assert_success(&switch);
    a.assert_logged("answered", &switch);
    let b = b.wait();
    b.assert_success(&switch);
    for line in [
        "invite received",
        "cancel received",
        "487 acked",
        "unregistered",
    ] {
        b.assert_logged(line, &switch);
    }
    // B's INVITE went out with A's, not after A answered: it was CANCELled, not BYEd.
    let b_msgs = trace(&b);
    assert!(
        !b_msgs.iter().any(|m| m.start_line().starts_with("BYE ")),
        "B got a BYE:\n{}",
        b.report()
    );
    assert_forked_call_done(&switch);
}

/// As above, but B's 200 crosses the switch's CANCEL: the switch ACKs that 2xx and BYEs
/// it (RFC 3261 §13.2.2.4), and the caller stays with A.
#[test]
fn fork_late_2xx_from_cancelled_contact_gets_ack_and_bye() {
    if !require("sipp") {
        return;
    }
    let (switch, a, b) = forking_switch("uas_answer_cancelled_ooc");
    let r = Sipp::caller_to("uac_basic", &switch).pause_ms(1000).run();
    r.assert_success(&switch);
    // The caller saw one 200 and no request from the switch.
    let r_msgs = trace(&r);
    let oks = r_msgs
        .iter()
        .filter(|m| !m.sent && m.start_line().starts_with("SIP/2.0 200"))
        .filter(|m| m.header("CSeq").is_some_and(|c| c.ends_with("INVITE")))
        .count();
    assert_eq!(oks, 1, "INVITE 200s at the caller:\n{}", r.report());
    assert!(
        !r_msgs
            .iter()
            .any(|m| !m.sent && !m.start_line().starts_with("SIP/2.0")),
        "the caller got a request:\n{}",
        r.report()
    );
    let a = a.wait();
    a.assert_success(&switch);
    a.assert_logged("answered", &switch);
    let b = b.wait();
    b.assert_success(&switch);
    for line in [
        "invite received",
        "cancel received",
        "late 200 acked",
        "bye received",
        "unregistered",
    ] {
        b.assert_logged(line, &switch);
    }
    assert_forked_call_done(&switch);
}

/// A 183 with SDP reaches the caller with the SDP pointing at the switch (early media is
/// anchored too), in the same dialog (To tag) as the 200 that follows.
#[test]
fn early_media_183_is_anchored() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_config(uas_port).start();
    let callee = Sipp::scenario("uas_early_media")
        .port(uas_port)
        .pause_ms(500)
        .spawn();
    let r = Sipp::caller_to("uac_early_media", &switch)
        .pause_ms(200)
        .run();
    r.assert_success(&switch);
    let c = callee.wait();
    c.assert_success(&switch);

    let c_msgs = trace(&c);
    let callee_183 = traced(&c_msgs, true, "SIP/2.0 183", &c, &switch);
    let callee_port = callee_183.sdp_port().unwrap_or_default();
    let callee_tag = traced(&c_msgs, true, "SIP/2.0 200", &c, &switch)
        .header("To")
        .unwrap_or_default();

    let early = logged(&r, "183 ", &switch);
    let answer = logged(&r, "200 ", &switch);
    assert_eq!(early["c"], "127.0.0.1", "183 c= line: {early:?}");
    let early_port = port_field(&early, "m", &r);
    assert_switch_port(&switch, early_port, "the 183's m= line");
    assert_ne!(early_port, callee_port, "the 183 leaks the callee's port");
    assert_eq!(answer["c"], "127.0.0.1", "200 c= line: {answer:?}");
    assert_eq!(
        port_field(&answer, "m", &r),
        early_port,
        "the 200 moves the caller's media from the 183's port"
    );
    assert_eq!(
        early["totag"], answer["totag"],
        "183 and 200 carry different To tags"
    );
    assert!(
        !callee_tag.contains(&early["totag"]),
        "the caller sees the callee's To tag {}",
        early["totag"]
    );

    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_idle();
}

/// An INVITE without SDP: the callee's 200 carries the offer (rewritten for the caller), the
/// caller's ACK the answer (rewritten into the switch's ACK to the callee).
#[test]
fn late_offer_call() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_config(uas_port).start();
    let callee = Sipp::scenario("uas_late_offer").port(uas_port).spawn();
    let caller_run = Sipp::caller_to("uac_late_offer", &switch)
        .pause_ms(1000)
        .spawn();
    let call = answered_call(&switch);
    let legs = call["legs"].as_array().cloned().unwrap_or_default();
    let a_rtp = legs[0]["rtp_port"].as_u64().unwrap_or(0);
    let b_rtp = legs[1]["rtp_port"].as_u64().unwrap_or(0);
    let r = caller_run.wait();
    r.assert_success(&switch);
    let c = callee.wait();
    c.assert_success(&switch);

    let offer = logged(&r, "offer ", &switch);
    let answer = logged(&c, "answer ", &switch);
    assert_eq!(offer["c"], "127.0.0.1", "{offer:?}");
    assert_eq!(answer["c"], "127.0.0.1", "{answer:?}");
    let offer_port = port_field(&offer, "m", &r);
    let answer_port = port_field(&answer, "m", &c);
    assert_switch_port(&switch, offer_port, "the offer in the caller's 200");
    assert_switch_port(&switch, answer_port, "the answer in the callee's ACK");
    assert_eq!(u64::from(offer_port), a_rtp, "caller's port vs {call}");
    assert_eq!(u64::from(answer_port), b_rtp, "callee's port vs {call}");

    // Neither peer sees the other's own media port.
    let (r_msgs, c_msgs) = (trace(&r), trace(&c));
    let caller_ack_port = traced(&r_msgs, true, "ACK ", &r, &switch).sdp_port();
    let callee_offer_port = traced(&c_msgs, true, "SIP/2.0 200", &c, &switch).sdp_port();
    assert_ne!(Some(offer_port), callee_offer_port);
    assert_ne!(Some(answer_port), caller_ack_port);
    // The B leg's INVITE had no body at all.
    let b_invite = traced(&c_msgs, false, "INVITE ", &c, &switch);
    assert_eq!(b_invite.body(), "", "B-leg INVITE:\n{}", b_invite.text);

    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_idle();
}

/// Sends an INVITE (`{port}` replaced by the local port) from a fresh UDP socket, returns
/// the final response and ACKs it (RFC 3261 §17.1.1.3).
fn udp_invite(switch: &Switch, request: &str) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let port = sock.local_addr().expect("addr").port();
    let request = request.replace("{port}", &port.to_string());
    sock.send_to(request.as_bytes(), switch.sip_addr())
        .expect("send");
    let mut buf = [0u8; 65536];
    let answer = loop {
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if !text.starts_with("SIP/2.0 1") {
                    break text;
                }
            }
            Err(e) => switch.fail(&format!("no final answer to:\n{request}\n({e})")),
        }
    };
    let pick = |msg: &str, name: &str| {
        msg.split("\r\n")
            .find(|l| {
                l.split_once(':')
                    .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            })
            .unwrap_or_default()
            .to_string()
    };
    let cseq = pick(&request, "CSeq").replace("INVITE", "ACK");
    let ack = format!(
        "ACK {} SIP/2.0\r\n{}\r\nMax-Forwards: 70\r\n{}\r\n{}\r\n{}\r\n{cseq}\r\nContent-Length: 0\r\n\r\n",
        request.split(' ').nth(1).unwrap_or_default(),
        pick(&request, "Via"),
        pick(&request, "From"),
        pick(&answer, "To"),
        pick(&request, "Call-ID"),
    );
    sock.send_to(ack.as_bytes(), switch.sip_addr())
        .expect("send ACK");
    answer
}

fn raw_invite(call_id: &str, extra: &str) -> String {
    format!(
        "INVITE sip:2000@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:{{port}};branch=z9hG4bK-{call_id}\r\n\
         {extra}\
         From: <sip:1001@127.0.0.1>;tag=raw1\r\n\
         To: <sip:2000@127.0.0.1>\r\n\
         Call-ID: {call_id}@e2e\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:1001@127.0.0.1:{{port}}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// Max-Forwards: 0 gets 483 Too Many Hops; an unknown extension in Require gets 420 Bad
/// Extension naming it in Unsupported. Neither reaches the callee or makes a call.
#[test]
fn max_forwards_zero_gets_483_and_unknown_require_420() {
    // Raw sockets only: no SIPp needed. Trusted, so the INVITEs are not challenged; the
    // callee's contact is a socket that must stay silent.
    let callee = UdpSocket::bind("127.0.0.1:0").expect("bind");
    callee
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let callee_port = callee.local_addr().expect("addr").port();
    let switch = trusting_config(callee_port).start();

    let answer = udp_invite(&switch, &raw_invite("mf0", "Max-Forwards: 0\r\n"));
    assert!(
        answer.starts_with("SIP/2.0 483 "),
        "expected 483, got:\n{answer}"
    );
    assert!(answer.contains("mf0@e2e"), "Call-ID not echoed:\n{answer}");
    assert!(
        answer.contains("branch=z9hG4bK-mf0"),
        "Via not echoed:\n{answer}"
    );

    let answer = udp_invite(
        &switch,
        &raw_invite("req-foo", "Max-Forwards: 70\r\nRequire: foo\r\n"),
    );
    assert!(
        answer.starts_with("SIP/2.0 420 "),
        "expected 420, got:\n{answer}"
    );
    let unsupported: Vec<&str> = answer
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.trim().eq_ignore_ascii_case("Unsupported"))
        .map(|(_, v)| v.trim())
        .collect();
    assert_eq!(unsupported, ["foo"], "Unsupported headers in:\n{answer}");
    assert!(
        answer.contains("req-foo@e2e"),
        "Call-ID not echoed:\n{answer}"
    );

    let mut buf = [0u8; 4096];
    if let Ok((n, _)) = callee.recv_from(&mut buf) {
        switch.fail(&format!(
            "the callee got:\n{}",
            String::from_utf8_lossy(&buf[..n])
        ));
    }
    assert!(switch.cdrs().is_empty(), "CDRs: {:?}", switch.cdrs());
    let m = switch.metrics();
    assert_eq!(m["switch_calls_total"], 0.0);
    assert_eq!(m["switch_calls_active"], 0.0);
}

/// RFC 4028 on the caller's leg: a Session-Expires below Min-SE gets 422 with Min-SE: 90;
/// Session-Expires: 90 is accepted (200 with Session-Expires: 90;refresher=uac and
/// Require: timer), and a body-less UPDATE refresh is answered by the switch itself.
#[test]
fn session_timer_422_then_accepted_and_refreshed_by_update() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_config(uas_port).start();

    let r = Sipp::caller_to("uac_session_too_brief", &switch)
        .key("session_expires", "60")
        .run();
    r.assert_success(&switch);
    r.assert_logged("422 Min-SE: 90", &switch);
    assert!(
        switch.cdrs().is_empty(),
        "CDR for a 422: {:?}",
        switch.cdrs()
    );
    assert_eq!(switch.metric("switch_calls_total"), 0.0);

    // uas_answer fails on any request but BYE: the UPDATE must not reach the callee.
    let callee = Sipp::scenario("uas_answer").port(uas_port).spawn();
    let r = Sipp::caller_to("uac_session_timer", &switch)
        .key("session_expires", "90")
        .pause_ms(300)
        .run();
    r.assert_success(&switch);
    r.assert_logged("200 Session-Expires: 90;refresher=uac", &switch);
    r.assert_logged("200 Require: timer", &switch);
    r.assert_logged("UPDATE 200 Session-Expires: 90;refresher=uac", &switch);
    r.assert_logged("UPDATE 200 Require: timer", &switch);
    let c = callee.wait();
    c.assert_success(&switch);
    // The callee's leg knows nothing of the caller's timer.
    let c_msgs = trace(&c);
    let b_invite = traced(&c_msgs, false, "INVITE ", &c, &switch);
    assert_eq!(
        b_invite.header("Session-Expires"),
        None,
        "{}",
        b_invite.text
    );

    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_idle();
    assert_eq!(switch.metric("switch_calls_total"), 1.0);
}

/// In-dialog requests: the caller's INFO (application/dtmf-relay) reaches the callee with
/// the same body and the callee's 200 comes back; the callee's hold re-INVITE is answered
/// by the switch itself (the caller hears music-on-hold instead).
#[test]
fn info_from_caller_is_relayed_and_hold_from_callee_answered() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_config(uas_port).start();
    let callee = Sipp::scenario("uas_info_hold").port(uas_port).spawn();
    let r = Sipp::caller_to("uac_info_held", &switch)
        .pause_ms(300)
        .run();
    r.assert_success(&switch);
    r.assert_logged("INFO answered 200", &switch);
    let c = callee.wait();
    c.assert_success(&switch);
    c.assert_logged("INFO dtmf-relay Signal=5 Duration=160", &switch);

    // The INFO body arrives byte for byte, with its Content-Type.
    let (r_msgs, c_msgs) = (trace(&r), trace(&c));
    let sent = traced(&r_msgs, true, "INFO ", &r, &switch);
    let got = traced(&c_msgs, false, "INFO ", &c, &switch);
    assert_eq!(got.body(), sent.body(), "INFO body changed");
    assert_eq!(sent.body(), "Signal=5\r\nDuration=160\r\n");
    assert_eq!(
        got.header("Content-Type").as_deref(),
        Some("application/dtmf-relay")
    );

    // The callee's hold is answered by the switch (the caller hears music and gets no
    // re-INVITE: its scenario fails on one): the switch's address, the port the callee
    // already sends to (the one in the INVITE it got), a=recvonly.
    let answered = logged(&c, "hold answered ", &switch);
    assert_eq!(answered["c"], "127.0.0.1", "{answered:?}");
    assert_eq!(answered["a"], "recvonly", "{answered:?}");
    let answered_port = port_field(&answered, "m", &c);
    assert_switch_port(
        &switch,
        answered_port,
        "the switch's answer to the callee's hold",
    );
    let invite = traced(&c_msgs, false, "INVITE ", &c, &switch);
    assert_eq!(Some(answered_port), invite.sdp_port(), "{answered:?}");

    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_idle();
}
