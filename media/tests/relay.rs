//! The relay with real UDP sockets on loopback: two "phones" talk through a session.
//!
//! Each test uses its own slice of 41000-41999 so tests can run in parallel.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use media::{MediaEngine, MediaError, MediaSession, SessionStats, Side};
use tokio::net::UdpSocket;
use tokio::time::{sleep, timeout};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const WAIT: Duration = Duration::from_secs(2);

fn engine(first: u16, last: u16) -> Arc<MediaEngine> {
    MediaEngine::new(LOCALHOST, LOCALHOST, first, last).unwrap()
}

async fn phone() -> UdpSocket {
    UdpSocket::bind((LOCALHOST, 0)).await.unwrap()
}

async fn phone_on(port: u16) -> UdpSocket {
    UdpSocket::bind((LOCALHOST, port)).await.unwrap()
}

fn addr_of(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().unwrap()
}

fn relay_addr(port: u16) -> SocketAddr {
    SocketAddr::new(LOCALHOST, port)
}

/// A fake RTP packet: 12-byte header with a sequence number, then some payload.
fn rtp(seq: u16, payload_len: usize) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&[0; 8]);
    p.resize(12 + payload_len, 0xd5);
    p
}

/// Receives one datagram or fails the test after [`WAIT`].
async fn recv(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 2048];
    let (len, from) = timeout(WAIT, socket.recv_from(&mut buf))
        .await
        .expect("no packet arrived")
        .unwrap();
    buf.truncate(len);
    (buf, from)
}

/// Asserts that nothing arrives on `socket` for a little while.
async fn assert_silent(socket: &UdpSocket) {
    let mut buf = [0u8; 2048];
    let got = timeout(Duration::from_millis(150), socket.recv_from(&mut buf)).await;
    assert!(got.is_err(), "unexpected packet: {got:?}");
}

/// Polls `check` until it holds or [`WAIT`] passes.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        sleep(Duration::from_millis(10)).await;
    }
}

async fn stats_until(session: &MediaSession, what: &str, f: impl Fn(&SessionStats) -> bool) {
    eventually(what, || {
        let ok = f(&session.stats());
        async move { ok }
    })
    .await;
}

#[tokio::test]
async fn relays_both_ways_from_the_session_ports() {
    let engine = engine(41000, 41099);
    let session = engine.create_session().unwrap();
    assert_eq!(session.advertised_ip(), LOCALHOST);
    assert_eq!(session.a_port() % 2, 0);
    assert_eq!(session.b_port() % 2, 0);
    assert_ne!(session.a_port(), session.b_port());
    assert_eq!(session.port(Side::A), session.a_port());
    assert_eq!(session.port(Side::B), session.b_port());

    let (pa, pb) = (phone().await, phone().await);
    session.set_remote(Side::A, Some(addr_of(&pa)));
    session.set_remote(Side::B, Some(addr_of(&pb)));

    for seq in 0..5u16 {
        pa.send_to(&rtp(seq, 160), relay_addr(session.a_port()))
            .await
            .unwrap();
        let (packet, from) = recv(&pb).await;
        assert_eq!(packet, rtp(seq, 160));
        assert_eq!(
            from,
            relay_addr(session.b_port()),
            "B must hear from side B"
        );
    }
    for seq in 100..103u16 {
        pb.send_to(&rtp(seq, 80), relay_addr(session.b_port()))
            .await
            .unwrap();
        let (packet, from) = recv(&pa).await;
        assert_eq!(packet, rtp(seq, 80));
        assert_eq!(
            from,
            relay_addr(session.a_port()),
            "A must hear from side A"
        );
    }

    stats_until(&session, "counters", |s| s.b_to_a_packets == 3).await;
    let stats = session.stats();
    assert_eq!(stats.a_to_b_packets, 5);
    assert_eq!(stats.a_to_b_bytes, 5 * 172);
    assert_eq!(stats.b_to_a_bytes, 3 * 92);
    assert_eq!(stats.rtcp_packets, 0);
    assert_eq!(stats.dropped, 0);
    assert!(stats.idle_for < Duration::from_secs(1));

    let totals = engine.totals();
    assert_eq!(totals.packets_relayed, 8);
    assert_eq!(totals.bytes_relayed, 5 * 172 + 3 * 92);
    assert_eq!(totals.sessions_active, 1);
    assert_eq!(totals.sessions_total, 1);
    assert_eq!(totals.dropped, 0);
}

#[tokio::test]
async fn packets_before_the_other_side_is_known_are_dropped_then_latching_finds_it() {
    let engine = engine(41100, 41199);
    let session = engine.create_session().unwrap();
    let (pa, pb) = (phone().await, phone().await);
    // No SDP addresses at all: both sides must be learned from traffic.

    pa.send_to(&rtp(1, 160), relay_addr(session.a_port()))
        .await
        .unwrap();
    stats_until(&session, "first packet dropped", |s| s.dropped == 1).await;
    assert_silent(&pb).await;

    // B speaks: side B latches to it, and side A already latched to pa's dropped packet.
    pb.send_to(&rtp(2, 160), relay_addr(session.b_port()))
        .await
        .unwrap();
    let (packet, from) = recv(&pa).await;
    assert_eq!((packet, from), (rtp(2, 160), relay_addr(session.a_port())));

    pa.send_to(&rtp(3, 160), relay_addr(session.a_port()))
        .await
        .unwrap();
    let (packet, from) = recv(&pb).await;
    assert_eq!((packet, from), (rtp(3, 160), relay_addr(session.b_port())));

    stats_until(&session, "counts", |s| s.a_to_b_packets == 1).await;
    let stats = session.stats();
    assert_eq!(
        (stats.a_to_b_packets, stats.b_to_a_packets, stats.dropped),
        (1, 1, 1)
    );
    assert_eq!(engine.totals().dropped, 1);
}

#[tokio::test]
async fn latches_to_the_real_source_and_ignores_intruders() {
    let engine = engine(41200, 41299);
    let session = engine.create_session().unwrap();
    let (pa, pb) = (phone().await, phone().await);
    // What A's SDP claims (say, its private address behind NAT) is not where it sends from.
    let sdp_address = phone().await;
    session.set_remote(Side::A, Some(addr_of(&sdp_address)));
    session.set_remote(Side::B, Some(addr_of(&pb)));

    // Before A has sent anything, B's media goes to A's SDP address.
    pb.send_to(&rtp(1, 20), relay_addr(session.b_port()))
        .await
        .unwrap();
    assert_eq!(recv(&sdp_address).await.0, rtp(1, 20));

    // A speaks from its real address: side A latches to it.
    pa.send_to(&rtp(2, 20), relay_addr(session.a_port()))
        .await
        .unwrap();
    assert_eq!(recv(&pb).await.0, rtp(2, 20));
    pb.send_to(&rtp(3, 20), relay_addr(session.b_port()))
        .await
        .unwrap();
    assert_eq!(recv(&pa).await, (rtp(3, 20), relay_addr(session.a_port())));
    assert_silent(&sdp_address).await;

    // A third party on A's relay port is neither relayed nor able to steal A's stream.
    let intruder = phone().await;
    intruder
        .send_to(&rtp(666, 20), relay_addr(session.a_port()))
        .await
        .unwrap();
    stats_until(&session, "intruder dropped", |s| s.dropped == 1).await;
    assert_silent(&pb).await;
    pb.send_to(&rtp(4, 20), relay_addr(session.b_port()))
        .await
        .unwrap();
    assert_eq!(recv(&pa).await.0, rtp(4, 20));
    assert_silent(&intruder).await;

    // New SDP for A (a re-INVITE to another address) starts over: media goes there.
    let moved = phone().await;
    session.set_remote(Side::A, Some(addr_of(&moved)));
    pb.send_to(&rtp(5, 20), relay_addr(session.b_port()))
        .await
        .unwrap();
    assert_eq!(recv(&moved).await.0, rtp(5, 20));
}

#[tokio::test]
async fn relays_rtcp_on_the_odd_ports() {
    let engine = engine(41300, 41389);
    let session = engine.create_session().unwrap();
    // Phones on fixed even/odd pairs outside the engine's range, so RTCP = RTP + 1 holds.
    let (pa_rtp, pa_rtcp) = (phone_on(41390).await, phone_on(41391).await);
    let (pb_rtp, pb_rtcp) = (phone_on(41392).await, phone_on(41393).await);
    session.set_remote(Side::A, Some(addr_of(&pa_rtp)));
    session.set_remote(Side::B, Some(addr_of(&pb_rtp)));

    let report = [0x81u8, 200, 0, 6, 1, 2, 3, 4];
    pa_rtcp
        .send_to(&report, relay_addr(session.a_port() + 1))
        .await
        .unwrap();
    assert_eq!(
        recv(&pb_rtcp).await,
        (report.to_vec(), relay_addr(session.b_port() + 1))
    );
    pb_rtcp
        .send_to(&report, relay_addr(session.b_port() + 1))
        .await
        .unwrap();
    assert_eq!(
        recv(&pa_rtcp).await,
        (report.to_vec(), relay_addr(session.a_port() + 1))
    );

    // An explicit RTCP address (a=rtcp:) wins over RTP + 1.
    let elsewhere = phone().await;
    session.set_remote_rtcp(Side::B, Some(addr_of(&elsewhere)));
    // A's RTCP source is latched, so this one is relayed.
    pa_rtcp
        .send_to(&report, relay_addr(session.a_port() + 1))
        .await
        .unwrap();
    assert_eq!(recv(&elsewhere).await.0, report.to_vec());

    stats_until(&session, "rtcp counted", |s| s.rtcp_packets == 3).await;
    let stats = session.stats();
    assert_eq!((stats.a_to_b_packets, stats.b_to_a_packets), (0, 0));
    assert_silent(&pb_rtp).await;
    assert_silent(&pa_rtp).await;
}

#[tokio::test]
async fn ports_are_released_after_drop_and_close() {
    // Two pairs: exactly one session.
    let engine = engine(41400, 41403);
    let pool_size = engine.port_pool().capacity();
    assert_eq!(pool_size, 2);

    let session = engine.create_session().unwrap();
    assert_eq!(engine.port_pool().available(), 0);
    assert!(matches!(
        engine.create_session(),
        Err(MediaError::PortsExhausted)
    ));
    let ports = [session.a_port(), session.b_port()];
    drop(session);
    eventually("ports back in the pool", || async {
        engine.port_pool().available() == 2
    })
    .await;
    assert_eq!(engine.totals().sessions_active, 0);
    // Their sockets stay bound for the ports' next call.
    assert_eq!(engine.warm_ports(), 2);
    for port in ports {
        assert!(std::net::UdpSocket::bind((LOCALHOST, port)).is_err());
    }

    let session = engine.create_session().unwrap();
    assert_eq!(engine.totals().sessions_active, 1);
    assert_eq!(engine.warm_ports(), 0, "the next session took them back");
    session.close().await;
    assert_eq!(engine.port_pool().available(), 2, "close waits for release");
    let totals = engine.totals();
    assert_eq!((totals.sessions_active, totals.sessions_total), (0, 2));
    // A sweep closes only sockets idle for long; these were parked just now.
    engine.sweep_idle();
    assert_eq!(engine.warm_ports(), 2);
}

#[tokio::test]
async fn a_reused_port_drops_what_reached_it_while_free() {
    let engine = engine(41420, 41423);
    let first = engine.create_session().unwrap();
    let port = first.a_port();
    first.close().await;
    // A late packet of the old call, and its RTCP, arrive while the port is free.
    let stray = phone().await;
    stray.send_to(&rtp(1, 160), relay_addr(port)).await.unwrap();
    stray
        .send_to(&[0x81, 0xc8, 0, 1], relay_addr(port + 1))
        .await
        .unwrap();
    sleep(Duration::from_millis(50)).await;

    let session = engine.create_session().unwrap();
    assert_eq!(session.a_port(), port, "the same port, its sockets reused");
    let (pa, pb) = (phone().await, phone().await);
    session.set_remote(Side::A, Some(addr_of(&pa)));
    session.set_remote(Side::B, Some(addr_of(&pb)));
    // The stray was dropped: B hears nothing of it, and A is not latched to its sender.
    assert_silent(&pb).await;
    pa.send_to(&rtp(7, 160), relay_addr(port)).await.unwrap();
    let (got, _) = recv(&pb).await;
    assert_eq!(got, rtp(7, 160));
    pb.send_to(&rtp(8, 160), relay_addr(session.b_port()))
        .await
        .unwrap();
    let (back, from) = recv(&pa).await;
    assert_eq!((back, from), (rtp(8, 160), relay_addr(port)));
    assert_silent(&stray).await;
}

#[tokio::test]
async fn skips_port_pairs_taken_by_someone_else() {
    let engine = engine(41500, 41507);
    // Another program holds the RTCP port of the first pair.
    let squatter = std::net::UdpSocket::bind((LOCALHOST, 41501)).unwrap();
    let session = engine.create_session().unwrap();
    assert_eq!((session.a_port(), session.b_port()), (41502, 41504));
    // The busy pair went back to the pool, behind the others.
    assert_eq!(engine.port_pool().available(), 2);
    drop(squatter);
}

#[tokio::test]
async fn idle_for_tracks_the_last_packet() {
    let engine = engine(41600, 41699);
    let session = engine.create_session().unwrap();
    sleep(Duration::from_millis(200)).await;
    assert!(session.stats().idle_for >= Duration::from_millis(200));

    let pa = phone().await;
    pa.send_to(&rtp(1, 10), relay_addr(session.a_port()))
        .await
        .unwrap();
    // Received but dropped (B unknown): still proof that A is alive.
    stats_until(&session, "packet seen", |s| s.dropped == 1).await;
    assert!(session.stats().idle_for < Duration::from_millis(150));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sessions_at_once() {
    let engine = engine(41700, 41799);
    let mut calls = Vec::new();
    for _ in 0..10 {
        let session = engine.create_session().unwrap();
        let (pa, pb) = (phone().await, phone().await);
        session.set_remote(Side::A, Some(addr_of(&pa)));
        session.set_remote(Side::B, Some(addr_of(&pb)));
        calls.push((session, pa, pb));
    }
    for (i, (session, pa, pb)) in calls.iter().enumerate() {
        let seq = i as u16;
        pa.send_to(&rtp(seq, 160), relay_addr(session.a_port()))
            .await
            .unwrap();
        assert_eq!(recv(pb).await.0, rtp(seq, 160));
        pb.send_to(&rtp(seq, 160), relay_addr(session.b_port()))
            .await
            .unwrap();
        assert_eq!(recv(pa).await.0, rtp(seq, 160));
    }
    assert_eq!(engine.totals().sessions_active, 10);
    let ports_in_use = 20;
    assert_eq!(
        engine.port_pool().available(),
        engine.port_pool().capacity() - ports_in_use
    );
    drop(calls);
    eventually("all released", || async {
        engine.totals().sessions_active == 0
    })
    .await;
    assert_eq!(
        engine.port_pool().available(),
        engine.port_pool().capacity()
    );
}

#[test]
fn create_session_needs_a_runtime() {
    let engine = engine(41800, 41899);
    assert!(matches!(
        engine.create_session(),
        Err(MediaError::NoRuntime)
    ));
    assert_eq!(
        engine.port_pool().available(),
        engine.port_pool().capacity()
    );
}

#[test]
fn bad_port_range_is_refused() {
    assert!(matches!(
        MediaEngine::new(LOCALHOST, LOCALHOST, 41900, 41900),
        Err(MediaError::InvalidPortRange { .. })
    ));
}
