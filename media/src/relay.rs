//! The relay task of one session.
//!
//! One tokio task per session owns the session's four sockets (RTP and RTCP of sides A and
//! B) and its latching state, so nothing on the packet path is shared with another task
//! except a few counters. The task sleeps on the readiness of all four sockets and on the
//! command channel from the [`crate::MediaSession`] handle; when the handle is dropped the
//! channel closes, the task ends, and its sockets close before their ports go back to the
//! pool.
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

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::mpsc::{error::TryRecvError, UnboundedReceiver};

use crate::engine::Side;
use crate::latch::{Latch, Verdict};
use crate::playback::Playback;
use crate::socket::SideSockets;
use crate::stats::{Batch, SessionCounters, TotalCounters};

/// Largest datagram relayed whole; RTP stays under the path MTU, so this is ample (a longer
/// datagram would be truncated by the kernel).
const MAX_DATAGRAM: usize = 4096;

/// Packets taken from one socket per drain pass, so that one busy socket cannot starve the
/// other three; what is left keeps the socket ready and is taken on the next pass.
const BATCH_PER_SOCKET: usize = 32;

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
}

/// RTP or RTCP: which socket of a side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rtp,
    Rtcp,
}

/// One side's sockets and where its media goes.
#[derive(Debug)]
pub(crate) struct RelaySide {
    sockets: SideSockets,
    rtp: Latch,
    rtcp: Latch,
    /// What the side is playing, if anything: then the side is parked.
    playback: Option<Box<Playback>>,
}

impl RelaySide {
    pub(crate) fn new(sockets: SideSockets) -> RelaySide {
        RelaySide {
            sockets,
            rtp: Latch::default(),
            rtcp: Latch::default(),
            playback: None,
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
        if playback.pump(now, &self.sockets.rtp, destination, batch) {
            tracing::debug!(?side, "playback finished, relaying resumes");
            if let Some(playback) = self.playback.take() {
                playback.finish();
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
    pub(crate) sides: [RelaySide; 2],
    pub(crate) commands: UnboundedReceiver<Command>,
    pub(crate) counters: Arc<SessionCounters>,
    pub(crate) totals: Arc<TotalCounters>,
    pub(crate) _active: ActiveGuard,
}

/// What woke the task.
enum Wake {
    Command(Option<Command>),
    Io(io::Result<()>),
    /// A player's deadline passed.
    Timer,
}

impl Relay {
    /// Runs until the session handle is dropped (or the runtime stops).
    pub(crate) async fn run(mut self) {
        // tokio's `try_send_to` fails with WouldBlock, without trying, until the reactor has
        // reported the socket writable once, which it has not yet for sockets bound a moment
        // ago: a player started with the session would lose its first packet. Registration
        // triggers that first report at once, so this wait is one reactor turn.
        {
            let [a, b] = &self.sides;
            let _ = tokio::join!(
                a.sockets.rtp.writable(),
                b.sockets.rtp.writable(),
                a.sockets.rtcp.writable(),
                b.sockets.rtcp.writable(),
            );
        }
        // One timer for the session's players, re-armed in place: no timer is created per
        // wake-up, and a session that plays nothing never arms it.
        let timer = tokio::time::sleep_until(tokio::time::Instant::now());
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            let wake = {
                let [a, b] = &self.sides;
                tokio::select! {
                    // Commands first: an address set before a packet arrived applies to it.
                    biased;
                    command = self.commands.recv() => Wake::Command(command),
                    ready = a.sockets.rtp.readable() => Wake::Io(ready),
                    ready = b.sockets.rtp.readable() => Wake::Io(ready),
                    ready = a.sockets.rtcp.readable() => Wake::Io(ready),
                    ready = b.sockets.rtcp.readable() => Wake::Io(ready),
                    () = &mut timer, if armed.is_some() => Wake::Timer,
                }
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

    /// The earliest deadline of the session's players.
    fn next_deadline(&self) -> Option<Instant> {
        self.sides
            .iter()
            .filter_map(|side| side.playback.as_ref()?.poll_timeout())
            .min()
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::SetRemote { side, rtp } => {
                let relay_side = &mut self.sides[side.index()];
                let previous = relay_side.rtp.expected();
                if previous != rtp {
                    tracing::debug!(?side, ?rtp, "relay remote set from signalling");
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
                let latch = &mut self.sides[side.index()].rtcp;
                latch.reset();
                latch.set_expected(rtcp);
            }
            Command::Play { side, playback } => {
                tracing::debug!(?side, "playback started, side parked");
                // A playback it replaces is dropped: its waiter learns it did not finish.
                self.sides[side.index()].playback = Some(playback);
            }
            Command::StopPlaying { side } => {
                if self.sides[side.index()].playback.take().is_some() {
                    tracing::debug!(?side, "playback stopped, relaying resumes");
                }
            }
        }
    }

    /// Relays what is waiting on all four sockets, sends what the players have due, then
    /// publishes the counts.
    fn drain(&mut self) {
        let mut buf = [0u8; MAX_DATAGRAM];
        let mut batch = Batch::default();
        let now = Instant::now();
        let [a, b] = &mut self.sides;
        let parked = a.is_playing() || b.is_playing();
        for kind in [Kind::Rtp, Kind::Rtcp] {
            relay_from(a, b, Side::A, kind, parked, &mut buf, now, &mut batch);
            relay_from(b, a, Side::B, kind, parked, &mut buf, now, &mut batch);
        }
        a.play(Side::A, now, &mut batch);
        b.play(Side::B, now, &mut batch);
        if !batch.is_empty() {
            self.counters.add(&batch, now);
            self.totals.add(&batch);
        }
    }
}

/// Moves up to [`BATCH_PER_SOCKET`] packets of `kind` from `from` (side `from_side`) to `to`,
/// or, when either side is `parked` by a player, reads them (latching and counting) without
/// relaying them.
#[allow(clippy::too_many_arguments)]
fn relay_from(
    from: &mut RelaySide,
    to: &RelaySide,
    from_side: Side,
    kind: Kind,
    parked: bool,
    buf: &mut [u8],
    now: Instant,
    batch: &mut Batch,
) {
    let destination = to.destination(kind);
    let out = to.socket(kind);
    let (socket, latch) = match kind {
        Kind::Rtp => (&from.sockets.rtp, &mut from.rtp),
        Kind::Rtcp => (&from.sockets.rtcp, &mut from.rtcp),
    };
    for _ in 0..BATCH_PER_SOCKET {
        let (len, source) = match socket.try_recv_from(buf) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                // Linux can report a previous send's ICMP error here; the next read is fine.
                tracing::trace!(error = %e, ?from_side, ?kind, "relay receive error");
                continue;
            }
        };
        batch.received = true;
        match latch.accept(source, now) {
            Verdict::Known => {}
            Verdict::Latched { previous } => {
                tracing::debug!(side = ?from_side, ?kind, %source, ?previous, "relay latched");
            }
            Verdict::Rejected => {
                tracing::trace!(side = ?from_side, ?kind, %source, "packet from unlatched source dropped");
                batch.dropped += 1;
                continue;
            }
        }
        if parked {
            batch.parked += 1;
            continue;
        }
        let Some(destination) = destination else {
            batch.dropped += 1;
            continue;
        };
        let Some(packet) = buf.get(..len) else {
            batch.dropped += 1;
            continue;
        };
        match out.try_send_to(packet, destination) {
            Ok(_) => count(batch, from_side, kind, len),
            Err(e) => {
                tracing::trace!(error = %e, %destination, "relay send failed");
                batch.dropped += 1;
            }
        }
    }
}

/// Adds one relayed packet to the pass's counts.
fn count(batch: &mut Batch, from: Side, kind: Kind, len: usize) {
    let len = len as u64;
    match (kind, from) {
        (Kind::Rtp, Side::A) => {
            batch.a_to_b_packets += 1;
            batch.a_to_b_bytes += len;
        }
        (Kind::Rtp, Side::B) => {
            batch.b_to_a_packets += 1;
            batch.b_to_a_bytes += len;
        }
        (Kind::Rtcp, _) => {
            batch.rtcp_packets += 1;
            batch.rtcp_bytes += len;
        }
    }
}
