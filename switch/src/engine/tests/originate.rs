//! Calls placed for an agent: the agent's phone first (auto-answer), ringback while the
//! contact rings, then the two are bridged; the dialer hears every step.

use super::harness::*;
use crate::engine::{Input, Origination, OriginationEvent};
use crate::records::{Cause, HangupSide};

fn origination(extension: &str, number: &str) -> Input {
    Input::Originate(Origination {
        agent: "agent-7".into(),
        extension: extension.into(),
        number: number.into(),
        caller_id: String::new(),
        attempt: 7,
    })
}

#[test]
fn agent_then_contact_then_bye() {
    let mut h = Harness::new();
    h.input(origination("1001", "1002"));
    assert_eq!(h.take_media()[0], "Allocate(1)");
    let inv = h.req(ALICE, "INVITE");
    assert_eq!(inv.uri.to_string(), format!("sip:1001@{ALICE}"));
    assert!(inv
        .headers
        .get("Call-Info")
        .unwrap()
        .contains("answer-after=0"));
    assert!(inv.headers.get("From").unwrap().contains("sip:1002@"));
    assert_relay_sdp(&inv.headers, &inv.body, PORT_A);
    assert_eq!(h.published(), ["dialling"]);
    h.assert_no_req(BOB, "INVITE");

    h.reply(ALICE, &inv, 180, "agent", None);
    h.reply(ALICE, &inv, 200, "agent", Some(&sdp_at(ALICE, ALICE_RTP)));
    h.req(ALICE, "ACK");
    assert_eq!(
        h.reports(),
        [OriginationEvent::AgentAnswered { attempt: 7 }]
    );
    assert_eq!(h.published(), ["agent_answered"]);
    let media = h.take_media();
    assert!(
        media.iter().any(|m| m.starts_with("Play(1/A")),
        "ringback: {media:?}"
    );
    assert!(media.contains(&format!("Connect(1/A, Some({}:{ALICE_RTP}))", ALICE.ip())));

    let call = h.req(BOB, "INVITE");
    assert_eq!(call.uri.to_string(), format!("sip:1002@{BOB}"));
    assert!(call.headers.get("From").unwrap().contains("sip:1001@"));
    assert_ne!(call.headers.call_id(), inv.headers.call_id());
    assert_relay_sdp(&call.headers, &call.body, PORT_B);
    h.reply(BOB, &call, 180, "contact", None);
    h.advance(secs(2));
    h.reply(BOB, &call, 200, "contact", Some(&sdp_at(BOB, BOB_RTP)));
    h.req(BOB, "ACK");
    assert_eq!(h.reports(), [OriginationEvent::Connected { attempt: 7 }]);
    assert_eq!(h.published(), ["connected"]);
    assert!(h.take_media().contains(&"StopPlaying(1/A)".to_string()));

    h.advance(secs(9));
    let mut agent = Dlg::callee(ALICE, &inv, "agent");
    agent.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    let bye = h.req(BOB, "BYE");
    h.reply(BOB, &bye, 200, "contact", None);
    assert_eq!(
        h.reports(),
        [OriginationEvent::Ended {
            attempt: 7,
            sip_status: 200
        }]
    );
    assert_eq!(h.published(), ["ended"]);
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side),
        (Cause::Normal, HangupSide::Caller)
    );
    assert_eq!(cdr.talk_secs, 9.0);
    assert!(h.engine.is_idle());
}

#[test]
fn agent_declines_or_is_unreachable() {
    let mut opts = Opts::default();
    opts.bindings.retain(|(u, _)| *u != "1003");
    let mut h = Harness::with(opts);
    h.input(origination("1003", "1002"));
    assert_eq!(
        h.reports(),
        [OriginationEvent::Ended {
            attempt: 7,
            sip_status: 480
        }]
    );
    assert!(h.media.is_empty());

    h.input(origination("1001", "1002"));
    let inv = h.req(ALICE, "INVITE");
    h.reply(ALICE, &inv, 486, "agent", None);
    h.req(ALICE, "ACK");
    h.assert_no_req(BOB, "INVITE");
    assert_eq!(
        h.reports(),
        [OriginationEvent::Ended {
            attempt: 7,
            sip_status: 486
        }]
    );
    assert_eq!(h.cdr().cause, Cause::Busy);
}

#[test]
fn contact_busy_releases_the_agent() {
    let mut h = Harness::new();
    h.input(origination("1001", "1002"));
    let inv = h.req(ALICE, "INVITE");
    h.reply(ALICE, &inv, 200, "agent", Some(&sdp_at(ALICE, ALICE_RTP)));
    let call = h.req(BOB, "INVITE");
    h.reply(BOB, &call, 486, "contact", None);
    h.req(BOB, "ACK");
    let bye = h.req(ALICE, "BYE");
    assert_eq!(tag_of(&bye.headers, "To").as_deref(), Some("agent"));
    h.reply(ALICE, &bye, 200, "agent", None);
    let reports = h.reports();
    assert_eq!(
        reports.last(),
        Some(&OriginationEvent::Ended {
            attempt: 7,
            sip_status: 486
        }),
        "{reports:?}"
    );
    assert!(h.engine.is_idle());
}

/// The agent answered; the contact's phone rings. Returns the agent's dialog and the
/// contact's INVITE.
fn contact_ringing(h: &mut Harness) -> (Dlg, sip::Request) {
    h.input(origination("1001", "1002"));
    let inv = h.req(ALICE, "INVITE");
    h.reply(ALICE, &inv, 200, "agent", Some(&sdp_at(ALICE, ALICE_RTP)));
    h.req(ALICE, "ACK");
    let call = h.req(BOB, "INVITE");
    h.reply(BOB, &call, 180, "contact", None);
    h.reports();
    h.published();
    (Dlg::callee(ALICE, &inv, "agent"), call)
}

#[test]
fn contact_early_media_replaces_our_ringback() {
    let mut h = Harness::new();
    let (_agent, call) = contact_ringing(&mut h);
    h.take_media();
    h.reply(BOB, &call, 183, "contact", Some(&sdp_at(BOB, BOB_RTP)));
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/A)".to_string()), "{media:?}");
    assert!(media.contains(&format!("Connect(1/B, Some({}:{BOB_RTP}))", BOB.ip())));
    // The agent's phone answered already: nothing is relayed to it.
    assert_eq!(h.count(ALICE, |_| true), 0);
}

#[test]
fn hold_is_reported() {
    let mut h = Harness::new();
    let (mut agent, call) = contact_ringing(&mut h);
    h.reply(BOB, &call, 200, "contact", Some(&sdp_at(BOB, BOB_RTP)));
    h.reports();
    h.published();
    let hold = sdp_at(ALICE, ALICE_RTP).replace("a=sendrecv", "a=sendonly");
    h.take_media();
    agent.request(&mut h, "INVITE", Some(&hold), "");
    // The switch answers the hold itself; the contact hears music.
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert!(String::from_utf8_lossy(&ok.body).contains("a=recvonly"));
    h.assert_no_req(BOB, "INVITE");
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/B")));
    assert_eq!(
        h.reports(),
        [OriginationEvent::Held {
            attempt: 7,
            held: true
        }]
    );
    assert_eq!(h.published(), ["on_hold"]);
}

#[test]
fn agent_hanging_up_while_the_contact_rings() {
    let mut h = Harness::new();
    let (mut agent, call) = contact_ringing(&mut h);
    agent.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    let cancel = h.req(BOB, "CANCEL");
    h.reply(BOB, &cancel, 200, "contact", None);
    h.reply(BOB, &call, 487, "contact", None);
    // Not a conversation: the dialer must not count it as one.
    assert_eq!(
        h.reports(),
        [OriginationEvent::Ended {
            attempt: 7,
            sip_status: 487
        }]
    );
    let cdr = h.cdr();
    assert_eq!(
        (cdr.cause, cdr.hangup_side, cdr.status, cdr.answer_ms),
        (Cause::Cancelled, HangupSide::Caller, 487, None)
    );
    assert_eq!(h.published(), ["ended"]);
    assert!(h.engine.is_idle());
}
