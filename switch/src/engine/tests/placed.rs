//! A call the switch placed for an agent (Alice, 1001) to a contact (Bob, 1002), handed on
//! by the agent: blind to a user (Carol, 1003) over REST, to a queue by the agent's phone
//! (REFER), after a consultation; a failed transfer gives the contact back and the call
//! stays the dialer's.

use super::harness::*;
use crate::engine::{CallOp, ConsultStep, Input, Origination, OriginationEvent, TransferTo};
use crate::orders::AcdOrder;

/// Alice's placed call to Bob, talking. Returns Alice's dialog, Bob's, and the call id.
fn placed_call(h: &mut Harness) -> (Dlg, Dlg, String) {
    h.input(Input::Originate(Origination {
        agent: "agent-7".into(),
        extension: "1001".into(),
        number: "1002".into(),
        caller_id: String::new(),
        attempt: 7,
    }));
    let inv = h.req(ALICE, "INVITE");
    h.reply(ALICE, &inv, 200, "agent", Some(&sdp_at(ALICE, ALICE_RTP)));
    h.req(ALICE, "ACK");
    let call = h.req(BOB, "INVITE");
    h.reply(BOB, &call, 200, "contact", Some(&sdp_at(BOB, BOB_RTP)));
    h.req(BOB, "ACK");
    h.reports();
    h.published();
    h.take_media();
    h.clear();
    let id = h.engine.calls()[0].id.clone();
    (
        Dlg::callee(ALICE, &inv, "agent"),
        Dlg::callee(BOB, &call, "contact"),
        id,
    )
}

fn ended_for_the_dialer(h: &mut Harness) {
    assert_eq!(
        h.reports(),
        [OriginationEvent::Ended {
            attempt: 7,
            sip_status: 200
        }]
    );
    assert_eq!(h.published(), ["ended"]);
}

#[test]
fn a_rest_transfer_hands_the_contact_to_a_user() {
    let mut h = Harness::new();
    let (_alice, mut bob, id) = placed_call(&mut h);
    h.engine
        .transfer(
            h.now,
            &id,
            TransferTo {
                target: "1003".into(),
            },
        )
        .unwrap();
    h.input(Input::Tick);
    // The contact hears music on its own endpoint (B); Carol rings on the agent's (A) and
    // sees whom she gets.
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/B")));
    let inv = h.req(CAROL, "INVITE");
    assert_relay_sdp(&inv.headers, &inv.body, PORT_A);
    assert!(inv.headers.get("From").unwrap().contains("sip:1002@"));
    assert!(h.reports().is_empty(), "not over for the dialer yet");
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/B)".to_string()), "{media:?}");
    assert!(
        media.contains(&format!("Connect(1/A, Some({}:{CAROL_RTP}))", CAROL.ip())),
        "{media:?}"
    );
    let bye = h.req(ALICE, "BYE");
    h.reply(ALICE, &bye, 200, "agent", None);
    ended_for_the_dialer(&mut h);
    // The call keeps its id; the contact and Carol talk, Bob's BYE reaches Carol.
    let calls = h.engine.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, id);
    assert_eq!(calls[0].from, "sip:1002");
    let agent_pair = h.cdr();
    assert_eq!(agent_pair.from_user, "1001");
    bob.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    let bye = h.req(CAROL, "BYE");
    h.reply(CAROL, &bye, 200, "carol", None);
    let second = h.cdr();
    assert_eq!(
        (second.from_user.as_str(), second.to_user.as_str()),
        ("1002", "1003")
    );
    assert_eq!(second.session_id, agent_pair.session_id);
    assert!(h.reports().is_empty(), "the dialer heard the end once");
    assert!(h.engine.is_idle());
}

#[test]
fn the_agents_phone_transfers_the_contact_to_a_queue() {
    let mut h = Harness::new();
    let (mut alice, mut bob, _id) = placed_call(&mut h);
    alice.request(
        &mut h,
        "REFER",
        None,
        &format!("Refer-To: <sip:{QUEUE}@{DOMAIN}>\r\n"),
    );
    h.resp_to(ALICE, 202, "REFER");
    let notify = h.req(ALICE, "NOTIFY");
    h.reply(ALICE, &notify, 200, "agent", None);
    let done = h.req(ALICE, "NOTIFY");
    assert!(String::from_utf8_lossy(&done.body).starts_with("SIP/2.0 200"));
    h.reply(ALICE, &done, 200, "agent", None);
    let bye = h.req(ALICE, "BYE");
    h.reply(ALICE, &bye, 200, "agent", None);
    ended_for_the_dialer(&mut h);
    let events = h.acd_events();
    let [acd::Event::InteractionArrived(arrival)] = events.as_slice() else {
        panic!("expected one arrival: {events:?}");
    };
    assert_eq!(
        arrival.caller.number, "1002",
        "the contact waits, not the agent"
    );
    let interaction = arrival.id.0;
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: None,
    }));
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/B")));
    h.input(Input::Acd(AcdOrder::Offer {
        interaction,
        agent: acd::AgentId::new("1003"),
        extension: "1003".into(),
        queue: acd::Dn::new(QUEUE),
        queue_name: "Sales".into(),
        record: false,
    }));
    let inv = h.req(CAROL, "INVITE");
    assert_relay_sdp(&inv.headers, &inv.body, PORT_A);
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/B)".to_string()), "{media:?}");
    bob.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    h.req(CAROL, "BYE");
}

#[test]
fn a_consultation_completes_as_a_transfer() {
    let mut h = Harness::new();
    let (_alice, mut bob, id) = placed_call(&mut h);
    h.call_op(
        &id,
        CallOp::Consult {
            target: "1003".into(),
        },
    )
    .unwrap();
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    h.take_media();
    let view = h
        .call_op(&id, CallOp::Consultation(ConsultStep::CompleteTransfer))
        .unwrap();
    assert_eq!(view.id, id);
    let media = h.take_media();
    for expected in ["Hear(1/B, Endpoint(2))", "Hear(1/2, Endpoint(B))"] {
        assert!(
            media.contains(&expected.to_string()),
            "{expected} in {media:?}"
        );
    }
    let bye = h.req(ALICE, "BYE");
    h.reply(ALICE, &bye, 200, "agent", None);
    ended_for_the_dialer(&mut h);
    bob.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    h.req(CAROL, "BYE");
}

#[test]
fn a_busy_target_gives_the_contact_back_and_the_call_stays_the_dialers() {
    let mut h = Harness::new();
    let (mut alice, mut bob, id) = placed_call(&mut h);
    h.engine
        .transfer(
            h.now,
            &id,
            TransferTo {
                target: "1003".into(),
            },
        )
        .unwrap();
    h.input(Input::Tick);
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 486, "carol", None);
    h.req(CAROL, "ACK");
    assert!(h.take_media().contains(&"StopPlaying(1/B)".to_string()));
    assert!(h.reports().is_empty());
    // Agent and contact talk again: a hold from the agent's phone is answered by the
    // switch (the contact hears music) and is the dialer's news.
    let hold = sdp_at(ALICE, ALICE_RTP).replace("a=sendrecv", "a=sendonly");
    alice.request(&mut h, "INVITE", Some(&hold), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert!(String::from_utf8_lossy(&ok.body).contains("a=recvonly"));
    alice.ack(&mut h, None);
    h.assert_no_req(BOB, "INVITE");
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/B")));
    assert_eq!(
        h.reports(),
        [OriginationEvent::Held {
            attempt: 7,
            held: true
        }]
    );
    bob.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    let bye = h.req(ALICE, "BYE");
    h.reply(ALICE, &bye, 200, "agent", None);
    assert_eq!(
        h.reports(),
        [OriginationEvent::Ended {
            attempt: 7,
            sip_status: 200
        }]
    );
    assert_eq!(h.engine.calls().len(), 0);
    assert!(h.engine.is_idle());
}
