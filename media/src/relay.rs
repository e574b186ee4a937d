//! The relay task of one session.
//!
//! One tokio task per session owns the session's endpoints (an RTP and an RTCP socket each,
//! facing one leg: A and B from the start, more added for consultations, conferences and
//! supervisors) and their latching state, so nothing on the packet path is shared with
//! another task except a few counters. The task sleeps on the readiness of every socket and
//! on the command channel from the [`crate::MediaSession`] handle; when the handle is
//! dropped the channel closes, the task ends, and its sockets close before their ports go
//! back to the pool.
//!
//! What each endpoint's leg hears is its [`Hears`]: another endpoint's packets copied as
//! they are (the two-party fast path: A hears B and B hears A), the mix of several
//! endpoints ([`crate::mixer`]: decoded, summed, clipped and encoded every 20 ms in the
//! listener's codec, with its own SSRC), or nothing.
//!
//! Packets are read with non-blocking `try_recv_from` into a buffer on the thread's stack
//! inside a synchronous drain pass: no allocation per packet, and no buffer kept in every idle
//! session's task. Sends are non-blocking too: a datagram that does not fit the socket's send
//! buffer right now is dropped and counted, which for real-time media beats delivering it late.
//!
//! A side may be *playing* ([`crate::playback`]): its player's packets leave from that side's
//! RTP socket, the task also sleeps until the player's next deadline, and the side is parked
//! (nothing relayed to or from it) until the player is stopped or finishes. Player packets
//! are written into a stack buffer too, so playing allocates nothing per packet either.
//!
//! A side may face a browser ([`crate::webrtc`]): then its RTP socket carries ICE, DTLS and
//! SRTP for one str0m peer, and the side converts to and from plain G.711 RTP at its
//! boundary, so everything here treats it as a plain side. Writing to such a side is the
//! relay's one allocation per packet (str0m copies each frame it is given).

use std::future::{poll_fn, Future};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::{error::TryRecvError, UnboundedReceiver};

use crate::codec::Codec;
use crate::engine::Side;
use crate::latch::{Latch, Verdict};
use crate::mixer::{add_into, clip_into, Frame, Inbox, Sum, Ticker};
use crate::playback::Playback;
use crate::player::{PACKET_LEN, SAMPLES_PER_PACKET};
use crate::recorder::Recorder;
use crate::rtp::{RtpHeader, HEADER_LEN};
use crate::socket::SideSockets;
use crate::stats::{Batch, SessionCounters, TotalCounters};
use crate::webrtc::side::{Notice, WebRtcSide};

/// Largest datagram relayed whole; RTP stays under the path MTU, so this is ample (a longer
/// datagram would be truncated by the kernel).
const MAX_DATAGRAM: usize = 4096;

/// Packets taken from one socket per drain pass, so that one busy socket cannot starve the
/// others; what is left keeps the socket ready and is taken on the next pass.
const BATCH_PER_SOCKET: usize = 32;

/// What an endpoint's leg hears (when no player plays to it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hears {
    /// Another endpoint's packets, RTP and RTCP, copied as they are.
    Endpoint(Side),
    /// The sum of these endpoints' audio (itself left out), encoded as `codec`.
    Mix { of: Vec<Side>, codec: Codec },
    /// Nothing.
    Nothing,
}

/// Instructions from the session handle.
#[derive(Debug)]
pub(crate) enum Command {
    /// The RTP address from a side's SDP (None: unknown, or on hold by `0.0.0.0`).
    SetRemote { side: Side, rtp: Option<SocketAddr> },
    /// An explicit RTCP address for a side (from `a=rtcp:`); by default RTCP goes to the RTP
    /// destination's port + 1.
    SetRemoteRtcp {
        side: Side,
        rtcp: Option<SocketAddr>,
    },
    /// Start playing on a side, replacing what it was playing.
    Play { side: Side, playback: Box<Playback> },
    /// Stop playing on a side and resume relaying.
    StopPlaying { side: Side },
    /// A new endpoint, bound by the handle.
    AddSide { side: Side, sockets: SideSockets },
    /// Close an endpoint.
    RemoveSide { side: Side },
    /// What a side hears from now on.
    Hear { side: Side, hears: Hears },
    /// The payload type a side's leg uses for telephone events (RFC 4733), from its SDP.
    SetEvents {
        side: Side,
        payload_type: Option<u8>,
    },
    /// Record `side`'s leg (left) and what it hears (right) into `path`; `mono`: the leg
    /// alone, ending on that much silence.
    Record {
        side: Side,
        path: std::path::PathBuf,
        mono: Option<std::time::Duration>,
    },
    /// Report the side's DTMF digits, or stop.
    Digits { side: Side, listen: bool },
    /// Pause or resume the recording (paused: silence).
    PauseRecording { paused: bool },
    /// End the recording; the file is completed.
    StopRecording,
    /// The side faces a browser from now on: its socket serves this peer, its media is
    /// converted to and from `law`.
    AttachWebRtc {
        side: Side,
        peer: Box<crate::webrtc::Peer>,
        law: Codec,
    },
    /// The browser's answer to the side's peer's offer.
    WebRtcAnswer { side: Side, sdp: String },
    /// The side is plain RTP again.
    DetachWebRtc { side: Side },
}

/// RTP or RTCP: which socket of a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rtp,
    Rtcp,
}

/// The stream a mix sends to its listener.
#[derive(Debug)]
struct MixOut {
    codec: Codec,
    ssrc: u32,
    sequence: u16,
    timestamp: u32,
}

/// One side's sockets and where its media goes.
#[derive(Debug)]
pub(crate) struct RelaySide {
    sockets: SideSockets,
    rtp: Latch,
    rtcp: Latch,
    /// What the side is playing, if anything: then the side is parked.
    playback: Option<Box<Playback>>,
    hears: Hears,
    /// Its audio waiting to be mixed, while some mix takes it.
    inbox: Option<Inbox>,
    /// The mix it hears, while it hears one.
    mix: Option<MixOut>,
    /// Bound while the task runs: its sockets have not yet been reported writable.
    fresh: bool,
    /// Its leg's telephone-event payload type: events relayed to it are renumbered to it.
    events: Option<u8>,
    /// The browser it faces, when it is a WebRTC side.
    webrtc: Option<Box<WebRtcSide>>,
    /// Its digits are reported; the RTP timestamp of the last event reported (an event's
    /// end is sent three times).
    digits: Option<Option<u32>>,
}

impl RelaySide {
    pub(crate) fn new(sockets: SideSockets, hears: Side) -> RelaySide {
        RelaySide {
            sockets,
            rtp: Latch::default(),
            rtcp: Latch::default(),
            playback: None,
            hears: Hears::Endpoint(hears),
            inbox: None,
            mix: None,
            fresh: false,
            events: None,
            digits: None,
            webrtc: None,
        }
    }

    fn is_playing(&self) -> bool {
        self.playback.is_some()
    }

    /// Sends what the side's player has due, ending the playback when it has played out.
    fn play(&mut self, side: Side, now: Instant, batch: &mut Batch) {
        let Some(playback) = self.playback.as_mut() else {
            return;
        };
        let destination = self.rtp.destination();
        let finished = match self.webrtc.as_mut() {
            Some(w) => {
                let socket = &self.sockets.rtp;
                playback.pump_into(now, batch, &mut |p| w.send_rtp(now, p, socket))
            }
            None => playback.pump(now, &self.sockets.rtp, destination, batch),
        };
        if finished {
            tracing::debug!(side = side.0, "playback finished, relaying resumes");
            if let Some(playback) = self.playback.take() {
                playback.finish();
            }
        }
    }

    /// Sends a finished RTP packet (a mix's) to the side's leg; `false` when it could
    /// not go.
    fn emit(&mut self, packet: &[u8], now: Instant) -> bool {
        if let Some(w) = self.webrtc.as_mut() {
            return w.send_rtp(now, packet, &self.sockets.rtp);
        }
        let Some(destination) = self.rtp.destination() else {
            return false;
        };
        match self.sockets.rtp.try_send_to(packet, destination) {
            Ok(_) => true,
            Err(e) => {
                tracing::trace!(error = %e, %destination, "send failed");
                false
            }
        }
    }

    fn socket(&self, kind: Kind) -> &UdpSocket {
        match kind {
            Kind::Rtp => &self.sockets.rtp,
            Kind::Rtcp => &self.sockets.rtcp,
        }
    }

    /// Where this side's packets of `kind` go. RTCP that has neither latched nor been given
    /// an address follows RTP to port + 1, which also puts it on the NAT's public IP once
    /// RTP has latched.
    fn destination(&self, kind: Kind) -> Option<SocketAddr> {
        match kind {
            Kind::Rtp => self.rtp.destination(),
            Kind::Rtcp => self.rtcp.destination().or_else(|| {
                let rtp = self.rtp.destination()?;
                Some(SocketAddr::new(rtp.ip(), rtp.port().checked_add(1)?))
            }),
        }
    }
}

/// Decrements the engine's active-session count when the relay goes away, however it ends
/// (handle dropped, runtime shut down).
#[derive(Debug)]
pub(crate) struct ActiveGuard(pub(crate) Arc<TotalCounters>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.session_ended();
    }
}

/// Everything a session's task owns. Field order is drop order: sockets (and then their port
/// leases) go first, the active-session count last.
#[derive(Debug)]
pub(crate) struct Relay {
    /// Indexed by [`Side`]; `None` where an endpoint was removed or never added.
    pub(crate) sides: Vec<Option<RelaySide>>,
    pub(crate) commands: UnboundedReceiver<Command>,
    pub(crate) counters: Arc<SessionCounters>,
    pub(crate) totals: Arc<TotalCounters>,
    pub(crate) ticker: Ticker,
    pub(crate) recorder: Option<Recorder>,
    /// Where events for the engine go (digits, a voicemail's silence), named by the relay.
    pub(crate) reports: Option<(
        crate::graph::RelayId,
        tokio::sync::mpsc::UnboundedSender<crate::graph::MediaEvent>,
    )>,
    pub(crate) _active: ActiveGuard,
}

/// What woke the task.
enum Wake {
    Command(Option<Command>),
    Io(io::Result<()>),
    /// A player's or the mixer's deadline passed.
    Timer,
}

impl Relay {
    /// Runs until the session handle is dropped (or the runtime stops).
    pub(crate) async fn run(mut self) {
        // tokio's `try_send_to` fails with WouldBlock, without trying, until the reactor has
        // reported the socket writable once, which it has not yet for sockets bound a moment
        // ago: a player started with the session would lose its first packet. Registration
        // triggers that first report at once, so this wait is one reactor turn. Endpoints
        // added later wait for it in the loop below (`fresh`).
        for side in self.sides.iter().flatten() {
            let _ = tokio::join!(side.sockets.rtp.writable(), side.sockets.rtcp.writable());
        }
        // One timer for the session's players and mixer, re-armed in place: no timer is
        // created per wake-up, and a session that plays and mixes nothing never arms it.
        let timer = tokio::time::sleep_until(tokio::time::Instant::now());
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            let wake = {
                let commands = &mut self.commands;
                let sides = &mut self.sides;
                let timer = &mut timer;
                poll_fn(|cx| {
                    // Commands first: an address set before a packet arrived applies to it.
                    if let Poll::Ready(command) = commands.poll_recv(cx) {
                        return Poll::Ready(Wake::Command(command));
                    }
                    for side in sides.iter_mut().flatten() {
                        for socket in [&side.sockets.rtp, &side.sockets.rtcp] {
                            if let Poll::Ready(ready) = socket.poll_recv_ready(cx) {
                                return Poll::Ready(Wake::Io(ready));
                            }
                        }
                        if side.fresh
                            && side.sockets.rtp.poll_send_ready(cx).is_ready()
                            && side.sockets.rtcp.poll_send_ready(cx).is_ready()
                        {
                            side.fresh = false;
                        }
                    }
                    if armed.is_some() && timer.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Wake::Timer);
                    }
                    Poll::Pending
                })
                .await
            };
            match wake {
                Wake::Command(Some(command)) => self.apply(command),
                Wake::Command(None) => break,
                // A fired timer must be re-armed even for the same deadline.
                Wake::Timer => armed = None,
                Wake::Io(Ok(())) => {}
                Wake::Io(Err(e)) => {
                    // Only happens when the I/O driver is gone, i.e. the runtime is stopping.
                    tracing::warn!(error = %e, "relay socket unusable, ending session relay");
                    break;
                }
            }
            loop {
                match self.commands.try_recv() {
                    Ok(command) => self.apply(command),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            self.drain();
            let next = self.next_deadline();
            if next != armed {
                if let Some(deadline) = next {
                    timer
                        .as_mut()
                        .reset(tokio::time::Instant::from_std(deadline));
                }
                armed = next;
            }
        }
    }

    /// Whether the 20 ms tick runs: some side hears a mix, or the call is recorded.
    fn mixing(&self) -> bool {
        self.recorder.is_some() || self.sides.iter().flatten().any(|s| s.mix.is_some())
    }

    /// The earliest deadline of the session's players and mixer.
    fn next_deadline(&self) -> Option<Instant> {
        let mixer = self.mixing().then(|| self.ticker.poll_timeout()).flatten();
        self.sides
            .iter()
            .flatten()
            .filter_map(|side| side.playback.as_ref()?.poll_timeout())
            .chain(mixer)
            .chain(
                self.sides
                    .iter()
                    .flatten()
                    .filter_map(|side| side.webrtc.as_ref()?.deadline()),
            )
            .min()
    }

    fn side_mut(&mut self, side: Side) -> Option<&mut RelaySide> {
        self.sides.get_mut(side.index())?.as_mut()
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::SetRemote { side, rtp } => {
                let Some(relay_side) = self.side_mut(side) else {
                    return;
                };
                let previous = relay_side.rtp.expected();
                if previous != rtp {
                    tracing::debug!(side = side.0, ?rtp, "relay remote set from signalling");
                    relay_side.rtp.set_expected(rtp);
                    if previous.is_some() {
                        // A new endpoint: its RTCP is unknown until told or heard.
                        relay_side.rtcp.reset();
                    }
                }
            }
            Command::SetRemoteRtcp { side, rtcp } => {
                // An explicit a=rtcp: address is signalling about RTCP alone: it replaces
                // whatever RTCP latched before (unlike the first RTP address, see Latch).
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.rtcp.reset();
                    relay_side.rtcp.set_expected(rtcp);
                }
            }
            Command::Play { side, playback } => {
                tracing::debug!(side = side.0, "playback started, side parked");
                // A playback it replaces is dropped: its waiter learns it did not finish.
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.playback = Some(playback);
                }
            }
            Command::StopPlaying { side } => {
                if let Some(relay_side) = self.side_mut(side) {
                    if relay_side.playback.take().is_some() {
                        tracing::debug!(side = side.0, "playback stopped, relaying resumes");
                    }
                }
            }
            Command::AddSide { side, sockets } => {
                let i = side.index();
                if self.sides.len() <= i {
                    self.sides.resize_with(i + 1, || None);
                }
                let mut added = RelaySide::new(sockets, side);
                added.hears = Hears::Nothing;
                added.fresh = true;
                self.sides[i] = Some(added);
            }
            Command::RemoveSide { side } => {
                if let Some(slot) = self.sides.get_mut(side.index()) {
                    *slot = None;
                }
                for other in self.sides.iter_mut().flatten() {
                    if other.hears == Hears::Endpoint(side) {
                        other.hears = Hears::Nothing;
                    }
                }
                self.rewire();
            }
            Command::Record { side, path, mono } => {
                tracing::info!(side = side.0, path = %path.display(), "recording started");
                self.recorder = Some(Recorder::start(side, path, mono));
                self.rewire();
            }
            Command::Digits { side, listen } => {
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.digits = listen.then_some(None);
                }
            }
            Command::PauseRecording { paused } => {
                if let Some(r) = self.recorder.as_mut() {
                    r.paused = paused;
                }
            }
            Command::StopRecording => {
                self.recorder = None;
                self.rewire();
            }
            Command::AttachWebRtc { side, peer, law } => {
                tracing::debug!(side = side.0, local = %peer.local(), "side faces a browser");
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.webrtc = Some(Box::new(WebRtcSide::new(*peer, law)));
                }
            }
            Command::DetachWebRtc { side } => {
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.webrtc = None;
                }
            }
            Command::WebRtcAnswer { side, sdp } => {
                if let Some(relay_side) = self.side_mut(side) {
                    if let Some(w) = relay_side.webrtc.as_mut() {
                        w.accept_answer(Instant::now(), &sdp, &relay_side.sockets.rtp);
                    }
                }
            }
            Command::SetEvents { side, payload_type } => {
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.events = payload_type;
                }
            }
            Command::Hear { side, hears } => {
                tracing::debug!(side = side.0, ?hears, "endpoint hears");
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.mix = match &hears {
                        Hears::Mix { codec, .. } => Some(relay_side.mix.take().map_or_else(
                            || MixOut {
                                codec: *codec,
                                ssrc: rand::random(),
                                sequence: rand::random(),
                                timestamp: rand::random(),
                            },
                            |out| MixOut {
                                codec: *codec,
                                ..out
                            },
                        )),
                        _ => None,
                    };
                    relay_side.hears = hears;
                }
                self.rewire();
            }
        }
    }

    /// Gives an inbox to each side some mix or the recording takes, and takes it from the
    /// others.
    fn rewire(&mut self) {
        let mut mixed: Vec<Side> = self
            .sides
            .iter()
            .flatten()
            .filter_map(|s| match &s.hears {
                Hears::Mix { of, .. } => Some(of.iter().copied()),
                _ => None,
            })
            .flatten()
            .collect();
        if let Some(r) = &self.recorder {
            mixed.push(r.left);
            mixed.extend(sources_of(&self.sides, r.left));
        }
        for (i, side) in self.sides.iter_mut().enumerate() {
            let Some(side) = side else { continue };
            let wanted = mixed.iter().any(|s| s.index() == i);
            match (wanted, side.inbox.is_some()) {
                (true, false) => side.inbox = Some(Inbox::default()),
                (false, true) => side.inbox = None,
                _ => {}
            }
        }
        if !self.mixing() {
            self.ticker.reset();
        }
    }

    /// Relays what is waiting on every socket, sends what the players and the mixer have
    /// due, then publishes the counts.
    fn drain(&mut self) {
        let mut buf = [0u8; MAX_DATAGRAM];
        let mut batch = Batch::default();
        let now = Instant::now();
        let mut digits: Vec<(Side, char)> = Vec::new();
        for side in self.sides.iter_mut().flatten() {
            if let Some(w) = side.webrtc.as_mut() {
                w.timeout(now, &side.sockets.rtp);
            }
        }
        for from in 0..self.sides.len() {
            for kind in [Kind::Rtp, Kind::Rtcp] {
                relay_from(
                    &mut self.sides,
                    from,
                    kind,
                    &mut buf,
                    now,
                    &mut batch,
                    &mut digits,
                );
            }
        }
        if let Some((relay, tx)) = &self.reports {
            for (side, digit) in digits {
                let endpoint = crate::graph::Endpoint {
                    relay: *relay,
                    side,
                };
                let _ = tx.send(crate::graph::MediaEvent::Digit { endpoint, digit });
            }
        }
        self.report_webrtc();
        for (i, side) in self.sides.iter_mut().enumerate() {
            if let Some(side) = side {
                side.play(Side(i as u8), now, &mut batch);
            }
        }
        if self.mixing() {
            while self.ticker.poll_tick(now) {
                mix_tick(&mut self.sides, &mut batch, now);
                if let Some(r) = self.recorder.as_mut() {
                    if record_tick(&self.sides, r) {
                        if let Some((relay, tx)) = &self.reports {
                            let _ = tx.send(crate::graph::MediaEvent::Silence { relay: *relay });
                        }
                    }
                }
            }
        }
        if !batch.is_empty() {
            self.counters.add(&batch, now);
            self.totals.add(&batch);
        }
    }
}

impl Relay {
    /// Tells the engine what its WebRTC sides did (connected, gone).
    fn report_webrtc(&mut self) {
        for (i, side) in self.sides.iter_mut().enumerate() {
            let Some(w) = side.as_mut().and_then(|s| s.webrtc.as_mut()) else {
                continue;
            };
            for notice in w.take_notices() {
                let Some((relay, tx)) = &self.reports else {
                    continue;
                };
                let endpoint = crate::graph::Endpoint {
                    relay: *relay,
                    side: Side(i as u8),
                };
                let _ = tx.send(match notice {
                    Notice::Connected => crate::graph::MediaEvent::WebRtcConnected { endpoint },
                    Notice::Gone => crate::graph::MediaEvent::WebRtcGone { endpoint },
                });
            }
        }
    }
}

/// Takes up to [`BATCH_PER_SOCKET`] packets of `kind` from side `from` and relays each
/// ([`deliver`]); a WebRTC side's datagrams go through its peer first.
#[allow(clippy::too_many_arguments)]
fn relay_from(
    sides: &mut [Option<RelaySide>],
    from: usize,
    kind: Kind,
    buf: &mut [u8],
    now: Instant,
    batch: &mut Batch,
    digits: &mut Vec<(Side, char)>,
) {
    for _ in 0..BATCH_PER_SOCKET {
        let Some(side) = sides.get_mut(from).and_then(Option::as_mut) else {
            return;
        };
        if side.webrtc.is_some() {
            // Everything is muxed on the RTP socket; the RTCP one stays idle.
            if kind == Kind::Rtcp || !receive_webrtc(sides, from, buf, now, batch, digits) {
                return;
            }
            continue;
        }
        let (socket, latch) = match kind {
            Kind::Rtp => (&side.sockets.rtp, &mut side.rtp),
            Kind::Rtcp => (&side.sockets.rtcp, &mut side.rtcp),
        };
        let (len, source) = match socket.try_recv_from(buf) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                // Linux can report a previous send's ICMP error here; the next read is fine.
                tracing::trace!(error = %e, side = from, ?kind, "relay receive error");
                continue;
            }
        };
        batch.received = true;
        match latch.accept(source, now) {
            Verdict::Known => {}
            Verdict::Latched { previous } => {
                tracing::debug!(side = from, ?kind, %source, ?previous, "relay latched");
            }
            Verdict::Rejected => {
                tracing::trace!(side = from, ?kind, %source, "packet from unlatched source dropped");
                batch.dropped += 1;
                continue;
            }
        }
        let Some(packet) = buf.get_mut(..len) else {
            batch.dropped += 1;
            continue;
        };
        deliver(sides, from, kind, packet, now, batch, digits);
    }
}

/// Takes one datagram from WebRTC side `from` into its peer, and relays the media frames
/// it yields as plain RTP; `false` when the socket had nothing.
fn receive_webrtc(
    sides: &mut [Option<RelaySide>],
    from: usize,
    buf: &mut [u8],
    now: Instant,
    batch: &mut Batch,
    digits: &mut Vec<(Side, char)>,
) -> bool {
    let Some(side) = sides.get_mut(from).and_then(Option::as_mut) else {
        return false;
    };
    let (len, source) = match side.sockets.rtp.try_recv_from(buf) {
        Ok(received) => received,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
        Err(e) => {
            tracing::trace!(error = %e, side = from, "relay receive error");
            return true;
        }
    };
    // The side leaves the slice while its frames are written to the others, and comes back.
    let Some(mut w) = side.webrtc.take() else {
        return false;
    };
    w.receive(
        now,
        source,
        buf.get(..len).unwrap_or_default(),
        &side.sockets.rtp,
    );
    w.take_frames(|packet| {
        batch.received = true;
        deliver(sides, from, Kind::Rtp, packet, now, batch, digits);
    });
    if let Some(side) = sides.get_mut(from).and_then(Option::as_mut) {
        side.webrtc = Some(w);
    }
    true
}

/// Copies one packet received on side `from` to the sides that hear it (none while `from`
/// or the listener plays: parked), puts its audio in `from`'s inbox when a mix takes it,
/// and notes the digit a telephone event of it ends.
fn deliver(
    sides: &mut [Option<RelaySide>],
    from: usize,
    kind: Kind,
    packet: &mut [u8],
    now: Instant,
    batch: &mut Batch,
    digits: &mut Vec<(Side, char)>,
) {
    let me = Side(from as u8);
    let len = packet.len();
    let Some(side) = sides.get_mut(from).and_then(Option::as_mut) else {
        return;
    };
    let events = side.events;
    // A telephone event from this side, to be renumbered for each listener.
    let event = match (kind, events, packet.get(1)) {
        (Kind::Rtp, Some(pt), Some(b)) if b & 0x7f == pt && len >= HEADER_LEN => Some(*b),
        _ => None,
    };
    // The end of a telephone event, where the engine listens for digits.
    if let (Some(_), Some(last)) = (event, side.digits.as_mut()) {
        if let Ok(rtp) = crate::rtp::parse(packet) {
            let ended = rtp.payload.get(1).is_some_and(|b| b & 0x80 != 0);
            if ended && *last != Some(rtp.header.timestamp) {
                *last = Some(rtp.header.timestamp);
                if let Some(d) = rtp.payload.first().and_then(|e| digit_of(*e)) {
                    digits.push((me, d));
                }
            }
        }
    }
    if side.is_playing() {
        batch.parked += 1;
        return;
    }
    if let (Kind::Rtp, Some(inbox)) = (kind, side.inbox.as_mut()) {
        if let Ok(rtp) = crate::rtp::parse(packet) {
            inbox.push(rtp.header.payload_type, rtp.payload);
        }
    }
    for to in sides.iter_mut().flatten() {
        if to.hears != Hears::Endpoint(me) {
            continue;
        }
        if to.is_playing() {
            batch.parked += 1;
            continue;
        }
        if let Some(w) = to.webrtc.as_mut() {
            // RTCP stays between str0m and the browser; DTMF reaches browsers as SIP INFO.
            if kind == Kind::Rtp && event.is_none() && w.send_rtp(now, packet, &to.sockets.rtp) {
                count(batch, me, kind, len);
            } else {
                batch.dropped += 1;
            }
            continue;
        }
        let Some(destination) = to.destination(kind) else {
            batch.dropped += 1;
            continue;
        };
        if let Some(byte) = event {
            packet[1] = match to.events {
                Some(theirs) => (byte & 0x80) | theirs,
                None => byte,
            };
        }
        match to.socket(kind).try_send_to(packet, destination) {
            Ok(_) => count(batch, me, kind, len),
            Err(e) => {
                tracing::trace!(error = %e, %destination, "relay send failed");
                batch.dropped += 1;
            }
        }
    }
}

/// One 20 ms tick of the mixer: each source draws a frame; each side hearing a mix gets
/// the sum of its sources but itself, in its codec.
fn mix_tick(sides: &mut [Option<RelaySide>], batch: &mut Batch, now: Instant) {
    for side in sides.iter_mut().flatten() {
        if let Some(inbox) = side.inbox.as_mut() {
            inbox.tick();
        }
    }
    let mut frame: Frame = [0; SAMPLES_PER_PACKET];
    // Listeners of the same sources (a conference's members) share one sum, each hearing
    // it less its own voice: O(members) per tick, not O(members²).
    let mut sum: Sum = [0; SAMPLES_PER_PACKET];
    // The listener whose sources `sum` holds (no copy of the source list per tick).
    let mut summed: Option<usize> = None;
    for i in 0..sides.len() {
        let Some(of) = mix_sources(sides, i) else {
            continue;
        };
        let frame_of = |s: &Side| sides.get(s.index())?.as_ref()?.inbox.as_ref()?.frame();
        if summed.and_then(|j| mix_sources(sides, j)) != Some(of) {
            sum = [0; SAMPLES_PER_PACKET];
            add_into(of.iter().filter_map(frame_of), &mut sum);
            summed = Some(i);
        }
        let me = Side(i as u8);
        let own = if of.contains(&me) {
            frame_of(&me)
        } else {
            None
        };
        clip_into(&sum, own, &mut frame);
        let Some(side) = sides[i].as_mut() else {
            continue;
        };
        if side.is_playing() {
            continue;
        }
        let Some(out) = side.mix.as_mut() else {
            continue;
        };
        let mut packet = [0u8; PACKET_LEN];
        let header = RtpHeader {
            payload_type: out.codec.payload_type(),
            marker: false,
            sequence: out.sequence,
            timestamp: out.timestamp,
            ssrc: out.ssrc,
        };
        out.sequence = out.sequence.wrapping_add(1);
        out.timestamp = out.timestamp.wrapping_add(SAMPLES_PER_PACKET as u32);
        let (head, payload) = packet.split_at_mut(HEADER_LEN);
        head.copy_from_slice(&header.to_bytes());
        out.codec.encode(&frame, payload);
        if side.emit(&packet, now) {
            batch.mixed += 1;
        } else {
            batch.dropped += 1;
        }
    }
}

/// The other endpoints `side`'s leg hears when no player plays to it.
fn sources_of(sides: &[Option<RelaySide>], side: Side) -> Vec<Side> {
    match sides
        .get(side.index())
        .and_then(Option::as_ref)
        .map(|s| &s.hears)
    {
        Some(Hears::Endpoint(x)) => vec![*x],
        Some(Hears::Mix { of, .. }) => of.iter().copied().filter(|x| *x != side).collect(),
        _ => Vec::new(),
    }
}

/// The other endpoints whose audio `side`'s leg hears now (none while a player plays to
/// it: it hears the player).
fn heard_by(sides: &[Option<RelaySide>], side: Side) -> Vec<Side> {
    match sides.get(side.index()).and_then(Option::as_ref) {
        Some(s) if s.is_playing() => Vec::new(),
        _ => sources_of(sides, side),
    }
}

/// One tick of the recording: the left leg's frame, and the sum of what it hears. `true`
/// once a mono recording's silence has lasted its `silence_end`.
fn record_tick(sides: &[Option<RelaySide>], recorder: &mut Recorder) -> bool {
    let frame_of = |s: &Side| sides.get(s.index())?.as_ref()?.inbox.as_ref()?.frame();
    let mut right: Frame = [0; SAMPLES_PER_PACKET];
    if !recorder.is_mono() {
        let heard = heard_by(sides, recorder.left);
        let mut sum: Sum = [0; SAMPLES_PER_PACKET];
        add_into(heard.iter().filter_map(frame_of), &mut sum);
        clip_into(&sum, None, &mut right);
    }
    recorder.push(frame_of(&recorder.left), &right)
}

/// The digit of an RFC 4733 event code (0-9, *, #, A-D).
fn digit_of(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The endpoints side `i` hears the mix of, when it hears a mix.
fn mix_sources(sides: &[Option<RelaySide>], i: usize) -> Option<&[Side]> {
    match &sides.get(i)?.as_ref()?.hears {
        Hears::Mix { of, .. } => Some(of.as_slice()),
        _ => None,
    }
}

/// Adds one relayed packet to the pass's counts.
fn count(batch: &mut Batch, from: Side, kind: Kind, len: usize) {
    let len = len as u64;
    match (kind, from == Side::A) {
        (Kind::Rtp, true) => {
            batch.a_to_b_packets += 1;
            batch.a_to_b_bytes += len;
        }
        (Kind::Rtp, false) => {
            batch.b_to_a_packets += 1;
            batch.b_to_a_bytes += len;
        }
        (Kind::Rtcp, _) => {
            batch.rtcp_packets += 1;
            batch.rtcp_bytes += len;
        }
    }
}
