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
