//! A phone's media for tests that check what each party hears: a UDP socket that sends a
//! sine tone of its own frequency as PCMU RTP every 20 ms (once told where), and keeps every
//! audio frame it receives, decoded, with its arrival time. A Goertzel filter over what it
//! received says whether a given tone is in it: who this party hears.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// 8 kHz, 20 ms frames.
const RATE: f64 = 8000.0;
const FRAME: usize = 160;

/// One received frame.
#[derive(Clone)]
struct Frame {
    at: Instant,
    samples: Vec<i16>,
}

/// What a party heard over a stretch of time.
#[derive(Debug, Clone, Copy)]
pub struct Heard {
    /// Audio frames received.
    pub frames: usize,
    /// RMS level of all of it (16-bit linear).
    pub rms: f64,
    /// The share of its energy at the asked frequency, 0..1 (a pure tone there: ~1).
    pub share: f64,
}

pub struct TonePeer {
    port: u16,
    target: Arc<Mutex<Option<SocketAddr>>>,
    frames: Arc<Mutex<Vec<Frame>>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl TonePeer {
    /// A peer sending `freq_hz` at a moderate level once [`TonePeer::send_to`] says where.
    pub fn new(freq_hz: f64) -> TonePeer {
        let socket = match UdpSocket::bind("127.0.0.1:0") {
            Ok(s) => s,
            Err(e) => panic!("cannot bind an RTP socket: {e}"),
        };
        let port = socket.local_addr().map_or(0, |a| a.port());
        let _ = socket.set_read_timeout(Some(Duration::from_millis(50)));
        let sender = match socket.try_clone() {
            Ok(s) => s,
            Err(e) => panic!("cannot clone the RTP socket: {e}"),
        };
        let target = Arc::new(Mutex::new(None::<SocketAddr>));
        let frames = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (frames, stop) = (frames.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                while !stop.load(Ordering::Relaxed) {
                    let Ok(n) = socket.recv(&mut buf) else {
                        continue;
                    };
                    if let Some(samples) = decode(&buf[..n]) {
                        let f = Frame {
                            at: Instant::now(),
                            samples,
                        };
                        frames.lock().unwrap_or_else(|e| e.into_inner()).push(f);
                    }
                }
            })
        };
        let writer = {
            let (target, stop) = (target.clone(), stop.clone());
            std::thread::spawn(move || {
                let ssrc: u32 = rand::random();
                let (mut seq, mut ts, mut phase) = (rand::random::<u16>(), 0u32, 0f64);
                let step = 2.0 * std::f64::consts::PI * freq_hz / RATE;
                let start = Instant::now();
                let mut n = 0u32;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let due = start + Duration::from_millis(20 * u64::from(n));
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    let to = *target.lock().unwrap_or_else(|e| e.into_inner());
                    let Some(to) = to else { continue };
                    let mut packet = Vec::with_capacity(12 + FRAME);
                    packet.extend_from_slice(&[0x80, 0]);
                    packet.extend_from_slice(&seq.to_be_bytes());
                    packet.extend_from_slice(&ts.to_be_bytes());
                    packet.extend_from_slice(&ssrc.to_be_bytes());
                    for _ in 0..FRAME {
                        let v = (phase.sin() * 8000.0) as i16;
                        packet.push(media::g711::linear_to_ulaw(v));
                        phase = (phase + step) % (2.0 * std::f64::consts::PI);
                    }
                    let _ = sender.send_to(&packet, to);
                    seq = seq.wrapping_add(1);
                    ts = ts.wrapping_add(FRAME as u32);
                }
            })
        };
        TonePeer {
            port,
            target,
            frames,
            stop,
            threads: vec![reader, writer],
        }
    }

    /// The port to put in this party's SDP.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Start (or redirect) the tone to `addr`.
    pub fn send_to(&self, addr: SocketAddr) {
        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = Some(addr);
    }

    /// Stop sending (a phone that hung up).
    pub fn stop_sending(&self) {
        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// What arrived between `from` and `to`, and how much of it is at `freq_hz`.
    pub fn heard(&self, from: Instant, to: Instant, freq_hz: f64) -> Heard {
        let frames = self.frames.lock().unwrap_or_else(|e| e.into_inner());
        let chosen: Vec<&Frame> = frames
            .iter()
            .filter(|f| f.at >= from && f.at < to)
            .collect();
        let samples: Vec<f64> = chosen
            .iter()
            .flat_map(|f| f.samples.iter().map(|s| f64::from(*s)))
            .collect();
        let energy: f64 = samples.iter().map(|x| x * x).sum();
        let rms = if samples.is_empty() {
            0.0
        } else {
            (energy / samples.len() as f64).sqrt()
        };
        // Goertzel over 100 ms windows (10 Hz bins), their powers summed.
        let mut tone = 0.0;
        let k = 2.0 * (2.0 * std::f64::consts::PI * freq_hz / RATE).cos();
        for w in samples.chunks(800) {
            let (mut s1, mut s2) = (0.0, 0.0);
            for x in w {
                let s0 = x + k * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            let power = s1 * s1 + s2 * s2 - k * s1 * s2;
            tone += power / (w.len() as f64 / 2.0);
        }
        Heard {
            frames: chosen.len(),
            rms,
            share: if energy > 0.0 { tone / energy } else { 0.0 },
        }
    }
}

/// The share of `samples`' energy at `freq_hz` (8 kHz; Goertzel over 100 ms windows), for
/// audio read from a file (a recording, a voicemail) rather than received.
pub fn tone_share(samples: &[i16], freq_hz: f64) -> f64 {
    media::tone::share(samples, freq_hz)
}

impl Drop for TonePeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The audio of a PCMU or PCMA RTP packet, linear.
fn decode(packet: &[u8]) -> Option<Vec<i16>> {
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(packet[0] & 0x0f);
    let start = 12 + 4 * cc;
    let payload = packet.get(start..)?;
    match packet[1] & 0x7f {
        0 => Some(
            payload
                .iter()
                .map(|b| media::g711::ulaw_to_linear(*b))
                .collect(),
        ),
        8 => Some(
            payload
                .iter()
                .map(|b| media::g711::alaw_to_linear(*b))
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goertzel_finds_its_tone_and_not_another() {
        let a = TonePeer::new(700.0);
        let b = TonePeer::new(1900.0);
        a.send_to(SocketAddr::from(([127, 0, 0, 1], b.port())));
        let t0 = Instant::now();
        std::thread::sleep(Duration::from_millis(400));
        let heard_700 = b.heard(t0, Instant::now(), 700.0);
        let heard_1900 = b.heard(t0, Instant::now(), 1900.0);
        assert!(heard_700.frames >= 15, "{heard_700:?}");
        assert!(heard_700.share > 0.8, "{heard_700:?}");
        assert!(heard_1900.share < 0.05, "{heard_1900:?}");
        assert!(heard_700.rms > 3000.0, "{heard_700:?}");
    }
}
