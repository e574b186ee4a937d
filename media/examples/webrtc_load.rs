//! WebRTC calls bridged to plain RTP over loopback: `N` calls, each a relay session whose
//! side A is a plain phone (a UDP socket sending 20 ms PCMU at 50 packets/s) and whose side
//! B faces a browser (a full-ICE str0m peer: ICE, DTLS-SRTP, RTCP-mux) through the relay's
//! ICE-lite peer. The relays run on the switch's own `MediaEngine`, on a runtime of two
//! threads named `media`; the load runs beside them on the same two cores: one thread for
//! all the phones, one for all the browsers (each browser a `media::webrtc::Peer` on its
//! own non-blocking socket).
//!
//! Printed per run: packets each way per second; the CPU of the media threads (from
//! `/proc/self/task/*/schedstat`) as a share of a core and per call; for each direction the
//! frames lost, and the frames more than 20 ms late against the sender's 20 ms clock (the
//! first frame's arrival plus the RTP timestamp's offset, less the smallest lateness). No
//! assertion: figures.
//!
//! `cargo run --release -p media --example webrtc_load` runs 10, 50 and 100 calls;
//! `-- 200` runs 200 only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::rtp::RtpHeader;
use media::webrtc::{Certificate, Codecs, Peer, PeerOut};
use media::{tone, Codec, MediaEngine, MediaSession, Side, SAMPLES_PER_PACKET};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const FRAME: Duration = Duration::from_millis(20);
const WARM_UP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(8);

/// What one receiver got while measuring: (RTP timestamp at 8 kHz, arrival).
type Arrivals = Vec<(u32, Instant)>;

/// CPU time of this process's threads named `name`, from their schedstat (ns on CPU).
fn threads_cpu(name: &str) -> Duration {
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = entry.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.trim().starts_with(name) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
        total += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Duration::from_nanos(total)
}

/// Lost and late frames of one receiver.
fn lost_and_late(arrivals: &Arrivals) -> (u64, u64, u64) {
    let Some(&(ts0, t0)) = arrivals.first() else {
        return (0, 0, 0);
    };
    let lateness: Vec<i64> = arrivals
        .iter()
        .map(|(ts, at)| {
            let media_us = i64::from(ts.wrapping_sub(ts0) as i32) * 125;
            at.duration_since(t0).as_micros() as i64 - media_us
        })
        .collect();
    let floor = lateness.iter().copied().min().unwrap_or(0);
    let late = lateness.iter().filter(|l| **l - floor > 20_000).count() as u64;
    let span = arrivals
        .iter()
        .map(|(ts, _)| ts.wrapping_sub(ts0))
        .max()
        .unwrap_or(0);
    let expected = u64::from(span) / SAMPLES_PER_PACKET as u64 + 1;
    let got = arrivals.len() as u64;
    (got, expected.saturating_sub(got), late)
}

struct Browser {
    socket: UdpSocket,
    peer: Peer,
    heard: Arrivals,
}

fn run(calls: usize, base_port: u16) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("media")
        .enable_all()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();
    let last = base_port + (calls as u16) * 4 + 8;
    let engine = MediaEngine::new(LOCALHOST, LOCALHOST, base_port, last).expect("engine");
    let cert = Certificate::shared().expect("certificate");
    let mut sessions: Vec<MediaSession> = Vec::new();
    let mut phones: Vec<(UdpSocket, SocketAddr)> = Vec::new();
    let mut browsers: Vec<Browser> = Vec::new();
    for _ in 0..calls {
        let session = engine.create_session().expect("a session");
        let phone = UdpSocket::bind((LOCALHOST, 0)).expect("phone socket");
        phone.set_nonblocking(true).expect("non-blocking");
        session.set_remote(Side::A, phone.local_addr().ok());
        let b = SocketAddr::new(LOCALHOST, session.port(Side::B));
        let (peer, offer) = Peer::offer(Instant::now(), &cert, b).expect("offer");
        session.attach_webrtc(Side::B, Box::new(peer), Codec::PCMU);
        let socket = UdpSocket::bind((LOCALHOST, 0)).expect("browser socket");
        socket.set_nonblocking(true).expect("non-blocking");
        let local = socket.local_addr().expect("address");
        let (peer, answer) = Peer::answer_with(
            Instant::now(),
            &cert,
            local,
            &offer,
            Codecs::G711First,
            false,
        )
        .expect("answer");
        session.webrtc_answer(Side::B, answer);
        phones.push((phone, SocketAddr::new(LOCALHOST, session.port(Side::A))));
        browsers.push(Browser {
            socket,
            peer,
            heard: Vec::new(),
        });
        sessions.push(session);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(Mutex::new(None::<(Instant, Instant)>));
    let in_window = {
        let measuring = measuring.clone();
        move |at: Instant| {
            measuring
                .lock()
                .ok()
                .and_then(|w| *w)
                .is_some_and(|(from, to)| at >= from && at < to)
        }
    };
    let mut frame = vec![0u8; SAMPLES_PER_PACKET];
    Codec::PCMU.encode(&tone::sine(1000.0, FRAME, 6000), &mut frame);

    // All the browsers on one thread.
    let browser_thread = {
        let (stop, in_window, frame) = (stop.clone(), in_window.clone(), frame.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let mut next = Instant::now();
            let mut n: u32 = 0;
            while !stop.load(Ordering::Relaxed) {
                for b in browsers.iter_mut() {
                    let Browser {
                        socket,
                        peer,
                        heard,
                    } = b;
                    let mut out = |o: PeerOut<'_>| match o {
                        PeerOut::Transmit { to, data } => {
                            let _ = socket.send_to(data, to);
                        }
                        PeerOut::Media { timestamp, .. } => {
                            let at = Instant::now();
                            if in_window(at) {
                                heard.push((timestamp, at));
                            }
                        }
                        _ => {}
                    };
                    while let Ok((len, from)) = socket.recv_from(&mut buf) {
                        peer.receive(Instant::now(), from, &buf[..len], &mut out);
                    }
                    let now = Instant::now();
                    if peer.deadline().is_some_and(|d| d <= now) {
                        peer.timeout(now, &mut out);
                    }
                }
                let now = Instant::now();
                if now >= next {
                    next += FRAME;
                    for b in browsers.iter_mut() {
                        let Browser { socket, peer, .. } = b;
                        let mut out = |o: PeerOut<'_>| {
                            if let PeerOut::Transmit { to, data } = o {
                                let _ = socket.send_to(data, to);
                            }
                        };
                        peer.write(now, n.wrapping_mul(160), &frame, &mut out);
                    }
                    n = n.wrapping_add(1);
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            browsers
        })
    };
    // All the phones on one thread.
    let phone_thread = {
        let (stop, in_window) = (stop.clone(), in_window.clone());
        std::thread::spawn(move || {
            let mut heard: Vec<Arrivals> = vec![Vec::new(); phones.len()];
            let mut buf = [0u8; 2048];
            let mut next = Instant::now();
            let mut n: u32 = 0;
            let ssrc = 0x0bad_cafe;
            while !stop.load(Ordering::Relaxed) {
                let now = Instant::now();
                if now >= next {
                    next += FRAME;
                    let header = RtpHeader {
                        payload_type: 0,
                        marker: n == 0,
                        sequence: n as u16,
                        timestamp: n.wrapping_mul(160),
                        ssrc,
                    };
                    let mut packet = header.to_bytes().to_vec();
                    packet.extend_from_slice(&frame);
                    for (socket, to) in &phones {
                        let _ = socket.send_to(&packet, to);
                    }
                    n = n.wrapping_add(1);
                }
                for (i, (socket, _)) in phones.iter().enumerate() {
                    while let Ok((len, _)) = socket.recv_from(&mut buf) {
                        let at = Instant::now();
                        if let (Ok(rtp), true) = (media::rtp::parse(&buf[..len]), in_window(at)) {
                            heard[i].push((rtp.header.timestamp, at));
                        }
                    }
                }
                std::thread::sleep(Duration::from_micros(500));
            }
            heard
        })
    };
    std::thread::sleep(WARM_UP);
    let cpu0 = threads_cpu("media");
    let t0 = Instant::now();
    if let Ok(mut w) = measuring.lock() {
        *w = Some((t0, t0 + MEASURE));
    }
    std::thread::sleep(MEASURE);
    let cpu = threads_cpu("media").saturating_sub(cpu0);
    stop.store(true, Ordering::Relaxed);
    let browsers = browser_thread.join().expect("browser thread");
    let phones = phone_thread.join().expect("phone thread");
    let connected = browsers.iter().filter(|b| b.peer.is_connected()).count();
    let mut to_browser = (0, 0, 0);
    for b in &browsers {
        let (got, lost, late) = lost_and_late(&b.heard);
        to_browser = (to_browser.0 + got, to_browser.1 + lost, to_browser.2 + late);
    }
    let mut to_phone = (0, 0, 0);
    for h in &phones {
        let (got, lost, late) = lost_and_late(h);
        to_phone = (to_phone.0 + got, to_phone.1 + lost, to_phone.2 + late);
    }
    let secs = MEASURE.as_secs_f64();
    let core = cpu.as_secs_f64() / secs;
    println!(
        "{calls:>4} calls ({connected} connected): RTP->WebRTC {:>6.0} pkt/s lost {} late {} | \
         WebRTC->RTP {:>6.0} pkt/s lost {} late {} | media CPU {:>5.1}% of a core, {:>5.1} µs per call per 20 ms",
        to_browser.0 as f64 / secs,
        to_browser.1,
        to_browser.2,
        to_phone.0 as f64 / secs,
        to_phone.1,
        to_phone.2,
        core * 100.0,
        core * 20_000.0 / calls.max(1) as f64,
    );
    drop(sessions);
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![10, 50, 100]
    } else {
        counts
    };
    for (i, n) in counts.into_iter().enumerate() {
        run(n, 44000 + (i as u16) * 2000);
    }
}
