//! Nobody answers within `sip.invite_timeout_secs`: 480 to the caller, CANCEL to the forks.

use super::harness::*;
use crate::records::{Cause, HangupSide};

#[test]
fn ring_timeout_cancels_the_forks() {
    let mut opts = Opts::default();
    opts.bindings.push(("1002", BOB2));
    let mut h = Harness::with(opts);
    let timeout = h.engine.cx.config.sip.invite_timeout();
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv1 = h.req(BOB, "INVITE");
    let inv2 = h.req(BOB2, "INVITE");
    h.reply(BOB, &inv1, 180, "bob", None);
    h.reply(BOB2, &inv2, 180, "bob2", None);

    h.advance(timeout - secs(1));
    h.assert_no_req(BOB, "CANCEL");
    assert_eq!(
        h.count(
            ALICE,
            |m| matches!(m, sip::Message::Response(r) if r.code >= 300)
        ),
        0
    );

    h.advance(secs(1));
    let na = h.resp(ALICE, 480);
    a.ack_failure(&mut h, &na);
    for (phone, inv, tag) in [(BOB, &inv1, "bob"), (BOB2, &inv2, "bob2")] {
        let cancel = h.req(phone, "CANCEL");
        h.reply(phone, &cancel, 200, tag, None);
        h.reply(phone, inv, 487, tag, None);
    }
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side, cdr.status),
        (Cause::NoAnswer, HangupSide::Switch, 480)
    );
    assert_eq!(cdr.ring_secs, timeout.as_secs_f64());
    assert!(h.engine.is_idle());
}
