//! A user with two phones: both ring; the caller's CANCEL cancels both, and the first
//! answer cancels the other (or releases it when its 2xx crossed our CANCEL).

use super::harness::*;
use crate::records::{Cause, HangupSide};

fn two_phones() -> Harness {
    let mut opts = Opts::default();
    opts.bindings.push(("1002", BOB2));
    Harness::with(opts)
}

/// Alice calls 1002: both phones get the INVITE and ring. The caller's dialog and the two
/// INVITEs.
fn both_ringing(h: &mut Harness) -> (Dlg, sip::Request, sip::Request) {
    let a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv1 = h.req(BOB, "INVITE");
    let inv2 = h.req(BOB2, "INVITE");
    h.reply(BOB, &inv1, 180, "bob", None);
    h.reply(BOB2, &inv2, 180, "bob2", None);
    (a, inv1, inv2)
}

#[test]
fn caller_cancels_both_forks() {
    let mut h = two_phones();
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv1 = h.req(BOB, "INVITE");
    let inv2 = h.req(BOB2, "INVITE");
    assert_eq!(inv1.headers.call_id(), inv2.headers.call_id());
    assert_ne!(
        inv1.headers.top_via().unwrap().branch(),
        inv2.headers.top_via().unwrap().branch()
    );
    assert_relay_sdp(&inv2.headers, &inv2.body, PORT_B);
    h.reply(BOB, &inv1, 180, "bob", None);
    h.reply(BOB2, &inv2, 180, "bob2", None);
    h.resp(ALICE, 180);
    h.advance(secs(2));

    a.cancel(&mut h);
    h.resp_to(ALICE, 200, "CANCEL");
    let terminated = h.resp(ALICE, 487);
    assert_eq!(cseq_method(&terminated.headers), Some(sip::Method::Invite));
    a.ack_failure(&mut h, &terminated);
    for (phone, inv, tag) in [(BOB, &inv1, "bob"), (BOB2, &inv2, "bob2")] {
        let cancel = h.req(phone, "CANCEL");
        assert_eq!(
            cancel.headers.top_via().unwrap().branch(),
            inv.headers.top_via().unwrap().branch()
        );
        h.reply(phone, &cancel, 200, tag, None);
        h.reply(phone, inv, 487, tag, None);
        h.req(phone, "ACK");
    }
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side, cdr.status),
        (Cause::Cancelled, HangupSide::Caller, 487)
    );
    assert_eq!(cdr.answer_ms, None);
    assert_eq!(cdr.ring_secs, 2.0);
    assert!(h.engine.is_idle());
}

#[test]
fn first_answer_cancels_the_other_fork() {
    let mut h = two_phones();
    let (mut a, inv1, inv2) = both_ringing(&mut h);

    h.reply(BOB2, &inv2, 200, "bob2", Some(&sdp_at(BOB2, BOB_RTP)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    h.req(BOB2, "ACK");
    let cancel = h.req(BOB, "CANCEL");
    h.reply(BOB, &cancel, 200, "bob", None);
    h.reply(BOB, &inv1, 487, "bob", None);
    h.req(BOB, "ACK");
    h.assert_no_req(BOB, "BYE");
    a.answered(&ok);
    a.ack(&mut h, None);

    // The call is with the second phone.
    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    let bye = h.req(BOB2, "BYE");
    h.assert_no_req(BOB, "BYE");
    h.reply(BOB2, &bye, 200, "bob2", None);
    assert_eq!(h.cdr().cause, Cause::Normal);
    assert!(h.engine.is_idle());
}

#[test]
fn answer_crossing_our_cancel_is_released() {
    let mut h = two_phones();
    let (mut a, inv1, inv2) = both_ringing(&mut h);
    h.reply(BOB, &inv1, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&ok);
    a.ack(&mut h, None);
    h.req(BOB, "ACK");
    h.req(BOB2, "CANCEL");

    // The second phone answered before it saw our CANCEL: ACK its 200, then BYE it.
    h.reply(BOB2, &inv2, 200, "bob2", Some(&sdp_at(BOB2, BOB_RTP)));
    let ack = h.req(BOB2, "ACK");
    assert_eq!(tag_of(&ack.headers, "To").as_deref(), Some("bob2"));
    let bye = h.req(BOB2, "BYE");
    assert_eq!(tag_of(&bye.headers, "To").as_deref(), Some("bob2"));
    h.reply(BOB2, &bye, 200, "bob2", None);
    // The caller stays with the first phone.
    h.assert_no_req(ALICE, "BYE");
    h.assert_no_req(BOB, "BYE");
    assert_eq!(h.engine.active_calls(), 1);
}
