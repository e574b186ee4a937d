//! An agent dials a feature code: the switch answers, asks the ACD, plays the
//! confirmation, then hangs up.

use super::harness::*;
use crate::engine::{Input, Output};
use crate::orders::{AcdOrder, Feature, FeatureOutcome};
use crate::records::{Cause, HangupSide};

#[test]
fn ready_code_is_confirmed_then_hung_up() {
    let mut h = Harness::new();
    let mut a = h.call(
        ALICE,
        "1001",
        READY_CODE,
        Some(&sdp_at(ALICE, ALICE_RTP)),
        "",
    );
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    h.assert_no_req(BOB, "INVITE");
    let call = h.take_output("feature", |o| match o {
        Output::Feature {
            call,
            user,
            feature,
        } => Some((*call, user.clone(), *feature)),
        _ => None,
    });
    assert_eq!((call.1.as_str(), call.2), ("1001", Feature::Ready));
    a.answered(&ok);
    a.ack(&mut h, None);
    h.take_media();

    h.advance(secs(1));
    h.input(Input::Acd(AcdOrder::FeatureDone {
        call: call.0,
        outcome: FeatureOutcome::Ready,
    }));
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/A")));
    let length = crate::prompts::duration(&h.engine.cx.prompts.feature("agent_ready"));
    assert!(length > secs(0));

    // Hung up after the confirmation (and a short grace).
    h.advance(length);
    h.assert_no_req(ALICE, "BYE");
    h.advance(secs(1));
    let bye = h.req(ALICE, "BYE");
    assert_eq!(bye.headers.call_id(), Some(a.call_id.as_str()));
    h.reply(ALICE, &bye, 200, "1001-1", None);
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side, cdr.status),
        (Cause::Normal, HangupSide::Switch, 200)
    );
    assert_eq!(cdr.to_user, READY_CODE);
    assert!(h.engine.is_idle());
}
