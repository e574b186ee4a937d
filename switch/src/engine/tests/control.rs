//! Call control asked of the switch (REST): a held leg moves to music, its peer to
//! silence, and back; no re-INVITE reaches either phone.

use super::harness::*;
use crate::engine::{CallControl, ControlError, Hold};

#[test]
fn the_switch_holds_the_callee_and_retrieves_it() {
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    h.take_media();
    let view = h.control(&a.call_id, 1, CallControl::Hold).unwrap();
    assert_eq!(view.legs[1].hold, Hold::Held);
    assert_eq!(view.legs[0].hold, Hold::Off);
    let media = h.take_media();
    assert!(media.iter().any(|m| m.starts_with("Play(1/B")), "{media:?}");
    assert!(media.iter().any(|m| m.starts_with("Play(1/A")), "{media:?}");
    h.assert_no_req(BOB, "INVITE");
    h.assert_no_req(ALICE, "INVITE");
    // Twice is refused; retrieving the other leg too.
    assert_eq!(
        h.control(&a.call_id, 1, CallControl::Hold).unwrap_err(),
        ControlError::AlreadyHeld(1)
    );
    assert_eq!(
        h.control(&a.call_id, 0, CallControl::Retrieve).unwrap_err(),
        ControlError::NotHeld(0)
    );
    let view = h.control(&a.call_id, 1, CallControl::Retrieve).unwrap();
    assert_eq!(view.legs[1].hold, Hold::Off);
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    assert!(media.contains(&"StopPlaying(1/B)".to_string()), "{media:?}");
}

#[test]
fn control_of_what_is_not_there_is_refused() {
    let mut h = Harness::new();
    assert_eq!(
        h.control("nope", 0, CallControl::Hold).unwrap_err(),
        ControlError::NoCall("nope".into())
    );
    let (a, _b) = connect(&mut h, "");
    assert_eq!(
        h.control(&a.call_id, 2, CallControl::Hold).unwrap_err(),
        ControlError::NoLeg(2)
    );
}

#[test]
fn a_recording_starts_pauses_and_is_indexed_when_the_call_ends() {
    use crate::engine::{CallOp, Output, RecordStep};
    let mut h = Harness::new();
    let (mut a, _b) = connect(&mut h, "");
    let op = |step| CallOp::Record(step);
    assert_eq!(
        h.call_op(&a.call_id, op(RecordStep::Pause)).unwrap_err(),
        ControlError::Recording(false)
    );
    let view = h.call_op(&a.call_id, op(RecordStep::Start)).unwrap();
    let id = view.recording.as_ref().map(|r| r.id.clone()).unwrap();
    assert!(
        h.take_media().contains(&"Record(1/A)".to_string()),
        "the customer's endpoint"
    );
    assert_eq!(
        h.call_op(&a.call_id, op(RecordStep::Start)).unwrap_err(),
        ControlError::Recording(true)
    );
    let view = h.call_op(&a.call_id, op(RecordStep::Pause)).unwrap();
    assert!(view.recording.as_ref().is_some_and(|r| r.paused));
    assert!(h
        .take_media()
        .contains(&"PauseRecording(1, true)".to_string()));
    h.advance(secs(3));
    a.request(&mut h, "BYE", None, "");
    h.req(BOB, "BYE");
    let row = h.take_output("the recording's index row", |o| match o {
        Output::Recorded(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(row.id, id);
    assert_eq!(row.file, format!("{id}.wav"));
    assert_eq!(row.call_id, a.call_id);
    assert!(row.ended_ms - row.started_ms >= 3000);
}

/// A user configured with `record_percent = 100` has every call they answer recorded
/// from the answer; a user with 0 has none.
#[test]
fn a_users_record_percent_records_their_calls() {
    use crate::engine::Output;
    let mut opts = Opts::default();
    if let Some(bob) = opts.config.users.iter_mut().find(|u| u.id == "1002") {
        bob.record_percent = 100;
    }
    let mut h = Harness::with(opts);
    let (mut a, _b) = connect(&mut h, "");
    assert!(
        h.engine.calls()[0].recording.is_some(),
        "Bob's calls are recorded from the answer"
    );
    a.request(&mut h, "BYE", None, "");
    h.req(BOB, "BYE");
    let row = h.take_output("the recording's index row", |o| match o {
        Output::Recorded(r) => Some(r.clone()),
        _ => None,
    });
    assert_eq!(
        (row.from_user.as_str(), row.to_user.as_str()),
        ("1001", "1002")
    );

    // Without it, nothing is recorded.
    let mut h = Harness::new();
    let (_a, _b) = connect(&mut h, "");
    assert!(h.engine.calls()[0].recording.is_none());
}

/// A trunk's `max_calls`: the call past it gets 503 Trunk Busy and reaches no gateway;
/// when a call through it ends, the next goes through.
#[test]
fn a_full_trunk_refuses_the_next_call() {
    let gateway = addr(40, 5060);
    let mut opts = Opts::default();
    opts.config.trunks.push(crate::config::Trunk {
        name: "pstn".into(),
        address: gateway,
        transport: crate::config::Transport::Udp,
        prefixes: vec!["+".into()],
        max_calls: 1,
    });
    let mut h = Harness::with(opts);
    let mut a = h.call(
        ALICE,
        "1001",
        "+15550100",
        Some(&sdp_at(ALICE, ALICE_RTP)),
        "",
    );
    let inv = h.req(gateway, "INVITE");
    h.reply(gateway, &inv, 200, "gw", Some(&sdp_at(gateway, 7000)));
    let ok = h.resp_to(ALICE, 200, "INVITE");
    h.req(gateway, "ACK");
    a.answered(&ok);
    a.ack(&mut h, None);
    let _b = h.call(BOB, "1002", "+15550101", Some(&sdp_at(BOB, BOB_RTP)), "");
    assert_eq!(h.resp(BOB, 503).reason, "Trunk Busy");
    h.assert_no_req(gateway, "INVITE");
    a.request(&mut h, "BYE", None, "");
    h.req(gateway, "BYE");
    let _c = h.call(
        CAROL,
        "1003",
        "+15550102",
        Some(&sdp_at(CAROL, CAROL_RTP)),
        "",
    );
    h.req(gateway, "INVITE");
}

#[test]
fn a_hang_up_asked_of_the_switch_byes_both_phones_and_ends_the_call() {
    use crate::engine::{CallOp, Output};
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    // The view a desktop draws: the phase, and who each leg reaches.
    let calls = h.engine.calls();
    let view = calls.first().unwrap();
    assert_eq!(view.phase, "talking");
    let parties: Vec<&str> = view.legs.iter().map(|l| l.party.as_str()).collect();
    assert_eq!(parties, ["1001", "1002"]);
    assert_eq!((view.interaction, view.agent.as_deref()), (None, None));
    let view = h.call_op(&a.call_id, CallOp::Hangup).unwrap();
    assert_eq!(view.id, a.call_id);
    h.req(ALICE, "BYE");
    h.req(BOB, "BYE");
    let change = h.take_output("the hung_up change", |o| match o {
        Output::CallChanged(c) => Some(c.change),
        _ => None,
    });
    assert_eq!(change, "hung_up");
    assert!(h.engine.calls().is_empty(), "the call is over");
    assert_eq!(
        h.call_op(&a.call_id, CallOp::Hangup).unwrap_err(),
        ControlError::NoCall(a.call_id.clone())
    );
}
