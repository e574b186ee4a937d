//! The locator: an INVITE whose Replaces names a dialog of another shard is forwarded
//! there, and so is everything after it in its Call-ID; the owning shard answers an unknown
//! Replaces with 481.

use super::harness::*;
use crate::engine::{Input, Output};

fn shard(n: u8) -> Harness {
    Harness::with(Opts {
        shard: n,
        shards: 2,
        ..Opts::default()
    })
}

const OF_SHARD_1: &str = "Replaces: ccs01-00000000000000aa;to-tag=a;from-tag=b\r\n";

fn forwarded(h: &mut Harness) -> (usize, sip::Message, sip::transaction::Target) {
    h.take_output("forward", |o| match o {
        Output::Forward { shard, msg, source } => Some((*shard, msg.clone(), *source)),
        _ => None,
    })
}

#[test]
fn replaces_of_another_shard_is_forwarded_with_its_call_id() {
    let mut h0 = shard(0);
    let mut a = h0.call(
        ALICE,
        "1001",
        "1002",
        Some(&sdp_at(ALICE, ALICE_RTP)),
        OF_SHARD_1,
    );
    let (to, msg, source) = forwarded(&mut h0);
    assert_eq!(to, 1);
    assert_eq!(source, udp(ALICE));
    assert!(matches!(&msg, sip::Message::Request(r) if r.method == sip::Method::Invite));
    // Not handled here: no 100 Trying, no relay, no fork.
    assert!(h0.sent.is_empty());
    assert!(h0.media.is_empty());

    // What follows in that Call-ID goes the same way.
    a.cancel(&mut h0);
    let (to, cancel, _) = forwarded(&mut h0);
    assert_eq!(to, 1);
    assert!(matches!(&cancel, sip::Message::Request(r) if r.method == sip::Method::Cancel));
    assert!(h0.sent.is_empty());

    // Other calls stay here.
    h0.call(BOB, "1002", "1003", Some(&sdp_at(BOB, BOB_RTP)), "");
    h0.req(CAROL, "INVITE");
    assert!(!h0
        .outputs
        .iter()
        .any(|o| matches!(o, Output::Forward { .. })));

    // The owning shard knows no such dialog.
    let mut h1 = shard(1);
    h1.input(Input::Message { msg, source });
    let r = h1.resp(ALICE, 481);
    assert_eq!(r.reason, "Replaced Dialog Not Found");
    assert!(h1
        .outputs
        .iter()
        .all(|o| !matches!(o, Output::Forward { .. })));
    h1.input(Input::Message {
        msg: cancel,
        source,
    });
    assert!(h1
        .outputs
        .iter()
        .all(|o| !matches!(o, Output::Forward { .. })));
}

#[test]
fn replaces_of_this_shard_unknown_is_481() {
    let mut h0 = shard(0);
    let mut a = h0.call(
        ALICE,
        "1001",
        "1002",
        Some(&sdp_at(ALICE, ALICE_RTP)),
        "Replaces: ccs00-00000000000000aa;to-tag=a;from-tag=b\r\n",
    );
    let r = h0.resp(ALICE, 481);
    a.ack_failure(&mut h0, &r);
    assert!(h0.outputs.is_empty(), "{:?}", h0.outputs);
    h0.assert_no_req(BOB, "INVITE");
}

/// A supervisor's `*55` + extension arriving on a shard without that agent's call goes
/// to the next shard, counted in `X-Ccs-Hunt`, and so does the rest of its dialog; the
/// last shard to try answers 404 if it has no such call either.
#[test]
fn a_supervisors_code_hunts_the_shards_for_the_agents_call() {
    let mut h0 = shard(0);
    let mut c = h0.call(
        CAROL,
        "1003",
        "*551002",
        Some(&sdp_at(CAROL, CAROL_RTP)),
        "",
    );
    let (to, msg, source) = forwarded(&mut h0);
    assert_eq!(to, 1);
    assert!(
        matches!(&msg, sip::Message::Request(r) if r.headers.get("X-Ccs-Hunt") == Some("1")),
        "{msg:?}"
    );
    assert!(h0.sent.is_empty(), "not answered here");
    c.cancel(&mut h0);
    let (to, _, _) = forwarded(&mut h0);
    assert_eq!(to, 1, "the rest of its dialog follows");

    // Shard 1 was the last to try and has no call of 1002 either.
    let mut h1 = shard(1);
    h1.input(Input::Message { msg, source });
    assert_eq!(h1.resp(CAROL, 404).reason, "No Call To Supervise");
    assert!(h1
        .outputs
        .iter()
        .all(|o| !matches!(o, Output::Forward { .. })));
}
