//! The preview dialer end to end: a campaign created, filled (CSV import) and started over
//! REST; an ACD agent logged in Ready gets a record pushed; the switch originates the call
//! (the agent's SIPp phone first, with auto-answer hints, then the contact's number
//! through a `[[trunks]]` gateway, another SIPp), bridges them, and the agent's outcome
//! closes the record. What is checked is what people would see: the INVITEs each SIPp got,
//! `GET /api/calls`, the agent's ACD state, the desktop's session
//! (`GET /api/agents/{id}/session`) and event stream (`/api/events?agent=ID`, WebSocket),
//! the record with its attempt history, campaign statistics, the DNC list and the CDR.
//!
//! - `countdown_call_bridges_agent_and_contact_then_outcome_closes_record`: the whole flow
//!   with a 2-second countdown.
//! - `decline_do_not_call_puts_the_numbers_on_the_dnc_list`.
//!
//! What the switch refuses to dial at origination (DNC, calling window, dialplan) is in
//! `dialer_refusals.rs`.
//!
//! Each test starts its own switch and SIPps on private ports. Scenarios:
//! `uas_autoanswer` (agent phone), `uas_contact_bye` (contact behind the trunk); see
//! `sipp-scenarios/README.md`.

#[path = "dialer/support.rs"]
mod support;

use e2e::require;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;
use support::*;

#[test]
fn rfc3339_parses() {
    assert_eq!(rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(rfc3339_ms("1970-01-02T00:00:01.5Z"), Some(86_401_500));
    assert_eq!(
        rfc3339_ms("2024-03-01T01:00:00.123456+01:00"),
        rfc3339_ms("2024-03-01T00:00:00.123Z")
    );
    assert_eq!(rfc3339_ms("2000-03-01T00:00:00Z"), Some(951_868_800_000));
}

/// The issue's scenario: a REST-created campaign is started, the SIPp agent and the SIPp
/// contact (behind a trunk) are bridged after a 2-second countdown, the outcome is posted,
/// and the record's status and attempt history are right.
#[test]
fn countdown_call_bridges_agent_and_contact_then_outcome_closes_record() {
    if !require("sipp") {
        return;
    }
    let peers = Peers::new();
    let switch = dialer_switch(&peers);
    let (phone, contact, sink) = spawn_peers(&peers, 2000);
    let stream = events(&switch);

    // The API documents the agent's outcome action.
    let doc = switch.http("/api/openapi.json");
    assert!(
        doc["paths"]["/api/agents/{id}/campaigns/{campaign}/records/{record}/outcome"]["post"]
            .is_object(),
        "openapi.json lacks the outcome action"
    );

    let campaign = create_campaign(&switch, json!({"mode": "countdown", "seconds": 2}));
    let csv = format!(
        "external_id,name,phone_mobile,policy\n\
         C-1,Ada Lovelace,{NATIONAL},P-42\n\
         C-2,Bad Number,0770O 900124,P-43\n"
    );
    let report = import(&switch, campaign, &csv);
    assert_eq!(
        (
            report["rows"].as_i64(),
            report["inserted"].as_i64(),
            report["rejected"].as_i64(),
            report["done"].as_bool()
        ),
        (Some(2), Some(1), Some(1), Some(true)),
        "import report: {report:#}"
    );
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    assert_eq!(errors.len(), 1, "import errors: {report:#}");
    assert_eq!(errors[0]["line"], 3, "import errors: {report:#}");
    assert!(
        errors[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("phone_mobile")),
        "the reason names the column: {report:#}"
    );
    let imports = switch.http(&format!("/api/campaigns/{campaign}/imports"));
    assert_eq!(imports[0]["inserted"], 1, "imports: {imports:#}");

    // Ready first: starting the campaign pushes the record to the agent.
    login_ready(&switch);
    load_and_start(&switch, campaign);

    let s = wait_session(
        &switch,
        "a record in preview",
        Duration::from_secs(5),
        |s| s["state"] == "previewing",
    );
    let preview = s["preview"].clone();
    let rid = match preview["record"].as_i64() {
        Some(r) => r,
        None => switch.fail(&format!("preview without record id: {s:#}")),
    };
    assert_eq!(preview["campaign"], campaign, "{s:#}");
    assert_eq!(preview["name"], "Ada Lovelace", "{s:#}");
    assert_eq!(preview["external_id"], "C-1", "{s:#}");
    assert_eq!(preview["phones"][0]["number"], NUMBER, "{s:#}");
    assert_eq!(preview["phones"][0]["type"], "mobile", "{s:#}");
    assert_eq!(preview["phones"][0]["blocked"], false, "{s:#}");
    assert_eq!(
        preview["preview_mode"],
        json!({"mode": "countdown", "seconds": 2}),
        "{s:#}"
    );
    assert_eq!(preview["case_info"][0]["value"], "P-42", "{s:#}");
    assert_eq!(preview["record_info"][0]["value"], "Ada Lovelace", "{s:#}");
    assert_eq!(preview["dispositions"].as_array().map(Vec::len), Some(3));
    let dial_at = time_ms(&switch, &preview["dial_at"], "preview.dial_at");
    let expires_at = time_ms(&switch, &preview["expires_at"], "preview.expires_at");
    assert!(expires_at > dial_at, "{s:#}");
    // Reserved while previewing (asked of the ACD by the dialer, asynchronously).
    wait_acd_state(&switch, "reserved", Duration::from_secs(2));

    // The countdown dials: agent phone, then the contact; both bridged.
    let mut calls = Vec::new();
    switch.wait_for(
        "the originated call answered with two legs",
        Duration::from_secs(10),
        || {
            calls = switch.calls();
            calls.len() == 1
                && calls[0]["state"] == "answered"
                && calls[0]["legs"].as_array().is_some_and(|l| l.len() == 2)
        },
    );
    let call = &calls[0];
    assert_eq!(
        call["legs"][0]["remote"],
        peers.agent_addr(),
        "A leg: {call:#}"
    );
    assert_eq!(
        call["legs"][1]["remote"],
        peers.trunk_addr(),
        "B leg: {call:#}"
    );
    assert_eq!(call["to"], format!("sip:{NUMBER}"), "{call:#}");
    let s = wait_session(&switch, "the call connected", Duration::from_secs(3), |s| {
        s["state"] == "connected"
    });
    assert_eq!(s["number"], NUMBER, "{s:#}");
    let attempt = s["attempt"].as_i64();
    assert!(attempt.is_some(), "connected without an attempt: {s:#}");
    wait_acd_state(&switch, "busy", Duration::from_secs(2));
    // The agent heard ringback while the contact rang (1 s: about 50 packets of 20 ms),
    // in the codec the phone answered with, and it stopped when the contact answered (the
    // contact sends no RTP, so nothing more reaches the phone).
    let at_connect = sink.packets();
    assert!(
        at_connect >= 20,
        "only {at_connect} RTP packets of ringback reached the agent's phone"
    );
    assert_eq!(sink.payload_types(), BTreeSet::from([0]), "ringback codec");
    std::thread::sleep(Duration::from_secs(1));
    let after_connect = sink.packets() - at_connect;
    assert!(
        after_connect <= 10,
        "{after_connect} RTP packets reached the agent in the second after the contact \
         answered: ringback still playing?"
    );

    // The contact hangs up after 2 s; the switch releases the agent's phone.
    let contact = contact.wait();
    contact.assert_success(&switch);
    contact.assert_logged("answered", &switch);
    contact.assert_logged("hung up", &switch);
    assert_eq!(
        logged(&contact, "invite ", "ruri").as_deref(),
        Some(NUMBER),
        "the trunk gets the E.164 number as the Request-URI user\n{}",
        contact.report()
    );
    assert_eq!(logged(&contact, "invite ", "to").as_deref(), Some(NUMBER));
    let phone = phone.wait();
    phone.assert_success(&switch);
    phone.assert_logged("answered", &switch);
    phone.assert_logged("bye received", &switch);
    let call_info = logged(&phone, "autoanswer ", "call_info").unwrap_or_default();
    let alert_info = logged(&phone, "autoanswer ", "alert_info").unwrap_or_default();
    assert!(
        call_info.contains("answer-after=0"),
        "agent INVITE Call-Info {call_info:?}\n{}",
        phone.report()
    );
    assert!(
        alert_info.contains("info=alert-autoanswer"),
        "agent INVITE Alert-Info {alert_info:?}\n{}",
        phone.report()
    );
    assert_eq!(
        logged(&phone, "autoanswer ", "ruri").as_deref(),
        Some(AGENT)
    );
    assert_eq!(logged(&phone, "autoanswer ", "to").as_deref(), Some(AGENT));
    // Agent first, by causality: the phone holds its 200 for 500 ms after the INVITE
    // arrives, so a contact called only once the agent answered gets its INVITE at least
    // that long after the phone got its own. Both instants are "received" stamps of the same
    // machine's clock, 500 ms apart; a premature call would land within milliseconds.
    let agent_invite_at = trace_time(&phone.messages, "received", "INVITE ");
    let trunk_invite_at = trace_time(&contact.messages, "received", "INVITE ");
    match (trace_ms(&agent_invite_at), trace_ms(&trunk_invite_at)) {
        (Some(a), Some(t)) if t - a >= AGENT_ANSWER_DELAY_MS => {}
        _ => switch.fail(&format!(
            "agent's INVITE at {agent_invite_at:?}, contact's INVITE at {trunk_invite_at:?}: \
             the phone answers {AGENT_ANSWER_DELAY_MS} ms after its INVITE and the contact \
             must be called only after that answer\n{}\n{}",
            phone.report(),
            contact.report()
        )),
    }

    // Wrap-up: the outcome is required now.
    let s = wait_session(&switch, "wrap-up", Duration::from_secs(3), |s| {
        s["state"] == "wrapup"
    });
    assert_eq!(s["sip_status"], 200, "{s:#}");
    assert_eq!(s["attempt"].as_i64(), attempt, "{s:#}");
    wait_acd_state(&switch, "after_call_work", Duration::from_secs(2));
    switch.wait_for("the call gone", Duration::from_secs(3), || {
        switch.calls().is_empty()
    });

    let outcome = json!({
        "call_result": "success",
        "dispositions": ["sale", "upsell"],
        "notes": "Renewed for 12 months; wants the invoice by e-mail."
    });
    let after = switch.request_json(
        "POST",
        &agent_action(campaign, rid, "outcome"),
        Some(&outcome.to_string()),
        200,
    );
    assert_ne!(after["state"], "wrapup", "after the outcome: {after:#}");

    // The record is done, with one attempt that tells the whole story.
    let r = record(&switch, campaign, rid);
    assert_eq!(r["record"]["status"], "done", "{r:#}");
    assert_eq!(r["record"]["attempts"], 1, "{r:#}");
    assert_eq!(r["record"]["last_result"], "success", "{r:#}");
    let attempts = r["attempts"].as_array().cloned().unwrap_or_default();
    assert_eq!(attempts.len(), 1, "{r:#}");
    let a = &attempts[0];
    assert_eq!(a["id"].as_i64(), attempt, "{r:#}");
    assert_eq!(a["agent"], AGENT, "{r:#}");
    assert_eq!(a["number"], NUMBER, "{r:#}");
    assert_eq!(a["phone_type"], "mobile", "{r:#}");
    assert_eq!(a["sip_status"], 200, "{r:#}");
    assert_eq!(a["call_result"], "success", "{r:#}");
    assert_eq!(a["dispositions"], json!(["sale", "upsell"]), "{r:#}");
    assert_eq!(a["notes"], outcome["notes"], "{r:#}");
    assert_eq!(a["dnc"], false, "{r:#}");
    let started = time_ms(&switch, &a["started_at"], "started_at");
    let connected = time_ms(&switch, &a["connected_at"], "connected_at");
    let ended = time_ms(&switch, &a["ended_at"], "ended_at");
    // The countdown: nothing was dialled before dial_at (1 ms of rounding allowed).
    assert!(
        started + 1 >= dial_at,
        "attempt started {} ms before the countdown ended\n{r:#}",
        dial_at - started
    );
    assert!(
        started <= connected && connected <= ended,
        "attempt times out of order: {a:#}"
    );
    // The contact talked for about 2 s (its -d pause) between answer and BYE.
    assert!(
        ended - connected >= 1500,
        "talk time {} ms: {a:#}",
        ended - connected
    );

    let stats = switch.http(&format!("/api/campaigns/{campaign}/stats"));
    assert_eq!(stats["total_records"], 1, "{stats:#}");
    assert_eq!(stats["records"]["done"], 1, "{stats:#}");
    assert_eq!(stats["attempts"], 1, "{stats:#}");
    assert_eq!(stats["connected"], 1, "{stats:#}");
    assert_eq!(stats["results"]["success"], 1, "{stats:#}");
    assert_eq!(stats["agents"][AGENT]["attempts"], 1, "{stats:#}");
    assert_eq!(stats["agents"][AGENT]["connected"], 1, "{stats:#}");
    assert!(
        stats["agents"][AGENT]["talk_seconds"].as_i64() >= Some(1),
        "{stats:#}"
    );

    // The agent is Ready again; the list is used up, so the campaign completes.
    wait_acd_state(&switch, "ready", Duration::from_secs(3));
    wait_campaign_status(&switch, campaign, "completed");

    // What the desktop was told, in order.
    let want_preview = [
        "campaign_status",
        "preview",
        "dialling",
        "connected",
        "call_ended",
        "record_closed",
    ];
    let mut seen = Vec::new();
    if !e2e::wait_until(Duration::from_secs(3), || {
        seen = names(&preview_events(&stream), "event");
        in_order(&seen, &want_preview)
    }) {
        switch.fail(&format!(
            "desktop notifications {seen:?}, expected in order {want_preview:?}"
        ));
    }
    let pev = preview_events(&stream);
    let ended_ev = pev.iter().find(|e| e["event"] == "call_ended");
    assert_eq!(
        ended_ev.map(|e| e["sip_status"].clone()),
        Some(json!(200)),
        "{pev:#?}"
    );
    let closed = pev.iter().find(|e| e["event"] == "record_closed");
    assert_eq!(
        closed.map(|e| e["next"]["status"].clone()),
        Some(json!("done")),
        "{pev:#?}"
    );
    let statuses: Vec<String> = pev
        .iter()
        .filter(|e| e["event"] == "campaign_status")
        .map(|e| e["status"].as_str().unwrap_or("?").to_string())
        .collect();
    assert!(
        in_order(&statuses, &["loaded", "running"]),
        "campaign status notifications {statuses:?}"
    );
    let cev = call_events(&stream);
    let states = names(&cev, "state");
    assert_eq!(
        states,
        ["dialling", "agent_answered", "connected", "ended"],
        "call events: {cev:#?}"
    );
    assert!(
        cev.iter().all(|e| e["agent"] == AGENT
            && e["number"] == NUMBER
            && e["attempt"].as_i64() == attempt),
        "call events: {cev:#?}"
    );
    assert_eq!(cev[3]["sip_status"], 200, "call events: {cev:#?}");

    // One CDR: agent extension to the number, answered, ended by the contact.
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "from_user", AGENT);
    switch.assert_field(&cdr, "to_user", NUMBER);
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "hangup_side", "callee");
}

/// Declining a record as "do not call" closes it and puts all its numbers on the DNC list
/// (the global one: the campaign's `dnc_scope` is the default); nothing is dialled.
#[test]
fn decline_do_not_call_puts_the_numbers_on_the_dnc_list() {
    if !require("sipp") {
        return;
    }
    let peers = Peers::new();
    let switch = dialer_switch(&peers);
    let (phone, contact, sink) = spawn_peers(&peers, 1000);
    let stream = events(&switch);

    let campaign = create_campaign(&switch, json!({"mode": "manual"}));
    let report = import(
        &switch,
        campaign,
        &format!(
            "external_id,name,phone_home,phone_mobile\nN-1,Alan Turing,{HOME_NATIONAL},{NATIONAL}\n"
        ),
    );
    assert_eq!(report["inserted"], 1, "import report: {report:#}");
    for n in [NUMBER, HOME] {
        let check = switch.http(&format!("/api/dnc/{n}"));
        assert_eq!(check["dnc"], false, "before: {check:#}");
    }
    login_ready(&switch);
    load_and_start(&switch, campaign);

    let s = wait_session(
        &switch,
        "a record in preview",
        Duration::from_secs(5),
        |s| s["state"] == "previewing",
    );
    let rid = s["preview"]["record"].as_i64().unwrap_or_default();
    assert!(s["preview"]["dial_at"].is_null(), "manual mode: {s:#}");
    wait_acd_state(&switch, "reserved", Duration::from_secs(2));

    switch.request_json(
        "POST",
        &agent_action(campaign, rid, "decline"),
        Some(r#"{"decline":"do_not_call"}"#),
        200,
    );

    let r = record(&switch, campaign, rid);
    assert_eq!(r["record"]["status"], "do_not_call", "{r:#}");
    assert_eq!(r["record"]["attempts"], 0, "{r:#}");
    assert_eq!(r["attempts"], json!([]), "{r:#}");
    for n in [NUMBER, HOME] {
        let check = switch.http(&format!("/api/dnc/{n}"));
        assert_eq!(check["dnc"], true, "{n}: {check:#}");
        let entries = check["entries"].as_array().cloned().unwrap_or_default();
        assert_eq!(entries.len(), 1, "{n}: {check:#}");
        assert!(entries[0]["campaign"].is_null(), "global list: {check:#}");
        assert!(
            entries[0]["source"]
                .as_str()
                .is_some_and(|s| s.contains(AGENT)),
            "the source names the agent: {check:#}"
        );
    }
    // The national form with a country code finds it too; an unrelated number does not.
    let check = switch.http("/api/dnc/07700900123?country_code=44");
    assert_eq!(check["dnc"], true, "{check:#}");
    let check = switch.http("/api/dnc/+447700900999");
    assert_eq!(check["dnc"], false, "{check:#}");

    let mut seen = Vec::new();
    if !e2e::wait_until(Duration::from_secs(3), || {
        seen = names(&preview_events(&stream), "event");
        in_order(&seen, &["preview", "record_closed"])
    }) {
        switch.fail(&format!("desktop notifications {seen:?}"));
    }
    let pev = preview_events(&stream);
    let closed = pev.iter().find(|e| e["event"] == "record_closed");
    assert_eq!(
        closed.map(|e| e["next"]["status"].clone()),
        Some(json!("do_not_call")),
        "{pev:#?}"
    );
    wait_acd_state(&switch, "ready", Duration::from_secs(3));
    wait_campaign_status(&switch, campaign, "completed");
    let stats = switch.http(&format!("/api/campaigns/{campaign}/stats"));
    assert_eq!(stats["records"]["do_not_call"], 1, "{stats:#}");
    assert_eq!(stats["attempts"], 0, "{stats:#}");

    std::thread::sleep(Duration::from_millis(300));
    assert!(
        call_events(&stream).is_empty(),
        "{:?}",
        call_events(&stream)
    );
    assert_nothing_dialled(&switch, phone, contact, &sink);
}
