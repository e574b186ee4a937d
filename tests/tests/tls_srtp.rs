//! SDES-SRTP (RFC 4568, RFC 3711) on TLS legs, with real softphones: baresip over TLS with
//! `mediaenc=srtp-mand` (it offers and accepts only RTP/SAVP with `a=crypto`, and refuses
//! plain RTP), through the switch, which terminates SRTP per leg:
//!
//! 1. two SRTP phones call each other: both report "SRTP is Enabled", neither fails to
//!    decrypt a packet of ours, the relay counts SRTP both ways with no failures, and a
//!    recording of the call (the switch's decrypted audio) holds each phone's tone on its
//!    channel;
//! 2. a UDP caller (SIPp, plain RTP) calls the SRTP phone and hears its tone: the switch
//!    decrypts the phone's SRTP for it (and encrypts the caller's RTP, which the phone
//!    takes without a decryption failure);
//! 3. the SRTP phone calls a UDP callee (SIPp), who hears it;
//! 4. the SRTP phone calls a queue with no agent: the switch answers it itself with
//!    RTP/SAVP (a plain answer would be refused by `srtp-mand`) and plays the queue's music
//!    to it encrypted, which the phone decrypts.
//!
//! The relay's `switch_srtp_auth_failures_total` stays 0 throughout. That media on the TLS
//! side is encrypted is what `srtp-mand` guarantees: the phone takes no plain answer.
//!
//! Needs `baresip` (Debian `baresip-core`, with `srtp.so`) and `sipp` (`sip-tester`).

#[path = "tls_srtp/support.rs"]
mod support;

use anyhow::{ensure, Result};
use e2e::baresip::Baresip;
use e2e::call::{hears, relay};
use e2e::rtp::{tone_share, TonePeer};
use e2e::{free_port, Sipp, Switch, SwitchConfig};
use serde_json::Value;
use std::time::Duration;
use support::*;

const A_HZ: f64 = 660.0;
const B_HZ: f64 = 880.0;
const SIPP_HZ: f64 = 440.0;
/// SIPp's address: trusted, unlike the phones' 127.0.0.1.
const SIPP_IP: &str = "127.0.0.2";

#[test]
fn baresip_over_tls_with_srtp_talks_to_srtp_and_to_plain_udp() {
    if !(e2e::require("baresip") && e2e::require("sipp")) {
        return;
    }
    run_logged(run);
}

/// Records `call` for a second and a half: its two channels, the first 100 ms left out.
fn record(switch: &Switch, call: &Value) -> Result<(Vec<i16>, Vec<i16>)> {
    let id = call["id"].as_str().unwrap_or_default();
    let step = |s: &str| format!("/api/calls/{id}/recording/{s}");
    switch.request_json("POST", &step("start"), None, 200);
    std::thread::sleep(Duration::from_millis(1500));
    switch.request_json("POST", &step("stop"), None, 200);
    let mut rows = Value::Null;
    switch.wait_for("the recording's index row", Duration::from_secs(5), || {
        rows = switch.request_json("GET", "/api/recordings", None, 200);
        rows["recordings"].as_array().is_some_and(|r| !r.is_empty())
    });
    let file = switch
        .data_dir()
        .join("recordings")
        .join(rows["recordings"][0]["file"].as_str().unwrap_or_default());
    switch.wait_for("the WAV", Duration::from_secs(5), || file.exists());
    let bytes = std::fs::read(&file)?;
    ensure!(bytes.len() > 44 + 8000, "a short recording");
    // 16-bit stereo PCM after the 44-byte header, left and right interleaved.
    let samples: Vec<i16> = bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .skip(1600)
        .collect();
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    Ok((left, right))
}

fn run(ctx: &mut Ctx) -> Result<()> {
    let dir = e2e::temp_dir("tls-srtp");
    let uas_port = free_port();
    let switch: &Switch = ctx.switch.insert(
        SwitchConfig::new()
            .tls()
            .user("1001", "pass1001")
            .user("1002", "pass1002")
            .static_user("2000", &format!("sip:2000@{SIPP_IP}:{uas_port}"))
            .trusted(&[&format!("{SIPP_IP}/32")])
            .extra("[[queues]]\ndn = \"8000\"\nname = \"Sales\"\n")
            .start(),
    );
    let a = phone(switch, &dir, "1001", A_HZ)?;
    let b = phone(switch, &dir, "1002", B_HZ)?;
    ctx.phones.push(Baresip::start(&a)?);
    ctx.phones.push(Baresip::start(&b)?);
    wait_registered_over_tls(switch, &["1001", "1002"])?;

    // 1. SRTP phone to SRTP phone.
    let tls = switch.tls_addr();
    ctx.phones[0].dial(&format!("sip:1002@{tls};transport=tls"))?;
    let call = wait_answered(switch, "the SRTP call between phones")?;
    ctx.phones[0].wait_event("CALL_ESTABLISHED", Duration::from_secs(5))?;
    ctx.phones[1].wait_event("CALL_ESTABLISHED", Duration::from_secs(5))?;
    let (unprotected, protected) = srtp_over_two_seconds(switch);
    // Both phones send 50 packets/s: two seconds are about 200 each way through the relay.
    ensure!(
        unprotected > 120.0 && protected > 120.0,
        "SRTP both ways: unprotected {unprotected:.0}, protected {protected:.0}"
    );
    let (_, _, failures) = srtp_counts(switch);
    ensure!(failures == 0.0, "{failures} SRTP auth failures");
    // What the switch decrypted, recorded: the caller on the left, the callee on the right.
    let (left, right) = record(switch, &call)?;
    let (l, r) = (tone_share(&left, A_HZ), tone_share(&right, B_HZ));
    ensure!(
        l > 0.5 && r > 0.5,
        "recorded tones: caller {l:.2}, callee {r:.2}"
    );
    for p in &ctx.phones {
        phone_took_srtp(p)?;
    }
    ctx.phones[0].hangup()?;
    ctx.phones[1].wait_event("CALL_CLOSED", Duration::from_secs(10))?;
    switch.wait_for("no calls", Duration::from_secs(5), || {
        switch.calls().is_empty()
    });

    // 2. A plain UDP caller to the SRTP phone; it hears the phone's tone.
    let caller = TonePeer::new(SIPP_HZ);
    let caller_sipp = Sipp::caller_to("uac_media", switch)
        .service("1002")
        .key("rtp_port", &caller.port().to_string())
        .arg("-i")
        .arg(SIPP_IP)
        .pause_ms(4_000)
        .spawn();
    let call = wait_answered(switch, "the UDP call to the SRTP phone")?;
    ctx.phones[1].wait_event("CALL_ESTABLISHED", Duration::from_secs(5))?;
    caller.send_to(relay(&call, 0));
    let share = hears(&caller, B_HZ);
    ensure!(
        share > 0.5,
        "the UDP caller hears the SRTP phone at {share:.2}"
    );
    caller_sipp.wait().assert_success(switch);
    ctx.phones[1].wait_event("CALL_CLOSED", Duration::from_secs(10))?;
    switch.wait_for("no calls", Duration::from_secs(5), || {
        switch.calls().is_empty()
    });

    // 3. The SRTP phone to a plain UDP callee, who hears it.
    let callee = TonePeer::new(SIPP_HZ);
    let callee_sipp = Sipp::scenario("uas_hold")
        .port(uas_port)
        .key("rtp_port", &callee.port().to_string())
        .arg("-i")
        .arg(SIPP_IP)
        .spawn();
    ctx.phones[1].dial(&format!("sip:2000@{tls};transport=tls"))?;
    let call = wait_answered(switch, "the SRTP phone's call to UDP")?;
    ctx.phones[1].wait_event("CALL_ESTABLISHED", Duration::from_secs(5))?;
    callee.send_to(relay(&call, 1));
    let share = hears(&callee, B_HZ);
    ensure!(
        share > 0.5,
        "the UDP callee hears the SRTP phone at {share:.2}"
    );
    ctx.phones[1].hangup()?;
    callee_sipp.wait().assert_success(switch);
    for p in &ctx.phones {
        phone_took_srtp(p)?;
    }

    // 4. The SRTP phone calls a queue: the switch's own answer is SRTP, its music encrypted.
    ctx.phones[0].dial(&format!("sip:8000@{tls};transport=tls"))?;
    ctx.phones[0].wait_event("CALL_ESTABLISHED", Duration::from_secs(10))?;
    let (unprotected, protected) = srtp_over_two_seconds(switch);
    // The music: 50 packets/s protected for the phone; its own voice unprotected.
    ensure!(
        protected > 60.0 && unprotected > 60.0,
        "queued SRTP phone: protected {protected:.0}, unprotected {unprotected:.0}"
    );
    ctx.phones[0].hangup()?;
    switch.wait_for("no calls", Duration::from_secs(5), || {
        switch.calls().is_empty()
    });
    for p in &ctx.phones {
        phone_took_srtp(p)?;
    }
    let (_, _, failures) = srtp_counts(switch);
    ensure!(failures == 0.0, "{failures} SRTP auth failures");
    switch.assert_idle();
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
