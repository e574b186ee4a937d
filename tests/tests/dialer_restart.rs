//! The preview dialer survives `kill -9` during its calls (issue 15, item 7).
//!
//! Two agents, each with a SIPp phone; two trunks, one whose SIPp contact answers and
//! talks, one whose contact only rings. Agent 3001 declines a record (do not call) and
//! then is connected to a contact; agent 3002's call rings. The switch is killed with
//! SIGKILL and started again on the same data directory. Then:
//!
//! - what was acknowledged before the kill is still there (the decline, its DNC entry);
//! - both open attempts are closed with `switch_restarted`;
//! - the ringing call's record is callable again at once (not frozen for the 4-hour call
//!   lease), the connected one is kept for agent 3001, who finds the wrap-up when
//!   logging in again (the event stream says the call was recovered), and the outcome
//!   they post is taken (before, `not_your_record`);
//! - no record is handed to two agents: 3002 never gets 3001's record, and the two
//!   agents end up previewing different records.
//!
//! Scenarios: `uas_autoanswer` (phones), `uas_contact_bye` (answering contact),
//! `uas_ring` (ringing contact).

#[path = "dialer/support.rs"]
mod support;

use e2e::{free_port, require, EventStream, Sipp, Switch, SwitchConfig};
use serde_json::{json, Value};
use std::time::Duration;
use support::{create_campaign, import, load_and_start, RtpSink};

const FIRST: &str = "3001";
const SECOND: &str = "3002";
/// The contact that answers (national form in the CSV, E.164 on the trunk).
const ANSWERS: &str = "07700 900123";
/// The contact that only rings.
const RINGS: &str = "07700 900124";

fn switch(phones: [u16; 2], answer_trunk: u16, ring_trunk: u16) -> Switch {
    let mut toml = format!(
        "[[queues]]\ndn = \"{}\"\nname = \"Outbound\"\n\
         [[trunks]]\nname = \"answers\"\naddress = \"127.0.0.1:{answer_trunk}\"\nprefixes = [\"+447700900123\"]\n\
         [[trunks]]\nname = \"rings\"\naddress = \"127.0.0.1:{ring_trunk}\"\nprefixes = [\"+447700900124\"]\n",
        support::QUEUE
    );
    for agent in [FIRST, SECOND] {
        toml.push_str(&format!(
            "[[agents]]\nid = \"{agent}\"\nname = \"Agent {agent}\"\nextension = \"{agent}\"\nqueues = [\"{}\"]\n",
            support::QUEUE
        ));
    }
    SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user(FIRST, &format!("sip:{FIRST}@127.0.0.1:{}", phones[0]))
        .static_user(SECOND, &format!("sip:{SECOND}@127.0.0.1:{}", phones[1]))
        .extra(&toml)
        .start()
}

fn session(switch: &Switch, agent: &str) -> Value {
    switch.http(&format!("/api/agents/{agent}/session"))
}

fn wait_session(switch: &Switch, agent: &str, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
    let mut s = Value::Null;
    if !e2e::wait_until(Duration::from_secs(8), || {
        s = session(switch, agent);
        cond(&s)
    }) {
        switch.fail(&format!(
            "agent {agent}: session never showed {what}: {s:#}"
        ));
    }
    s
}

fn previewing(switch: &Switch, agent: &str) -> i64 {
    let s = wait_session(switch, agent, "a preview", |s| s["state"] == "previewing");
    s["preview"]["record"].as_i64().unwrap_or_default()
}

fn login(switch: &Switch, agent: &str) {
    let v = switch.post_json(
        &format!("/api/agents/{agent}/login"),
        Some(r#"{"state":"ready"}"#),
    );
    assert_eq!(
        v["agent"]["state"]["state"], "ready",
        "login {agent}: {v:#}"
    );
}

fn act(switch: &Switch, agent: &str, campaign: i64, record: i64, what: &str, body: &str) -> Value {
    switch.request_json(
        "POST",
        &format!("/api/agents/{agent}/campaigns/{campaign}/records/{record}/{what}"),
        Some(body),
        200,
    )
}

fn record(switch: &Switch, campaign: i64, record: i64) -> Value {
    switch.http(&format!("/api/campaigns/{campaign}/records/{record}"))
}

fn acd_state(switch: &Switch, agent: &str) -> String {
    let v = switch.http(&format!("/api/agents/{agent}"));
    v["agent"]["state"]["state"]
        .as_str()
        .unwrap_or("?")
        .to_string()
}

/// The desktop notifications of `agent` on the stream, as their `event` objects.
fn notices(stream: &EventStream, agent: &str) -> Vec<Value> {
    stream
        .events()
        .into_iter()
        .filter(|e| e["type"] == "preview" && e["agent"] == agent)
        .map(|e| e["event"].clone())
        .collect()
}

fn wait_notice(switch: &Switch, stream: &EventStream, agent: &str, event: &str) -> Value {
    let mut seen = Vec::new();
    if !e2e::wait_until(Duration::from_secs(5), || {
        seen = notices(stream, agent);
        seen.iter().any(|e| e["event"] == event)
    }) {
        switch.fail(&format!("agent {agent} was never told {event}: {seen:#?}"));
    }
    seen.into_iter()
        .find(|e| e["event"] == event)
        .unwrap_or_default()
}

#[test]
fn kill_9_during_preview_calls_recovers_the_records_at_start_up() {
    if !require("sipp") {
        return;
    }
    let phones = [free_port(), free_port()];
    let (answer_trunk, ring_trunk) = (free_port(), free_port());
    let mut switch = switch(phones, answer_trunk, ring_trunk);
    let sinks = [RtpSink::new(), RtpSink::new()];
    let _phones: Vec<_> = phones
        .iter()
        .zip(&sinks)
        .map(|(port, sink)| {
            Sipp::scenario("uas_autoanswer")
                .port(*port)
                .key("rtp_port", &sink.port().to_string())
                .timeout(Duration::from_secs(90))
                .spawn()
        })
        .collect();
    let _answers = Sipp::scenario("uas_contact_bye")
        .port(answer_trunk)
        .pause_ms(60_000)
        .timeout(Duration::from_secs(90))
        .spawn();
    let _rings = Sipp::scenario("uas_ring")
        .port(ring_trunk)
        .timeout(Duration::from_secs(90))
        .spawn();

    let campaign = create_campaign(&switch, json!({"mode": "manual"}));
    let csv = format!(
        "external_id,name,phone\n\
         K-0,Zoe Declined,020 7946 0999\n\
         K-1,Ada Answers,{ANSWERS}\n\
         K-2,Bob Rings,{RINGS}\n\
         K-3,Cy Waiting,020 7946 0321\n"
    );
    let report = import(&switch, campaign, &csv);
    assert_eq!(report["inserted"], 4, "{report:#}");
    login(&switch, FIRST);
    load_and_start(&switch, campaign);

    // Acknowledged before the kill: a decline that puts the number on the DNC list.
    let declined = previewing(&switch, FIRST);
    act(
        &switch,
        FIRST,
        campaign,
        declined,
        "decline",
        r#"{"decline":"do_not_call"}"#,
    );
    // The next record: the answering contact; connected.
    let connected = previewing(&switch, FIRST);
    assert_ne!(connected, declined);
    act(&switch, FIRST, campaign, connected, "accept", "{}");
    wait_session(&switch, FIRST, "the call connected", |s| {
        s["state"] == "connected"
    });
    // The second agent's call rings.
    login(&switch, SECOND);
    let ringing = previewing(&switch, SECOND);
    assert!(![declined, connected].contains(&ringing));
    act(&switch, SECOND, campaign, ringing, "accept", "{}");
    wait_session(&switch, SECOND, "the call dialling", |s| {
        s["state"] == "dialling"
    });
    switch.wait_for("both calls up", Duration::from_secs(5), || {
        switch.calls().len() == 2
    });
    // Give the switch a moment to write what it knows of the calls.
    e2e::wait_until(Duration::from_secs(3), || {
        !record(&switch, campaign, connected)["attempts"][0]["connected_at"].is_null()
    });
    std::thread::sleep(Duration::from_millis(500));

    switch.kill();
    switch.restart();

    // Nothing acknowledged was lost.
    let r = record(&switch, campaign, declined);
    assert_eq!(r["record"]["status"], "do_not_call", "{r:#}");
    assert_eq!(switch.http("/api/dnc/+442079460999")["dnc"], true);
    // The fourth record (the import's ids follow each other; leases go in id order).
    let untouched = (declined..declined + 4)
        .find(|id| ![declined, connected, ringing].contains(id))
        .unwrap_or_default();
    let r = record(&switch, campaign, untouched);
    assert_eq!(r["record"]["status"], "ready", "{r:#}");
    assert_eq!(r["record"]["attempts"], 0, "{r:#}");
    // The ringing call's record is callable again now, its attempt closed.
    let r = record(&switch, campaign, ringing);
    assert_eq!(
        r["record"]["status"], "ready",
        "not frozen for the call lease: {r:#}"
    );
    assert_eq!(r["record"]["last_result"], "switch_restarted", "{r:#}");
    let a = &r["attempts"][0];
    assert_eq!(a["call_result"], "switch_restarted", "{r:#}");
    assert!(
        a["connected_at"].is_null() && a["recovered_at"].is_string(),
        "{r:#}"
    );
    // The connected call's record is kept for its agent, who owes the outcome.
    let r = record(&switch, campaign, connected);
    assert_eq!(r["record"]["status"], "dialling", "{r:#}");
    assert_eq!(r["record"]["agent"], FIRST, "{r:#}");
    let a = &r["attempts"][0];
    assert_eq!(a["call_result"], "switch_restarted", "{r:#}");
    assert!(
        a["connected_at"].is_string() && a["recovered_at"].is_string(),
        "{r:#}"
    );
    let s = session(&switch, FIRST);
    assert_eq!(s["state"], "wrapup", "{s:#}");
    assert_eq!(s["preview"]["record"], connected, "{s:#}");
    assert_eq!(session(&switch, SECOND)["state"], "idle");

    // Once the snapshot is in, nothing the login below publishes is missed.
    let stream = switch.events("/api/events");
    // The second agent comes back: told their call was cut, gets a record, never the
    // first agent's.
    login(&switch, SECOND);
    let told = wait_notice(&switch, &stream, SECOND, "recovered");
    assert_eq!(told["call"]["record"], ringing, "{told:#}");
    assert_eq!(told["call"]["outcome_pending"], false, "{told:#}");
    assert_eq!(told["call"]["next"]["status"], "ready", "{told:#}");
    let second = previewing(&switch, SECOND);
    assert!([ringing, untouched].contains(&second), "{second}");

    // The first agent comes back: told, shown the wrap-up, in after-call work; the
    // outcome is taken.
    login(&switch, FIRST);
    let told = wait_notice(&switch, &stream, FIRST, "recovered");
    assert_eq!(told["call"]["record"], connected, "{told:#}");
    assert_eq!(told["call"]["outcome_pending"], true, "{told:#}");
    let ended = wait_notice(&switch, &stream, FIRST, "call_ended");
    assert_eq!(ended["record"], connected, "{ended:#}");
    switch.wait_for(
        "agent 3001 in after-call work",
        Duration::from_secs(3),
        || acd_state(&switch, FIRST) == "after_call_work",
    );
    let outcome = json!({"call_result": "success", "dispositions": ["sale"],
        "notes": "renewed; the line dropped when the switch restarted"});
    act(
        &switch,
        FIRST,
        campaign,
        connected,
        "outcome",
        &outcome.to_string(),
    );
    let r = record(&switch, campaign, connected);
    assert_eq!(r["record"]["status"], "done", "{r:#}");
    let a = &r["attempts"][0];
    assert_eq!(a["call_result"], "success", "{r:#}");
    assert_eq!(a["notes"], outcome["notes"], "{r:#}");
    assert!(a["recovered_at"].is_string(), "{r:#}");

    // Ready again: the first agent gets the other callable record, not the second's.
    let first = previewing(&switch, FIRST);
    assert!([ringing, untouched].contains(&first), "{first}");
    assert_ne!(first, second, "one record, two agents");
    let stats = switch.http(&format!("/api/campaigns/{campaign}/stats"));
    assert_eq!(stats["results"]["switch_restarted"], 1, "{stats:#}");
    assert_eq!(stats["results"]["success"], 1, "{stats:#}");
    assert_eq!(stats["records"]["leased"], 2, "{stats:#}");
}
