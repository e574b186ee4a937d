//! A call the switch places for an agent whose phone is the desktop's browser (registered
//! over the WebSocket): the agent's leg gets our ICE-lite WebRTC offer, as a queue's call
//! to a browser agent does, and the browser's answer goes to the relay's peer before the
//! contact is called with plain RTP.

use super::harness::*;
use crate::engine::{Input, Origination, OriginationEvent};

/// The browser of user 1001 (its WebSocket client proves its user).
const BROWSER: std::net::SocketAddr = addr(21, 40000);

fn register(h: &mut Harness, user: &str) {
    let contact = format!("<sip:{user}@b7q2x9.invalid;transport=ws>;expires=600");
    let text = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/WS b7q2x9.invalid;branch=z9hG4bK-reg-{user}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@{DOMAIN}>;tag=r{user}\r\nTo: <sip:{user}@{DOMAIN}>\r\n\
         Call-ID: reg-{user}\r\nCSeq: 1 REGISTER\r\nContact: {contact}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    h.send_ws(BROWSER, text);
    h.resp(BROWSER, 200);
}

/// Chromium's answer (captured), its mid put to the offer's.
fn chrome_answer(offer: &str) -> String {
    let mid = offer
        .lines()
        .find_map(|l| l.trim().strip_prefix("a=mid:"))
        .unwrap_or("0");
    include_str!("../../../../media/src/webrtc/chrome_answer.sdp").replace("BKK", mid)
}

#[test]
fn the_dialer_offers_webrtc_to_a_browser_agent_and_its_answer_goes_to_the_peer() {
    let mut h = Harness::with(Opts {
        ws_users: vec![(BROWSER, "1001")],
        bindings: vec![("1002", BOB)],
        ..Opts::default()
    });
    register(&mut h, "1001");
    h.input(Input::Originate(Origination {
        agent: "agent-7".into(),
        extension: "1001".into(),
        number: "1002".into(),
        caller_id: String::new(),
        attempt: 7,
    }));
    let inv = h.req(BROWSER, "INVITE");
    assert!(inv
        .headers
        .get("Call-Info")
        .is_some_and(|v| v.contains("answer-after=0")));
    let offer = String::from_utf8_lossy(&inv.body).to_string();
    for needle in [
        "a=ice-lite".to_string(),
        "a=fingerprint:sha-256 ".to_string(),
        "UDP/TLS/RTP/SAVPF ".to_string(),
        format!("{RELAY_IP} {PORT_A} typ host"),
    ] {
        assert!(offer.contains(&needle), "no {needle} in\n{offer}");
    }
    let media = h.take_media();
    assert!(
        media.contains(&"AttachWebRtc(1/A, Pcmu { payload_type: 0 })".to_string()),
        "{media:?}"
    );
    let mut resp = inv.response(200, None, Some("chrome"));
    resp.headers
        .push("Contact", "<sip:1001@b7q2x9.invalid;transport=ws>");
    resp.headers.push("Content-Type", "application/sdp");
    resp.body = chrome_answer(&offer).into_bytes();
    h.send_ws(BROWSER, resp.to_bytes());
    h.req(BROWSER, "ACK");
    let media = h.take_media();
    assert!(
        media.contains(&"WebRtcAnswer(1/A)".to_string()),
        "{media:?}"
    );
    assert!(
        !media.iter().any(|m| m.starts_with("DetachWebRtc")),
        "{media:?}"
    );
    assert_eq!(
        h.reports(),
        [OriginationEvent::AgentAnswered { attempt: 7 }]
    );
    // The contact is offered plain G.711 on the other endpoint.
    let call = h.req(BOB, "INVITE");
    assert_relay_sdp(&call.headers, &call.body, PORT_B);
    h.reply(BOB, &call, 200, "contact", Some(&sdp_at(BOB, BOB_RTP)));
    h.req(BOB, "ACK");
    assert_eq!(h.reports(), [OriginationEvent::Connected { attempt: 7 }]);
}
