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
//!
//! The packet path never takes a lock shared with another session and never allocates: each
//! session is one tokio task that owns its four sockets and its latching state.

mod engine;
mod error;
mod latch;
mod port_pool;
mod relay;
pub mod sdp;
mod socket;
mod stats;

pub use engine::{MediaEngine, MediaSession, Side};
pub use error::MediaError;
pub use port_pool::PortPool;
pub use stats::{SessionStats, Totals};
