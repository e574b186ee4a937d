//! A plain call between two users: routing, the fork with our SDP, answer, BYE from either
//! side, and the CDR.

use super::harness::*;
use crate::engine::Output;
use crate::records::{Cause, HangupSide};

#[test]
fn call_answered_and_hung_up_by_caller() {
    let mut h = Harness::new();
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    h.resp(ALICE, 100);
    let media = h.take_media();
    assert_eq!(media[0], "Allocate(1)");
    // The caller's media address goes to the relay's A endpoint.
    assert!(media.contains(&format!("Connect(1/A, Some({}:{ALICE_RTP}))", ALICE.ip())));

    // The fork: to 1002's binding, our own dialog, our B endpoint in the SDP.
    let inv = h.req(BOB, "INVITE");
    assert_eq!(inv.uri.to_string(), format!("sip:1002@{BOB}"));
    let call_id = inv.headers.call_id().unwrap().to_string();
    assert!(call_id.starts_with("ccs00-"), "{call_id}");
    assert_ne!(call_id, a.call_id);
    assert!(inv.headers.get("From").unwrap().contains("sip:1001@"));
    assert!(inv.headers.get("To").unwrap().contains("sip:1002@"));
    assert_eq!(tag_of(&inv.headers, "To"), None);
    assert_ne!(tag_of(&inv.headers, "From").as_deref(), Some("1001-1"));
    assert_eq!(inv.headers.get("Max-Forwards"), Some("69"));
    assert!(inv
        .headers
        .get("Via")
        .unwrap()
        .contains(&SWITCH.to_string()));
    assert_relay_sdp(&inv.headers, &inv.body, PORT_B);

    h.reply(BOB, &inv, 180, "bob", None);
    let ringing = h.resp(ALICE, 180);
    let a_tag = tag_of(&ringing.headers, "To").expect("180 with a To tag");
    assert_eq!(ringing.headers.call_id(), Some(a.call_id.as_str()));

    h.advance(secs(3));
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_eq!(tag_of(&ok.headers, "To"), Some(a_tag));
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    assert!(ok
        .headers
        .get("Contact")
        .unwrap()
        .contains(&SWITCH.to_string()));
    assert!(h
        .take_media()
        .contains(&format!("Connect(1/B, Some({}:{BOB_RTP}))", BOB.ip())));
    // Our ACK of the callee's 200, in its dialog.
    let ack = h.req(BOB, "ACK");
    assert_eq!(cseq_num(&ack.headers), 1);
    assert_eq!(tag_of(&ack.headers, "To").as_deref(), Some("bob"));
    assert_eq!(ack.uri.to_string(), format!("sip:1002@{BOB}"));
    a.answered(&ok);
    a.ack(&mut h, None);
    assert_eq!(h.engine.active_calls(), 1);

    h.advance(secs(30));
    h.clear();
    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    let bye = h.req(BOB, "BYE");
    assert_eq!(bye.headers.call_id(), Some(call_id.as_str()));
    assert_eq!(cseq_num(&bye.headers), 2);
    assert_eq!(h.engine.active_calls(), 0);
    assert!(!h.engine.is_idle(), "our BYE waits for its answer");
    h.reply(BOB, &bye, 200, "bob", None);
    assert!(h.engine.is_idle());

    let cdr = h.cdr();
    assert_eq!(cdr.cause, Cause::Normal);
    assert_eq!(cdr.hangup_side, HangupSide::Caller);
    assert_eq!(cdr.status, 200);
    assert_eq!(cdr.call_id, a.call_id);
    assert_eq!(
        (cdr.from_user.as_str(), cdr.to_user.as_str()),
        ("1001", "1002")
    );
    assert_eq!(cdr.start_ms, 1_700_000_000_000);
    assert_eq!(cdr.answer_ms, Some(1_700_000_003_000));
    assert_eq!(cdr.end_ms, 1_700_000_033_000);
    assert_eq!(cdr.ring_secs, 3.0);
    assert_eq!(cdr.talk_secs, 30.0);
    assert!(h.take_media().contains(&"Release(1)".to_string()));
    let counters = h.engine.counters();
    assert_eq!(
        (
            counters.calls_started,
            counters.calls_answered,
            counters.calls_ended
        ),
        (1, 1, 1)
    );
}

#[test]
fn callee_hangs_up() {
    let mut h = Harness::new();
    let (mut a, mut b) = connect(&mut h, "");
    h.advance(secs(12));
    b.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    let bye = h.req(ALICE, "BYE");
    // The caller's dialog: our tag in From, the caller's in To, its Contact as the URI.
    assert_eq!(bye.headers.call_id(), Some(a.call_id.as_str()));
    assert_eq!(tag_of(&bye.headers, "To").as_deref(), Some("1001-1"));
    assert_eq!(bye.uri.to_string(), format!("sip:1001@{ALICE}"));
    assert_eq!(cseq_num(&bye.headers), 1);
    h.reply(ALICE, &bye, 200, "1001-1", None);
    assert!(h.engine.is_idle());
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side),
        (Cause::Normal, HangupSide::Callee)
    );
    assert_eq!(cdr.talk_secs, 12.0);
    // The dialogs are gone: another BYE gets 481.
    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 481, "BYE");
}

#[test]
fn unknown_and_unregistered_users() {
    let mut opts = Opts::default();
    opts.bindings.retain(|(u, _)| *u != "1003");
    let mut h = Harness::with(opts);
    let mut a = h.call(ALICE, "1001", "1003", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let r = h.resp(ALICE, 480);
    a.ack_failure(&mut h, &r);
    let mut a = h.call(ALICE, "1001", "4242", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let r = h.resp(ALICE, 404);
    a.ack_failure(&mut h, &r);
    assert!(h.media.is_empty(), "no relay for a call that is not routed");
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn untrusted_caller_is_challenged() {
    let mut opts = Opts::default();
    opts.config.sip.trusted.clear();
    let mut h = Harness::with(opts);
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let r = h.resp(ALICE, 407);
    assert!(r
        .headers
        .get("Proxy-Authenticate")
        .unwrap()
        .starts_with("Digest"));
    a.ack_failure(&mut h, &r);
    h.assert_no_req(BOB, "INVITE");
    assert!(!h.outputs.iter().any(|o| matches!(o, Output::Cdr(_))));
}

#[test]
fn callee_busy_is_relayed() {
    let mut h = Harness::new();
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 486, "bob", None);
    // The transaction layer ACKs the callee's failure.
    let ack = h.req(BOB, "ACK");
    assert_eq!(tag_of(&ack.headers, "To").as_deref(), Some("bob"));
    let busy = h.resp(ALICE, 486);
    a.ack_failure(&mut h, &busy);
    let cdr = h.cdr();
    assert_eq!((cdr.cause, cdr.status), (Cause::Busy, 486));
    assert!(h.engine.is_idle());
}

#[test]
fn retransmitted_invite_forks_once() {
    let mut h = Harness::new();
    h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    h.req(BOB, "INVITE");
    h.resend();
    h.assert_no_req(BOB, "INVITE");
    assert_eq!(h.engine.active_calls(), 1);
    assert_eq!(
        h.take_media()
            .iter()
            .filter(|m| m.starts_with("Allocate"))
            .count(),
        1
    );
}

#[test]
fn caller_bye_before_the_answer_cancels_the_fork() {
    let mut h = Harness::new();
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 180, "bob", None);
    // A BYE in the early dialog (RFC 3261 §15: the caller may instead of CANCEL).
    let ringing = h.resp(ALICE, 180);
    a.remote = ringing.headers.get("To").unwrap().to_string();
    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    let terminated = h.resp_to(ALICE, 487, "INVITE");
    a.ack_failure(&mut h, &terminated);
    let cancel = h.req(BOB, "CANCEL");
    h.reply(BOB, &cancel, 200, "bob", None);
    h.reply(BOB, &inv, 487, "bob", None);
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side),
        (Cause::Cancelled, HangupSide::Caller)
    );
    assert!(h.engine.is_idle());
}

#[test]
fn unacked_answer_ends_the_call() {
    let mut h = Harness::new();
    h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    h.resp_to(ALICE, 200, "INVITE");
    h.req(BOB, "ACK");
    // The 200 is repeated until ACKed (RFC 3261 §13.3.1.4), then the call is given up.
    h.advance(secs(2));
    assert!(
        h.count(
            ALICE,
            |m| matches!(m, sip::Message::Response(r) if r.code == 200)
        ) >= 2
    );
    h.assert_no_req(BOB, "BYE");
    h.advance(secs(40));
    let bye_a = h.req(ALICE, "BYE");
    let bye_b = h.req(BOB, "BYE");
    h.reply(ALICE, &bye_a, 200, "1001-1", None);
    h.reply(BOB, &bye_b, 200, "bob", None);
    assert_eq!(h.cdr().cause, Cause::Failed);
    assert!(h.engine.is_idle());
}

#[test]
fn no_media_ports_is_503() {
    let mut h = Harness::new();
    h.allocate = false;
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    assert_eq!(h.take_media(), ["Allocate(1)"]);
    h.input(crate::engine::Input::Media(
        media::graph::MediaEvent::AllocationFailed {
            relay: media::graph::RelayId(1),
        },
    ));
    let r = h.resp(ALICE, 503);
    assert_eq!(r.reason, "No Media Ports");
    a.ack_failure(&mut h, &r);
    h.assert_no_req(BOB, "INVITE");
    assert_eq!(h.cdr().cause, Cause::Failed);
}

/// Each leg's telephone-event payload type goes to the relay, which renumbers events
/// between legs that number them differently (a caller on 96, the callee on 101).
#[test]
fn each_leg_tells_the_relay_its_telephone_event_number() {
    let mut h = Harness::new();
    let offer = sdp_at(ALICE, ALICE_RTP)
        .replace(" 101", " 96")
        .replace(":101 ", ":96 ");
    let _a = h.call(ALICE, "1001", "1002", Some(&offer), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let media = h.take_media();
    assert!(
        media.contains(&"Events(1/A, Some(96))".to_string()),
        "{media:?}"
    );
    assert!(
        media.contains(&"Events(1/B, Some(101))".to_string()),
        "{media:?}"
    );
}
