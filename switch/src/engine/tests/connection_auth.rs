//! A connection that proves its user (a SIP WebSocket opened with that user's API
//! session): that user's REGISTER and INVITE need no digest, anyone else's are challenged;
//! requests to a user registered over it go back to it with Via `SIP/2.0/WS` and our
//! Contact `transport=ws`.

use super::harness::*;
use sip::Message;

/// The WebSocket client of user 1001.
const WS_PHONE: std::net::SocketAddr = addr(21, 40000);

fn harness() -> Harness {
    let mut opts = Opts {
        ws_users: vec![(WS_PHONE, "1001")],
        bindings: Vec::new(),
        ..Opts::default()
    };
    opts.config.sip.trusted = Vec::new();
    Harness::with(opts)
}

fn register(user: &str, cseq: u32) -> String {
    format!(
        "REGISTER sip:{DOMAIN} SIP/2.0\r\n\
         Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK-reg-{user}-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@{DOMAIN}>;tag=r{user}\r\n\
         To: <sip:{user}@{DOMAIN}>\r\n\
         Call-ID: ws-reg-{user}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:{user}@df7jal23ls0d.invalid;transport=ws>;expires=600\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

#[test]
fn the_connections_user_registers_without_digest_and_others_are_challenged() {
    let mut h = harness();
    h.send_ws(WS_PHONE, register("1001", 1));
    let ok = h.resp(WS_PHONE, 200);
    assert!(
        ok.headers
            .get("Contact")
            .unwrap_or_default()
            .contains("transport=ws"),
        "{ok:?}"
    );
    // The session proves 1001 only.
    h.send_ws(WS_PHONE, register("1002", 1));
    let challenge = h.resp(WS_PHONE, 401);
    assert!(challenge.headers.has("WWW-Authenticate"));
    // The same user from a connection that proves nothing is challenged as usual.
    h.send(
        ALICE,
        register("1001", 1).replace(
            "SIP/2.0/WS df7jal23ls0d.invalid",
            "SIP/2.0/UDP 127.0.0.11:5060",
        ),
    );
    h.resp(ALICE, 401);
}

#[test]
fn the_connections_user_calls_without_digest() {
    let mut h = harness();
    h.send_ws(WS_PHONE, register("1001", 1));
    h.resp(WS_PHONE, 200);
    // 1001 calls 1002 (unregistered) over its socket: no 407, the call is routed (480).
    h.send_ws(
        WS_PHONE,
        format!(
            "INVITE sip:1002@{DOMAIN} SIP/2.0\r\n\
             Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK-inv-1\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:1001@{DOMAIN}>;tag=c1\r\n\
             To: <sip:1002@{DOMAIN}>\r\n\
             Call-ID: ws-call-1\r\n\
             CSeq: 1 INVITE\r\n\
             Contact: <sip:1001@df7jal23ls0d.invalid;transport=ws>\r\n\
             Content-Type: application/sdp\r\n\r\n{}",
            sdp_at(WS_PHONE, 7000)
        ),
    );
    let answers: Vec<u16> = h
        .drain(WS_PHONE)
        .into_iter()
        .filter_map(|m| match m {
            Message::Response(r) => Some(r.code),
            _ => None,
        })
        .collect();
    assert!(
        !answers.contains(&407),
        "the connection's user is not challenged: {answers:?}"
    );
    assert!(
        answers.contains(&480),
        "routed to the unregistered 1002: {answers:?}"
    );
}

#[test]
fn a_call_to_the_websocket_user_goes_down_its_connection() {
    let mut opts = Opts {
        ws_users: vec![(WS_PHONE, "1001")],
        bindings: Vec::new(),
        ..Opts::default()
    };
    // Alice's phone is a trusted gateway; the WebSocket client is not.
    opts.config.sip.trusted = vec!["127.0.0.11/32".parse().expect("cidr")];
    let mut h = Harness::with(opts);
    h.send_ws(WS_PHONE, register("1001", 1));
    h.resp(WS_PHONE, 200);
    let sdp = sdp_at(ALICE, ALICE_RTP);
    let _caller = h.call(ALICE, "1002", "1001", Some(&sdp), "");
    let invite = h.req(WS_PHONE, "INVITE");
    let via = invite.headers.top_via().expect("a Via");
    assert_eq!(via.transport, "WS", "{via}");
    assert_eq!(
        (via.host.as_str(), via.port),
        ("127.0.0.1", Some(SWITCH_WS.port()))
    );
    let contact = invite.headers.get("Contact").unwrap_or_default();
    assert!(
        contact.contains(&format!("{SWITCH_WS};transport=ws")),
        "{contact}"
    );
    assert_eq!(
        invite.uri.to_string(),
        "sip:1001@df7jal23ls0d.invalid;transport=ws",
        "the Request-URI is the registered contact"
    );
}

#[test]
fn a_call_to_a_socket_that_is_gone_fails_at_once() {
    let mut opts = Opts {
        ws_users: vec![(WS_PHONE, "1001")],
        bindings: Vec::new(),
        ..Opts::default()
    };
    opts.config.sip.trusted = vec!["127.0.0.11/32".parse().expect("cidr")];
    let mut h = Harness::with(opts);
    h.send_ws(WS_PHONE, register("1001", 1));
    h.resp(WS_PHONE, 200);
    let sdp = sdp_at(ALICE, ALICE_RTP);
    let _caller = h.call(ALICE, "1002", "1001", Some(&sdp), "");
    h.req(WS_PHONE, "INVITE");
    // The transport finds the socket closed: the caller hears now, not at timer B.
    h.input(crate::engine::Input::TransportFailed(ws(WS_PHONE)));
    let answers: Vec<u16> = h
        .drain(ALICE)
        .into_iter()
        .filter_map(|m| match m {
            Message::Response(r) if r.code >= 300 => Some(r.code),
            _ => None,
        })
        .collect();
    assert_eq!(answers.len(), 1, "one final answer: {answers:?}");
    assert!(answers[0] >= 400 && answers[0] != 408, "{answers:?}");
}
