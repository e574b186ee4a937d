//! Playing prompts into a session, with real UDP sockets on loopback.
//!
//! Each test uses its own slice of 42000-42999 so tests can run in parallel.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use media::{
    g711, rtp, tone, wav, Codec, MediaEngine, MediaSession, Playlist, Repeat, SessionStats, Side,
    SAMPLES_PER_PACKET,
};
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

fn addr_of(socket: &UdpSocket) -> SocketAddr {
    socket.local_addr().unwrap()
}

fn relay_addr(port: u16) -> SocketAddr {
    SocketAddr::new(LOCALHOST, port)
}

/// A fake RTP packet from a phone, with a recognisable SSRC.
fn phone_rtp(seq: u16) -> Vec<u8> {
    let mut p = rtp::RtpHeader {
        payload_type: 0,
        marker: false,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 0xcafe_f00d,
    }
    .to_bytes()
    .to_vec();
    p.resize(12 + 160, 0xff);
    p
}

async fn recv(socket: &UdpSocket) -> (Vec<u8>, SocketAddr) {
    let mut buf = vec![0u8; 2048];
    let (len, from) = timeout(WAIT, socket.recv_from(&mut buf))
        .await
        .expect("no packet arrived")
        .unwrap();
    buf.truncate(len);
    (buf, from)
}

async fn assert_silent(socket: &UdpSocket) {
    let mut buf = [0u8; 2048];
    let got = timeout(Duration::from_millis(150), socket.recv_from(&mut buf)).await;
    assert!(got.is_err(), "unexpected packet: {got:?}");
}

/// Receives until a packet satisfies `wanted`, returning it and what came before.
async fn recv_until(socket: &UdpSocket, wanted: impl Fn(&[u8]) -> bool) -> (Vec<u8>, usize) {
    let mut skipped = 0;
    loop {
        let (packet, _) = recv(socket).await;
        if wanted(&packet) {
            return (packet, skipped);
        }
        skipped += 1;
        assert!(skipped < 500, "the wanted packet never came");
    }
}

async fn stats_until(session: &MediaSession, what: &str, f: impl Fn(&SessionStats) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !f(&session.stats()) {
        assert!(Instant::now() < deadline, "timed out: {what}");
        sleep(Duration::from_millis(10)).await;
    }
}

fn ssrc_of(packet: &[u8]) -> u32 {
    rtp::parse(packet).unwrap().header.ssrc
}

#[tokio::test]
async fn a_phone_hears_the_prompt_paced_in_order_and_the_end_is_signalled() {
    let engine = engine(42000, 42099);
    let session = engine.create_session().unwrap();
    let pa = phone().await;
    session.set_remote(Side::A, Some(addr_of(&pa)));

    // A prompt file as the switch ships it: 412.5 ms of 440 Hz, so the last packet is padded.
    let samples = tone::sine(440.0, Duration::from_micros(412_500), 12_000);
    assert_eq!(samples.len(), 3300);
    let prompt = wav::decode(&wav::encode_pcm16(&samples)).unwrap();
    let packets_expected = 3300usize.div_ceil(SAMPLES_PER_PACKET);

    let mut done = session.play(Side::A, Playlist::once(prompt.clone()), Codec::PCMU);
    let mut received = Vec::new();
    let mut arrivals = Vec::new();
    for _ in 0..packets_expected {
        let (packet, from) = recv(&pa).await;
        arrivals.push(Instant::now());
        assert_eq!(
            from,
            relay_addr(session.a_port()),
            "sent from side A's port"
        );
        received.push(packet);
    }

    let parsed: Vec<_> = received.iter().map(|p| rtp::parse(p).unwrap()).collect();
    let first = parsed[0].header;
    for (n, packet) in parsed.iter().enumerate() {
        let h = packet.header;
        assert_eq!(h.payload_type, 0);
        assert_eq!(h.ssrc, first.ssrc);
        assert_eq!(h.marker, n == 0, "marker on the first packet only");
        assert_eq!(h.sequence, first.sequence.wrapping_add(n as u16));
        assert_eq!(
            h.timestamp,
            first
                .timestamp
                .wrapping_add(n as u32 * SAMPLES_PER_PACKET as u32)
        );
        assert_eq!(packet.payload.len(), SAMPLES_PER_PACKET);
    }

    // The payload is the WAV's samples through µ-law, then silence to fill the last packet.
    let heard: Vec<i16> = parsed
        .iter()
        .flat_map(|p| p.payload.iter().map(|&c| g711::ulaw_to_linear(c)))
        .collect();
    let mut expected: Vec<i16> = prompt
        .iter()
        .map(|&s| g711::ulaw_to_linear(g711::linear_to_ulaw(s)))
        .collect();
    expected.resize(packets_expected * SAMPLES_PER_PACKET, 0);
    assert_eq!(heard, expected);

    // Paced, not burst: 21 packets are 400 ms of media apart at 50 packets per second.
    let span = arrivals[packets_expected - 1] - arrivals[0];
    assert!(span >= Duration::from_millis(340), "burst: {span:?}");

    timeout(WAIT, &mut done)
        .await
        .expect("end of playback not signalled")
        .expect("playback should finish, not be dropped");
    assert_silent(&pa).await;
    let stats = session.stats();
    assert_eq!(stats.played_packets, packets_expected as u64);
    assert_eq!(stats.dropped, 0);
    assert_eq!(engine.totals().packets_played, packets_expected as u64);
}

#[tokio::test]
async fn while_playing_the_side_is_parked_and_stop_resumes_the_relay() {
    let engine = engine(42100, 42199);
    let session = engine.create_session().unwrap();
    let (pa, pb) = (phone().await, phone().await);
    session.set_remote(Side::A, Some(addr_of(&pa)));
    session.set_remote(Side::B, Some(addr_of(&pb)));

    // Relaying works before playback.
    pb.send_to(&phone_rtp(1), relay_addr(session.b_port()))
        .await
        .unwrap();
    assert_eq!(recv(&pa).await.0, phone_rtp(1));

    let music = Playlist::looped(tone::sine(400.0, Duration::from_secs(2), 8000).into());
    let mut done = session.play(Side::A, music, Codec::PCMA);
    let (first, _) = recv(&pa).await;
    let player_ssrc = ssrc_of(&first);
    assert_eq!(rtp::parse(&first).unwrap().header.payload_type, 8);

    // B talks: A hears only the music. A talks: B hears nothing.
    for seq in 2..6 {
        pb.send_to(&phone_rtp(seq), relay_addr(session.b_port()))
            .await
            .unwrap();
        pa.send_to(&phone_rtp(100 + seq), relay_addr(session.a_port()))
            .await
            .unwrap();
    }
    for _ in 0..10 {
        let (packet, _) = recv(&pa).await;
        assert_eq!(ssrc_of(&packet), player_ssrc, "only the player reaches A");
    }
    assert_silent(&pb).await;
    stats_until(&session, "parked packets counted", |s| {
        s.parked_packets == 8
    })
    .await;
    let stats = session.stats();
    assert_eq!((stats.a_to_b_packets, stats.b_to_a_packets), (0, 1));
    assert!(
        stats.idle_for < Duration::from_secs(1),
        "A's RTP is still received"
    );

    // Stopping ends the music without "finished" and relaying resumes both ways.
    session.stop_playing(Side::A);
    assert!(timeout(WAIT, &mut done).await.unwrap().is_err());
    pb.send_to(&phone_rtp(7), relay_addr(session.b_port()))
        .await
        .unwrap();
    let (packet, _) = recv_until(&pa, |p| ssrc_of(p) != player_ssrc).await;
    assert_eq!(packet, phone_rtp(7));
    pa.send_to(&phone_rtp(8), relay_addr(session.a_port()))
        .await
        .unwrap();
    assert_eq!(recv(&pb).await.0, phone_rtp(8));
    sleep(Duration::from_millis(60)).await;
    // Drain what the player sent before it stopped; then only relayed media remains.
    let mut buf = [0u8; 2048];
    while let Ok(Ok((len, _))) = timeout(Duration::from_millis(50), pa.recv_from(&mut buf)).await {
        assert_ne!(ssrc_of(&buf[..len]), player_ssrc, "player still sending");
    }
}

#[tokio::test]
async fn without_a_remote_the_player_keeps_time_then_follows_the_latch() {
    let engine = engine(42200, 42299);
    let session = engine.create_session().unwrap();
    // No SDP address for A: the player's packets have nowhere to go yet.
    let music = Playlist::looped(tone::sine(300.0, Duration::from_secs(5), 8000).into());
    let _done = session.play(Side::A, music, Codec::PCMU);
    stats_until(&session, "player packets dropped", |s| s.dropped >= 10).await;
    assert_eq!(session.stats().played_packets, 0);

    // A phone behind NAT speaks first: side A latches to it and the music follows.
    let pa = phone().await;
    pa.send_to(&phone_rtp(1), relay_addr(session.a_port()))
        .await
        .unwrap();
    let (packet, from) = recv(&pa).await;
    assert_eq!(from, relay_addr(session.a_port()));
    let header = rtp::parse(&packet).unwrap().header;
    assert!(!header.marker, "the music went on while nobody listened");
    stats_until(&session, "parked", |s| s.parked_packets == 1).await;
}

#[tokio::test]
async fn a_new_playback_replaces_the_old_one_and_closing_ends_it() {
    let engine = engine(42300, 42399);
    let session = engine.create_session().unwrap();
    let pa = phone().await;
    session.set_remote(Side::A, Some(addr_of(&pa)));

    let music = Playlist::looped(tone::sine(400.0, Duration::from_secs(1), 8000).into());
    let first = session.play(Side::A, music, Codec::PCMU);
    let (packet, _) = recv(&pa).await;
    let music_ssrc = ssrc_of(&packet);

    // The feature code's confirmation, then the loop is not resumed: the side is relaying.
    let beep = Playlist {
        items: vec![tone::confirmation()],
        repeat: Repeat::Once,
    };
    let second = session.play(Side::A, beep, Codec::PCMU);
    assert!(timeout(WAIT, first).await.unwrap().is_err(), "replaced");
    let (packet, _) = recv_until(&pa, |p| ssrc_of(p) != music_ssrc).await;
    assert!(rtp::parse(&packet).unwrap().header.marker);
    timeout(WAIT, second).await.unwrap().unwrap();

    let third = session.play(Side::B, Playlist::looped(tone::confirmation()), Codec::PCMU);
    session.close().await;
    assert!(
        third.await.is_err(),
        "closing the session ends its playback"
    );
}
