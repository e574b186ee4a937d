//! The switch's RTP engine.
//!
//! A B2BUA anchors media: each call leg talks RTP to the switch, never to the other leg, so
//! that hold, transfer, recording and NAT traversal work whatever the endpoints are. This crate
//! holds the pieces for that:
//!
//! - [`sdp`]: line-level SDP parsing and rewriting, so the switch can learn where a leg wants
//!   its media and advertise its own relay ports instead.
//! - [`PortPool`]: the RTP/RTCP port pairs the relay may bind.
//! - [`MediaEngine`] / [`MediaSession`]: a two-sided RTP/RTCP relay with symmetric latching and
//!   counters that are cheap to read at any time (for no-media detection and Prometheus).
//! - [`Player`] / [`Playlist`]: prompts, music-on-hold and tones played into a session
//!   ([`MediaSession::play`]), from audio decoded by [`wav`] or made by [`tone`], encoded by
//!   [`g711`] into [`rtp`] packets. The player is sans-IO: the relay task drives its clock.
//!
//! The packet path never takes a lock shared with another session and never allocates: each
//! session is one tokio task that owns its four sockets and its latching state.

mod codec;
mod engine;
mod error;
pub mod g711;
pub mod graph;
mod hub;
mod latch;
pub mod mixer;
pub mod opus_codec;
mod playback;
mod player;
mod playlist;
mod port_pool;
mod recorder;
mod relay;
pub mod rtp;
pub mod sdp;
mod socket;
mod stats;
pub mod tone;
pub mod wav;
pub mod webrtc;

pub use codec::Codec;
pub use engine::{Hears, MediaEngine, MediaSession, Side};
pub use error::MediaError;
pub use hub::MediaHub;
pub use player::{Player, MAX_LATENESS, PACKET_LEN, PTIME, SAMPLES_PER_PACKET};
pub use playlist::{Playlist, Repeat};
pub use port_pool::PortPool;
pub use stats::{SessionStats, Totals};
pub use wav::WavError;
