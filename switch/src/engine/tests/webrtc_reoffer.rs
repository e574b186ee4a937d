//! Re-offers in a call with a browser (WebRTC) leg, which the switch answers itself: a
//! TLS phone's SDES-SRTP re-offer across a browser call gets our own answer (its new keys
//! to the relay, an unacceptable suite 488 with a Warning), and a browser the switch
//! called that holds and retrieves gets our offer back as an answer, with the DTLS role we
//! took (`a=setup:active` or `passive`, never `actpass`).

use super::harness::*;
use super::srtp_fixture::*;
use media::sdp::crypto::parse_crypto;
use sip::{Request, Response};

/// The browser of user 1002 (its WebSocket client proves its user).
const BROWSER: std::net::SocketAddr = addr(21, 40000);

/// 1001 is a phone at ALICE (over TLS when `alice_tls`); 1002 only a browser.
fn harness(alice_tls: bool) -> Harness {
    let mut h = Harness::with(Opts {
        ws_users: vec![(BROWSER, "1002")],
        bindings: vec![("1001", ALICE)],
        tls_phones: if alice_tls { vec![ALICE] } else { Vec::new() },
        ..Opts::default()
    });
    let text = format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/WS b7q2x9.invalid;branch=z9hG4bK-reg-1002\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1002@{DOMAIN}>;tag=r1002\r\nTo: <sip:1002@{DOMAIN}>\r\n\
         Call-ID: reg-1002\r\nCSeq: 1 REGISTER\r\n\
         Contact: <sip:1002@b7q2x9.invalid;transport=ws>;expires=600\r\n\
         Content-Length: 0\r\n\r\n"
    );
    h.send_ws(BROWSER, text);
    h.resp(BROWSER, 200);
    h
}

/// Chromium's answer to our offer (captured), its mid put to the offer's and its
/// `a=setup` to `setup`.
fn chrome_answer(offer: &str, setup: &str) -> String {
    let mid = offer
        .lines()
        .find_map(|l| l.trim().strip_prefix("a=mid:"))
        .unwrap_or("0");
    include_str!("../../../../media/src/webrtc/chrome_answer.sdp")
        .replace("BKK", mid)
        .replace("a=setup:active", &format!("a=setup:{setup}"))
}

/// 1001 at ALICE calls 1002, whose browser answers with `a=setup:{setup}`; both ACKed.
/// Returns ALICE's dialog, our INVITE to the browser, the browser's 200 and the caller's.
fn browser_call(h: &mut Harness, offer: &str, setup: &str) -> (Dlg, Request, Response, Response) {
    let mut a = h.call(ALICE, "1001", "1002", Some(offer), "");
    let inv = h.req(BROWSER, "INVITE");
    let ours = String::from_utf8(inv.body.clone()).expect("utf-8 offer");
    assert!(ours.contains("a=setup:actpass"), "{ours}");
    let mut ok = inv.response(200, None, Some("chrome"));
    ok.headers
        .push("Contact", "<sip:1002@b7q2x9.invalid;transport=ws>");
    ok.headers.push("Content-Type", "application/sdp");
    ok.body = chrome_answer(&ours, setup).into_bytes();
    h.send_ws(BROWSER, ok.to_bytes());
    let to_alice = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&to_alice);
    a.ack(h, None);
    h.req(BROWSER, "ACK");
    h.clear();
    h.take_media();
    (a, inv, ok, to_alice)
}

#[test]
fn a_tls_phones_srtp_re_offer_across_a_browser_call_gets_our_srtp_answer() {
    let mut h = harness(true);
    let offer = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendrecv");
    let (mut a, _, _, ok) = browser_call(&mut h, &offer, "active");
    let ours = our_crypto(&ok.body);

    // New keys, same tag and suite: our key stays, the phone's new one reaches the relay.
    let again = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY2)], "sendrecv");
    a.request(&mut h, "INVITE", Some(&again), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let answer = our_crypto(&ok.body);
    assert_eq!((answer.tag, &answer.key), (1, &ours.key));
    let text = String::from_utf8_lossy(&ok.body).to_string();
    assert!(text.contains("a=sendrecv"), "{text}");
    assert!(
        text.contains(&format!("m=audio {PORT_A} RTP/SAVP ")),
        "{text}"
    );
    a.ack(&mut h, None);
    let keys = srtp_keys(&mut h);
    let [(0, Some(k))] = keys.as_slice() else {
        panic!("expected new keys for the caller's endpoint: {keys:?}");
    };
    let theirs = parse_crypto(&crypto(1, KEY2)).expect("test key").key;
    assert_eq!((&k.tx, &k.rx), (&ours.key, &theirs));
    // The browser is not asked anything.
    h.assert_no_req(BROWSER, "INVITE");

    // Another tag: answered under it, with a fresh key of ours.
    let other = savp(ALICE, ALICE_RTP, &[&crypto(4, KEY)], "sendrecv");
    a.request(&mut h, "INVITE", Some(&other), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let answer = our_crypto(&ok.body);
    assert_eq!(answer.tag, 4);
    assert_ne!(answer.key, ours.key);
    a.ack(&mut h, None);
    let keys = srtp_keys(&mut h);
    let [(0, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the caller's endpoint: {keys:?}");
    };
    assert_eq!(&k.tx, &answer.key);
    assert_eq!(h.engine.active_calls(), 1);
}

#[test]
fn an_unacceptable_srtp_re_offer_across_a_browser_call_gets_488_with_a_warning() {
    let mut h = harness(true);
    let offer = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendrecv");
    let (mut a, _, _, _) = browser_call(&mut h, &offer, "active");
    // A new address too: a refused offer changes nothing.
    let bad = savp(ALICE, 4100, &["1 AEAD_AES_256_GCM inline:AAAA"], "sendrecv");
    a.request(&mut h, "INVITE", Some(&bad), "");
    let r = h.resp_to(ALICE, 488, "INVITE");
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(warning.starts_with("305 ccswitch "), "{warning}");
    assert!(
        warning.contains("no acceptable SRTP crypto suite"),
        "{warning}"
    );
    let media = h.take_media();
    assert!(
        !media.iter().any(|m| m.starts_with("Connect(1/A")),
        "{media:?}"
    );
    assert!(srtp_keys(&mut h).is_empty());
    h.assert_no_req(BROWSER, "INVITE");
    assert_eq!(h.engine.active_calls(), 1);
}

#[test]
fn a_plain_udp_phones_srtp_re_offer_across_a_browser_call_is_refused_as_clear_text() {
    let mut h = harness(false);
    let (mut a, _, _, ok) = browser_call(&mut h, &sdp_at(ALICE, ALICE_RTP), "active");
    assert!(!String::from_utf8_lossy(&ok.body).contains("a=crypto"));
    let keyed = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendrecv");
    a.request(&mut h, "INVITE", Some(&keyed), "");
    let r = h.resp_to(ALICE, 488, "INVITE");
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(warning.contains("insecure signalling"), "{warning}");
    assert!(srtp_keys(&mut h).is_empty());
}

/// The browser's re-INVITE (its dialog with us as callee) with `body`, CSeq `cseq`.
fn browser_reinvite(h: &mut Harness, inv: &Request, cseq: u32, body: &str) {
    let from = inv.headers.get("From").expect("From");
    let to = inv.headers.get("To").expect("To");
    let call_id = inv.headers.call_id().expect("Call-ID");
    let uri = inv.headers.contacts().expect("Contact")[0].uri.to_string();
    let text = format!(
        "INVITE {uri} SIP/2.0\r\n\
         Via: SIP/2.0/WS b7q2x9.invalid;branch=z9hG4bK-re-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: {to};tag=chrome\r\n\
         To: {from}\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} INVITE\r\n\
         Contact: <sip:1002@b7q2x9.invalid;transport=ws>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    h.send_ws(BROWSER, text);
}

/// The browser's re-offer: its answer restated as an offer (`actpass`, a new version)
/// with direction `dir`.
fn browser_reoffer(answer: &[u8], version: u32, dir: &str) -> String {
    let text = String::from_utf8_lossy(answer);
    text.lines()
        .map(|l| {
            if l.starts_with("a=setup:") {
                "a=setup:actpass".to_string()
            } else if l == "a=sendrecv" {
                format!("a={dir}")
            } else if let Some(rest) = l.strip_prefix("o=- 1663365177288741543 ") {
                format!("o=- 1663365177288741543 {version}{}", &rest[1..])
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\r\n")
        .collect()
}

fn attr_lines<'a>(sdp: &'a str, prefix: &str) -> Vec<&'a str> {
    sdp.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// A browser we called holds and retrieves; our answers restate our offer with the
/// DTLS role its answer gave us: `ours` for its `a=setup:{theirs}`.
fn browser_holds_and_retrieves(theirs: &str, ours: &str) {
    let mut h = harness(false);
    let (_a, inv, ok, _) = browser_call(&mut h, &sdp_at(ALICE, ALICE_RTP), theirs);
    let offer = String::from_utf8(inv.body.clone()).expect("utf-8 offer");

    browser_reinvite(&mut h, &inv, 1, &browser_reoffer(&ok.body, 3, "sendonly"));
    let held = h.resp_to(BROWSER, 200, "INVITE");
    let text = String::from_utf8(held.body.clone()).expect("utf-8 answer");
    assert_eq!(
        attr_lines(&text, "a=setup:"),
        [format!("a=setup:{ours}")],
        "{text}"
    );
    assert!(
        text.contains("a=recvonly") && !text.contains("a=sendrecv"),
        "{text}"
    );
    // Still our WebRTC description: its transport, fingerprint and ICE credentials.
    for prefix in ["m=audio ", "a=fingerprint:", "a=ice-ufrag:", "a=ice-pwd:"] {
        assert_eq!(
            attr_lines(&text, prefix),
            attr_lines(&offer, prefix),
            "{prefix} in\n{text}"
        );
    }
    assert!(text.contains("UDP/TLS/RTP/SAVPF"), "{text}");
    assert!(!text.contains("a=crypto"), "{text}");
    let media = h.take_media();
    assert!(media.iter().any(|m| m.starts_with("Play(1/A")), "{media:?}");
    // The browser's endpoint is its ICE peer's: nothing connects it from signalling.
    assert!(
        !media.iter().any(|m| m.starts_with("Connect(1/B")),
        "{media:?}"
    );
    h.assert_no_req(ALICE, "INVITE");

    browser_reinvite(&mut h, &inv, 2, &browser_reoffer(&ok.body, 4, "sendrecv"));
    let back = h.resp_to(BROWSER, 200, "INVITE");
    let text = String::from_utf8(back.body.clone()).expect("utf-8 answer");
    assert_eq!(
        attr_lines(&text, "a=setup:"),
        [format!("a=setup:{ours}")],
        "{text}"
    );
    assert!(text.contains("a=sendrecv"), "{text}");
    let media = h.take_media();
    assert!(
        media.iter().any(|m| m.starts_with("StopPlaying(1/A")),
        "{media:?}"
    );
    assert!(
        !media.iter().any(|m| m.starts_with("Connect(1/B")),
        "{media:?}"
    );
    assert_eq!(h.engine.active_calls(), 1);
}

#[test]
fn a_browser_we_called_that_holds_gets_our_offer_back_as_passive_when_it_is_active() {
    browser_holds_and_retrieves("active", "passive");
}

#[test]
fn a_browser_we_called_that_holds_gets_our_offer_back_as_active_when_it_is_passive() {
    browser_holds_and_retrieves("passive", "active");
}
