//! WebRTC legs (browsers): ICE-lite, DTLS-SRTP and RTCP-mux through str0m, in frame mode.
//!
//! [`Peer`] is the sans-IO wrapper (the only code that touches str0m); the relay's side
//! glue turns a peer's frames into plain G.711 RTP and back at the side's boundary, so the
//! rest of the relay never knows a side is WebRTC.

mod browser;
mod peer;
pub(crate) mod side;

pub use browser::{PendingBrowser, Reception, TestBrowser};

pub use peer::{Certificate, Codecs, Peer, PeerOut, WebCodec, WebRtcError};

/// A peer on its way from the call engine to a relay: commands are cloneable values, a
/// peer is not, so the first to take it owns it.
#[derive(Clone)]
pub struct PeerSlot(std::sync::Arc<std::sync::Mutex<Option<Box<Peer>>>>);

impl PeerSlot {
    pub fn new(peer: Peer) -> PeerSlot {
        PeerSlot(std::sync::Arc::new(std::sync::Mutex::new(Some(Box::new(
            peer,
        )))))
    }

    /// The peer, once.
    pub fn take(&self) -> Option<Box<Peer>> {
        self.0.lock().ok()?.take()
    }
}

impl std::fmt::Debug for PeerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerSlot")
    }
}

impl PartialEq for PeerSlot {
    fn eq(&self, other: &PeerSlot) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}
