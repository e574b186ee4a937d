//! A relay side facing a browser: the boundary where WebRTC media becomes plain G.711 RTP.
//!
//! Everything the rest of the relay sees of a WebRTC side is ordinary RTP with a G.711
//! payload in the call's law (`law`): the two-party fast path, the mixer, the players, the
//! recorder and digit detection need no change. Inbound, each decrypted frame from the
//! [`Peer`] is converted to `law` (a µ/A swap costs a table lookup; Opus is decoded) and
//! given our own RTP header ([`Restamp`]: one SSRC, +1 sequence per frame, the browser's
//! timestamps rescaled to 8 kHz so gaps stay gaps, the marker after a gap). Outbound,
//! packets the relay would have sent are parsed, telephone events and anything not G.711
//! dropped (str0m negotiates no telephone-event; browsers send DTMF as SIP INFO), the
//! payload converted to the browser's codec and handed to the peer with our own clock.
//! RTCP from the other leg is dropped: str0m makes its own reports.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::UdpSocket;

use super::peer::{Peer, PeerOut, WebCodec};
use crate::codec::Codec;
use crate::g711;
use crate::opus_codec::{OpusPair, MAX_DECODED};
use crate::rtp::{RtpHeader, HEADER_LEN};

/// Largest frame handed on (G.711 at 20 ms is 160 bytes; 60 ms is 480).
const MAX_FRAME: usize = 1024;

/// What the engine is told about a WebRTC side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notice {
    Connected,
    Gone,
}

/// The header of the packets a WebRTC side hands to the relay.
#[derive(Debug)]
struct Restamp {
    ssrc: u32,
    sequence: u16,
    /// The browser's last timestamp (its clock) and ours (8 kHz) for it.
    last: Option<(u32, u32)>,
}

/// The clock of what we send the browser.
#[derive(Debug)]
struct SendClock {
    /// The last relayed packet's SSRC and timestamp, and our timestamp then.
    last: Option<(u32, u32, u32, Instant)>,
}

/// One browser-facing side: its peer and the conversions at its boundary.
#[derive(Debug)]
pub(crate) struct WebRtcSide {
    peer: Peer,
    /// The G.711 law the rest of the relay carries for this side.
    law: Codec,
    to_relay: Restamp,
    to_peer: SendClock,
    /// Frames received and converted, waiting for the relay's fan-out: packets back to back.
    frames: Vec<u8>,
    lengths: Vec<usize>,
    notices: Vec<Notice>,
    /// Opus both ways, made when the browser turns out to speak Opus only.
    opus: Option<OpusPair>,
}

/// Where received frames go: the packets waiting for the fan-out, and the decoder.
struct Inbound<'a> {
    frames: &'a mut Vec<u8>,
    lengths: &'a mut Vec<usize>,
    opus: &'a mut Option<OpusPair>,
}

impl WebRtcSide {
    pub(crate) fn new(peer: Peer, law: Codec) -> WebRtcSide {
        WebRtcSide {
            peer,
            law,
            to_relay: Restamp {
                ssrc: rand::random(),
                sequence: rand::random(),
                last: None,
            },
            to_peer: SendClock { last: None },
            frames: Vec::with_capacity(4 * (HEADER_LEN + 160)),
            lengths: Vec::with_capacity(4),
            notices: Vec::new(),
            opus: None,
        }
    }

    /// When the peer's timers are next due.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.peer.deadline()
    }

    /// The browser's answer to our offer; a bad one ends the side ([`Notice::Gone`]).
    pub(crate) fn accept_answer(&mut self, now: Instant, sdp: &str, socket: &UdpSocket) {
        let (peer, law, relay, notices) = self.split();
        let result = peer.accept_answer(now, sdp, &mut |out| {
            on_out(out, socket, law, relay, notices, None)
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, "browser answer refused");
            self.peer.close();
            self.notices.push(Notice::Gone);
        }
    }

    /// A datagram arrived on the side's socket.
    pub(crate) fn receive(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &[u8],
        socket: &UdpSocket,
    ) {
        let WebRtcSide {
            peer,
            law,
            to_relay,
            frames,
            lengths,
            notices,
            opus,
            ..
        } = self;
        let law = *law;
        peer.receive(now, from, data, &mut |out| {
            on_out(
                out,
                socket,
                law,
                to_relay,
                notices,
                Some(Inbound {
                    frames: &mut *frames,
                    lengths: &mut *lengths,
                    opus: &mut *opus,
                }),
            )
        });
    }

    /// Runs the peer's timers when due.
    pub(crate) fn timeout(&mut self, now: Instant, socket: &UdpSocket) {
        if self.peer.deadline().is_some_and(|d| d <= now) {
            let (peer, law, relay, notices) = self.split();
            peer.timeout(now, &mut |out| {
                on_out(out, socket, law, relay, notices, None)
            });
        }
    }

    fn split(&mut self) -> (&mut Peer, Codec, &mut Restamp, &mut Vec<Notice>) {
        (
            &mut self.peer,
            self.law,
            &mut self.to_relay,
            &mut self.notices,
        )
    }

    /// The converted frames received since the last call, each a whole RTP packet, for
    /// `each`; the buffers are kept for the next ones.
    pub(crate) fn take_frames(&mut self, mut each: impl FnMut(&mut [u8])) {
        let mut at = 0;
        for &len in &self.lengths {
            if let Some(packet) = self.frames.get_mut(at..at + len) {
                each(packet);
            }
            at += len;
        }
        self.frames.clear();
        self.lengths.clear();
    }

    /// What to tell the engine since the last call.
    pub(crate) fn take_notices(&mut self) -> impl Iterator<Item = Notice> + '_ {
        self.notices.drain(..)
    }

    /// An RTP packet the relay sends towards the browser. `false` when it was dropped
    /// (not G.711, not connected yet).
    pub(crate) fn send_rtp(&mut self, now: Instant, packet: &[u8], socket: &UdpSocket) -> bool {
        let Ok(rtp) = crate::rtp::parse(packet) else {
            return false;
        };
        let from = match rtp.header.payload_type {
            0 => Codec::PCMU,
            8 => Codec::PCMA,
            _ => return false,
        };
        let Some(to) = self.peer.codec() else {
            return false;
        };
        if !self.peer.is_connected() || rtp.payload.len() > MAX_FRAME {
            return false;
        }
        let samples = rtp.payload.len() as u32;
        let mut buf = [0u8; MAX_FRAME];
        let payload = if to == WebCodec::Opus {
            let mut pcm = [0i16; MAX_FRAME];
            for (p, b) in pcm.iter_mut().zip(rtp.payload) {
                *p = from.decode(*b);
            }
            let pair = match self.opus.as_mut() {
                Some(pair) => pair,
                None => match OpusPair::new() {
                    Ok(pair) => self.opus.insert(pair),
                    Err(e) => {
                        tracing::warn!(error = %e, "no Opus encoder");
                        return false;
                    }
                },
            };
            match pair.encode(&pcm[..rtp.payload.len()], &mut buf) {
                Ok(len) => &buf[..len],
                Err(e) => {
                    tracing::trace!(error = %e, "frame not Opus-encoded");
                    return false;
                }
            }
        } else {
            convert(rtp.payload, from, to, &mut buf[..rtp.payload.len()]);
            &buf[..rtp.payload.len()]
        };
        let rate = to.rate() / 8000;
        let timestamp = self
            .to_peer
            .next(now, rtp.header.ssrc, rtp.header.timestamp, samples)
            .wrapping_mul(rate);
        let (peer, law, relay, notices) = self.split();
        peer.write(now, timestamp, payload, &mut |out| {
            on_out(out, socket, law, relay, notices, None)
        });
        true
    }
}

impl SendClock {
    /// Our 8 kHz timestamp for a packet of `samples` stamped `timestamp` by `ssrc`: the
    /// source's own spacing while the source stays, the time elapsed when it changes (a
    /// player starts, the other leg is transferred).
    fn next(&mut self, now: Instant, ssrc: u32, timestamp: u32, samples: u32) -> u32 {
        let ours = match self.last {
            None => rand::random::<u32>(),
            Some((s, t, ours, _))
                if s == ssrc && timestamp.wrapping_sub(t).wrapping_sub(1) < 16_000 =>
            {
                ours.wrapping_add(timestamp.wrapping_sub(t))
            }
            Some((_, _, ours, at)) => {
                let elapsed = now.saturating_duration_since(at).as_millis() as u32 * 8;
                ours.wrapping_add(elapsed.max(samples))
            }
        };
        self.last = Some((ssrc, timestamp, ours, now));
        ours
    }
}

/// Carries out one output of the peer.
fn on_out(
    out: PeerOut<'_>,
    socket: &UdpSocket,
    law: Codec,
    relay: &mut Restamp,
    notices: &mut Vec<Notice>,
    inbound: Option<Inbound<'_>>,
) {
    match out {
        PeerOut::Transmit { to, data } => {
            if let Err(e) = socket.try_send_to(data, to) {
                tracing::trace!(error = %e, %to, "WebRTC send failed");
            }
        }
        PeerOut::Connected => notices.push(Notice::Connected),
        PeerOut::Gone => notices.push(Notice::Gone),
        PeerOut::Media {
            codec,
            timestamp,
            payload,
        } => {
            let Some(inbound) = inbound else {
                return;
            };
            let mut pcm = [0i16; MAX_DECODED];
            let samples = match g711_of(codec) {
                Some(_) if payload.len() > MAX_FRAME => return,
                Some(_) => payload.len(),
                None => {
                    let pair = match inbound.opus {
                        Some(pair) => pair,
                        None => match OpusPair::new() {
                            Ok(pair) => inbound.opus.insert(pair),
                            Err(e) => {
                                tracing::warn!(error = %e, "no Opus decoder");
                                return;
                            }
                        },
                    };
                    match pair.decode(payload, &mut pcm) {
                        Ok(n) => n.min(MAX_DECODED),
                        Err(e) => {
                            tracing::trace!(error = %e, "Opus frame not decoded");
                            return;
                        }
                    }
                }
            };
            let ts8k = timestamp / (codec.rate() / 8000);
            let (ours, marker) = match relay.last {
                Some((theirs, ours)) => {
                    let step = ts8k.wrapping_sub(theirs);
                    (ours.wrapping_add(step), step != samples as u32)
                }
                None => (rand::random(), true),
            };
            relay.last = Some((ts8k, ours));
            let header = RtpHeader {
                payload_type: law.payload_type(),
                marker,
                sequence: relay.sequence,
                timestamp: ours,
                ssrc: relay.ssrc,
            };
            relay.sequence = relay.sequence.wrapping_add(1);
            let frames = inbound.frames;
            frames.extend_from_slice(&header.to_bytes());
            let at = frames.len();
            frames.resize(at + samples, 0);
            match g711_of(codec) {
                Some(from) => convert(payload, from, law, &mut frames[at..]),
                None => law.encode(&pcm[..samples], &mut frames[at..]),
            }
            inbound.lengths.push(HEADER_LEN + samples);
        }
    }
}

fn g711_of(codec: WebCodec) -> Option<Codec> {
    match codec {
        WebCodec::Pcmu => Some(Codec::PCMU),
        WebCodec::Pcma => Some(Codec::PCMA),
        WebCodec::Opus => None,
    }
}

/// Converts a G.711 payload from law `from` to what `to` takes (a copy, or a µ/A swap).
fn convert(payload: &[u8], from: Codec, to: impl Into<Target>, out: &mut [u8]) {
    let to_ulaw = match to.into() {
        Target(true) => true,
        Target(false) => false,
    };
    let from_ulaw = matches!(from, Codec::Pcmu { .. });
    for (o, &b) in out.iter_mut().zip(payload) {
        *o = match (from_ulaw, to_ulaw) {
            (true, true) | (false, false) => b,
            (true, false) => g711::linear_to_alaw(g711::ulaw_to_linear(b)),
            (false, true) => g711::linear_to_ulaw(g711::alaw_to_linear(b)),
        };
    }
}

/// Which law a conversion writes: µ-law when true.
struct Target(bool);

impl From<Codec> for Target {
    fn from(c: Codec) -> Target {
        Target(matches!(c, Codec::Pcmu { .. }))
    }
}

impl From<WebCodec> for Target {
    fn from(c: WebCodec) -> Target {
        // Opus never gets here: it is encoded from linear samples.
        Target(!matches!(c, WebCodec::Pcma))
    }
}
