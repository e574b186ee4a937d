//! SIP MESSAGE (RFC 3428 page mode) with phones: out to each registered contact, in from a
//! phone as an output for the IM service; wrong content types and unknown targets refused.

use super::harness::*;
use crate::engine::{Output, SipIm};

fn message(from_user: &str, to_user: &str, content_type: &str, body: &str, branch: &str) -> String {
    format!(
        "MESSAGE sip:{to_user}@{SWITCH} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {ALICE};branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{from_user}@{DOMAIN}>;tag=m1\r\n\
         To: <sip:{to_user}@{DOMAIN}>\r\n\
         Call-ID: im-1@{ALICE}\r\n\
         CSeq: 1 MESSAGE\r\n\
         Content-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn an_im_for_a_phone_goes_out_as_message_to_its_contact() {
    let mut h = Harness::new();
    h.engine.send_im(
        h.now,
        &SipIm {
            from: "1001".into(),
            from_name: "Dana Agent".into(),
            to: "1002".into(),
            text: "Hello phone".into(),
        },
    );
    // The shard polls the engine's outputs after the call; a tick does the same here.
    h.input(crate::engine::Input::Tick);
    let m = h.req(BOB, "MESSAGE");
    assert_eq!(m.uri.to_string(), format!("sip:1002@{BOB}"));
    assert_eq!(m.body, b"Hello phone");
    assert!(m
        .headers
        .get("Content-Type")
        .unwrap()
        .starts_with("text/plain"));
    let from = m.headers.get("From").unwrap();
    assert!(
        from.contains("\"Dana Agent\"") && from.contains("sip:1001@"),
        "{from}"
    );
    assert!(m.headers.get("To").unwrap().contains("sip:1002@"));
    // Nobody registered: nothing is sent.
    h.engine.send_im(
        h.now,
        &SipIm {
            from: "1001".into(),
            from_name: String::new(),
            to: "4711".into(),
            text: "x".into(),
        },
    );
    h.input(crate::engine::Input::Tick);
    assert!(h.drain(BOB).is_empty());
}

#[test]
fn a_message_from_a_phone_is_answered_and_handed_to_the_im_service() {
    let mut h = Harness::new();
    let b = h.branch();
    h.send(ALICE, message("1001", "1002", "text/plain", "Hi agent", &b));
    let ok = h.resp_to(ALICE, 200, "MESSAGE");
    assert_eq!(ok.headers.call_id(), Some(format!("im-1@{ALICE}").as_str()));
    let im = h.take_output("IM", |o| match o {
        Output::Im(m) => Some(m.clone()),
        _ => None,
    });
    assert_eq!(
        im,
        SipIm {
            from: "1001".into(),
            from_name: String::new(),
            to: "1002".into(),
            text: "Hi agent".into(),
        }
    );
    // Not text/plain: 415 with what is accepted, and nothing for the IM service.
    let b = h.branch();
    h.send(
        ALICE,
        message("1001", "1002", "application/im-iscomposing+xml", "<x/>", &b),
    );
    let refused = h.resp_to(ALICE, 415, "MESSAGE");
    assert_eq!(refused.headers.get("Accept"), Some("text/plain"));
    assert!(!h.outputs.iter().any(|o| matches!(o, Output::Im(_))));
}
