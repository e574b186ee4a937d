//! Errors of the media engine (SDP has its own, [`crate::sdp::SdpError`]).

use std::io;

/// What can go wrong when setting up relay resources.
///
/// Nothing on the packet path returns an error: a packet that cannot be relayed is dropped
/// and counted, because a relay must keep running whatever its peers send.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The configured port range holds no even/odd (RTP/RTCP) pair.
    #[error("port range {first}-{last} holds no RTP/RTCP port pair (need an even port P with P+1 in range, P > 0)")]
    InvalidPortRange {
        /// First port of the configured range.
        first: u16,
        /// Last port of the configured range.
        last: u16,
    },
    /// Every port pair is in use (or could not be bound).
    #[error("no free RTP port pair in the pool")]
    PortsExhausted,
    /// Sockets were asked for outside a tokio runtime.
    #[error("the media engine must be used from within a tokio runtime")]
    NoRuntime,
    /// Binding failed for every pair tried; this is the last error seen.
    #[error("could not bind an RTP/RTCP port pair: {0}")]
    Bind(#[source] io::Error),
}
