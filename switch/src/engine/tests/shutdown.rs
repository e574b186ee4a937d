//! Shutdown: every call ended (BYE to answered legs, a final answer to ringing callers and
//! CANCEL to their forks), new calls refused, idle once our requests are answered.

use super::harness::*;
use crate::engine::{Input, Output};
use crate::records::{Cause, HangupSide};

#[test]
fn shutdown_ends_every_call_and_goes_idle() {
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    // A second call, still ringing: 1003 calls 1001.
    let mut c = h.call(CAROL, "1003", "1001", Some(&sdp_at(CAROL, CAROL_RTP)), "");
    let inv = h.req(ALICE, "INVITE");
    h.reply(ALICE, &inv, 180, "alice", None);
    h.clear();

    h.input(Input::Shutdown);
    let bye_a = h.req(ALICE, "BYE");
    assert_eq!(bye_a.headers.call_id(), Some(a.call_id.as_str()));
    let bye_b = h.req(BOB, "BYE");
    let refused = h.resp(CAROL, 503);
    c.ack_failure(&mut h, &refused);
    let cancel = h.req(ALICE, "CANCEL");
    assert_eq!(h.engine.active_calls(), 0);

    // No new calls.
    let mut late = h.call(BOB, "1002", "1003", Some(&sdp_at(BOB, BOB_RTP)), "");
    let r = h.resp_to(BOB, 503, "INVITE");
    late.ack_failure(&mut h, &r);
    h.assert_no_req(CAROL, "INVITE");

    assert!(!h.engine.is_idle());
    h.reply(ALICE, &bye_a, 200, "1001-1", None);
    h.reply(BOB, &bye_b, 200, "bob", None);
    assert!(!h.engine.is_idle(), "the cancelled fork has not answered");
    h.reply(ALICE, &cancel, 200, "alice", None);
    h.reply(ALICE, &inv, 487, "alice", None);
    h.req(ALICE, "ACK");
    assert!(h.engine.is_idle());

    let cdrs: Vec<_> = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::Cdr(c) => Some((c.cause, c.hangup_side, c.status)),
            _ => None,
        })
        .collect();
    assert_eq!(cdrs.len(), 2, "{cdrs:?}");
    assert!(cdrs.contains(&(Cause::Shutdown, HangupSide::Switch, 200)));
    assert!(cdrs.contains(&(Cause::Shutdown, HangupSide::Switch, 503)));
}
