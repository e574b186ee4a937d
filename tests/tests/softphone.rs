//! The browser phone with media end to end: headless Chromium (fake microphone playing a
//! 1000 Hz WAV this test writes) runs the agent desktop's softphone against the real binary;
//! SIPp callers and a SIPp UAS carry tones of their own (`TonePeer`). The agent answers a
//! queue call in the pop-up: the page hears the caller's 400 Hz (Goertzel in the page, a test
//! hook), the caller hears the browser's 1000 Hz; Mute makes it vanish; the keypad's digits
//! reach the caller as INFO dtmf-relay through the switch; Hold in the call pane gives the
//! caller music, Retrieve the tones again (both ways); the agent hangs up (the caller
//! gets the BYE). A second caller hangs up first. The agent calls 3000 from the dial pad:
//! 660 Hz in the page, 1000 Hz at the UAS. The browser part is `tests/browser/softphone.mjs`.
//!
//! Screenshots are left in `target/screenshots/softphone/`.

use e2e::page::{write_tone_wav, Page};
use e2e::rtp::TonePeer;
use e2e::{free_port, Sipp, Switch, SwitchConfig};
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
const UAS_HZ: f64 = 660.0;

/// The relay address of leg `i` of the only call, once it has `n` legs and is talking.
fn leg_relay(switch: &Switch, page: &mut Page, n: usize, i: usize) -> SocketAddr {
    page.wait("the call talking", || {
        let call = switch.calls().first().cloned().unwrap_or_default();
        call["phase"] == "talking"
            && call["legs"].as_array().is_some_and(|l| l.len() == n)
            && call["legs"][i]["rtp_port"].as_u64().is_some()
    });
    let call = switch.calls().first().cloned().unwrap_or_default();
    let port = call["legs"][i]["rtp_port"].as_u64().unwrap_or(0) as u16;
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn heard(peer: &TonePeer, freq_hz: f64) -> e2e::rtp::Heard {
    let to = Instant::now();
    peer.heard(to - Duration::from_millis(1000), to, freq_hz)
}

#[test]
fn browser_agent_answers_and_places_calls_with_media() {
    let Some((dir, chromium)) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let uas_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .static_user("3000", &format!("sip:3000@127.0.0.1:{uas_port}"))
        .extra(CONFIG)
        .start();
    let shots = e2e::workspace_root().join("target/screenshots/softphone");
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap_or_else(|e| panic!("{e}"));
    let wav = shots.join("mic-1000hz.wav");
    write_tone_wav(&wav, 48_000, 10, BROWSER_HZ)
        .unwrap_or_else(|e| panic!("{}: {e}", wav.display()));
    let mut page = Page::open(&switch, (&dir, &chromium), "softphone.mjs", &shots, &wav);
    page.wait_phone_ready("1001");

    // First call: the agent answers, mutes, keys 1 2 #, hangs up.
    let caller = TonePeer::new(CALLER_HZ);
    let first = Sipp::scenario("uac_media_info")
        .remote(switch.sip_addr())
        .service("8000")
        .caller("5550301")
        .key("rtp_port", &caller.port().to_string())
        .timeout(Duration::from_secs(90))
        .spawn();
    let relay = leg_relay(&switch, &mut page, 2, 0);
    caller.send_to(relay);
    page.at("heard");
    let h = heard(&caller, BROWSER_HZ);
    if h.share < 0.5 {
        page.die(&format!(
            "the caller should hear the browser's 1000 Hz: {h:?}"
        ));
    }
    page.go("mute");
    page.at("muted");
    std::thread::sleep(Duration::from_millis(1500));
    let m = heard(&caller, BROWSER_HZ);
    if !(m.share < 0.1 || m.rms < 100.0) {
        page.die(&format!("muted, the caller should not hear 1000 Hz: {m:?}"));
    }
    page.go("unmute");
    // Held from the call pane: the caller hears the switch's music, not the browser.
    page.at("held");
    std::thread::sleep(Duration::from_millis(1500));
    let music = heard(&caller, BROWSER_HZ);
    if !(music.rms > 200.0 && music.share < 0.05) {
        page.die(&format!("held, the caller should hear music: {music:?}"));
    }
    println!("held: the caller heard {music:?}");
    page.go("retrieve");
    page.at("retrieved");
    let back = heard(&caller, BROWSER_HZ);
    if back.share < 0.5 {
        page.die(&format!(
            "retrieved, the caller should hear 1000 Hz again: {back:?}"
        ));
    }
    page.go("hangup");
    page.at("hung-up");
    let result = first.wait();
    result.assert_success(&switch);
    for d in ["1", "2", "#"] {
        let line = format!("INFO Signal={d}");
        assert!(
            result.logs.lines().any(|l| l.trim() == line),
            "the caller should get {line}: {}",
            result.logs
        );
    }

    // Second call: the caller hangs up after 3 s of talk.
    page.wait("Ready again", || switch.agent_state("1001") == "ready");
    let caller2 = TonePeer::new(CALLER_HZ);
    let second = Sipp::scenario("uac_media")
        .remote(switch.sip_addr())
        .service("8000")
        .caller("5550302")
        .key("rtp_port", &caller2.port().to_string())
        .pause_ms(3000)
        .timeout(Duration::from_secs(90))
        .spawn();
    second.wait().assert_success(&switch);

    // The agent calls 3000 from the dial pad.
    let uas = TonePeer::new(UAS_HZ);
    let uas_sipp = Sipp::scenario("uas_hold")
        .port(uas_port)
        .key("rtp_port", &uas.port().to_string())
        .timeout(Duration::from_secs(60))
        .spawn();
    page.wait("the outgoing call", || {
        switch
            .calls()
            .first()
            .is_some_and(|c| c["phase"] == "talking")
    });
    let relay = leg_relay(&switch, &mut page, 2, 1);
    uas.send_to(relay);
    page.at("out-talking");
    let h = heard(&uas, BROWSER_HZ);
    if h.share < 0.5 {
        page.die(&format!("3000 should hear the browser's 1000 Hz: {h:?}"));
    }
    page.go("out-hangup");
    uas_sipp.wait().assert_success(&switch);

    let status = page.node.wait().unwrap_or_else(|e| panic!("node: {e}"));
    let out = e2e::child_output(&mut page.node);
    if !status.success() {
        switch.fail(&format!("the browser script failed\n{out}"));
    }
    let last = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(last).unwrap_or_default();
    assert_eq!(v["ok"], true, "{out}");
    println!("browser: {last}");
    assert!(
        switch.wait_until(Duration::from_secs(10), || switch.calls().is_empty()),
        "{:#?}",
        switch.calls()
    );
}
