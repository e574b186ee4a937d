//! What the switch refuses to dial when a preview record's countdown ends, whatever the
//! desktop or the flow decided before: a number put on the DNC list, a calling window the
//! manager closed, a number the dialplan denies the agent's role. Nothing reaches SIP
//! (neither SIPp gets an INVITE, no RTP, no call, no CDR) and the desktop or the record
//! says why.
//!
//! - `dnc_added_during_countdown_is_refused_at_origination`
//! - `calling_window_closed_during_countdown_is_not_dialled`, and its companion
//!   `..._releases_the_record_without_an_attempt` (the record goes back with no attempt)
//! - `a_number_the_dialplan_denies_the_agent_is_never_dialled`: `[auth.dialing.agent]`
//!   denies the contact's prefix; the attempt ends 403.
//!
//! Scenarios and helpers as in `dialer.rs`.

#[path = "dialer/support.rs"]
mod support;

use e2e::{require, EventStream, SippProcess, Switch};
use serde_json::json;
use std::time::Duration;
use support::*;

/// A number put on the DNC list while its record is on the agent's screen is not dialled
/// when the countdown ends: neither SIPp gets an INVITE, the desktop is told why, and the
/// record stays with the agent (a forced call is refused too).
#[test]
fn dnc_added_during_countdown_is_refused_at_origination() {
    if !require("sipp") {
        return;
    }
    let peers = Peers::new();
    let switch = dialer_switch(&peers);
    let (phone, contact, sink) = spawn_peers(&peers, 1000);
    let stream = events(&switch);

    let (campaign, s) = previewing(&switch, 3, &format!("D-1,Grace Hopper,{NATIONAL}"));
    let rid = s["preview"]["record"].as_i64().unwrap_or_default();
    let dial_at = time_ms(&switch, &s["preview"]["dial_at"], "preview.dial_at");
    assert_eq!(s["preview"]["phones"][0]["blocked"], false, "{s:#}");

    // The manager adds the number (national form with a country code) to the DNC list.
    let added = switch.request_json(
        "POST",
        "/api/dnc",
        Some(&json!({"number": NATIONAL, "country_code": "44"}).to_string()),
        201,
    );
    assert_eq!(
        (added["number"].as_str(), added["added"].as_bool()),
        (Some(NUMBER), Some(true)),
        "{added:#}"
    );
    let margin = dial_at - now_ms();
    if margin < 200 {
        switch.fail(&format!(
            "the DNC entry was added only {margin} ms before the countdown ended: the test \
             cannot tell origination from preview (machine too slow?)"
        ));
    }
    let check = switch.http(&format!("/api/dnc/{NUMBER}"));
    assert_eq!(check["dnc"], true, "{check:#}");

    // The countdown ends: the dial is refused and the desktop says so.
    let wait = Duration::from_millis(u64::try_from(margin).unwrap_or(0) + 4000);
    let refused = stream.wait_for(wait, |e| {
        e["type"] == "preview" && e["event"]["event"] == "dial_refused"
    });
    let Some(refused) = refused else {
        switch.fail(&format!(
            "no dial_refused notification; desktop got {:?}; session {:#}",
            names(&preview_events(&stream), "event"),
            session(&switch)
        ));
    };
    assert_eq!(refused["event"]["record"], rid, "{refused:#}");
    assert!(
        refused["event"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains(NUMBER) && r.contains("do-not-call")),
        "refusal reason: {refused:#}"
    );
    // The record is back on screen, its number shown blocked, no countdown running.
    let s = wait_session(&switch, "the preview back", Duration::from_secs(2), |s| {
        s["state"] == "previewing" && s["preview"]["phones"][0]["blocked"] == true
    });
    assert!(s["preview"]["dial_at"].is_null(), "{s:#}");
    assert!(s["attempt"].is_null(), "{s:#}");
    assert_eq!(acd_state(&switch), "reserved");

    // Clicking call on it is refused as well.
    let r = switch.request(
        "POST",
        &agent_action(campaign, rid, "call"),
        Some(r#"{"phone":0}"#),
    );
    assert_eq!(r.status, 409, "forced call: {}", r.body);
    assert!(r.body.contains("\"dnc\""), "forced call: {}", r.body);

    // Nothing reached SIP: no call, no CDR, neither SIPp saw a message.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        call_events(&stream).is_empty(),
        "{:?}",
        call_events(&stream)
    );
    assert_nothing_dialled(&switch, phone, contact, &sink);
    let r = record(&switch, campaign, rid);
    assert_eq!(r["record"]["status"], "leased", "{r:#}");
    assert_eq!(r["record"]["attempts"], 0, "{r:#}");
    assert_eq!(r["attempts"], json!([]), "{r:#}");

    // The agent lets it go for later; the agent is free again.
    switch.request_json(
        "POST",
        &agent_action(campaign, rid, "decline"),
        Some(r#"{"decline":"call_later"}"#),
        200,
    );
    let r = record(&switch, campaign, rid);
    assert_eq!(r["record"]["status"], "ready", "{r:#}");
    assert!(r["record"]["retry_at"].is_string(), "{r:#}");
    wait_acd_state(&switch, "ready", Duration::from_secs(3));
}

/// How long the window tests wait, beyond the 2 s [`window_closed_during_countdown`] gives
/// the countdown, for the desktop to be told what became of the dial (a loaded machine may
/// be slow to say it; the 2 s are what must pass without any call).
const TOLD_WAIT: Duration = Duration::from_secs(5);

/// What the window tests share: a record in preview with a 3 s countdown, whose
/// campaign's calling window the manager then closes (PATCH) before the countdown ends;
/// returned once the countdown has had 2 s more to act.
struct ClosedWindow {
    switch: Switch,
    stream: EventStream,
    phone: SippProcess,
    contact: SippProcess,
    sink: RtpSink,
    campaign: i64,
    rid: i64,
}

fn window_closed_during_countdown() -> ClosedWindow {
    let peers = Peers::new();
    let switch = dialer_switch(&peers);
    let (phone, contact, sink) = spawn_peers(&peers, 1000);
    let stream = events(&switch);
    let (campaign, s) = previewing(&switch, 3, &format!("W-1,Katherine Johnson,{NATIONAL}"));
    let rid = s["preview"]["record"].as_i64().unwrap_or_default();
    let dial_at = time_ms(&switch, &s["preview"]["dial_at"], "preview.dial_at");

    // A one-minute window hours away from now in London (UTC+0 or +1).
    let utc_hour = (now_ms() / 3_600_000) % 24;
    let window = if (10..14).contains(&utc_hour) {
        json!({"start": "00:00", "end": "00:01"})
    } else {
        json!({"start": "12:00", "end": "12:01"})
    };
    let c = switch.request_json(
        "PATCH",
        &format!("/api/campaigns/{campaign}"),
        Some(&json!({ "window": window }).to_string()),
        200,
    );
    assert_eq!(c["window"]["start"], window["start"], "{c:#}");
    let margin = dial_at - now_ms();
    if margin < 200 {
        switch.fail(&format!(
            "the window was closed only {margin} ms before the countdown ended (machine too slow?)"
        ));
    }
    std::thread::sleep(Duration::from_millis(
        u64::try_from(margin).unwrap_or(0) + 2000,
    ));
    ClosedWindow {
        switch,
        stream,
        phone,
        contact,
        sink,
        campaign,
        rid,
    }
}

/// The calling window is enforced at origination: a window closed (by the manager) while
/// the record is previewed means nothing is dialled when the countdown ends, and the
/// desktop hears that the call did not happen.
#[test]
fn calling_window_closed_during_countdown_is_not_dialled() {
    if !require("sipp") {
        return;
    }
    let w = window_closed_during_countdown();
    let switch = &w.switch;
    // The desktop is told: a refused dial, or a call that ended without connecting.
    let told = w.stream.wait_for(TOLD_WAIT, |e| {
        let (ty, e) = (&e["type"], &e["event"]);
        ty == "preview"
            && e["record"] == w.rid
            && (e["event"] == "dial_refused"
                || (e["event"] == "call_ended" && e["sip_status"] != 200))
    });
    let pev = preview_events(&w.stream);
    assert!(
        told.is_some(),
        "desktop notifications: {:?}",
        names(&pev, "event")
    );
    assert!(!pev.iter().any(|e| e["event"] == "connected"), "{pev:#?}");
    let r = record(switch, w.campaign, w.rid);
    assert!(
        r["attempts"]
            .as_array()
            .is_some_and(|a| a.iter().all(|a| a["connected_at"].is_null())),
        "{r:#}"
    );
    assert_ne!(r["record"]["status"], "done", "{r:#}");
    assert!(
        call_events(&w.stream).is_empty(),
        "{:?}",
        call_events(&w.stream)
    );
    assert_nothing_dialled(switch, w.phone, w.contact, &w.sink);
}

/// The preview flow's own rule for a closed window at dial time (`auto_dial`:
/// `DialRefused`, the record back in the list until the window opens, the agent Ready)
/// should apply when the manager closed the window during the preview, as it does when the
/// clock closes it: no attempt is written and the record goes back until the window opens.
#[test]
fn calling_window_closed_during_countdown_releases_the_record_without_an_attempt() {
    if !require("sipp") {
        return;
    }
    let w = window_closed_during_countdown();
    let switch = &w.switch;
    let refused = w
        .stream
        .wait_for(TOLD_WAIT, |e| {
            e["type"] == "preview"
                && e["event"]["event"] == "dial_refused"
                && e["event"]["record"] == w.rid
        })
        .map(|e| e["event"].clone());
    let refused = refused.as_ref();
    let pev = preview_events(&w.stream);
    assert!(
        refused.is_some_and(|e| e["reason"]
            .as_str()
            .is_some_and(|r| r.contains("calling window"))),
        "expected dial_refused (outside the calling window); desktop got {pev:#?}\nsession {:#}",
        session(switch)
    );
    assert!(
        !pev.iter()
            .any(|e| e["event"] == "dialling" || e["event"] == "call_ended"),
        "no call may be reported: {:?}",
        names(&pev, "event")
    );
    let r = record(switch, w.campaign, w.rid);
    assert_eq!(r["record"]["status"], "ready", "{r:#}");
    assert_eq!(r["record"]["attempts"], 0, "{r:#}");
    assert_eq!(r["attempts"], json!([]), "{r:#}");
    let retry_at = time_ms(switch, &r["record"]["retry_at"], "retry_at");
    assert!(retry_at > now_ms(), "put off until the window opens: {r:#}");
    assert_ne!(session(switch)["state"], "wrapup");
    wait_acd_state(switch, "ready", Duration::from_secs(2));
}

#[test]
fn a_number_the_dialplan_denies_the_agent_is_never_dialled() {
    if !require("sipp") {
        return;
    }
    let peers = Peers::new();
    let switch = dialer_switch_with(&peers, "[auth.dialing.agent]\ndeny = [\"+44\"]\n");
    let (phone, contact, sink) = spawn_peers(&peers, 1000);
    let (campaign, s) = previewing(&switch, 1, &format!("P-1,Alan Turing,{NATIONAL}"));
    let rid = s["preview"]["record"].as_i64().unwrap_or_default();
    // The countdown ends; the switch refuses the number for the agent's role.
    let refused = switch.wait_until(Duration::from_secs(6), || {
        record(&switch, campaign, rid)["attempts"][0]["sip_status"] == 403
    });
    if !refused {
        switch.fail(&format!(
            "no attempt ended 403: {:#}",
            record(&switch, campaign, rid)
        ));
    }
    assert!(
        switch
            .log()
            .contains("the dialplan does not allow this number"),
        "the log says why"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_nothing_dialled(&switch, phone, contact, &sink);
}
