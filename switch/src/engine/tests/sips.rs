//! The SIPS scheme (RFC 3261 §26.2.2, RFC 5630): a `sips:` Request-URI over a plain hop gets
//! 416 with Warning 380; a `sips:` call is never forked to a contact on a plain transport
//! (480 with Warning 380), and reaches a callee whose contacts are all TLS.

use super::harness::*;

fn sips_call(h: &mut Harness, from: std::net::SocketAddr) -> Dlg {
    let mut d = h.dialog_from(from, "1001", "1002");
    d.invite_uri = format!("sips:1002@{DOMAIN}");
    d.invite(h, Some(&sdp_at(from, ALICE_RTP)), "");
    d
}

fn assert_sips_not_allowed(r: &sip::Response) {
    let warning = r.headers.get("Warning").unwrap_or_default();
    assert!(
        warning.starts_with("380 ") && warning.ends_with("\"SIPS Not Allowed\""),
        "{warning}"
    );
}

#[test]
fn a_sips_request_uri_over_udp_gets_416_with_warning_380() {
    let mut h = Harness::new();
    sips_call(&mut h, ALICE);
    let r = h.resp_to(ALICE, 416, "INVITE");
    assert_sips_not_allowed(&r);
    h.assert_no_req(BOB, "INVITE");
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn a_sips_request_uri_over_a_plain_websocket_gets_416() {
    // A WebSocket connection carries its desktop session's user (connection_auth.rs).
    let mut h = Harness::with(Opts {
        ws_users: vec![(ALICE, "1001")],
        ..Opts::default()
    });
    let text = format!(
        "OPTIONS sips:1002@{DOMAIN} SIP/2.0\r\nVia: SIP/2.0/WS {ALICE};branch=z9hG4bKsips1\r\n\
         From: <sip:1001@{DOMAIN}>;tag=a\r\nTo: <sips:1002@{DOMAIN}>\r\nCall-ID: sips-ws\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    h.send_ws(ALICE, text);
    assert_sips_not_allowed(&h.resp_to(ALICE, 416, "OPTIONS"));
}

#[test]
fn a_sips_call_over_tls_to_a_udp_phone_gets_480_with_warning_380() {
    let mut h = Harness::with(Opts {
        tls_phones: vec![ALICE],
        ..Opts::default()
    });
    sips_call(&mut h, ALICE);
    let r = h.resp_to(ALICE, 480, "INVITE");
    assert_sips_not_allowed(&r);
    h.assert_no_req(BOB, "INVITE");
    assert_eq!(h.engine.active_calls(), 0);
}

#[test]
fn a_sips_call_over_tls_reaches_a_tls_phone() {
    let mut h = Harness::with(Opts {
        tls_phones: vec![ALICE, BOB],
        ..Opts::default()
    });
    sips_call(&mut h, ALICE);
    h.req(BOB, "INVITE");
}
