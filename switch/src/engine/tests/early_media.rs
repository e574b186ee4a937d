//! A callee's early media: its first 183 with SDP reaches the caller rewritten for the
//! relay; later 1xx are relayed without repeating it.

use super::harness::*;

#[test]
fn session_progress_with_sdp_is_relayed_once() {
    let mut h = Harness::new();
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.take_media();
    h.reply(BOB, &inv, 183, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let early = h.resp(ALICE, 183);
    assert_relay_sdp(&early.headers, &early.body, PORT_A);
    assert!(early.headers.get("Contact").is_some());
    // The relay now knows where the callee's media goes.
    assert!(h
        .take_media()
        .contains(&format!("Connect(1/B, Some({}:{BOB_RTP}))", BOB.ip())));

    h.reply(BOB, &inv, 183, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let again = h.resp(ALICE, 183);
    assert!(again.body.is_empty(), "early media SDP sent once");
    h.reply(BOB, &inv, 180, "bob", None);
    let ringing = h.resp(ALICE, 180);
    assert!(ringing.body.is_empty());
    assert_eq!(tag_of(&ringing.headers, "To"), tag_of(&early.headers, "To"));

    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    assert_eq!(tag_of(&ok.headers, "To"), tag_of(&early.headers, "To"));
    h.req(BOB, "ACK");
    a.answered(&ok);
    a.ack(&mut h, None);
    assert_eq!(h.engine.active_calls(), 1);
}
