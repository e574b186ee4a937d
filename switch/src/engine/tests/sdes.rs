//! SDES-SRTP (RFC 4568) on TLS legs: the switch answers a TLS leg's RTP/SAVP offer with
//! its own key, offers SAVP only to TLS legs, never puts keys on UDP, and refuses with 488.

use super::harness::*;
use media::graph::MediaCommand;
use media::sdp::crypto::audio_security;
use media::srtp::Suite;

const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

/// A phone's SRTP offer with these `a=crypto` values.
fn savp(phone: std::net::SocketAddr, port: u16, cryptos: &[&str]) -> String {
    let ip = phone.ip();
    let mut s = format!(
        "v=0\r\no=phone 1 1 IN IP4 {ip}\r\ns=call\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n"
    );
    for c in cryptos {
        s.push_str(&format!("a=crypto:{c}\r\n"));
    }
    s.push_str("a=sendrecv\r\n");
    s
}

fn tls_harness(tls: &[std::net::SocketAddr]) -> Harness {
    Harness::with(Opts {
        tls_phones: tls.to_vec(),
        ..Opts::default()
    })
}

fn body(m: &[u8]) -> String {
    String::from_utf8_lossy(m).into_owned()
}

/// The SRTP keys the engine gave each side, in order: (side index, suite or None).
fn srtp_commands(h: &mut Harness) -> Vec<(u8, Option<Suite>)> {
    std::mem::take(&mut h.media)
        .into_iter()
        .filter_map(|c| match c {
            MediaCommand::Srtp { endpoint, keys } => {
                Some((endpoint.side.0, keys.map(|k| k.tx.suite)))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_tls_callers_savp_offer_is_answered_savp_with_a_fresh_key_and_the_udp_callee_gets_none() {
    let mut h = tls_harness(&[ALICE]);
    let offer = savp(
        ALICE,
        ALICE_RTP,
        &[
            "1 AEAD_AES_256_GCM inline:AAAA",
            &format!("2 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^31"),
            &format!("3 AES_CM_128_HMAC_SHA1_32 inline:{KEY}"),
        ],
    );
    let mut a = h.call(ALICE, "1001", "1002", Some(&offer), "");
    let inv = h.req(BOB, "INVITE");
    let to_bob = body(&inv.body);
    assert!(to_bob.contains("m=audio 20002 RTP/AVP 0 101"), "{to_bob}");
    assert!(!to_bob.contains("crypto"), "a key went on UDP: {to_bob}");
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let answer = body(&ok.body);
    let sec = audio_security(&answer);
    assert!(sec.savp, "{answer}");
    assert_eq!(sec.lines.len(), 1, "{answer}");
    let ours = sec.lines[0].as_ref().expect("our crypto line parses");
    assert_eq!((ours.tag, ours.key.suite), (2, Suite::AesCm128HmacSha1_80));
    assert!(!answer.contains(KEY), "our key is not the caller's");
    assert_eq!(
        srtp_commands(&mut h),
        vec![(1, None), (0, Some(Suite::AesCm128HmacSha1_80))]
    );
    a.answered(&ok);
    a.ack(&mut h, None);

    // Another call gets another key.
    let mut h2 = tls_harness(&[ALICE]);
    h2.call(ALICE, "1001", "1002", Some(&offer), "");
    let inv = h2.req(BOB, "INVITE");
    h2.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let again = body(&h2.resp_to(ALICE, 200, "INVITE").body);
    let key = |s: &str| audio_security(s).lines[0].clone().map(|c| c.key);
    assert_ne!(key(&answer), key(&again));
}

#[test]
fn a_savp_offer_over_udp_gets_488_and_reaches_nobody() {
    let mut h = Harness::new();
    let offer = savp(
        ALICE,
        ALICE_RTP,
        &[&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}")],
    );
    h.call(ALICE, "1001", "1002", Some(&offer), "");
    let r = h.resp_to(ALICE, 488, "INVITE");
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(warning.starts_with("305 "), "{warning}");
    assert!(warning.contains("insecure"), "{warning}");
    h.assert_no_req(BOB, "INVITE");
}

#[test]
fn a_tls_offer_without_an_acceptable_suite_gets_488() {
    for cryptos in [
        vec!["1 AEAD_AES_256_GCM inline:AAAA"],
        vec!["1 AES_CM_128_HMAC_SHA1_80 inline:short"],
        vec![],
    ] {
        let mut h = tls_harness(&[ALICE]);
        let offer = savp(ALICE, ALICE_RTP, &cryptos);
        h.call(ALICE, "1001", "1002", Some(&offer), "");
        let r = h.resp_to(ALICE, 488, "INVITE");
        let warning = r.headers.get("Warning").unwrap_or_default();
        assert!(
            warning.contains("no acceptable SRTP crypto suite"),
            "{warning}"
        );
        h.assert_no_req(BOB, "INVITE");
    }
}

#[test]
fn a_udp_caller_to_a_tls_callee_offers_savp_there_and_answers_plain() {
    let mut h = tls_harness(&[BOB]);
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    let to_bob = body(&inv.body);
    let sec = audio_security(&to_bob);
    assert!(sec.savp, "{to_bob}");
    let ours = sec.lines[0].clone().expect("our offer's crypto line");
    assert_eq!((ours.tag, ours.key.suite), (1, Suite::AesCm128HmacSha1_80));
    let bobs = savp(
        BOB,
        BOB_RTP,
        &[&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}")],
    );
    h.reply(BOB, &inv, 200, "bob", Some(&bobs));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let answer = body(&ok.body);
    assert!(
        answer.contains("RTP/AVP 0 101") && !answer.contains("crypto"),
        "{answer}"
    );
    assert_eq!(
        srtp_commands(&mut h),
        vec![(1, Some(Suite::AesCm128HmacSha1_80)), (0, None)]
    );
    a.answered(&ok);
    a.ack(&mut h, None);
    h.req(BOB, "ACK");
}

#[test]
fn a_tls_callee_answering_plain_rtp_to_our_savp_offer_fails_the_call_with_488() {
    let mut h = tls_harness(&[BOB]);
    h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let r = h.resp_to(ALICE, 488, "INVITE");
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(warning.contains("plain RTP answer"), "{warning}");
    // The callee's 2xx is ACKed and its dialog ended.
    h.req(BOB, "ACK");
    h.req(BOB, "BYE");
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn with_srtp_offer_off_a_tls_callee_is_offered_plain_rtp() {
    let mut opts = Opts {
        tls_phones: vec![BOB],
        ..Opts::default()
    };
    opts.config.sip.srtp_offer = false;
    let mut h = Harness::with(opts);
    h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    let to_bob = body(&inv.body);
    assert!(
        to_bob.contains("RTP/AVP") && !to_bob.contains("crypto"),
        "{to_bob}"
    );
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    h.resp_to(ALICE, 200, "INVITE");
}
