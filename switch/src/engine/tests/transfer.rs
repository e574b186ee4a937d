//! Blind transfer by the callee's phone (REFER): 202, NOTIFY 100 Trying, the caller to
//! music, the target rung on the callee's endpoint; its answer joins the caller (NOTIFY
//! 200, BYE to the referrer); its failure gives the caller back (NOTIFY with the status).

use super::harness::*;

fn refer(b: &mut Dlg, h: &mut Harness, to: &str) {
    b.request(
        h,
        "REFER",
        None,
        &format!("Refer-To: <sip:{to}@{DOMAIN}>\r\n"),
    );
}

fn sipfrag(req: &sip::Request) -> String {
    assert_eq!(req.headers.get("Event"), Some("refer"));
    String::from_utf8_lossy(&req.body).to_string()
}

#[test]
fn blind_transfer_to_a_user_who_answers() {
    let mut h = Harness::new();
    let (a, mut b) = connect(&mut h, "");
    refer(&mut b, &mut h, "1003");
    h.resp_to(BOB, 202, "REFER");
    let trying = h.req(BOB, "NOTIFY");
    assert!(
        sipfrag(&trying).starts_with("SIP/2.0 100"),
        "{}",
        sipfrag(&trying)
    );
    h.reply(BOB, &trying, 200, "bob", None);
    // The caller hears music while Carol rings; her INVITE offers the callee's endpoint.
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/A")));
    let inv = h.req(CAROL, "INVITE");
    assert_relay_sdp(&inv.headers, &inv.body, PORT_B);
    h.assert_no_req(ALICE, "INVITE");
    h.reply(CAROL, &inv, 180, "carol", None);
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    assert!(
        media.contains(&format!("Connect(1/B, Some({}:{CAROL_RTP}))", CAROL.ip())),
        "{media:?}"
    );
    let done = h.req(BOB, "NOTIFY");
    assert!(
        sipfrag(&done).starts_with("SIP/2.0 200"),
        "{}",
        sipfrag(&done)
    );
    assert!(done
        .headers
        .get("Subscription-State")
        .is_some_and(|v| v.starts_with("terminated")));
    h.req(BOB, "BYE");
    // Bob's phone hangs up too, its BYE crossing ours: answered, and nothing else ends.
    b.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    h.assert_no_req(ALICE, "BYE");
    h.assert_no_req(CAROL, "BYE");
    // Alice and Carol talk; Alice's BYE reaches Carol.
    let calls = h.engine.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, a.call_id);
    let mut a = a;
    a.request(&mut h, "BYE", None, "");
    h.req(CAROL, "BYE");
}

#[test]
fn a_busy_target_gives_the_caller_back() {
    let mut h = Harness::new();
    let (_a, mut b) = connect(&mut h, "");
    refer(&mut b, &mut h, "1003");
    h.resp_to(BOB, 202, "REFER");
    h.req(BOB, "NOTIFY");
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 486, "carol", None);
    let failed = h.req(BOB, "NOTIFY");
    assert!(
        sipfrag(&failed).starts_with("SIP/2.0 486"),
        "{}",
        sipfrag(&failed)
    );
    assert!(h.take_media().contains(&"StopPlaying(1/A)".to_string()));
    h.assert_no_req(BOB, "BYE");
    // Bob and Alice carry on: Bob's BYE ends the call as usual.
    b.request(&mut h, "BYE", None, "");
    h.req(ALICE, "BYE");
}

#[test]
fn an_unknown_target_is_refused_in_the_notify() {
    let mut h = Harness::new();
    let (_a, mut b) = connect(&mut h, "");
    refer(&mut b, &mut h, "7777");
    h.resp_to(BOB, 202, "REFER");
    h.req(BOB, "NOTIFY");
    let failed = h.req(BOB, "NOTIFY");
    assert!(
        sipfrag(&failed).starts_with("SIP/2.0 404"),
        "{}",
        sipfrag(&failed)
    );
}

#[test]
fn the_referrer_hanging_up_at_once_does_not_drop_the_caller() {
    let mut h = Harness::new();
    let (_a, mut b) = connect(&mut h, "");
    refer(&mut b, &mut h, "1003");
    h.resp_to(BOB, 202, "REFER");
    h.req(BOB, "NOTIFY");
    b.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    h.assert_no_req(ALICE, "BYE");
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    h.assert_no_req(ALICE, "BYE");
    assert_eq!(h.engine.calls().len(), 1);
}

#[test]
fn a_rest_transfer_rings_the_target_without_notifies() {
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    let now = h.now;
    let view = h
        .engine
        .transfer(
            now,
            &a.call_id,
            crate::engine::TransferTo {
                target: "1003".into(),
            },
        )
        .unwrap();
    assert_eq!(view.id, a.call_id);
    h.input(crate::engine::Input::Tick);
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    // The agent's phone hears no NOTIFY, only our BYE.
    h.assert_no_req(BOB, "NOTIFY");
    h.req(BOB, "BYE");
    let changes: Vec<&'static str> = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            crate::engine::Output::CallChanged(c) => Some(c.change),
            _ => None,
        })
        .collect();
    assert_eq!(changes, ["transfer_started", "transferred"]);
    // An unknown target is refused at once.
    let now = h.now;
    let err = h
        .engine
        .transfer(
            now,
            &a.call_id,
            crate::engine::TransferTo {
                target: "7777".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err, crate::engine::ControlError::NoTarget("7777".into()));
}

/// Bob (the agent) has Alice (the customer) and has called Carol himself; his phone
/// transfers Alice to Carol (REFER with Replaces naming his call to Carol): the switch
/// hands Carol's leg to Alice's call and releases both of Bob's calls.
#[test]
fn attended_transfer_by_refer_with_replaces() {
    let mut h = Harness::new();
    let (mut alice, mut bob) = connect(&mut h, "");
    // Bob's second call, to Carol.
    let mut bob2 = h.call(BOB, "1002", "1003", Some(&sdp_at(BOB, 5002)), "");
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let ok = h.resp_to(BOB, 200, "INVITE");
    bob2.answered(&ok);
    bob2.ack(&mut h, None);
    let switch_tag = tag_of(&ok.headers, "To").unwrap();
    let bob_tag = bob2.local.rsplit("tag=").next().unwrap().to_string();
    h.clear();
    h.take_media();
    assert_eq!(h.engine.calls().len(), 2);

    let replaces = format!(
        "{}%3Bto-tag%3D{switch_tag}%3Bfrom-tag%3D{bob_tag}",
        bob2.call_id.replace('@', "%40")
    );
    bob.request(
        &mut h,
        "REFER",
        None,
        &format!("Refer-To: <sip:1003@{DOMAIN}?Replaces={replaces}>\r\n"),
    );
    h.resp_to(BOB, 202, "REFER");
    let trying = h.req(BOB, "NOTIFY");
    assert!(String::from_utf8_lossy(&trying.body).starts_with("SIP/2.0 100"));
    h.reply(BOB, &trying, 200, "bob", None);
    // The switch's INVITE to itself names Bob's call to Carol.
    let own = h.req(SWITCH, "INVITE");
    assert!(own
        .headers
        .get("Replaces")
        .is_some_and(|r| r.starts_with(&bob2.call_id) && r.contains(&switch_tag)));
    h.send(SWITCH, own.to_bytes());
    spiral(&mut h);
    // Both of Bob's calls are released; his phone hears the transfer succeed.
    let byes = h.count_req(BOB, "BYE");
    assert_eq!(byes, 2, "a BYE for each of Bob's calls");
    let done = h.req(BOB, "NOTIFY");
    assert!(String::from_utf8_lossy(&done.body).starts_with("SIP/2.0 200"));
    h.assert_no_req(CAROL, "BYE");
    h.assert_no_req(CAROL, "INVITE");
    h.assert_no_req(ALICE, "INVITE");
    let media = h.take_media();
    assert!(
        media
            .iter()
            .any(|m| m.starts_with("Connect(2/A, Some(127.0.0.1:")),
        "Carol's call now sends Alice's side to the switch's own endpoint: {media:?}"
    );
    // Alice hangs up: the BYE goes through both calls to Carol.
    alice.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    spiral(&mut h);
    h.req(CAROL, "BYE");
    let _ = &mut bob2;
}

#[test]
fn a_replaces_naming_no_dialog_is_481() {
    let mut h = Harness::new();
    let (_a, mut b) = connect(&mut h, "");
    b.request(
        &mut h,
        "REFER",
        None,
        &format!("Refer-To: <sip:1003@{DOMAIN}?Replaces=nope%3Bto-tag%3D1%3Bfrom-tag%3D2>\r\n"),
    );
    h.resp_to(BOB, 202, "REFER");
    let trying = h.req(BOB, "NOTIFY");
    h.reply(BOB, &trying, 200, "bob", None);
    let own = h.req(SWITCH, "INVITE");
    h.send(SWITCH, own.to_bytes());
    spiral(&mut h);
    let failed = h.req(BOB, "NOTIFY");
    assert!(
        String::from_utf8_lossy(&failed.body).starts_with("SIP/2.0 481"),
        "{}",
        String::from_utf8_lossy(&failed.body)
    );
    h.assert_no_req(BOB, "BYE");
}

/// A REST transfer to a queue DN: the agent's phone gets BYE, the customer waits in the
/// queue as a new interaction with their caller data, and the next agent gets them.
#[test]
fn a_transfer_to_a_queue_requeues_the_customer() {
    use crate::engine::{Input, TransferTo};
    use crate::orders::AcdOrder;
    let mut h = Harness::new();
    let (mut a, _b) = connect(&mut h, "");
    h.advance(secs(7));
    let now = h.now;
    h.engine
        .transfer(
            now,
            &a.call_id,
            TransferTo {
                target: QUEUE.into(),
            },
        )
        .unwrap();
    h.input(Input::Tick);
    h.req(BOB, "BYE");
    let events = h.acd_events();
    let [acd::Event::InteractionArrived(arrival)] = events.as_slice() else {
        panic!("expected one arrival: {events:?}");
    };
    assert_eq!(arrival.queue.as_str(), QUEUE);
    assert_eq!(arrival.caller.number, "1001");
    // How long the customer has been with us: the queue decides whether that counts.
    assert!(
        (7_000..8_000).contains(&arrival.waited_ms),
        "{}",
        arrival.waited_ms
    );
    let interaction = arrival.id.0;
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: None,
    }));
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/A")));
    h.assert_no_req(ALICE, "INVITE");
    h.input(Input::Acd(AcdOrder::Offer {
        interaction,
        agent: acd::AgentId::new("1003"),
        extension: "1003".into(),
        queue: acd::Dn::new(QUEUE),
        queue_name: "Sales".into(),
        record: false,
    }));
    let inv = h.req(CAROL, "INVITE");
    assert_relay_sdp(&inv.headers, &inv.body, PORT_B);
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    a.request(&mut h, "BYE", None, "");
    h.req(CAROL, "BYE");
}

/// A transferred call's CDRs: one per leg pair, the first `transferred`, sharing the
/// session id, numbered in order.
#[test]
fn a_transferred_call_reads_as_one_story_in_its_cdrs() {
    use crate::engine::TransferTo;
    use crate::records::Cause;
    let mut h = Harness::new();
    let (mut a, _b) = connect(&mut h, "");
    h.advance(secs(5));
    let now = h.now;
    h.engine
        .transfer(
            now,
            &a.call_id,
            TransferTo {
                target: "1003".into(),
            },
        )
        .unwrap();
    h.input(crate::engine::Input::Tick);
    let inv = h.req(CAROL, "INVITE");
    h.advance(secs(2));
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let first = h.cdr();
    assert_eq!(
        (first.seq, first.cause, first.to_user.as_str()),
        (0, Cause::Transferred, "1002")
    );
    assert!(first.talk_secs >= 7.0, "{}", first.talk_secs);
    h.advance(secs(10));
    a.request(&mut h, "BYE", None, "");
    let second = h.cdr();
    assert_eq!(
        (second.seq, second.cause, second.to_user.as_str()),
        (1, Cause::Normal, "1003")
    );
    assert_eq!(first.session_id, second.session_id);
    assert_eq!(first.session_id, a.call_id);
    assert_eq!(second.start_ms, first.end_ms);
    assert!(
        (9.0..11.0).contains(&second.talk_secs),
        "{}",
        second.talk_secs
    );
}
