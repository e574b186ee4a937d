//! A stand-in browser for tests and benchmarks: a full-ICE [`Peer`] on its own loopback
//! UDP socket, driven by a thread of its own. Once DTLS is up it sends a G.711 tone every
//! 20 ms, and it keeps each frame it receives, decoded, with its arrival time and RTP
//! timestamp, so a test can ask what it heard ([`crate::tone::share`]) and a benchmark how
//! much arrived late. Not used by the switch itself.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::peer::{Certificate, Codecs, Peer, PeerOut, WebCodec, WebRtcError};
use crate::opus_codec::{OpusPair, MAX_DECODED};
use crate::Codec;

/// One received frame.
struct Frame {
    at: Instant,
    timestamp: u32,
    samples: Vec<i16>,
}

#[derive(Default)]
struct Received {
    frames: Vec<Frame>,
    connected: bool,
    gone: bool,
}

/// What a browser received, for a benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Reception {
    pub frames: usize,
    /// Frames missing by sequence of timestamps (20 ms steps not received).
    pub lost: usize,
    /// Frames that arrived more than 40 ms after their due time (the first frame's
    /// arrival plus their timestamp's offset, less the smallest such lateness).
    pub late: usize,
}

/// A browser whose offer waits for the switch's answer.
pub struct PendingBrowser {
    socket: UdpSocket,
    peer: Peer,
    tone_hz: f64,
}

/// A running browser.
pub struct TestBrowser {
    received: Arc<Mutex<Received>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    local: SocketAddr,
}

fn bind() -> Result<(UdpSocket, SocketAddr), WebRtcError> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| WebRtcError::Stack(e.to_string()))?;
    let local = socket
        .local_addr()
        .map_err(|e| WebRtcError::Stack(e.to_string()))?;
    Ok((socket, local))
}

impl TestBrowser {
    /// Answers the switch's `offer` (non-trickle: the answer holds the host candidate);
    /// returns the browser and its answer.
    pub fn answer(
        offer: &str,
        codecs: Codecs,
        tone_hz: f64,
    ) -> Result<(TestBrowser, String), WebRtcError> {
        let (socket, local) = bind()?;
        let cert = Certificate::shared()?;
        let (peer, answer) = Peer::answer_with(Instant::now(), &cert, local, offer, codecs, false)?;
        Ok((TestBrowser::start(socket, peer, tone_hz), answer))
    }

    /// Makes an offer, gathering complete; [`PendingBrowser::accept`] takes the answer.
    pub fn offer(codecs: Codecs, tone_hz: f64) -> Result<(PendingBrowser, String), WebRtcError> {
        let (socket, local) = bind()?;
        let cert = Certificate::shared()?;
        let (peer, offer) = Peer::offer_with(Instant::now(), &cert, local, codecs, false)?;
        Ok((
            PendingBrowser {
                socket,
                peer,
                tone_hz,
            },
            offer,
        ))
    }

    fn start(socket: UdpSocket, peer: Peer, tone_hz: f64) -> TestBrowser {
        let local = peer.local();
        let received = Arc::new(Mutex::new(Received::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (received, stop) = (received.clone(), stop.clone());
            std::thread::Builder::new()
                .name("test-browser".into())
                .spawn(move || run(socket, peer, tone_hz, &received, &stop))
                .ok()
        };
        TestBrowser {
            received,
            stop,
            thread,
            local,
        }
    }

    /// Its socket's address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// Whether ICE and DTLS are up.
    pub fn connected(&self) -> bool {
        self.received.lock().is_ok_and(|r| r.connected)
    }

    /// Whether its peer reported the switch gone.
    pub fn gone(&self) -> bool {
        self.received.lock().is_ok_and(|r| r.gone)
    }

    /// What arrived over the last `window`: the share at `freq_hz`, and how many frames.
    pub fn heard(&self, window: Duration, freq_hz: f64) -> (f64, usize) {
        let since = Instant::now()
            .checked_sub(window)
            .unwrap_or_else(Instant::now);
        let Ok(r) = self.received.lock() else {
            return (0.0, 0);
        };
        let recent: Vec<&Frame> = r.frames.iter().filter(|f| f.at >= since).collect();
        let samples: Vec<i16> = recent
            .iter()
            .flat_map(|f| f.samples.iter().copied())
            .collect();
        (crate::tone::share(&samples, freq_hz), recent.len())
    }

    /// Counts of everything received so far.
    pub fn reception(&self) -> Reception {
        let Ok(r) = self.received.lock() else {
            return Reception::default();
        };
        reception(&r.frames)
    }
}

impl PendingBrowser {
    /// The switch's answer: the browser starts.
    pub fn accept(mut self, answer: &str) -> Result<TestBrowser, WebRtcError> {
        self.peer
            .accept_answer(Instant::now(), answer, &mut |_| {})?;
        Ok(TestBrowser::start(self.socket, self.peer, self.tone_hz))
    }
}

impl Drop for TestBrowser {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn reception(frames: &[Frame]) -> Reception {
    let Some(first) = frames.first() else {
        return Reception::default();
    };
    // Lateness of each frame against the first one's clock, in ms.
    let lateness: Vec<i64> = frames
        .iter()
        .map(|f| {
            let media_ms = i64::from(f.timestamp.wrapping_sub(first.timestamp) as i32) / 8;
            f.at.duration_since(first.at).as_millis() as i64 - media_ms
        })
        .collect();
    let floor = lateness.iter().copied().min().unwrap_or(0);
    let late = lateness.iter().filter(|l| **l - floor > 40).count();
    let span = frames
        .iter()
        .map(|f| f.timestamp.wrapping_sub(first.timestamp))
        .max()
        .unwrap_or(0);
    let expected = span as usize / 160 + 1;
    Reception {
        frames: frames.len(),
        lost: expected.saturating_sub(frames.len()),
        late,
    }
}

/// The browser's thread: the peer's I/O and timers, a 20 ms tone, what it hears.
fn run(
    socket: UdpSocket,
    mut peer: Peer,
    tone_hz: f64,
    received: &Mutex<Received>,
    stop: &AtomicBool,
) {
    if socket
        .set_read_timeout(Some(Duration::from_millis(5)))
        .is_err()
    {
        return;
    }
    // One second of tone: whole cycles for whole-Hz tones, so the loop is seamless.
    let tone = crate::tone::sine(tone_hz, Duration::from_secs(1), 8000);
    let mut buf = [0u8; 2048];
    let mut next_frame = Instant::now();
    let mut n: u32 = 0;
    let mut decoder = OpusPair::new().ok();
    let mut encoder = OpusPair::new().ok();
    let mut out = |o: PeerOut<'_>| match o {
        PeerOut::Transmit { to, data } => {
            let _ = socket.send_to(data, to);
        }
        PeerOut::Connected => {
            if let Ok(mut r) = received.lock() {
                r.connected = true;
            }
        }
        PeerOut::Gone => {
            if let Ok(mut r) = received.lock() {
                r.gone = true;
            }
        }
        PeerOut::Media {
            codec,
            timestamp,
            payload,
        } => {
            let samples = match codec {
                WebCodec::Pcmu => payload.iter().map(|b| Codec::PCMU.decode(*b)).collect(),
                WebCodec::Pcma => payload.iter().map(|b| Codec::PCMA.decode(*b)).collect(),
                WebCodec::Opus => {
                    let mut pcm = [0i16; MAX_DECODED];
                    let Some(Ok(n)) = decoder.as_mut().map(|d| d.decode(payload, &mut pcm)) else {
                        return;
                    };
                    pcm[..n].to_vec()
                }
            };
            if let Ok(mut r) = received.lock() {
                r.frames.push(Frame {
                    at: Instant::now(),
                    // At 8 kHz whatever the codec's clock.
                    timestamp: timestamp / (codec.rate() / 8000),
                    samples,
                });
            }
        }
    };
    peer.timeout(Instant::now(), &mut out);
    while !stop.load(Ordering::Relaxed) {
        if let Ok((len, from)) = socket.recv_from(&mut buf) {
            peer.receive(Instant::now(), from, &buf[..len], &mut out);
        }
        let now = Instant::now();
        if peer.deadline().is_some_and(|d| d <= now) {
            peer.timeout(now, &mut out);
        }
        if now >= next_frame {
            next_frame += Duration::from_millis(20);
            if peer.is_connected() && !tone.is_empty() {
                let at = (n as usize * 160) % tone.len();
                let frame = &tone[at..(at + 160).min(tone.len())];
                let mut payload = [0u8; 400];
                let (len, step) = match peer.codec() {
                    Some(WebCodec::Opus) => {
                        let Some(Ok(len)) = encoder.as_mut().map(|e| e.encode(frame, &mut payload))
                        else {
                            continue;
                        };
                        (len, 960)
                    }
                    Some(WebCodec::Pcma) => {
                        Codec::PCMA.encode(frame, &mut payload);
                        (160, 160)
                    }
                    _ => {
                        Codec::PCMU.encode(frame, &mut payload);
                        (160, 160)
                    }
                };
                peer.write(now, n.wrapping_mul(step), &payload[..len], &mut out);
                n = n.wrapping_add(1);
            }
        }
    }
}
