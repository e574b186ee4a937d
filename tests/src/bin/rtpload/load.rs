//! The media side of the driver: a sender thread that paces every stream at 50 packets/s
//! (streams spread over the 20 ms period, one slot per millisecond) and a receiver thread
//! that stamps, counts and times what comes back.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::mmsg;
use crate::procstat;

/// RTP header (12) plus one 20 ms PCMU frame (160).
const PACKET: usize = 172;
const FRAME_SAMPLES: u32 = 160;
/// Slots in the 20 ms packet period, one per millisecond.
const SLOTS: usize = 20;
/// A packet later than one frame would miss its turn in a receiver's playout.
const LATE_US: u32 = 20_000;
/// How long after a window the receiver still counts its packets.
const DRAIN: Duration = Duration::from_millis(300);

pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Which end of a call a socket belongs to.
#[derive(Copy, Clone, Debug)]
pub enum End {
    Caller,
    Callee,
}

#[derive(Clone, Copy)]
struct StreamSpec {
    socket: usize,
    dest: SocketAddrV4,
    alive: bool,
}

#[derive(Default, Clone)]
struct RxStream {
    received: u64,
    reordered: u64,
    highest_seq: Option<u16>,
    delays_us: Vec<u32>,
}

/// A stream the relay itself generates (music, announcements): no send time in its
/// payload, so its delay is measured against its RTP timestamps (RFC 3550's relative transit).
#[derive(Default, Clone)]
struct ForeignStream {
    last_seq: u16,
    first_seq_ext: i64,
    highest_seq_ext: i64,
    last_ts: u32,
    ts_ext: i64,
    received: u64,
    reordered: u64,
    /// Arrival (ns) less the RTP timestamp's media time (ns), per packet.
    transits: Vec<i64>,
}

/// Nanoseconds per sample at 8 kHz.
const NS_PER_SAMPLE: i64 = 125_000;

#[derive(Default)]
struct Shared {
    /// Measure what the relay sends of its own accord instead of our streams.
    foreign_mode: bool,
    foreign: Mutex<HashMap<(SocketAddrV4, u32), ForeignStream>>,
    streams: Mutex<Vec<StreamSpec>>,
    sent: Mutex<Vec<u64>>,
    rx: Mutex<Vec<RxStream>>,
    window_start: AtomicU64,
    window_end: AtomicU64,
    /// Bumped when a stream stops, so the sender re-reads which are alive.
    removals: AtomicU64,
    /// Ticks the sender ran more than one period behind its schedule.
    sender_late: AtomicU64,
    stop: AtomicBool,
}

pub struct Media {
    sockets: Arc<Vec<UdpSocket>>,
    per_side: usize,
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// One measured window.
pub struct Step {
    pub lost: u64,
    pub sent: u64,
    pub received: u64,
    pub reordered: u64,
    pub late: u64,
    pub p50_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
    pub secs: f64,
    pub relay_cpu_pct: Option<f64>,
    pub relay_rss_mb: Option<f64>,
    pub driver_cpu_pct: f64,
    /// Everything else that ran on the host meanwhile (% of one core).
    pub others_cpu_pct: f64,
    pub sender_late: u64,
}

impl Step {
    /// One `RESULT key=value ...` line, for people and for the bench script.
    pub fn line(&self, mode: &str, calls: usize) -> String {
        let pps = self.received as f64 / self.secs;
        let cpu = self.relay_cpu_pct.map_or("-".into(), |c| format!("{c:.1}"));
        let per_kpps = self
            .relay_cpu_pct
            .filter(|_| pps > 0.0)
            .map_or("-".into(), |c| format!("{:.3}", c / (pps / 1000.0)));
        let rss = self.relay_rss_mb.map_or("-".into(), |r| format!("{r:.1}"));
        format!(
            "RESULT mode={mode} calls={calls} pps={pps:.0} sent={} received={} lost={} reordered={} \
             late={} p50_us={} p99_us={} max_us={} relay_cpu_pct={cpu} cpu_pct_per_kpps={per_kpps} \
             relay_rss_mb={rss} driver_cpu_pct={:.1} others_cpu_pct={:.1} sender_late_ticks={}",
            self.sent,
            self.received,
            self.lost,
            self.reordered,
            self.late,
            self.p50_us,
            self.p99_us,
            self.max_us,
            self.driver_cpu_pct,
            self.others_cpu_pct,
            self.sender_late
        )
    }
}

impl Media {
    /// Binds `per_side` sockets for callers and as many for callees, on 127.0.0.1, and
    /// starts the sender and receiver threads.
    pub fn start(per_side: usize, foreign_mode: bool) -> std::io::Result<Media> {
        let mut sockets = Vec::with_capacity(per_side * 2);
        for _ in 0..per_side * 2 {
            let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
            mmsg::prepare(&socket)?;
            sockets.push(socket);
        }
        let sockets = Arc::new(sockets);
        let shared = Arc::new(Shared {
            foreign_mode,
            ..Shared::default()
        });
        let tx = {
            let (sockets, shared) = (sockets.clone(), shared.clone());
            std::thread::Builder::new()
                .name("rtpload-tx".into())
                .spawn(move || send_loop(&sockets, &shared))?
        };
        let rx = {
            let (sockets, shared) = (sockets.clone(), shared.clone());
            std::thread::Builder::new()
                .name("rtpload-rx".into())
                .spawn(move || recv_loop(&sockets, &shared))?
        };
        Ok(Media {
            sockets,
            per_side,
            shared,
            threads: Mutex::new(vec![tx, rx]),
        })
    }

    fn socket_index(&self, end: End, call: usize) -> usize {
        let base = match end {
            End::Caller => 0,
            End::Callee => self.per_side,
        };
        base + call % self.per_side
    }

    /// The local port the `end` of call number `call` sends from and receives on.
    pub fn port(&self, end: End, call: usize) -> u16 {
        self.sockets[self.socket_index(end, call)]
            .local_addr()
            .map_or(0, |a| a.port())
    }

    /// Starts a stream from the `end` of call `call` to `dest` (the relay's port for it);
    /// returns the stream's number.
    pub fn add_stream(&self, end: End, call: usize, dest: SocketAddrV4) -> usize {
        let socket = self.socket_index(end, call);
        let mut streams = lock(&self.shared.streams);
        streams.push(StreamSpec {
            socket,
            dest,
            alive: true,
        });
        lock(&self.shared.sent).push(0);
        lock(&self.shared.rx).push(RxStream::default());
        streams.len() - 1
    }

    /// Stops sending on a stream (its call is about to end).
    pub fn remove_stream(&self, stream: usize) {
        if let Some(spec) = lock(&self.shared.streams).get_mut(stream) {
            spec.alive = false;
        }
        self.shared.removals.fetch_add(1, Ordering::SeqCst);
    }

    /// Counts the packets sent during the next `length`, and the relay's CPU meanwhile.
    pub fn measure(&self, length: Duration, pid: Option<u32>) -> Step {
        let me = std::process::id();
        for sent in lock(&self.shared.sent).iter_mut() {
            *sent = 0;
        }
        for rx in lock(&self.shared.rx).iter_mut() {
            *rx = RxStream::default();
        }
        lock(&self.shared.foreign).clear();
        let late0 = self.shared.sender_late.load(Ordering::Relaxed);
        let relay0 = pid.and_then(procstat::cpu_ns);
        let driver0 = procstat::cpu_ns(me).unwrap_or(0);
        let host0 = procstat::host_busy_ns();
        let start = Instant::now();
        self.shared.window_end.store(u64::MAX, Ordering::SeqCst);
        self.shared.window_start.store(now_ns(), Ordering::SeqCst);
        std::thread::sleep(length);
        self.shared.window_end.store(now_ns(), Ordering::SeqCst);
        let secs = start.elapsed().as_secs_f64();
        let relay1 = pid.and_then(procstat::cpu_ns);
        let driver1 = procstat::cpu_ns(me).unwrap_or(0);
        let host1 = procstat::host_busy_ns();
        std::thread::sleep(DRAIN);
        let sent: u64 = lock(&self.shared.sent).iter().sum();
        let rx = std::mem::take(&mut *lock(&self.shared.rx));
        lock(&self.shared.rx).resize(rx.len(), RxStream::default());
        self.shared.window_start.store(0, Ordering::SeqCst);

        let mut added: Vec<u32> = Vec::new();
        let (mut sent, mut received, mut reordered) = (sent, 0, 0);
        if self.shared.foreign_mode {
            sent = 0;
            for stream in std::mem::take(&mut *lock(&self.shared.foreign)).into_values() {
                sent += (stream.highest_seq_ext - stream.first_seq_ext + 1).max(0) as u64;
                received += stream.received;
                reordered += stream.reordered;
                if let Some(&least) = stream.transits.iter().min() {
                    added.extend(
                        stream
                            .transits
                            .iter()
                            .map(|t| ((t - least) / 1000).min(u32::MAX as i64) as u32),
                    );
                }
            }
        }
        for stream in &rx {
            received += stream.received;
            reordered += stream.reordered;
            if let Some(&least) = stream.delays_us.iter().min() {
                added.extend(stream.delays_us.iter().map(|d| d - least));
            }
        }
        added.sort_unstable();
        let rank = |q: f64| -> u32 {
            if added.is_empty() {
                return 0;
            }
            let i = ((added.len() as f64 * q).ceil() as usize).clamp(1, added.len());
            added[i - 1]
        };
        let pct = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(100.0 * (b.saturating_sub(a)) as f64 / 1e9 / secs),
            _ => None,
        };
        let relay_cpu_pct = pct(relay0, relay1);
        let driver_cpu_pct = pct(Some(driver0), Some(driver1)).unwrap_or(0.0);
        let others_cpu_pct = pct(host0, host1).map_or(0.0, |host| {
            (host - driver_cpu_pct - relay_cpu_pct.unwrap_or(0.0)).max(0.0)
        });
        Step {
            lost: sent.saturating_sub(received),
            sent,
            received,
            reordered,
            late: added.iter().filter(|&&d| d > LATE_US).count() as u64,
            p50_us: rank(0.50),
            p99_us: rank(0.99),
            max_us: added.last().copied().unwrap_or(0),
            secs,
            relay_cpu_pct,
            relay_rss_mb: pid.and_then(procstat::rss_kb).map(|kb| kb as f64 / 1024.0),
            driver_cpu_pct,
            others_cpu_pct,
            sender_late: self.shared.sender_late.load(Ordering::Relaxed) - late0,
        }
    }

    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for thread in lock(&self.threads).drain(..) {
            let _ = thread.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Per-stream sender state: RTP header fields.
struct TxStream {
    spec: StreamSpec,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
}

fn send_loop(sockets: &[UdpSocket], shared: &Shared) {
    let mut streams: Vec<TxStream> = Vec::new();
    // slots[slot][socket] = stream indices sending in that millisecond from that socket.
    let mut slots: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); sockets.len()]; SLOTS];
    let mut packets: Vec<[u8; PACKET]> = Vec::new();
    let mut next = Instant::now();
    let mut slot = 0;
    let mut removals = 0;
    while !shared.stop.load(Ordering::Relaxed) {
        {
            let specs = lock(&shared.streams);
            let now_removed = shared.removals.load(Ordering::SeqCst);
            if now_removed != removals {
                removals = now_removed;
                for members in slots.iter_mut().flatten() {
                    members.retain(|&i| specs[i].alive);
                }
            }
            for (i, spec) in specs.iter().enumerate().skip(streams.len()) {
                if spec.alive {
                    slots[i % SLOTS][spec.socket].push(i);
                }
                streams.push(TxStream {
                    spec: *spec,
                    seq: rand::random(),
                    timestamp: rand::random(),
                    ssrc: rand::random(),
                });
            }
        }
        let (start, end) = (
            shared.window_start.load(Ordering::Relaxed),
            shared.window_end.load(Ordering::Relaxed),
        );
        let mut counted: Vec<usize> = Vec::new();
        for (socket, members) in slots[slot].iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            packets.resize(members.len(), [0xFF; PACKET]);
            let sent_at = now_ns();
            for (packet, &i) in packets.iter_mut().zip(members) {
                let s = &mut streams[i];
                s.seq = s.seq.wrapping_add(1);
                s.timestamp = s.timestamp.wrapping_add(FRAME_SAMPLES);
                packet[0] = 0x80;
                packet[1] = 0; // PCMU
                packet[2..4].copy_from_slice(&s.seq.to_be_bytes());
                packet[4..8].copy_from_slice(&s.timestamp.to_be_bytes());
                packet[8..12].copy_from_slice(&s.ssrc.to_be_bytes());
                packet[12..20].copy_from_slice(&sent_at.to_le_bytes());
                packet[20..24].copy_from_slice(&(i as u32).to_le_bytes());
            }
            let datagrams: Vec<(SocketAddrV4, &[u8])> = members
                .iter()
                .zip(&packets)
                .map(|(&i, p)| (streams[i].spec.dest, &p[..]))
                .collect();
            let n = mmsg::send_all(&sockets[socket], &datagrams);
            if start != 0 && sent_at >= start && sent_at < end {
                counted.extend(&members[..n]);
            }
        }
        if !counted.is_empty() {
            let mut sent = lock(&shared.sent);
            for i in counted {
                sent[i] += 1;
            }
        }
        slot = (slot + 1) % SLOTS;
        next += Duration::from_millis(1);
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else if now - next > Duration::from_millis(SLOTS as u64) {
            shared.sender_late.fetch_add(1, Ordering::Relaxed);
            next = now;
        }
    }
}

fn recv_loop(sockets: &[UdpSocket], shared: &Shared) {
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|s| libc::pollfd {
            fd: s.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut buffers = mmsg::RecvBuffers::new();
    while !shared.stop.load(Ordering::Relaxed) {
        // SAFETY: fds is a valid array of pollfd for the length passed.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        if ready <= 0 {
            continue;
        }
        for (i, pfd) in fds.iter().enumerate() {
            if pfd.revents & libc::POLLIN == 0 {
                continue;
            }
            loop {
                let n = match mmsg::recv_batch(&sockets[i], &mut buffers) {
                    Ok(n) => n,
                    Err(e) => {
                        eprintln!("receive error: {e}");
                        0
                    }
                };
                if n == 0 {
                    break;
                }
                account(shared, &buffers, n);
                if n < mmsg::BATCH {
                    break;
                }
            }
        }
    }
}

fn account(shared: &Shared, buffers: &mmsg::RecvBuffers, n: usize) {
    let start = shared.window_start.load(Ordering::Relaxed);
    if start == 0 {
        return;
    }
    let end = shared.window_end.load(Ordering::Relaxed);
    if shared.foreign_mode {
        account_foreign(shared, buffers, n, start, end);
        return;
    }
    let mut rx = lock(&shared.rx);
    for k in 0..n {
        let packet = buffers.datagram(k);
        if packet.len() < 24 {
            continue;
        }
        let sent_at = u64::from_le_bytes(packet[12..20].try_into().unwrap_or([0; 8]));
        if sent_at < start || sent_at >= end {
            continue;
        }
        let id = u32::from_le_bytes(packet[20..24].try_into().unwrap_or([0; 4])) as usize;
        let Some(stream) = rx.get_mut(id) else {
            continue;
        };
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        match stream.highest_seq {
            Some(h) if (seq.wrapping_sub(h) as i16) <= 0 => stream.reordered += 1,
            _ => stream.highest_seq = Some(seq),
        }
        stream.received += 1;
        let arrived = buffers.received[k].1;
        let delay_us = (arrived.saturating_sub(sent_at) / 1000).min(u32::MAX as u64) as u32;
        stream.delays_us.push(delay_us);
    }
}

fn account_foreign(shared: &Shared, buffers: &mmsg::RecvBuffers, n: usize, start: u64, end: u64) {
    let mut streams = lock(&shared.foreign);
    for k in 0..n {
        let packet = buffers.datagram(k);
        let arrived = buffers.received[k].1;
        if packet.len() < 12 || arrived < start || arrived >= end {
            continue;
        }
        let seq = u16::from_be_bytes([packet[2], packet[3]]);
        let ts = u32::from_be_bytes([packet[4], packet[5], packet[6], packet[7]]);
        let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
        let stream = streams
            .entry((buffers.source(k), ssrc))
            .or_insert_with(|| ForeignStream {
                last_seq: seq.wrapping_sub(1),
                last_ts: ts,
                ..ForeignStream::default()
            });
        let seq_ext = stream.highest_seq_ext + i64::from(seq.wrapping_sub(stream.last_seq) as i16);
        if stream.received == 0 {
            stream.first_seq_ext = seq_ext;
            stream.highest_seq_ext = seq_ext;
        }
        if seq_ext > stream.highest_seq_ext || stream.received == 0 {
            stream.highest_seq_ext = seq_ext;
            stream.last_seq = seq;
            stream.ts_ext += i64::from(ts.wrapping_sub(stream.last_ts) as i32);
            stream.last_ts = ts;
            stream
                .transits
                .push(arrived as i64 - stream.ts_ext * NS_PER_SAMPLE);
        } else {
            stream.reordered += 1;
        }
        stream.received += 1;
    }
}
