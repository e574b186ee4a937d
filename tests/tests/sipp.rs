//! SIPp against the real switch: each test starts its own switch and SIPp peers on private
//! ports and checks what a user would see (SIPp's verdict on the scenario, CDRs, metrics,
//! registrations, live calls). Scenarios live in `sipp-scenarios/`.

use e2e::rtp::TonePeer;
use e2e::{free_port, require, Sipp, SippProcess, Switch, SwitchConfig};
use serde_json::Value;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const CDR_WAIT: Duration = Duration::from_secs(5);

/// A switch trusting loopback, with callee 2000 at a static contact on `uas_port`.
fn trusting_switch(uas_port: u16) -> Switch {
    SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{uas_port}"))
        .start()
}

/// The first live call once answered with both relay ports known: its id, and the relay
/// addresses facing the caller (leg 0) and the callee (leg 1), where each party's media goes.
fn answered_media(switch: &Switch) -> (String, SocketAddr, SocketAddr) {
    let mut call = Value::Null;
    switch.wait_for("the answered call", Duration::from_secs(5), || {
        call = switch.calls().first().cloned().unwrap_or_default();
        call["state"] == "answered"
            && call["legs"][0]["rtp_port"].as_u64().is_some()
            && call["legs"][1]["rtp_port"].as_u64().is_some()
    });
    let relay = |i: usize| {
        let port = call["legs"][i]["rtp_port"].as_u64().unwrap_or(0) as u16;
        SocketAddr::from(([127, 0, 0, 1], port))
    };
    let id = call["id"].as_str().unwrap_or_default().to_string();
    (id, relay(0), relay(1))
}

#[test]
fn basic_call_udp() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_switch(uas_port);
    let callee = Sipp::scenario("uas_answer")
        .port(uas_port)
        .calls(10)
        .spawn();
    let result = Sipp::caller_to("uac_basic", &switch)
        .calls(10)
        .rate(20.0)
        .limit(10)
        .pause_ms(300)
        .run();
    result.assert_success(&switch);
    callee.wait().assert_success(&switch);

    let cdrs = switch.wait_cdrs(10, CDR_WAIT);
    for cdr in &cdrs {
        switch.assert_field(cdr, "cause", "normal");
        switch.assert_field(cdr, "status", 200);
        switch.assert_field(cdr, "hangup_side", "caller");
        switch.assert_field(cdr, "from_user", "1001");
        switch.assert_field(cdr, "to_user", "2000");
        assert!(cdr["answer_ms"].is_i64(), "answer_ms not set: {cdr}");
        assert!(cdr["talk_secs"].as_f64() > Some(0.2), "talk_secs: {cdr}");
    }
    let mut call_ids: Vec<&str> = cdrs.iter().filter_map(|c| c["call_id"].as_str()).collect();
    call_ids.sort_unstable();
    call_ids.dedup();
    assert_eq!(call_ids.len(), 10, "CDR call_ids not distinct: {cdrs:?}");

    switch.assert_idle();
    let m = switch.metrics();
    assert_eq!(m["switch_calls_total"], 10.0);
    assert_eq!(m["switch_calls_answered_total"], 10.0);
    assert_eq!(m["switch_calls_active"], 0.0);
    assert_eq!(m["switch_media_sessions_total"], 10.0);
    assert_eq!(m["switch_media_sessions_active"], 0.0);
}

#[test]
fn register_with_digest_then_unregister() {
    if !require("sipp") {
        return;
    }
    // Nobody is trusted: the REGISTER must authenticate.
    let switch = SwitchConfig::new().user("1001", "pass1001").start();
    let sipp = Sipp::scenario("register_digest")
        .remote(switch.sip_addr())
        .caller("1001")
        .auth("1001", "pass1001")
        .pause_ms(3000)
        .spawn();
    let port = sipp.port();
    let contact = format!("sip:1001@127.0.0.1:{port};transport=UDP");
    let mut regs = Vec::new();
    switch.wait_for(
        "the registration to show in /api/registrations",
        Duration::from_secs(3),
        || {
            regs = switch.registrations();
            !regs.is_empty()
        },
    );
    assert_eq!(regs.len(), 1, "{regs:?}");
    let reg = &regs[0];
    assert_eq!(reg["user"], "1001", "{reg}");
    assert!(
        reg["contact"]
            .as_str()
            .is_some_and(|c| c.eq_ignore_ascii_case(&contact)),
        "contact {} is not {contact}",
        reg["contact"]
    );
    assert_eq!(reg["transport"], "UDP", "{reg}");
    assert_eq!(reg["source"], format!("127.0.0.1:{port}"), "{reg}");
    assert_eq!(reg["static_contact"], false, "{reg}");
    let expires_in = reg["expires_in"].as_u64().unwrap_or(0);
    assert!((100..=120).contains(&expires_in), "expires_in: {reg}");
    assert_eq!(switch.metric("switch_registrations"), 1.0);

    let result = sipp.wait();
    result.assert_success(&switch);
    result.assert_logged("unregistered", &switch);
    let regs = switch.registrations();
    assert!(
        regs.is_empty(),
        "still registered after Expires 0: {regs:?}"
    );
    assert_eq!(switch.metric("switch_registrations"), 0.0);
}

#[test]
fn register_with_wrong_password_is_refused() {
    if !require("sipp") {
        return;
    }
    let switch = SwitchConfig::new().user("1001", "pass1001").start();
    Sipp::scenario("register_wrong_password")
        .remote(switch.sip_addr())
        .caller("1001")
        .auth("1001", "wrong")
        .run()
        .assert_success(&switch);
    let regs = switch.registrations();
    assert!(
        regs.is_empty(),
        "registered with a wrong password: {regs:?}"
    );
    assert_eq!(switch.metric("switch_sip_auth_failures_total"), 1.0);
}

#[test]
fn invite_with_digest() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    // Not trusted: the caller must answer the 407 challenge.
    let switch = SwitchConfig::new()
        .user("1001", "pass1001")
        .static_user("2000", &format!("sip:2000@127.0.0.1:{uas_port}"))
        .start();
    let callee = Sipp::scenario("uas_answer").port(uas_port).spawn();
    // SIPp signs `sip:REMOTE_IP:PORT` unless told the URI; the switch binds credentials to
    // the Request-URI (RFC 3261 §22.4), as phones sign it.
    let ruri = format!("2000@{}", switch.sip_addr()); // SIPp adds the "sip:"
    Sipp::caller_to("uac_digest", &switch)
        .auth("1001", "pass1001")
        .arg("-auth_uri")
        .arg(&ruri)
        .pause_ms(200)
        .run()
        .assert_success(&switch);
    callee.wait().assert_success(&switch);
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "from_user", "1001");
    switch.assert_field(&cdr, "to_user", "2000");
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_idle();
}

#[test]
fn cancel_while_ringing() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_switch(uas_port);
    // The callee's scenario only passes when it gets the CANCEL.
    let callee = Sipp::scenario("uas_ring").port(uas_port).spawn();
    Sipp::caller_to("uac_cancel", &switch)
        .pause_ms(300)
        .run()
        .assert_success(&switch);
    callee.wait().assert_success(&switch);
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "cancelled");
    switch.assert_field(&cdr, "status", 487);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_field(&cdr, "answer_ms", Value::Null);
    switch.assert_idle();
}

#[test]
fn busy_callee() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_switch(uas_port);
    let callee = Sipp::scenario("uas_busy").port(uas_port).spawn();
    Sipp::caller_to("uac_busy", &switch)
        .run()
        .assert_success(&switch);
    callee.wait().assert_success(&switch);
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "busy");
    switch.assert_field(&cdr, "status", 486);
    switch.assert_field(&cdr, "answer_ms", Value::Null);
    switch.assert_idle();
}

#[test]
fn unknown_user_gets_404_and_unreachable_user_480() {
    if !require("sipp") {
        return;
    }
    // 2001 exists but has neither a static contact nor a registration.
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("2001", "pass2001")
        .start();
    let r = Sipp::caller_to("uac_reject", &switch).service("9999").run();
    r.assert_success(&switch);
    r.assert_logged("final=404", &switch);
    let r = Sipp::caller_to("uac_reject", &switch).service("2001").run();
    r.assert_success(&switch);
    r.assert_logged("final=480", &switch);
    switch.assert_idle();
}

/// The caller holds (re-INVITE a=sendonly) and retrieves: the switch answers both itself,
/// the callee's phone gets no re-INVITE, and what each party hears is measured on the RTP
/// it receives: before the hold each hears the other's tone; while held the callee hears
/// music (sound, and not the caller's tone); after the retrieve the tones again.
#[test]
fn hold_and_retrieve_with_music_on_hold() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_switch(uas_port);
    let (caller_tone, callee_tone) = (700.0, 1900.0);
    let caller = TonePeer::new(caller_tone);
    let callee = TonePeer::new(callee_tone);
    let callee_sipp = Sipp::scenario("uas_hold")
        .port(uas_port)
        .key("rtp_port", &callee.port().to_string())
        .spawn();
    let step = Duration::from_millis(1500);
    let caller_sipp = Sipp::caller_to("uac_hold", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(step.as_millis() as u64)
        .spawn();
    // The relay's ports, from the live call: each peer sends its tone there.
    let (_, relay_a, relay_b) = answered_media(&switch);
    let t0 = Instant::now();
    caller.send_to(relay_a);
    callee.send_to(relay_b);
    // Talk, hold and retrieved each last `step`; measure in the middle of each.
    let window = |i: u32| {
        let from = t0 + step * i + Duration::from_millis(400);
        (from, from + Duration::from_millis(700))
    };
    std::thread::sleep(step * 3 + Duration::from_millis(200));
    let (talk, held, back) = (window(0), window(1), window(2));
    let callee_heard = |w: (Instant, Instant)| callee.heard(w.0, w.1, caller_tone);
    let caller_heard = |w: (Instant, Instant)| caller.heard(w.0, w.1, callee_tone);
    let talking = callee_heard(talk);
    assert!(
        talking.share > 0.5,
        "before the hold the callee hears the caller: {talking:?}"
    );
    assert!(
        caller_heard(talk).share > 0.5,
        "and the caller the callee: {:?}",
        caller_heard(talk)
    );
    let holding = callee_heard(held);
    assert!(
        holding.frames >= 25 && holding.rms > 200.0,
        "the held callee hears sound (music), not silence: {holding:?}"
    );
    assert!(
        holding.share < 0.05,
        "the held callee does not hear the caller: {holding:?}"
    );
    let resumed = callee_heard(back);
    assert!(
        resumed.share > 0.5,
        "after the retrieve the caller again: {resumed:?}"
    );
    let r = caller_sipp.wait();
    r.assert_success(&switch);
    r.assert_logged("re-INVITE 2 answered a=recvonly", &switch);
    r.assert_logged("re-INVITE 3 answered a=sendrecv", &switch);
    // The callee's scenario fails on any re-INVITE.
    callee_sipp.wait().assert_success(&switch);
    eprintln!("callee heard: talking {talking:?}, held {holding:?}, retrieved {resumed:?}");
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_idle();
}

/// The switch holds the callee over REST (`POST /api/calls/{id}/legs/1/hold`): the callee
/// hears music, the caller silence (never the callee), no re-INVITE reaches either phone;
/// `/retrieve` brings the tones back.
#[test]
fn rest_hold_and_retrieve_of_a_leg() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_switch(uas_port);
    let (caller_tone, callee_tone) = (700.0, 1900.0);
    let caller = TonePeer::new(caller_tone);
    let callee = TonePeer::new(callee_tone);
    let callee_sipp = Sipp::scenario("uas_hold")
        .port(uas_port)
        .key("rtp_port", &callee.port().to_string())
        .spawn();
    let step = Duration::from_millis(1500);
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms((step * 3).as_millis() as u64)
        .spawn();
    let (id, relay_a, relay_b) = answered_media(&switch);
    let t0 = Instant::now();
    caller.send_to(relay_a);
    callee.send_to(relay_b);
    std::thread::sleep(step);
    let holding_from = Instant::now();
    let held = switch.post_json(&format!("/api/calls/{id}/legs/1/hold"), None);
    let held_at = Instant::now();
    assert_eq!(held["legs"][1]["hold"], "held", "{held}");
    let again = switch.request("POST", &format!("/api/calls/{id}/legs/1/hold"), None);
    assert_eq!(again.status, 409, "{}", again.body);
    std::thread::sleep(step);
    let back_from = Instant::now();
    let back = switch.post_json(&format!("/api/calls/{id}/legs/1/retrieve"), None);
    let back_at = Instant::now();
    assert_eq!(back["legs"][1]["hold"], "off", "{back}");
    std::thread::sleep(step);
    // Each stretch from a moment after its change to a moment before the next.
    let settle = Duration::from_millis(300);
    let windows = [
        (t0 + settle, holding_from),
        (held_at + settle, back_from),
        (back_at + settle, Instant::now()),
    ];
    let window = |i: usize| windows[i];
    let callee_hears = |w: (Instant, Instant)| callee.heard(w.0, w.1, caller_tone);
    let caller_hears = |w: (Instant, Instant)| caller.heard(w.0, w.1, callee_tone);
    assert!(
        callee_hears(window(0)).share > 0.5,
        "{:?}",
        callee_hears(window(0))
    );
    let music = callee_hears(window(1));
    assert!(
        music.rms > 200.0 && music.share < 0.05,
        "the held callee hears music, not the caller: {music:?}"
    );
    let silence = caller_hears(window(1));
    assert!(
        silence.rms < 50.0,
        "the caller hears nothing of the held callee: {silence:?}"
    );
    assert!(
        caller_hears(window(2)).share > 0.5,
        "{:?}",
        caller_hears(window(2))
    );
    assert!(
        callee_hears(window(2)).share > 0.5,
        "{:?}",
        callee_hears(window(2))
    );
    caller_sipp.wait().assert_success(&switch);
    callee_sipp.wait().assert_success(&switch);
    eprintln!("held callee heard {music:?}; the caller meanwhile {silence:?}");
    // Another caller's leg and nonsense are refused.
    let r = switch.request("POST", "/api/calls/nope/legs/0/hold", None);
    assert_eq!(r.status, 404, "{}", r.body);
    switch.assert_idle();
}

/// Blind transfer from the agent's phone (REFER to user 3000): the caller hears music
/// while the target rings, then talks to the target (its tone, measured), the agent's
/// phone gets NOTIFY 100 then 200 and our BYE.
#[test]
fn blind_transfer_by_refer() {
    if !require("sipp") {
        return;
    }
    let (agent_port, target_port) = (free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{agent_port}"))
        .static_user("3000", &format!("sip:3000@127.0.0.1:{target_port}"))
        .start();
    let (caller_tone, agent_tone, target_tone) = (700.0, 1900.0, 1300.0);
    let caller = TonePeer::new(caller_tone);
    let agent = TonePeer::new(agent_tone);
    let target = TonePeer::new(target_tone);
    let agent_sipp = Sipp::scenario("uas_refer")
        .port(agent_port)
        .key("rtp_port", &agent.port().to_string())
        .key("refer_to", "3000@127.0.0.1")
        .pause_ms(1500)
        .spawn();
    let target_sipp = Sipp::scenario("uas_hold")
        .port(target_port)
        .key("rtp_port", &target.port().to_string())
        .spawn();
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(6000)
        .spawn();
    let (_, relay_a, relay_b) = answered_media(&switch);
    let t0 = Instant::now();
    caller.send_to(relay_a);
    agent.send_to(relay_b);
    let r = agent_sipp.wait();
    r.assert_success(&switch);
    r.assert_logged("transfer final=SIP/2.0 200 OK", &switch);
    // The target, answered, sends to the relay endpoint the agent's phone did. The agent's
    // stream goes on (a phone slow to stop after our BYE): the relay takes the target, the
    // address its SDP gave, at once all the same.
    target.send_to(relay_b);
    std::thread::sleep(Duration::from_millis(300));
    let transferred = Instant::now();
    std::thread::sleep(Duration::from_millis(800));
    let before = caller.heard(
        t0 + Duration::from_millis(300),
        t0 + Duration::from_millis(1200),
        agent_tone,
    );
    let after = caller.heard(transferred, Instant::now(), target_tone);
    let target_heard = target.heard(transferred, Instant::now(), caller_tone);
    assert!(
        before.share > 0.5,
        "the caller first hears the agent: {before:?}"
    );
    assert!(after.share > 0.5, "then the target: {after:?}");
    assert!(
        target_heard.share > 0.5,
        "and the target hears the caller: {target_heard:?}"
    );
    caller_sipp.wait().assert_success(&switch);
    target_sipp.wait().assert_success(&switch);
    eprintln!("caller heard the agent {before:?}, then the target {after:?}");
    switch.assert_idle();
}

/// Blind transfer over REST (`POST /api/calls/{id}/transfer`): a busy target gives the
/// call back to the agent (the event says why), then a target that answers takes the
/// caller and the agent's phone gets our BYE.
#[test]
fn rest_blind_transfer() {
    if !require("sipp") {
        return;
    }
    let (agent_port, busy_port, target_port) = (free_port(), free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{agent_port}"))
        .static_user("2900", &format!("sip:2900@127.0.0.1:{busy_port}"))
        .static_user("3000", &format!("sip:3000@127.0.0.1:{target_port}"))
        .start();
    let events = switch.events("/api/events");
    let (caller, agent, target) = (
        TonePeer::new(700.0),
        TonePeer::new(1900.0),
        TonePeer::new(1300.0),
    );
    let agent_sipp = Sipp::scenario("uas_hold")
        .port(agent_port)
        .key("rtp_port", &agent.port().to_string())
        .spawn();
    let busy_sipp = Sipp::scenario("uas_busy").port(busy_port).spawn();
    let target_sipp = Sipp::scenario("uas_hold")
        .port(target_port)
        .key("rtp_port", &target.port().to_string())
        .spawn();
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(5000)
        .spawn();
    let (id, relay_a, relay_b) = answered_media(&switch);
    caller.send_to(relay_a);
    agent.send_to(relay_b);
    let path = format!("/api/calls/{id}/transfer");
    // A busy target: the call comes back to the agent, and the event says why.
    let r = switch.request_json("POST", &path, Some(r#"{"target":"2900"}"#), 202);
    assert_eq!(r["id"], id.as_str());
    let failed = events.wait_for(Duration::from_secs(5), |e| {
        e["type"] == "call_changed" && e["change"] == "transfer_failed"
    });
    let failed = failed.unwrap_or_else(|| switch.fail("no transfer_failed event"));
    assert!(
        failed["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("486")),
        "{failed}"
    );
    busy_sipp.wait().assert_success(&switch);
    let back = Instant::now();
    std::thread::sleep(Duration::from_millis(800));
    let talking = caller.heard(back + Duration::from_millis(200), Instant::now(), 1900.0);
    assert!(
        talking.share > 0.5,
        "the caller talks to the agent again: {talking:?}"
    );
    // Unknown targets are refused at once.
    let r = switch.request("POST", &path, Some(r#"{"target":"7777"}"#));
    assert_eq!(r.status, 422, "{}", r.body);
    // A target that answers.
    target.send_to(relay_b);
    switch.request_json("POST", &path, Some(r#"{"target":"3000"}"#), 202);
    assert!(events
        .wait_for(Duration::from_secs(5), |e| e["change"] == "transferred")
        .is_some());
    agent_sipp.wait().assert_success(&switch);
    agent.stop_sending();
    std::thread::sleep(Duration::from_millis(1500));
    let t = Instant::now();
    std::thread::sleep(Duration::from_millis(800));
    let now = caller.heard(t, Instant::now(), 1300.0);
    assert!(now.share > 0.5, "the caller hears the target: {now:?}");
    caller_sipp.wait().assert_success(&switch);
    target_sipp.wait().assert_success(&switch);
    switch.assert_idle();
}

#[test]
fn callee_hangs_up() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = trusting_switch(uas_port);
    let callee = Sipp::scenario("uas_bye")
        .port(uas_port)
        .pause_ms(300)
        .spawn();
    Sipp::caller_to("uac_bye_wait", &switch)
        .run()
        .assert_success(&switch);
    callee.wait().assert_success(&switch);
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "callee");
    switch.assert_idle();
}

#[test]
fn call_over_tcp() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user(
            "2000",
            &format!("sip:2000@127.0.0.1:{uas_port};transport=tcp"),
        )
        .start();
    let callee: SippProcess = Sipp::scenario("uas_answer").port(uas_port).tcp().spawn();
    let caller_run = Sipp::caller_to("uac_basic", &switch)
        .tcp()
        .pause_ms(1500)
        .spawn();

    // While the call is up, both legs show TCP.
    let mut calls = Vec::new();
    switch.wait_for("an answered call", Duration::from_secs(5), || {
        calls = switch.calls();
        calls.len() == 1 && calls[0]["legs"].as_array().is_some_and(|l| l.len() == 2)
    });
    let legs = calls[0]["legs"].as_array().cloned().unwrap_or_default();
    assert_eq!(legs[0]["transport"], "TCP", "A leg: {}", calls[0]);
    assert_eq!(legs[1]["transport"], "TCP", "B leg: {}", calls[0]);
    assert_eq!(
        legs[1]["remote"],
        format!("127.0.0.1:{uas_port}"),
        "B leg: {}",
        calls[0]
    );
    assert_eq!(calls[0]["state"], "answered", "{}", calls[0]);

    caller_run.wait().assert_success(&switch);
    callee.wait().assert_success(&switch);
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "normal");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "caller");
    switch.assert_idle();
}

#[test]
fn ring_timeout_gives_480() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .sip("invite_timeout_secs", 2)
        .static_user("2000", &format!("sip:2000@127.0.0.1:{uas_port}"))
        .start();
    // The switch cancels the ringing callee when the timer expires.
    let callee = Sipp::scenario("uas_ring").port(uas_port).spawn();
    let r = Sipp::caller_to("uac_reject", &switch).run();
    r.assert_success(&switch);
    r.assert_logged("final=480", &switch);
    callee.wait().assert_success(&switch);
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "no_answer");
    switch.assert_field(&cdr, "status", 480);
    switch.assert_field(&cdr, "answer_ms", Value::Null);
    let ring = cdr["ring_secs"].as_f64().unwrap_or(0.0);
    assert!((1.9..4.0).contains(&ring), "ring_secs: {cdr}");
    switch.assert_idle();
}

/// Sends `request` (with `{port}` replaced by the local port) from a fresh UDP socket and
/// returns the first final (non-1xx) response that comes back.
fn udp_exchange(switch: &Switch, request: &str) -> String {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let port = sock.local_addr().expect("addr").port();
    let request = request.replace("{port}", &port.to_string());
    sock.send_to(request.as_bytes(), switch.sip_addr())
        .expect("send");
    let mut buf = [0u8; 65536];
    loop {
        match sock.recv_from(&mut buf) {
            Ok((n, _)) => {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if !text.starts_with("SIP/2.0 1") {
                    return text;
                }
            }
            Err(e) => switch.fail(&format!("no final answer to:\n{request}\n({e})")),
        }
    }
}

#[test]
fn malformed_request_gets_400_and_options_200() {
    // Raw sockets only: no SIPp needed.
    let switch = SwitchConfig::new().start();
    let bad = "INVITE sip:2000@127.0.0.1 SIP/2.0\r\n\
               Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-bad-cseq\r\n\
               Max-Forwards: 70\r\n\
               From: <sip:1001@127.0.0.1>;tag=a1\r\n\
               To: <sip:2000@127.0.0.1>\r\n\
               Call-ID: bad-cseq@e2e\r\n\
               CSeq: one INVITE\r\n\
               Content-Length: 0\r\n\r\n";
    let answer = udp_exchange(&switch, bad);
    assert!(
        answer.starts_with("SIP/2.0 400 "),
        "expected 400, got:\n{answer}"
    );
    assert!(
        answer.contains("bad-cseq@e2e"),
        "Call-ID not echoed:\n{answer}"
    );
    assert!(
        answer.contains("branch=z9hG4bK-bad-cseq"),
        "Via not echoed:\n{answer}"
    );

    let options = "OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
                   Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-options-1\r\n\
                   Max-Forwards: 70\r\n\
                   From: <sip:probe@127.0.0.1>;tag=p1\r\n\
                   To: <sip:127.0.0.1>\r\n\
                   Call-ID: options-1@e2e\r\n\
                   CSeq: 1 OPTIONS\r\n\
                   Accept: application/sdp\r\n\
                   Content-Length: 0\r\n\r\n";
    let answer = udp_exchange(&switch, options);
    assert!(
        answer.starts_with("SIP/2.0 200 "),
        "expected 200, got:\n{answer}"
    );
    let allow = answer
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("allow:"))
        .unwrap_or_else(|| switch.fail(&format!("no Allow header:\n{answer}")));
    for method in ["INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER"] {
        assert!(allow.contains(method), "{method} missing from {allow}");
    }
}
