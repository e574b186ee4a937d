//! SDES-SRTP (RFC 4568) in what the switch writes itself: its own offers (an originated
//! call's INVITE to the agent's phone, a queue's to its agent, a transfer's to its target)
//! carry `RTP/SAVP` and a fresh key to TLS phones and are checked on the answer; its own
//! answers (hold, a queue) follow a phone's new keys and refuse with 488 and a Warning.

use super::harness::*;
use super::srtp_fixture::*;
use crate::engine::{Input, Origination, OriginationEvent};
use crate::orders::AcdOrder;
use media::sdp::crypto::Crypto;
use media::srtp::Suite;

fn harness(tls: &[std::net::SocketAddr]) -> Harness {
    Harness::with(Opts {
        tls_phones: tls.to_vec(),
        ..Opts::default()
    })
}

fn plain(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains(" RTP/AVP ") && !text.contains("a=crypto")
}

fn origination() -> Input {
    Input::Originate(Origination {
        agent: "agent-7".into(),
        extension: "1001".into(),
        number: "1002".into(),
        caller_id: String::new(),
        attempt: 7,
    })
}

#[test]
fn an_originated_call_offers_savp_to_a_tls_agent_and_its_savp_answer_keys_the_relay() {
    let mut h = harness(&[ALICE]);
    h.input(origination());
    let inv = h.req(ALICE, "INVITE");
    let ours = our_crypto(&inv.body);
    assert_eq!((ours.tag, ours.key.suite), (1, Suite::AesCm128HmacSha1_80));
    assert!(!String::from_utf8_lossy(&inv.body).contains(KEY));
    h.take_media();
    let answer = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendrecv");
    h.reply(ALICE, &inv, 200, "agent", Some(&answer));
    h.req(ALICE, "ACK");
    assert_eq!(
        h.reports(),
        [OriginationEvent::AgentAnswered { attempt: 7 }]
    );
    let keys = srtp_keys(&mut h);
    let [(0, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the agent's endpoint: {keys:?}");
    };
    assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY))));
    // The contact (UDP) is offered plain RTP.
    let call = h.req(BOB, "INVITE");
    assert!(plain(&call.body), "{}", String::from_utf8_lossy(&call.body));

    // Another origination gets another key.
    let mut h2 = harness(&[ALICE]);
    h2.input(origination());
    let again = our_crypto(&h2.req(ALICE, "INVITE").body);
    assert_ne!(again.key, ours.key);
}

#[test]
fn a_tls_agent_answering_plain_rtp_to_our_savp_offer_ends_the_origination_with_488() {
    let mut h = harness(&[ALICE]);
    h.input(origination());
    let inv = h.req(ALICE, "INVITE");
    our_crypto(&inv.body);
    h.reply(ALICE, &inv, 200, "agent", Some(&sdp_at(ALICE, ALICE_RTP)));
    // The phone's 2xx is ACKed and its dialog ended; the contact is never called.
    h.req(ALICE, "ACK");
    h.req(ALICE, "BYE");
    h.assert_no_req(BOB, "INVITE");
    assert_eq!(
        h.reports(),
        [OriginationEvent::Ended {
            attempt: 7,
            sip_status: 488
        }]
    );
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn a_udp_agent_is_offered_plain_rtp_by_the_dialer() {
    let mut h = Harness::new();
    h.input(origination());
    let inv = h.req(ALICE, "INVITE");
    assert!(plain(&inv.body), "{}", String::from_utf8_lossy(&inv.body));
    h.reply(ALICE, &inv, 200, "agent", Some(&sdp_at(ALICE, ALICE_RTP)));
    h.req(ALICE, "ACK");
    assert_eq!(
        h.reports(),
        [OriginationEvent::AgentAnswered { attempt: 7 }]
    );
    h.req(BOB, "INVITE");
}

/// 1001 (UDP) calls the queue and is answered by the switch; returns its interaction.
fn queued(h: &mut Harness) -> u64 {
    let mut a = h.call(ALICE, "1001", QUEUE, Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let interaction = arrival(h);
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: None,
    }));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&ok);
    a.ack(h, None);
    h.clear();
    h.take_media();
    interaction
}

fn arrival(h: &mut Harness) -> u64 {
    let events = h.acd_events();
    let [acd::Event::InteractionArrived(arrival)] = events.as_slice() else {
        panic!("expected one arrival: {events:?}");
    };
    arrival.id.0
}

#[test]
fn a_queue_offers_savp_to_a_tls_agent_and_a_plain_answer_is_a_refused_offer() {
    let mut h = harness(&[BOB]);
    let interaction = queued(&mut h);
    let offer = |h: &mut Harness| {
        h.input(Input::Acd(AcdOrder::Offer {
            interaction,
            agent: acd::AgentId::new("1002"),
            extension: "1002".into(),
            queue: acd::Dn::new(QUEUE),
            queue_name: "Sales".into(),
            record: false,
        }))
    };
    offer(&mut h);
    let inv = h.req(BOB, "INVITE");
    our_crypto(&inv.body);
    h.reply(BOB, &inv, 200, "agent", Some(&sdp_at(BOB, BOB_RTP)));
    h.req(BOB, "ACK");
    h.req(BOB, "BYE");
    let events = h.acd_events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, acd::Event::OfferRejected { .. })),
        "the agent did not take the offer: {events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, acd::Event::OfferAccepted { .. })),
        "{events:?}"
    );
    assert_eq!(h.engine.active_calls(), 1, "the caller still waits");

    // Offered again, the agent's SRTP answer bridges the call with keys for its endpoint.
    h.clear();
    offer(&mut h);
    let inv = h.req(BOB, "INVITE");
    let ours = our_crypto(&inv.body);
    h.take_media();
    let answer = savp(BOB, BOB_RTP, &[&crypto(1, KEY)], "sendrecv");
    h.reply(BOB, &inv, 200, "agent", Some(&answer));
    h.req(BOB, "ACK");
    let keys = srtp_keys(&mut h);
    let [(1, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the agent's endpoint: {keys:?}");
    };
    assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY))));
    assert!(h
        .acd_events()
        .iter()
        .any(|e| matches!(e, acd::Event::OfferAccepted { .. })));
}

#[test]
fn a_blind_transfer_to_a_tls_phone_offers_savp_and_needs_savp_back() {
    let mut h = harness(&[CAROL]);
    let (_a, mut b) = connect(&mut h, "");
    let refer = |b: &mut Dlg, h: &mut Harness| {
        b.request(
            h,
            "REFER",
            None,
            &format!("Refer-To: <sip:1003@{DOMAIN}>\r\n"),
        );
        h.resp_to(BOB, 202, "REFER");
        let trying = h.req(BOB, "NOTIFY");
        h.reply(BOB, &trying, 200, "bob", None);
    };
    refer(&mut b, &mut h);
    let inv = h.req(CAROL, "INVITE");
    our_crypto(&inv.body);
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    h.req(CAROL, "BYE");
    let failed = h.req(BOB, "NOTIFY");
    let frag = String::from_utf8_lossy(&failed.body).to_string();
    assert!(frag.starts_with("SIP/2.0 488"), "{frag}");
    h.reply(BOB, &failed, 200, "bob", None);
    h.assert_no_req(BOB, "BYE");
    h.take_media();

    // Bob tries again; Carol's phone now answers with SRTP: keys for the callee endpoint.
    refer(&mut b, &mut h);
    let inv = h.req(CAROL, "INVITE");
    let ours = our_crypto(&inv.body);
    let answer = savp(CAROL, CAROL_RTP, &[&crypto(1, KEY)], "sendrecv");
    h.reply(CAROL, &inv, 200, "carol", Some(&answer));
    h.req(CAROL, "ACK");
    let keys = srtp_keys(&mut h);
    let [(1, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the target's endpoint: {keys:?}");
    };
    assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY))));
    let done = h.req(BOB, "NOTIFY");
    assert!(String::from_utf8_lossy(&done.body).starts_with("SIP/2.0 200"));
}

/// A TLS caller (1001 with SRTP) to a UDP callee, answered and ACKed; the caller's dialog,
/// our key for it, every message and media command so far taken.
fn srtp_call(h: &mut Harness) -> (Dlg, Crypto) {
    let offer = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendrecv");
    let mut a = h.call(ALICE, "1001", "1002", Some(&offer), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let ours = our_crypto(&ok.body);
    h.req(BOB, "ACK");
    a.answered(&ok);
    a.ack(h, None);
    h.clear();
    h.take_media();
    (a, ours)
}

#[test]
fn a_hold_re_offer_with_new_keys_sends_the_new_keys_to_the_relay() {
    let mut h = harness(&[ALICE]);
    let (mut a, ours) = srtp_call(&mut h);
    let held = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY2)], "sendonly");
    a.request(&mut h, "INVITE", Some(&held), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let text = String::from_utf8_lossy(&ok.body).to_string();
    assert!(text.contains("a=recvonly"), "{text}");
    // Same tag and suite: our key stays; the phone's new key reaches the relay.
    let answer = our_crypto(&ok.body);
    assert_eq!((answer.tag, &answer.key), (1, &ours.key));
    a.ack(&mut h, None);
    let keys = srtp_keys(&mut h);
    let [(0, Some(k))] = keys.as_slice() else {
        panic!("expected new keys for the caller's endpoint: {keys:?}");
    };
    assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY2))));
    h.assert_no_req(BOB, "INVITE");

    // Retrieved with yet another tag: answered under that tag with a fresh key of ours.
    let back = savp(ALICE, ALICE_RTP, &[&crypto(5, KEY)], "sendrecv");
    a.request(&mut h, "INVITE", Some(&back), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let answer = our_crypto(&ok.body);
    assert_eq!(answer.tag, 5);
    assert_ne!(answer.key, ours.key);
    let keys = srtp_keys(&mut h);
    let [(0, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the caller's endpoint: {keys:?}");
    };
    assert_eq!((&k.tx, &k.rx), (&answer.key, &key_of(&crypto(5, KEY))));
}

#[test]
fn a_hold_re_offer_without_an_acceptable_suite_gets_488_with_a_warning() {
    let mut h = harness(&[ALICE]);
    let (mut a, _) = srtp_call(&mut h);
    let held = savp(
        ALICE,
        ALICE_RTP,
        &["1 AEAD_AES_256_GCM inline:AAAA"],
        "sendonly",
    );
    a.request(&mut h, "INVITE", Some(&held), "");
    let r = h.resp_to(ALICE, 488, "INVITE");
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(warning.starts_with("305 ccswitch "), "{warning}");
    assert!(
        warning.contains("no acceptable SRTP crypto suite"),
        "{warning}"
    );
    // Nothing changed: no music, no new keys, the call goes on.
    let media = h.take_media();
    assert!(!media.iter().any(|m| m.starts_with("Play(")), "{media:?}");
    assert!(srtp_keys(&mut h).is_empty());
    assert_eq!(h.engine.active_calls(), 1);
}

#[test]
fn a_savp_offer_to_a_queue_over_udp_gets_488_with_a_warning_not_a_plain_answer() {
    let mut h = Harness::new();
    let offer = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendrecv");
    h.call(ALICE, "1001", QUEUE, Some(&offer), "");
    let interaction = arrival(&mut h);
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: None,
    }));
    let r = h.resp_to(ALICE, 488, "INVITE");
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(warning.starts_with("305 ccswitch "), "{warning}");
    assert!(warning.contains("insecure signalling"), "{warning}");
    assert_eq!(
        h.count(
            ALICE,
            |m| matches!(m, sip::Message::Response(r) if r.code == 200)
        ),
        0
    );
    assert!(h.acd_events().iter().any(
        |e| matches!(e, acd::Event::InteractionEnded { interaction: i } if i.0 == interaction)
    ));
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn a_consultation_offers_savp_to_a_tls_phone_and_fails_on_a_plain_answer() {
    let mut h = harness(&[CAROL]);
    let (a, _b) = connect(&mut h, "");
    let consult = |h: &mut Harness| {
        h.call_op(
            &a.call_id,
            crate::engine::CallOp::Consult {
                target: "1003".into(),
            },
        )
        .expect("consultation starts");
        h.req(CAROL, "INVITE")
    };
    let inv = consult(&mut h);
    our_crypto(&inv.body);
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    h.req(CAROL, "BYE");
    let failed = h
        .outputs
        .iter()
        .find_map(|o| match o {
            crate::engine::Output::CallChanged(c) if c.change == "consult_failed" => {
                Some(c.detail.clone())
            }
            _ => None,
        })
        .expect("the consultation failed");
    assert!(
        failed.as_deref().is_some_and(|d| d.starts_with("488 ")),
        "{failed:?}"
    );
    h.outputs.clear();
    h.take_media();

    // Carol's phone answers with SRTP the second time: keys for her endpoint.
    let inv = consult(&mut h);
    let ours = our_crypto(&inv.body);
    let answer = savp(CAROL, CAROL_RTP, &[&crypto(1, KEY)], "sendrecv");
    h.reply(CAROL, &inv, 200, "carol", Some(&answer));
    h.req(CAROL, "ACK");
    let keys = srtp_keys(&mut h);
    let [(side, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the consulted party's endpoint: {keys:?}");
    };
    assert!(*side >= 2, "a consultation endpoint of its own: {side}");
    assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY))));
}

/// A browser of user 1001 (WebSocket) calls 1002 with a full-ICE WebRTC offer.
fn browser_calls_1002(h: &mut Harness, browser: std::net::SocketAddr) {
    use media::webrtc::{Certificate, Codecs, Peer};
    let cert = Certificate::shared().expect("the process certificate");
    let local = "127.0.0.21:40002".parse().expect("an address");
    let (_, offer) =
        Peer::offer_with(h.now, &cert, local, Codecs::G711First, false).expect("a browser offer");
    let text = format!(
        "INVITE sip:1002@{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/WS b7q2x9.invalid;branch=z9hG4bK-inv-1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1001@{DOMAIN}>;tag=br1001\r\nTo: <sip:1002@{DOMAIN}>\r\n\
         Call-ID: br-1001\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:1001@b7q2x9.invalid;transport=ws>\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
        offer.len()
    );
    h.send_ws(browser, text);
}

#[test]
fn a_browsers_call_to_a_tls_phone_offers_it_savp_and_a_plain_answer_is_488() {
    let browser = addr(21, 40000);
    let opts = || Opts {
        ws_users: vec![(browser, "1001")],
        bindings: vec![("1002", BOB)],
        tls_phones: vec![BOB],
        ..Opts::default()
    };
    let mut h = Harness::with(opts());
    browser_calls_1002(&mut h, browser);
    let inv = h.req(BOB, "INVITE");
    our_crypto(&inv.body);
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let r = h.resp_to(browser, 488, "INVITE");
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(warning.contains("plain RTP answer"), "{warning}");
    h.req(BOB, "ACK");
    h.req(BOB, "BYE");

    // An SRTP answer: the browser is answered by our peer, the phone's keys go to B.
    let mut h = Harness::with(opts());
    browser_calls_1002(&mut h, browser);
    let inv = h.req(BOB, "INVITE");
    let ours = our_crypto(&inv.body);
    h.take_media();
    let answer = savp(BOB, BOB_RTP, &[&crypto(1, KEY)], "sendrecv");
    h.reply(BOB, &inv, 200, "bob", Some(&answer));
    let ok = h.resp_to(browser, 200, "INVITE");
    assert!(String::from_utf8_lossy(&ok.body).contains("UDP/TLS/RTP/SAVPF"));
    let keys = srtp_keys(&mut h);
    let [(1, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the phone's endpoint: {keys:?}");
    };
    assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY))));
    h.req(BOB, "ACK");
}

#[test]
fn a_tls_contacts_srtp_early_media_keys_the_relay_and_a_plain_one_is_not_heard() {
    for srtp in [true, false] {
        let mut h = harness(&[ALICE, BOB]);
        h.input(origination());
        let inv = h.req(ALICE, "INVITE");
        let answer = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendrecv");
        h.reply(ALICE, &inv, 200, "agent", Some(&answer));
        h.req(ALICE, "ACK");
        let call = h.req(BOB, "INVITE");
        let ours = our_crypto(&call.body);
        h.take_media();
        let early = if srtp {
            savp(BOB, BOB_RTP, &[&crypto(1, KEY2)], "sendrecv")
        } else {
            sdp_at(BOB, BOB_RTP)
        };
        h.reply(BOB, &call, 183, "contact", Some(&early));
        let media: Vec<String> = h.media.iter().map(|c| format!("{c:?}")).collect();
        let keys = srtp_keys(&mut h);
        if srtp {
            let [(1, Some(k))] = keys.as_slice() else {
                panic!("expected keys for the contact's endpoint: {keys:?}");
            };
            assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY2))));
            assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
        } else {
            assert!(keys.is_empty(), "{keys:?}");
            assert!(
                !media.iter().any(|m| m.starts_with("StopPlaying")),
                "{media:?}"
            );
            // The plain 2xx is refused too: the contact is released, the agent too.
            h.reply(BOB, &call, 200, "contact", Some(&sdp_at(BOB, BOB_RTP)));
            h.req(BOB, "ACK");
            h.req(BOB, "BYE");
            h.req(ALICE, "BYE");
        }
    }
}

#[test]
fn with_srtp_offers_off_a_tls_agent_answering_plain_may_still_hold_with_savp() {
    let mut opts = Opts {
        tls_phones: vec![ALICE],
        ..Opts::default()
    };
    opts.config.sip.srtp_offer = false;
    let mut h = Harness::with(opts);
    h.input(origination());
    let inv = h.req(ALICE, "INVITE");
    assert!(plain(&inv.body), "{}", String::from_utf8_lossy(&inv.body));
    h.reply(ALICE, &inv, 200, "agent", Some(&sdp_at(ALICE, ALICE_RTP)));
    h.req(ALICE, "ACK");
    let call = h.req(BOB, "INVITE");
    h.reply(BOB, &call, 200, "contact", Some(&sdp_at(BOB, BOB_RTP)));
    h.req(BOB, "ACK");
    h.clear();
    h.take_media();
    // The agent's leg is signalled over TLS: its own SRTP offer is taken, not refused as
    // keys over clear text.
    let mut agent = Dlg::callee(ALICE, &inv, "agent");
    let held = savp(ALICE, ALICE_RTP, &[&crypto(1, KEY)], "sendonly");
    agent.request(&mut h, "INVITE", Some(&held), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let ours = our_crypto(&ok.body);
    assert_eq!(ours.tag, 1);
    let keys = srtp_keys(&mut h);
    let [(0, Some(k))] = keys.as_slice() else {
        panic!("expected keys for the agent's endpoint: {keys:?}");
    };
    assert_eq!((&k.tx, &k.rx), (&ours.key, &key_of(&crypto(1, KEY))));
}
