//! Fake-clock tests of every timer and retransmission path.

use super::*;
use crate::wire::parse_datagram;

fn udp(port: u16) -> Target {
    Target {
        transport: TransportKind::Udp,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    }
}

fn tcp(port: u16) -> Target {
    Target {
        transport: TransportKind::Tcp,
        ..udp(port)
    }
}

fn request(method: &str, branch: &str) -> Request {
    let text = format!(
        "{method} sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch={branch};rport\r\n\
Max-Forwards: 70\r\nFrom: <sip:alice@a>;tag=a1\r\nTo: <sip:bob@b>\r\nCall-ID: c1\r\n\
CSeq: 1 {method}\r\nContent-Length: 0\r\n\r\n"
    );
    match parse_datagram(text.as_bytes()).unwrap() {
        Message::Request(r) => r,
        _ => unreachable!(),
    }
}

fn response_to(req: &Request, code: u16) -> Message {
    Message::Response(req.response(code, None, Some("b1")))
}

fn drain_tx(l: &mut Layer) -> Vec<Transmit> {
    std::iter::from_fn(|| l.poll_transmit()).collect()
}

fn drain_ev(l: &mut Layer) -> Vec<Event> {
    std::iter::from_fn(|| l.poll_event()).collect()
}

fn first_line(t: &Transmit) -> String {
    String::from_utf8_lossy(&t.data)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Advance to each deadline up to `until`, returning (offset from start, first line sent).
fn run_until(l: &mut Layer, start: Instant, until: Duration) -> Vec<(Duration, String)> {
    let mut out = Vec::new();
    while let Some(at) = l.poll_timeout() {
        if at > start + until {
            break;
        }
        l.handle_timeout(at);
        for t in drain_tx(l) {
            out.push((at - start, first_line(&t)));
        }
    }
    out
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn server_invite(l: &mut Layer, now: Instant, source: Target) -> (TxId, Request) {
    l.handle_message(
        now,
        Message::Request(request("INVITE", "z9hG4bKinv")),
        source,
    );
    let sent = drain_tx(l);
    assert_eq!(first_line(&sent[0]), "SIP/2.0 100 Trying");
    match drain_ev(l).remove(0) {
        Event::Request { tx, request, .. } => (tx, request),
        e => panic!("{e:?}"),
    }
}

#[test]
fn server_invite_rport_and_retransmission_absorbed() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let (tx, req) = server_invite(&mut l, now, udp(40000));
    let via = req.headers.top_via().unwrap();
    assert_eq!(via.param("rport"), Some(Some("40000")));
    assert_eq!(l.server_reply_target(tx), Some(udp(40000)));
    l.respond(now, tx, req.response(180, None, Some("b1")));
    assert_eq!(first_line(&drain_tx(&mut l)[0]), "SIP/2.0 180 Ringing");
    // A retransmitted INVITE gets the last provisional again and no new event.
    l.handle_message(
        now,
        Message::Request(request("INVITE", "z9hG4bKinv")),
        udp(40000),
    );
    assert_eq!(first_line(&drain_tx(&mut l)[0]), "SIP/2.0 180 Ringing");
    assert!(drain_ev(&mut l).is_empty());
}

#[test]
fn server_invite_non2xx_timer_g_h() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let (tx, req) = server_invite(&mut l, now, udp(40000));
    l.respond(now, tx, req.response(486, None, Some("b1")));
    assert_eq!(drain_tx(&mut l).len(), 1);
    let sent = run_until(&mut l, now, Duration::from_secs(40));
    let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    // G: T1, then doubling to T2 (0.5, 1.5, 3.5, 7.5, 11.5, ...), until H at 64*T1.
    assert_eq!(
        &times[..5],
        &[ms(500), ms(1500), ms(3500), ms(7500), ms(11500)]
    );
    assert!(times.iter().all(|t| *t < ms(32000)));
    assert!(sent.iter().all(|(_, l)| l == "SIP/2.0 486 Busy Here"));
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Timeout { tx: t }] if *t == tx));
    assert!(l.is_empty());
}

#[test]
fn server_invite_ack_confirms_then_timer_i() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let (tx, req) = server_invite(&mut l, now, udp(40000));
    l.respond(now, tx, req.response(486, None, Some("b1")));
    drain_tx(&mut l);
    let ack = request("ACK", "z9hG4bKinv");
    l.handle_message(now + ms(100), Message::Request(ack.clone()), udp(40000));
    assert!(drain_ev(&mut l).is_empty(), "ACK of a non-2xx is absorbed");
    // No more G retransmissions; ACK retransmissions absorbed; gone after T4.
    l.handle_message(now + ms(200), Message::Request(ack), udp(40000));
    let sent = run_until(&mut l, now, Duration::from_secs(60));
    assert!(sent.is_empty());
    assert!(l.is_empty());
    assert!(drain_ev(&mut l).is_empty());
}

#[test]
fn server_invite_2xx_retransmitted_until_ack() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let (tx, req) = server_invite(&mut l, now, udp(40000));
    l.respond(now, tx, req.response(200, None, Some("b1")));
    drain_tx(&mut l);
    l.handle_timeout(now + ms(500));
    l.handle_timeout(now + ms(1500));
    assert_eq!(drain_tx(&mut l).len(), 2);
    // The ACK of a 2xx carries a new branch; it is matched by Call-ID and CSeq.
    let ack = request("ACK", "z9hG4bKack");
    l.handle_message(now + ms(1600), Message::Request(ack), udp(40000));
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Ack { tx: Some(t), .. }] if *t == tx));
    let sent = run_until(&mut l, now, Duration::from_secs(60));
    assert!(sent.is_empty());
    assert!(drain_ev(&mut l).is_empty());
    assert!(l.is_empty());
}

#[test]
fn server_invite_2xx_without_ack_times_out_at_l() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let (tx, req) = server_invite(&mut l, now, udp(40000));
    l.respond(now, tx, req.response(200, None, Some("b1")));
    drain_tx(&mut l);
    let sent = run_until(&mut l, now, Duration::from_secs(60));
    let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(&times[..4], &[ms(500), ms(1500), ms(3500), ms(7500)]);
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Timeout { tx: t }] if *t == tx));
}

#[test]
fn server_invite_over_tcp_does_not_retransmit() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let (tx, req) = server_invite(&mut l, now, tcp(40000));
    l.respond(now, tx, req.response(486, None, Some("b1")));
    drain_tx(&mut l);
    let sent = run_until(&mut l, now, Duration::from_secs(60));
    assert!(sent.is_empty());
    assert!(matches!(
        drain_ev(&mut l).as_slice(),
        [Event::Timeout { .. }]
    ));
}

#[test]
fn cancel_matches_pending_invite() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let (tx, _) = server_invite(&mut l, now, udp(40000));
    l.handle_message(
        now,
        Message::Request(request("CANCEL", "z9hG4bKinv")),
        udp(40000),
    );
    assert_eq!(first_line(&drain_tx(&mut l)[0]), "SIP/2.0 200 OK");
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Cancel { invite, .. }] if *invite == tx));
    // A CANCEL for nothing gets 481.
    l.handle_message(
        now,
        Message::Request(request("CANCEL", "z9hG4bKzzz")),
        udp(40000),
    );
    assert_eq!(
        first_line(&drain_tx(&mut l)[0]),
        "SIP/2.0 481 Call/Transaction Does Not Exist"
    );
}

#[test]
fn server_non_invite_timer_j() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    l.handle_message(
        now,
        Message::Request(request("OPTIONS", "z9hG4bKo")),
        udp(40000),
    );
    let Event::Request {
        tx, request: req, ..
    } = drain_ev(&mut l).remove(0)
    else {
        panic!()
    };
    assert!(drain_tx(&mut l).is_empty(), "no 100 for non-INVITE");
    // Retransmission before any response is absorbed silently.
    l.handle_message(
        now,
        Message::Request(request("OPTIONS", "z9hG4bKo")),
        udp(40000),
    );
    assert!(drain_tx(&mut l).is_empty());
    l.respond(now, tx, req.response(200, None, Some("b1")));
    assert_eq!(drain_tx(&mut l).len(), 1);
    l.handle_message(
        now + ms(10),
        Message::Request(request("OPTIONS", "z9hG4bKo")),
        udp(40000),
    );
    assert_eq!(first_line(&drain_tx(&mut l)[0]), "SIP/2.0 200 OK");
    assert_eq!(l.poll_timeout(), Some(now + ms(32000)));
    l.handle_timeout(now + ms(32000));
    assert!(l.is_empty());
}

#[test]
fn client_invite_timer_a_b() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let tx = l
        .send_request(now, request("INVITE", "z9hG4bKc1"), udp(5080))
        .unwrap();
    assert_eq!(drain_tx(&mut l).len(), 1);
    let sent = run_until(&mut l, now, Duration::from_secs(40));
    let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    // A doubles with no T2 cap: 0.5, 1.5, 3.5, 7.5, 15.5, 31.5; B fires at 32 s.
    assert_eq!(
        times,
        vec![ms(500), ms(1500), ms(3500), ms(7500), ms(15500), ms(31500)]
    );
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Timeout { tx: t }] if *t == tx));
    assert!(l.is_empty());
}

#[test]
fn a_transport_failure_ends_the_clients_to_that_target_at_once() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let dead = l
        .send_request(now, request("INVITE", "z9hG4bKt1"), tcp(5090))
        .unwrap();
    let dead_too = l
        .send_request(now, request("OPTIONS", "z9hG4bKt2"), tcp(5090))
        .unwrap();
    let alive = l
        .send_request(now, request("INVITE", "z9hG4bKt3"), tcp(5091))
        .unwrap();
    drain_tx(&mut l);
    l.transport_failed(tcp(5090));
    let events = drain_ev(&mut l);
    let failed: Vec<TxId> = events
        .iter()
        .filter_map(|e| match e {
            Event::TransportFailed { tx } => Some(*tx),
            _ => None,
        })
        .collect();
    assert_eq!(failed, vec![dead, dead_too], "{events:?}");
    assert_eq!(
        l.len().1,
        1,
        "only the transaction to the other target is left"
    );
    // Nothing more comes of the failed ones; the other still times out at B.
    let _ = run_until(&mut l, now, Duration::from_secs(40));
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Timeout { tx }] if *tx == alive));
}

#[test]
fn client_invite_provisional_stops_a_and_non2xx_is_acked() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let inv = request("INVITE", "z9hG4bKc2");
    let tx = l.send_request(now, inv.clone(), udp(5080)).unwrap();
    drain_tx(&mut l);
    l.handle_message(now + ms(100), response_to(&inv, 180), udp(5080));
    assert!(matches!(
        drain_ev(&mut l).as_slice(),
        [Event::Response { .. }]
    ));
    assert!(run_until(&mut l, now, Duration::from_secs(10)).is_empty());
    l.handle_message(now + ms(10_000), response_to(&inv, 486), udp(5080));
    let acks = drain_tx(&mut l);
    assert_eq!(first_line(&acks[0]), "ACK sip:bob@127.0.0.1 SIP/2.0");
    let text = String::from_utf8_lossy(&acks[0].data).to_string();
    assert!(
        text.contains("branch=z9hG4bKc2"),
        "same branch as the INVITE"
    );
    assert!(text.contains("tag=b1"), "To tag from the response");
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Response { tx: t, .. }] if *t == tx));
    // A retransmitted final is ACKed again but not passed up.
    l.handle_message(now + ms(10_100), response_to(&inv, 486), udp(5080));
    assert_eq!(drain_tx(&mut l).len(), 1);
    assert!(drain_ev(&mut l).is_empty());
    // Timer D (32 s) ends it.
    l.handle_timeout(now + ms(10_000) + Duration::from_secs(32));
    assert!(l.is_empty());
}

#[test]
fn client_invite_2xx_retransmissions_reach_tu_until_m() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let inv = request("INVITE", "z9hG4bKc3");
    l.send_request(now, inv.clone(), udp(5080)).unwrap();
    l.handle_message(now, response_to(&inv, 200), udp(5080));
    l.handle_message(now + ms(500), response_to(&inv, 200), udp(5080));
    assert_eq!(drain_ev(&mut l).len(), 2);
    l.handle_timeout(now + ms(32_000));
    assert!(l.is_empty());
}

#[test]
fn cancel_waits_for_provisional() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let inv = request("INVITE", "z9hG4bKc4");
    let tx = l.send_request(now, inv.clone(), udp(5080)).unwrap();
    drain_tx(&mut l);
    assert!(l.cancel(now, tx));
    assert!(
        drain_tx(&mut l).is_empty(),
        "no CANCEL before a provisional"
    );
    l.handle_message(now + ms(50), response_to(&inv, 180), udp(5080));
    let sent = drain_tx(&mut l);
    assert_eq!(first_line(&sent[0]), "CANCEL sip:bob@127.0.0.1 SIP/2.0");
    assert!(String::from_utf8_lossy(&sent[0].data).contains("CSeq: 1 CANCEL"));
}

#[test]
fn client_non_invite_timer_e_f() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let tx = l
        .send_request(now, request("OPTIONS", "z9hG4bKc5"), udp(5080))
        .unwrap();
    drain_tx(&mut l);
    let sent = run_until(&mut l, now, Duration::from_secs(40));
    let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    // E: 0.5, 1.5, 3.5, 7.5, then every T2 = 4 s up to F at 32 s.
    assert_eq!(
        times,
        vec![
            ms(500),
            ms(1500),
            ms(3500),
            ms(7500),
            ms(11500),
            ms(15500),
            ms(19500),
            ms(23500),
            ms(27500),
            ms(31500)
        ]
    );
    assert!(matches!(drain_ev(&mut l).as_slice(), [Event::Timeout { tx: t }] if *t == tx));
}

#[test]
fn client_non_invite_proceeding_uses_t2_and_k_lingers() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let req = request("REGISTER", "z9hG4bKc6");
    l.send_request(now, req.clone(), udp(5080)).unwrap();
    drain_tx(&mut l);
    l.handle_message(now + ms(100), response_to(&req, 100), udp(5080));
    l.handle_timeout(now + ms(500));
    assert_eq!(drain_tx(&mut l).len(), 1);
    assert_eq!(
        l.poll_timeout(),
        Some(now + ms(4500)),
        "E at T2 once Proceeding"
    );
    l.handle_message(now + ms(600), response_to(&req, 200), udp(5080));
    assert_eq!(drain_ev(&mut l).len(), 2);
    assert_eq!(l.poll_timeout(), Some(now + ms(5600)), "K = T4");
    l.handle_timeout(now + ms(5600));
    assert!(l.is_empty());
}

#[test]
fn configurable_timers() {
    let cfg = Config {
        t1: ms(100),
        t2: ms(400),
        t4: ms(1000),
    };
    let mut l = Layer::new(cfg);
    let now = Instant::now();
    l.send_request(now, request("OPTIONS", "z9hG4bKc7"), udp(5080))
        .unwrap();
    drain_tx(&mut l);
    let sent = run_until(&mut l, now, Duration::from_secs(10));
    let times: Vec<_> = sent.iter().map(|(t, _)| *t).collect();
    assert_eq!(&times[..4], &[ms(100), ms(300), ms(700), ms(1100)]);
    assert!(*times.last().unwrap() < ms(6400));
}

#[test]
fn cancelled_invite_in_proceeding_times_out_without_487() {
    let mut l = Layer::new(Config::default());
    let now = Instant::now();
    let inv = request("INVITE", "z9hG4bKc8");
    let tx = l.send_request(now, inv.clone(), udp(5080)).unwrap();
    l.handle_message(now, response_to(&inv, 180), udp(5080));
    drain_ev(&mut l);
    assert!(l.cancel(now, tx));
    l.handle_timeout(now + ms(40_000));
    assert!(drain_ev(&mut l)
        .iter()
        .any(|e| matches!(e, Event::Timeout { tx: t } if *t == tx)));
    assert!(
        l.client_request(tx).is_none(),
        "the INVITE transaction is gone"
    );
}
