//! A supervisor (Carol, 1003) on Alice's call to the agent Bob: rung from an endpoint of her
//! own, then joined by the mixer as the mode says; her BYE puts the call back.

use super::harness::*;
use crate::engine::{CallOp, ControlError, SuperviseMode};

const PCMU: &str = "codec: Pcmu { payload_type: 0 }";

fn supervise(
    h: &mut Harness,
    call: &str,
    mode: SuperviseMode,
) -> Result<crate::engine::CallView, ControlError> {
    h.call_op(
        call,
        CallOp::Supervise {
            extension: "1003".into(),
            mode,
        },
    )
}

fn supervised(h: &mut Harness, mode: SuperviseMode) -> (Dlg, Dlg, Dlg) {
    let (a, b) = connect(h, "");
    supervise(h, &a.call_id, mode).unwrap();
    assert!(h.take_media().contains(&"AddEndpoint(1/2)".to_string()));
    let inv = h.req(CAROL, "INVITE");
    assert_relay_sdp(&inv.headers, &inv.body, endpoint_port(2));
    assert!(
        inv.headers.from().unwrap().uri.to_string().contains("1002"),
        "names the agent"
    );
    let c = Dlg::callee(CAROL, &inv, "carol");
    h.reply(CAROL, &inv, 200, "carol", Some(&sdp_at(CAROL, CAROL_RTP)));
    h.req(CAROL, "ACK");
    let view = &h.engine.calls()[0];
    assert_eq!(view.legs.len(), 3);
    assert!(view
        .supervisor
        .as_ref()
        .is_some_and(|s| s.joined && s.mode == mode));
    (a, b, c)
}

#[test]
fn listen_then_whisper_then_barge() {
    let mut h = Harness::new();
    let (a, _b, _c) = supervised(&mut h, SuperviseMode::Listen);
    let media = h.take_media();
    for expected in [
        format!("Hear(1/2, Mix {{ of: [B, A], {PCMU} }})"),
        "Hear(1/B, Endpoint(A))".to_string(),
        "Hear(1/A, Endpoint(B))".to_string(),
    ] {
        assert!(media.contains(&expected), "{expected} in {media:?}");
    }
    // Whisper: the agent hears the customer and the supervisor; the customer only the agent.
    supervise(&mut h, &a.call_id, SuperviseMode::Whisper).unwrap();
    let media = h.take_media();
    assert!(
        media.contains(&format!("Hear(1/B, Mix {{ of: [A, 2], {PCMU} }})")),
        "{media:?}"
    );
    assert!(
        media.contains(&"Hear(1/A, Endpoint(B))".to_string()),
        "{media:?}"
    );
    h.assert_no_req(CAROL, "INVITE");
    supervise(&mut h, &a.call_id, SuperviseMode::Barge).unwrap();
    let media = h.take_media();
    for side in ["A", "B", "2"] {
        let expected = format!("Hear(1/{side}, Mix {{ of: [B, A, 2], {PCMU} }})");
        assert!(media.contains(&expected), "{expected} in {media:?}");
    }
}

#[test]
fn the_supervisor_hanging_up_puts_the_call_back() {
    let mut h = Harness::new();
    let (a, _b, mut c) = supervised(&mut h, SuperviseMode::Whisper);
    h.take_media();
    c.request(&mut h, "BYE", None, "");
    h.resp_to(CAROL, 200, "BYE");
    let media = h.take_media();
    for expected in [
        "RemoveEndpoint(1/2)",
        "Hear(1/B, Endpoint(A))",
        "Hear(1/A, Endpoint(B))",
    ] {
        assert!(
            media.contains(&expected.to_string()),
            "{expected} in {media:?}"
        );
    }
    let view = &h.engine.calls()[0];
    assert_eq!(view.legs.len(), 2);
    assert!(view.supervisor.is_none());
    assert_eq!(
        h.call_op(&a.call_id, CallOp::Unsupervise).unwrap_err(),
        ControlError::NotSupervised
    );
    h.assert_no_req(ALICE, "BYE");
    h.assert_no_req(BOB, "BYE");
}

#[test]
fn the_call_ending_releases_the_supervisor_and_consult_waits_for_them() {
    let mut h = Harness::new();
    let (mut a, _b, _c) = supervised(&mut h, SuperviseMode::Listen);
    assert_eq!(
        h.call_op(
            &a.call_id,
            CallOp::Consult {
                target: "1001".into()
            }
        )
        .unwrap_err(),
        ControlError::Supervised
    );
    a.request(&mut h, "BYE", None, "");
    h.req(BOB, "BYE");
    h.req(CAROL, "BYE");
    assert!(h.engine.calls().is_empty());
}

#[test]
fn a_supervisor_who_does_not_answer_is_forgotten() {
    let mut h = Harness::new();
    let (a, _b) = connect(&mut h, "");
    supervise(&mut h, &a.call_id, SuperviseMode::Listen).unwrap();
    assert_eq!(
        supervise(&mut h, &a.call_id, SuperviseMode::Barge).unwrap_err(),
        ControlError::Busy
    );
    let inv = h.req(CAROL, "INVITE");
    h.reply(CAROL, &inv, 486, "carol", None);
    let view = &h.engine.calls()[0];
    assert!(view.supervisor.is_none());
    assert_eq!(view.legs.len(), 2);
}

/// Carol supervises from her own phone: `*56` + Bob's extension whispers; the switch
/// answers her INVITE from an endpoint of Bob's call, and her BYE puts it back. Someone
/// who is not Bob's supervisor gets 403; no call of that extension, 404.
#[test]
fn a_supervisor_joins_from_their_phone_by_feature_code() {
    let mut h = Harness::with(Opts {
        supervises: vec![("1003", "1002")],
        ..Opts::default()
    });
    // Nobody to supervise yet.
    let _early = h.call(
        CAROL,
        "1003",
        "*551002",
        Some(&sdp_at(CAROL, CAROL_RTP)),
        "",
    );
    let r = h.resp(CAROL, 404);
    assert_eq!(r.code, 404);
    let (a, _b) = connect(&mut h, "");
    // Alice (not Bob's supervisor) may not.
    let _nosy = h.call(
        ALICE,
        "1001",
        "*551002",
        Some(&sdp_at(ALICE, ALICE_RTP)),
        "",
    );
    h.resp(ALICE, 403);
    let mut c = h.call(
        CAROL,
        "1003",
        "*561002",
        Some(&sdp_at(CAROL, CAROL_RTP)),
        "",
    );
    let ok = h.resp_to(CAROL, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, endpoint_port(2));
    c.answered(&ok);
    c.ack(&mut h, None);
    let media = h.take_media();
    for expected in [
        "AddEndpoint(1/2)".to_string(),
        format!("Hear(1/B, Mix {{ of: [A, 2], {PCMU} }})"),
        "Hear(1/A, Endpoint(B))".to_string(),
        format!("Connect(1/2, Some({}:{CAROL_RTP}))", CAROL.ip()),
    ] {
        assert!(media.contains(&expected), "{expected} in {media:?}");
    }
    let view = &h.engine.calls()[0];
    assert_eq!(view.id, a.call_id);
    assert!(view
        .supervisor
        .as_ref()
        .is_some_and(|s| s.joined && s.mode == SuperviseMode::Whisper));
    // A second supervisor: busy.
    let _second = h.call(
        CAROL,
        "1003",
        "*571002",
        Some(&sdp_at(CAROL, CAROL_RTP)),
        "",
    );
    h.resp(CAROL, 486);
    // Carol hangs up: Alice and Bob talk as before.
    c.request(&mut h, "BYE", None, "");
    h.resp_to(CAROL, 200, "BYE");
    assert!(h
        .take_media()
        .contains(&"Hear(1/B, Endpoint(A))".to_string()));
    assert!(h.engine.calls()[0].supervisor.is_none());
}

/// An agent who called out from their own phone (Alice, 1001, calling Bob) is found by
/// their extension as the caller: Carol's whisper reaches Alice, never Bob.
#[test]
fn a_supervisor_whispers_to_an_agent_who_called_out() {
    let mut h = Harness::with(Opts {
        supervises: vec![("1003", "1001")],
        ..Opts::default()
    });
    let (_a, _b) = connect(&mut h, "");
    let mut c = h.call(
        CAROL,
        "1003",
        "*561001",
        Some(&sdp_at(CAROL, CAROL_RTP)),
        "",
    );
    let ok = h.resp_to(CAROL, 200, "INVITE");
    c.answered(&ok);
    c.ack(&mut h, None);
    let media = h.take_media();
    for expected in [
        format!("Hear(1/A, Mix {{ of: [B, 2], {PCMU} }})"),
        "Hear(1/B, Endpoint(A))".to_string(),
    ] {
        assert!(media.contains(&expected), "{expected} in {media:?}");
    }
}
