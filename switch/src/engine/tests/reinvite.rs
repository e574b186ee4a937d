//! re-INVITEs inside an answered call, from either side: relayed to the other leg in its
//! own dialog with the SDP rewritten for the relay, the 2xx relayed back, each hop ACKed
//! by its own side; and a re-INVITE without SDP, whose answer comes in the ACK.

use super::harness::*;

#[test]
fn caller_reinvite_is_relayed_and_acked_hop_by_hop() {
    let mut h = Harness::new();
    let (mut a, b) = connect(&mut h, "");
    a.request(&mut h, "INVITE", Some(&sdp_at(ALICE, ALICE_RTP + 2)), "");
    h.resp(ALICE, 100);
    let reinv = h.req(BOB, "INVITE");
    assert_eq!(reinv.headers.call_id(), Some(b.call_id.as_str()));
    assert_eq!(tag_of(&reinv.headers, "To").as_deref(), Some("bob"));
    assert_eq!(cseq_num(&reinv.headers), 2);
    assert_eq!(reinv.uri.to_string(), format!("sip:1002@{BOB}"));
    assert_relay_sdp(&reinv.headers, &reinv.body, PORT_B);
    assert!(h.take_media().contains(&format!(
        "Connect(1/A, Some({}:{}))",
        ALICE.ip(),
        ALICE_RTP + 2
    )));

    h.reply(BOB, &reinv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP + 2)));
    let ack = h.req(BOB, "ACK");
    assert_eq!(cseq_num(&ack.headers), 2);
    assert!(ack.body.is_empty());
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_eq!(cseq_num(&ok.headers), 2);
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    a.ack(&mut h, None);
    h.assert_no_req(BOB, "ACK");

    // A repeated 200 from the callee gets our ACK again.
    h.reply(BOB, &reinv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP + 2)));
    assert_eq!(cseq_num(&h.req(BOB, "ACK").headers), 2);

    // The dialogs carry on: BYE uses the next CSeq.
    a.request(&mut h, "BYE", None, "");
    let bye = h.req(BOB, "BYE");
    assert_eq!(cseq_num(&bye.headers), 3);
}

#[test]
fn callee_reinvite_is_relayed_to_the_caller() {
    let mut h = Harness::new();
    let (a, mut b) = connect(&mut h, "");
    b.request(&mut h, "INVITE", Some(&sdp_at(BOB, BOB_RTP + 2)), "");
    let reinv = h.req(ALICE, "INVITE");
    assert_eq!(reinv.headers.call_id(), Some(a.call_id.as_str()));
    assert_eq!(tag_of(&reinv.headers, "To").as_deref(), Some("1001-1"));
    assert_eq!(reinv.uri.to_string(), format!("sip:1001@{ALICE}"));
    assert_eq!(cseq_num(&reinv.headers), 1);
    assert_relay_sdp(&reinv.headers, &reinv.body, PORT_A);

    h.reply(
        ALICE,
        &reinv,
        200,
        "1001-1",
        Some(&sdp_at(ALICE, ALICE_RTP)),
    );
    let ack = h.req(ALICE, "ACK");
    assert_eq!(cseq_num(&ack.headers), 1);
    let ok = h.resp_to(BOB, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_B);
    b.ack(&mut h, None);
    h.assert_no_req(ALICE, "ACK");
}

#[test]
fn reinvite_without_sdp_takes_the_answer_from_the_ack() {
    let mut h = Harness::new();
    let (mut a, _b) = connect(&mut h, "");
    a.request(&mut h, "INVITE", None, "");
    let reinv = h.req(BOB, "INVITE");
    assert!(reinv.body.is_empty());
    h.reply(BOB, &reinv, 200, "bob", Some(&sdp_at(BOB, BOB_RTP + 4)));
    // The callee's offer goes to the caller; our ACK waits for the caller's answer.
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    h.assert_no_req(BOB, "ACK");
    a.ack(&mut h, Some(&sdp_at(ALICE, ALICE_RTP + 4)));
    let ack = h.req(BOB, "ACK");
    assert_eq!(cseq_num(&ack.headers), 2);
    assert_relay_sdp(&ack.headers, &ack.body, PORT_B);
    assert!(h.take_media().contains(&format!(
        "Connect(1/A, Some({}:{}))",
        ALICE.ip(),
        ALICE_RTP + 4
    )));
}

#[test]
fn rejected_reinvite_is_relayed() {
    let mut h = Harness::new();
    let (mut a, _b) = connect(&mut h, "");
    a.request(&mut h, "INVITE", Some(&sdp_at(ALICE, ALICE_RTP + 2)), "");
    let reinv = h.req(BOB, "INVITE");
    h.reply(BOB, &reinv, 488, "bob", None);
    // The transaction layer ACKs the failure on its hop; the caller gets it and ACKs its own.
    let ack = h.req(BOB, "ACK");
    assert_eq!(cseq_num(&ack.headers), 2);
    let r = h.resp_to(ALICE, 488, "INVITE");
    assert_eq!(cseq_num(&r.headers), 2);
    assert_eq!(h.engine.active_calls(), 1);
    // The call goes on.
    a.request(&mut h, "BYE", None, "");
    h.req(BOB, "BYE");
}
