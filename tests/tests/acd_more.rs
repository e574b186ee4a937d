//! More of the ACD end to end (see `acd.rs`): agents' feature codes (*21, *22, *23 from
//! their phone), overflow to a user and to another queue, a full queue's 486, a RONA'd
//! caller keeping its place, abandon while the agent's phone rings, manual wrap-up, an
//! agent without a phone, and not ready asked for during a call.

#[path = "acd/support.rs"]
mod support;

use e2e::{free_port, require, Sipp, SwitchConfig};
use std::thread;
use std::time::{Duration, Instant};
use support::*;

/// An agent dials *22, *21 and *23 from their extension: each is answered, confirmed with
/// a prompt and hung up by the switch, and the agent's state follows.
#[test]
fn feature_codes_change_agent_state() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch("", &[at("2001", p1)], "");
    assert_eq!(agent_state(&switch, "2001"), "logged_out");

    let dial = |code: &str, from: &str| {
        let sink = RtpSink::new();
        let started = Instant::now();
        let r = Sipp::scenario("uac_queue_wait")
            .remote(switch.sip_addr())
            .service(code)
            .caller(from)
            .key("rtp_port", &sink.port().to_string())
            .run();
        r.assert_success(&switch);
        // The confirmation plays for a second or more before the switch hangs up.
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(1000),
            "{code}: BYE after {took:?}"
        );
        assert_heard_switch(&switch, &sink, 40, &format!("{from} dialling {code}"));
        assert!(r.logs.contains("bye received"), "{}", r.report());
    };
    dial("*22", "2001");
    let a = agent(&switch, "2001");
    assert_eq!(a["agent"]["state"]["state"], "not_ready", "{a}");
    assert_eq!(a["agent"]["state"]["reason"], "phone", "{a}");
    dial("*21", "2001");
    assert_eq!(agent_state(&switch, "2001"), "ready");
    let st = queue_stats(&switch);
    assert_eq!(st["agents"]["ready"], 1, "{st}");
    dial("*23", "2001");
    assert_eq!(agent_state(&switch, "2001"), "logged_out");
    // Someone who is not an agent gets a prompt too, and changes nothing.
    dial("*21", "1009");
    assert_eq!(agent_state(&switch, "2001"), "logged_out");
    let cdrs = wait_idle_cdrs(&switch, 4);
    for cdr in &cdrs {
        switch.assert_field(cdr, "hangup_side", "switch");
        switch.assert_field(cdr, "cause", "normal");
    }
}

/// Nobody ready and max_wait 2 s to user 2100: after 2 s the caller is rung through to
/// 2100's phone and bridged.
#[test]
fn overflow_after_max_wait_to_a_user() {
    if !require("sipp") {
        return;
    }
    let (p1, p_over) = (free_port(), free_port());
    let switch = acd_switch(
        "max_wait = { secs = 2, target = \"2100\" }",
        &[at("2001", p1)],
        &format!("[[users]]\nid = \"2100\"\ncontact = \"sip:2100@127.0.0.1:{p_over}\"\n"),
    );
    let over = phone("uas_answer", p_over).spawn();
    let (caller, sink) = queue_caller("uac_queue", &switch, "1001");
    let caller = caller.pause_ms(3500).spawn();
    switch.wait_for("the overflow call answered", Duration::from_secs(4), || {
        switch
            .calls()
            .first()
            .is_some_and(|c| c["state"] == "answered")
    });
    thread::sleep(Duration::from_millis(100));
    assert_silent(&switch, &sink, "caller bridged to 2100");
    let c = passed(caller, &switch);
    let o = passed(over, &switch);
    assert!(c.logs.contains("answered m="), "{}", c.report());
    assert_eq!(
        received(&o)[..3],
        ["INVITE", "ACK", "BYE"],
        "{}",
        o.report()
    );
    assert_heard_switch(&switch, &sink, 60, "caller before the overflow");

    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 1),
            ("overflowed", 1),
            ("answered", 0),
            ("abandoned", 0),
            ("waiting", 0),
        ],
    );
    let cdrs = wait_idle_cdrs(&switch, 1);
    let cdr = &cdrs[0];
    switch.assert_field(cdr, "from_user", "1001");
    switch.assert_field(cdr, "to_user", "2100");
    switch.assert_field(cdr, "cause", "normal");
    switch.assert_field(cdr, "hangup_side", "caller");
    let waited = cdr["answer_ms"].as_i64().unwrap_or(0) - cdr["start_ms"].as_i64().unwrap_or(0);
    assert!(
        (1900..=3000).contains(&waited),
        "overflow answered after {waited} ms: {cdr}"
    );
}

/// max_size = 0: a call is taken only when an agent can take it at once; otherwise the
/// caller gets 486 without being answered.
#[test]
fn full_queue_answers_486() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch("max_size = 0", &[at("2001", p1)], "");
    switch.post_json("/api/agents/2001/login", Some(r#"{"state":"not_ready"}"#));
    let r = Sipp::scenario("uac_busy")
        .remote(switch.sip_addr())
        .service(QUEUE)
        .caller("1001")
        .run();
    r.assert_success(&switch);
    assert!(!received(&r).iter().any(|m| m == "200"), "{}", r.report());
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 0),
            ("rejected_full", 1),
            ("waiting", 0),
            ("answered", 0),
        ],
    );
    let cdrs = wait_idle_cdrs(&switch, 1);
    switch.assert_field(&cdrs[0], "status", 486);
    switch.assert_field(&cdrs[0], "to_user", QUEUE);

    // With the agent ready the same call is taken and answered.
    let a1 = phone("uas_agent_bye", p1).pause_ms(300).spawn();
    set_state(&switch, "2001", r#"{"state":"ready"}"#);
    let (c, _sink) = queue_caller("uac_queue_wait", &switch, "1002");
    passed(c.spawn(), &switch);
    passed(a1, &switch);
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[("offered", 1), ("rejected_full", 1), ("answered", 1)],
    );
}

/// A caller whose offer rang out (RONA) keeps its place: it goes back ahead of a caller
/// who arrived after it. 2002 is busy with caller 1000 for 3 s; 1001 rings 2001 for the 2 s
/// offer timeout, 1002 arrives meanwhile; when 2002 is free it gets 1001, then 1002.
#[test]
fn rona_caller_keeps_its_place_in_the_queue() {
    if !require("sipp") {
        return;
    }
    let (p1, p2) = (free_port(), free_port());
    let switch = acd_switch(
        "offer_timeout_secs = 2",
        &[at("2001", p1), at("2002", p2)],
        "",
    );
    let a1 = phone("uas_agent_ring", p1).spawn();
    let a2 = phone("uas_agent_bye", p2).calls(3).pause_ms(3000).spawn();
    login_ready(&switch, "2002");
    login_ready(&switch, "2001");
    // Arrival order by causality: each caller is started once the queue took in the one
    // before (spacing the SIPp starts by a sleep would assume they start in time). All three
    // are in long before 1001's 2 s offer times out.
    let mut callers = Vec::new();
    for (n, from) in ["1000", "1001", "1002"].into_iter().enumerate() {
        let (c, sink) = queue_caller("uac_queue_wait", &switch, from);
        callers.push((c.spawn(), sink));
        let taken = n as u64 + 1;
        wait_stats(&switch, &format!("caller {from} taken in"), |s| {
            s["offered"].as_u64() == Some(taken)
        });
    }
    // After the RONA both later callers wait.
    let st = wait_stats(&switch, "waiting = 2 after the RONA", |s| {
        s["waiting"] == 2 && s["rona"] == 1
    });
    assert_eq!(st["agents"]["rona"], 1, "{st}");
    let r1 = passed(a1, &switch);
    for (c, _sink) in callers {
        passed(c, &switch);
    }
    let r2 = passed(a2, &switch);
    assert_eq!(
        offers(&r1)
            .iter()
            .filter_map(Offer::caller)
            .collect::<Vec<_>>(),
        ["1001"]
    );
    let on_2002 = offers(&r2);
    let order: Vec<&str> = on_2002.iter().filter_map(Offer::caller).collect();
    assert_eq!(order, ["1000", "1001", "1002"], "{}", r2.report());
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[("offered", 3), ("answered", 3), ("rona", 1), ("waiting", 0)],
    );
}

/// The caller hangs up while the agent's phone rings: the switch CANCELs the phone, the call
/// is abandoned, and the agent is ready again (no RONA: they did nothing wrong).
#[test]
fn caller_abandons_while_agent_rings() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch("offer_timeout_secs = 15", &[at("2001", p1)], "");
    let a1 = phone("uas_agent_ring", p1).spawn();
    login_ready(&switch, "2001");
    let (caller, _sink) = queue_caller("uac_queue", &switch, "1001");
    let caller = caller.pause_ms(1000).spawn();
    switch.wait_for("agent 2001 reserved", Duration::from_secs(3), || {
        agent_state(&switch, "2001") == "reserved"
    });
    passed(caller, &switch);
    let r1 = passed(a1, &switch);
    assert_eq!(
        received(&r1),
        ["INVITE", "CANCEL", "ACK"],
        "{}",
        r1.report()
    );
    wait_state(&switch, "2001", "ready", Duration::from_secs(2));
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 1),
            ("answered", 0),
            ("abandoned", 1),
            ("rona", 0),
            ("waiting", 0),
        ],
    );
    let cdrs = wait_idle_cdrs(&switch, 1);
    switch.assert_field(&cdrs[0], "cause", "abandoned");
    switch.assert_field(&cdrs[0], "hangup_side", "caller");
}

/// Manual wrap-up: after the call the agent stays in after-call work (a caller waiting
/// meanwhile is not offered to them) until they say they are ready.
#[test]
fn manual_wrap_up_holds_the_agent_until_ready() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch("wrap_up = { mode = \"manual\" }", &[at("2001", p1)], "");
    let a1 = phone("uas_agent_bye", p1).calls(2).pause_ms(300).spawn();
    login_ready(&switch, "2001");
    let (c, _s1) = queue_caller("uac_queue_wait", &switch, "1001");
    passed(c.spawn(), &switch);
    wait_state(&switch, "2001", "after_call_work", Duration::from_secs(2));
    let (c2, _s2) = queue_caller("uac_queue_wait", &switch, "1002");
    let c2 = c2.spawn();
    wait_stats(&switch, "waiting = 1", |s| s["waiting"] == 1);
    thread::sleep(Duration::from_millis(1500));
    assert_eq!(agent_state(&switch, "2001"), "after_call_work");
    assert_eq!(queue_stats(&switch)["waiting"], 1);
    set_state(&switch, "2001", r#"{"state":"ready"}"#);
    passed(c2, &switch);
    passed(a1, &switch);
    wait_state(&switch, "2001", "after_call_work", Duration::from_secs(2));
    let a = agent(&switch, "2001");
    assert_eq!(a["stats"]["handled"], 2, "{a}");
    let acw = a["stats"]["after_call_work_ms"].as_u64().unwrap_or(0);
    assert!(acw >= 1500, "after_call_work_ms {acw}: {a}");
}

/// A required wrap-up of a call: after it Ready is refused (409 `wrap_up_pending`) until
/// the wrap-up is submitted (`POST /api/agents/{id}/wrap-up`); Not Ready meanwhile is
/// allowed.
#[test]
fn a_required_wrap_up_comes_before_ready() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch(
        "wrap_up = { mode = \"manual\" }\nwrap_up_required = true",
        &[at("2001", p1)],
        "",
    );
    let a1 = phone("uas_agent_bye", p1).pause_ms(200).spawn();
    login_ready(&switch, "2001");
    let (c, _s1) = queue_caller("uac_queue_wait", &switch, "1001");
    passed(c.spawn(), &switch);
    passed(a1, &switch);
    wait_state(&switch, "2001", "after_call_work", Duration::from_secs(2));
    let r = switch.request(
        "POST",
        "/api/agents/2001/state",
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "wrap_up_pending", "{}", r.body);
    set_state(&switch, "2001", r#"{"state":"not_ready","reason":"break"}"#);
    assert_eq!(agent_state(&switch, "2001"), "not_ready:break");
    let r = switch.request(
        "POST",
        "/api/agents/2001/state",
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(r.status, 409, "still owed from Not Ready: {}", r.body);
    let v = switch.post_json("/api/agents/2001/wrap-up", None);
    assert_eq!(state_name(&v["agent"]["state"]), "not_ready:break", "{v}");
    set_state(&switch, "2001", r#"{"state":"ready"}"#);
    assert_eq!(agent_state(&switch, "2001"), "ready");
    let r = switch.request("POST", "/api/agents/2001/wrap-up", None);
    assert_eq!(r.status, 409, "nothing pending: {}", r.body);
}

/// max_wait overflow to another queue: the caller leaves 8000 after 1 s and is offered to
/// 8001's agent, whose phone shows 8001's name and DN.
#[test]
fn overflow_after_max_wait_to_another_queue() {
    if !require("sipp") {
        return;
    }
    let (p1, p2) = (free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2001", &format!("sip:2001@127.0.0.1:{p1}"))
        .static_user("2002", &format!("sip:2002@127.0.0.1:{p2}"))
        .extra(
            r#"
[[queues]]
dn = "8000"
name = "Sales"
max_wait = { secs = 1, target = "8001" }

[[queues]]
dn = "8001"
name = "Support"

[[agents]]
id = "2001"
extension = "2001"
queues = ["8000"]

[[agents]]
id = "2002"
extension = "2002"
queues = ["8001"]
"#,
        )
        .start();
    let a2 = phone("uas_agent_bye", p2).pause_ms(500).spawn();
    login_ready(&switch, "2002");
    let (c, sink) = queue_caller("uac_queue_wait", &switch, "1001");
    passed(c.spawn(), &switch);
    let r2 = passed(a2, &switch);
    let o = offers(&r2);
    assert_eq!(o.len(), 1, "{}", r2.report());
    assert_eq!(o[0].queue, "8001", "{o:?}");
    assert_eq!(o[0].display(), Some("Support: 1001"), "{o:?}");
    assert_heard_switch(&switch, &sink, 30, "caller before the overflow");
    let s0 = switch.http("/api/queues/8000/stats");
    assert_stats(
        &switch,
        &s0,
        &[
            ("offered", 1),
            ("overflowed", 1),
            ("answered", 0),
            ("waiting", 0),
        ],
    );
    let s1 = switch.http("/api/queues/8001/stats");
    assert_stats(
        &switch,
        &s1,
        &[("offered", 1), ("answered", 1), ("overflowed", 0)],
    );
    let cdrs = wait_idle_cdrs(&switch, 1);
    switch.assert_field(&cdrs[0], "to_user", "8001");
    switch.assert_field(&cdrs[0], "cause", "normal");
}

/// An agent logged in ready whose extension has no reachable phone is skipped (RONA) and
/// the next agent gets the call at once.
#[test]
fn agent_without_a_phone_is_skipped() {
    if !require("sipp") {
        return;
    }
    let p2 = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2002", &format!("sip:2002@127.0.0.1:{p2}"))
        .user("2001", "pass2001")
        .extra(
            r#"
[[queues]]
dn = "8000"
name = "Sales"

[[agents]]
id = "2001"
extension = "2001"
queues = ["8000"]

[[agents]]
id = "2002"
extension = "2002"
queues = ["8000"]
"#,
        )
        .start();
    let a2 = phone("uas_agent_bye", p2).pause_ms(300).spawn();
    login_ready(&switch, "2001");
    login_ready(&switch, "2002");
    let (c, _sink) = queue_caller("uac_queue_wait", &switch, "1001");
    passed(c.spawn(), &switch);
    passed(a2, &switch);
    assert_eq!(agent_state(&switch, "2001"), "rona");
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[("offered", 1), ("answered", 1), ("rona", 1)],
    );
    let cdrs = wait_idle_cdrs(&switch, 1);
    let waited =
        cdrs[0]["answer_ms"].as_i64().unwrap_or(0) - cdrs[0]["start_ms"].as_i64().unwrap_or(0);
    assert!(waited < 1500, "answered after {waited} ms");
}

/// Not ready asked for during a call: the agent stays busy (the state is pending), and
/// after the call goes to not ready instead of ready; a caller waiting meanwhile is not
/// offered to them.
#[test]
fn not_ready_during_a_call_applies_after_it() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch("", &[at("2001", p1)], "");
    let a1 = phone("uas_agent_bye", p1).pause_ms(1000).spawn();
    login_ready(&switch, "2001");
    let (c1, _s1) = queue_caller("uac_queue_wait", &switch, "1001");
    let c1 = c1.spawn();
    wait_state(&switch, "2001", "busy", Duration::from_secs(3));
    let v = set_state(&switch, "2001", r#"{"state":"not_ready","reason":"lunch"}"#);
    assert_eq!(state_name(&v["agent"]["state"]), "busy", "{v}");
    assert_eq!(state_name(&v["agent"]["pending"]), "not_ready:lunch", "{v}");
    // 1002 waits 4 s: the rest of the agent's 1 s call, the two SIPps' endings (0.5 s
    // timewait) and the check that 1002 still waits must all fit in that time, on a loaded
    // machine too (2.5 s left only about 1 s to spare).
    let (c2, _s2) = queue_caller("uac_queue", &switch, "1002");
    let c2 = c2.pause_ms(4000).spawn();
    passed(c1, &switch);
    passed(a1, &switch);
    wait_state(&switch, "2001", "not_ready:lunch", Duration::from_secs(2));
    // 1002 is still waiting, and not offered to 2001.
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[("waiting", 1), ("answered", 1), ("available", 0)],
    );
    passed(c2, &switch);
    let st = wait_stats(&switch, "abandoned = 1", |s| s["abandoned"] == 1);
    assert_stats(
        &switch,
        &st,
        &[("offered", 2), ("answered", 1), ("rona", 0)],
    );
}
