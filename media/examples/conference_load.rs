//! Conferences with real RTP over loopback: `C` conferences of `N` parties, each party a
//! UDP socket sending 20 ms PCMU packets at 50 per second (sequence numbers and timestamps
//! right) to its relay endpoint and receiving the mix of the others back. The relays are
//! the switch's own (`MediaEngine`, on a runtime of two threads named `media`, as in the
//! switch); the load (one sending thread, one receiving thread) runs beside them on the
//! same two cores, as SIPp does in the call-rate benchmark.
//!
//! Printed per run: packets in and out per second; the CPU of the media threads (from
//! `/proc/self/task/*/schedstat`), as a share of a core and per participant per 20 ms
//! frame; the lateness of what each party receives (against the mix's own 20 ms clock:
//! p50 / p99 / max), the frames more than 20 ms late (a one-frame jitter buffer would run
//! dry), and the frames lost.
//!
//! `cargo run --release -p media --example conference_load` runs 3-, 10- and 50-party
//! conferences, then rising numbers of 3-party conferences until frames come late or are
//! lost. `-- 3 120` runs 120 conferences of 3 only.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use media::rtp::RtpHeader;
use media::{tone, Codec, Hears, MediaEngine, MediaSession, Side, SAMPLES_PER_PACKET};

#[path = "support/cpu.rs"]
mod cpu;
use cpu::threads_cpu;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const FRAME: Duration = Duration::from_millis(20);
const WARM_UP: Duration = Duration::from_secs(2);
const MEASURE: Duration = Duration::from_secs(8);

/// What one party received: (mixer sequence number, arrival) of each packet.
type Arrivals = Vec<(u16, Instant)>;

struct Party {
    socket: UdpSocket,
    to: SocketAddr,
    ssrc: u32,
    payload: Vec<u8>,
}

struct Outcome {
    packets_in_per_sec: f64,
    packets_out: u64,
    media_cpu: Duration,
    lateness_us: Vec<u64>,
    late: u64,
    lost: u64,
}

fn payload(hz: f64) -> Vec<u8> {
    let samples = tone::sine(hz, FRAME, 6000);
    let mut out = vec![0u8; SAMPLES_PER_PACKET];
    Codec::PCMU.encode(&samples, &mut out);
    out
}

/// `conferences` conferences of `parties`: their sessions (kept alive) and parties.
fn build(
    engine: &MediaEngine,
    conferences: usize,
    parties: usize,
) -> (Vec<MediaSession>, Vec<Party>) {
    let mut sessions = Vec::new();
    let mut all = Vec::new();
    for c in 0..conferences {
        let session = engine.create_session().expect("a session");
        let sides: Vec<Side> = (0..parties).map(|i| Side(i as u8)).collect();
        for side in &sides[2..] {
            session.add_endpoint(*side).expect("an endpoint");
        }
        for (i, side) in sides.iter().enumerate() {
            let socket = UdpSocket::bind((LOCALHOST, 0)).expect("a party's socket");
            session.set_remote(*side, Some(socket.local_addr().expect("its address")));
            session.hear(
                *side,
                Hears::Mix {
                    of: sides.clone(),
                    codec: Codec::PCMU,
                },
            );
            all.push(Party {
                to: SocketAddr::new(LOCALHOST, session.port(*side)),
                socket,
                ssrc: (c * 64 + i) as u32 + 1,
                payload: payload(300.0 + 40.0 * i as f64),
            });
        }
        sessions.push(session);
    }
    (sessions, all)
}

/// Every party sends a packet each 20 ms until `stop`.
fn send(parties: &[Party], stop: &AtomicBool) -> u64 {
    let start = Instant::now();
    let mut sent = 0u64;
    let mut packet = vec![0u8; 12 + SAMPLES_PER_PACKET];
    for tick in 0u32.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let at = start + FRAME * tick;
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        for p in parties {
            let header = RtpHeader {
                payload_type: 0,
                marker: tick == 0,
                sequence: tick as u16,
                timestamp: tick.wrapping_mul(SAMPLES_PER_PACKET as u32),
                ssrc: p.ssrc,
            };
            packet[..12].copy_from_slice(&header.to_bytes());
            packet[12..].copy_from_slice(&p.payload);
            if p.socket.send_to(&packet, p.to).is_ok() {
                sent += 1;
            }
        }
    }
    sent
}

/// Receives on every party's socket until `stop`; each one's arrivals.
fn receive(sockets: Vec<UdpSocket>, stop: Arc<AtomicBool>) -> Vec<Arrivals> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("the receiving runtime");
    rt.block_on(async move {
        let all: Vec<Arc<Mutex<Arrivals>>> = sockets
            .iter()
            .map(|_| Arc::new(Mutex::new(Vec::with_capacity(600))))
            .collect();
        let mut tasks = Vec::new();
        for (socket, arrivals) in sockets.into_iter().zip(all.iter().cloned()) {
            socket.set_nonblocking(true).expect("non-blocking");
            let socket = tokio::net::UdpSocket::from_std(socket).expect("a tokio socket");
            let stop = stop.clone();
            tasks.push(tokio::spawn(async move {
                let mut buf = [0u8; 1500];
                while !stop.load(Ordering::Relaxed) {
                    let got = tokio::time::timeout(FRAME * 5, socket.recv(&mut buf)).await;
                    if let Ok(Ok(len)) = got {
                        let now = Instant::now();
                        if let Ok(rtp) = media::rtp::parse(&buf[..len]) {
                            let mut a = arrivals.lock().unwrap_or_else(|e| e.into_inner());
                            a.push((rtp.header.sequence, now));
                        }
                    }
                }
            }));
        }
        for t in tasks {
            let _ = t.await;
        }
        all.into_iter()
            .map(|a| std::mem::take(&mut *a.lock().unwrap_or_else(|e| e.into_inner())))
            .collect()
    })
}

/// Lateness of each arrival inside `[from, to)` against the stream's 20 ms clock (its
/// earliest frame counts as on time), frames more than 20 ms late, and frames lost.
fn judge(
    arrivals: &Arrivals,
    from: Instant,
    to: Instant,
    lateness_us: &mut Vec<u64>,
) -> (u64, u64) {
    let window: Vec<&(u16, Instant)> = arrivals
        .iter()
        .filter(|(_, at)| *at >= from && *at < to)
        .collect();
    let Some(first) = window.first() else {
        return (0, 0);
    };
    // Sequence numbers unwrapped relative to the first in the window.
    let mut index = Vec::with_capacity(window.len());
    let (mut last, mut base) = (first.0, 0i64);
    for (seq, at) in &window {
        let step = seq.wrapping_sub(last) as i16 as i64;
        base += step;
        last = *seq;
        index.push((base, *at));
    }
    let origin = index
        .iter()
        .map(|(k, at)| *at - FRAME * (*k).max(0) as u32)
        .min()
        .unwrap_or(first.1);
    let mut late = 0;
    let mut seen = std::collections::BTreeSet::new();
    for (k, at) in &index {
        let expected = origin + FRAME * (*k).max(0) as u32;
        let us = at.saturating_duration_since(expected).as_micros() as u64;
        if us > 20_000 {
            late += 1;
        }
        lateness_us.push(us);
        seen.insert(*k);
    }
    let span = index.iter().map(|(k, _)| *k).max().unwrap_or(0) + 1;
    (late, span as u64 - seen.len() as u64)
}

fn run(engine: &MediaEngine, conferences: usize, parties: usize) -> Outcome {
    let (sessions, all) = build(engine, conferences, parties);
    let sockets: Vec<UdpSocket> = all
        .iter()
        .map(|p| p.socket.try_clone().expect("a second handle"))
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let receiver = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("rtp-recv".into())
            .spawn(move || receive(sockets, stop))
            .expect("the receiving thread")
    };
    let sender = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("rtp-send".into())
            .spawn(move || send(&all, &stop))
            .expect("the sending thread")
    };
    let begin = Instant::now();
    std::thread::sleep(WARM_UP);
    let (cpu0, stats0, t0) = (threads_cpu("media"), totals(&sessions), Instant::now());
    std::thread::sleep(MEASURE);
    let (cpu1, stats1, t1) = (threads_cpu("media"), totals(&sessions), Instant::now());
    stop.store(true, Ordering::Relaxed);
    let sent = sender.join().unwrap_or(0);
    let ran = begin.elapsed().as_secs_f64();
    let arrivals = receiver.join().unwrap_or_default();
    let mut lateness_us = Vec::new();
    let (mut late, mut lost) = (0, 0);
    for a in &arrivals {
        let (l, x) = judge(a, t0, t1, &mut lateness_us);
        late += l;
        lost += x;
    }
    lateness_us.sort_unstable();
    drop(sessions);
    Outcome {
        packets_in_per_sec: sent as f64 / ran,
        packets_out: stats1 - stats0,
        media_cpu: cpu1 - cpu0,
        lateness_us,
        late,
        lost,
    }
}

/// Mixed packets the relays sent, over every session.
fn totals(sessions: &[MediaSession]) -> u64 {
    sessions.iter().map(|s| s.stats().mixed_packets).sum()
}

fn pct(v: &[u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v[((v.len() - 1) as f64 * p) as usize]
}

fn report(parties: usize, conferences: usize, o: &Outcome) -> bool {
    let secs = MEASURE.as_secs_f64();
    let participants = parties * conferences;
    let frames = participants as f64 * secs * 50.0;
    let cpu_share = o.media_cpu.as_secs_f64() / secs;
    println!(
        "{parties:>7} {conferences:>11} {participants:>12} {:>9.0} {:>9.0} {:>8.1}% {:>10.2} {:>7.2} {:>7.2} {:>7.2} {:>6} {:>6}",
        o.packets_in_per_sec,
        o.packets_out as f64 / secs,
        cpu_share * 100.0,
        o.media_cpu.as_nanos() as f64 / frames / 1000.0,
        pct(&o.lateness_us, 0.5) as f64 / 1000.0,
        pct(&o.lateness_us, 0.99) as f64 / 1000.0,
        o.lateness_us.last().copied().unwrap_or(0) as f64 / 1000.0,
        o.late,
        o.lost,
    );
    o.late == 0 && o.lost == 0
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("media")
        .enable_all()
        .build()
        .expect("the media runtime");
    let _guard = rt.enter();
    let engine = MediaEngine::new(LOCALHOST, LOCALHOST, 20000, 60000).expect("the media engine");
    println!(
        "parties conferences participants  pkts-in/s pkts-out/s media-cpu us/part/frame  p50-ms  p99-ms  max-ms  late   lost"
    );
    if let [parties, conferences] = args[..] {
        report(parties, conferences, &run(&engine, conferences, parties));
        return;
    }
    for (parties, conferences) in [(3, 50), (10, 15), (50, 3)] {
        report(parties, conferences, &run(&engine, conferences, parties));
    }
    let mut best = 0;
    for conferences in [100, 200, 300, 400, 500, 600, 800, 1000] {
        if !report(3, conferences, &run(&engine, conferences, 3)) {
            break;
        }
        best = conferences;
    }
    println!("largest number of 3-party conferences with no late or lost frame: {best}");
}
