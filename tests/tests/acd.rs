//! The ACD end to end: SIPp callers dial a queue's DN, SIPp phones play the agents (answer,
//! ring for ever, reject with 486, hang up), and the tests check what people would see: the
//! offer on the agent's phone (`X-Queue`, `X-Interaction`, From display "Queue: caller"),
//! who gets which call and in what order, the CANCEL that ends a missed offer, the RTP the
//! switch plays to a waiting caller, agent states and statistics over REST, and CDRs.
//! This file: offers, RONA (no answer, 486), waiting callers and their order, abandon,
//! statistics, ring-all and round-robin. `acd_more.rs`: feature codes, overflow, full
//! queue, wrap-up and state corner cases.
//!
//! Each test starts its own switch and peers on private ports. Scenarios live in
//! `sipp-scenarios/` (`uac_queue`, `uac_queue_wait`, `uas_agent*`; see its README).
//! Callers advertise a UDP socket the test owns (`RtpSink`) as their media address, so the
//! test counts the RTP packets (music, announcements) the switch sends them.

#[path = "acd/support.rs"]
mod support;

use e2e::{free_port, require};
use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;
use support::*;

/// Two agents ready, one caller: the longest-idle agent's phone rings with the queue's
/// headers and display, answers, the caller hangs up; the agent wraps up for the fixed 1 s
/// and is ready again; statistics and CDR agree.
#[test]
fn basic_offer_answer_and_wrap_up() {
    if !require("sipp") {
        return;
    }
    let (p1, p2) = (free_port(), free_port());
    let switch = acd_switch(
        "wrap_up = { mode = \"fixed\", secs = 1 }",
        &[at("2001", p1), at("2002", p2)],
        "",
    );
    let a1 = phone("uas_agent", p1).spawn();
    let _a2 = phone("uas_agent", p2).spawn();
    login_ready(&switch, "2001");
    login_ready(&switch, "2002");
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[("offered", 0), ("waiting", 0), ("available", 2)],
    );
    assert_eq!(st["agents"]["ready"], 2, "{st}");

    let events = agent_events(&switch, "2001");
    let (caller, sink) = queue_caller("uac_queue", &switch, "1001");
    let caller = caller.pause_ms(1500).spawn();
    switch.wait_for("agent 2001 busy", Duration::from_secs(5), || {
        agent_state(&switch, "2001") == "busy"
    });
    // What must be seen while the call is up comes first, before the silence check uses
    // up more of the caller's 1.5 s.
    let st = queue_stats(&switch);
    assert_eq!(st["agents"]["busy"], 1, "{st}");
    assert_eq!(st["agents"]["ready"], 1, "{st}");
    let live = switch.calls();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0]["state"], "answered", "{live:?}");
    assert_eq!(
        live[0]["legs"].as_array().map(Vec::len),
        Some(2),
        "{live:?}"
    );
    // Bridged: the music stopped (the agent's SIPp sends no RTP).
    thread::sleep(Duration::from_millis(100));
    assert_silent(&switch, &sink, "caller talking to the agent");
    let listed = switch.http("/api/agents");
    let ids: Vec<&str> = listed
        .as_array()
        .map(|a| a.iter().filter_map(|v| v["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["2001", "2002"], "{listed}");

    let c = passed(caller, &switch);
    assert!(c.logs.contains("answered m="), "{}", c.report());
    wait_state(&switch, "2001", "ready", Duration::from_secs(4));
    // The states as the switch reported them, stamped with its own clock (polling them over
    // HTTP would time the test's reads, not the states).
    let mut seen = Vec::new();
    if !e2e::wait_until(Duration::from_secs(2), || {
        seen = state_changes(&events, "2001");
        names(&seen).ends_with(&["after_call_work", "ready"])
    }) {
        switch.fail(&format!(
            "agent 2001's state changes on the event stream: {seen:?}"
        ));
    }
    let r1 = passed(a1, &switch);

    // What the agent's phone showed.
    let offers = offers(&r1);
    assert_eq!(offers.len(), 1, "{}", r1.report());
    let o = &offers[0];
    assert_eq!(o.queue, QUEUE, "{o:?}");
    assert!(o.interaction.parse::<u64>().is_ok(), "{o:?}");
    assert_eq!(o.to, "2001", "{o:?}");
    assert_eq!(o.display(), Some("Sales: 1001"), "{o:?}");
    assert_eq!(o.caller(), Some("1001"), "{o:?}");
    let (lo, hi) = switch.rtp_ports();
    assert!(
        (lo..=hi).contains(&o.sdp_port),
        "offer SDP port not the switch's: {o:?}"
    );
    assert_eq!(
        logged_lines(&r1)[1..],
        ["answered", "bye received"],
        "{}",
        r1.report()
    );

    // Busy while talking, after-call work for the fixed wrap-up, then ready by itself.
    let states: Vec<&str> = names(&seen)
        .into_iter()
        .filter(|s| *s != "reserved")
        .collect();
    assert_eq!(
        states,
        ["ready", "busy", "after_call_work", "ready"],
        "{seen:?}"
    );
    let acw = time_in(&seen, "after_call_work").unwrap_or_default();
    assert!(
        (800..=1600).contains(&acw),
        "after-call work lasted {acw} ms, wrap-up is 1 s: {seen:?}"
    );

    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 1),
            ("answered", 1),
            ("abandoned", 0),
            ("rona", 0),
            ("overflowed", 0),
            ("rejected_full", 0),
            ("waiting", 0),
            ("answered_within_service_level", 1),
        ],
    );
    assert_eq!(st["service_level_pct"].as_f64(), Some(100.0), "{st}");
    let a = agent(&switch, "2001");
    assert_eq!(a["stats"]["handled"], 1, "{a}");
    let talk = a["stats"]["talk_ms"].as_u64().unwrap_or(0);
    assert!((1000..=2500).contains(&talk), "talk_ms {talk}: {a}");
    let acw_ms = a["stats"]["after_call_work_ms"].as_u64().unwrap_or(0);
    assert!(
        (800..=1600).contains(&acw_ms),
        "after_call_work_ms {acw_ms}: {a}"
    );
    assert_eq!(agent(&switch, "2002")["stats"]["handled"], 0);

    let cdrs = wait_idle_cdrs(&switch, 1);
    let cdr = &cdrs[0];
    switch.assert_field(cdr, "from_user", "1001");
    switch.assert_field(cdr, "to_user", QUEUE);
    switch.assert_field(cdr, "cause", "normal");
    switch.assert_field(cdr, "hangup_side", "caller");
    switch.assert_field(cdr, "status", 200);
    assert!(cdr["answer_ms"].is_i64(), "{cdr}");
    drop(sink);
}

/// Agent 2001 never answers (offer timeout 2 s): the switch CANCELs their phone, they go to
/// RONA, and the caller is offered to 2002, who answers.
#[test]
fn rona_on_no_answer_goes_to_next_agent() {
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
    let a2 = phone("uas_agent_bye", p2).pause_ms(500).spawn();
    login_ready(&switch, "2001");
    login_ready(&switch, "2002");

    let (caller, sink) = queue_caller("uac_queue_wait", &switch, "1001");
    let caller = caller.spawn();
    let r1 = passed(a1, &switch);
    let r2 = passed(a2, &switch);
    passed(caller, &switch);

    let (o1, o2) = (offers(&r1), offers(&r2));
    assert_eq!(o1.len(), 1, "{}", r1.report());
    assert_eq!(o2.len(), 1, "{}", r2.report());
    assert_eq!(o1[0].interaction, o2[0].interaction, "{o1:?} {o2:?}");
    assert_eq!(o2[0].display(), Some("Sales: 1001"), "{o2:?}");
    assert_eq!(logged_lines(&r1)[1..], ["cancelled"], "{}", r1.report());
    assert_eq!(
        received(&r1),
        ["INVITE", "CANCEL", "ACK"],
        "{}",
        r1.report()
    );

    assert_eq!(agent_state(&switch, "2001"), "rona");
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 1),
            ("answered", 1),
            ("rona", 1),
            ("abandoned", 0),
            ("waiting", 0),
        ],
    );
    assert_eq!(st["agents"]["rona"], 1, "{st}");
    assert_eq!(agent(&switch, "2001")["stats"]["handled"], 0);
    assert_eq!(agent(&switch, "2002")["stats"]["handled"], 1);

    // The caller waited out the 2 s offer timeout, hearing music meanwhile.
    let cdrs = wait_idle_cdrs(&switch, 1);
    let cdr = &cdrs[0];
    switch.assert_field(cdr, "to_user", QUEUE);
    switch.assert_field(cdr, "cause", "normal");
    switch.assert_field(cdr, "hangup_side", "callee");
    let waited = cdr["answer_ms"].as_i64().unwrap_or(0) - cdr["start_ms"].as_i64().unwrap_or(0);
    assert!(
        (1900..=3500).contains(&waited),
        "answered after {waited} ms: {cdr}"
    );
    assert_heard_switch(&switch, &sink, 50, "caller during the RONA");

    // RONA lasts until the agent chooses a state.
    set_state(&switch, "2001", r#"{"state":"ready"}"#);
    assert_eq!(agent_state(&switch, "2001"), "ready");
}

/// Agent 2001's phone rejects the offer with 486: RONA at once (not after the offer
/// timeout), and 2002 answers.
#[test]
fn reject_486_is_rona_and_next_agent_answers() {
    if !require("sipp") {
        return;
    }
    let (p1, p2) = (free_port(), free_port());
    let switch = acd_switch(
        "offer_timeout_secs = 15",
        &[at("2001", p1), at("2002", p2)],
        "",
    );
    let a1 = phone("uas_agent_busy", p1).spawn();
    let a2 = phone("uas_agent_bye", p2).pause_ms(300).spawn();
    login_ready(&switch, "2001");
    login_ready(&switch, "2002");

    let (caller, _sink) = queue_caller("uac_queue_wait", &switch, "1001");
    let caller = caller.spawn();
    let r1 = passed(a1, &switch);
    let r2 = passed(a2, &switch);
    passed(caller, &switch);

    let (o1, o2) = (offers(&r1), offers(&r2));
    assert_eq!(
        (o1.len(), o2.len()),
        (1, 1),
        "{}\n{}",
        r1.report(),
        r2.report()
    );
    assert_eq!(o1[0].interaction, o2[0].interaction);
    assert_eq!(logged_lines(&r1)[1..], ["rejected"], "{}", r1.report());
    assert_eq!(agent_state(&switch, "2001"), "rona");
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[("offered", 1), ("answered", 1), ("rona", 1)],
    );
    assert_eq!(agent(&switch, "2002")["stats"]["handled"], 1);

    let cdrs = wait_idle_cdrs(&switch, 1);
    let waited =
        cdrs[0]["answer_ms"].as_i64().unwrap_or(0) - cdrs[0]["start_ms"].as_i64().unwrap_or(0);
    assert!(
        waited < 1500,
        "answered after {waited} ms: a 486 must not wait 15 s"
    );
}

/// One agent, three callers arriving one after the other, each call lasting 2 s: two wait
/// (and hear the switch's music), then all three are served in arrival order.
#[test]
fn all_busy_callers_wait_and_are_served_in_order() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch("", &[at("2001", p1)], "");
    let a1 = phone("uas_agent_bye", p1)
        .calls(3)
        .pause_ms(TALK_MS)
        .spawn();
    login_ready(&switch, "2001");

    // The arrival order is made by causality, not by spacing the SIPp starts: each caller
    // is started once the queue has taken in the one before.
    let mut callers = Vec::new();
    for (n, from) in ["1001", "1002", "1003"].into_iter().enumerate() {
        let (c, sink) = queue_caller("uac_queue_wait", &switch, from);
        callers.push((c.spawn(), sink));
        let taken = n as u64 + 1;
        wait_stats(&switch, &format!("caller {from} taken in"), |s| {
            s["offered"].as_u64() == Some(taken)
        });
    }
    let st = wait_stats(&switch, "waiting = 2", |s| s["waiting"] == 2);
    assert!(st["longest_wait_ms"].as_u64() > Some(0), "{st}");
    assert_eq!(st["agents"]["busy"], 1, "{st}");
    assert_eq!(st["available"], 0, "{st}");
    // The two waiting callers hear the switch (announcements, then music): 50 packets/s.
    assert_heard_switch(&switch, &callers[1].1, 30, "waiting caller 1002");
    assert_heard_switch(&switch, &callers[2].1, 30, "waiting caller 1003");
    // And keep hearing it (1003 waits for two 2 s calls): more packets keep coming.
    let before = callers[2].1.packets();
    if !e2e::wait_until(Duration::from_secs(1), || {
        callers[2].1.packets() > before + 5
    }) {
        switch.fail(&format!(
            "the music to the waiting caller stopped: {} packets, {before} a second ago",
            callers[2].1.packets()
        ));
    }

    let sinks: Vec<RtpSink> = callers
        .into_iter()
        .map(|(c, sink)| {
            passed(c, &switch);
            sink
        })
        .collect();
    let r = passed(a1, &switch);
    let offered = offers(&r);
    let order: Vec<&str> = offered.iter().filter_map(Offer::caller).collect();
    assert_eq!(order, ["1001", "1002", "1003"], "{}", r.report());
    let ids: BTreeSet<&str> = offered.iter().map(|o| o.interaction.as_str()).collect();
    assert_eq!(ids.len(), 3, "X-Interaction not distinct: {}", r.report());

    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 3),
            ("answered", 3),
            ("abandoned", 0),
            ("rona", 0),
            ("waiting", 0),
        ],
    );
    assert_eq!(agent(&switch, "2001")["stats"]["handled"], 3);
    // CDRs: answered in arrival order, the first at once, each later caller only once the
    // agent had finished the call before: the agent talks TALK_MS after the switch's ACK,
    // which follows the switch's answer stamp, so answers are at least TALK_MS apart. And
    // each later caller had arrived while that call was on, so it waited for the agent.
    let mut cdrs = wait_idle_cdrs(&switch, 3);
    cdrs.sort_by_key(|c| c["answer_ms"].as_i64());
    let by_answer: Vec<&str> = cdrs
        .iter()
        .filter_map(|c| c["from_user"].as_str())
        .collect();
    assert_eq!(by_answer, ["1001", "1002", "1003"], "{cdrs:?}");
    let ms = |c: &serde_json::Value, k: &str| c[k].as_i64().unwrap_or(0);
    let waited_first = ms(&cdrs[0], "answer_ms") - ms(&cdrs[0], "start_ms");
    assert!(
        waited_first < 1000,
        "the first caller waited {waited_first} ms: {cdrs:?}"
    );
    for pair in cdrs.windows(2) {
        let (prev, next) = (&pair[0], &pair[1]);
        let gap = ms(next, "answer_ms") - ms(prev, "answer_ms");
        assert!(
            gap >= TALK_MS as i64,
            "{} answered {gap} ms after {}: before the agent's {TALK_MS} ms call ended\n{cdrs:?}",
            next["from_user"],
            prev["from_user"]
        );
        assert!(
            ms(next, "start_ms") < ms(prev, "answer_ms") + TALK_MS as i64,
            "{} arrived after the agent was free again: it did not wait\n{cdrs:?}",
            next["from_user"]
        );
    }
    drop(sinks);
}

/// How long the agent talks in `all_busy_callers_wait_and_are_served_in_order`.
const TALK_MS: u64 = 2000;

/// The caller hangs up while waiting (no agent ready): abandoned, CDR cause `abandoned`.
#[test]
fn caller_abandons_while_waiting() {
    if !require("sipp") {
        return;
    }
    let p1 = free_port();
    let switch = acd_switch("", &[at("2001", p1)], "");
    switch.post_json("/api/agents/2001/login", None);
    assert_eq!(agent_state(&switch, "2001"), "not_ready:login");

    let (caller, sink) = queue_caller("uac_queue", &switch, "1001");
    let caller = caller.pause_ms(1500).spawn();
    let st = wait_stats(&switch, "waiting = 1", |s| s["waiting"] == 1);
    assert_stats(&switch, &st, &[("offered", 1), ("available", 0)]);
    let c = passed(caller, &switch);
    assert!(c.logs.contains("answered m="), "{}", c.report());
    assert_heard_switch(&switch, &sink, 40, "waiting caller");

    let st = wait_stats(&switch, "abandoned = 1", |s| s["abandoned"] == 1);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 1),
            ("answered", 0),
            ("abandoned", 1),
            ("waiting", 0),
            ("longest_wait_ms", 0),
            ("answered_within_service_level", 0),
        ],
    );
    assert_eq!(st["service_level_pct"].as_f64(), Some(0.0), "{st}");
    let cdrs = wait_idle_cdrs(&switch, 1);
    let cdr = &cdrs[0];
    switch.assert_field(cdr, "from_user", "1001");
    switch.assert_field(cdr, "to_user", QUEUE);
    switch.assert_field(cdr, "cause", "abandoned");
    switch.assert_field(cdr, "hangup_side", "caller");
}

/// Every counter after a known sequence: 4 calls offered; the first is rejected by 2001
/// (RONA) and answered by 2002; the second answered at once; the third waits 1.5 s for 2002
/// (beyond the 1 s service level) and is answered; the fourth is abandoned.
#[test]
fn statistics_after_a_known_sequence() {
    if !require("sipp") {
        return;
    }
    let (p1, p2) = (free_port(), free_port());
    let switch = acd_switch(
        "service_level_secs = 1",
        &[at("2001", p1), at("2002", p2)],
        "",
    );
    let a1 = phone("uas_agent_busy", p1).spawn();
    let a2 = phone("uas_agent_bye", p2).calls(3).pause_ms(300).spawn();
    login_ready(&switch, "2001");
    login_ready(&switch, "2002");

    let call = |from: &str| {
        let (c, sink) = queue_caller("uac_queue_wait", &switch, from);
        (c.spawn(), sink)
    };
    // 1: 2001 rejects, 2002 answers.
    let (c, _s1) = call("1001");
    passed(c, &switch);
    passed(a1, &switch);
    wait_state(&switch, "2002", "ready", Duration::from_secs(3));
    // 2: 2002 answers at once.
    let (c, _s2) = call("1002");
    passed(c, &switch);
    wait_state(&switch, "2002", "ready", Duration::from_secs(3));
    // 3: waits 1.5 s for 2002.
    set_state(
        &switch,
        "2002",
        r#"{"state":"not_ready","reason":"coffee"}"#,
    );
    let (c, s3) = call("1003");
    wait_stats(&switch, "waiting = 1", |s| s["waiting"] == 1);
    thread::sleep(Duration::from_millis(1500));
    set_state(&switch, "2002", r#"{"state":"ready"}"#);
    passed(c, &switch);
    assert_heard_switch(&switch, &s3, 40, "caller 1003 while waiting");
    wait_state(&switch, "2002", "ready", Duration::from_secs(3));
    // 4: abandoned after 800 ms.
    set_state(
        &switch,
        "2002",
        r#"{"state":"not_ready","reason":"coffee"}"#,
    );
    let (c, _s4) = queue_caller("uac_queue", &switch, "1004");
    passed(c.pause_ms(800).spawn(), &switch);
    passed(a2, &switch);

    let st = wait_stats(&switch, "abandoned = 1", |s| s["abandoned"] == 1);
    assert_stats(
        &switch,
        &st,
        &[
            ("offered", 4),
            ("answered", 3),
            ("abandoned", 1),
            ("rona", 1),
            ("overflowed", 0),
            ("rejected_full", 0),
            ("waiting", 0),
            ("longest_wait_ms", 0),
            ("service_level_secs", 1),
            ("answered_within_service_level", 2),
            ("available", 0),
        ],
    );
    assert_eq!(st["service_level_pct"].as_f64(), Some(50.0), "{st}");
    assert_eq!(st["name"], "Sales", "{st}");
    let asa = st["average_speed_of_answer_ms"].as_u64().unwrap_or(0);
    // Waits of about 0, 0 and 1500 ms.
    assert!(
        (480..=1000).contains(&asa),
        "average speed of answer {asa} ms: {st}"
    );
    let agents = &st["agents"];
    assert_eq!(
        (
            agents["ready"].as_u64(),
            agents["not_ready"].as_u64(),
            agents["rona"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{st}"
    );
    assert_eq!(agent_state(&switch, "2001"), "rona");
    assert_eq!(agent_state(&switch, "2002"), "not_ready:coffee");
    let a2 = agent(&switch, "2002")["stats"].clone();
    assert_eq!(a2["handled"], 3, "{a2}");
    // Three talks of at least 300 ms on the phone, but the ACD times each from when its
    // task handles the answer to when it handles the hang-up, and a loaded machine can make
    // it handle the answer later (a run under load counted 881 ms). 750 still tells three
    // calls' talk from two.
    let talk = a2["talk_ms"].as_u64().unwrap_or(0);
    assert!((750..=2500).contains(&talk), "talk_ms {talk}: {a2}");
    let nr = a2["not_ready_ms"].as_u64().unwrap_or(0);
    assert!(nr >= 1500, "not_ready_ms {nr}: {a2}");
    assert_eq!(agent(&switch, "2001")["stats"]["handled"], 0);
    let cdrs = wait_idle_cdrs(&switch, 4);
    let causes: Vec<&str> = cdrs.iter().filter_map(|c| c["cause"].as_str()).collect();
    assert_eq!(
        causes,
        ["normal", "normal", "normal", "abandoned"],
        "{cdrs:?}"
    );
}

/// ring_all: both ready agents' phones ring with the same interaction; the first to answer
/// (2001, after 500 ms) gets the caller and the other phone gets CANCEL and stays ready.
#[test]
fn ring_all_first_answer_wins() {
    if !require("sipp") {
        return;
    }
    let (p1, p2) = (free_port(), free_port());
    let switch = acd_switch(
        "strategy = \"ring_all\"",
        &[at("2001", p1), at("2002", p2)],
        "",
    );
    let a1 = phone("uas_agent", p1).pause_ms(500).spawn();
    let a2 = phone("uas_agent_ring", p2).spawn();
    login_ready(&switch, "2001");
    login_ready(&switch, "2002");
    let (caller, _sink) = queue_caller("uac_queue", &switch, "1001");
    let caller = caller.pause_ms(1500).spawn();
    let r2 = passed(a2, &switch);
    passed(caller, &switch);
    let r1 = passed(a1, &switch);
    let (o1, o2) = (offers(&r1), offers(&r2));
    assert_eq!(
        (o1.len(), o2.len()),
        (1, 1),
        "{}\n{}",
        r1.report(),
        r2.report()
    );
    assert_eq!(o1[0].interaction, o2[0].interaction);
    assert_eq!(
        logged_lines(&r1)[1..],
        ["answered", "bye received"],
        "{}",
        r1.report()
    );
    assert_eq!(logged_lines(&r2)[1..], ["cancelled"], "{}", r2.report());
    assert_eq!(agent_state(&switch, "2002"), "ready");
    let st = queue_stats(&switch);
    assert_stats(
        &switch,
        &st,
        &[("offered", 1), ("answered", 1), ("rona", 0)],
    );
    assert_eq!(agent(&switch, "2001")["stats"]["handled"], 1);
    assert_eq!(agent(&switch, "2002")["stats"]["handled"], 0);
}

/// round_robin: agents in the order they joined the queue (config order 2001, 2002, 2003),
/// whatever the order they became ready in, wrapping round: 2001, 2002, 2003, 2001.
#[test]
fn round_robin_goes_round_in_queue_order() {
    if !require("sipp") {
        return;
    }
    // All three phones are one SIPp UAS; the To user says whose rang.
    let port = free_port();
    let agents = ["2001", "2002", "2003"].map(|id| AgentPhone { id, port });
    let switch = acd_switch("strategy = \"round_robin\"", &agents, "");
    let uas = phone("uas_agent_bye", port).calls(4).pause_ms(200).spawn();
    // Longest idle would start with 2003.
    for id in ["2003", "2002", "2001"] {
        login_ready(&switch, id);
    }
    for from in ["1001", "1002", "1003", "1004"] {
        let (c, _sink) = queue_caller("uac_queue_wait", &switch, from);
        passed(c.spawn(), &switch);
        switch.wait_for("every agent ready again", Duration::from_secs(3), || {
            queue_stats(&switch)["agents"]["ready"] == 3
        });
    }
    let r = passed(uas, &switch);
    let to: Vec<String> = offers(&r).into_iter().map(|o| o.to).collect();
    assert_eq!(to, ["2001", "2002", "2003", "2001"], "{}", r.report());
}
