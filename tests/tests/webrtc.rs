//! WebRTC legs end to end: the switch binary, a fake browser (`webrtc/browser.rs`: SIP over
//! `ws://…/sip`, media through a full-ICE str0m peer with DTLS-SRTP) and SIPp with a tone
//! peer for the plain side.
//!
//! - A browser agent registered over WS (digest) takes a queue call from a SIPp caller: the
//!   switch's INVITE carries its ICE-lite offer; the browser answers without trickle; each
//!   side hears the other's tone; the caller hangs up; the CDR says normal clearing and no
//!   media session is left. Again with a browser that only has Opus (transcoded).
//! - The browser (registered with its desktop session, no digest) calls a SIPp UAS: the
//!   switch answers its offer in the 200 and offers G.711 to the UAS; tones both ways; the
//!   browser hangs up.
//!
//! Needs `sipp` (Debian `sip-tester`).

#[path = "webrtc/browser.rs"]
mod browser;

use browser::Browser;
use e2e::rtp::TonePeer;
use e2e::{require, Sipp, Switch, SwitchConfig};
use media::webrtc::Codecs;
use std::net::SocketAddr;
use std::time::Duration;

const CALLER_HZ: f64 = 400.0;
const BROWSER_HZ: f64 = 1000.0;
const UAS_HZ: f64 = 660.0;

/// The relay address (127.0.0.1, its port) of leg `i` of the only call, once the call has
/// `n` legs.
fn leg_relay(switch: &Switch, n: usize, i: usize) -> SocketAddr {
    let mut call = serde_json::Value::Null;
    switch.wait_for("the call's legs", Duration::from_secs(10), || {
        call = switch.calls().first().cloned().unwrap_or_default();
        call["legs"].as_array().is_some_and(|l| l.len() == n)
            && call["legs"][i]["rtp_port"].as_u64().is_some()
    });
    let port = call["legs"][i]["rtp_port"].as_u64().unwrap_or(0) as u16;
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// What `peer` heard over the last `window`: the share at `freq_hz`.
fn tone_peer_heard(peer: &TonePeer, window: Duration, freq_hz: f64) -> f64 {
    let to = std::time::Instant::now();
    peer.heard(to - window, to, freq_hz).share
}

fn assert_offer_is_webrtc(switch: &Switch, sdp: &str) {
    for needle in [
        "a=ice-lite",
        "a=fingerprint:sha-256 ",
        "a=setup:actpass",
        "a=rtcp-mux",
        "UDP/TLS/RTP/SAVPF 0 8 111",
        "typ host",
    ] {
        if !sdp.contains(needle) {
            switch.fail(&format!("the switch's WebRTC offer lacks {needle}:\n{sdp}"));
        }
    }
}

/// Waits until the fake browser's DTLS is up.
fn wait_connected(switch: &Switch, media: &media::webrtc::TestBrowser) {
    switch.wait_for(
        "ICE and DTLS with the browser",
        Duration::from_secs(10),
        || media.connected(),
    );
}

fn assert_no_media_left(switch: &Switch) {
    switch.wait_for("no live calls", Duration::from_secs(10), || {
        switch.metrics()["switch_calls_active"] == 0.0
    });
    switch.wait_for("no media sessions", Duration::from_secs(5), || {
        switch.metric("switch_media_sessions_active") == 0.0
    });
}

#[test]
fn a_browser_agent_takes_a_queue_call_with_media_both_ways() {
    queue_call_to_a_browser(Codecs::G711First);
}

/// The browser has no G.711: the switch transcodes Opus at the WebRTC side.
#[test]
fn an_opus_only_browser_agent_is_transcoded() {
    queue_call_to_a_browser(Codecs::OpusOnly);
}

fn queue_call_to_a_browser(codecs: Codecs) {
    if !require("sipp") {
        return;
    }
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("2001", "pass2001")
        .extra(
            "[[queues]]\ndn = \"8000\"\nname = \"Sales\"\n\
             [[agents]]\nid = \"2001\"\nname = \"Agent 2001\"\nextension = \"2001\"\nqueues = [\"8000\"]\n",
        )
        .start();
    let mut agent = Browser::connect(switch.http_addr(), "2001", None);
    let ok = agent.register(Some("pass2001"));
    assert_eq!(ok.code, 200, "{ok:?}");
    let v = switch.post_json("/api/agents/2001/login", Some(r#"{"state":"ready"}"#));
    assert_eq!(v["agent"]["state"]["state"], "ready", "{v}");

    let caller = TonePeer::new(CALLER_HZ);
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .service("8000")
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(5000)
        .spawn();
    let invite = agent.request("INVITE", Duration::from_secs(10));
    let offer = String::from_utf8_lossy(&invite.body).into_owned();
    assert_offer_is_webrtc(&switch, &offer);
    let media = agent.answer(&invite, BROWSER_HZ, codecs);
    let ack = agent.request("ACK", Duration::from_secs(5));
    assert_eq!(ack.method.as_str(), "ACK");
    wait_connected(&switch, &media);
    caller.send_to(leg_relay(&switch, 2, 0));
    std::thread::sleep(Duration::from_millis(2000));
    let window = Duration::from_millis(1000);
    let (at_caller_hz, frames) = media.heard(window, CALLER_HZ);
    let (at_other, _) = media.heard(window, 697.0);
    assert!(frames >= 40, "the browser got {frames} frames in 1 s");
    assert!(
        at_caller_hz > 0.5 && at_other < 0.05,
        "the browser hears the caller: {at_caller_hz:.3} at {CALLER_HZ} Hz, {at_other:.3} at 697 Hz"
    );
    let heard = tone_peer_heard(&caller, window, BROWSER_HZ);
    assert!(heard > 0.5, "the caller hears the browser: {heard:.3}");
    // The caller hangs up after its pause; the browser answers the BYE.
    let bye = agent.request("BYE", Duration::from_secs(10));
    agent.send(bye.response(200, None, None).to_bytes());
    caller_sipp.wait().assert_success(&switch);
    assert_no_media_left(&switch);
    let cdrs = switch.wait_cdrs(1, Duration::from_secs(5));
    let cdr = &cdrs[0];
    switch.assert_field(cdr, "cause", "normal");
    switch.assert_field(cdr, "hangup_side", "caller");
}

#[test]
fn a_browser_calls_a_sip_phone_and_the_switch_answers_its_offer() {
    if !require("sipp") {
        return;
    }
    let uas_port = e2e::free_port();
    let switch = SwitchConfig::new()
        .user("2001", "pass2001")
        .static_user("3000", &format!("sip:3000@127.0.0.1:{uas_port}"))
        .extra(
            "[[accounts]]\nid = \"agent1\"\nroles = [\"agent\"]\nextension = \"2001\"\npassword = \"agent-pass-2001\"\n",
        )
        .start();
    let session = switch.login("agent1", "agent-pass-2001");
    let mut phone = Browser::connect(switch.http_addr(), "2001", Some(&session.cookie));
    let ok = phone.register(None);
    assert_eq!(
        ok.code, 200,
        "the desktop session is the credential: {ok:?}"
    );
    let uas = TonePeer::new(UAS_HZ);
    let uas_sipp = Sipp::scenario("uas_hold")
        .port(uas_port)
        .key("rtp_port", &uas.port().to_string())
        .spawn();
    let (media, ok, target, to) = phone.call("3000", BROWSER_HZ);
    let answer = String::from_utf8_lossy(&ok.body).into_owned();
    for needle in ["a=ice-lite", "a=fingerprint:", "UDP/TLS/RTP/SAVPF"] {
        if !answer.contains(needle) {
            switch.fail(&format!("the switch's answer lacks {needle}:\n{answer}"));
        }
    }
    wait_connected(&switch, &media);
    uas.send_to(leg_relay(&switch, 2, 1));
    std::thread::sleep(Duration::from_millis(2000));
    let window = Duration::from_millis(1000);
    let (at_uas_hz, frames) = media.heard(window, UAS_HZ);
    assert!(frames >= 40, "the browser got {frames} frames in 1 s");
    assert!(
        at_uas_hz > 0.5,
        "the browser hears the callee: {at_uas_hz:.3}"
    );
    let heard = tone_peer_heard(&uas, window, BROWSER_HZ);
    assert!(heard > 0.5, "the callee hears the browser: {heard:.3}");
    let call_id = phone.call_id.clone();
    phone.call_request("BYE", &target, &to, 2, &call_id, None);
    let bye_ok = phone.response(Duration::from_secs(5));
    assert_eq!(bye_ok.code, 200, "{bye_ok:?}");
    uas_sipp.wait().assert_success(&switch);
    assert_no_media_left(&switch);
    let cdrs = switch.wait_cdrs(1, Duration::from_secs(5));
    switch.assert_field(&cdrs[0], "cause", "normal");
}
