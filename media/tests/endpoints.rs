//! Sessions of more than two endpoints, with real UDP sockets on loopback: a third party
//! relayed to one side (a consultation), and a three-way mix (a conference).
//!
//! Uses ports 42000-42299.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use media::rtp::RtpHeader;
use media::{Codec, Hears, MediaEngine, Side};
use tokio::net::UdpSocket;
use tokio::time::timeout;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn engine(first: u16, last: u16) -> Arc<MediaEngine> {
    MediaEngine::new(LOCALHOST, LOCALHOST, first, last).unwrap()
}

async fn phone() -> UdpSocket {
    UdpSocket::bind((LOCALHOST, 0)).await.unwrap()
}

fn at(port: u16) -> SocketAddr {
    SocketAddr::new(LOCALHOST, port)
}

/// 20 ms of PCMU, every sample `level`.
fn packet(seq: u16, level: i16) -> Vec<u8> {
    let header = RtpHeader {
        payload_type: 0,
        marker: false,
        sequence: seq,
        timestamp: u32::from(seq) * 160,
        ssrc: 7,
    };
    let mut p = header.to_bytes().to_vec();
    let mut payload = [0u8; 160];
    Codec::PCMU.encode(&[level; 160], &mut payload);
    p.extend_from_slice(&payload);
    p
}

/// The packets waiting on `socket` within `window`.
async fn received(socket: &UdpSocket, window: Duration) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    let end = tokio::time::Instant::now() + window;
    while let Ok(Ok((len, _))) = timeout(
        end.saturating_duration_since(tokio::time::Instant::now()),
        socket.recv_from(&mut buf),
    )
    .await
    {
        out.push(buf[..len].to_vec());
    }
    out
}

/// The mean level of a packet from the middle of what was heard (decoded PCMU): the first
/// ones may predate some party's audio, the last ones follow its end.
fn level(packets: &[Vec<u8>]) -> i32 {
    let middle = packets.get(packets.len() / 2).expect("no packet heard");
    let rtp = media::rtp::parse(middle).unwrap();
    assert_eq!(rtp.header.payload_type, 0);
    let samples: Vec<i32> = rtp
        .payload
        .iter()
        .map(|&c| i32::from(Codec::PCMU.decode(c)))
        .collect();
    samples.iter().sum::<i32>() / samples.len() as i32
}

#[tokio::test]
async fn an_added_endpoint_is_relayed_to_the_side_that_hears_it() {
    let engine = engine(42000, 42099);
    let session = engine.create_session().unwrap();
    let (pa, pb, pc) = (phone().await, phone().await, phone().await);
    let c_port = session.add_endpoint(Side(2)).unwrap();
    assert!(c_port != session.a_port() && c_port != session.b_port());
    session.set_remote(Side::A, Some(pa.local_addr().unwrap()));
    session.set_remote(Side::B, Some(pb.local_addr().unwrap()));
    session.set_remote(Side(2), Some(pc.local_addr().unwrap()));
    // A consults C; B hears nothing.
    session.hear(Side::A, Hears::Endpoint(Side(2)));
    session.hear(Side(2), Hears::Endpoint(Side::A));
    session.hear(Side::B, Hears::Nothing);
    tokio::time::sleep(Duration::from_millis(20)).await;

    pa.send_to(&packet(1, 100), at(session.a_port()))
        .await
        .unwrap();
    let heard = received(&pc, Duration::from_millis(300)).await;
    assert_eq!(heard, vec![packet(1, 100)], "C hears A from its own port");
    assert!(received(&pb, Duration::from_millis(100)).await.is_empty());
    pc.send_to(&packet(2, 200), at(c_port)).await.unwrap();
    assert_eq!(
        received(&pa, Duration::from_millis(300)).await,
        vec![packet(2, 200)]
    );
    pb.send_to(&packet(3, 300), at(session.b_port()))
        .await
        .unwrap();
    assert!(received(&pa, Duration::from_millis(100)).await.is_empty());
    assert!(received(&pc, Duration::from_millis(100)).await.is_empty());

    // Removed: A hears nothing of it, and its port is free again.
    session.remove_endpoint(Side(2));
    pc.send_to(&packet(4, 200), at(c_port)).await.unwrap();
    assert!(received(&pa, Duration::from_millis(150)).await.is_empty());
}

#[tokio::test]
async fn each_party_of_a_mix_hears_the_sum_of_the_others() {
    let engine = engine(42100, 42199);
    let session = engine.create_session().unwrap();
    let (pa, pb, pc) = (phone().await, phone().await, phone().await);
    let c_port = session.add_endpoint(Side(2)).unwrap();
    let phones = [
        (&pa, session.a_port(), 1000i16),
        (&pb, session.b_port(), 2000),
        (&pc, c_port, 4000),
    ];
    for (i, (p, _, _)) in phones.iter().enumerate() {
        session.set_remote(Side(i as u8), Some(p.local_addr().unwrap()));
    }
    let all = vec![Side::A, Side::B, Side(2)];
    for i in 0..3u8 {
        session.hear(
            Side(i),
            Hears::Mix {
                of: all.clone(),
                codec: Codec::PCMU,
            },
        );
    }
    // A second of audio from each, paced at 20 ms.
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for seq in 0..50u16 {
        tick.tick().await;
        for (p, port, level) in &phones {
            p.send_to(&packet(seq, *level), at(*port)).await.unwrap();
        }
    }
    for ((p, _, _), expected) in phones.iter().zip([6000, 5000, 3000]) {
        let heard = received(p, Duration::from_millis(100)).await;
        assert!(heard.len() > 20, "{} packets", heard.len());
        let got = level(&heard);
        assert!(
            (got - expected).abs() < expected / 10,
            "heard {got}, expected {expected}"
        );
    }
    assert!(session.stats().mixed_packets > 60);
}

#[tokio::test]
async fn telephone_events_are_renumbered_for_the_leg_that_hears_them() {
    let engine = engine(42200, 42299);
    let session = engine.create_session().unwrap();
    let (pa, pb) = (phone().await, phone().await);
    session.set_remote(Side::A, Some(pa.local_addr().unwrap()));
    session.set_remote(Side::B, Some(pb.local_addr().unwrap()));
    session.set_events(Side::A, Some(96));
    session.set_events(Side::B, Some(101));
    tokio::time::sleep(Duration::from_millis(20)).await;
    // An RFC 4733 event (digit 5, end bit) from A, first packet of the event (marker).
    let mut event = RtpHeader {
        payload_type: 96,
        marker: true,
        sequence: 9,
        timestamp: 1600,
        ssrc: 7,
    }
    .to_bytes()
    .to_vec();
    event.extend_from_slice(&[5, 0x80 | 10, 0x03, 0x20]);
    pa.send_to(&event, at(session.a_port())).await.unwrap();
    let heard = received(&pb, Duration::from_millis(300)).await;
    assert_eq!(heard.len(), 1);
    assert_eq!(
        heard[0][1],
        0x80 | 101,
        "marker kept, payload type renumbered"
    );
    assert_eq!(heard[0][12..], event[12..]);
    // Audio is not touched, nor events back from B numbered as A's.
    pa.send_to(&packet(10, 300), at(session.a_port()))
        .await
        .unwrap();
    assert_eq!(
        received(&pb, Duration::from_millis(300)).await,
        vec![packet(10, 300)]
    );
    let mut back = event.clone();
    back[1] = 101;
    pb.send_to(&back, at(session.b_port())).await.unwrap();
    assert_eq!(received(&pa, Duration::from_millis(300)).await[0][1], 96);
}

/// Reads a 16-bit stereo WAV: (left, right) samples.
fn stereo(path: &std::path::Path) -> (Vec<i16>, Vec<i16>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(
        u16::from_le_bytes([bytes[22], bytes[23]]),
        2,
        "two channels"
    );
    let data_len = u32::from_le_bytes([bytes[40], bytes[41], bytes[42], bytes[43]]) as usize;
    assert_eq!(data_len, bytes.len() - 44, "the header's size is patched");
    let samples: Vec<i16> = bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    (
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    )
}

#[tokio::test]
async fn a_recording_holds_each_side_on_its_channel_and_silence_while_paused() {
    let engine = engine(42300, 42399);
    let session = engine.create_session().unwrap();
    let (pa, pb) = (phone().await, phone().await);
    session.set_remote(Side::A, Some(pa.local_addr().unwrap()));
    session.set_remote(Side::B, Some(pb.local_addr().unwrap()));
    let dir = std::env::temp_dir().join(format!("rec-test-{}", std::process::id()));
    let path = dir.join("call.wav");
    session.record(Side::A, path.clone());
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for phase in 0..3 {
        if phase == 1 {
            session.pause_recording(true);
        }
        if phase == 2 {
            session.pause_recording(false);
        }
        for seq in 0..25u16 {
            tick.tick().await;
            let n = phase * 100 + seq;
            pa.send_to(&packet(n, 1000), at(session.a_port()))
                .await
                .unwrap();
            pb.send_to(&packet(n, 4000), at(session.b_port()))
                .await
                .unwrap();
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    session.stop_recording();
    let mut waited = 0;
    while !path.exists() && waited < 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    let (left, right) = stereo(&path);
    assert!(left.len() > 8000, "{} samples", left.len());
    let mean = |s: &[i16]| s.iter().map(|x| i32::from(*x)).sum::<i32>() / s.len().max(1) as i32;
    // 20 ms windows: loud on each channel at its own level, and a run of silence (paused).
    let windows: Vec<(i32, i32)> = left
        .chunks(160)
        .zip(right.chunks(160))
        .map(|(l, r)| (mean(l), mean(r)))
        .collect();
    let talking = windows
        .iter()
        .filter(|(l, r)| (l - 1000).abs() < 100 && (r - 4000).abs() < 400)
        .count();
    let silent = windows.iter().filter(|(l, r)| *l == 0 && *r == 0).count();
    assert!(
        talking >= 35,
        "{talking} windows of both voices: {windows:?}"
    );
    assert!(
        silent >= 20,
        "{silent} silent windows while paused: {windows:?}"
    );
    assert!(
        !windows
            .iter()
            .any(|(l, r)| (l - 4000).abs() < 400 || (r - 1000).abs() < 100),
        "channels swapped"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn digits_are_reported_once_each_where_the_engine_listens() {
    use media::graph::{MediaEvent, RelayId};
    let engine = engine(42400, 42499);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let session = engine
        .create_session_reporting(Some((RelayId(7), tx)))
        .unwrap();
    let pa = phone().await;
    session.set_remote(Side::A, Some(pa.local_addr().unwrap()));
    session.set_events(Side::A, Some(101));
    session.listen_digits(Side::A, true);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let event = |digit: u8, end: bool, ts: u32| {
        let mut p = RtpHeader {
            payload_type: 101,
            marker: !end,
            sequence: ts as u16,
            timestamp: ts,
            ssrc: 9,
        }
        .to_bytes()
        .to_vec();
        p.extend_from_slice(&[digit, if end { 0x80 | 10 } else { 10 }, 0x03, 0x20]);
        p
    };
    // '1' then '#': a start, then the end sent three times, as phones do.
    for (digit, ts) in [(1u8, 1000u32), (11, 3000)] {
        pa.send_to(&event(digit, false, ts), at(session.a_port()))
            .await
            .unwrap();
        for _ in 0..3 {
            pa.send_to(&event(digit, true, ts), at(session.a_port()))
                .await
                .unwrap();
        }
    }
    let mut got = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(300), rx.recv()).await {
        got.push(e);
    }
    let digits: Vec<char> = got
        .iter()
        .filter_map(|e| match e {
            MediaEvent::Digit { endpoint, digit } if endpoint.relay == RelayId(7) => Some(*digit),
            _ => None,
        })
        .collect();
    assert_eq!(digits, ['1', '#']);
}
