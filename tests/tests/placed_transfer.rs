//! A call the switch placed for an agent (click-to-call, as the preview dialer places
//! them) handed on by the agent over REST, with media checked: each phone (SIPp for
//! signalling, a [`TonePeer`] for RTP) sends its own tone, and what each receives says whom
//! it hears.

use e2e::rtp::TonePeer;
use e2e::{free_port, require, Sipp, Switch, SwitchConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const AGENT_HZ: f64 = 1900.0;
const CONTACT_HZ: f64 = 700.0;
const TARGET_HZ: f64 = 1300.0;

/// The call's id and the relay address facing each of its listed legs, once it has
/// `n` legs with their ports and is answered.
fn relays(switch: &Switch, n: usize) -> (String, Vec<SocketAddr>) {
    let mut call = Value::Null;
    switch.wait_for("the call's legs", Duration::from_secs(8), || {
        call = switch.calls().first().cloned().unwrap_or_default();
        call["state"] == "answered"
            && call["legs"].as_array().is_some_and(|l| {
                l.len() == n && l.iter().all(|leg| leg["rtp_port"].as_u64().is_some())
            })
    });
    let ports = call["legs"]
        .as_array()
        .map(|legs| {
            legs.iter()
                .map(|l| {
                    SocketAddr::from(([127, 0, 0, 1], l["rtp_port"].as_u64().unwrap_or(0) as u16))
                })
                .collect()
        })
        .unwrap_or_default();
    (call["id"].as_str().unwrap_or_default().to_string(), ports)
}

/// The share of `freq` in what `peer` hears over the next `window`.
fn hears(peer: &TonePeer, window: Duration, freq: f64) -> f64 {
    let from = Instant::now();
    std::thread::sleep(window);
    peer.heard(from, Instant::now(), freq).share
}

#[test]
fn the_agent_of_a_placed_call_transfers_the_contact_over_rest() {
    if !require("sipp") {
        return;
    }
    let (agent_port, contact_port, target_port) = (free_port(), free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{agent_port}"))
        .static_user("3000", &format!("sip:3000@127.0.0.1:{contact_port}"))
        .static_user("4000", &format!("sip:4000@127.0.0.1:{target_port}"))
        .start();
    let events = switch.events("/api/events");
    let (agent, contact, target) = (
        TonePeer::new(AGENT_HZ),
        TonePeer::new(CONTACT_HZ),
        TonePeer::new(TARGET_HZ),
    );
    let phones: Vec<e2e::SippProcess> = [
        (agent_port, &agent),
        (contact_port, &contact),
        (target_port, &target),
    ]
    .into_iter()
    .map(|(port, peer)| {
        Sipp::scenario("uas_hold")
            .port(port)
            .key("rtp_port", &peer.port().to_string())
            .spawn()
    })
    .collect();
    switch.request_json(
        "POST",
        "/api/calls",
        Some(r#"{"extension":"2000","number":"3000"}"#),
        202,
    );
    // The agent's phone first (leg 0), then the contact (leg 1).
    let (id, legs) = relays(&switch, 2);
    agent.send_to(legs[0]);
    contact.send_to(legs[1]);
    std::thread::sleep(Duration::from_millis(300));
    let before = hears(&contact, Duration::from_millis(800), AGENT_HZ);
    assert!(before > 0.5, "the contact hears the agent: {before}");

    switch.request_json(
        "POST",
        &format!("/api/calls/{id}/transfer"),
        Some(r#"{"target":"4000"}"#),
        202,
    );
    if events
        .wait_for(Duration::from_secs(5), |e| {
            e["change"] == "transferred" && e["call"]["id"] == id.as_str()
        })
        .is_none()
    {
        switch.fail("no transferred event");
    }
    let mut phones = phones.into_iter();
    if let Some(agent_phone) = phones.next() {
        // Our BYE ended the agent's part.
        agent_phone.wait().assert_success(&switch);
    }
    agent.stop_sending();
    // The call keeps its id; the contact is its first party now, the target the other.
    let (same, legs) = relays(&switch, 2);
    assert_eq!(same, id);
    let call = switch.calls().first().cloned().unwrap_or_default();
    assert_eq!(call["legs"][0]["party"], "3000", "{call:#}");
    assert_eq!(call["legs"][1]["party"], "4000", "{call:#}");
    target.send_to(legs[1]);
    std::thread::sleep(Duration::from_millis(400));
    let contact_hears = hears(&contact, Duration::from_millis(800), TARGET_HZ);
    assert!(
        contact_hears > 0.5,
        "the contact hears the target: {contact_hears}"
    );
    let target_hears = hears(&target, Duration::from_millis(800), CONTACT_HZ);
    assert!(
        target_hears > 0.5,
        "the target hears the contact: {target_hears}"
    );

    switch.request_json("POST", &format!("/api/calls/{id}/hangup"), None, 200);
    for phone in phones {
        phone.wait().assert_success(&switch);
    }
    // Two leg pairs of one story: the agent's with the contact, then the contact's with
    // the target.
    let mut cdrs = Vec::new();
    switch.wait_for("both CDRs", Duration::from_secs(5), || {
        cdrs = switch.http("/api/cdrs")["cdrs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        cdrs.len() == 2
    });
    assert_eq!(cdrs[0]["session_id"], cdrs[1]["session_id"], "{cdrs:#?}");
    switch.assert_idle();
}
