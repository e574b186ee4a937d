//! A relay with a WebRTC side on loopback: side A is a plain phone (a UDP socket sending a
//! PCMU tone), side B faces a full-ICE str0m browser ([`TestBrowser`]) through an ICE-lite
//! peer attached to the relay. Each hears the other's tone (Goertzel, `media::tone::share`),
//! a player on B reaches the browser, and the ports go back to the pool afterwards; the
//! same with a PCMA phone (µ/A swap) and with an Opus-only browser (transcoded).
//!
//! Ports 43000-43099 (each test file has its own slice).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::graph::{Endpoint, MediaEvent, RelayId};
use media::rtp::RtpHeader;
use media::webrtc::{Certificate, Codecs, Peer, TestBrowser};
use media::{Codec, MediaEngine, Playlist, Side};
use tokio::net::UdpSocket;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const PHONE_HZ: f64 = 400.0;
const BROWSER_HZ: f64 = 1000.0;
const MUSIC_HZ: f64 = 697.0;

/// What a phone received: each packet's arrival and its samples.
type Heard = Arc<Mutex<Vec<(Instant, Vec<i16>)>>>;

/// A plain phone: sends a tone in `law` to `to` every 20 ms, keeps what it receives.
fn plain_phone(socket: Arc<UdpSocket>, to: SocketAddr, law: Codec) -> Heard {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sender = socket.clone();
    tokio::spawn(async move {
        let tone = media::tone::sine(PHONE_HZ, Duration::from_secs(1), 8000);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for n in 0u32.. {
            tick.tick().await;
            let header = RtpHeader {
                payload_type: law.payload_type(),
                marker: n == 0,
                sequence: n as u16,
                timestamp: n.wrapping_mul(160),
                ssrc: 0x5eed,
            };
            let mut packet = header.to_bytes().to_vec();
            let at = (n as usize * 160) % tone.len();
            let mut payload = [0u8; 160];
            law.encode(&tone[at..at + 160], &mut payload);
            packet.extend_from_slice(&payload);
            let _ = sender.send_to(&packet, to).await;
        }
    });
    let keep = heard.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 2048];
        while let Ok((len, _)) = socket.recv_from(&mut buf).await {
            let Ok(rtp) = media::rtp::parse(&buf[..len]) else {
                continue;
            };
            let law = if rtp.header.payload_type == 8 {
                Codec::PCMA
            } else {
                Codec::PCMU
            };
            let samples = rtp.payload.iter().map(|b| law.decode(*b)).collect();
            keep.lock().unwrap().push((Instant::now(), samples));
        }
    });
    heard
}

fn share_since(heard: &Mutex<Vec<(Instant, Vec<i16>)>>, since: Instant, hz: f64) -> f64 {
    let samples: Vec<i16> = heard
        .lock()
        .unwrap()
        .iter()
        .filter(|(at, _)| *at >= since)
        .flat_map(|(_, s)| s.iter().copied())
        .collect();
    media::tone::share(&samples, hz)
}

async fn wait(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn call_with(first: u16, last: u16, phone_law: Codec, browser: Codecs) {
    let engine = MediaEngine::new(LOCALHOST, LOCALHOST, first, last).unwrap();
    let capacity = engine.port_pool().available();
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let relay = RelayId(7);
    let session = engine.create_session_reporting(Some((relay, tx))).unwrap();
    let phone = Arc::new(UdpSocket::bind((LOCALHOST, 0)).await.unwrap());
    session.set_remote(Side::A, Some(phone.local_addr().unwrap()));
    let b = SocketAddr::new(LOCALHOST, session.port(Side::B));
    let cert = Certificate::shared().unwrap();
    let (peer, offer) = Peer::offer(Instant::now(), &cert, b).unwrap();
    session.attach_webrtc(Side::B, Box::new(peer), phone_law);
    let (browser, answer) = TestBrowser::answer(&offer, browser, BROWSER_HZ).unwrap();
    session.webrtc_answer(Side::B, answer);
    let connected = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("no event from the relay");
    assert_eq!(
        connected,
        Some(MediaEvent::WebRtcConnected {
            endpoint: Endpoint::b(relay)
        })
    );
    let heard = plain_phone(
        phone,
        SocketAddr::new(LOCALHOST, session.port(Side::A)),
        phone_law,
    );
    wait("the browser's DTLS", Duration::from_secs(5), || {
        browser.connected()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let window = Duration::from_millis(1000);
    let (at_phone, frames) = browser.heard(window, PHONE_HZ);
    let (at_other, _) = browser.heard(window, MUSIC_HZ);
    assert!(frames >= 40, "the browser got {frames} frames in 1 s");
    assert!(
        at_phone > 0.5 && at_other < 0.05,
        "the browser hears the phone: {at_phone:.3} / {at_other:.3}"
    );
    let since = Instant::now() - window;
    let at_browser = share_since(&heard, since, BROWSER_HZ);
    assert!(
        at_browser > 0.5,
        "the phone hears the browser: {at_browser:.3}"
    );

    // Music on hold into the browser's side: it hears the player, not the phone.
    let music = media::tone::sine(MUSIC_HZ, Duration::from_secs(1), 8000);
    drop(session.play(Side::B, Playlist::looped(music.into()), phone_law));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (at_music, _) = browser.heard(Duration::from_millis(800), MUSIC_HZ);
    let (at_phone, _) = browser.heard(Duration::from_millis(800), PHONE_HZ);
    assert!(
        at_music > 0.5 && at_phone < 0.05,
        "the browser hears the music: {at_music:.3} / phone {at_phone:.3}"
    );
    let stats = session.stats();
    assert!(stats.a_to_b_packets > 40, "{stats:?}");
    assert!(stats.b_to_a_packets > 40, "{stats:?}");

    session.close().await;
    assert_eq!(engine.port_pool().available(), capacity, "ports released");
    drop(browser);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webrtc_side_and_a_plain_side_hear_each_other_and_the_player() {
    call_with(43000, 43009, Codec::PCMU, Codecs::G711First).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pcma_phone_and_a_pcmu_browser_are_converted_at_the_boundary() {
    call_with(43010, 43019, Codec::PCMA, Codecs::G711First).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opus_only_browser_is_transcoded_at_the_boundary() {
    call_with(43030, 43039, Codec::PCMU, Codecs::OpusOnly).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_browser_answer_is_reported_gone() {
    let engine = MediaEngine::new(LOCALHOST, LOCALHOST, 43020, 43029).unwrap();
    let (tx, mut events) = tokio::sync::mpsc::unbounded_channel();
    let relay = RelayId(8);
    let session = engine.create_session_reporting(Some((relay, tx))).unwrap();
    let b = SocketAddr::new(LOCALHOST, session.port(Side::B));
    let cert = Certificate::shared().unwrap();
    let (peer, _) = Peer::offer(Instant::now(), &cert, b).unwrap();
    session.attach_webrtc(Side::B, Box::new(peer), Codec::PCMU);
    session.webrtc_answer(Side::B, "v=0\r\nnonsense".into());
    let gone = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .expect("no event from the relay");
    assert_eq!(
        gone,
        Some(MediaEvent::WebRtcGone {
            endpoint: Endpoint::b(relay)
        })
    );
    session.close().await;
}
