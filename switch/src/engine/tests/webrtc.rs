//! WebRTC legs: a browser agent registered over the WebSocket gets the queue's call as an
//! ICE-lite offer of ours, and its answer goes to the relay's peer; a browser's own
//! SAVPF offer is answered by a peer of ours in the 200 while the plain callee gets our
//! G.711 offer; a bad browser offer gets 488; a browser gone (ICE) ends the call like an
//! RTP timeout. The SDP is random-looking (ufrag, fingerprint), so attributes are checked.

use super::harness::*;
use crate::engine::{Input, Output};
use crate::orders::AcdOrder;
use crate::records::{Cause, HangupSide};
use acd::{AgentId, Dn};
use media::graph::{Endpoint, MediaEvent, RelayId};
use media::webrtc::{Certificate, Codecs, Peer};
use std::time::Instant;

/// The browser of user 1002 (its WebSocket client proves its user).
const BROWSER: std::net::SocketAddr = addr(21, 40000);

fn harness(user: &'static str) -> Harness {
    Harness::with(Opts {
        ws_users: vec![(BROWSER, user)],
        bindings: vec![("1001", ALICE), ("1002", BOB)],
        ..Opts::default()
    })
}

fn ws_request(method: &str, uri: &str, user: &str, to: &str, cseq: u32, body: &str) -> String {
    let ctype = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".to_string()
    };
    format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: SIP/2.0/WS b7q2x9.invalid;branch=z9hG4bK-{method}-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@{DOMAIN}>;tag=br{user}\r\n\
         To: {to}\r\n\
         Call-ID: br-{user}\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:{user}@b7q2x9.invalid;transport=ws>\r\n\
         {ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

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

fn assert_webrtc_offer(sdp: &str, port: u16) {
    for needle in [
        "a=ice-lite".to_string(),
        "a=fingerprint:sha-256 ".to_string(),
        "a=setup:actpass".to_string(),
        "a=rtcp-mux".to_string(),
        "UDP/TLS/RTP/SAVPF 0 8 111".to_string(),
        format!("{RELAY_IP} {port} typ host"),
    ] {
        assert!(sdp.contains(&needle), "no {needle} in\n{sdp}");
    }
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
fn a_browser_agent_gets_the_queue_call_as_an_ice_lite_offer() {
    // The agent's desk phone is not registered: only the browser rings.
    let mut h = Harness::with(Opts {
        ws_users: vec![(BROWSER, "1002")],
        bindings: vec![("1001", ALICE)],
        ..Opts::default()
    });
    register(&mut h, "1002");
    let mut a = h.call(ALICE, "1001", QUEUE, Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let events = h.acd_events();
    let [acd::Event::InteractionArrived(arrival)] = events.as_slice() else {
        panic!("expected one arrival: {events:?}");
    };
    let interaction = arrival.id.0;
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: None,
    }));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&ok);
    a.ack(&mut h, None);
    h.take_media();
    h.input(Input::Acd(AcdOrder::Offer {
        interaction,
        agent: AgentId::new("1002"),
        extension: "1002".into(),
        queue: Dn::new(QUEUE),
        queue_name: "Sales".into(),
        record: false,
    }));
    let inv = h.req(BROWSER, "INVITE");
    let offer = String::from_utf8(inv.body.clone()).unwrap();
    assert_webrtc_offer(&offer, PORT_B);
    assert_eq!(
        h.take_media(),
        ["AttachWebRtc(1/B, Pcmu { payload_type: 0 })"]
    );
    // The browser answers (non-trickle) as Chromium does.
    let mut resp = inv.response(200, None, Some("chrome"));
    resp.headers
        .push("Contact", "<sip:1002@b7q2x9.invalid;transport=ws>");
    resp.headers.push("Content-Type", "application/sdp");
    resp.body = chrome_answer(&offer).into_bytes();
    h.send_ws(BROWSER, resp.to_bytes());
    let media = h.take_media();
    assert!(
        media.contains(&"WebRtcAnswer(1/B)".to_string()),
        "{media:?}"
    );
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    h.req(BROWSER, "ACK");
    // The caller keeps the SDP it had: no re-INVITE.
    h.assert_no_req(ALICE, "INVITE");
    // The browser's media goes (ICE disconnected): like an RTP timeout.
    h.input(Input::Media(MediaEvent::WebRtcGone {
        endpoint: Endpoint::b(RelayId(1)),
    }));
    h.req(ALICE, "BYE");
    h.req(BROWSER, "BYE");
    let _ = h.drain(ALICE);
    let _ = h.drain(BROWSER);
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side),
        (Cause::NoMedia, HangupSide::Switch)
    );
}

/// A full-ICE browser's offer (gathering complete).
fn browser_offer(codecs: Codecs) -> String {
    let cert = Certificate::shared().unwrap();
    let local = "127.0.0.21:40002".parse().unwrap();
    Peer::offer_with(Instant::now(), &cert, local, codecs, false)
        .unwrap()
        .1
}

#[test]
fn a_browser_call_is_answered_by_our_peer_and_the_callee_gets_g711() {
    let mut h = harness("1001");
    let offer = browser_offer(Codecs::G711First);
    let to = format!("<sip:1002@{DOMAIN}>");
    h.send_ws(
        BROWSER,
        ws_request(
            "INVITE",
            &format!("sip:1002@{DOMAIN}"),
            "1001",
            &to,
            1,
            &offer,
        ),
    );
    let inv = h.req(BOB, "INVITE");
    let body = String::from_utf8(inv.body.clone()).unwrap();
    assert!(
        body.contains(&format!("m=audio {PORT_B} RTP/AVP 0 8 101")),
        "{body}"
    );
    assert!(!body.contains("fingerprint"), "{body}");
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let ok = h.resp_to(BROWSER, 200, "INVITE");
    let answer = String::from_utf8(ok.body.clone()).unwrap();
    for needle in [
        "a=ice-lite".to_string(),
        "a=fingerprint:".to_string(),
        "UDP/TLS/RTP/SAVPF 0".to_string(),
        format!("{RELAY_IP} {PORT_A} typ host"),
    ] {
        assert!(answer.contains(&needle), "no {needle} in\n{answer}");
    }
    let media = h.take_media();
    assert!(
        media.contains(&"AttachWebRtc(1/A, Pcmu { payload_type: 0 })".to_string()),
        "{media:?}"
    );
    assert!(
        media.contains(&format!("Connect(1/B, Some({}:{BOB_RTP}))", BOB.ip())),
        "{media:?}"
    );
    // No Connect of the browser's side to its 0.0.0.0/port-9 placeholder.
    assert!(
        !media.iter().any(|m| m.starts_with("Connect(1/A")),
        "{media:?}"
    );
    h.req(BOB, "ACK");
}

#[test]
fn a_browser_offer_we_cannot_take_gets_488() {
    let mut h = harness("1001");
    let bad = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
               m=audio 9 UDP/TLS/RTP/SAVPF 18\r\nc=IN IP4 0.0.0.0\r\n\
               a=fingerprint:sha-256 00:11\r\na=rtpmap:18 G729/8000\r\n";
    let to = format!("<sip:1002@{DOMAIN}>");
    h.send_ws(
        BROWSER,
        ws_request("INVITE", &format!("sip:1002@{DOMAIN}"), "1001", &to, 1, bad),
    );
    let refused = h.resp_to(BROWSER, 488, "INVITE");
    assert_eq!(refused.code, 488);
    h.assert_no_req(BOB, "INVITE");
    assert!(h
        .outputs
        .iter()
        .any(|o| matches!(o, Output::Cdr(c) if c.status == 488)));
}
