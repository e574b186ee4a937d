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

use tokio::sync::mpsc::{error::TryRecvError, UnboundedReceiver};

use crate::codec::Codec;
use crate::engine::Side;
use crate::latch::Latch;
use crate::mixer::{Inbox, Ticker};
use crate::playback::Playback;
use crate::recorder::Recorder;
use crate::socket::SideSockets;
use crate::srtp::{self, SrtpPair, Stream};
use crate::stats::{Batch, SessionCounters, TotalCounters};
use crate::webrtc::side::{Notice, WebRtcSide};

mod forward;
mod mix;

use forward::relay_from;
use mix::{mix_tick, record_tick, sources_of};

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
    /// SDES-SRTP on a side from now on (keys of both directions), or plain RTP (`None`).
    Srtp {
        side: Side,
        srtp: Option<Box<SrtpPair>>,
    },
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
    /// SRTP contexts when its leg negotiated SDES ([`crate::srtp`]).
    srtp: Option<Box<SrtpPair>>,
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
            srtp: None,
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
            None => {
                let srtp = self.srtp.as_deref_mut();
                playback.pump(now, &self.sockets.rtp, srtp, destination, batch)
            }
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
    fn emit(&mut self, packet: &[u8], now: Instant, batch: &mut Batch) -> bool {
        if let Some(w) = self.webrtc.as_mut() {
            return w.send_rtp(now, packet, &self.sockets.rtp);
        }
        let Some(destination) = self.rtp.destination() else {
            return false;
        };
        let srtp = self.srtp.as_deref_mut();
        match srtp::send_to(
            &self.sockets.rtp,
            srtp,
            Stream::Rtp,
            packet,
            destination,
            batch,
        ) {
            Ok(_) => true,
            Err(e) => {
                tracing::trace!(error = %e, %destination, "send failed");
                false
            }
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
    /// Runs until the session handle is dropped (or the runtime stops), then parks its
    /// sides' sockets for their ports' next calls.
    pub(crate) async fn run(mut self) {
        self.serve().await;
        for side in self.sides.drain(..).flatten() {
            side.sockets.park();
        }
    }

    async fn serve(&mut self) {
        // tokio's `try_send_to` fails with WouldBlock, without trying, until the reactor has
        // reported the socket writable once, which it has not yet for sockets bound a moment
        // ago: a player started with the session would lose its first packet. Registration
        // triggers that first report at once, so this wait is one reactor turn. Endpoints
        // added later wait for it in the loop below (`fresh`).
        // (Only the sockets are borrowed across the await: a side's SRTP contexts are not Sync.)
        for i in 0..self.sides.len() {
            let Some(sockets) = self.sides[i].as_ref().map(|side| &side.sockets) else {
                continue;
            };
            let _ = tokio::join!(sockets.rtp.writable(), sockets.rtcp.writable());
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
                if let Some(removed) = self.sides.get_mut(side.index()).and_then(Option::take) {
                    removed.sockets.park();
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
            Command::Srtp { side, srtp } => {
                if let Some(relay_side) = self.side_mut(side) {
                    relay_side.srtp = srtp;
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
