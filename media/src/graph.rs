//! The media graph as the call engine sees it: **endpoints** (one RTP/RTCP port pair, each
//! facing one call leg) and the **edges** between them, expressed as plain commands and
//! events so the call engine stays sans-IO. [`crate::MediaHub`] carries them out.
//!
//! Edges today:
//! - a two-party **relay** joining two endpoints (the fast path: packets copied, no
//!   transcoding); both endpoints of a relay are bound together by [`MediaCommand::Allocate`],
//!   and hear each other until told otherwise;
//! - more endpoints for the same call ([`MediaCommand::AddEndpoint`]), each hearing another
//!   endpoint, a **mix** of several, or nothing ([`MediaCommand::Hear`]);
//! - a **player** into one endpoint ([`MediaCommand::Play`]): prompts, music, ringback. While
//!   it plays the endpoint is parked: its leg hears the player, not the relay.
//!
//! Every command that needs an answer names what it is about, and the answer comes back as a
//! [`MediaEvent`] fed to the engine as a later input.

use crate::{Codec, Hears, Playlist};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// One relay and its two endpoints, named by the call engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelayId(pub u64);

/// Which endpoint of a relay.
pub use crate::engine::Side;

/// One endpoint: a side of a relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub relay: RelayId,
    pub side: Side,
}

/// What the engine asks of the media plane.
#[derive(Clone)]
pub enum MediaCommand {
    /// Bind two endpoints joined by a relay edge. Answered by [`MediaEvent::Allocated`] or
    /// [`MediaEvent::AllocationFailed`].
    Allocate { relay: RelayId },
    /// Where the endpoint's leg wants its RTP (from its SDP; `None`: unknown or on hold).
    Connect {
        endpoint: Endpoint,
        rtp: Option<SocketAddr>,
    },
    /// A player edge into the endpoint, replacing what its leg heard.
    Play {
        endpoint: Endpoint,
        playlist: Playlist,
        codec: Codec,
    },
    /// Remove the endpoint's player: its leg hears the relay again.
    StopPlaying { endpoint: Endpoint },
    /// How long since either endpoint last received a packet. Answered by
    /// [`MediaEvent::Activity`].
    Probe { relay: RelayId },
    /// Bind one more endpoint for the relay's call. Answered by
    /// [`MediaEvent::EndpointAdded`] or [`MediaEvent::AllocationFailed`].
    AddEndpoint { endpoint: Endpoint },
    /// What the endpoint's leg hears from now on.
    Hear { endpoint: Endpoint, hears: Hears },
    /// Close an added endpoint.
    RemoveEndpoint { endpoint: Endpoint },
    /// Record the endpoint's leg (left) and what it hears (right) as a stereo WAV; or,
    /// `mono`, the leg alone (a voicemail), reporting [`MediaEvent::Silence`] once it has
    /// been quiet for `silence_end`.
    Record {
        endpoint: Endpoint,
        path: std::path::PathBuf,
        mono: Option<Duration>,
    },
    /// Play a WAV file (a voicemail message) into the endpoint, once.
    PlayFile {
        endpoint: Endpoint,
        path: std::path::PathBuf,
        codec: Codec,
    },
    /// Report the DTMF digits the endpoint's leg sends ([`MediaEvent::Digit`]), or stop.
    Digits { endpoint: Endpoint, listen: bool },
    /// Pause (silence) or resume the relay's recording.
    PauseRecording { relay: RelayId, paused: bool },
    /// End the relay's recording.
    StopRecording { relay: RelayId },
    /// The telephone-event payload type of the endpoint's leg (from its SDP).
    Events {
        endpoint: Endpoint,
        payload_type: Option<u8>,
    },
    /// Unbind every endpoint and return their ports.
    Release { relay: RelayId },
    /// The endpoint faces a browser: its socket serves this WebRTC peer (made by the engine
    /// with [`crate::webrtc::Peer::offer`] or [`crate::webrtc::Peer::answer`]), whose media
    /// is converted to and from `law` for the rest of the relay. Answered by
    /// [`MediaEvent::WebRtcConnected`] once ICE and DTLS are up.
    AttachWebRtc {
        endpoint: Endpoint,
        peer: crate::webrtc::PeerSlot,
        law: Codec,
    },
    /// The browser's SDP answer to the endpoint's peer's offer.
    WebRtcAnswer { endpoint: Endpoint, sdp: String },
    /// The endpoint is plain RTP again (a desk phone answered where a browser also rang).
    DetachWebRtc { endpoint: Endpoint },
}

impl std::fmt::Debug for MediaCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MediaCommand::Allocate { relay } => write!(f, "Allocate({})", relay.0),
            MediaCommand::Connect { endpoint, rtp } => {
                write!(
                    f,
                    "Connect({}/{:?}, {rtp:?})",
                    endpoint.relay.0, endpoint.side
                )
            }
            MediaCommand::Play {
                endpoint, codec, ..
            } => write!(
                f,
                "Play({}/{:?}, {codec:?})",
                endpoint.relay.0, endpoint.side
            ),
            MediaCommand::StopPlaying { endpoint } => {
                write!(f, "StopPlaying({}/{:?})", endpoint.relay.0, endpoint.side)
            }
            MediaCommand::AddEndpoint { endpoint } => {
                write!(f, "AddEndpoint({}/{:?})", endpoint.relay.0, endpoint.side)
            }
            MediaCommand::Hear { endpoint, hears } => {
                write!(
                    f,
                    "Hear({}/{:?}, {hears:?})",
                    endpoint.relay.0, endpoint.side
                )
            }
            MediaCommand::RemoveEndpoint { endpoint } => {
                write!(
                    f,
                    "RemoveEndpoint({}/{:?})",
                    endpoint.relay.0, endpoint.side
                )
            }
            MediaCommand::Events {
                endpoint,
                payload_type,
            } => write!(
                f,
                "Events({}/{:?}, {payload_type:?})",
                endpoint.relay.0, endpoint.side
            ),
            MediaCommand::Record { endpoint, .. } => {
                write!(f, "Record({}/{:?})", endpoint.relay.0, endpoint.side)
            }
            MediaCommand::PlayFile { endpoint, path, .. } => write!(
                f,
                "PlayFile({}/{:?}, {})",
                endpoint.relay.0,
                endpoint.side,
                path.display()
            ),
            MediaCommand::Digits { endpoint, listen } => {
                write!(
                    f,
                    "Digits({}/{:?}, {listen})",
                    endpoint.relay.0, endpoint.side
                )
            }
            MediaCommand::PauseRecording { relay, paused } => {
                write!(f, "PauseRecording({}, {paused})", relay.0)
            }
            MediaCommand::StopRecording { relay } => write!(f, "StopRecording({})", relay.0),
            MediaCommand::Probe { relay } => write!(f, "Probe({})", relay.0),
            MediaCommand::Release { relay } => write!(f, "Release({})", relay.0),
            MediaCommand::AttachWebRtc { endpoint, law, .. } => write!(
                f,
                "AttachWebRtc({}/{:?}, {law:?})",
                endpoint.relay.0, endpoint.side
            ),
            MediaCommand::DetachWebRtc { endpoint } => {
                write!(f, "DetachWebRtc({}/{:?})", endpoint.relay.0, endpoint.side)
            }
            MediaCommand::WebRtcAnswer { endpoint, .. } => {
                write!(f, "WebRtcAnswer({}/{:?})", endpoint.relay.0, endpoint.side)
            }
        }
    }
}

/// What the media plane answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaEvent {
    /// Both endpoints are bound: advertise `ip` and `ports[side]` to each leg.
    Allocated {
        relay: RelayId,
        ip: IpAddr,
        ports: [u16; 2],
    },
    /// No ports left (or no runtime): the call cannot be anchored.
    AllocationFailed { relay: RelayId },
    /// An added endpoint is bound: advertise `port` to its leg.
    EndpointAdded { endpoint: Endpoint, port: u16 },
    /// No ports left for an added endpoint.
    EndpointFailed { endpoint: Endpoint },
    /// The relay's last packet in either direction was `idle_for` ago.
    Activity { relay: RelayId, idle_for: Duration },
    /// A DTMF digit (RFC 4733 telephone event) ended on the endpoint, while the engine
    /// listens for digits there.
    Digit { endpoint: Endpoint, digit: char },
    /// A mono recording heard silence for as long as its `silence_end` (a voicemail's end).
    Silence { relay: RelayId },
    /// A WebRTC endpoint's ICE and DTLS are up.
    WebRtcConnected { endpoint: Endpoint },
    /// A WebRTC endpoint's browser is gone (ICE disconnected, a bad answer, a failed
    /// stack): media loss, like an RTP timeout.
    WebRtcGone { endpoint: Endpoint },
}

impl Endpoint {
    pub fn a(relay: RelayId) -> Endpoint {
        Endpoint {
            relay,
            side: Side::A,
        }
    }

    pub fn b(relay: RelayId) -> Endpoint {
        Endpoint {
            relay,
            side: Side::B,
        }
    }
}
