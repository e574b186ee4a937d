//! Calls the switch ends on its own: the caller's session refresh never came (RFC 4028),
//! or no RTP flowed for `media.no_media_timeout_secs`.

use super::harness::*;
use crate::records::{Cause, HangupSide};

const TIMER: &str = "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n";

#[test]
fn session_timer_expiry_ends_the_call() {
    let mut h = Harness::new();
    let (mut a, _b, ok) = connect_ok(&mut h, TIMER);
    assert_eq!(ok.headers.get("Session-Expires"), Some("90;refresher=uac"));
    assert_eq!(ok.headers.get("Require"), Some("timer"));

    // A refresh without SDP is answered here, with our last SDP, and pushes the deadline.
    h.advance(secs(60));
    a.request(&mut h, "INVITE", None, TIMER);
    let refreshed = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&refreshed.headers, &refreshed.body, PORT_A);
    assert_eq!(
        refreshed.headers.get("Session-Expires"),
        Some("90;refresher=uac")
    );
    h.assert_no_req(BOB, "INVITE");
    a.ack(&mut h, None);

    h.advance(secs(89));
    h.assert_no_req(ALICE, "BYE");
    h.assert_no_req(BOB, "BYE");
    h.advance(secs(1));
    let bye_a = h.req(ALICE, "BYE");
    let bye_b = h.req(BOB, "BYE");
    h.reply(ALICE, &bye_a, 200, "1001-1", None);
    h.reply(BOB, &bye_b, 200, "bob", None);
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side, cdr.status),
        (Cause::SessionTimeout, HangupSide::Switch, 200)
    );
    assert_eq!(cdr.talk_secs, 150.0);
    assert!(h.engine.is_idle());
}

#[test]
fn no_media_ends_the_call() {
    let mut h = Harness::new();
    let limit = h
        .engine
        .cx
        .config
        .media
        .no_media_timeout()
        .expect("demo checks media");
    connect(&mut h, "");
    // RTP flows: the probes find the relay busy.
    h.advance(limit);
    let probes = h.take_media().iter().filter(|m| *m == "Probe(1)").count();
    assert!(probes >= 3, "{probes} probes in {limit:?}");
    h.assert_no_req(ALICE, "BYE");

    // Then it stops.
    h.idle_for = limit + secs(1);
    h.advance(limit / 4);
    let bye_a = h.req(ALICE, "BYE");
    let bye_b = h.req(BOB, "BYE");
    h.reply(ALICE, &bye_a, 200, "1001-1", None);
    h.reply(BOB, &bye_b, 200, "bob", None);
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side),
        (Cause::NoMedia, HangupSide::Switch)
    );
    assert!(h.engine.is_idle());
}
