//! A caller's INVITE without SDP: the callee's 2xx carries the offer to the caller, whose
//! ACK brings the answer, which goes in our ACK to the callee.

use super::harness::*;

#[test]
fn offer_in_answer_and_answer_in_ack() {
    let mut h = Harness::new();
    let mut a = h.call(ALICE, "1001", "1002", None, "");
    let inv = h.req(BOB, "INVITE");
    assert!(inv.body.is_empty(), "no offer to forward");
    assert_eq!(inv.headers.get("Content-Type"), None);
    h.reply(BOB, &inv, 180, "bob", None);
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));

    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    h.assert_no_req(BOB, "ACK");

    a.answered(&ok);
    a.ack(&mut h, Some(&sdp_at(ALICE, ALICE_RTP)));
    let ack = h.req(BOB, "ACK");
    assert_eq!(cseq_num(&ack.headers), 1);
    assert_relay_sdp(&ack.headers, &ack.body, PORT_B);
    assert!(h
        .take_media()
        .contains(&format!("Connect(1/A, Some({}:{ALICE_RTP}))", ALICE.ip())));

    // The 200 is not repeated once ACKed, and a repeated 200 gets the same ACK.
    h.clear();
    h.reply(BOB, &inv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP)));
    let again = h.req(BOB, "ACK");
    assert_eq!(again.body, ack.body);
    h.advance(secs(5));
    assert_eq!(h.count(ALICE, |_| true), 0, "{:?}", h.drain(ALICE));
}

#[test]
fn queue_caller_without_sdp_gets_our_offer() {
    let mut h = Harness::new();
    let mut a = h.call(ALICE, "1001", QUEUE, None, "");
    let interaction = match h.acd_events().as_slice() {
        [acd::Event::InteractionArrived(arrival)] => arrival.id.0,
        other => panic!("{other:?}"),
    };
    h.input(crate::engine::Input::Acd(crate::orders::AcdOrder::Queued {
        interaction,
        position: 2,
        expected_wait_secs: None,
    }));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    h.take_media();
    a.answered(&ok);
    a.ack(&mut h, Some(&sdp_at(ALICE, ALICE_RTP)));
    assert!(h
        .take_media()
        .contains(&format!("Connect(1/A, Some({}:{ALICE_RTP}))", ALICE.ip())));
}
