//! SDES-SRTP (RFC 4568) in the switch's own offers, with a real softphone: the preview
//! dialer places a call for an agent whose phone is baresip over TLS with
//! `mediaenc=srtp-mand` (it takes only an RTP/SAVP offer with `a=crypto` and answers 488
//! to a plain one). A countdown campaign of one record dials it: the switch's INVITE to the
//! agent's phone is its own offer (no caller's SDP to relay), and it must carry SRTP for the
//! phone to answer at all. The contact is behind a plain UDP trunk (SIPp for signalling, a
//! [`TonePeer`] for RTP):
//!
//! - the phone answers and reports "SRTP is Enabled", and decrypts all the switch sends it;
//! - the contact hears the agent's tone: the switch decrypted the agent's SRTP with the key
//!   from the phone's answer;
//! - the relay counts SRTP both ways (the contact's tone protected for the phone, the
//!   phone's voice unprotected) and no authentication failure.
//!
//! Needs `baresip` (Debian `baresip-core`, with `srtp.so`) and `sipp` (`sip-tester`).

#[path = "tls_srtp/support.rs"]
mod support;

#[path = "dialer/support.rs"]
mod dialer;

use anyhow::{ensure, Result};
use dialer::{previewing, wait_session, AGENT, QUEUE};
use e2e::baresip::Baresip;
use e2e::call::{hears, relay};
use e2e::rtp::TonePeer;
use e2e::{free_port, Sipp, Switch, SwitchConfig};
use std::time::Duration;
use support::*;

const AGENT_HZ: f64 = 660.0;
const CONTACT_HZ: f64 = 440.0;

#[test]
fn the_dialer_calls_an_srtp_agent_over_tls_with_an_srtp_offer() {
    if !(e2e::require("baresip") && e2e::require("sipp")) {
        return;
    }
    run_logged(run);
}

fn run(ctx: &mut Ctx) -> Result<()> {
    let dir = e2e::temp_dir("tls-srtp-dialer");
    let trunk_port = free_port();
    let toml = format!(
        "[[queues]]\ndn = \"{QUEUE}\"\nname = \"Outbound\"\n\
         [[agents]]\nid = \"{AGENT}\"\nname = \"Agent {AGENT}\"\nextension = \"{AGENT}\"\n\
         queues = [\"{QUEUE}\"]\n\
         [[trunks]]\nname = \"pstn\"\naddress = \"127.0.0.1:{trunk_port}\"\nprefixes = [\"+\"]\n"
    );
    let switch: &Switch = ctx.switch.insert(
        SwitchConfig::new()
            .tls()
            .user(AGENT, &format!("pass{AGENT}"))
            .extra(&toml)
            .start(),
    );
    let agent = phone(switch, &dir, AGENT, AGENT_HZ)?;
    ctx.phones.push(Baresip::start(&agent)?);
    wait_registered_over_tls(switch, &[AGENT])?;
    let contact = TonePeer::new(CONTACT_HZ);
    let contact_sipp = Sipp::scenario("uas_hold")
        .port(trunk_port)
        .key("rtp_port", &contact.port().to_string())
        .timeout(Duration::from_secs(40))
        .spawn();

    // One record, dialled after a one-second countdown.
    previewing(switch, 1, "C-1,Ada Lovelace,07700 900123");
    ctx.phones[0].wait_event("CALL_ESTABLISHED", Duration::from_secs(10))?;
    let call = wait_answered(switch, "the dialer's call")?;
    wait_session(switch, "the call connected", Duration::from_secs(10), |s| {
        s["state"] == "connected"
    });
    // The agent's phone is leg 0, the contact leg 1.
    contact.send_to(relay(&call, 1));
    let share = hears(&contact, AGENT_HZ);
    ensure!(
        share > 0.5,
        "the contact hears the SRTP agent at {share:.2}"
    );
    let (unprotected, protected) = srtp_over_two_seconds(switch);
    // 50 packets/s each way: the phone's voice in, the contact's tone out.
    ensure!(
        unprotected > 60.0 && protected > 60.0,
        "SRTP both ways: unprotected {unprotected:.0}, protected {protected:.0}"
    );
    phone_took_srtp(&ctx.phones[0])?;
    let (_, _, failures) = srtp_counts(switch);
    ensure!(failures == 0.0, "{failures} SRTP auth failures");

    let id = call["id"].as_str().unwrap_or_default();
    switch.request_json("POST", &format!("/api/calls/{id}/hangup"), None, 200);
    ctx.phones[0].wait_event("CALL_CLOSED", Duration::from_secs(10))?;
    contact_sipp.wait().assert_success(switch);
    switch.wait_for("no calls", Duration::from_secs(5), || {
        switch.calls().is_empty()
    });
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
