//! Consultation, attended transfer and conference over REST, as moves of legs: the
//! customer (Alice, the caller) to music, the consulted party (Carol) rung from an endpoint
//! of her own, the agent (Bob, the callee) joined to her; then back, handed over, or all
//! three in the mixer.

use super::harness::*;
use crate::engine::{CallOp, ConsultStep, ControlError, MemberStep, Output};

fn changes(h: &mut Harness) -> Vec<&'static str> {
    let mut out = Vec::new();
    h.outputs.retain(|o| match o {
        Output::CallChanged(c) => {
            out.push(c.change);
            false
        }
        _ => true,
    });
    out
}

fn consult(
    h: &mut Harness,
    call: &str,
    target: &str,
) -> Result<crate::engine::CallView, ControlError> {
    h.call_op(
        call,
        CallOp::Consult {
            target: target.into(),
        },
    )
}

fn step(
    h: &mut Harness,
    call: &str,
    step: ConsultStep,
) -> Result<crate::engine::CallView, ControlError> {
    h.call_op(call, CallOp::Consultation(step))
}

/// Alice calls Bob; Bob consults Carol, who answers. Returns the dialogs.
fn consulting(h: &mut Harness) -> (Dlg, Dlg, Dlg) {
    let (a, b) = connect(h, "");
    let view = consult(h, &a.call_id, "1003").unwrap();
    assert_eq!(view.legs.len(), 2, "Carol is not listed before she is rung");
    let media = h.take_media();
    assert!(media.contains(&"AddEndpoint(1/2)".to_string()), "{media:?}");
    assert!(
        media.iter().any(|m| m.starts_with("Play(1/A")),
        "the customer hears music: {media:?}"
    );
    assert!(
        media.iter().any(|m| m.starts_with("Play(1/B")),
        "the agent hears ringback: {media:?}"
    );
    let inv = h.req(CAROL, "INVITE");
    assert_relay_sdp(&inv.headers, &inv.body, endpoint_port(2));
    assert!(
        inv.headers.from().unwrap().uri.to_string().contains("1002"),
        "from the agent"
    );
    h.assert_no_req(ALICE, "INVITE");
    h.assert_no_req(BOB, "INVITE");
    let c = Dlg::callee(CAROL, &inv, "carol");
    h.reply(CAROL, &inv, 180, "carol", None);
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let media = h.take_media();
    for expected in [
        "StopPlaying(1/B)".to_string(),
        "Hear(1/B, Endpoint(2))".to_string(),
        "Hear(1/2, Endpoint(B))".to_string(),
        format!("Connect(1/2, Some({}:{CAROL_RTP}))", CAROL.ip()),
    ] {
        assert!(media.contains(&expected), "{expected} in {media:?}");
    }
    assert!(
        !media.iter().any(|m| m.starts_with("StopPlaying(1/A")),
        "Alice stays on music"
    );
    assert_eq!(h.engine.calls()[0].legs.len(), 3);
    assert_eq!(changes(h), ["consult_started", "consult_answered"]);
    (a, b, c)
}

#[test]
fn consult_alternate_and_complete_the_transfer() {
    let mut h = Harness::new();
    let (mut a, _b, _c) = consulting(&mut h);
    step(&mut h, &a.call_id, ConsultStep::Alternate).unwrap();
    let media = h.take_media();
    assert!(
        media.contains(&"Hear(1/B, Endpoint(A))".to_string()),
        "{media:?}"
    );
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    assert!(
        media.iter().any(|m| m.starts_with("Play(1/2")),
        "Carol on music: {media:?}"
    );
    step(&mut h, &a.call_id, ConsultStep::Alternate).unwrap();
    let media = h.take_media();
    assert!(
        media.contains(&"Hear(1/B, Endpoint(2))".to_string()),
        "{media:?}"
    );
    assert!(media.iter().any(|m| m.starts_with("Play(1/A")), "{media:?}");

    let view = step(&mut h, &a.call_id, ConsultStep::CompleteTransfer).unwrap();
    assert_eq!(view.legs.len(), 2);
    h.req(BOB, "BYE");
    let media = h.take_media();
    assert!(
        media.contains(&"Hear(1/A, Endpoint(2))".to_string()),
        "{media:?}"
    );
    assert!(
        media.contains(&"Hear(1/2, Endpoint(A))".to_string()),
        "{media:?}"
    );
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    h.assert_no_req(ALICE, "INVITE");
    assert_eq!(
        changes(&mut h),
        ["consult_alternated", "consult_alternated", "transferred"]
    );
    // Alice and Carol talk; Alice's BYE reaches Carol.
    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    h.req(CAROL, "BYE");
    assert!(h.engine.calls().is_empty());
}

#[test]
fn a_busy_consulted_party_gives_the_customer_back() {
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    consult(&mut h, &a.call_id, "1003").unwrap();
    h.take_media();
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 486, "carol", None);
    let media = h.take_media();
    for expected in [
        "RemoveEndpoint(1/2)",
        "StopPlaying(1/A)",
        "StopPlaying(1/B)",
        "Hear(1/A, Endpoint(B))",
        "Hear(1/B, Endpoint(A))",
    ] {
        assert!(
            media.contains(&expected.to_string()),
            "{expected} in {media:?}"
        );
    }
    let failed: Vec<String> = h
        .outputs
        .iter()
        .filter_map(|o| match o {
            Output::CallChanged(c) if c.change == "consult_failed" => c.detail.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(failed, ["486 Busy Here"]);
    // A two-party call again: it can be held, and a step of a consultation is refused.
    assert_eq!(
        step(&mut h, &a.call_id, ConsultStep::Alternate).unwrap_err(),
        ControlError::NotConsulting
    );
    assert!(h
        .control(&a.call_id, 0, crate::engine::CallControl::Hold)
        .is_ok());
}

#[test]
fn unknown_targets_and_unanswered_steps_are_refused() {
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    assert_eq!(
        consult(&mut h, &a.call_id, "7777").unwrap_err(),
        ControlError::NoTarget("7777".into())
    );
    consult(&mut h, &a.call_id, "1003").unwrap();
    assert_eq!(
        step(&mut h, &a.call_id, ConsultStep::CompleteTransfer).unwrap_err(),
        ControlError::NotAnswered
    );
    assert_eq!(
        consult(&mut h, &a.call_id, "1003").unwrap_err(),
        ControlError::NotConnected
    );
    // Ending while Carol rings cancels her INVITE.
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 180, "carol", None);
    step(&mut h, &a.call_id, ConsultStep::End).unwrap();
    h.req(CAROL, "CANCEL");
    h.reply(CAROL, &inv, 487, "carol", None);
    assert_eq!(h.engine.calls()[0].legs.len(), 2);
}

#[test]
fn the_consulted_party_hanging_up_ends_the_consultation() {
    let mut h = Harness::new();
    let (a, _b, mut c) = consulting(&mut h);
    c.request(&mut h, "BYE", None, "");
    h.resp_to(CAROL, 200, "BYE");
    let media = h.take_media();
    assert!(
        media.contains(&"Hear(1/B, Endpoint(A))".to_string()),
        "{media:?}"
    );
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    let calls = h.engine.calls();
    assert_eq!(calls[0].legs.len(), 2);
    assert_eq!(calls[0].id, a.call_id);
}

#[test]
fn the_agent_hanging_up_hands_the_customer_over() {
    let mut h = Harness::new();
    let (mut a, mut b, _c) = consulting(&mut h);
    b.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    let media = h.take_media();
    assert!(
        media.contains(&"Hear(1/A, Endpoint(2))".to_string()),
        "{media:?}"
    );
    a.request(&mut h, "BYE", None, "");
    h.req(CAROL, "BYE");
    assert!(h.engine.calls().is_empty());
}

#[test]
fn the_customer_refreshing_during_a_consultation_is_answered_by_the_switch() {
    let mut h = Harness::new();
    let (mut a, _b, _c) = consulting(&mut h);
    a.request(&mut h, "INVITE", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    h.assert_no_req(BOB, "INVITE");
    h.assert_no_req(CAROL, "INVITE");
}

#[test]
fn a_conference_mixes_everyone_and_shrinks_as_members_leave() {
    let mut h = Harness::new();
    let (mut a, mut b, mut c) = consulting(&mut h);
    let view = step(&mut h, &a.call_id, ConsultStep::CompleteConference).unwrap();
    assert_eq!(view.legs.len(), 3);
    let media = h.take_media();
    let all = "Mix { of: [A, B, 2], codec: Pcmu { payload_type: 0 } }";
    for side in ["A", "B", "2"] {
        let expected = format!("Hear(1/{side}, {all})");
        assert!(media.contains(&expected), "{expected} in {media:?}");
    }
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    // Muting Carol (listed third) takes her out of every mix.
    h.call_op(
        &a.call_id,
        CallOp::Member {
            leg: 2,
            step: MemberStep::Mute,
        },
    )
    .unwrap();
    let media = h.take_media();
    assert!(
        media.contains(
            &"Hear(1/A, Mix { of: [A, B], codec: Pcmu { payload_type: 0 } })".to_string()
        ),
        "{media:?}"
    );
    assert_eq!(
        h.call_op(
            &a.call_id,
            CallOp::Member {
                leg: 5,
                step: MemberStep::Mute
            }
        )
        .unwrap_err(),
        ControlError::NoLeg(5)
    );
    // The added party leaves: the call goes on.
    c.request(&mut h, "BYE", None, "");
    h.resp_to(CAROL, 200, "BYE");
    assert_eq!(h.engine.calls()[0].legs.len(), 2);
    let _ = &mut b;
    // Then the agent: with one party left, the call ends.
    b.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");
    h.req(ALICE, "BYE");
    assert!(h.engine.calls().is_empty());
    let changes = changes(&mut h);
    assert_eq!(changes, ["conference_started", "muted", "conference_left"]);
    let _ = &mut a;
}

#[test]
fn a_party_is_added_to_a_conference_by_dn() {
    let mut opts = Opts::default();
    opts.bindings.push(("1004", BOB2));
    let mut h = Harness::with(opts);
    let (a, _b, _c) = consulting(&mut h);
    step(&mut h, &a.call_id, ConsultStep::CompleteConference).unwrap();
    h.take_media();
    assert_eq!(
        h.call_op(
            &a.call_id,
            CallOp::AddParty {
                target: "7777".into()
            }
        )
        .unwrap_err(),
        ControlError::NoTarget("7777".into())
    );
    h.call_op(
        &a.call_id,
        CallOp::AddParty {
            target: "1004".into(),
        },
    )
    .unwrap();
    let inv = h.req(BOB2, "INVITE");
    assert_relay_sdp(&inv.headers, &inv.body, endpoint_port(3));
    h.reply(BOB2, &inv, 200, "dave", Some(&sdp_at(BOB2, 7000)));
    h.req(BOB2, "ACK");
    let media = h.take_media();
    let all = "Mix { of: [A, B, 2, 3], codec: Pcmu { payload_type: 0 } }";
    assert!(media.contains(&format!("Hear(1/3, {all})")), "{media:?}");
    assert_eq!(h.engine.calls()[0].legs.len(), 4);
    // Removing a member sends it a BYE.
    h.call_op(
        &a.call_id,
        CallOp::Member {
            leg: 3,
            step: MemberStep::Remove,
        },
    )
    .unwrap();
    h.req(BOB2, "BYE");
    assert_eq!(h.engine.calls()[0].legs.len(), 3);
}

/// Bob consults a queue: the switch calls itself at the queue's DN, and that call waits
/// in the queue as an interaction from Bob, hearing what any caller there hears, until
/// the ACD gives it an agent, who then talks to Bob.
#[test]
fn consulting_a_queue_calls_the_queue_through_the_switch() {
    use crate::engine::Input;
    use crate::orders::AcdOrder;
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    h.acd_events();
    consult(&mut h, &a.call_id, QUEUE).unwrap();
    let own = h.req(SWITCH, "INVITE");
    assert_eq!(own.uri.user_unescaped().as_deref(), Some(QUEUE));
    assert!(
        own.headers.from().unwrap().uri.to_string().contains("1002"),
        "from the agent"
    );
    assert!(
        own.headers.get("Proxy-Authorization").is_none(),
        "its own call needs no credentials"
    );
    h.send(SWITCH, own.to_bytes());
    spiral(&mut h);
    let events = h.acd_events();
    let [acd::Event::InteractionArrived(arrival)] = events.as_slice() else {
        panic!("expected the consultation to arrive in the queue: {events:?}");
    };
    assert_eq!(arrival.queue.as_str(), QUEUE);
    assert_eq!(arrival.caller.number, "1002");
    // The queue's agent is told whom the consultation is about.
    assert_eq!(arrival.caller.name, "Consultation for 1001");
    let interaction = arrival.id.0;
    h.input(Input::Acd(AcdOrder::Queued {
        interaction,
        position: 1,
        expected_wait_secs: None,
    }));
    spiral(&mut h);
    assert_eq!(changes(&mut h), ["consult_started", "consult_answered"]);
    assert_eq!(h.engine.calls().len(), 2, "the call and its consultation");
    // An agent of the queue answers the consultation.
    h.input(Input::Acd(AcdOrder::Offer {
        interaction,
        agent: acd::AgentId::new("1003"),
        extension: "1003".into(),
        queue: acd::Dn::new(QUEUE),
        queue_name: "Sales".into(),
        record: false,
    }));
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    spiral(&mut h);
    // Bob completes the transfer: Alice's call is handed to the queue's agent.
    step(&mut h, &a.call_id, ConsultStep::CompleteTransfer).unwrap();
    h.req(BOB, "BYE");
    assert_eq!(changes(&mut h), ["transferred"]);
}

/// Something from the switch's own address that is not a call to a queue is
/// authenticated like anything else.
#[test]
fn the_switch_own_address_is_not_trusted_for_other_calls() {
    let mut opts = Opts::default();
    opts.config.sip.trusted.clear();
    let mut h = Harness::with(opts);
    let inv = format!(
        "INVITE sip:1003@{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {SWITCH};branch=z9hG4bKspoof\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1002@{DOMAIN}>;tag=x\r\n\
         To: <sip:1003@{DOMAIN}>\r\n\
         Call-ID: spoof\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:1002@{SWITCH}>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    h.send(SWITCH, inv);
    let r = h.resp(SWITCH, 407);
    assert_eq!(r.code, 407);
    h.assert_no_req(CAROL, "INVITE");
}
