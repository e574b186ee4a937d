//! Consult and transfer from the agent desktop with the browser phone, end to end: headless
//! Chromium (fake microphone playing 1000 Hz) runs the desktop's softphone against the real
//! binary; SIPp callers to queue 8000 and 1003 (a SIPp UAS) carry tones of their own
//! (`TonePeer`). The agent answers in the pop-up, presses Transfer to 1003: the browser's
//! leg ends and the caller talks to 1003, each hearing the other's tone. A second caller:
//! Consult 1003 (the caller hears music, 1003 hears the browser), then Complete transfer
//! (the caller and 1003 hear each other, the browser's leg is gone). The browser part is
//! `tests/browser/softphone_transfer.mjs`.
//!
//! Screenshots are left in `target/screenshots/softphone_transfer/`.

use e2e::page::{write_tone_wav, Page};
use e2e::rtp::{Heard, TonePeer};
use e2e::{free_port, Sipp, SippProcess, Switch, SwitchConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const CONFIG: &str = r#"
[[queues]]
dn = "8000"
name = "Sales"
offer_timeout_secs = 20
[[agents]]
id = "1001"
name = "Dana Agent"
extension = "1001"
queues = ["8000"]
[[accounts]]
id = "1001"
roles = ["agent"]
agent = "1001"
extension = "1001"
"#;

const CALLER_HZ: f64 = 400.0;
const BROWSER_HZ: f64 = 1000.0;
const TARGET_HZ: f64 = 660.0;

/// `peer` hears `freq_hz` over the last second (at least half its energy).
fn expect_hears(page: &mut Page, peer: &TonePeer, freq_hz: f64, who: &str) -> Heard {
    std::thread::sleep(Duration::from_millis(1500));
    let h = heard(peer, freq_hz);
    if h.share < 0.5 {
        page.die(&format!("{who} should hear {freq_hz} Hz: {h:?}"));
    }
    println!("{who} heard {freq_hz} Hz: {h:?}");
    h
}

fn legs(call: &Value) -> Vec<Value> {
    call["legs"].as_array().cloned().unwrap_or_default()
}

/// Where the switch takes the RTP of `leg`.
fn relay(leg: &Value) -> Option<SocketAddr> {
    let port = u16::try_from(leg["rtp_port"].as_u64()?).ok()?;
    Some(SocketAddr::from(([127, 0, 0, 1], port)))
}

/// Where the switch takes the RTP of the leg whose party is `party`.
fn relay_of(call: &Value, party: &str) -> Option<SocketAddr> {
    relay(legs(call).iter().find(|l| l["party"] == party)?)
}

/// Where the switch takes the caller's RTP (the call's first leg).
fn caller_relay(call: &Value) -> Option<SocketAddr> {
    relay(legs(call).first()?)
}

fn heard(peer: &TonePeer, freq_hz: f64) -> Heard {
    let to = Instant::now();
    peer.heard(to - Duration::from_millis(1000), to, freq_hz)
}

/// A caller to the queue with its media at `peer`, hanging up after `ms` of talk.
fn caller(switch: &Switch, from: &str, peer: &TonePeer, ms: u64) -> SippProcess {
    Sipp::scenario("uac_media")
        .remote(switch.sip_addr())
        .service("8000")
        .caller(from)
        .key("rtp_port", &peer.port().to_string())
        .pause_ms(ms)
        .timeout(Duration::from_secs(120))
        .spawn()
}

/// The caller talks to 1003 and only to it: two legs, no agent, each hearing the other.
fn expect_handed_over(page: &mut Page, caller: &TonePeer, target: &TonePeer, from: &str) {
    let call = page.call_where(&format!("{from} talking to 1003"), |c| {
        c["phase"] == "talking"
            && legs(c).len() == 2
            && legs(c).iter().any(|l| l["party"] == "1003")
            && c["agent"].is_null()
    });
    assert!(
        !legs(&call).iter().any(|l| l["party"] == "1001"),
        "the browser's leg should be gone: {call:#}"
    );
    let Some(relay) = relay_of(&call, "1003") else {
        page.die(&format!("1003's leg has no relay: {call:#}"));
    };
    target.send_to(relay);
    expect_hears(page, caller, TARGET_HZ, from);
    expect_hears(page, target, CALLER_HZ, "1003");
}

#[test]
fn browser_agent_transfers_and_consults() {
    let Some((dir, chromium)) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let target_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .static_user("1003", &format!("sip:1003@127.0.0.1:{target_port}"))
        .extra(CONFIG)
        .start();
    let shots = e2e::workspace_root().join("target/screenshots/softphone_transfer");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap_or_else(|e| panic!("{e}"));
    let wav = shots.join("mic-1000hz.wav");
    write_tone_wav(&wav, 48_000, 10, BROWSER_HZ)
        .unwrap_or_else(|e| panic!("{}: {e}", wav.display()));
    // 1003 answers both calls (the transferred one, then the consultation) and waits for
    // the BYE; its media is one tone peer.
    let target = TonePeer::new(TARGET_HZ);
    let target_sipp = Sipp::scenario("uas_hold")
        .port(target_port)
        .calls(2)
        .key("rtp_port", &target.port().to_string())
        .timeout(Duration::from_secs(150))
        .spawn();
    let mut page = Page::open(
        &switch,
        (&dir, &chromium),
        "softphone_transfer.mjs",
        &shots,
        &wav,
    );
    page.wait_phone_ready("1001");

    // Blind transfer.
    let events = switch.events("/api/events");
    let first_peer = TonePeer::new(CALLER_HZ);
    let first = caller(&switch, "5550401", &first_peer, 30_000);
    // The offer names the queue: the agent, in no team, has no snapshot of it.
    let offer = events.wait_for(Duration::from_secs(40), |e| {
        e["type"] == "offer" && e["agent"] == "1001"
    });
    let offer = offer.unwrap_or_else(|| page.die("no offer event"));
    assert_eq!(offer["queue"], "8000", "{offer}");
    assert_eq!(offer["queue_name"], "Sales", "{offer}");
    page.at("talking");
    let call = page.call_where("the browser's call talking", |c| {
        c["phase"] == "talking" && legs(c).len() == 2 && c["agent"] == "1001"
    });
    let Some(relay) = caller_relay(&call) else {
        page.die(&format!("the caller's leg has no relay: {call:#}"));
    };
    first_peer.send_to(relay);
    expect_hears(
        &mut page,
        &first_peer,
        BROWSER_HZ,
        "5550401 (before the transfer)",
    );
    page.go("transfer");
    page.at("transferred");
    expect_handed_over(&mut page, &first_peer, &target, "5550401");
    first.wait().assert_success(&switch);
    first_peer.stop_sending();
    target.stop_sending();

    // Consult, then complete the transfer.
    page.wait("Ready again", || switch.agent_state("1001") == "ready");
    let second_peer = TonePeer::new(CALLER_HZ);
    let second = caller(&switch, "5550402", &second_peer, 40_000);
    page.at("talking2");
    let call = page.call_where("the second call talking", |c| {
        c["phase"] == "talking" && legs(c).len() == 2 && c["agent"] == "1001"
    });
    let Some(relay) = caller_relay(&call) else {
        page.die(&format!("the caller's leg has no relay: {call:#}"));
    };
    second_peer.send_to(relay);
    page.go("consult");
    page.at("consulting");
    let call = page.call_where("1003 consulted", |c| {
        c["phase"] == "consulting" && legs(c).iter().any(|l| l["party"] == "1003")
    });
    let Some(relay) = relay_of(&call, "1003") else {
        page.die(&format!("1003's leg has no relay: {call:#}"));
    };
    target.send_to(relay);
    // 1003 hears the agent's browser; the caller waits on music, hearing neither.
    expect_hears(&mut page, &target, BROWSER_HZ, "1003 (consulted)");
    let music = heard(&second_peer, BROWSER_HZ);
    let music_target = heard(&second_peer, TARGET_HZ);
    if !(music.rms > 200.0 && music.share < 0.05 && music_target.share < 0.05) {
        page.die(&format!(
            "consulting, the caller should hear music: {music:?} {music_target:?}"
        ));
    }
    page.go("complete");
    page.at("completed");
    expect_handed_over(&mut page, &second_peer, &target, "5550402");
    second.wait().assert_success(&switch);

    let status = page.node.wait().unwrap_or_else(|e| panic!("node: {e}"));
    let out = e2e::child_output(&mut page.node);
    if !status.success() {
        switch.fail(&format!("the browser script failed\n{out}"));
    }
    let last = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    let v: Value = serde_json::from_str(last).unwrap_or_default();
    assert_eq!(v["ok"], true, "{out}");
    target_sipp.wait().assert_success(&switch);
    assert!(
        switch.wait_until(Duration::from_secs(10), || switch.calls().is_empty()),
        "{:#?}",
        switch.calls()
    );
}
