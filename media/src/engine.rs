//! The media engine and its sessions: the API the call engine uses to anchor a call's media.
//!
//! A call's two legs each get a side of a [`MediaSession`]: side A faces leg A, side B faces
//! leg B. The switch advertises side B's port in the SDP it sends to leg B and side A's in what
//! it sends to leg A (see [`crate::sdp::rewrite`]), and tells the session where each leg wants
//! its media ([`MediaSession::set_remote`], from [`crate::sdp::media_endpoints`]). What leg A
//! sends to side A leaves from side B towards leg B, and back.
//!
//! Instead of relaying, a side can play a [`Playlist`] to its leg ([`MediaSession::play`]):
//! queue announcements and music-on-hold, a feature code's confirmation tone.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use rand::Rng;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::codec::Codec;
use crate::error::MediaError;
use crate::playback::Playback;
use crate::player::Player;
use crate::playlist::Playlist;
use crate::port_pool::PortPool;
pub use crate::relay::Hears;
use crate::relay::{ActiveGuard, Command, Relay, RelaySide};
use crate::socket::{SideSockets, WarmSockets};
use crate::stats::{SessionCounters, SessionStats, TotalCounters, Totals};

/// One endpoint of a session: a port pair facing one leg. Endpoints [`Side::A`] and
/// [`Side::B`] are bound with the session and relay to each other; more are added for
/// consultations, conferences and supervisors ([`MediaSession::add_endpoint`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Side(pub u8);

/// `A`, `B`, then the added endpoints' numbers.
impl std::fmt::Debug for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            0 => f.write_str("A"),
            1 => f.write_str("B"),
            n => write!(f, "{n}"),
        }
    }
}

impl Side {
    /// The endpoint facing leg A (by convention the caller).
    pub const A: Side = Side(0);
    /// The endpoint facing leg B.
    pub const B: Side = Side(1);

    /// The other of the session's first two endpoints (A for B, B for A): where a
    /// two-party call relays this one's media. Not meaningful for added endpoints.
    pub fn other(self) -> Side {
        Side(self.0 ^ 1)
    }

    pub(crate) fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Allocates relay sessions and keeps the engine-wide counters.
///
/// Cheap to share (`Arc`); one per media address the switch serves.
#[derive(Debug)]
pub struct MediaEngine {
    bind_ip: IpAddr,
    advertised_ip: IpAddr,
    pool: Arc<PortPool>,
    /// The sockets of free ports, kept bound for their next call.
    warm: Arc<WarmSockets>,
    totals: Arc<TotalCounters>,
}

impl MediaEngine {
    /// An engine binding relay sockets on `bind_ip` (may be unspecified, `0.0.0.0`) with
    /// ports from `first_port..=last_port`, and telling peers to send to `advertised_ip`
    /// (the public address when the switch sits behind 1:1 NAT; otherwise the bind address).
    ///
    /// Each session uses two port pairs, so the range serves `(last - first + 1) / 4` calls.
    pub fn new(
        bind_ip: IpAddr,
        advertised_ip: IpAddr,
        first_port: u16,
        last_port: u16,
    ) -> Result<Arc<MediaEngine>, MediaError> {
        Ok(Arc::new(MediaEngine {
            bind_ip,
            advertised_ip,
            pool: Arc::new(PortPool::new(first_port, last_port)?),
            warm: Arc::default(),
            totals: Arc::new(TotalCounters::default()),
        }))
    }

    /// Binds both sides of a new session and starts relaying.
    ///
    /// Must be called from within a tokio runtime (the relay is a task on it). Fails with
    /// [`MediaError::PortsExhausted`] when the pool is empty, which the caller should answer
    /// with 503 (or 488 in a re-INVITE) rather than setting up a call without media.
    pub fn create_session(&self) -> Result<MediaSession, MediaError> {
        self.create_session_reporting(None)
    }

    /// [`MediaEngine::create_session`] whose events for the call engine (DTMF digits, a
    /// voicemail's silence) go to `reports`, named by the relay.
    pub fn create_session_reporting(
        &self,
        reports: Option<(
            crate::graph::RelayId,
            mpsc::UnboundedSender<crate::graph::MediaEvent>,
        )>,
    ) -> Result<MediaSession, MediaError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| MediaError::NoRuntime)?;
        let a = SideSockets::bind(&self.pool, &self.warm, self.bind_ip)?;
        let b = SideSockets::bind(&self.pool, &self.warm, self.bind_ip)?;
        let (a_port, b_port) = (a.port(), b.port());

        let counters = Arc::new(SessionCounters::new(Instant::now()));
        let (commands, receiver) = mpsc::unbounded_channel();
        self.totals.session_started();
        let relay = Relay {
            sides: vec![
                Some(RelaySide::new(a, Side::B)),
                Some(RelaySide::new(b, Side::A)),
            ],
            commands: receiver,
            counters: Arc::clone(&counters),
            totals: Arc::clone(&self.totals),
            ticker: crate::mixer::Ticker::default(),
            recorder: None,
            reports,
            _active: ActiveGuard(Arc::clone(&self.totals)),
        };
        let task = runtime.spawn(relay.run());
        tracing::debug!(a_port, b_port, "media session created");
        Ok(MediaSession {
            commands,
            counters,
            task,
            a_port,
            b_port,
            advertised_ip: self.advertised_ip,
            bind_ip: self.bind_ip,
            pool: Arc::clone(&self.pool),
            warm: Arc::clone(&self.warm),
        })
    }

    /// Engine-wide counters, for metrics.
    pub fn totals(&self) -> Totals {
        Totals {
            warm_ports: self.warm.len() as u64,
            ..self.totals.snapshot()
        }
    }

    /// The address put in SDP for every session of this engine.
    pub fn advertised_ip(&self) -> IpAddr {
        self.advertised_ip
    }

    /// Close the sockets of ports that have waited for a call longer than
    /// [`crate::socket::WARM_IDLE`] (they are kept bound meanwhile: see `socket.rs`). Call it
    /// now and then; parking a side does it too.
    pub fn sweep_idle(&self) {
        self.warm.sweep(Instant::now());
    }

    /// How many free ports keep their sockets bound (each holds two descriptors).
    pub fn warm_ports(&self) -> usize {
        self.warm.len()
    }

    /// The engine's port pool (free pairs are a useful gauge: two per session).
    pub fn port_pool(&self) -> &PortPool {
        &self.pool
    }
}

/// The handle of one relay session. Dropping it (or [`MediaSession::close`]) stops the relay
/// and, once its sockets are closed, returns its ports to the pool.
#[derive(Debug)]
pub struct MediaSession {
    commands: UnboundedSender<Command>,
    counters: Arc<SessionCounters>,
    task: JoinHandle<()>,
    a_port: u16,
    b_port: u16,
    advertised_ip: IpAddr,
    bind_ip: IpAddr,
    pool: Arc<PortPool>,
    warm: Arc<WarmSockets>,
}

impl MediaSession {
    /// Side A's RTP port (RTCP is one above): put it in the SDP sent to leg A.
    pub fn a_port(&self) -> u16 {
        self.a_port
    }

    /// Side B's RTP port (RTCP is one above): put it in the SDP sent to leg B.
    pub fn b_port(&self) -> u16 {
        self.b_port
    }

    /// The RTP port of `side` (A or B; an added endpoint's port is what
    /// [`MediaSession::add_endpoint`] returned).
    pub fn port(&self, side: Side) -> u16 {
        if side == Side::A {
            self.a_port
        } else {
            self.b_port
        }
    }

    /// The address to put in SDP `c=` and `o=` lines.
    pub fn advertised_ip(&self) -> IpAddr {
        self.advertised_ip
    }

    /// Where `side`'s leg wants its RTP, from its SDP (`None`: unknown or on hold by
    /// `0.0.0.0`). Media goes there until that leg sends, after which it follows the source
    /// of the leg's packets (symmetric latching). A different address than before resets the
    /// latch; the same one keeps it. RTCP goes to this address's port + 1 unless
    /// [`MediaSession::set_remote_rtcp`] says otherwise or the leg's RTCP has been heard.
    pub fn set_remote(&self, side: Side, rtp: Option<SocketAddr>) {
        // A send error means the relay already stopped; there is nothing left to steer.
        let _ = self.commands.send(Command::SetRemote { side, rtp });
    }

    /// An explicit RTCP address for `side` (from `a=rtcp:`). Call it after
    /// [`MediaSession::set_remote`], which forgets the RTCP address when the RTP one changes.
    pub fn set_remote_rtcp(&self, side: Side, rtcp: Option<SocketAddr>) {
        let _ = self.commands.send(Command::SetRemoteRtcp { side, rtcp });
    }

    /// Plays `playlist` to `side`'s leg as `codec` (which must be a codec, and payload type
    /// number, that the leg accepted in SDP), replacing whatever `side` was playing.
    ///
    /// While it plays, `side` is *parked*: the player owns the RTP stream towards the leg, so
    /// nothing from the other side is forwarded to it, and what the leg sends is still
    /// received (it keeps latching the side and keeps `idle_for` low) but is not forwarded to
    /// the other side either; RTCP is held back both ways alike. Packets received while parked
    /// are counted in [`SessionStats::parked_packets`]. When the playback ends (finished or
    /// [`MediaSession::stop_playing`]), relaying resumes both ways. Each playback is a new
    /// RTP stream: a random SSRC, sequence number and timestamp origin, and no RTCP reports.
    ///
    /// Packets go to the leg's latched address, else its signalled one; while neither is known
    /// they are dropped and counted in [`SessionStats::dropped`] but the playback keeps time.
    ///
    /// The receiver resolves `Ok(())` once a [`crate::Repeat::Once`] playlist has played out
    /// (its last packet sent and that packet's 20 ms elapsed, so a next prompt follows on).
    /// It resolves to an error when the playback ends any other way: stopped, replaced by
    /// another `play`, or the session closed. A looping playlist therefore never yields
    /// `Ok`; dropping the receiver does not stop the playback.
    pub fn play(&self, side: Side, playlist: Playlist, codec: Codec) -> oneshot::Receiver<()> {
        let (done, finished) = oneshot::channel();
        let mut rng = rand::thread_rng();
        let player = Player::new(rng.gen(), codec, playlist)
            .with_initial_sequence_and_timestamp(rng.gen(), rng.gen());
        tracing::debug!(?side, ?codec, ssrc = player.ssrc(), "play requested");
        let playback = Box::new(Playback::new(player, done));
        // If the relay has stopped, the command and its sender are dropped: the receiver
        // resolves to an error at once.
        let _ = self.commands.send(Command::Play { side, playback });
        finished
    }

    /// Stops what `side` is playing, if anything, and resumes relaying both ways. The
    /// playback's receiver resolves to an error unless it had already finished.
    pub fn stop_playing(&self, side: Side) {
        let _ = self.commands.send(Command::StopPlaying { side });
    }

    /// Binds a new endpoint `side` (not A or B) for another leg of the call: a consulted
    /// party, a conference participant, a supervisor. It hears nothing until
    /// [`MediaSession::hear`] says what. Its RTP port (RTCP is one above), or why not.
    pub fn add_endpoint(&self, side: Side) -> Result<u16, MediaError> {
        let sockets = SideSockets::bind(&self.pool, &self.warm, self.bind_ip)?;
        let port = sockets.port();
        self.commands
            .send(Command::AddSide { side, sockets })
            .map_err(|_| MediaError::NoRuntime)?;
        tracing::debug!(side = side.0, port, "media endpoint added");
        Ok(port)
    }

    /// `side` faces a browser from now on: its socket serves `peer`, whose media the relay
    /// converts to and from `law`.
    pub fn attach_webrtc(&self, side: Side, peer: Box<crate::webrtc::Peer>, law: crate::Codec) {
        let _ = self
            .commands
            .send(Command::AttachWebRtc { side, peer, law });
    }

    /// `side` is a plain RTP side again.
    pub fn detach_webrtc(&self, side: Side) {
        let _ = self.commands.send(Command::DetachWebRtc { side });
    }

    /// The browser's answer to `side`'s peer's offer.
    pub fn webrtc_answer(&self, side: Side, sdp: String) {
        let _ = self.commands.send(Command::WebRtcAnswer { side, sdp });
    }

    /// Closes endpoint `side`; whatever heard it hears nothing from it any more.
    pub fn remove_endpoint(&self, side: Side) {
        let _ = self.commands.send(Command::RemoveSide { side });
    }

    /// What `side`'s leg hears: another endpoint's packets as they are (a relay), the mix
    /// of several, or nothing. A player on `side` still takes precedence while it plays.
    pub fn hear(&self, side: Side, hears: Hears) {
        let _ = self.commands.send(Command::Hear { side, hears });
    }

    /// The payload type `side`'s leg numbers telephone events (RFC 4733 DTMF) with, from
    /// its SDP: events relayed to it from a leg that numbers them otherwise are renumbered.
    pub fn set_events(&self, side: Side, payload_type: Option<u8>) {
        let _ = self
            .commands
            .send(Command::SetEvents { side, payload_type });
    }

    /// Records `side`'s leg on the left channel and what it hears of the others on the
    /// right, into the stereo WAV `path` (written as `path.part`, renamed when complete:
    /// at [`MediaSession::stop_recording`] or when the session ends).
    pub fn record(&self, side: Side, path: std::path::PathBuf) {
        let _ = self.commands.send(Command::Record {
            side,
            path,
            mono: None,
        });
    }

    /// Records `side`'s leg alone into the mono WAV `path` (a voicemail message); once it
    /// has been quiet for `silence_end`, a [`crate::graph::MediaEvent::Silence`] is reported.
    pub fn record_mono(
        &self,
        side: Side,
        path: std::path::PathBuf,
        silence_end: std::time::Duration,
    ) {
        let _ = self.commands.send(Command::Record {
            side,
            path,
            mono: Some(silence_end),
        });
    }

    /// Reports `side`'s DTMF digits ([`crate::graph::MediaEvent::Digit`]) or stops.
    pub fn listen_digits(&self, side: Side, listen: bool) {
        let _ = self.commands.send(Command::Digits { side, listen });
    }

    /// Pauses (silence is written) or resumes the recording.
    pub fn pause_recording(&self, paused: bool) {
        let _ = self.commands.send(Command::PauseRecording { paused });
    }

    /// Ends the recording.
    pub fn stop_recording(&self) {
        let _ = self.commands.send(Command::StopRecording);
    }

    /// SDES-SRTP on a side with these keys from now on, or plain RTP (`None`).
    pub fn set_srtp(&self, side: Side, keys: Option<&crate::srtp::SrtpKeys>) {
        let srtp = keys.and_then(|k| match crate::srtp::SrtpPair::new(k) {
            Ok(pair) => Some(Box::new(pair)),
            Err(e) => {
                tracing::warn!(error = %e, side = side.0, "SRTP context refused, side plain");
                None
            }
        });
        let _ = self.commands.send(Command::Srtp { side, srtp });
    }

    /// The session's counters right now.
    pub fn stats(&self) -> SessionStats {
        self.counters.snapshot()
    }

    /// Stops the relay and waits until its sockets are closed and its ports are back in the
    /// pool. Dropping the session does the same without waiting.
    pub async fn close(self) {
        let MediaSession { commands, task, .. } = self;
        drop(commands);
        if let Err(e) = task.await {
            if e.is_panic() {
                tracing::error!(error = %e, "media relay task panicked");
            }
        }
    }
}
